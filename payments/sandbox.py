"""The offline sandbox: Stripe's API answered locally, and Stripe-shaped events on the tester's choice.

With DEBUG on and no Stripe key (settings.STRIPE_SANDBOX), payments.stripe_api hands the SDK
this transport instead of the network, so the real code path, SDK included, runs. Its state
is our own Appreciation rows (no process memory): ids are derived from the public id, and
a session's status follows the record's. The tester's choice on the sandbox checkout page
becomes the events Stripe would send, fed through payments.services.stripe_event_handle,
the same function the webhook uses. Never active in production (see payments.checks).
"""

import hashlib
import json
import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from payments.models import Appreciation

API_VERSION = "2026-10-28.endive"
SANDBOX_KEY = "sk_test_offline_sandbox"

_SESSION_PREFIX = "cs_test_sandbox_"
_INTENT_PREFIX = "pi_sandbox_"
_CHARGE_PREFIX = "ch_sandbox_"

# Tester choices on the sandbox page.
PAID, DECLINED, PAID_LATER, ABANDONED = "paid", "declined", "paid_later", "abandoned"
ASYNC_SUCCEEDED, ASYNC_FAILED = "async_succeeded", "async_failed"


def sandbox_active() -> bool:
    """Both flags, so a stray STRIPE_SANDBOX in production still cannot turn it on."""
    return bool(settings.STRIPE_SANDBOX and settings.DEBUG)


def session_id_for(appreciation: Appreciation) -> str:
    return f"{_SESSION_PREFIX}{appreciation.public_id.hex}"


def payment_intent_id_for(appreciation: Appreciation) -> str:
    return f"{_INTENT_PREFIX}{appreciation.public_id.hex}"


def _public_id_from(object_id: str, prefix: str) -> uuid.UUID | None:
    if not object_id.startswith(prefix):
        return None
    try:
        return uuid.UUID(hex=object_id[len(prefix) :])
    except ValueError:
        return None


def appreciation_for_session(session_id: str) -> Appreciation | None:
    public_id = _public_id_from(session_id, _SESSION_PREFIX)
    if public_id is None:
        return None
    return Appreciation.objects.select_related("article").filter(public_id=public_id).first()


def checkout_page_url(appreciation: Appreciation) -> str:
    with translation.override(appreciation.locale):
        path = reverse("payments:sandbox-checkout", kwargs={"session_id": session_id_for(appreciation)})
    return f"{settings.SITE_URL}{path}"


def fee_estimate(amount: int) -> int:
    """What the sandbox 'charges' as Stripe's fee: the configured estimate, rounded up."""
    percent = -(-amount * settings.APPRECIATION_FEE_PERCENT_BP // 10_000)
    return min(amount, percent + settings.APPRECIATION_FEE_FIXED)


# --- Stripe-shaped objects built from our record -------------------------------------------------


def session_object(appreciation: Appreciation, *, status: str, payment_status: str) -> dict[str, Any]:
    from payments import checkout

    metadata = {"appreciation_id": str(appreciation.public_id), "article_id": str(appreciation.article_id)}
    completed = status == "complete"
    session_id = session_id_for(appreciation)
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_subtotal": appreciation.amount,
        "amount_total": appreciation.amount,
        "currency": appreciation.currency.lower(),
        "client_reference_id": str(appreciation.public_id),
        "client_secret": f"{session_id}_secret_sandbox",
        "created": int(appreciation.created_at.timestamp()) if appreciation.created_at else int(time.time()),
        "expires_at": int(time.time()) + 24 * 3600,
        "livemode": False,
        "locale": appreciation.locale,
        "metadata": metadata,
        "mode": "payment",
        "payment_intent": payment_intent_id_for(appreciation) if completed else None,
        "payment_status": payment_status,
        "status": status,
        "submit_type": "donate",
        "success_url": checkout.thank_you_url(appreciation.locale),
        "cancel_url": checkout.cancel_url(appreciation),
        "ui_mode": settings.STRIPE_CHECKOUT_UI_MODE,
        "url": checkout_page_url(appreciation) if status == "open" else None,
    }


def session_from_record(appreciation: Appreciation) -> dict[str, Any]:
    """The session as Stripe would report it now, read from the record's status."""
    status, payment_status = {
        Appreciation.Status.PENDING: ("open", "unpaid"),
        Appreciation.Status.PROCESSING: ("complete", "unpaid"),
        Appreciation.Status.PAID: ("complete", "paid"),
        Appreciation.Status.FAILED: ("complete", "unpaid"),
        Appreciation.Status.EXPIRED: ("expired", "unpaid"),
    }[appreciation.status]
    return session_object(appreciation, status=status, payment_status=payment_status)


def charge_id_for(appreciation: Appreciation) -> str:
    return f"{_CHARGE_PREFIX}{appreciation.public_id.hex}"


def charge_object(appreciation: Appreciation) -> dict[str, Any]:
    """The charge with the fee estimate on its balance transaction; refunds as our record has them."""
    hex_id = appreciation.public_id.hex
    method = appreciation.payment_method_type or (
        "sepa_debit" if appreciation.status == Appreciation.Status.PROCESSING else "card"
    )
    fee = fee_estimate(appreciation.amount)
    currency = appreciation.currency.lower()
    metadata = {"appreciation_id": str(appreciation.public_id), "article_id": str(appreciation.article_id)}
    return {
        "id": charge_id_for(appreciation),
        "object": "charge",
        "amount": appreciation.amount,
        "amount_refunded": appreciation.refunded_amount,
        "currency": currency,
        "livemode": False,
        "metadata": metadata,
        "paid": True,
        "payment_intent": payment_intent_id_for(appreciation),
        "payment_method_details": {"type": method},
        "status": "succeeded",
        "balance_transaction": {
            "id": f"txn_sandbox_{hex_id}",
            "object": "balance_transaction",
            "amount": appreciation.amount,
            "currency": currency,
            "fee": fee,
            "net": appreciation.amount - fee,
            "status": "pending",
            "type": "charge",
        },
    }


def payment_intent_object(appreciation: Appreciation, *, expand_charge: bool) -> dict[str, Any]:
    """A payment intent whose latest charge carries the fee estimate on its balance transaction."""
    failed = appreciation.status in (Appreciation.Status.FAILED, Appreciation.Status.EXPIRED)
    method = appreciation.payment_method_type or (
        "sepa_debit" if appreciation.status == Appreciation.Status.PROCESSING else "card"
    )
    currency = appreciation.currency.lower()
    metadata = {"appreciation_id": str(appreciation.public_id), "article_id": str(appreciation.article_id)}
    charge: dict[str, Any] | str | None = None
    if not failed:
        charge = charge_object(appreciation) if expand_charge else charge_id_for(appreciation)
    return {
        "id": payment_intent_id_for(appreciation),
        "object": "payment_intent",
        "amount": appreciation.amount,
        "amount_received": 0 if failed else appreciation.amount,
        "currency": currency,
        "latest_charge": charge,
        "livemode": False,
        "metadata": metadata,
        "payment_method_types": [method],
        "status": "requires_payment_method" if failed else "succeeded",
    }


def event_for(choice: str, appreciation: Appreciation) -> dict[str, Any]:
    """The event Stripe would send for a tester's choice, with a stable id per choice and session."""
    event_type, status, payment_status = {
        PAID: ("checkout.session.completed", "complete", "paid"),
        PAID_LATER: ("checkout.session.completed", "complete", "unpaid"),
        ASYNC_SUCCEEDED: ("checkout.session.async_payment_succeeded", "complete", "paid"),
        ASYNC_FAILED: ("checkout.session.async_payment_failed", "complete", "unpaid"),
        ABANDONED: ("checkout.session.expired", "expired", "unpaid"),
    }[choice]
    session = session_object(appreciation, status=status, payment_status=payment_status)
    digest = hashlib.sha256(f"{event_type}|{session['id']}".encode()).hexdigest()[:24]
    return {
        "id": f"evt_sandbox_{digest}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 0,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": session},
    }


def choice_deliver(choice: str, appreciation: Appreciation):
    """Feed the choice's event through the same handler the webhook uses."""
    from payments.services import stripe_event_handle

    return stripe_event_handle(event_for(choice, appreciation))


# --- The transport -------------------------------------------------------------------------------


def decode_form(body: str) -> dict[str, Any]:
    """Stripe's form encoding back into nested dicts and lists (`a[b][0][c]=1`)."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        if not parts:
            continue
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                break
            node = child
        else:
            node[parts[-1]] = value
    return _with_lists(root)


def _with_lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_with_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _with_lists(value) for key, value in node.items()}
    return node


class SandboxTransport(stripe.HTTPClient):
    """Answers the few Stripe endpoints we use from our own database rows."""

    name = "waardeer-sandbox"

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        parts = urlsplit(url)
        raw = post_data if method.lower() == "post" else parts.query
        if isinstance(raw, bytes):
            raw = raw.decode()
        if sandbox_active():
            status, body = self._route(method.upper(), parts.path, decode_form(raw or ""))
        else:
            status, body = _error(403, "The offline sandbox is off.")
        return json.dumps(body), status, {"request-id": "req_sandbox"}

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/checkout/sessions":
            return self._session_create(params)
        if match := re.fullmatch(r"/v1/checkout/sessions/([^/]+)(/expire)?", path):
            appreciation = appreciation_for_session(match.group(1))
            if appreciation is None:
                return _missing(match.group(1))
            if match.group(2) and method == "POST":
                if appreciation.status == Appreciation.Status.PENDING:
                    choice_deliver(ABANDONED, appreciation)
                    appreciation.refresh_from_db()
                return 200, session_from_record(appreciation)
            if method == "GET":
                return 200, session_from_record(appreciation)
        if method == "GET" and (match := re.fullmatch(r"/v1/payment_intents/([^/]+)", path)):
            public_id = _public_id_from(match.group(1), _INTENT_PREFIX)
            appreciation = Appreciation.objects.filter(public_id=public_id).first() if public_id else None
            if appreciation is None:
                return _missing(match.group(1))
            expand = params.get("expand") or []
            return 200, payment_intent_object(
                appreciation, expand_charge=any(str(item).startswith("latest_charge") for item in expand)
            )
        if method == "GET" and (match := re.fullmatch(r"/v1/charges/([^/]+)", path)):
            public_id = _public_id_from(match.group(1), _CHARGE_PREFIX)
            appreciation = Appreciation.objects.filter(public_id=public_id).first() if public_id else None
            if appreciation is None or appreciation.status in (
                Appreciation.Status.FAILED,
                Appreciation.Status.EXPIRED,
            ):
                return _missing(match.group(1))
            return 200, charge_object(appreciation)
        if method == "GET" and path == "/v1/events":
            return 200, {"object": "list", "data": [], "has_more": False, "url": "/v1/events"}
        return _error(404, f"Unrecognized request URL ({method}: {path}).")

    def _session_create(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            public_id = uuid.UUID(params.get("client_reference_id", ""))
            unit_amount = int(params["line_items"][0]["price_data"]["unit_amount"])
        except (KeyError, IndexError, TypeError, ValueError):
            return _error(400, "The sandbox needs client_reference_id and a line item with unit_amount.")
        appreciation = Appreciation.objects.select_related("article").filter(public_id=public_id).first()
        if appreciation is None or appreciation.amount != unit_amount:
            return _error(400, "No pending appreciation matches this session.")
        return 200, session_object(appreciation, status="open", payment_status="unpaid")

    def close(self) -> None:
        pass


def _error(status: int, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"type": "invalid_request_error", "message": message}}


def _missing(object_id: str) -> tuple[int, dict[str, Any]]:
    return 404, {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "message": f"No such object: '{object_id}'",
        }
    }
