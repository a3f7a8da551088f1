"""articles.rows: hand-written reads and writes that behave as the ORM's."""

from datetime import timedelta

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import rows
from articles.models import Article, Author
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


def test_update_writes_the_named_fields_only_and_sets_auto_now():
    article = ArticleFactory(title="Old title", lede="Old lede")
    Article.objects.filter(pk=article.pk).update(updated_at=timezone.now() - timedelta(days=3))
    article.refresh_from_db()
    before = article.updated_at
    article.title, article.lede = "New title", "Changed in memory only"
    with CaptureQueriesContext(connection) as queries:
        rows.update(article, ["title", "updated_at"])
    assert len(queries) == 1
    stored = Article.objects.get(pk=article.pk)
    assert stored.title == "New title" and stored.lede == "Old lede"
    assert stored.updated_at > before and stored.updated_at == article.updated_at


def test_update_of_a_row_that_is_gone_raises():
    article = ArticleFactory()
    Article.objects.filter(pk=article.pk).delete()
    with pytest.raises(ObjectDoesNotExist):
        rows.update(article, ["title"])


def test_instances_are_what_the_orm_makes_with_converted_values():
    article = ArticleFactory(appreciation_enabled=False)
    chain = (Article, Author)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns(chain)} FROM articles_article"
            " INNER JOIN articles_author ON articles_author.id = articles_article.author_id"
            " WHERE articles_article.id = %s",
            [article.pk],
        )
        found, author = rows.instances(cursor.fetchone(), chain)
    expected = Article.objects.get(pk=article.pk)
    for field in Article._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.appreciation_enabled is False and found.published_at.tzinfo is not None
    assert author == expected.author and author.name == expected.author.name
