"""Writes of the funnel: counters in the cache on the request path, the database only in batches.

A page view must never write to the database (pages are served from a cache, and a write per
view would be the slowest part of the page). So every event increments a counter in the cache
(Redis INCRBY with REDIS_URL, local memory otherwise) keyed by event, article and day, and
`manage.py funnel_flush` moves the counts into DailyCount every minute.

The flush claims what it read by subtracting exactly that number from the counter, so
increments that arrive between the read and the subtraction stay for the next flush; a lock
in the cache keeps two flushes from claiming the same counts. Local-memory counters live in
one process only: fine for development, not for several gunicorn workers.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from articles.models import Article
from funnel.models import DailyCount

logger = logging.getLogger(__name__)

# Event name in a counter key -> DailyCount field.
EVENTS = {"view": "views", "seen": "seen", "started": "started"}
KEY_PREFIX = "funnel:c"
# Counters outlive a cron outage of a day or two; flush looks back FLUSH_DAYS days by default.
COUNTER_TTL = 4 * 24 * 3600
FLUSH_DAYS = 3
LOCK_KEY = "funnel:flush-lock"
LOCK_TIMEOUT = 300
ARTICLE_CHECK_TTL = 300
KEYS_PER_BATCH = 3000


def site_day(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()


def counter_key(event: str, article_id: int, day: date) -> str:
    return f"{KEY_PREFIX}:{event}:{article_id}:{day:%Y%m%d}"


def _cache_add_to(key: str, delta: int) -> None:
    """Add `delta` to a counter, creating it if needed, without losing a concurrent increment."""
    try:
        cache.incr(key, delta)
    except ValueError:
        # SET NX: of two requests creating the counter, one creates it and the other increments.
        if not cache.add(key, delta, timeout=COUNTER_TTL):
            cache.incr(key, delta)


def funnel_count(*, article_id: int, event: str, now: datetime | None = None) -> None:
    """Count one event for an article today. A cache outage loses the count, never the request."""
    if event not in EVENTS:
        raise ValueError(f"Unknown funnel event {event!r}")
    try:
        _cache_add_to(counter_key(event, article_id, site_day(now)), 1)
    except Exception:
        logger.warning("Funnel counter %s for article %s not counted", event, article_id, exc_info=True)


def article_countable(article_id: int) -> bool:
    """Only published articles are counted; the answer is cached so beacons rarely read the database."""
    key = f"funnel:ok:{article_id}"
    known = cache.get(key)
    if known is None:
        known = int(Article.objects.published().filter(pk=article_id).exists())
        cache.set(key, known, timeout=ARTICLE_CHECK_TTL)
    return bool(known)


@dataclass
class FlushResult:
    rows: int = 0
    views: int = 0
    seen: int = 0
    started: int = 0
    locked: bool = False


def funnel_flush(*, days: int = FLUSH_DAYS, today: date | None = None) -> FlushResult:
    """Move the cache counters of the last `days` days into DailyCount; safe to run at any time.

    Returns what was moved; `locked` when another flush was running (nothing was done).
    """
    token = uuid.uuid4().hex
    if not cache.add(LOCK_KEY, token, timeout=LOCK_TIMEOUT):
        return FlushResult(locked=True)
    try:
        return _flush(days=days, today=today or site_day())
    finally:
        if cache.get(LOCK_KEY) == token:
            cache.delete(LOCK_KEY)


def _flush(*, days: int, today: date) -> FlushResult:
    result = FlushResult()
    day_list = [today - timedelta(days=offset) for offset in range(max(days, 1))]
    article_ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
    keys = [
        (counter_key(event, article_id, day), event, article_id, day)
        for day in day_list
        for article_id in article_ids
        for event in EVENTS
    ]
    for start in range(0, len(keys), KEYS_PER_BATCH):
        _flush_batch(keys[start : start + KEYS_PER_BATCH], result)
    return result


def _flush_batch(batch: list[tuple[str, str, int, date]], result: FlushResult) -> None:
    values = cache.get_many([key for key, *_rest in batch])
    claimed: list[tuple[str, int]] = []
    rows: dict[tuple[int, date], dict[str, int]] = {}
    for key, event, article_id, day in batch:
        count = int(values.get(key) or 0)
        if count <= 0:
            continue
        # Claim exactly what was read: increments since the read remain in the counter.
        try:
            cache.decr(key, count)
        except ValueError:
            continue  # expired since the read: nothing left to claim, and nothing to count twice
        claimed.append((key, count))
        rows.setdefault((article_id, day), {})[EVENTS[event]] = count
    if not rows:
        return
    try:
        with transaction.atomic():
            DailyCount.objects.bulk_create(
                [DailyCount(article_id=article_id, day=day) for article_id, day in rows],
                ignore_conflicts=True,
            )
            for (article_id, day), counts in rows.items():
                DailyCount.objects.filter(article_id=article_id, day=day).update(
                    **{name: F(name) + value for name, value in counts.items()}
                )
    except Exception:
        # Give the counts back so the next flush tries again.
        for key, count in claimed:
            _cache_add_to(key, count)
        raise
    result.rows += len(rows)
    for counts in rows.values():
        result.views += counts.get("views", 0)
        result.seen += counts.get("seen", 0)
        result.started += counts.get("started", 0)
