"""Views, widget seen and checkouts started: counted in the cache, flushed to DailyCount, bots left out."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.caching import page_cache_bump
from funnel import services
from funnel.models import DailyCount
from tests.factories import ArticleFactory
from tests.funnel.conftest import BROWSER

pytestmark = pytest.mark.django_db


def beacon(client, article_id, event, **headers):
    return client.post("/funnel/b/", {"a": str(article_id), "e": event}, **{**BROWSER, **headers})


def flushed(article) -> tuple[int, int, int]:
    services.funnel_flush()
    row = DailyCount.objects.filter(article=article).first()
    return (row.views, row.seen, row.started) if row else (0, 0, 0)


def test_beacon_counts_views_and_widget_seen_per_article_and_day(client):
    article, other = ArticleFactory(), ArticleFactory()
    for _ in range(3):
        assert beacon(client, article.pk, "view").status_code == 204
    assert beacon(client, article.pk, "seen").status_code == 204
    assert beacon(client, other.pk, "view").status_code == 204
    assert flushed(article) == (3, 1, 0)
    assert flushed(other) == (1, 0, 0)
    assert DailyCount.objects.get(article=article).day == services.site_day()


def test_flush_adds_to_existing_rows_and_a_second_flush_adds_nothing(client):
    article = ArticleFactory()
    beacon(client, article.pk, "view")
    assert flushed(article) == (1, 0, 0)
    beacon(client, article.pk, "view")
    beacon(client, article.pk, "view")
    assert flushed(article) == (3, 0, 0)
    assert flushed(article) == (3, 0, 0)
    assert DailyCount.objects.count() == 1


def test_noscript_pixel_counts_a_view_and_answers_a_gif(client):
    article = ArticleFactory()
    response = client.get(f"/funnel/v/{article.pk}.gif", **BROWSER)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content.startswith(b"GIF89a")
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    assert flushed(article) == (1, 0, 0)


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Mozilla/5.0 (compatible; Yahoo! Slurp)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/130.0 Safari/537.36",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Mozilla/5.0 (compatible; SemrushBot/7; crawler)",
        "Baiduspider+(+http://www.baidu.com/search/spider.htm)",
        "Google-PageRenderer Google (+https://developers.google.com/+/web/snippet/) preview",
        "curl/8.5.0",
        "",
    ],
)
def test_crawlers_and_previews_are_not_counted(client, user_agent):
    article = ArticleFactory()
    assert beacon(client, article.pk, "view", HTTP_USER_AGENT=user_agent).status_code == 204
    assert (
        client.get(f"/funnel/v/{article.pk}.gif", **{**BROWSER, "HTTP_USER_AGENT": user_agent}).status_code
        == 200
    )
    assert flushed(article) == (0, 0, 0)


@pytest.mark.parametrize(
    "header",
    [
        {"HTTP_SEC_PURPOSE": "prefetch"},
        {"HTTP_PURPOSE": "prefetch"},
        {"HTTP_X_MOZ": "prefetch"},
        {"HTTP_SEC_PURPOSE": "prefetch;prerender"},
    ],
)
def test_prefetches_are_not_counted(client, header):
    article = ArticleFactory()
    beacon(client, article.pk, "view", **header)
    client.get(f"/funnel/v/{article.pk}.gif", **{**BROWSER, **header})
    assert flushed(article) == (0, 0, 0)


def test_head_requests_are_not_counted(client):
    article = ArticleFactory()
    assert client.head(f"/funnel/v/{article.pk}.gif", **BROWSER).status_code == 200
    assert flushed(article) == (0, 0, 0)


def test_beacons_from_another_site_unknown_articles_and_drafts_are_not_counted(client):
    article = ArticleFactory()
    draft = ArticleFactory(status="draft")
    beacon(client, article.pk, "view", HTTP_SEC_FETCH_SITE="cross-site")
    beacon(client, draft.pk, "view")
    beacon(client, 987654321, "view")
    assert flushed(article) == (0, 0, 0)
    assert DailyCount.objects.count() == 0


@pytest.mark.parametrize(
    "data",
    [{"a": "1", "e": "started"}, {"a": "1", "e": "paid"}, {"a": "1"}, {"e": "view"}],
)
def test_beacon_refuses_events_readers_cannot_send(client, data):
    article = ArticleFactory()
    data = {**data, "a": str(article.pk)} if "a" in data else data
    response = client.post("/funnel/b/", data, **BROWSER)
    assert response.status_code in (204, 400)
    assert flushed(article) == (0, 0, 0)


@pytest.mark.parametrize("raw", ["abc", "-1", "0", "99999999999999999999999", "1e3"])
def test_beacon_with_a_bad_article_id_is_a_quiet_no_op(client, raw):
    assert client.post("/funnel/b/", {"a": raw, "e": "view"}, **BROWSER).status_code == 204
    assert client.get("/funnel/b/").status_code == 405


def test_funnel_flush_command_reports_what_it_moved(client, capsys):
    article = ArticleFactory()
    beacon(client, article.pk, "view")
    beacon(client, article.pk, "seen")
    call_command("funnel_flush")
    assert "+1 views, +1 seen" in capsys.readouterr().out
    assert DailyCount.objects.get(article=article).seen == 1


def test_flush_does_nothing_while_another_flush_holds_the_lock(client):
    article = ArticleFactory()
    beacon(client, article.pk, "view")
    from django.core.cache import cache

    cache.add(services.LOCK_KEY, "someone-else", timeout=60)
    assert services.funnel_flush().locked
    assert DailyCount.objects.count() == 0
    cache.delete(services.LOCK_KEY)
    assert flushed(article) == (1, 0, 0)


def test_increments_between_the_read_and_the_claim_are_kept_for_the_next_flush(client, monkeypatch):
    """The flush subtracts what it read, so a view counted in between is not lost."""
    article = ArticleFactory()
    beacon(client, article.pk, "view")
    from django.core.cache import caches

    cache = caches["default"]
    real_get_many = cache.get_many

    def get_many_then_a_view_arrives(keys):
        values = real_get_many(keys)
        services.funnel_count(article_id=article.pk, event="view")
        return values

    monkeypatch.setattr(cache, "get_many", get_many_then_a_view_arrives)
    assert flushed(article) == (1, 0, 0)
    monkeypatch.setattr(cache, "get_many", real_get_many)
    assert flushed(article) == (2, 0, 0)


def test_a_failed_database_write_gives_the_counts_back(client, monkeypatch):
    article = ArticleFactory()
    beacon(client, article.pk, "view")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(DailyCount.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        services.funnel_flush()
    monkeypatch.undo()
    assert flushed(article) == (1, 0, 0)


def test_article_page_and_beacons_write_nothing_to_the_database(client):
    article = ArticleFactory(slug="stille-pagina")
    # Warm everything that may be cached (page cache, article check), then measure a normal visit.
    client.get("/artikel/stille-pagina/", **BROWSER)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/artikel/stille-pagina/", **BROWSER)
        beacon(client, article.pk, "view")
        beacon(client, article.pk, "seen")
        client.get(f"/funnel/v/{article.pk}.gif", **BROWSER)
    assert page.status_code == 200
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert flushed(article) == (2, 1, 0)


def test_an_uncached_page_counts_nothing_in_the_database(client):
    article = ArticleFactory(slug="koude-pagina")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/artikel/koude-pagina/", **BROWSER).status_code == 200
        beacon(client, article.pk, "view")
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    # Only the supporters the page counted, stored once for the pages after it.
    assert len(writes) == 1 and "payments_supportersummary" in writes[0]

    page_cache_bump()
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/artikel/koude-pagina/", **BROWSER).status_code == 200
    assert not [
        q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]


def test_article_page_carries_the_beacon_script_and_the_noscript_pixel(client):
    article = ArticleFactory(slug="met-teller")
    html = client.get("/artikel/met-teller/", **BROWSER).content.decode()
    assert f'<noscript><img class="funnel-pixel" src="/funnel/v/{article.pk}.gif"' in html
    assert f'data-article="{article.pk}" data-url="/funnel/b/"' in html
    en = client.get("/en/artikel/met-teller/", **BROWSER)
    if en.status_code == 200:
        assert 'data-url="/en/funnel/b/"' in en.content.decode()


@pytest.mark.parametrize("raw", ["²", "٣", "-1", "0", "99999999999999999999"])
def test_beacon_with_a_non_ascii_or_out_of_range_id_counts_nothing_and_never_fails(client, raw):
    response = client.post("/funnel/b/", {"a": raw, "e": "view"}, **BROWSER)
    assert response.status_code == 204
    services.funnel_flush()
    assert not DailyCount.objects.exists()
