"""articles.rows: hand-written reads and writes that behave as the ORM's."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles import rows
from articles.models import Article, Author
from payments.models import Appreciation
from tests.factories import AppreciationFactory, ArticleFactory

pytestmark = pytest.mark.django_db


def test_update_writes_the_named_fields_only_and_sets_auto_now():
    appreciation = AppreciationFactory(display_name="Old name", message="Old message")
    Appreciation.objects.filter(pk=appreciation.pk).update(updated_at=timezone.now() - timedelta(days=3))
    appreciation.refresh_from_db()
    before = appreciation.updated_at
    appreciation.display_name, appreciation.message = "New name", "Changed in memory only"
    with CaptureQueriesContext(connection) as queries:
        rows.update(appreciation, ["display_name", "updated_at"])
    assert len(queries) == 1
    stored = Appreciation.objects.get(pk=appreciation.pk)
    assert stored.display_name == "New name" and stored.message == "Old message"
    assert stored.updated_at > before and stored.updated_at == appreciation.updated_at


def _stored_text(appreciation: Appreciation, column: str) -> str:
    with connection.cursor() as cursor:
        sql = f"SELECT CAST({column} AS TEXT) FROM payments_appreciation WHERE id = %s"
        cursor.execute(sql, [appreciation.pk])
        return cursor.fetchone()[0]


def test_update_stores_values_exactly_as_save_does():
    # SQLite keeps datetimes as text: the books' date ranges compare that text.
    written = AppreciationFactory()
    saved = AppreciationFactory()
    paid_at = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
    for appreciation in (written, saved):
        appreciation.paid_at, appreciation.stripe_charge_id = paid_at, f"ch_{appreciation.pk}"
    rows.update(written, ["paid_at", "stripe_charge_id"])
    saved.save(update_fields=["paid_at", "stripe_charge_id"])
    assert _stored_text(written, "paid_at") == _stored_text(saved, "paid_at")
    assert _stored_text(written, "stripe_charge_id") == f"ch_{written.pk}"


def test_update_refuses_a_model_with_its_own_save():
    # Article.save() renders the body: rows.update() would leave it stale.
    with pytest.raises(TypeError):
        rows.update(ArticleFactory(), ["body"])


def test_update_of_a_row_that_is_gone_raises():
    appreciation = AppreciationFactory()
    Appreciation.objects.filter(pk=appreciation.pk).delete()
    with pytest.raises(ObjectDoesNotExist):
        rows.update(appreciation, ["message"])


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
