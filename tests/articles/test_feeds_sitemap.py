"""Feeds and the sitemap carry absolute URLs on SITE_URL and the right items."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.factories import ArticleFactory, AuthorFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://example.org"
    settings.SITE_NAME = "Waardeer"


def test_site_rss_feed_lists_articles_with_absolute_links(client):
    ArticleFactory(title="Dutch piece", slug="nl-piece", lede="Korte inleiding.", language="nl")
    ArticleFactory(title="English piece", slug="en-piece", language="en")
    response = client.get(reverse("articles:feed-rss"))
    assert response["Content-Type"].startswith("application/rss+xml")
    channel = ET.fromstring(response.content).find("channel")
    assert channel.findtext("title") == "Waardeer"
    assert channel.findtext("link") == "https://example.org/"
    items = {item.findtext("title"): item for item in channel.findall("item")}
    assert items["Dutch piece"].findtext("link") == "https://example.org/artikel/nl-piece/"
    assert items["Dutch piece"].findtext("description") == "Korte inleiding."
    assert items["English piece"].findtext("link") == "https://example.org/en/artikel/en-piece/"


def test_site_atom_feed(client):
    ArticleFactory(title="Atom piece", slug="atom-piece")
    root = ET.fromstring(client.get(reverse("articles:feed-atom")).content)
    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == ["Atom piece"]
    assert entries[0].find(f"{ATOM}link").get("href") == "https://example.org/artikel/atom-piece/"


def test_author_feeds_list_only_that_author(client):
    mine = AuthorFactory(slug="me", name="Me Myself")
    ArticleFactory(title="Mine", author=mine)
    ArticleFactory(title="Theirs")
    rss = ET.fromstring(client.get(reverse("articles:author-feed-rss", kwargs={"slug": "me"})).content)
    assert [i.findtext("title") for i in rss.iter("item")] == ["Mine"]
    assert "Me Myself" in rss.find("channel").findtext("title")
    atom = ET.fromstring(client.get(reverse("articles:author-feed-atom", kwargs={"slug": "me"})).content)
    assert [e.findtext(f"{ATOM}title") for e in atom.findall(f"{ATOM}entry")] == ["Mine"]
    assert client.get(reverse("articles:author-feed-rss", kwargs={"slug": "nobody"})).status_code == 404


def test_feed_escapes_hostile_titles(client):
    ArticleFactory(title="<script>alert(1)</script> & co")
    response = client.get(reverse("articles:feed-rss"))
    assert b"<script>" not in response.content
    titles = [i.findtext("title") for i in ET.fromstring(response.content).iter("item")]
    assert titles == ["<script>alert(1)</script> & co"]


def test_sitemap_lists_articles_once_at_canonical_url_and_pages_in_both_languages(client):
    author = AuthorFactory(slug="writer")
    ArticleFactory(slug="nl-piece", language="nl", author=author)
    ArticleFactory(slug="en-piece", language="en", author=author)
    AuthorFactory(slug="silent")  # no published articles: not listed
    root = ET.fromstring(client.get("/sitemap.xml").content)
    locs = [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]
    assert "https://example.org/artikel/nl-piece/" in locs
    assert "https://example.org/en/artikel/en-piece/" in locs
    assert "https://example.org/en/artikel/nl-piece/" not in locs
    assert "https://example.org/" in locs and "https://example.org/en/" in locs
    assert "https://example.org/rubriek/nieuws/" in locs
    assert "https://example.org/auteur/writer/" in locs
    assert not any("silent" in loc for loc in locs)
