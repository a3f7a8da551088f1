"""One Stripe client per process configuration: fee lookups reuse it, and its HTTP connection.

A webhook looks the fee up at Stripe for every paid checkout; a new client per call meant a new
HTTP session, so a new TCP (and, at Stripe, TLS) handshake per event.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from payments import stripe_api
from tests.stripe_fakes import StripeTransport

PAYMENT_INTENT = {"id": "pi_reuse", "object": "payment_intent", "amount": 500, "currency": "eur"}


def test_two_fee_lookups_go_through_one_client(stripe_transport):
    stripe_transport.on("GET", r"/v1/payment_intents/pi_reuse", PAYMENT_INTENT)

    first = stripe_api._client()
    assert stripe_api.payment_intent_retrieve_with_fees("pi_reuse")["id"] == "pi_reuse"
    assert stripe_api.payment_intent_retrieve_with_fees("pi_reuse")["id"] == "pi_reuse"

    assert stripe_api._client() is first
    assert [request.path for request in stripe_transport.requests] == ["/v1/payment_intents/pi_reuse"] * 2


def test_reads_return_stripe_s_json_and_keep_an_id_in_its_path_segment(stripe_transport):
    stripe_transport.on("GET", r"/v1/charges/.*", {"id": "ch_1", "object": "charge", "refunds": {"data": []}})

    found = stripe_api.charge_retrieve("ch_1/../../v1/customers?limit=1")

    # Plain JSON, as from a webhook: not the SDK's objects.
    assert not any(isinstance(value, stripe.StripeObject) for value in (found, found["refunds"]))
    assert found == {"id": "ch_1", "object": "charge", "refunds": {"data": []}}
    [request] = stripe_transport.requests
    assert request.path == "/v1/charges/ch_1%2F..%2F..%2Fv1%2Fcustomers%3Flimit%3D1"


def test_another_transport_or_key_gets_a_client_of_its_own(stripe_transport, settings, monkeypatch):
    stripe_transport.on("GET", r"/v1/payment_intents/pi_reuse", PAYMENT_INTENT)
    stripe_api.payment_intent_retrieve_with_fees("pi_reuse")

    # An equal (empty) transport is still another one: the client must not keep the old.
    other = StripeTransport()
    other.on("GET", r"/v1/payment_intents/pi_reuse", PAYMENT_INTENT)
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", other)
    stripe_api.payment_intent_retrieve_with_fees("pi_reuse")
    assert (len(stripe_transport.requests), len(other.requests)) == (1, 1)

    settings.STRIPE_SECRET_KEY = "sk_test_rotated"
    stripe_api.payment_intent_retrieve_with_fees("pi_reuse")
    assert other.requests[-1].headers["Authorization"] == "Bearer sk_test_rotated"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Stripe's API
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def do_GET(self) -> None:
        time.sleep(self.server.delay)
        self.server.paths.append(self.path.split("?")[0])
        body = json.dumps(PAYMENT_INTENT).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def local_api(settings, monkeypatch):
    """A Stripe-like API on 127.0.0.1 reached through the SDK's real HTTP client (requests)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.connections = 0
    server.paths = []
    server.delay = 0
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.STRIPE_SECRET_KEY = "sk_test_waardeer"
    settings.STRIPE_SANDBOX = False
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", None)
    yield server
    server.shutdown()
    server.server_close()


def test_two_fee_lookups_share_one_connection(local_api):
    for _ in range(2):
        assert stripe_api.payment_intent_retrieve_with_fees("pi_reuse")["id"] == "pi_reuse"

    assert local_api.connections == 1


def test_the_environments_proxy_is_still_used(local_api, settings, monkeypatch):
    # The proxy settings are read once per client; a request for another host reaches the proxy.
    settings.STRIPE_API_BASE = "http://api.stripe.invalid"
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{local_api.server_address[1]}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    assert stripe_api.payment_intent_retrieve_with_fees("pi_reuse")["id"] == "pi_reuse"
    assert local_api.paths == ["http://api.stripe.invalid/v1/payment_intents/pi_reuse"]


def test_a_stripe_request_that_hangs_gives_up_after_the_timeout(local_api, settings):
    # The SDK would wait 80 s, longer than gunicorn lets a worker live: it must give up first.
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    local_api.delay = 3
    started = time.monotonic()
    with pytest.raises(stripe_api.PaymentProviderError) as raised:
        stripe_api.payment_intent_retrieve_with_fees("pi_reuse")
    assert raised.value.retryable
    assert time.monotonic() - started < 2
