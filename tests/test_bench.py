"""The benchmark's instruments: the fill (tiny volume, PostgreSQL), the local nginx config, wrk parsing,
and webhook signatures that the app's own verification accepts."""

import json
import shutil
import tempfile
import threading
import time
import urllib.request
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.models import Count, F, Max, Min
from django.utils import timezone

from bench import fill, run
from payments import stripe_api
from payments.models import Appreciation


@pytest.mark.django_db
@pytest.mark.postgres
def test_fill_inserts_the_volume_with_a_realistic_mix():
    if connection.vendor != "postgresql":
        pytest.skip("the fill uses PostgreSQL's COPY; set DATABASE_URL=postgres://... to run it")
    volume = fill.Volume(authors=3, articles=60, appreciations=3000)

    counts = fill.fill_database(volume, seed=1, log=lambda *args: None)

    assert counts == {"authors": 3, "articles": 60, "appreciations": 3000}
    assert fill.volume_present(volume)
    by_status = dict(Appreciation.objects.values_list("status").annotate(n=Count("id")))
    assert by_status["paid"] > 0.8 * 3000
    assert {"pending", "expired", "failed"} <= set(by_status)
    paid = Appreciation.objects.paid()
    assert paid.filter(refunded_amount=F("amount")).exists()
    assert paid.filter(refunded_amount__gt=0, refunded_amount__lt=F("amount")).exists()
    assert paid.exclude(dispute_status="").exists()
    assert not paid.filter(fee_amount__isnull=True).exists()
    assert not paid.exclude(net_amount=F("amount") - F("fee_amount")).exists()
    assert not Appreciation.objects.exclude(status="paid").filter(paid_at__isnull=False).exists()
    span = paid.aggregate(first=Min("paid_at"), last=Max("paid_at"))
    assert span["last"] - span["first"] > timedelta(days=365)
    # Every appreciation belongs to a published article of its own author.
    assert not Appreciation.objects.exclude(author=F("article__author")).exists()
    assert not Appreciation.objects.exclude(article__status="published").exists()


@pytest.mark.django_db
@pytest.mark.postgres
def test_refill_replaces_instead_of_adding():
    if connection.vendor != "postgresql":
        pytest.skip("the fill uses PostgreSQL's COPY; set DATABASE_URL=postgres://... to run it")
    volume = fill.Volume(authors=2, articles=10, appreciations=200)
    fill.fill_database(volume, seed=2, log=lambda *args: None)

    fill.fill_database(volume, seed=2, refill=True, log=lambda *args: None)

    assert Appreciation.objects.count() == 200


@pytest.mark.django_db
def test_the_fill_stores_each_articles_supporters_as_its_page_would():
    from articles import selectors as pages
    from payments import selectors, services, widget
    from tests.factories import AppreciationFactory, ArticleFactory

    articles = [ArticleFactory() for _ in range(3)]
    AppreciationFactory(article=articles[0], status="paid", paid_at=timezone.now(), is_public=True)
    AppreciationFactory(article=articles[1], status="pending")

    assert fill.store_supporters() == 3
    assert fill.store_supporters() == 0  # only what is missing or stale
    services.supporters_stale(article_ids=[articles[0].pk])
    assert fill.store_supporters() == 1
    for article in articles:
        stored = pages.published_article(article.slug).stored_supporters
        assert stored.current() == selectors.article_supporters(article_id=article.pk)
        assert widget._supporters(pages.published_article(article.slug)) == stored.current()


def test_copy_text_escapes_what_would_break_a_row():
    assert fill._text("a\tb\nc\\d") == "a\\tb\\nc\\\\d"
    assert fill._text(None) == r"\N"
    assert fill._text(True) == "t"


def _local_config(tmp_path, template: str | None = None) -> str:
    static, media = tmp_path / "static", tmp_path / "media"
    static.mkdir(exist_ok=True)
    media.mkdir(exist_ok=True)
    return run.nginx_local_config(
        template if template is not None else run.NGINX_TEMPLATE.read_text(),
        port=18080,
        upstream_port=18001,
        static_root=static,
        media_root=media,
        work_dir=tmp_path,
    )


def test_local_nginx_config_listens_on_loopback_only(tmp_path):
    config = _local_config(tmp_path)

    listens = [line.strip() for line in config.splitlines() if line.strip().startswith("listen")]
    assert listens == ["listen 127.0.0.1:18080;"]
    assert "server 127.0.0.1:18001;" in config
    assert f"alias {tmp_path}/static/;" in config


def test_local_nginx_config_stops_when_the_shipped_file_drifted(tmp_path):
    drifted = run.NGINX_TEMPLATE.read_text().replace("listen 80;", "listen 8080;")

    with pytest.raises(ValueError, match="listen 80"):
        _local_config(tmp_path, drifted)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx)")
def test_shipped_nginx_config_passes_nginx_t(tmp_path):
    config_path = tmp_path / "nginx.conf"
    config_path.write_text(_local_config(tmp_path))

    result = run.nginx_check(config_path, tmp_path)

    assert result.returncode == 0, result.stderr


def test_wrk_output_gives_rate_and_percentiles():
    output = """Running 10s test @ http://127.0.0.1:8080/
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   412.00us  1.20ms  30.10ms   98.00%
    Req/Sec    41.50k     2.10k   45.00k    80.00%
  Latency Distribution
     50%  350.00us
     75%  420.00us
     90%  610.00us
     99%    1.52ms
  826000 requests in 10.00s, 12.40GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  82600.12
Transfer/sec:      1.24GB
"""
    load = run.parse_wrk(output)

    assert load.rps == pytest.approx(82600.12)
    assert load.p50_ms == pytest.approx(0.35)
    assert load.p99_ms == pytest.approx(1.52)
    assert load.requests == 826000
    assert load.bad == 7


def test_bench_webhook_signature_is_accepted_by_the_app(settings):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_other", run.WEBHOOK_SECRET]
    body = '{"id": "evt_bench_1", "object": "event", "type": "checkout.session.completed"}'
    header = run.stripe_signature(body, run.WEBHOOK_SECRET, int(time.time()))

    event = stripe_api.webhook_event_verify(body.encode(), header)

    assert event["id"] == "evt_bench_1"
    forged = run.stripe_signature(body, "whsec_wrong", int(time.time()))
    with pytest.raises(stripe_api.InvalidWebhook):
        stripe_api.webhook_event_verify(body.encode(), forged)


@pytest.mark.django_db
def test_profile_shows_where_an_article_page_spends_its_time(client):
    from tests.factories import ArticleFactory

    # Six articles: three rendered for the timing, three others for the profile (none cached yet).
    paths = [ArticleFactory().get_absolute_url() for _ in range(6)]

    profile = run.profile_requests("article", client.get, paths[:3], measured=paths[3:])

    assert profile.cpu_ms > 0 and profile.wall_ms > 0
    assert sum(profile.parts.values()) == pytest.approx(1.0)
    # Built-in functions count for their callers, so every share belongs to a named part.
    assert set(profile.parts) <= set(run._PARTS.values()) | {
        "our code (articles, payments, ...)",
        "Python's standard library",
        "other libraries",
    }
    templates = run._PARTS["jinja2"]
    assert profile.parts[templates] > 0.02
    assert profile.parts["database driver, and waiting for PostgreSQL"] > 0.02
    assert len(profile.top) == 12
    assert templates in profile.text()


@pytest.fixture
def readable_dir():
    """A directory nginx's workers (nobody) can read, as the bench's work dir is."""
    path = Path(tempfile.mkdtemp(prefix="waardeer-bench-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx)")
def test_fake_stripe_answers_known_payment_intents_and_404s_the_rest(readable_dir):
    root = readable_dir / "stripe"
    intent = run.fake_payment_intent("pi_bench_1", 500, "c5e0b6f4-9d7e-4b8e-9d1e-1a2b3c4d5e6f")
    run.fake_stripe_file(root, intent)
    port = run.free_port()
    config = readable_dir / "fake-stripe.conf"
    config.write_text(run.fake_stripe_config(port=port, root=root, work_dir=readable_dir))
    process = run.nginx_start(config, readable_dir)
    try:
        run.wait_for(port, "/", seconds=10, process=process)
        url = f"http://127.0.0.1:{port}/v1/payment_intents/"
        with urllib.request.urlopen(url + "pi_bench_1?expand[0]=latest_charge.balance_transaction") as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "application/json"
            assert json.load(answer) == intent
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(url + "pi_unknown")
        assert missing.value.code == 404
        assert json.load(missing.value)["error"]["type"] == "invalid_request_error"
    finally:
        run.stop(process)


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # closes after each answer, as gunicorn's sync workers do
    posts: list[tuple[str, str]] = []
    lock = threading.Lock()

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        with self.lock:
            self.posts.append((self.headers["Stripe-Signature"], body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_webhook_deliveries_are_each_posted_once_signed(readable_dir, settings):
    settings.STRIPE_WEBHOOK_SECRETS = [run.WEBHOOK_SECRET]
    _Recorder.posts = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    deliveries = [
        json.dumps({"id": f"evt_{i}", "object": "event", "n": "tab\tand \u00e9"}) for i in range(41)
    ]
    bench = SimpleNamespace(
        work_dir=readable_dir,
        gunicorn_port=server.server_address[1],
        args=SimpleNamespace(webhook_connections=4),
    )
    try:
        not_ok = run.Bench._deliver(bench, deliveries)
    finally:
        server.shutdown()
        server.server_close()

    assert not_ok == 0
    bodies = [body for _signature, body in _Recorder.posts]
    assert set(bodies) == set(deliveries)
    # Each once; at the end a free connection may redeliver its thread's first event meanwhile.
    extra = [body for body in set(bodies) if bodies.count(body) > 1]
    assert set(extra) <= {deliveries[0], deliveries[1]}
    assert len(bodies) - len(deliveries) <= 4
    for signature, body in _Recorder.posts:
        assert stripe_api.webhook_event_verify(body.encode(), signature)["id"] == json.loads(body)["id"]
