"""The full-page cache (articles.caching): what is stored, for whom, its headers and invalidation."""

import time

import pytest
from django.core.cache import cache
from django.middleware.csrf import get_token
from django.utils import translation
from django.utils.http import http_date

from articles import caching, views
from articles.models import Article, Section
from payments import services
from payments.models import Appreciation
from tests.conftest import WEBHOOK_SECRET
from tests.factories import AppreciationFactory, ArticleFactory, UserFactory
from tests.payments import events
from tests.payments.events import StripePayment
from tests.stripe_fakes import signed_webhook

pytestmark = pytest.mark.django_db

# Browsers revalidate every time (so a reader who just paid sees it); shared caches keep 10 s.
PUBLIC = "public, max-age=0, must-revalidate, s-maxage=10"


@pytest.fixture(autouse=True)
def _dutch_outside_requests():
    translation.activate("nl")
    yield
    translation.activate("nl")


@pytest.fixture
def article():
    # Without the widget, so only the page cache itself is measured.
    return ArticleFactory(appreciation_enabled=False)


def test_second_anonymous_request_is_a_hit_without_queries(client, article, django_assert_num_queries):
    first = client.get(article.get_absolute_url())
    assert first.status_code == 200
    assert first["X-Page-Cache"] == "miss"

    with django_assert_num_queries(0):
        second = client.get(article.get_absolute_url())
    assert second.status_code == 200
    assert second["X-Page-Cache"] == "hit"
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["ETag"] == first["ETag"]


@pytest.mark.parametrize("name", ["home", "section", "author", "feed", "sitemap"])
def test_reading_pages_feeds_and_sitemap_are_cached(client, article, name, django_assert_num_queries):
    url = {
        "home": "/",
        "section": article.section.get_absolute_url(),
        "author": article.author.get_absolute_url(),
        "feed": "/feed/",
        "sitemap": "/sitemap.xml",
    }[name]
    assert client.get(url)["X-Page-Cache"] == "miss"
    with django_assert_num_queries(0):
        assert client.get(url)["X-Page-Cache"] == "hit"


def test_public_page_headers_let_shared_caches_keep_it_briefly(client, article):
    response = client.get(article.get_absolute_url())
    assert response["Cache-Control"] == PUBLIC
    assert response["ETag"].startswith('"')
    assert response["Last-Modified"]
    assert not response.cookies
    # The URL alone decides the language; a Vary on Accept-Language would split shared caches.
    assert "accept-language" not in response.get("Vary", "").lower()
    assert response["Content-Language"] == "nl"
    # Headers of the inner middleware are kept on a hit.
    hit = client.get(article.get_absolute_url())
    assert hit["X-Frame-Options"] == "DENY"
    assert hit["Cache-Control"] == PUBLIC
    assert hit["X-Content-Type-Options"] == "nosniff"


def test_browsers_must_revalidate_and_after_a_payment_get_the_new_page(
    client, django_capture_on_commit_callbacks
):
    """A reader's browser keeps no copy it may show unasked: back on the article after paying,
    its conditional request gets the page with their appreciation, not a 304 for the old one."""
    article = ArticleFactory()
    before = client.get(article.get_absolute_url())
    directives = {d.strip() for d in before["Cache-Control"].split(",")}
    assert {"max-age=0", "must-revalidate", "s-maxage=10"} <= directives
    assert not any(d.startswith("stale-while-revalidate") for d in directives)
    assert client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304

    appreciation = AppreciationFactory(article=article, status=Appreciation.Status.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        services.appreciation_mark_paid(appreciation_id=appreciation.pk)
    after = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert "1 lezer waardeerde dit artikel" in after.text


def test_each_language_and_page_number_has_its_own_entry(client):
    for _ in range(13):
        ArticleFactory()
    dutch, english = client.get("/"), client.get("/en/")
    assert '<html lang="nl">' in dutch.text
    assert '<html lang="en">' in english.text
    assert english["X-Page-Cache"] == "miss"
    page_two = client.get("/?page=2")
    assert page_two["X-Page-Cache"] == "miss"
    assert page_two.content != dutch.content
    assert client.get("/?page=2")["X-Page-Cache"] == "hit"
    assert client.get("/en/")["X-Page-Cache"] == "hit"
    assert client.get("/en/").content == english.content


def test_if_none_match_answers_304_from_the_cache(client, article, django_assert_num_queries):
    etag = client.get(article.get_absolute_url())["ETag"]
    with django_assert_num_queries(0):
        response = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == PUBLIC
    assert client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_if_modified_since_answers_304_and_an_older_date_gets_the_page(client, article):
    last_modified = client.get(article.get_absolute_url())["Last-Modified"]
    assert client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    older = http_date(0)
    assert client.get(article.get_absolute_url(), HTTP_IF_MODIFIED_SINCE=older).status_code == 200


def test_first_request_already_answers_304_to_a_matching_etag(client, article):
    etag = client.get(article.get_absolute_url())["ETag"]
    cache.clear()
    response = client.get(article.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"


def test_head_is_answered_from_the_cache(client, article, django_assert_num_queries):
    client.get(article.get_absolute_url())
    with django_assert_num_queries(0):
        response = client.head(article.get_absolute_url())
    assert response.status_code == 200
    assert response["X-Page-Cache"] == "hit"


def test_logged_in_author_always_gets_a_fresh_private_page(client, article):
    client.get(article.get_absolute_url())
    client.force_login(UserFactory())
    response = client.get(article.get_absolute_url())
    assert "X-Page-Cache" not in response
    assert "private" in response["Cache-Control"]


def test_messages_cookie_bypasses_the_cache(client, article):
    client.get(article.get_absolute_url())
    client.cookies["messages"] = "something"
    assert "X-Page-Cache" not in client.get(article.get_absolute_url())


@pytest.mark.parametrize("query", ["utm_source=x", "page=2&utm_source=x", "page=abc", "cancelled=123"])
def test_other_query_strings_are_neither_served_nor_stored(client, article, query):
    url = f"{article.get_absolute_url()}?{query}"
    first, second = client.get(url), client.get(url)
    assert second.status_code in (200, 404)
    assert "X-Page-Cache" not in first and "X-Page-Cache" not in second
    assert "private" in second["Cache-Control"]


def test_cancelled_checkout_refill_is_never_cached(client):
    article = ArticleFactory()
    pending = AppreciationFactory(article=article, message="My private note", status="expired")
    url = f"{article.get_absolute_url()}?cancelled={pending.public_id}"
    response = client.get(url)
    assert "My private note" in response.text
    assert "X-Page-Cache" not in response
    assert "My private note" not in client.get(article.get_absolute_url()).text


def test_a_page_that_sets_a_csrf_cookie_is_never_stored(client, article, monkeypatch):
    original = views.HomeView.get_context_data

    def with_token(self, **kwargs):
        get_token(self.request)  # what rendering a form's {% csrf_token %} does
        return original(self, **kwargs)

    monkeypatch.setattr(views.HomeView, "get_context_data", with_token)
    first = client.get("/")
    assert "csrftoken" in first.cookies
    second = client.get("/")
    assert "X-Page-Cache" not in second
    assert "csrftoken" in second.cookies
    assert "public" not in second["Cache-Control"]


def test_a_page_that_reads_the_session_is_never_stored(client, article, monkeypatch):
    original = views.HomeView.get_context_data

    def with_session(self, **kwargs):
        self.request.session.get("anything")  # makes the response Vary on Cookie
        return original(self, **kwargs)

    monkeypatch.setattr(views.HomeView, "get_context_data", with_session)
    client.get("/")
    assert "X-Page-Cache" not in client.get("/")


def test_not_found_and_panel_pages_are_not_cached(client):
    for url in ("/artikel/nope/", "/admin/login/"):
        client.get(url)
        response = client.get(url)
        assert "X-Page-Cache" not in response
        assert "public" not in response.get("Cache-Control", "")


def test_payment_pages_are_not_cached(client):
    article = ArticleFactory()
    url = f"/payments/appreciate/{article.slug}/"
    client.get(url)
    assert "X-Page-Cache" not in client.get(url)


def test_unknown_host_is_refused_even_for_a_cached_page(client, article):
    client.get(article.get_absolute_url())
    assert client.get(article.get_absolute_url(), HTTP_HOST="evil.example").status_code == 400


def test_bump_turns_every_entry_into_a_miss(client, article):
    client.get("/")
    client.get(article.get_absolute_url())
    caching.page_cache_bump()
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"


def test_lost_generation_key_never_revives_old_entries(client, article, settings):
    settings.PAGE_CACHE_LOCAL_SECONDS = 0  # what another process, reading the shared cache, sees
    client.get("/")
    cache.delete(caching.GENERATION_KEY)  # evicted, or Redis flushed except for the pages
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_payment_state_change_bumps_only_after_commit(client, article, django_capture_on_commit_callbacks):
    appreciation = AppreciationFactory(article=article, status="pending")
    client.get(article.get_absolute_url())
    with django_capture_on_commit_callbacks() as callbacks:
        services.appreciation_mark_paid(appreciation_id=appreciation.pk)
        # Not yet committed: a reader still gets the stored page.
        assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"
    for callback in callbacks:
        callback()
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"


def test_refund_bumps_after_commit(client, article, django_capture_on_commit_callbacks):
    appreciation = AppreciationFactory(article=article, status="paid")
    client.get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        assert services.appreciation_refund_record(
            appreciation_id=appreciation.pk, refunded_amount=appreciation.amount
        )
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"


def test_dispute_bumps_after_commit(client, article, stripe_transport, django_capture_on_commit_callbacks):
    payment = StripePayment(AppreciationFactory(article=article, status="paid", fee_amount=40))
    Appreciation.objects.filter(pk=payment.appreciation.pk).update(
        stripe_payment_intent_id=payment.payment_intent, stripe_charge_id=payment.charge_id
    )
    client.get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        services.stripe_event_handle(
            payment.dispute_event(events.stripe_id("dp"), "needs_response", kind="charge.dispute.created")
        )
    assert Appreciation.objects.get().dispute_status == "open"
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "miss"


def test_state_changes_that_no_reader_sees_keep_the_cache(
    client, article, django_capture_on_commit_callbacks
):
    appreciation = AppreciationFactory(article=article, status="pending")
    client.get(article.get_absolute_url())
    with django_capture_on_commit_callbacks(execute=True):
        services.appreciation_mark_processing(appreciation_id=appreciation.pk)
        services.appreciation_mark_expired(appreciation_id=appreciation.pk)
    assert client.get(article.get_absolute_url())["X-Page-Cache"] == "hit"


def test_paid_webhook_updates_the_cached_article_page(
    client, stripe_transport, django_capture_on_commit_callbacks
):
    article = ArticleFactory()
    url = "/en" + article.get_absolute_url()
    first = client.get(url)
    if first.cookies:
        pytest.skip("the widget still renders a CSRF token, so the article page is (rightly) not stored")
    assert "Be the first reader" in first.text
    assert client.get(url)["X-Page-Cache"] == "hit"

    appreciation = AppreciationFactory(
        article=article, amount=500, stripe_checkout_session_id=events.stripe_id("cs")
    )
    body, header = signed_webhook(StripePayment(appreciation).completed(), WEBHOOK_SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/payments/stripe/webhook/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
    assert response.status_code == 200
    assert Appreciation.objects.get().status == "paid"
    assert "1 reader appreciated this article" in client.get(url).text


def test_saving_in_the_panel_bumps(admin_client, client, article):
    section = article.section
    client.get("/")
    response = admin_client.post(
        f"/admin/articles/section/{section.pk}/change/",
        {"name": "Buitenland", "name_en": "World", "slug": section.slug, "position": 0},
    )
    assert response.status_code == 302, response.content[:2000]
    assert Section.objects.get().name == "Buitenland"
    home = client.get("/")
    assert home["X-Page-Cache"] == "miss"
    assert "Buitenland" in home.text


def test_panel_login_and_preview_do_not_bump(client, article):
    client.get("/")
    client.post("/admin/login/", {"username": "nobody", "password": "wrong"})
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_unpublishing_in_the_panel_removes_the_page(admin_client, client, article):
    assert client.get(article.get_absolute_url()).status_code == 200
    response = admin_client.post(
        "/admin/articles/article/",
        {"action": "delete_selected", "_selected_action": [article.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Article.objects.filter(pk=article.pk).exists()
    assert client.get(article.get_absolute_url()).status_code == 404


def test_process_reads_the_generation_at_most_once_a_second(client, article, monkeypatch):
    clock = [time.monotonic()]  # a monotonic clock never goes back from what was read before
    monkeypatch.setattr(caching.time, "monotonic", lambda: clock[0])
    client.get("/")
    assert client.get("/")["X-Page-Cache"] == "hit"
    # Another process bumps: this one may serve its copy for up to PAGE_CACHE_LOCAL_SECONDS.
    cache.incr(caching.GENERATION_KEY)
    assert client.get("/")["X-Page-Cache"] == "hit"
    clock[0] += 1.5
    assert client.get("/")["X-Page-Cache"] == "miss"
    assert client.get("/")["X-Page-Cache"] == "hit"


def test_process_keeps_a_bounded_number_of_pages_in_memory(client, settings):
    settings.PAGE_CACHE_LOCAL_ENTRIES = 3
    for _ in range(5):
        article = ArticleFactory(appreciation_enabled=False)
        client.get(article.get_absolute_url())
    assert len(caching._local.entries) == 3


def test_cached_pages_carry_the_content_security_policy(client, article):
    client.get(article.get_absolute_url())
    hit = client.get(article.get_absolute_url())
    assert hit["X-Page-Cache"] == "hit"
    assert "script-src 'self'" in hit["Content-Security-Policy"]


def test_http_request_is_redirected_to_https_even_when_the_page_is_cached(client, article, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get(article.get_absolute_url(), secure=True)["X-Page-Cache"] == "miss"
    assert client.get(article.get_absolute_url(), secure=True)["X-Page-Cache"] == "hit"
    response = client.get(article.get_absolute_url())
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_security_headers_are_kept_on_a_hit(client, article, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 3600
    client.get(article.get_absolute_url(), secure=True)
    hit = client.get(article.get_absolute_url(), secure=True)
    assert hit["X-Page-Cache"] == "hit"
    assert hit["Strict-Transport-Security"].startswith("max-age=3600")
    assert hit["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert hit["Cross-Origin-Opener-Policy"] == "same-origin"


def test_static_files_are_left_to_whitenoise(client):
    response = client.get("/static/css/site.css")
    assert "X-Page-Cache" not in response


# --- pieces of pages kept per generation (articles.caching.GenerationMemo) -------------------


def _section_queries(queries) -> int:
    return sum('FROM "articles_section"' in query["sql"] for query in queries)


def test_section_menu_is_built_once_per_generation(client, article):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    other = ArticleFactory(section=article.section)
    client.get(article.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        page = client.get(other.get_absolute_url())
    assert page["X-Page-Cache"] == "miss"
    assert _section_queries(queries) == 0
    assert f'href="{article.section.get_absolute_url()}"' in page.text

    Section.objects.create(name="Sportredactie", name_en="Sports desk", slug="sport", position=9)
    caching.page_cache_bump()  # what a panel save does
    with CaptureQueriesContext(connection) as queries:
        page = client.get(other.get_absolute_url())
    assert _section_queries(queries) == 1
    assert '<a href="/rubriek/sport/">Sportredactie</a>' in page.text
    assert '<a href="/en/rubriek/sport/">Sports desk</a>' in client.get("/en" + other.get_absolute_url()).text


def test_generation_memo_keeps_a_bounded_number_of_fresh_values(settings, monkeypatch):
    memo = caching.GenerationMemo(size=2)
    computed = []

    def compute(key):
        computed.append(key)
        return key.upper()

    assert [memo.get(key, lambda k=key: compute(k)) for key in ("a", "b", "a", "c", "b")] == list("ABACB")
    # "b" was the least recently used when "c" came in, so it was computed again.
    assert computed == ["a", "b", "c", "b"]

    clock = [time.monotonic()]  # a monotonic clock never goes back from what was read before
    monkeypatch.setattr(caching.time, "monotonic", lambda: clock[0])
    memo.get("d", lambda: compute("d"))
    clock[0] += settings.PAGE_CACHE_TIMEOUT + 1  # as old as a stored page may get
    memo.get("d", lambda: compute("d"))
    assert computed[-2:] == ["d", "d"]


def test_generation_memo_keeps_only_what_is_worth_keeping():
    memo = caching.GenerationMemo(size=4)
    computed = []
    for _ in range(2):
        memo.get("small", lambda: computed.append("small") or 3, keep=lambda n: n >= 500)
    assert computed == ["small", "small"]


def test_each_one_value_url_has_one_pattern_with_one_argument():
    from django.urls import converters, get_resolver

    for viewname in caching.ONE_VALUE_URLS:
        namespace, name = viewname.split(":")
        _prefix, resolver = get_resolver().namespace_dict[namespace]
        possibilities = resolver.reverse_dict.getlist(name)
        assert len(possibilities) == 1, viewname
        ((_url, params),), _pattern, _defaults, found = possibilities[0]
        assert len(params) == 1, viewname
        if caching.ONE_VALUE_URLS[viewname][0] is caching._SLUG:
            # Both take every slug-shaped value; a regular expression of its own might not.
            assert type(found[params[0]]) in (converters.SlugConverter, converters.StringConverter), viewname


SLUGS = ["kust", "a", "-", "_x-1", "2024", "Hoofd-Letters_9", "waardeer-slot"]


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("prefix", ["/", "/site/", "/waardeer-slot/", "/9081726354453627181/"])
def test_one_value_urls_are_what_reverse_gives(language, prefix):
    from django.urls import clear_script_prefix, reverse, set_script_prefix

    argument = {"payments:appreciate": "ref", "feedback:send": "ref", "funnel:pixel": "article_id"}
    ids = [0, 7, "12", 1234567890123456789, 9081726354453627181]
    set_script_prefix(prefix)
    try:
        with translation.override(language):
            for viewname in caching.ONE_VALUE_URLS:
                for value in ids if viewname == "funnel:pixel" else SLUGS:
                    kwargs = {argument.get(viewname, "slug"): value}
                    assert caching.reverse_memo(viewname, **kwargs) == reverse(viewname, kwargs=kwargs)
    finally:
        clear_script_prefix()


@pytest.mark.parametrize("active", ["nl", "en"])
def test_a_url_in_another_language_is_what_reverse_gives_there(active):
    from django.urls import reverse

    with translation.override(active):
        for language in ("nl", "en"):
            for viewname, kwargs in (
                ("articles:article-detail", {"slug": "kust"}),
                ("articles:home", {}),
                ("payments:appreciate", {"ref": "café"}),
            ):
                with translation.override(language):
                    expected = reverse(viewname, kwargs=kwargs)
                assert caching.reverse_in(language, viewname, **kwargs) == expected
            assert translation.get_language() == active  # nothing was activated


def test_a_value_of_another_shape_is_reversed():
    from django.urls import NoReverseMatch, reverse

    # str takes what slug does not, and quotes it; slug refuses it, as the pixel refuses 20 digits.
    assert caching.reverse_memo("payments:appreciate", ref="café au lait") == reverse(
        "payments:appreciate", kwargs={"ref": "café au lait"}
    )
    with pytest.raises(NoReverseMatch):
        caching.reverse_memo("articles:article-detail", slug="café")
    with pytest.raises(NoReverseMatch):
        caching.reverse_memo("funnel:pixel", article_id=10**19)
    with pytest.raises(NoReverseMatch):
        caching.reverse_memo("funnel:pixel", article_id=True)


def test_remembered_urls_follow_language_script_prefix_and_urlconf(settings):
    from django.urls import clear_script_prefix, reverse, set_script_prefix

    assert caching.reverse_memo("articles:article-detail", slug="kust") == "/artikel/kust/"
    with translation.override("en"):
        assert caching.reverse_memo("articles:article-detail", slug="kust") == "/en/artikel/kust/"
        assert caching.reverse_memo("funnel:pixel", 7) == reverse("funnel:pixel", args=[7])
    set_script_prefix("/site/")
    try:
        assert caching.reverse_memo("articles:home") == "/site/"
    finally:
        clear_script_prefix()
    assert caching.reverse_memo("articles:home") == "/"
    settings.ROOT_URLCONF = "tests.urls_without_articles"
    with pytest.raises(ImportError):  # another URLconf is asked, not the remembered answer
        caching.reverse_memo("articles:home")
