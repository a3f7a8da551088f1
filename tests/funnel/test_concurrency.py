"""Counters under concurrent requests: Redis (as in production), threads, flushes in between.

Runs against redis://127.0.0.1:6379/13 and is skipped when no Redis answers there.
"""

import threading

import pytest
from django.core.cache import caches
from django.db import connection

from funnel import services
from funnel.models import DailyCount
from tests.factories import ArticleFactory

REDIS_URL = "redis://127.0.0.1:6379/13"
THREADS = 8
PER_THREAD = 200


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not _redis_up(), reason="no Redis at 127.0.0.1:6379"),
]


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "funnel-tests",
        }
    }
    caches["default"].clear()
    yield caches["default"]
    caches["default"].clear()


def _hammer(article_id: int, start: threading.Barrier, errors: list) -> None:
    try:
        start.wait()
        for _ in range(PER_THREAD):
            services.funnel_count(article_id=article_id, event="view")
    except Exception as exc:  # surfaced by the test
        errors.append(exc)


def _run_threads(article_id: int, extra: list[threading.Thread] = ()) -> list:
    errors: list = []
    start = threading.Barrier(THREADS)
    threads = [threading.Thread(target=_hammer, args=(article_id, start, errors)) for _ in range(THREADS)]
    for thread in [*threads, *extra]:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_increments_are_never_lost(redis_cache):
    article = ArticleFactory()
    key = services.counter_key("view", article.pk, services.site_day())
    assert _run_threads(article.pk) == []
    assert redis_cache.get(key) == THREADS * PER_THREAD
    services.funnel_flush()
    assert DailyCount.objects.get(article=article).views == THREADS * PER_THREAD
    assert redis_cache.get(key) == 0


def test_flushing_while_readers_keep_coming_loses_and_doubles_nothing(redis_cache):
    article = ArticleFactory()
    done = threading.Event()
    flushes: list = []
    flush_errors: list = []

    def keep_flushing() -> None:
        try:
            while not done.is_set():
                flushes.append(services.funnel_flush())
        except Exception as exc:
            flush_errors.append(exc)
        finally:
            connection.close()

    flusher = threading.Thread(target=keep_flushing)
    errors = _run_threads(article.pk, extra=[flusher])
    done.set()
    flusher.join()
    assert errors == [] and flush_errors == []
    services.funnel_flush()
    assert DailyCount.objects.get(article=article).views == THREADS * PER_THREAD
    # The flusher really ran in between (otherwise this test would prove nothing new).
    assert sum(result.views for result in flushes) > 0


def test_two_flushes_at_once_claim_each_count_once(redis_cache):
    article = ArticleFactory()
    for _ in range(500):
        services.funnel_count(article_id=article.pk, event="seen")
    start = threading.Barrier(4)
    results: list = []

    def flush() -> None:
        start.wait()
        results.append(services.funnel_flush())
        connection.close()

    threads = [threading.Thread(target=flush) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    services.funnel_flush()
    assert DailyCount.objects.get(article=article).seen == 500
