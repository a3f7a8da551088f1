"""The widget at the end of an article: appeal, presets, social proof, and its cost in queries."""

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from articles.caching import page_cache_bump
from payments import services
from tests.factories import AppreciationFactory, ArticleFactory

pytestmark = pytest.mark.django_db


def page(client, article, prefix=""):
    with translation.override("nl"):
        path = article.get_absolute_url()
    response = client.get(f"{prefix}{path}")
    assert response.status_code == 200
    return response.content.decode()


def paid(article, **kwargs):
    appreciation = AppreciationFactory(article=article, status="paid", paid_at=timezone.now(), **kwargs)
    # Written past payments.services, which would make the article's stored supporters and
    # the cached pages stale.
    services.supporters_stale(article_ids=[article.pk])
    page_cache_bump()
    return appreciation


def test_widget_shows_heading_appeal_presets_and_own_amount(client):
    article = ArticleFactory()
    html = page(client, article, "/en")
    assert 'id="waardeer"' in html
    assert "Appreciate this article!" in html
    assert "You read this article for free." in html
    assert "My chosen appreciation" in html
    assert f'action="/en/payments/appreciate/{article.slug}/"' in html
    presets = re.findall(r'name="preset" value="(\d+)"', html)
    assert presets == ["300", "500", "1000"]
    assert "€3.00" in html and "€10.00" in html


def test_presets_and_amounts_follow_settings_and_page_language(client, settings):
    article = ArticleFactory()
    assert re.findall(r'name="preset" value="(\d+)"', page(client, article)) == ["300", "500", "1000"]
    settings.APPRECIATION_PRESETS = [250, 1500]
    page_cache_bump()  # the form is what this test is about, not pages stored before the change
    html = page(client, article)
    assert re.findall(r'name="preset" value="(\d+)"', html) == ["250", "1500"]
    assert "€\u00a02,50" in html and "€\u00a015,00" in html


def test_site_owner_can_change_the_appeal_per_language(client, settings):
    settings.APPRECIATION_APPEAL_NL = "Steun <onafhankelijke> journalistiek."
    settings.APPRECIATION_APPEAL_EN = "Support independent journalism."
    article = ArticleFactory()
    assert "Steun &lt;onafhankelijke&gt; journalistiek." in page(client, article)
    assert "Support independent journalism." in page(client, article, "/en")


def test_no_widget_when_appreciation_is_off(client):
    article = ArticleFactory(appreciation_enabled=False)
    assert 'id="waardeer"' not in page(client, article)


def test_supporter_count_counts_only_earned_payments(client):
    article = ArticleFactory()
    html = page(client, article, "/en")
    assert "Be the first reader to appreciate this article." in html
    paid(article)
    assert "1 reader appreciated this article" in page(client, article, "/en")
    paid(article)
    AppreciationFactory(article=article, status="pending")
    AppreciationFactory(article=article, status="processing")
    paid(article, amount=500, refunded_amount=500)
    paid(article, dispute_status="open")
    paid(ArticleFactory())
    assert "2 readers appreciated this article" in page(client, article, "/en")


def test_public_supporters_are_shown_escaped_and_private_or_hidden_ones_are_not(client):
    article = ArticleFactory()
    paid(article, display_name="<b>Anna</b>", message="<script>alert(1)</script>\nBedankt", is_public=True)
    paid(article, display_name="Private Piet", message="secret", is_public=False)
    paid(article, display_name="Hidden Henk", message="hidden", is_public=True, hidden_by_author=True)
    paid(article, display_name="", message="anoniem", is_public=True)
    html = page(client, article, "/en")
    assert "&lt;b&gt;Anna&lt;/b&gt;" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>Bedankt" in html
    assert "<script>alert(1)" not in html
    assert "Private Piet" not in html and "secret" not in html
    assert "Hidden Henk" not in html
    assert "A reader" in html and "anoniem" in html


def test_script_is_ours_deferred_and_there_is_no_inline_script(client):
    html = page(client, ArticleFactory())
    widget = html.split('id="waardeer"', 1)[1].split("</main>", 1)[0]
    assert '<script src="/static/js/appreciation.js" defer></script>' in widget
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", widget) == []
    assert " onclick=" not in widget and " onchange=" not in widget
    assert "bootstrap" not in html.lower().replace("bootstrap5", "")  # no Bootstrap CSS or JS


def test_script_and_css_are_small_and_local():
    import gzip

    root = Path(django_settings.BASE_DIR) / "static"
    script = (root / "js" / "appreciation.js").read_bytes()
    assert len(gzip.compress(script)) <= 4096
    assert b"http" not in script.replace(b"https://js.stripe.com", b"")
    assert (root / "css" / "widget.css").stat().st_size > 0


def test_form_carries_a_nonce_and_no_csrf_token(client):
    """Cached, cookie-less pages: the endpoint checks the origin instead, and readers of one
    cached copy share its nonce, which the view ties to each client (tests/security)."""
    article = ArticleFactory()
    first = page(client, article)
    assert 'name="csrfmiddlewaretoken"' not in first
    assert re.search(r'name="nonce" value="([0-9a-f]{32})"', first)


def test_widget_adds_at_most_two_queries_to_the_article_page(client):
    with_widget = ArticleFactory()
    without = ArticleFactory(appreciation_enabled=False)
    for article in (with_widget, without):
        paid(article, display_name="Anna", is_public=True)
        page(client, article)  # warm caches (sessions, content types) so only the page's own queries count

    def count(article):
        page_cache_bump()  # the page's own queries, not a cache hit
        with CaptureQueriesContext(connection) as queries:
            page(client, article)
        return len(queries)

    assert count(with_widget) - count(without) <= 2
