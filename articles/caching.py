"""Full-page cache for anonymous readers, served before sessions, CSRF and URL resolution.

What is cached: GET/HEAD of the public reading pages (`CACHED_VIEWS`: home, article, section,
author, feeds, sitemap) for requests without a session or messages cookie and without a query
string other than `?page=<n>`, looked up before any other middleware runs. Only a 200 that
sets no cookie, does not vary on Cookie and is not private/no-store is stored, so a page
carrying a CSRF token or anything personal never enters the shared cache. `?cancelled=` (the
widget refilling a reader's own choice), the panel and the payment pages are never cached.

Invalidation: one "generation" number lives in the cache and is stored inside every entry; an
entry from another generation is a miss. `page_cache_invalidate()` bumps it, after the commit,
whenever something a reader sees changes: an appreciation's counted state (payments.services),
and every successful add/change/delete/action POST in the panel (articles, authors, sections,
hiding a reader's message). Entries also expire after PAGE_CACHE_TIMEOUT, which bounds how
late a scheduled article appears on the lists.

The key is the scheme, host, language and path with its `page` number; the language follows
from the URL (`/` is Dutch, `/en/` English). A hit is one `get_many` (generation + page), or
nothing at all when this process read the generation less than PAGE_CACHE_LOCAL_SECONDS ago
and keeps the page in memory; it answers 304 to a matching If-None-Match / If-Modified-Since.
"""

import functools
import hashlib
import io
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIRequest
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date, quote_etag
from django.utils.translation import get_language, get_language_from_path, override

GENERATION_KEY = "pagecache:generation"
ENTRY_PREFIX = "pagecache:page:"

# URL names whose anonymous answers are the same for every reader.
CACHED_VIEWS = frozenset(
    {
        "articles:home",
        "articles:article-detail",
        "articles:section-detail",
        "articles:author-detail",
        "articles:feed-rss",
        "articles:feed-atom",
        "articles:author-feed-rss",
        "articles:author-feed-atom",
        "django.contrib.sitemaps.views.sitemap",
    }
)

# Pagination is the only query a cached page may have; anything else (tracking parameters,
# `?cancelled=`) goes to the view, so the number of keys per page stays bounded.
_CACHEABLE_QUERY = re.compile(r"(?:page=\d{1,6})?")
_PRIVATE_DIRECTIVES = ("private", "no-store", "no-cache")
# Never replayed: a cookie is never stored anyway, and the server adds its own Date.
_NOT_STORED = frozenset({"set-cookie", "date"})
# Panel URL names (model admin add/change/delete, and changelist actions) that write.
_PANEL_WRITES = ("_add", "_change", "_changelist", "_delete")


def _cache():
    return caches[settings.PAGE_CACHE_ALIAS]


def _new_generation() -> int:
    # Milliseconds: after the generation key is lost (eviction, flush) the new number is still
    # larger than any stored entry's, so an old entry can never match again.
    return time.time_ns() // 1_000_000


def page_cache_generation() -> int:
    cache = _cache()
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, _new_generation(), timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def page_cache_current_generation() -> int:
    """The generation as this process knows it (read at most PAGE_CACHE_LOCAL_SECONDS ago), for
    other per-process caches that must follow the page cache's invalidation."""
    generation = _local.generation()
    if generation is None:
        generation = page_cache_generation()
        _local.set_generation(generation)
    return generation


class GenerationMemo:
    """Values this process computed for the current page-cache generation, at most `size` keys
    (the least recently used leave first) and at most PAGE_CACHE_TIMEOUT seconds old, like a
    stored page.

    For pieces of pages that change only with something that bumps the generation (a panel
    save, a counted payment): the section menu, the supporters of a much-appreciated article.
    Pages rendered uncached (another article, `?cancelled=`, a form with errors) then skip
    their queries too.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Hashable, tuple[int, float, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get(
        self, key: Hashable, compute: Callable[[], Any], *, keep: Callable[[Any], bool] | None = None
    ) -> Any:
        """The value for the key, computed now if this generation has none; `keep` decides
        whether a computed value is worth keeping."""
        generation = page_cache_current_generation()
        found = self.values.get(key)
        if (
            found is not None
            and found[0] == generation
            and time.monotonic() - found[1] < settings.PAGE_CACHE_TIMEOUT
        ):
            with self.lock:
                if key in self.values:  # another thread may have just dropped it
                    self.values.move_to_end(key)
            return found[2]
        value = compute()
        if keep is None or keep(value):
            with self.lock:
                self.values[key] = (generation, time.monotonic(), value)
                self.values.move_to_end(key)
                while len(self.values) > self.size:
                    self.values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self.lock:
            self.values.clear()


@functools.lru_cache(maxsize=4096)
def _reversed(viewname: str, args: tuple, kwargs: tuple, *state: str | None) -> str:
    # `state` is (language, script prefix, URLconf): reverse() reads the last two itself.
    with override(state[0]):
        return reverse(viewname, args=args, kwargs=dict(kwargs))


# A value of these shapes is put into a URL as it is: reverse() quotes none of its characters.
_SLUG = re.compile(r"[-a-zA-Z0-9_]+")
_DIGITS = re.compile(r"[0-9]{1,19}")
# Views with one URL pattern, whose one argument takes every value of the shape given here
# (tests check the URLconf still says so): for such a value their URL is the same text around
# it. The placeholder has the shape too, so the pattern takes it.
ONE_VALUE_URLS = {
    "articles:article-detail": (_SLUG, "waardeer-slot"),
    "articles:author-detail": (_SLUG, "waardeer-slot"),
    "articles:author-feed-rss": (_SLUG, "waardeer-slot"),
    "articles:section-detail": (_SLUG, "waardeer-slot"),
    "payments:appreciate": (_SLUG, "waardeer-slot"),
    "feedback:send": (_SLUG, "waardeer-slot"),
    "funnel:pixel": (_DIGITS, "9081726354453627181"),
}


@functools.lru_cache(maxsize=256)
def _around_value(viewname: str, name: str, *state: str | None) -> tuple[str, str] | None:
    """The URL before and after the value, from reversing once with the placeholder; None if
    the placeholder is also elsewhere in the URL (in the script prefix, say)."""
    placeholder = ONE_VALUE_URLS[viewname][1]
    with override(state[0]):
        url = reverse(viewname, kwargs={name: placeholder})
    if url.count(placeholder) != 1:
        return None
    before, _placeholder, after = url.partition(placeholder)
    return before, after


def reverse_memo(viewname: str, *args: str | int, **kwargs: str | int) -> str:
    """reverse(), remembered by this process: an uncached article page links about fifteen URLs,
    and reversing each costs more than the rest of its line of template. A URL depends only on
    the URLconf, the language and the script prefix, which are part of the key. The URLs of
    one article (its page, its form, each language) are new on every page nobody asked for
    yet, so those are a placeholder's URL with the value put in (`ONE_VALUE_URLS`)."""
    return _reverse_in(get_language(), viewname, args, kwargs)


def reverse_in(language: str | None, viewname: str, *args: str | int, **kwargs: str | int) -> str:
    """reverse_memo() in `language`, whichever is active: the same as under
    translation.override(language), without activating it and back."""
    return _reverse_in(language, viewname, args, kwargs)


def _reverse_in(language: str | None, viewname: str, args: tuple, kwargs: dict) -> str:
    state = (language, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    if viewname in ONE_VALUE_URLS and not args and len(kwargs) == 1:
        ((name, value),) = kwargs.items()
        text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
        around = _around_value(viewname, name, *state) if text is not None else None
        if around is not None and ONE_VALUE_URLS[viewname][0].fullmatch(text):
            return f"{around[0]}{text}{around[1]}"
    # The keyword arguments in the caller's order: another order is only another entry.
    return _reversed(viewname, args, tuple(kwargs.items()), *state)


class _LocalPages:
    """The most used entries in this process's memory, and the generation as read at most
    PAGE_CACHE_LOCAL_SECONDS ago: most hits then cost no round trip to the shared cache.

    Another process's bump reaches this one within PAGE_CACHE_LOCAL_SECONDS ("within
    seconds"); a bump in this process is seen at once, and an older generation that a request
    read while racing the bump does not undo it. An entry is kept at most PAGE_CACHE_TIMEOUT
    seconds, as in the shared cache.
    """

    def __init__(self) -> None:
        self.entries: OrderedDict[str, tuple] = OrderedDict()
        self.current: int | None = None
        self.read_at = 0.0
        # With GUNICORN_THREADS above 1, a process serves several requests at once.
        self.lock = threading.Lock()

    def generation(self) -> int | None:
        """The generation if it was read recently enough, else None (read it from the cache)."""
        return self.current if self.current is not None and self._fresh() else None

    def _fresh(self) -> bool:
        return time.monotonic() - self.read_at < settings.PAGE_CACHE_LOCAL_SECONDS

    def set_generation(self, generation: int, *, bumped: bool = False) -> None:
        """`bumped`: this process just bumped to it, so it holds whatever was read before."""
        with self.lock:
            if not bumped and self.current is not None and generation < self.current and self._fresh():
                return
            if generation != self.current:
                self.entries.clear()
            self.current, self.read_at = generation, time.monotonic()

    def entry(self, key: str, generation: int) -> tuple | None:
        entry = self.entries.get(key)
        if entry is None or entry[0] != generation:
            return None
        return entry if time.time() - entry[2] < settings.PAGE_CACHE_TIMEOUT else None

    def keep(self, key: str, entry: tuple) -> None:
        if settings.PAGE_CACHE_LOCAL_SECONDS <= 0:
            return
        with self.lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > settings.PAGE_CACHE_LOCAL_ENTRIES:
                self.entries.popitem(last=False)


_local = _LocalPages()


def page_cache_bump() -> None:
    """Make every stored page a miss now. Call after the change is committed."""
    cache = _cache()
    try:
        generation = cache.incr(GENERATION_KEY)
    except ValueError:  # missing: evicted or never read
        generation = _new_generation()
        cache.set(GENERATION_KEY, generation, timeout=None)
    _local.set_generation(generation, bumped=True)


def page_cache_invalidate() -> None:
    """Bump the generation once the current transaction commits (at once outside one).

    After the commit, not before: a page rendered between a bump and the commit would show
    the old numbers and be stored under the new generation.
    """
    transaction.on_commit(page_cache_bump, robust=True)


def page_cache_key(request: HttpRequest) -> str | None:
    """The entry for this request, or None when it must not be served from or stored in the cache."""
    if request.method not in ("GET", "HEAD"):
        return None
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
        return None
    query = request.META.get("QUERY_STRING", "")
    if not _CACHEABLE_QUERY.fullmatch(query):
        return None
    if request.path_info.startswith((settings.STATIC_URL, settings.MEDIA_URL)):
        return None  # WhiteNoise's and the proxy's
    # get_host() validates against ALLOWED_HOSTS (400 otherwise), as the full stack would.
    host = request.get_host()
    path = request.path
    language = get_language_from_path(request.path_info) or settings.LANGUAGE_CODE
    raw = f"{request.scheme}://{host}|{language}|{path}?{query}"
    return ENTRY_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def _storable(request: HttpRequest, response: HttpResponseBase) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is None or match.view_name not in CACHED_VIEWS:
        return False
    if request.method != "GET" or response.status_code != 200 or response.streaming:
        return False
    if response.cookies or response.has_header("Set-Cookie"):
        return False
    vary = response.get("Vary", "").lower()
    if "cookie" in vary:
        return False
    cache_control = response.get("Cache-Control", "").lower()
    return not any(directive in cache_control for directive in _PRIVATE_DIRECTIVES)


@functools.lru_cache(maxsize=4)
def _http_date(second: int) -> str:
    # The pages stored in one second share it: formatting it was 2 % of an uncached page.
    return http_date(second)


def _public_headers(response: HttpResponseBase, *, etag: str, stored_at: float) -> None:
    response["ETag"] = etag
    response["Last-Modified"] = _http_date(int(stored_at))
    # Browsers revalidate every time (a cheap 304 through the ETag): a reader who pays and goes
    # back to the article must see their appreciation, not the copy from before. Shared caches
    # (nginx, a CDN) may keep the page for s-maxage seconds, which they prefer over max-age.
    # No stale-while-revalidate: a browser would show the stale copy first; nginx serves stale
    # while updating on its own (proxy_cache_use_stale updating).
    patch_cache_control(
        response,
        public=True,
        max_age=0,
        must_revalidate=True,
        s_maxage=settings.PAGE_CACHE_S_MAXAGE,
    )
    # LocaleMiddleware adds "Vary: Accept-Language" to unprefixed (Dutch) URLs, but with
    # prefix_default_language=False the URL alone decides the language; a shared cache
    # would otherwise keep one copy per browser language.
    vary = [v.strip() for v in response.get("Vary", "").split(",") if v.strip()]
    kept = [v for v in vary if v.lower() != "accept-language"]
    if kept:
        response["Vary"] = ", ".join(kept)
    elif "Vary" in response:
        del response["Vary"]


def _from_entry(entry: tuple) -> HttpResponse:
    _generation, _etag, _stored_at, headers, body = entry
    response = HttpResponse(body)
    for name, value in headers:
        response[name] = value
    return response


def _conditional(request: HttpRequest, response: HttpResponse, *, etag: str, stored_at: float):
    """304 for a matching If-None-Match / If-Modified-Since, else the page itself."""
    conditional = get_conditional_response(
        request, etag=etag, last_modified=int(stored_at), response=response
    )
    return conditional or response


# The WSGI variable in which PageCacheApp hands the key it found to PageCacheMiddleware. A
# client cannot set it: headers arrive as HTTP_* variables.
KEY_ENVIRON = "waardeer.page_cache_key"
_UNKNOWN = object()


class PageCacheMiddleware:
    """Serve and store anonymous reading pages; the first middleware.

    First, so a hit runs nothing else: the headers the middleware below adds (security
    headers, Content-Security-Policy, X-Frame-Options, Content-Language) are stored with the
    page. SecurityMiddleware's HTTPS redirect still applies: an http:// request has its own
    key and is redirected before anything could be stored under it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # PageCacheApp, in front under gunicorn, may have found the key already.
        key = request.META.get(KEY_ENVIRON, _UNKNOWN)
        if key is _UNKNOWN:
            key = page_cache_key(request)
        if key is None:
            response = self.get_response(request)
            self._after_uncached(request, response)
            return response

        cache = _cache()
        generation = _local.generation()
        if generation is not None:
            entry = _local.entry(key, generation) or cache.get(key)
        else:
            found = cache.get_many([GENERATION_KEY, key])
            generation = found.get(GENERATION_KEY)
            if generation is None:
                generation = page_cache_generation()
            _local.set_generation(generation)
            entry = found.get(key)
        if entry is not None and entry[0] == generation:
            _local.keep(key, entry)
            response = _from_entry(entry)
            response["X-Page-Cache"] = "hit"
            return _conditional(request, response, etag=entry[1], stored_at=entry[2])

        response = self.get_response(request)
        if not _storable(request, response):
            self._after_uncached(request, response)
            return response
        body = response.content
        etag = quote_etag(hashlib.sha256(body).hexdigest()[:32])
        stored_at = time.time()
        _public_headers(response, etag=etag, stored_at=stored_at)
        headers = [(name, value) for name, value in response.items() if name.lower() not in _NOT_STORED]
        entry = (generation, etag, stored_at, headers, body)
        cache.set(key, entry, settings.PAGE_CACHE_TIMEOUT)
        _local.keep(key, entry)
        response["X-Page-Cache"] = "miss"
        return _conditional(request, response, etag=etag, stored_at=stored_at)

    @staticmethod
    def _after_uncached(request: HttpRequest, response: HttpResponseBase) -> None:
        # Whatever we do not store is nobody else's to keep either.
        if not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_cache=True)
        # Every successful change made in the panel (articles, authors, sections, a hidden
        # reader's message) may show on public pages; its own transaction has committed by now.
        # Logins and the live Markdown preview are POSTs too, but change nothing readers see.
        match = getattr(request, "resolver_match", None)
        if (
            request.method == "POST"
            and match is not None
            and match.namespace == "admin"
            and (match.url_name or "").endswith(_PANEL_WRITES)
            and response.status_code < 400
        ):
            page_cache_bump()


# The headers of a conditional request: its 304 or 412 is Django's (get_conditional_response).
_CONDITIONAL = ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE")
# What page_cache_key() reads of a GET without cookies, through WSGIRequest: the path and query,
# the script prefix, the host and the scheme (SECURE_PROXY_SSL_HEADER's header is added per call).
_KEY_VARIABLES = (
    "PATH_INFO",
    "QUERY_STRING",
    "SCRIPT_NAME",
    "SCRIPT_URL",
    "REDIRECT_URL",
    "HTTP_HOST",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_PORT",
    "SERVER_NAME",
    "SERVER_PORT",
    "wsgi.url_scheme",
)


@functools.lru_cache(maxsize=1024)
def _key_for(variables: tuple[tuple[str, Any], ...]) -> str | None:
    """page_cache_key() of a cookieless GET with these WSGI variables, remembered: building the
    request and its key was most of a hit's own work, and readers ask for the same few pages
    (in `make bench`, cache hits from gunicorn went from about 7,000 to 8,500 a second). A
    host not allowed raises, and an exception is never remembered."""
    environ = {name: value for name, value in variables if value is not None}
    environ.update({"REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()})
    return page_cache_key(WSGIRequest(environ))


@receiver(setting_changed)
def _key_settings_changed(**kwargs: Any) -> None:
    # The key follows ALLOWED_HOSTS, the languages, the proxy headers trusted and more.
    _key_for.cache_clear()


def _environ_key(environ: dict) -> str | None:
    if environ.get("HTTP_COOKIE"):  # the cookies decide (a session keeps the page out of the cache)
        return page_cache_key(WSGIRequest(environ))
    names = _KEY_VARIABLES
    if settings.SECURE_PROXY_SSL_HEADER:
        names = (*names, settings.SECURE_PROXY_SSL_HEADER[0])
    return _key_for(tuple((name, environ.get(name)) for name in names))


class PageCacheApp:
    """The WSGI application behind gunicorn, with the pages this process keeps in memory in front.

    A GET the PageCacheMiddleware would answer from this process's memory (`_LocalPages`: the
    generation read less than PAGE_CACHE_LOCAL_SECONDS ago) is answered here, before Django
    sends its request signals, runs the middleware and builds a response: those were two
    thirds of a cache hit's CPU. The key is the middleware's (`page_cache_key`, host checked
    against ALLOWED_HOSTS). Everything else goes to Django unchanged: a page not in memory, a
    conditional request (its 304 is Django's), HEAD, a session or messages cookie.
    """

    def __init__(self, application: Callable) -> None:
        self.application = application

    def __call__(self, environ: dict, start_response: Callable) -> Any:
        entry = self._hit(environ)
        if entry is None:
            return self.application(environ, start_response)
        _generation, _etag, _stored_at, headers, body = entry
        start_response("200 OK", [*headers, ("X-Page-Cache", "hit")])
        return [body]

    @staticmethod
    def _hit(environ: dict) -> tuple | None:
        if environ.get("REQUEST_METHOD") != "GET":
            return None
        if any(name in environ for name in _CONDITIONAL):
            return None
        generation = _local.generation()
        if generation is None:
            return None
        try:
            key = _environ_key(environ)
        except Exception:  # a host not allowed, a path that does not decode: Django answers
            return None
        entry = _local.entry(key, generation) if key else None
        if entry is not None:
            _local.keep(key, entry)  # the most used stay in memory
        else:
            environ[KEY_ENVIRON] = key  # for PageCacheMiddleware: the same request, the same key
        return entry
