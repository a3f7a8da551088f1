"""The interface language follows the URL: Dutch at /, English under /en/."""

import pytest

from tests.factories import ArticleFactory, AuthorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    return ArticleFactory(slug="taal", author=AuthorFactory(name="Sanne Berg"), language="nl")


def test_english_interface_under_en(client, article):
    html = client.get("/en/artikel/taal/").text
    assert '<html lang="en">' in html
    assert "By Sanne Berg" in html
    assert "Skip to content" in html


def test_dutch_interface_at_the_root(client, article):
    html = client.get("/artikel/taal/").text
    assert '<html lang="nl">' in html
    # TRANSLATION-DEPENDENT: passes once the Dutch catalogue (locale/nl) translates the byline
    # "By %(author)s" as "Door %(author)s"; it fails until the translation pass has been done.
    assert "Door Sanne Berg" in html
    assert "By Sanne Berg" not in html


def test_article_element_carries_the_article_language(client):
    ArticleFactory(slug="english-piece", language="en")
    html = client.get("/artikel/english-piece/").text
    assert '<html lang="nl">' in html
    assert '<article class="article" lang="en"' in html
