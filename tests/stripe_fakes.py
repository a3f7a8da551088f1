"""Test doubles at Stripe's HTTP transport and webhook signing, so the SDK's own code runs.

`StripeTransport` answers the SDK's HTTP requests from routes the test registers and
records every request (method, path, form-decoded params, headers). `signed_webhook`
signs a payload exactly as Stripe does (t=<unix>,v1=HMAC-SHA256(secret, "t.payload")).
"""

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe

Handler = Callable[["StripeRequest"], tuple[int, dict[str, Any]]]


@dataclass
class StripeRequest:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    match: re.Match | None = None


@dataclass
class StripeTransport(stripe.HTTPClient):
    name = "test-transport"
    requests: list[StripeRequest] = field(default_factory=list)
    routes: list[tuple[str, re.Pattern, Handler]] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def on(self, method: str, path_regex: str, handler: Handler | dict[str, Any], status: int = 200) -> None:
        """Answer `method path` (a regex matched in full) with a body, or with handler(request)."""
        if isinstance(handler, dict):
            body = handler
            handler = lambda request: (status, body)  # noqa: E731
        self.routes.insert(0, (method.upper(), re.compile(path_regex), handler))

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        raw = post_data if method.lower() == "post" else parts.query
        if isinstance(raw, bytes):
            raw = raw.decode()
        request = StripeRequest(
            method=method.upper(),
            path=parts.path,
            params=dict(parse_qsl(raw or "", keep_blank_values=True)),
            headers=dict(headers or {}),
        )
        self.requests.append(request)
        for route_method, pattern, handler in self.routes:
            match = pattern.fullmatch(parts.path)
            if route_method == request.method and match:
                request.match = match
                status, body = handler(request)
                return json.dumps(body), status, {"request-id": "req_test"}
        error = {"error": {"type": "invalid_request_error", "message": f"No such route {parts.path}"}}
        return json.dumps(error), 404, {"request-id": "req_test"}

    def close(self) -> None:
        pass


def signed_webhook(
    payload: dict[str, Any] | str, secret: str, *, timestamp: int | None = None
) -> tuple[str, str]:
    """The body and the Stripe-Signature header for it, signed with the SDK's own scheme."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    header = stripe.WebhookSignature.generate_signature_header(
        body, secret, timestamp=timestamp if timestamp is not None else int(time.time())
    )
    return body, header


def checkout_session_created(request: StripeRequest, session_id: str) -> dict[str, Any]:
    """The open session Stripe answers to POST /v1/checkout/sessions, built from what was sent."""
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": int(request.params["line_items[0][price_data][unit_amount]"]),
        "currency": request.params["line_items[0][price_data][currency]"],
        "client_reference_id": request.params["client_reference_id"],
        "client_secret": f"{session_id}_secret_x",
        "livemode": False,
        "mode": "payment",
        "payment_status": "unpaid",
        "status": "open",
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
    }
