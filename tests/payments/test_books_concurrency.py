"""Concurrent deliveries on PostgreSQL: row locks make several workers process an event once.

These need real concurrent transactions, so they run only when DATABASE_URL points at PostgreSQL.
"""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from articles.models import Author
from payments import selectors, services
from payments.models import Appreciation, StripeEvent
from tests.conftest import WEBHOOK_SECRET
from tests.factories import AppreciationFactory
from tests.payments import events
from tests.payments.events import StripePayment
from tests.stripe_fakes import signed_webhook

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("stripe_transport"),
]

URL = "/payments/stripe/webhook/"
WORKERS = 8


def _post_all(payloads: list[dict]) -> list[int]:
    """Post every payload from its own thread, all released at the same moment."""
    bodies = [signed_webhook(payload, WEBHOOK_SECRET) for payload in payloads]
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = [0] * len(bodies)

    def worker(index: int) -> None:
        body, header = bodies[index]
        client = Client()
        try:
            barrier.wait(timeout=10)
            response = client.post(
                URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
            )
            statuses[index] = response.status_code
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


@pytest.fixture
def payment(stripe_transport) -> StripePayment:
    appreciation = AppreciationFactory(amount=1000, stripe_checkout_session_id=events.stripe_id("cs"))
    payment = StripePayment(appreciation)
    payment.fee_route(stripe_transport, fee=40)
    return payment


def test_same_event_from_eight_workers_is_processed_once(payment, monkeypatch):
    author = payment.appreciation.author
    author.notify = Author.Notify.EACH  # the email per payment is scheduled once, too
    author.save(update_fields=["notify"])
    notified = []
    monkeypatch.setattr(services.notifications, "appreciation_paid_notify", notified.append)
    # Count how often the real handler runs: the services alone are idempotent, the event must be too.
    handled = []
    original = services.HANDLERS["checkout.session.completed"]

    def counting(record, obj):
        handled.append(record.stripe_event_id)
        return original(record, obj)

    monkeypatch.setitem(services.HANDLERS, "checkout.session.completed", counting)
    payload = payment.completed()

    statuses = _post_all([payload] * WORKERS)

    assert statuses == [200] * WORKERS
    record = StripeEvent.objects.get()
    assert (record.outcome, record.attempts) == (StripeEvent.Outcome.PROCESSED, 1)
    assert handled == [payload["id"]]
    assert notified == [payment.appreciation.pk]
    appreciation = Appreciation.objects.get()
    assert (appreciation.status, appreciation.fee_amount) == (Appreciation.Status.PAID, 40)
    totals = selectors.totals(currency="EUR")
    assert (totals.payments, totals.gross, totals.fees, totals.net) == (1, 1000, 40, 960)


def test_a_failing_event_from_eight_workers_books_nothing_and_counts_each_answered_attempt(
    payment, monkeypatch
):
    from payments.models import SupporterSummary

    author = payment.appreciation.author
    author.notify = Author.Notify.EACH
    author.save(update_fields=["notify"])
    notified = []
    monkeypatch.setattr(services.notifications, "appreciation_paid_notify", notified.append)
    # Another record holds the payment intent: every attempt fails on the unique constraint, and
    # is rolled back whole before its failure is recorded in a transaction of its own.
    squatter = AppreciationFactory(stripe_payment_intent_id=payment.payment_intent)
    payload = payment.completed()

    statuses = _post_all([payload] * WORKERS)

    assert set(statuses) <= {500, 503} and 500 in statuses
    record = StripeEvent.objects.get()
    # Each attempt answered 500 is counted once; one that waited too long for the lock (503) is not.
    assert (record.outcome, record.attempts) == (StripeEvent.Outcome.FAILED, statuses.count(500))
    assert "IntegrityError" in record.last_error
    appreciation = Appreciation.objects.get(pk=payment.appreciation.pk)
    assert (appreciation.status, appreciation.fee_amount) == (Appreciation.Status.PENDING, None)
    assert not SupporterSummary.objects.exists()
    assert notified == []

    squatter.stripe_payment_intent_id = None
    squatter.save(update_fields=["stripe_payment_intent_id"])
    assert _post_all([payload]) == [200]
    record.refresh_from_db()
    assert (record.outcome, record.attempts) == (StripeEvent.Outcome.PROCESSED, statuses.count(500) + 1)
    appreciation.refresh_from_db()
    assert (appreciation.status, appreciation.fee_amount) == (Appreciation.Status.PAID, 40)
    assert notified == [appreciation.pk]


def test_different_refund_events_at_once_all_count_exactly_once(payment, stripe_transport):
    services.stripe_event_handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=100 * WORKERS)
    payloads = [payment.refund_event(f"re_{index}", 100) for index in range(WORKERS)]
    payloads += [payment.refund_event(f"re_{index}", 100, kind="refund.updated") for index in range(WORKERS)]

    statuses = _post_all(payloads)

    assert statuses == [200] * len(payloads)
    assert Appreciation.objects.get().refunded_amount == 100 * WORKERS


def _post(payload: dict) -> int:
    body, header = signed_webhook(payload, WEBHOOK_SECRET)
    return (
        Client()
        .post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)
        .status_code
    )


def _post_while_another_transaction(holds: Callable[[], object], payload: dict) -> int:
    """Post the payload while another transaction has done `holds` and keeps its locks (then
    rolls back); the status of the answer."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                holds()
                held.set()
                release.wait(timeout=30)
                transaction.set_rollback(True)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(timeout=10)
    try:
        return _post(payload)
    finally:
        release.set()
        holder.join(timeout=30)


def test_an_event_being_stored_elsewhere_answers_503_and_a_redelivery_succeeds(payment, monkeypatch):
    """The wait is in the event's own INSERT, behind another delivery of the same event: it ends
    after the lock timeout as a 503, and the stored event is the one that finally commits."""
    monkeypatch.setattr(services, "LOCK_TIMEOUT_SECONDS", 1)
    payload = payment.completed()

    assert _post_while_another_transaction(lambda: services._event_store(payload), payload) == 503
    assert not StripeEvent.objects.exists()

    assert _post(payload) == 200
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.PROCESSED
    assert Appreciation.objects.get().status == Appreciation.Status.PAID


def test_lock_held_elsewhere_answers_503_and_a_redelivery_succeeds(payment, monkeypatch):
    monkeypatch.setattr(services, "LOCK_TIMEOUT_SECONDS", 1)
    payload = payment.completed()
    lock = Appreciation.objects.select_for_update().filter(pk=payment.appreciation.pk)

    assert _post_while_another_transaction(lock.get, payload) == 503
    assert Appreciation.objects.get().status == Appreciation.Status.PENDING

    assert _post(payload) == 200
    assert Appreciation.objects.get().status == Appreciation.Status.PAID


def test_dispute_events_at_once_end_with_the_state_of_all_of_them(payment):
    """Created, funds withdrawn, updated and closed (lost) delivered by parallel workers: each
    computes the state after taking the row lock, so the last writer knows every event."""
    services.stripe_event_handle(payment.completed())
    withdrawal = events.dispute_balance_transaction(amount=-1000, fee=2000)
    payloads = [
        payment.dispute_event("dp_1", "warning_needs_response", kind="charge.dispute.created"),
        payment.dispute_event("dp_1", "needs_response", kind="charge.dispute.updated"),
        payment.dispute_event(
            "dp_1", "needs_response", kind="charge.dispute.funds_withdrawn", balance_transactions=[withdrawal]
        ),
        payment.dispute_event(
            "dp_1", "lost", kind="charge.dispute.closed", balance_transactions=[withdrawal]
        ),
    ] * 2

    statuses = _post_all(payloads)

    assert set(statuses) <= {200, 503}
    for payload, status in zip(payloads, statuses, strict=True):
        if status == 503:  # a lock wait ran out: Stripe redelivers
            services.stripe_event_handle(payload)
    appreciation = Appreciation.objects.get()
    assert (appreciation.dispute_status, appreciation.dispute_fee_amount) == (Appreciation.Dispute.LOST, 2000)


@pytest.mark.parametrize("by", ["session id", "metadata", "client reference"])
def test_session_read_for_a_webhook_holds_the_row_lock_until_the_commit(by):
    appreciation = AppreciationFactory(stripe_checkout_session_id=events.stripe_id("cs"))
    session = {
        "session id": {"id": appreciation.stripe_checkout_session_id},
        "metadata": {"metadata": {"appreciation_id": str(appreciation.public_id)}},
        "client reference": {"client_reference_id": str(appreciation.public_id)},
    }[by]
    with transaction.atomic():
        found = services._session_appreciation(session, lock=True)
        assert found.pk == appreciation.pk and found.author == appreciation.author
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor, pytest.raises(Exception, match="could not obtain lock"):
                cursor.execute(
                    "SELECT id FROM payments_appreciation WHERE id = %s FOR UPDATE NOWAIT", [appreciation.pk]
                )
            # The author is read along, not locked: the panel may save an author meanwhile.
            with other.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM articles_author WHERE id = %s FOR UPDATE NOWAIT", [found.author_id]
                )
        finally:
            other.close()
