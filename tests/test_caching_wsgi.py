"""The WSGI front (articles.caching.PageCacheApp): pages this process keeps in memory are
answered before Django; everything else reaches Django as before."""

import time

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from articles import caching
from articles.caching import PageCacheApp, page_cache_bump
from tests.factories import ArticleFactory

pytestmark = pytest.mark.django_db


class Django:
    """Django's own WSGI handler, counting the requests that reach it."""

    def __init__(self) -> None:
        self.handler = WSGIHandler()
        self.calls = 0

    def __call__(self, environ, start_response):
        self.calls += 1
        return self.handler(environ, start_response)


def _get(app, path: str, **extra) -> tuple[str, dict[str, str], bytes]:
    environ = RequestFactory().get(path, **extra).environ
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    # As Django's test client does: a request's start and end must not close the test's
    # connection (on PostgreSQL its transaction holds the test's rows).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        result = app(environ, start_response)
        body = b"".join(result)
        if hasattr(result, "close"):
            result.close()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return answer["status"], dict(answer["headers"]), body


@pytest.fixture
def django_app():
    return Django()


@pytest.fixture
def front(django_app):
    return PageCacheApp(django_app)


@pytest.fixture
def path():
    return ArticleFactory(appreciation_enabled=False).get_absolute_url()


def test_a_page_in_memory_is_answered_without_django(front, django_app, path, django_assert_num_queries):
    status, stored_headers, first = _get(front, path)
    assert status == "200 OK" and stored_headers["X-Page-Cache"] == "miss"
    # Django's own hit, for comparison: served by the middleware from memory.
    _status, django_hit_headers, django_hit = _get(django_app, path)
    assert django_app.calls == 2

    with django_assert_num_queries(0):
        status, headers, body = _get(front, path)
    assert django_app.calls == 2
    assert status == "200 OK" and body == first == django_hit
    assert headers == django_hit_headers  # security headers, CSP, ETag, Cache-Control, length
    assert headers["X-Page-Cache"] == "hit" and "Content-Security-Policy" in headers


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_COOKIE": "sessionid=abc"},
        {"HTTP_COOKIE": "messages=abc"},
        {"QUERY_STRING": "utm_source=x"},
        {"HTTP_IF_NONE_MATCH": '"x"'},
        {"HTTP_IF_MODIFIED_SINCE": "Sat, 28 Nov 2026 10:00:00 GMT"},
        {"HTTP_IF_MATCH": '"x"'},
        {"HTTP_IF_UNMODIFIED_SINCE": "Sat, 28 Nov 2026 10:00:00 GMT"},
        {"HTTP_HOST": "evil.example"},
    ],
    ids=[
        "session",
        "messages",
        "other query",
        "if-none-match",
        "if-modified-since",
        "if-match",
        "if-unmodified-since",
        "foreign host",
    ],
)
def test_other_requests_reach_django(front, django_app, path, extra):
    _get(front, path)
    query = extra.pop("QUERY_STRING", "")
    status, _headers, _body = _get(front, f"{path}?{query}" if query else path, **extra)
    assert django_app.calls == 2
    if "HTTP_HOST" in extra:
        assert status.startswith("400")
    if "HTTP_IF_MATCH" in extra or "HTTP_IF_UNMODIFIED_SINCE" in extra:
        assert status.startswith("412")  # the page is not that version: Django says so


def test_a_host_no_longer_allowed_is_refused_after_its_page_was_answered(front, django_app, path, settings):
    _get(front, path)
    _status, headers, _body = _get(front, path)
    assert django_app.calls == 1 and headers["X-Page-Cache"] == "hit"
    settings.ALLOWED_HOSTS = ["waardeer.example"]
    status, _headers, _body = _get(front, path)
    assert django_app.calls == 2 and status.startswith("400")


def test_a_page_over_https_is_another_page_than_over_http(front, django_app, path, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    _get(front, path, HTTP_X_FORWARDED_PROTO="http")
    _status, headers, _body = _get(front, path, HTTP_X_FORWARDED_PROTO="https")
    assert django_app.calls == 2 and headers["X-Page-Cache"] == "miss"
    for proto in ("http", "https"):
        _status, headers, _body = _get(front, path, HTTP_X_FORWARDED_PROTO=proto)
        assert headers["X-Page-Cache"] == "hit"
    assert django_app.calls == 2


def test_post_and_head_reach_django(front, django_app, path):
    _get(front, path)
    environ = RequestFactory().head(path).environ
    front(environ, lambda status, headers, exc_info=None: None)
    environ = RequestFactory().post(path).environ
    front(environ, lambda status, headers, exc_info=None: None)
    assert django_app.calls == 3


def test_a_bumped_generation_is_never_answered_from_memory(front, django_app, path):
    _get(front, path)
    page_cache_bump()  # what a paid appreciation or a panel save does
    _status, headers, _body = _get(front, path)
    assert django_app.calls == 2 and headers["X-Page-Cache"] == "miss"


def test_an_entry_of_an_older_generation_is_never_answered_from_memory(front, django_app, path):
    _get(front, path)
    [(key, entry)] = caching._local.entries.items()
    page_cache_bump()
    caching._local.keep(key, entry)  # a request that rendered before the bump stores it after
    _status, headers, _body = _get(front, path)
    assert django_app.calls == 2 and headers["X-Page-Cache"] == "miss"


def test_a_generation_read_before_a_bump_does_not_undo_it(front, path):
    _get(front, path)
    before = caching._local.current
    page_cache_bump()
    bumped = caching._local.current
    caching._local.set_generation(before)  # a request that read the generation before the bump
    assert bumped > before and caching._local.generation() == bumped


def test_a_page_is_kept_in_memory_no_longer_than_in_the_shared_cache(
    front, django_app, path, settings, monkeypatch
):
    _get(front, path)
    later = time.time() + settings.PAGE_CACHE_TIMEOUT + 1
    monkeypatch.setattr(caching.time, "time", lambda: later)
    _status, headers, _body = _get(front, path)
    assert django_app.calls == 2 and headers["X-Page-Cache"] == "miss"


def test_memory_older_than_its_seconds_asks_the_shared_cache(front, django_app, path, settings):
    _get(front, path)
    settings.PAGE_CACHE_LOCAL_SECONDS = 0
    _status, headers, _body = _get(front, path)
    assert django_app.calls == 2 and headers["X-Page-Cache"] == "hit"  # from the shared cache


def test_the_site_is_served_through_the_front():
    from journalism.wsgi import application

    assert isinstance(application, PageCacheApp)
