"""Every public page renders the right content, in the right language, within the query budget."""

import json
import re

import pytest
from django.urls import reverse
from django.utils import translation

from articles.caching import page_cache_bump
from articles.models import Article
from tests.articles.helpers import jpeg_upload
from tests.factories import AppreciationFactory, ArticleFactory, AuthorFactory, SectionFactory
from tests.translated import translated_html

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    author = AuthorFactory(name="Ada Veld", slug="ada-veld", bio="Reports from the river delta.")
    section = SectionFactory(name="Analyse", name_en="Analysis", slug="analyse")
    return ArticleFactory(
        title="Water & power in the delta",
        slug="water-power",
        author=author,
        section=section,
        language="en",
        lede="Who decides where the river goes.",
        body="Opening paragraph.\n\n## The dams\n\nMiddle paragraph.\n\n## The farmers\n\nClosing paragraph.",
        hero_image=jpeg_upload(1600, 900),
        hero_alt="A canal at dusk",
        hero_caption="A canal in the delta.",
        hero_credit="Ada Veld",
    )


def test_article_page_has_all_parts_in_order(client, article):
    response = client.get("/en" + article.get_absolute_url())
    assert response.status_code == 200
    html = response.text
    parts = [
        'class="label"',
        "Analysis",
        "<h1",
        "Water &amp; power in the delta",
        "<img",
        "A canal in the delta.",
        "Ada Veld</span>",
        'class="lede"',
        "Who decides where the river goes.",
        "By Ada Veld",
        "<time",
        "Opening paragraph.",
        "<h2>The dams</h2>",
        "Closing paragraph.",
        'id="waardeer"',
        'class="author-box"',
        "Reports from the river delta.",
        'href="/en/auteur/ada-veld/"',
    ]
    main = html[html.index('<main id="main"') :]
    cursor = 0
    for part in parts:
        found = main.find(part, cursor)
        assert found != -1, f"{part!r} missing or out of order"
        cursor = found + len(part)
    assert '<article class="article" lang="en"' in html


def test_hero_has_srcset_dimensions_and_is_not_lazy(client, article):
    html = client.get(article.get_absolute_url()).text
    hero = re.search(r'<img[^>]*class="hero__img"[^>]*>', html).group(0)
    assert 'srcset="/media/variants/heroes/' in hero
    assert "480w" in hero and "800w" in hero and "1200w" in hero
    assert 'width="1200" height="675"' in hero
    assert 'decoding="async"' in hero
    assert 'loading="lazy"' not in hero
    assert 'alt="A canal at dusk"' in hero


def test_appreciation_widget_only_when_enabled(client, article):
    assert 'id="waardeer"' in client.get(article.get_absolute_url()).text
    Article.objects.filter(pk=article.pk).update(appreciation_enabled=False)
    page_cache_bump()  # the panel would invalidate the cached page; update() does not
    assert 'id="waardeer"' not in client.get(article.get_absolute_url()).text


def test_base_template_links_stylesheets_and_has_landmarks(client, article):
    html = client.get(article.get_absolute_url()).text
    assert "/static/css/site.css" in html and "/static/css/widget.css" in html
    for landmark in ("<header", "<nav", '<main id="main"', "<footer", 'class="skip-link" href="#main"'):
        assert landmark in html
    assert "https://fonts." not in html and "cdn" not in html.lower()


def test_seo_tags_are_absolute_and_escaped(client, settings, article):
    settings.SITE_URL = "https://example.org"
    Article.objects.filter(pk=article.pk).update(title='Quote " and </script><script>alert(1)</script>')
    html = client.get(article.get_absolute_url()).text
    assert '<link rel="canonical" href="https://example.org/en/artikel/water-power/">' in html
    assert '<meta property="og:url" content="https://example.org/en/artikel/water-power/">' in html
    assert '<meta property="og:description" content="Who decides where the river goes.">' in html
    assert re.search(
        r'<meta property="og:image" content="https://example.org/media/variants/[^"]+-1200w.jpg">', html
    )
    assert '<meta name="twitter:card" content="summary_large_image">' in html
    # The title comes back whole from the attribute, however the quote is escaped.
    escaped = 'content="Quote (?:&quot;|&#34;) and &lt;/script&gt;&lt;script&gt;alert\\(1\\)&lt;/script&gt;"'
    assert len(re.findall(escaped, html)) == 2  # og:title and twitter:title
    # Only our own two script elements may close: the JSON-LD one, nothing injected by the title.
    assert "<script>alert(1)" not in html
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    data = json.loads(match.group(1))
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == 'Quote " and </script><script>alert(1)</script>'
    assert data["author"][0]["name"] == "Ada Veld"
    assert data["author"][0]["url"] == "https://example.org/en/auteur/ada-veld/"
    assert data["datePublished"].startswith(article.published_at.date().isoformat()[:4])
    assert data["mainEntityOfPage"] == "https://example.org/en/artikel/water-power/"
    assert all(url.startswith("https://example.org/media/") for url in data["image"])


def test_dutch_article_canonical_is_at_the_root(client, settings):
    settings.SITE_URL = "https://example.org"
    dutch = ArticleFactory(slug="water-nl", language="nl")
    html = client.get("/en" + dutch.get_absolute_url()).text
    assert '<link rel="canonical" href="https://example.org/artikel/water-nl/">' in html


def test_language_switch_is_plain_links_to_the_same_page(client, article):
    dutch = client.get(article.get_absolute_url()).text
    assert '<html lang="nl">' in dutch
    assert 'href="/en/artikel/water-power/" hreflang="en" lang="en" rel="alternate">English</a>' in dutch
    english = client.get("/en" + article.get_absolute_url()).text
    assert '<html lang="en">' in english
    assert 'href="/artikel/water-power/" hreflang="nl" lang="nl" rel="alternate">Nederlands</a>' in english
    assert "<form" not in english.split('<main id="main"')[0]


def test_language_switch_keeps_the_page_number(client):
    ArticleFactory.create_batch(13)
    html = client.get("/?page=2").text
    assert 'href="/en/?page=2"' in html


def test_section_name_follows_interface_language(client, article):
    assert ">Analyse</a>" in client.get(article.get_absolute_url()).text
    assert ">Analysis</a>" in client.get("/en" + article.get_absolute_url()).text


def test_home_lists_latest_articles_labelled_by_section(client, article):
    other = ArticleFactory(title="Another story", section=SectionFactory(slug="nieuws"))
    html = client.get(reverse("articles:home")).text
    assert "Water &amp; power in the delta" in html and other.title in html
    assert 'href="/rubriek/analyse/">Analyse</a>' in html
    assert 'href="/rubriek/nieuws/">Nieuws</a>' in html


def test_home_is_paginated(client):
    ArticleFactory.create_batch(13)
    first = client.get("/")
    assert first.text.count('<article class="card') == 12
    assert 'rel="next" href="?page=2"' in first.text
    assert client.get("/?page=2").text.count('<article class="card') == 1
    assert client.get("/?page=3").status_code == 404
    assert client.get("/?page=abc").status_code == 404


def test_section_page_lists_only_its_articles(client, article):
    ArticleFactory(title="Elsewhere", section=SectionFactory(slug="nieuws"))
    response = client.get(reverse("articles:section-detail", kwargs={"slug": "analyse"}))
    assert response.status_code == 200
    assert article.title.replace("&", "&amp;") in response.text
    assert "Elsewhere" not in response.text
    assert client.get(reverse("articles:section-detail", kwargs={"slug": "nope"})).status_code == 404


def test_author_page_shows_bio_and_only_their_articles(client, article):
    ArticleFactory(title="Someone else's", author=AuthorFactory())
    response = client.get(reverse("articles:author-detail", kwargs={"slug": "ada-veld"}))
    assert response.status_code == 200
    assert "Reports from the river delta." in response.text
    assert "Water &amp; power in the delta" in response.text
    assert "Someone else" not in response.text
    assert client.get(reverse("articles:author-detail", kwargs={"slug": "nobody"})).status_code == 404


def test_list_images_below_the_fold_are_lazy(client, article):
    ArticleFactory(hero_image=jpeg_upload(900, 600, "second.jpg"))
    html = client.get("/").text
    images = re.findall(r"<img[^>]*>", html)
    assert len(images) == 2
    assert 'loading="lazy"' not in images[0]  # the lead story at the top
    assert 'loading="lazy"' in images[1]
    assert all("width=" in img and "height=" in img for img in images)


def test_friendly_404_page(client, settings):
    settings.DEBUG = False
    response = client.get("/artikel/does-not-exist/")
    assert response.status_code == 404
    assert translated_html("We cannot find that page") in response.text
    assert 'href="/"' in response.text
    english = client.get("/en/artikel/does-not-exist/")
    assert english.status_code == 404
    assert '<html lang="en">' in english.text
    assert "We cannot find that page" in english.text


def test_500_page_renders_without_request_context():
    from django.template import loader

    html = loader.get_template("500.html").render()
    # Outside a request the default language applies: Dutch.
    assert '<html lang="nl">' in html
    assert translated_html("Something went wrong") in html
    assert "<main>" in html
    with translation.override("en"):
        english = loader.get_template("500.html").render()
    assert '<html lang="en">' in english and "Something went wrong" in english


def test_robots_txt_points_at_sitemap(client, settings):
    settings.SITE_URL = "https://example.org"
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    assert "Sitemap: https://example.org/sitemap.xml" in response.text
    assert "Disallow: /admin/" in response.text


def test_article_page_query_budget_without_widget(client, django_assert_max_num_queries, article):
    # Our part of the page (article, author, section, menu) stays within 4 queries,
    # leaving room for the appreciation widget within the page budget of 6.
    Article.objects.filter(pk=article.pk).update(appreciation_enabled=False)
    client.get(article.get_absolute_url())  # build image variants once
    with django_assert_max_num_queries(4):
        assert client.get(article.get_absolute_url()).status_code == 200


def test_article_page_query_budget_does_not_grow_with_appreciations(
    client, django_assert_max_num_queries, article
):
    for _ in range(25):
        AppreciationFactory(
            article=article, status="paid", is_public=True, display_name="Reader", message="Thanks"
        )
    client.get(article.get_absolute_url())
    with django_assert_max_num_queries(6):
        assert client.get(article.get_absolute_url()).status_code == 200
