"""The books stay right whatever Stripe does: a realistic mix of events in random order with duplicates.

Each seed builds a few dozen appreciations with a scripted life at Stripe (card and delayed
payments paid days before delivery, failures, expiries, partial and full refunds, refunds that
fail or are cancelled, disputes won/lost/open with their fees, inquiries, inquiries escalated
into chargebacks, objects in another currency, and events from another integration), delivers
every event through the signed webhook in a shuffled order with repeats, and compares the books
with sums computed here from the scripts. Stripe's API answers each charge with its final state,
as it would after the last event.
"""

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from payments import selectors
from payments.models import Appreciation, StripeEvent
from tests.conftest import WEBHOOK_SECRET
from tests.factories import AppreciationFactory, ArticleFactory
from tests.payments import events
from tests.payments.events import StripePayment
from tests.stripe_fakes import signed_webhook

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_transport")]

Status = Appreciation.Status
Dispute = Appreciation.Dispute

SCENARIOS = (
    "card_paid",
    "async_paid",
    "async_failed",
    "expired",
    "abandoned",
    "partial_refund",
    "two_refunds",
    "full_refund",
    "async_paid_refunded",
    "dispute_won",
    "dispute_lost",
    "dispute_open",
    "inquiry",
    "refund_then_dispute_lost",
    "refund_cancelled",
    "refund_failed",
    "second_refund_failed",
    "inquiry_escalated",
    "foreign_currency_objects",
)

DISPUTE_FEE = 2000


@dataclass
class Script:
    payment: StripePayment
    fee: int
    events: list[dict] = field(default_factory=list)
    status: str = Status.PENDING
    refunded: int = 0
    dispute: str = Dispute.NONE
    dispute_fee: int = 0
    paid_at: int | None = None


def _paid_event(script: Script, payload: dict, rng: random.Random) -> dict:
    """The event saying paid, created up to 40 days ago: the books use that moment."""
    payload["created"] = int(time.time()) - rng.randrange(0, 40 * 86400)
    script.status, script.paid_at = Status.PAID, payload["created"]
    return payload


def _script(scenario: str, payment: StripePayment, rng: random.Random) -> Script:
    amount = payment.appreciation.amount
    script = Script(payment=payment, fee=amount * 15 // 1000 + 25)
    add = script.events.append
    if scenario in ("async_paid", "async_failed", "async_paid_refunded"):
        add(payment.completed_unpaid())
        if scenario == "async_failed":
            add(payment.async_failed())
            script.status = Status.FAILED
            return script
        add(_paid_event(script, payment.async_succeeded(), rng))
    elif scenario == "expired":
        add(payment.expired())
        script.status = Status.EXPIRED
        return script
    elif scenario == "abandoned":
        return script
    else:
        add(_paid_event(script, payment.completed(), rng))

    if scenario in ("partial_refund", "async_paid_refunded", "refund_then_dispute_lost"):
        part = rng.randrange(1, amount)
        add(payment.refund_event("re_" + payment.charge_id, part))
        add(payment.charge_refunded(part))
        script.refunded = part
    elif scenario == "two_refunds":
        first = rng.randrange(1, amount - 1)
        second = rng.randrange(1, amount - first + 1)
        add(payment.refund_event("re_a" + payment.charge_id, first))
        add(payment.charge_refunded(first))
        add(payment.refund_event("re_b" + payment.charge_id, second))
        add(payment.charge_refunded(first + second))
        add(payment.refund_event("re_a" + payment.charge_id, first, kind="refund.updated"))
        script.refunded = first + second
    elif scenario == "full_refund":
        add(payment.refund_event("re_" + payment.charge_id, amount))
        add(payment.charge_refunded(amount))
        script.refunded = amount
    elif scenario == "refund_cancelled":
        # A pending refund counts in charge.refunded, then is cancelled: the money stays.
        part = rng.randrange(1, amount + 1)
        refund_id = "re_" + payment.charge_id
        add(payment.refund_event(refund_id, part, status="pending"))
        add(payment.charge_refunded(part))
        add(payment.refund_event(refund_id, part, status="canceled", kind="refund.updated"))
    elif scenario == "refund_failed":
        refund_id = "re_" + payment.charge_id
        add(payment.refund_event(refund_id, amount))
        add(payment.charge_refunded(amount))
        add(payment.refund_event(refund_id, amount, status="failed", kind="refund.failed"))
        add(payment.refund_event(refund_id, amount, status="failed", kind="refund.updated"))
    elif scenario == "second_refund_failed":
        first = rng.randrange(1, amount)
        second = amount - first
        add(payment.refund_event("re_a" + payment.charge_id, first))
        add(payment.charge_refunded(first))
        add(payment.refund_event("re_b" + payment.charge_id, second))
        add(payment.charge_refunded(amount))
        add(payment.refund_event("re_b" + payment.charge_id, second, status="failed", kind="refund.failed"))
        script.refunded = first

    dispute_id = "dp_" + payment.charge_id
    withdrawal = events.dispute_balance_transaction(amount=-amount, fee=DISPUTE_FEE)
    if scenario in ("dispute_won", "dispute_lost", "dispute_open", "refund_then_dispute_lost"):
        add(payment.dispute_event(dispute_id, "needs_response", kind="charge.dispute.created"))
        add(
            payment.dispute_event(
                dispute_id,
                "needs_response",
                kind="charge.dispute.funds_withdrawn",
                balance_transactions=[withdrawal],
            )
        )
        script.dispute, script.dispute_fee = Dispute.OPEN, DISPUTE_FEE
        if scenario == "dispute_won":
            # Some regions return the dispute fee with the money, others keep it.
            returned = rng.choice([-DISPUTE_FEE, 0])
            both = [withdrawal, events.dispute_balance_transaction(amount=amount, fee=returned)]
            add(
                payment.dispute_event(
                    dispute_id, "won", kind="charge.dispute.funds_reinstated", balance_transactions=both
                )
            )
            add(
                payment.dispute_event(
                    dispute_id, "won", kind="charge.dispute.closed", balance_transactions=both
                )
            )
            script.dispute, script.dispute_fee = Dispute.WON, DISPUTE_FEE + returned
        elif scenario != "dispute_open":
            add(
                payment.dispute_event(
                    dispute_id, "lost", kind="charge.dispute.closed", balance_transactions=[withdrawal]
                )
            )
            script.dispute = Dispute.LOST
    elif scenario == "inquiry":
        add(payment.dispute_event(dispute_id, "warning_needs_response", kind="charge.dispute.created"))
        add(payment.dispute_event(dispute_id, "warning_closed", kind="charge.dispute.closed"))
    elif scenario == "inquiry_escalated":
        add(payment.dispute_event(dispute_id, "warning_needs_response", kind="charge.dispute.created"))
        add(payment.dispute_event(dispute_id, "needs_response", kind="charge.dispute.updated"))
        add(
            payment.dispute_event(
                dispute_id,
                "needs_response",
                kind="charge.dispute.funds_withdrawn",
                balance_transactions=[withdrawal],
            )
        )
        script.dispute, script.dispute_fee = Dispute.OPEN, DISPUTE_FEE
        if rng.random() < 0.5:
            add(
                payment.dispute_event(
                    dispute_id, "lost", kind="charge.dispute.closed", balance_transactions=[withdrawal]
                )
            )
            script.dispute = Dispute.LOST
    elif scenario == "foreign_currency_objects":
        # Objects of ours in another currency are never booked, whatever they claim.
        charge = events.charge(
            payment.appreciation,
            charge_id=payment.charge_id,
            payment_intent=payment.payment_intent,
            amount_refunded=amount,
            currency="usd",
        )
        add(events.event("charge.refunded", charge))
        refund = payment.refund_event("re_usd" + payment.charge_id, amount, kind="refund.created")
        refund["data"]["object"]["currency"] = "usd"
        add(refund)
        add(payment.dispute_event(dispute_id, "lost", kind="charge.dispute.closed", currency="usd"))
        # An inquiry of ours on the same payment recomputes the dispute state without the USD one.
        add(
            payment.dispute_event(
                "dp_eur" + payment.charge_id, "warning_needs_response", kind="charge.dispute.created"
            )
        )
    return script


def _foreign_events() -> list[dict]:
    """Another integration on the same Stripe account: no metadata of ours, ids we never saw."""
    stranger = AppreciationFactory.build(amount=1234)
    other = events.charge(None, charge_id="ch_foreign", payment_intent="pi_foreign", amount=1234, metadata={})
    other_refunded = dict(other, amount_refunded=1234)
    return [
        events.event(
            "checkout.session.completed", events.checkout_session(stranger, payment_intent="pi_foreign")
        ),
        events.event("charge.refunded", other_refunded),
        events.event(
            "charge.dispute.created",
            events.dispute(
                dispute_id="dp_foreign", charge_id="ch_foreign", payment_intent="pi_foreign", amount=1234
            ),
        ),
        events.event("customer.created", {"id": "cus_1", "object": "customer"}),
    ]


def _expected(scripts: list[Script], **only) -> dict[str, int]:
    paid = [s for s in scripts if s.status == Status.PAID]
    if "article" in only:
        paid = [s for s in paid if s.payment.appreciation.article_id == only["article"].pk]
    return {
        "payments": len(paid),
        "gross": sum(s.payment.appreciation.amount for s in paid),
        "refunded": sum(s.refunded for s in paid),
        "disputed": sum(
            s.payment.appreciation.amount - s.refunded
            for s in paid
            if s.dispute in (Dispute.OPEN, Dispute.LOST)
        ),
        "fees": sum(s.fee for s in paid),
        "dispute_fees": sum(s.dispute_fee for s in paid),
        "supporters": sum(
            1
            for s in paid
            if s.refunded < s.payment.appreciation.amount and s.dispute in (Dispute.NONE, Dispute.WON)
        ),
    }


def _actual(totals: selectors.Totals) -> dict[str, int]:
    return {
        name: getattr(totals, name)
        for name in ("payments", "gross", "refunded", "disputed", "fees", "dispute_fees", "supporters")
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_books_equal_expected_sums_for_any_delivery_order(client, stripe_transport, seed):
    rng = random.Random(seed)
    articles = ArticleFactory.create_batch(3)
    scripts = []
    for index in range(70):
        appreciation = AppreciationFactory(
            article=rng.choice(articles),
            amount=rng.randrange(100, 5001),
            stripe_checkout_session_id=events.stripe_id("cs") if rng.random() < 0.8 else None,
        )
        payment = StripePayment(appreciation)
        script = _script(SCENARIOS[index % len(SCENARIOS)], payment, rng)
        payment.fee_route(stripe_transport, fee=script.fee)
        payment.charge_route(stripe_transport, refunded=script.refunded)
        scripts.append(script)

    unique = [event for script in scripts for event in script.events] + _foreign_events()
    deliveries = unique + rng.sample(unique, k=len(unique) // 3)
    rng.shuffle(deliveries)
    assert len(deliveries) > 200

    for payload in deliveries:
        body, header = signed_webhook(payload, WEBHOOK_SECRET)
        response = client.post(
            "/payments/stripe/webhook/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
        )
        assert response.status_code == 200, payload["type"]

    for script in scripts:
        appreciation = Appreciation.objects.get(pk=script.payment.appreciation.pk)
        assert (
            appreciation.status,
            appreciation.refunded_amount,
            appreciation.dispute_status,
            appreciation.dispute_fee_amount,
        ) == (script.status, script.refunded, script.dispute, script.dispute_fee), (
            script.payment.appreciation.pk
        )
        if script.status == Status.PAID:
            assert appreciation.fee_amount == script.fee
            assert appreciation.paid_at == datetime.fromtimestamp(script.paid_at, tz=UTC)
    assert StripeEvent.objects.count() == len(unique)
    # Only the foreign dispute can wait forever: nothing of ours is left deferred.
    assert list(
        StripeEvent.objects.filter(outcome=StripeEvent.Outcome.DEFERRED).values_list("type", flat=True)
    ) == ["charge.dispute.created"]
    assert not StripeEvent.objects.filter(outcome=StripeEvent.Outcome.FAILED).exists()
    ignored = StripeEvent.objects.filter(
        outcome=StripeEvent.Outcome.IGNORED, last_error__startswith="currency"
    )
    assert ignored.count() == 3 * sum(
        1 for index in range(70) if SCENARIOS[index % len(SCENARIOS)].startswith("foreign")
    )

    assert _actual(selectors.totals(currency="EUR")) == _expected(scripts)
    for article in articles:
        assert _actual(selectors.totals(currency="EUR", article=article)) == _expected(
            scripts, article=article
        )
    by_article = {
        article.pk: _actual(totals) for article, totals in selectors.totals_by_article(currency="EUR")
    }
    assert by_article == {
        article.pk: _expected(scripts, article=article)
        for article in articles
        if _expected(scripts, article=article)["payments"]
    }
