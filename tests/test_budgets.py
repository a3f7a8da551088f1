"""Budgets a reader's phone feels: bytes on the wire, third-party requests, page order, queries."""

import gzip
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from articles.caching import page_cache_bump
from tests.articles.helpers import jpeg_upload
from tests.factories import AppreciationFactory, ArticleFactory, AuthorFactory, SectionFactory

pytestmark = pytest.mark.django_db

PAGE_BUDGET = 30 * 1024  # HTML + CSS + JS of an article page, gzipped, images excluded
WIDGET_SCRIPT_BUDGET = 4 * 1024
OUR_HOST = "example.org"

# A long report: the budget has to hold for real articles, not for "First paragraph."
LONG_BODY = "\n\n".join(
    f"## Part {part}\n\n"
    + " ".join(
        f"Sentence {part}.{n} tells what the correspondent saw at the border crossing, "
        f"who waited there since dawn and which trucks were sent back after inspection number {n}."
        for n in range(12)
    )
    for part in range(8)
)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = f"https://{OUR_HOST}"
    translation.activate("nl")
    yield
    translation.activate("nl")


@pytest.fixture
def heavy_article():
    """An article as long and as appreciated as our largest: a photo, a long body, 30 public messages."""
    article = ArticleFactory(
        body=LONG_BODY,
        hero_image=jpeg_upload(),
        hero_alt="A queue of trucks",
        hero_caption="Trucks wait at the crossing.",
        hero_credit="Noor",
    )
    for n in range(30):
        AppreciationFactory(
            article=article,
            status="paid",
            paid_at=timezone.now(),
            is_public=True,
            display_name=f"Reader {n}",
            message=f"Thank you for going where nobody else goes, message {n}.",
        )
    return article


class _Resources(HTMLParser):
    """Every URL the page makes the browser fetch or post to, and how scripts are loaded."""

    FETCHING = {"src", "href", "srcset", "action", "poster", "data", "formaction", "imagesrcset"}

    def __init__(self) -> None:
        super().__init__()
        self.fetched: list[tuple[str, str]] = []  # (tag, url)
        self.stylesheets: list[str] = []
        self.scripts: list[dict[str, str | None]] = []
        self.images: list[dict[str, str | None]] = []
        self.iframes = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "iframe":
            self.iframes += 1
        if tag == "script":
            self.scripts.append(values)
        if tag == "img":
            self.images.append(values)
        if tag == "link" and (values.get("rel") or "") == "stylesheet":
            self.stylesheets.append(values["href"] or "")
        for name, value in attrs:
            if name not in self.FETCHING or not value:
                continue
            if tag == "a" and name == "href":
                continue  # a link the reader may follow, not a request the page makes
            if name.endswith("srcset"):
                self.fetched += [(tag, part.strip().split(" ")[0]) for part in value.split(",")]
            else:
                self.fetched.append((tag, value))


def _parse(html: str) -> _Resources:
    parser = _Resources()
    parser.feed(html)
    return parser


def _local_static_file(url: str) -> Path:
    assert url.startswith(settings.STATIC_URL), f"not one of our static files: {url}"
    found = finders.find(url.removeprefix(settings.STATIC_URL).split("?")[0])
    assert found, f"no static file for {url}"
    return Path(found)


def _gzipped(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def test_article_page_html_css_and_js_stay_within_30_kb_gzipped(client, heavy_article):
    response = client.get(heavy_article.get_absolute_url())
    assert response.status_code == 200
    assert response.text.count("Thank you for going where") >= 10  # the messages are on the page
    page = _parse(response.text)
    linked = page.stylesheets + [script["src"] for script in page.scripts if script.get("src")]
    assert any(url.endswith(".css") for url in linked) and any(url.endswith(".js") for url in linked)

    sizes = {"html": _gzipped(response.content)}
    for url in linked:
        sizes[url] = _gzipped(_local_static_file(url).read_bytes())
    assert sum(sizes.values()) <= PAGE_BUDGET, sizes


def test_widget_script_stays_within_4_kb_gzipped(client):
    article = ArticleFactory()
    page = _parse(client.get(article.get_absolute_url()).text)
    scripts = [script["src"] for script in page.scripts if script.get("src")]
    widget = [url for url in scripts if "appreciation" in url]
    assert widget, scripts
    for url in widget:
        assert _gzipped(_local_static_file(url).read_bytes()) <= WIDGET_SCRIPT_BUDGET


@pytest.mark.parametrize("page_name", ["article", "home", "section", "author"])
def test_pages_load_nothing_from_another_origin(client, heavy_article, page_name):
    url = {
        "article": heavy_article.get_absolute_url(),
        "home": "/",
        "section": heavy_article.section.get_absolute_url(),
        "author": heavy_article.author.get_absolute_url(),
    }[page_name]
    html = client.get(url).text
    page = _parse(html)
    assert page.fetched
    foreign = [
        (tag, found)
        for tag, found in page.fetched
        if urlsplit(found).netloc not in ("", OUR_HOST) or found.startswith("//")
    ]
    assert not foreign
    assert page.iframes == 0
    # No inline code either, except structured data for search engines.
    for script in page.scripts:
        assert script.get("src") or script.get("type") == "application/ld+json", script


def test_stylesheets_import_nothing_from_another_origin(client):
    article = ArticleFactory()
    page = _parse(client.get(article.get_absolute_url()).text)
    for url in page.stylesheets:
        css = _local_static_file(url).read_text()
        assert "@import" not in css
        for reference in re.findall(r"url\(\s*['\"]?([^'\")]+)", css):
            assert not urlsplit(reference).netloc, reference


def test_article_text_comes_before_images_and_scripts_load_deferred(client, heavy_article):
    html = client.get(heavy_article.get_absolute_url()).text
    page = _parse(html)
    title = html.index('id="article-title"')
    first_image = html.index("<img")
    first_script_file = html.index("<script src")
    assert title < first_image
    assert html.index("Sentence 7.11") < first_script_file  # the whole body before any script
    assert html.index("</head>") < first_script_file  # nothing blocks the first paint
    for script in page.scripts:
        if script.get("src"):
            assert "defer" in script or "async" in script, script
    hero = page.images[0]
    assert hero.get("srcset") and hero.get("sizes")
    assert hero.get("loading") != "lazy"  # the hero is the page's largest paint
    for image in page.images:
        assert image.get("width") and image.get("height"), image  # no layout shift


def _queries(client, url: str) -> int:
    page_cache_bump()  # the page itself, not a cache hit
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page_name", ["home", "section", "author", "feed"])
def test_list_pages_have_a_query_budget_that_does_not_grow(client, page_name):
    section = SectionFactory()
    author = AuthorFactory()
    url = {
        "home": "/",
        "section": section.get_absolute_url(),
        "author": author.get_absolute_url(),
        "feed": "/feed/",
    }[page_name]

    ArticleFactory(section=section, author=author)
    client.get(url)  # first use of content types, sessions and the like
    few = _queries(client, url)
    for _ in range(25):
        article = ArticleFactory(section=section, author=author, hero_image=None)
        AppreciationFactory(article=article, status="paid")
    SectionFactory(slug="sport", name="Sport", name_en="Sport")
    many = _queries(client, url)
    assert many == few
    assert many <= 5


def test_article_page_uncached_budget_and_cached_hit_without_queries(
    client, heavy_article, django_assert_max_num_queries, django_assert_num_queries
):
    client.get(heavy_article.get_absolute_url())  # builds the image variants once
    page_cache_bump()
    # The article, its supporters (count and newest public ones in one statement), and the
    # section menu once per generation (the bump above makes this request build it).
    with django_assert_max_num_queries(3):
        assert client.get(heavy_article.get_absolute_url()).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(heavy_article.get_absolute_url()).status_code == 200


def test_postgresql_prepares_the_statements_it_runs_again(client, heavy_article):
    """Server-side binding makes an article page's statements the same text for every article;
    psycopg prepares them after five runs, so PostgreSQL stops planning them (settings.py)."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    others = [ArticleFactory(section=heavy_article.section) for _ in range(6)]
    for article in [heavy_article, *others]:
        page_cache_bump()
        assert client.get(article.get_absolute_url()).status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any('FROM "articles_article"' in sql and "$1" in sql for sql in prepared), prepared
    assert any("UNION ALL" in sql for sql in prepared), prepared
