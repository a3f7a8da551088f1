"""Fixed-window rate limits in the Django cache, shared by every process that shares the cache.

With REDIS_URL the counters live in Redis (atomic INCR), so limits hold across gunicorn
workers and machines; without it they live in each process's local memory, which is enough
for development. A limit is written `<count>/<unit>` (s, m, h, d), e.g. `10/h`; empty or a
count of 0 turns it off.

Checkout creation is the costly, abusable step (card testing: many small payments to learn
which stolen cards work), so each attempt is counted per client IP, per IP and article, per
form and site-wide before Stripe is asked for a session.
"""

import hashlib
import ipaddress
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> "Rate | None":
        """`10/h` → Rate(10, 3600); empty, `0/...` or `off` → None (no limit)."""
        text = (text or "").strip().lower()
        if not text or text == "off":
            return None
        try:
            count, unit = text.split("/", 1)
            number = int(count)
            amount, letter = (unit[:-1] or "1"), unit[-1]
            seconds = int(amount) * _UNITS[letter]
        except (ValueError, KeyError, IndexError):
            raise ValueError(f"Rate limit {text!r} is not like 10/h") from None
        return cls(number, seconds) if number > 0 and seconds > 0 else None


@dataclass(frozen=True)
class Exceeded:
    """Which limit was hit and how long until its window ends."""

    name: str
    retry_after: int


def ip_bucket(address: str) -> str:
    """IPv6 clients get a whole /64 each from their provider, so they are counted per /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _key(name: str, identity: str, window: int) -> str:
    # Hashed: identities may hold addresses or reader input; cache keys must stay short and plain.
    digest = hashlib.sha256(identity.encode("utf-8", "replace")).hexdigest()[:32]
    return f"rl:{name}:{digest}:{window}"


def _bump(key: str, timeout: int) -> int:
    """Add-then-increment: both are atomic in Redis and in local memory, so no two hits are lost."""
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:
        # The window's key expired between add and incr: this hit starts the next one.
        cache.add(key, 1, timeout=timeout)
        return 1


def hit(checks: list[tuple[str, str, Rate | None]], *, now: float | None = None) -> Exceeded | None:
    """Count one attempt against every (name, identity, rate); the first limit over wins.

    Every counter is bumped, also after one is over, so a client that keeps trying stays
    limited for the whole window. If the cache is down the attempt is allowed and logged:
    readers keep paying, and Stripe's own limits and Radar still stand behind us.
    """
    if not settings.RATELIMIT_ENABLED:
        return None
    now = time.time() if now is None else now
    exceeded: Exceeded | None = None
    for name, identity, rate in checks:
        if rate is None:
            continue
        window = int(now // rate.seconds)
        try:
            count = _bump(_key(name, identity, window), rate.seconds + 1)
        except Exception:
            logger.exception("Rate limit %s could not be counted; allowing the attempt", name)
            continue
        if count > rate.count and exceeded is None:
            exceeded = Exceeded(name=name, retry_after=max(1, int((window + 1) * rate.seconds - now)))
    if exceeded is not None:
        logger.warning("Rate limit %s exceeded", exceeded.name)
    return exceeded


def already_over(checks: list[tuple[str, str, Rate | None]], *, now: float | None = None) -> Exceeded | None:
    """Whether a limit is used up already, without counting: one read, so a flood from one
    client is answered before any form or page work. hit() still counts what gets through."""
    if not settings.RATELIMIT_ENABLED:
        return None
    now = time.time() if now is None else now
    keys = {}
    for name, identity, rate in checks:
        if rate is not None:
            window = int(now // rate.seconds)
            keys[_key(name, identity, window)] = (name, rate, window)
    try:
        counts = cache.get_many(list(keys))
    except Exception:
        logger.exception("Rate limits could not be read; allowing the attempt")
        return None
    for key, (name, rate, window) in keys.items():
        if int(counts.get(key) or 0) >= rate.count:
            return Exceeded(name=name, retry_after=max(1, int((window + 1) * rate.seconds - now)))
    return None


def checkout_limits(*, ip: str, article_id: int, form_key: str) -> list[tuple[str, str, Rate | None]]:
    """The limits on starting a checkout, from settings (RATELIMIT_CHECKOUT_*)."""
    bucket = ip_bucket(ip)
    return [
        ("checkout-site", "site", Rate.parse(settings.RATELIMIT_CHECKOUT_SITE)),
        ("checkout-ip", bucket, Rate.parse(settings.RATELIMIT_CHECKOUT_IP)),
        ("checkout-ip-article", f"{bucket}|{article_id}", Rate.parse(settings.RATELIMIT_CHECKOUT_IP_ARTICLE)),
        ("checkout-form", form_key, Rate.parse(settings.RATELIMIT_CHECKOUT_FORM)),
    ]
