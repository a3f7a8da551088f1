"""Stripe-shaped objects and events for tests, following Stripe's published fixtures (fixtures3.json).

Each builder returns the fields Stripe sends that our code or a reader of the payload relies on,
with Stripe's names and types (ids with Stripe's prefixes, integer minor units, lower-case
currencies, unix times). `test_events_shapes.py` checks them against the fixture file.
"""

import itertools
import time
from typing import Any

from payments.models import Appreciation

_counter = itertools.count(1)

API_VERSION = "2026-10-28.endive"


def stripe_id(prefix: str) -> str:
    return f"{prefix}_test{next(_counter):08d}"


def _metadata(appreciation: Appreciation) -> dict[str, str]:
    return {"appreciation_id": str(appreciation.public_id), "article_id": str(appreciation.article_id)}


def checkout_session(
    appreciation: Appreciation,
    *,
    payment_status: str = "paid",
    status: str = "complete",
    session_id: str | None = None,
    payment_intent: str | None = None,
    amount_total: int | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    """A Checkout Session as our checkout creates it (client_reference_id and metadata set)."""
    amount = appreciation.amount if amount_total is None else amount_total
    return {
        "id": session_id or appreciation.stripe_checkout_session_id or stripe_id("cs"),
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "cancel_url": "http://testserver/cancel",
        "client_reference_id": str(appreciation.public_id),
        "created": int(time.time()) - 60,
        "currency": (currency or appreciation.currency).lower(),
        "customer": None,
        "customer_details": {"email": "reader@example.org", "name": None},
        "expires_at": int(time.time()) + 3600,
        "livemode": False,
        "locale": appreciation.locale,
        "metadata": _metadata(appreciation),
        "mode": "payment",
        "payment_intent": payment_intent,
        "payment_status": payment_status,
        "status": status,
        "submit_type": "donate",
        "success_url": "http://testserver/thank-you/",
        "ui_mode": "hosted_page",
        "url": None,
    }


def charge(
    appreciation: Appreciation | None,
    *,
    charge_id: str,
    payment_intent: str,
    amount: int | None = None,
    amount_refunded: int = 0,
    currency: str = "eur",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A charge; Stripe copies the payment intent's metadata onto it."""
    amount = amount if amount is not None else appreciation.amount
    return {
        "id": charge_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": amount_refunded,
        "balance_transaction": stripe_id("txn"),
        "captured": True,
        "created": int(time.time()) - 30,
        "currency": currency,
        "disputed": False,
        "livemode": False,
        "metadata": metadata if metadata is not None else _metadata(appreciation),
        "paid": True,
        "payment_intent": payment_intent,
        "payment_method_details": {"type": "card", "card": {"brand": "visa", "last4": "4242"}},
        "refunded": amount_refunded == amount,
        "status": "succeeded",
    }


def refund(
    *,
    refund_id: str,
    charge_id: str,
    payment_intent: str,
    amount: int,
    status: str = "succeeded",
    currency: str = "eur",
) -> dict[str, Any]:
    """A refund carries only its own amount and the ids of its charge and payment intent."""
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": stripe_id("txn"),
        "charge": charge_id,
        "created": int(time.time()) - 20,
        "currency": currency,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": "requested_by_customer",
        "status": status,
    }


def dispute_balance_transaction(*, amount: int, fee: int, currency: str = "eur") -> dict[str, Any]:
    """A dispute's withdrawal (negative amount, the dispute fee) or reinstatement (positive)."""
    return {
        "id": stripe_id("txn"),
        "object": "balance_transaction",
        "amount": amount,
        "currency": currency,
        "fee": fee,
        "net": amount - fee,
        "status": "available",
        "type": "adjustment",
        "reporting_category": "dispute" if amount < 0 else "dispute_reversal",
    }


def dispute(
    *,
    dispute_id: str,
    charge_id: str,
    payment_intent: str,
    amount: int,
    status: str = "needs_response",
    currency: str = "eur",
    balance_transactions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "id": dispute_id,
        "object": "dispute",
        "amount": amount,
        "balance_transactions": balance_transactions or [],
        "charge": charge_id,
        "created": int(time.time()) - 10,
        "currency": currency,
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": "fraudulent",
        "status": status,
    }


def payment_intent_with_fees(
    *,
    payment_intent: str,
    charge_id: str,
    amount: int,
    fee: int,
    currency: str = "eur",
    method: str = "card",
) -> dict[str, Any]:
    """`GET /v1/payment_intents/{id}?expand[]=latest_charge.balance_transaction` as Stripe answers it."""
    return {
        "id": payment_intent,
        "object": "payment_intent",
        "amount": amount,
        "amount_received": amount,
        "currency": currency,
        "livemode": False,
        "metadata": {},
        "status": "succeeded",
        "latest_charge": {
            "id": charge_id,
            "object": "charge",
            "amount": amount,
            "currency": currency,
            "payment_intent": payment_intent,
            "payment_method_details": {"type": method},
            "balance_transaction": {
                "id": stripe_id("txn"),
                "object": "balance_transaction",
                "amount": amount,
                "currency": currency,
                "fee": fee,
                "net": amount - fee,
                "status": "pending",
                "type": "charge",
            },
        },
    }


def event(
    event_type: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    livemode: bool = False,
    created: int | None = None,
) -> dict[str, Any]:
    """An event wrapping `obj` as Stripe delivers it to a webhook endpoint."""
    return {
        "id": event_id or stripe_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created if created is not None else int(time.time()),
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


class StripePayment:
    """One appreciation's life at Stripe: its session, payment intent and charge ids, and the events
    Stripe would send about them. Builders return new events (fresh ids) each call."""

    def __init__(self, appreciation: Appreciation) -> None:
        self.appreciation = appreciation
        self.session_id = appreciation.stripe_checkout_session_id or stripe_id("cs")
        self.payment_intent = stripe_id("pi")
        self.charge_id = stripe_id("ch")

    def session(self, **overrides: Any) -> dict[str, Any]:
        return checkout_session(
            self.appreciation, session_id=self.session_id, payment_intent=self.payment_intent, **overrides
        )

    def completed(self, **overrides: Any) -> dict[str, Any]:
        return event("checkout.session.completed", self.session(**overrides))

    def completed_unpaid(self) -> dict[str, Any]:
        return event("checkout.session.completed", self.session(payment_status="unpaid"))

    def async_succeeded(self) -> dict[str, Any]:
        return event("checkout.session.async_payment_succeeded", self.session())

    def async_failed(self) -> dict[str, Any]:
        return event("checkout.session.async_payment_failed", self.session(payment_status="unpaid"))

    def expired(self) -> dict[str, Any]:
        obj = self.session(payment_status="unpaid", status="expired")
        obj["payment_intent"] = None
        return event("checkout.session.expired", obj)

    def charge_refunded(self, cumulative: int) -> dict[str, Any]:
        obj = charge(
            self.appreciation,
            charge_id=self.charge_id,
            payment_intent=self.payment_intent,
            amount_refunded=cumulative,
        )
        return event("charge.refunded", obj)

    def refund_event(
        self, refund_id: str, amount: int, *, status: str = "succeeded", kind: str = "refund.created"
    ) -> dict[str, Any]:
        obj = refund(
            refund_id=refund_id,
            charge_id=self.charge_id,
            payment_intent=self.payment_intent,
            amount=amount,
            status=status,
        )
        return event(kind, obj)

    def dispute_event(
        self,
        dispute_id: str,
        status: str,
        *,
        kind: str,
        currency: str = "eur",
        balance_transactions: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        obj = dispute(
            dispute_id=dispute_id,
            charge_id=self.charge_id,
            payment_intent=self.payment_intent,
            amount=self.appreciation.amount,
            status=status,
            currency=currency,
            balance_transactions=balance_transactions,
        )
        return event(kind, obj)

    def charge_route(self, transport: Any, *, refunded: int, currency: str = "eur") -> None:
        """Make `GET /v1/charges/{id}` answer the charge as Stripe knows it now; a later call
        replaces the answer (a refund succeeded, failed or was cancelled in between)."""
        body = charge(
            self.appreciation,
            charge_id=self.charge_id,
            payment_intent=self.payment_intent,
            amount_refunded=refunded,
            currency=currency,
        )
        transport.on("GET", f"/v1/charges/{self.charge_id}", body)

    def fee_route(self, transport: Any, *, fee: int) -> None:
        """Make the intercepted Stripe API answer this payment intent's fee lookup."""
        body = payment_intent_with_fees(
            payment_intent=self.payment_intent,
            charge_id=self.charge_id,
            amount=self.appreciation.amount,
            fee=fee,
        )
        transport.on("GET", f"/v1/payment_intents/{self.payment_intent}", body)
