"""Drafts and scheduled articles are invisible to readers everywhere: page, lists, feeds, sitemap."""

from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from articles import selectors
from articles.models import Article, Author, Section
from tests.factories import ArticleFactory, AuthorFactory, SectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_articles():
    author = AuthorFactory(slug="writer")
    section = SectionFactory()
    return {
        "published": ArticleFactory(
            title="Visible published piece", slug="visible", author=author, section=section
        ),
        "draft": ArticleFactory(
            title="Secret draft piece",
            slug="secret-draft",
            author=author,
            section=section,
            status=Article.Status.DRAFT,
            published_at=None,
        ),
        "future": ArticleFactory(
            title="Scheduled future piece",
            slug="scheduled",
            author=author,
            section=section,
            published_at=timezone.now() + timedelta(days=1),
        ),
    }


def test_published_article_page_is_visible(client, three_articles):
    response = client.get(three_articles["published"].get_absolute_url())
    assert response.status_code == 200
    assert "Visible published piece" in response.text


@pytest.mark.parametrize("which", ["draft", "future"])
def test_draft_and_scheduled_article_pages_are_404(client, three_articles, which):
    assert client.get(three_articles[which].get_absolute_url()).status_code == 404
    assert client.get("/en" + three_articles[which].get_absolute_url()).status_code == 404


def _field_values(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_article_page_lookup_loads_what_the_orm_loads_in_one_query(three_articles):
    expected = Article.objects.published().select_related("section", "author").get(slug="visible")
    with CaptureQueriesContext(connection) as queries:
        article = selectors.published_article("visible")
        section, author = article.section, article.author
    assert len(queries) == 1
    assert _field_values(article) == _field_values(expected)
    assert isinstance(section, Section) and _field_values(section) == _field_values(expected.section)
    assert isinstance(author, Author) and _field_values(author) == _field_values(expected.author)
    # Converted as the ORM converts (SQLite hands over text and integers).
    assert article.published_at == expected.published_at and article.published_at.tzinfo is not None
    assert article.appreciation_enabled is True
    assert article._state.adding is False and article._state.db == "default"


@pytest.mark.parametrize("slug", ["secret-draft", "scheduled", "no-such-article"])
def test_article_page_lookup_refuses_what_readers_may_not_see(three_articles, slug):
    with pytest.raises(Http404):
        selectors.published_article(slug)


def test_draft_published_with_past_time_still_hidden(client):
    article = ArticleFactory(status=Article.Status.DRAFT, published_at=timezone.now() - timedelta(days=2))
    assert client.get(article.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        reverse("articles:home"),
        reverse("articles:section-detail", kwargs={"slug": "nieuws"}),
        reverse("articles:author-detail", kwargs={"slug": "writer"}),
        reverse("articles:feed-rss"),
        reverse("articles:feed-atom"),
        reverse("articles:author-feed-rss", kwargs={"slug": "writer"}),
        reverse("articles:author-feed-atom", kwargs={"slug": "writer"}),
        "/sitemap.xml",
    ],
)
def test_lists_feeds_and_sitemap_show_only_published(client, three_articles, url):
    response = client.get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert "visible" in text
    assert "Secret draft piece" not in text and "secret-draft" not in text
    assert "Scheduled future piece" not in text and "/scheduled/" not in text


def test_scheduled_article_appears_once_its_time_has_come(client, three_articles):
    Article.objects.filter(pk=three_articles["future"].pk).update(
        published_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.get(three_articles["future"].get_absolute_url()).status_code == 200
    assert "Scheduled future piece" in client.get(reverse("articles:home")).text
