"""Checkout rate limits: per IP, per IP and article, per form and site-wide, in the cache."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from payments import ratelimit
from payments.models import Appreciation
from payments.ratelimit import Rate
from payments.security import client_ip
from tests.factories import ArticleFactory
from tests.security.helpers import answer_session_create, appreciate_url, form_data, session_creations

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
REDIS_TEST_URL = "redis://127.0.0.1:6379/14"


@pytest.fixture(autouse=True)
def _defaults(settings):
    settings.RATELIMIT_ENABLED = True
    settings.RATELIMIT_CHECKOUT_IP = "10/h"
    settings.RATELIMIT_CHECKOUT_IP_ARTICLE = "5/h"
    settings.RATELIMIT_CHECKOUT_FORM = "5/h"
    settings.RATELIMIT_CHECKOUT_SITE = ""
    cache.clear()


@pytest.fixture
def stripe(stripe_transport):
    answer_session_create(stripe_transport)
    return stripe_transport


def post(client, article, ip="203.0.113.7", **fields):
    return client.post(appreciate_url(article), form_data(**fields), REMOTE_ADDR=ip)


def test_ten_checkouts_an_hour_per_ip_then_a_translated_429_with_retry_after(client, stripe):
    articles = [ArticleFactory() for _ in range(3)]
    statuses = [post(client, articles[i % 3]).status_code for i in range(10)]
    assert statuses == [303] * 10
    limited = client.post(appreciate_url(articles[0], "/en"), form_data(), REMOTE_ADDR="203.0.113.7")
    assert limited.status_code == 429
    assert 0 < int(limited["Retry-After"]) <= 3600
    html = limited.content.decode()
    assert "Too many payment attempts came from your connection" in html
    assert 'role="alert"' in html and f'href="/en/artikel/{articles[0].slug}/#waardeer"' in html
    assert session_creations(stripe) == 10 and Appreciation.objects.count() == 10
    dutch = post(client, articles[0])
    assert dutch.status_code == 429 and '<html lang="nl">' in dutch.content.decode()
    assert "Too many payment attempts" not in dutch.content.decode()  # translated
    # Another reader is not affected.
    assert post(client, articles[0], ip="198.51.100.1").status_code == 303


def test_five_an_hour_per_ip_on_one_article(client, stripe):
    article, other = ArticleFactory(), ArticleFactory()
    assert [post(client, article).status_code for _ in range(6)] == [303] * 5 + [429]
    assert post(client, other).status_code == 303
    assert session_creations(stripe) == 6


def test_one_form_is_limited_even_across_articles(client, stripe, settings):
    settings.RATELIMIT_CHECKOUT_FORM = "2/h"
    a, b, c = ArticleFactory(), ArticleFactory(), ArticleFactory()
    nonce = uuid.uuid4().hex
    assert [post(client, x, nonce=nonce).status_code for x in (a, b, c)] == [303, 303, 429]


def test_site_wide_burst_limit_when_configured(client, stripe, settings):
    settings.RATELIMIT_CHECKOUT_SITE = "3/m"
    article = ArticleFactory()
    statuses = [post(client, article, ip=f"192.0.2.{i}").status_code for i in range(1, 5)]
    assert statuses == [303, 303, 303, 429]


def test_invalid_forms_do_not_use_up_the_limit(client, stripe):
    article = ArticleFactory()
    for _ in range(20):
        assert post(client, article, preset="", amount="0,01").status_code == 400
    assert post(client, article).status_code == 303


def test_limits_can_be_switched_off(client, stripe, settings):
    settings.RATELIMIT_ENABLED = False
    article = ArticleFactory()
    assert all(post(client, article).status_code == 303 for _ in range(12))


def test_readers_of_one_cached_page_share_its_nonce_but_not_their_records(client, stripe):
    """A cached article gives every reader the same nonce (even the script's, if two readers
    collided); the view ties it to the client, so readers never share a record or a limit."""
    article = ArticleFactory()
    nonce = uuid.uuid4().hex
    same = {"nonce": nonce, "client_nonce": nonce}
    first = post(client, article, ip="198.51.100.1", display_name="Anna", **same)
    second = post(client, article, ip="198.51.100.2", display_name="Bram", **same)
    assert first["Location"] != second["Location"]
    assert sorted(Appreciation.objects.values_list("display_name", flat=True)) == ["Anna", "Bram"]
    # The same reader pressing twice still gets one record and one session.
    again = post(client, article, ip="198.51.100.1", display_name="Anna", **same)
    assert again["Location"] == first["Location"] and Appreciation.objects.count() == 2


def test_the_window_resets():
    rate = Rate(2, 60)
    checks = [("test", "who", rate)]
    assert [ratelimit.hit(checks, now=1000.0) for _ in range(2)] == [None, None]
    over = ratelimit.hit(checks, now=1010.0)
    assert over.name == "test" and over.retry_after == 1020 - 1010
    assert ratelimit.hit(checks, now=1021.0) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10/h", Rate(10, 3600)), ("30/m", Rate(30, 60)), ("5/10m", Rate(5, 600)), ("", None), ("0/h", None)],
)
def test_rates_are_read_from_settings_text(text, expected):
    assert Rate.parse(text) == expected


def test_a_malformed_rate_stops_the_site_from_starting():
    env = {**os.environ, "DEBUG": "1", "RATELIMIT_CHECKOUT_IP": "ten an hour"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0 and "RATELIMIT_CHECKOUT_" in result.stderr


def request_from(remote="10.0.0.2", forwarded=None):
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    return RequestFactory().post("/", REMOTE_ADDR=remote, headers=headers)


def test_x_forwarded_for_is_ignored_unless_trusted(settings):
    settings.TRUST_X_FORWARDED_FOR = False
    assert client_ip(request_from(forwarded="1.2.3.4")) == "10.0.0.2"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.9", "198.51.100.9"),  # what deploy/nginx.conf sends: the client only
        ("6.6.6.6, 198.51.100.9", "198.51.100.9"),  # a value the client prepended never wins
        ("198.51.100.9, 10.0.0.5", "198.51.100.9"),  # a trusted proxy hop is skipped
        ("not-an-ip", "10.0.0.2"),
        ("", "10.0.0.2"),
        ("2001:db8::1", "2001:db8::1"),
    ],
)
def test_behind_the_proxy_the_first_untrusted_hop_from_the_right(settings, forwarded, expected):
    settings.TRUST_X_FORWARDED_FOR = True
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    assert client_ip(request_from(forwarded=forwarded)) == expected


def test_forged_forwarded_for_does_not_escape_the_limit(client, stripe, settings):
    article = ArticleFactory()
    for i in range(10):
        assert post(
            client, article if i < 5 else ArticleFactory(), HTTP_X_FORWARDED_FOR=f"1.1.1.{i}"
        ).status_code
    response = client.post(
        appreciate_url(article), form_data(), REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="9.9.9.9"
    )
    assert response.status_code == 429


def test_ipv6_clients_are_counted_per_64():
    assert ratelimit.ip_bucket("2001:db8:1:2:aaaa::1") == ratelimit.ip_bucket("2001:db8:1:2:bbbb::9")
    assert ratelimit.ip_bucket("2001:db8:1:3::1") != ratelimit.ip_bucket("2001:db8:1:2::1")
    assert ratelimit.ip_bucket("::ffff:192.0.2.1") == "192.0.2.1"
    assert ratelimit.ip_bucket("") == "unknown"


def test_a_broken_cache_lets_readers_pay_instead_of_failing(client, stripe, settings):
    settings.CACHES = {
        "default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    response = post(client, ArticleFactory())
    assert response.status_code == 303 and session_creations(stripe) == 1


def _redis_available() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def redis_cache(settings):
    if not _redis_available():
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    prefix = f"sectest-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield prefix
    cache.delete_pattern("*")


def test_limits_hold_in_redis_across_processes(client, stripe, redis_cache):
    article = ArticleFactory()
    assert [post(client, article).status_code for _ in range(4)] == [303] * 4
    # Another process (another gunicorn worker) counts in the same Redis window.
    script = (
        "import django; django.setup();"
        "from payments import ratelimit;"
        f"print(ratelimit.hit(ratelimit.checkout_limits(ip='203.0.113.7', article_id={article.pk}, "
        "form_key='other-process')))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "journalism.settings",
        "DEBUG": "1",
        "REDIS_URL": REDIS_TEST_URL,
        "CACHE_KEY_PREFIX": redis_cache,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("None")  # the fifth attempt on this article: still allowed
    assert post(client, article).status_code == 429  # the sixth, here, is over 5/h per IP and article
    assert session_creations(stripe) == 4
