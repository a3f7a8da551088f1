"""Every call to Stripe goes through this module; nothing else imports `stripe`.

Functions return plain dicts (Stripe's JSON), so services and tests handle one shape
whether an object came from the API, a webhook, or the offline sandbox. Stripe errors
become `PaymentProviderError`, whose message is translated and safe to show a reader.
"""

import contextlib
import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import stripe
import urllib3
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from stripe.params.checkout import SessionCreateParams

logger = logging.getLogger(__name__)

# Tests replace this with a transport that answers like Stripe; the SDK's own code still runs.
HTTP_CLIENT: stripe.HTTPClient | None = None


class PaymentProviderError(Exception):
    """Stripe could not do what we asked; `user_message` is calm, translated and reveals nothing."""

    def __init__(self, user_message: str, *, retryable: bool, conflict: bool = False) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.retryable = retryable
        # Another request with the same idempotency key is (or was) at work: its records stay.
        self.conflict = conflict


class InvalidWebhook(Exception):
    """A webhook body that does not carry a valid Stripe signature, or is not an event."""


# urllib3 decodes what it asks for (gzip, deflate, and Brotli with the brotli package).
_ACCEPT_ENCODING = urllib3.make_headers(accept_encoding=True)


class Urllib3Transport(stripe.HTTPClient):
    """The SDK's HTTP transport on urllib3, the library `requests` is built on: one pool of kept-
    alive TLS connections to Stripe per process, safe to share between its threads. requests'
    own work on every call (merging the session's settings, cookies and hooks into the request)
    was a sixth of a paid webhook's CPU, through its fee lookup.

    Failures become the SDK's errors, as its own transports make them: the SDK tries a timeout
    or a lost connection again (STRIPE_MAX_NETWORK_RETRIES, with an idempotency key for a POST),
    never a certificate that does not verify, a proxy that cannot be used or anything
    unexpected. No redirects are followed: Stripe sends none. Answers may come compressed.
    """

    name = "urllib3"

    def __init__(self, *, base_url: str, timeout: float) -> None:
        super().__init__()
        options: dict[str, Any] = {
            "cert_reqs": "CERT_REQUIRED",
            "ca_certs": stripe.ca_bundle_path,
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "retries": False,
            "maxsize": 10,  # connections kept per host, as requests keeps: gthread workers share them
        }
        self._pool: urllib3.PoolManager | None = None
        self._proxy_error = ""
        proxy = _environment_proxy(base_url)
        if proxy is None:
            self._pool = urllib3.PoolManager(**options)
            return
        # Credentials in the proxy's address (http://user:password@proxy:3128) go in its own
        # header: urllib3 does not read them from the address, as requests did.
        credentials = urllib.parse.urlsplit(proxy)
        if credentials.username is not None:
            user_password = urllib.parse.unquote(f"{credentials.username}:{credentials.password or ''}")
            options["proxy_headers"] = urllib3.make_headers(proxy_basic_auth=user_password)
        try:
            self._pool = urllib3.ProxyManager(proxy, **options)
        except urllib3.exceptions.ProxySchemeUnknown as exc:
            # socks5:// and the like: every call fails as Stripe being unreachable, not the page.
            self._proxy_error = type(exc).__name__

    def request(
        self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        if self._pool is None:
            raise stripe.APIConnectionError(
                f"The proxy for Stripe cannot be used ({self._proxy_error})", should_retry=False
            )
        try:
            response = self._pool.request(
                method.upper(),
                url,
                headers={**_ACCEPT_ENCODING, **(headers or {})},
                body=post_data,
                redirect=False,
            )
        except urllib3.exceptions.SSLError as exc:
            raise stripe.APIConnectionError(
                f"Stripe's certificate could not be verified ({type(exc).__name__})", should_retry=False
            ) from exc
        except urllib3.exceptions.HTTPError as exc:
            raise stripe.APIConnectionError(
                f"Stripe could not be reached ({type(exc).__name__})", should_retry=True
            ) from exc
        except Exception as exc:  # a header urllib3 refuses, say: no use trying again
            raise stripe.APIConnectionError(
                f"Stripe could not be asked ({type(exc).__name__})", should_retry=False
            ) from exc
        return response.data, response.status, response.headers

    def close(self) -> None:
        if self._pool is not None:
            self._pool.clear()


def _environment_proxy(base_url: str) -> str | None:
    """The proxy the environment names for Stripe's address (HTTPS_PROXY or ALL_PROXY, unless
    NO_PROXY names the host), read once per client rather than on every call. An address
    without a scheme is an HTTP proxy, as requests read it."""
    parts = urllib.parse.urlsplit(base_url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and "://" not in proxy:
        proxy = f"http://{proxy}"
    return proxy or None


# The client of the last configuration asked for, with that configuration. One client per
# process keeps its HTTP connections to Stripe open between calls; a new client per call paid
# a new TCP and TLS handshake for every fee lookup.
# Settings or the transport changing (tests do both) make a new one.
_cached_client: tuple[tuple[Any, ...], stripe.StripeClient] | None = None


def _client() -> stripe.StripeClient:
    global _cached_client
    sandbox = HTTP_CLIENT is None and settings.STRIPE_SANDBOX and settings.DEBUG
    # The transport by identity: a test's transport is a dataclass, equal to any other empty one
    # (and unhashable). The cached client holds its transport, so that id is never reused.
    config = (
        sandbox,
        id(HTTP_CLIENT),
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE,
        settings.STRIPE_MAX_NETWORK_RETRIES,
        settings.STRIPE_TIMEOUT_SECONDS,
    )
    cached = _cached_client
    if cached is not None and cached[0] == config:
        return cached[1]
    if sandbox:
        # Offline sandbox: the SDK runs as usual, but a local transport answers from our database.
        from payments.sandbox import SANDBOX_KEY, SandboxTransport

        client = stripe.StripeClient(SANDBOX_KEY, http_client=SandboxTransport(), max_network_retries=0)
    else:
        client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE},
            http_client=HTTP_CLIENT
            or Urllib3Transport(base_url=settings.STRIPE_API_BASE, timeout=settings.STRIPE_TIMEOUT_SECONDS),
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        )
    # Two threads may both build one; either is fine, the last one stays.
    _cached_client = (config, client)
    return client


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """Stripe's errors as PaymentProviderError, logged without anything secret."""
    try:
        yield
    except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
        logger.warning("Stripe unavailable: %s", type(exc).__name__)
        raise _retryable() from exc
    except stripe.StripeError as exc:
        if isinstance(exc, stripe.IdempotencyError) or exc.http_status == 409:
            # A request with the same key is still running (409; the SDK already retried it), or
            # the key was used with other parameters (400). Either way another request owns it.
            logger.warning("Stripe idempotency conflict: HTTP %s", exc.http_status)
            raise _retryable(conflict=True) from exc
        # The message may name parameters but never carries our secret key.
        logger.error("Stripe request failed: %s %s", type(exc).__name__, getattr(exc, "code", ""))
        raise PaymentProviderError(
            _("The payment could not be started. Nothing was charged. Please try again later."),
            retryable=False,
        ) from exc


def _call(action, *args, **kwargs) -> dict[str, Any]:
    with _translated_errors():
        return action(*args, **kwargs).to_dict()


def _get(path: str, **params: Any) -> dict[str, Any]:
    """GET an object through the SDK (its retries, headers and errors), as the JSON Stripe sent.
    Building the SDK's objects and turning them back into dicts was a quarter of a paid
    webhook's fee lookup."""
    with _translated_errors():
        return _client().raw_request("get", path, **params).data


def _retryable(*, conflict: bool = False) -> PaymentProviderError:
    return PaymentProviderError(
        _("The payment service cannot be reached right now. Please try again in a moment."),
        retryable=True,
        conflict=conflict,
    )


def _quoted(object_id: str) -> str:
    # As the SDK puts an id in a path: an id from an event cannot reach another endpoint.
    return urllib.parse.quote_plus(object_id)


def checkout_session_create(params: SessionCreateParams, *, idempotency_key: str) -> dict[str, Any]:
    """Create a Checkout Session. The idempotency key makes a retried request return the same session."""
    return _call(
        _client().v1.checkout.sessions.create,
        params=params,
        options={"idempotency_key": idempotency_key},
    )


def checkout_session_retrieve(session_id: str, *, with_fees: bool = False) -> dict[str, Any]:
    """Look a session up; `with_fees` expands the charge's balance transaction (fee and net)."""
    params: dict[str, Any] = {}
    if with_fees:
        params["expand"] = ["payment_intent.latest_charge.balance_transaction"]
    return _get(f"/v1/checkout/sessions/{_quoted(session_id)}", **params)


def checkout_session_expire(session_id: str) -> dict[str, Any]:
    return _call(_client().v1.checkout.sessions.expire, session_id)


def payment_intent_retrieve_with_fees(payment_intent_id: str) -> dict[str, Any]:
    """The payment intent with its latest charge and that charge's balance transaction expanded."""
    return _get(
        f"/v1/payment_intents/{_quoted(payment_intent_id)}", expand=["latest_charge.balance_transaction"]
    )


def charge_retrieve(charge_id: str) -> dict[str, Any]:
    """A charge as Stripe knows it now: `amount_refunded` counts pending refunds and drops again
    when a refund fails or is cancelled, which no single refund event tells us."""
    return _get(f"/v1/charges/{_quoted(charge_id)}")


def events_list(*, created_gte: int, types: list[str] | None = None) -> list[dict[str, Any]]:
    """Every event created since `created_gte` (unix time), oldest first, following pagination."""
    params: dict[str, Any] = {"created": {"gte": created_gte}, "limit": 100}
    if types:
        params["types"] = types
    events: list[dict[str, Any]] = []
    while True:
        page = _get("/v1/events", **params)
        events.extend(page["data"])
        if not page.get("has_more") or not page["data"]:
            break
        params["starting_after"] = page["data"][-1]["id"]
    return sorted(events, key=lambda event: (event["created"], event["id"]))


def webhook_event_verify(payload: bytes, signature_header: str | None) -> dict[str, Any]:
    """Check the Stripe-Signature header against every configured secret; return the event as a dict.

    Accepting any of several secrets lets an endpoint secret be rotated without lost deliveries.
    """
    if not signature_header or not settings.STRIPE_WEBHOOK_SECRETS:
        raise InvalidWebhook("missing signature or secret")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidWebhook("body is not UTF-8") from None
    for secret in settings.STRIPE_WEBHOOK_SECRETS:
        try:
            stripe.WebhookSignature.verify_header(
                text, signature_header, secret, stripe.Webhook.DEFAULT_TOLERANCE
            )
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise InvalidWebhook("signature does not match")
    try:
        event = json.loads(text)
    except ValueError:
        raise InvalidWebhook("body is not JSON") from None
    if not isinstance(event, dict) or event.get("object") != "event" or not event.get("id"):
        raise InvalidWebhook("body is not an event")
    return event


def key_is_live() -> bool:
    """Whether the configured secret key is a live one; events of the other mode are ignored."""
    return settings.STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))
