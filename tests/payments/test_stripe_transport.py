"""The production transport under the Stripe SDK (payments.stripe_api.Urllib3Transport), against
a real HTTP server on 127.0.0.1: what reaches Stripe, kept-alive connections, and failures
becoming the retryable or final errors the SDK and our callers expect."""

import base64
import gzip
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from payments import stripe_api

PAYMENT_INTENT = {
    "id": "pi_transport",
    "object": "payment_intent",
    "amount": 500,
    "currency": "eur",
    "latest_charge": {
        "id": "ch_transport",
        "object": "charge",
        "balance_transaction": {
            "id": "txn_transport",
            "object": "balance_transaction",
            "fee": 33,
            "net": 467,
        },
    },
}


class FakeStripe(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[dict] = []
        self.connections = 0
        self.delay = 0.0  # seconds before answering: longer than the timeout is a timeout

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def get_request(self):
        accepted = super().get_request()
        self.connections += 1
        return accepted


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Stripe's API

    def do_GET(self) -> None:
        # The headers as received, looked up without regard to case.
        self.server.requests.append({"path": self.path, "headers": self.headers})
        if self.server.delay:
            time.sleep(self.server.delay)
        body = json.dumps(PAYMENT_INTENT).encode()
        self.send_response(200)
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body)
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Request-Id", "req_transport")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def fake_stripe():
    server = FakeStripe()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def production_transport(settings, monkeypatch, fake_stripe):
    """Real keys, no intercepted transport: the client stripe_api builds for production."""
    settings.STRIPE_SECRET_KEY = "sk_test_transport"
    settings.STRIPE_SANDBOX = False
    settings.STRIPE_API_BASE = fake_stripe.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 2
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", None)
    monkeypatch.setattr(stripe_api, "_cached_client", None)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return fake_stripe


def test_the_fee_lookup_reaches_stripe_with_the_sdk_s_request(production_transport):
    found = stripe_api.payment_intent_retrieve_with_fees("pi_transport")

    assert found == PAYMENT_INTENT
    [request] = production_transport.requests
    expand = "expand%5B0%5D=latest_charge.balance_transaction"
    assert request["path"] == f"/v1/payment_intents/pi_transport?{expand}"
    assert request["headers"]["Authorization"] == "Bearer sk_test_transport"
    assert request["headers"]["Stripe-Version"] == stripe.api_version
    assert "urllib3" in request["headers"]["X-Stripe-Client-User-Agent"]
    assert "gzip" in request["headers"]["Accept-Encoding"]  # and the compressed answer was read


def test_calls_share_one_kept_alive_connection(production_transport):
    for _ in range(3):
        stripe_api.payment_intent_retrieve_with_fees("pi_transport")

    assert len(production_transport.requests) == 3
    assert production_transport.connections == 1


def test_a_timeout_is_retried_by_the_sdk_and_then_retryable_for_us(settings, production_transport):
    settings.STRIPE_TIMEOUT_SECONDS = 0.2
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    production_transport.delay = 0.5

    with pytest.raises(stripe_api.PaymentProviderError) as raised:
        stripe_api.payment_intent_retrieve_with_fees("pi_transport")

    assert raised.value.retryable
    assert len(production_transport.requests) == 2  # the SDK tried once more


def test_a_refused_connection_is_retryable(settings, production_transport):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.STRIPE_API_BASE = f"http://127.0.0.1:{port}"

    with pytest.raises(stripe_api.PaymentProviderError) as raised:
        stripe_api.payment_intent_retrieve_with_fees("pi_transport")

    assert raised.value.retryable


def test_a_failed_tls_handshake_is_never_retried(production_transport):
    # An https:// address served by plain HTTP: the handshake fails as a bad certificate does.
    transport = stripe_api.Urllib3Transport(base_url="https://127.0.0.1", timeout=2)
    port = production_transport.server_address[1]

    with pytest.raises(stripe.APIConnectionError) as raised:
        transport.request("get", f"https://127.0.0.1:{port}/v1/payment_intents/pi_transport", {})

    assert raised.value.should_retry is False


def _through_proxy() -> int:
    """A call to Stripe's API through whatever proxy the environment names; its status."""
    transport = stripe_api.Urllib3Transport(base_url="http://api.stripe.invalid", timeout=2)
    body, status, _headers = transport.request("get", "http://api.stripe.invalid/v1/payment_intents/pi_x", {})
    assert json.loads(body)["id"] == "pi_transport"
    return status


def test_the_environment_s_proxy_is_used_unless_stripe_is_excluded(monkeypatch, production_transport):
    # The fake answers as the proxy: a request through a proxy names the whole address.
    monkeypatch.setenv("HTTP_PROXY", production_transport.url)

    status = _through_proxy()

    assert status == 200
    assert production_transport.requests[-1]["path"] == "http://api.stripe.invalid/v1/payment_intents/pi_x"
    monkeypatch.setenv("NO_PROXY", "api.stripe.invalid")
    assert stripe_api._environment_proxy("http://api.stripe.invalid") is None


def test_a_proxy_s_credentials_scheme_and_all_proxy_are_read_as_requests_read_them(
    monkeypatch, production_transport
):
    port = production_transport.server_address[1]
    # ALL_PROXY, without a scheme (an HTTP proxy), with a user name and password.
    monkeypatch.setenv("ALL_PROXY", f"reader:s%40cret@127.0.0.1:{port}")

    assert _through_proxy() == 200

    headers = production_transport.requests[-1]["headers"]
    assert headers["Proxy-Authorization"] == "Basic " + base64.b64encode(b"reader:s@cret").decode()


def test_a_proxy_that_cannot_be_used_fails_the_call_not_the_page(settings, monkeypatch, production_transport):
    settings.STRIPE_API_BASE = "http://api.stripe.invalid"
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    monkeypatch.setenv("HTTP_PROXY", "socks5://127.0.0.1:1080")

    with pytest.raises(stripe_api.PaymentProviderError):
        stripe_api.payment_intent_retrieve_with_fees("pi_transport")
    transport = stripe_api.Urllib3Transport(base_url=settings.STRIPE_API_BASE, timeout=2)
    with pytest.raises(stripe.APIConnectionError) as raised:
        transport.request("get", "http://api.stripe.invalid/v1/payment_intents/pi_x", {})
    assert raised.value.should_retry is False
