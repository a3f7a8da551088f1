"""`manage.py stripe_reconcile`: missed events from Stripe's Events API, missing fees; idempotent."""

import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payments import services
from payments.models import Appreciation, StripeEvent
from tests.factories import AppreciationFactory
from tests.payments import events
from tests.payments.events import StripePayment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_transport")]


def reconcile(*args: str) -> str:
    out = StringIO()
    call_command("stripe_reconcile", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def _events_page(data, *, has_more=False):
    return {"object": "list", "url": "/v1/events", "has_more": has_more, "data": data}


@pytest.fixture
def world(stripe_transport):
    """One payment whose completion we missed, one already handled but lacking its fee."""
    missed = StripePayment(AppreciationFactory(amount=800, stripe_checkout_session_id=events.stripe_id("cs")))
    handled = StripePayment(
        AppreciationFactory(amount=300, stripe_checkout_session_id=events.stripe_id("cs"))
    )
    handled_event = handled.completed()
    services.stripe_event_handle(handled_event)  # fee lookup fails: no route yet
    assert Appreciation.objects.get(pk=handled.appreciation.pk).fee_amount is None

    missed_event = missed.completed()
    refund_event = missed.charge_refunded(200)
    missed.fee_route(stripe_transport, fee=37)
    missed.charge_route(stripe_transport, refunded=200)
    handled.fee_route(stripe_transport, fee=30)

    def events_api(request):
        # Newest first, as Stripe lists them; two pages to exercise pagination.
        if request.params.get("starting_after") == refund_event["id"]:
            return 200, _events_page([missed_event, handled_event])
        return 200, _events_page([refund_event], has_more=True)

    stripe_transport.on("GET", r"/v1/events", events_api)
    return missed, handled, missed_event


def test_reconcile_processes_missed_events_and_fills_fees(world, stripe_transport):
    missed, handled, missed_event = world

    output = reconcile("--since", "3d")

    appreciation = Appreciation.objects.get(pk=missed.appreciation.pk)
    assert appreciation.status == Appreciation.Status.PAID
    assert (appreciation.refunded_amount, appreciation.fee_amount) == (200, 37)
    assert Appreciation.objects.get(pk=handled.appreciation.pk).fee_amount == 30
    assert f"event {missed_event['id']} checkout.session.completed: missing -> processed" in output
    assert "fee 30 EUR recorded" in output
    assert "3 changes." in output
    listing = [request for request in stripe_transport.requests if request.path == "/v1/events"]
    assert len(listing) == 2
    assert listing[0].params["types[0]"] == "checkout.session.completed"
    types = [value for key, value in listing[0].params.items() if key.startswith("types[")]
    assert set(types) == set(services.HANDLED_EVENT_TYPES)
    assert len(types) <= 20, "Stripe's Events API takes at most 20 types"
    assert {"refund.failed", "charge.dispute.updated", "charge.dispute.funds_withdrawn"} <= set(types)
    since = int(listing[0].params["created[gte]"])
    assert abs(since - (time.time() - 3 * 86400)) < 60


def test_reconcile_twice_changes_nothing_the_second_time(world):
    reconcile("--since", "3d")
    snapshot = list(Appreciation.objects.order_by("pk").values())
    events_before = list(StripeEvent.objects.order_by("pk").values("stripe_event_id", "outcome", "attempts"))

    output = reconcile("--since", "3d")

    assert "0 changes." in output
    assert "->" not in output
    assert list(Appreciation.objects.order_by("pk").values()) == snapshot
    assert (
        list(StripeEvent.objects.order_by("pk").values("stripe_event_id", "outcome", "attempts"))
        == events_before
    )


def test_since_accepts_hours(world, stripe_transport):
    reconcile("--since", "12h")
    listing = next(request for request in stripe_transport.requests if request.path == "/v1/events")
    assert abs(int(listing.params["created[gte]"]) - (time.time() - 12 * 3600)) < 60


@pytest.mark.parametrize("since", ["3", "3w", "-1d", "d", "0h"])
def test_since_rejects_other_periods(since):
    with pytest.raises(CommandError):
        reconcile("--since", since)


def test_events_api_failure_is_a_clean_command_error(stripe_transport):
    stripe_transport.on("GET", r"/v1/events", {"error": {"type": "api_error", "message": "down"}}, status=500)
    with pytest.raises(CommandError, match="Events API"):
        reconcile("--since", "1d")


def test_reconcile_books_a_missed_payment_in_the_month_stripe_says(stripe_transport):
    """Run days later, the payment still lands when Stripe's event says it was paid."""
    payment = StripePayment(
        AppreciationFactory(amount=800, stripe_checkout_session_id=events.stripe_id("cs"))
    )
    missed = payment.completed()
    missed["created"] = int(time.time()) - 2 * 86400
    stripe_transport.on("GET", r"/v1/events", _events_page([missed]))

    reconcile("--since", "3d")

    paid_at = Appreciation.objects.get().paid_at
    assert int(paid_at.timestamp()) == missed["created"]


def test_reconcile_replays_a_refund_event_that_failed_when_stripe_was_down(stripe_transport):
    payment = StripePayment(
        AppreciationFactory(amount=800, stripe_checkout_session_id=events.stripe_id("cs"))
    )
    services.stripe_event_handle(payment.completed())
    refund = payment.refund_event("re_1", 300, kind="refund.created")
    with pytest.raises(services.EventProcessingError):
        services.stripe_event_handle(refund)  # no charge route: Stripe "down"
    payment.charge_route(stripe_transport, refunded=300)
    stripe_transport.on("GET", r"/v1/events", _events_page([refund]))

    output = reconcile("--since", "1d")

    assert Appreciation.objects.get().refunded_amount == 300
    assert f"event {refund['id']} refund.created: failed -> processed" in output
