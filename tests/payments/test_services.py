"""The payment state machine in payments.services, driven by Stripe-shaped events."""

from datetime import UTC, datetime

import pytest

from articles.models import Author
from payments import selectors, services
from payments.models import Appreciation, StripeEvent
from tests.factories import AppreciationFactory
from tests.payments import events
from tests.payments.events import StripePayment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_transport")]

Status = Appreciation.Status
Dispute = Appreciation.Dispute
Outcome = StripeEvent.Outcome

handle = services.stripe_event_handle


@pytest.fixture
def payment() -> StripePayment:
    appreciation = AppreciationFactory(amount=500, stripe_checkout_session_id=events.stripe_id("cs"))
    return StripePayment(appreciation)


def _reload(payment: StripePayment) -> Appreciation:
    return Appreciation.objects.get(pk=payment.appreciation.pk)


# --- completion, fees and notification ---------------------------------------------------------


def test_completed_paid_session_marks_paid_and_records_fee(payment, stripe_transport):
    payment.fee_route(stripe_transport, fee=33)

    record = handle(payment.completed())

    appreciation = _reload(payment)
    assert record.outcome == Outcome.PROCESSED
    assert appreciation.status == Status.PAID
    assert appreciation.paid_at is not None
    assert appreciation.stripe_payment_intent_id == payment.payment_intent
    assert appreciation.stripe_charge_id == payment.charge_id
    assert (appreciation.fee_amount, appreciation.net_amount) == (33, 467)
    assert appreciation.settlement_currency == "EUR"
    assert appreciation.payment_method_type == "card"
    lookup = stripe_transport.requests[-1]
    assert (lookup.method, lookup.path) == ("GET", f"/v1/payment_intents/{payment.payment_intent}")
    assert lookup.params == {"expand[0]": "latest_charge.balance_transaction"}


def test_fee_lookup_failure_still_marks_paid_with_fee_unknown(payment, stripe_transport):
    # No route: the intercepted API answers 404, which stripe_api turns into PaymentProviderError.
    record = handle(payment.completed())

    appreciation = _reload(payment)
    assert record.outcome == Outcome.PROCESSED
    assert appreciation.status == Status.PAID
    assert appreciation.fee_amount is None
    assert stripe_transport.requests, "the fee lookup went through the SDK"


def test_later_event_fills_a_missing_fee(payment, stripe_transport):
    handle(payment.completed())
    assert _reload(payment).fee_amount is None

    payment.fee_route(stripe_transport, fee=40)
    payment.charge_route(stripe_transport, refunded=100)
    handle(payment.charge_refunded(100))

    assert _reload(payment).fee_amount == 40


def _notify_each(payment: StripePayment) -> None:
    author = payment.appreciation.author
    author.notify = Author.Notify.EACH
    author.save(update_fields=["notify"])


def test_paid_schedules_author_notification_after_commit(
    payment, monkeypatch, django_capture_on_commit_callbacks
):
    _notify_each(payment)
    notified = []
    monkeypatch.setattr(services.notifications, "appreciation_paid_notify", notified.append)

    with django_capture_on_commit_callbacks(execute=True):
        handle(payment.completed())
    with django_capture_on_commit_callbacks(execute=True):
        handle(payment.async_succeeded())

    assert notified == [payment.appreciation.pk]


def test_paid_of_a_digest_author_schedules_no_notification(
    payment, monkeypatch, django_capture_on_commit_callbacks
):
    assert payment.appreciation.author.notify == Author.Notify.DAILY
    notified = []
    monkeypatch.setattr(services.notifications, "appreciation_paid_notify", notified.append)

    with django_capture_on_commit_callbacks(execute=True):
        handle(payment.completed())

    assert _reload(payment).status == Status.PAID
    assert notified == []


def test_failing_notification_does_not_break_the_books(
    payment, monkeypatch, django_capture_on_commit_callbacks
):
    _notify_each(payment)

    def broken(appreciation_id):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(services.notifications, "appreciation_paid_notify", broken)

    with django_capture_on_commit_callbacks(execute=True):
        record = handle(payment.completed())

    assert record.outcome == Outcome.PROCESSED
    assert _reload(payment).status == Status.PAID


# --- the status transitions --------------------------------------------------------------------


def test_completed_unpaid_session_marks_processing(payment):
    handle(payment.completed_unpaid())
    assert _reload(payment).status == Status.PROCESSING


def test_async_success_after_processing_marks_paid(payment):
    handle(payment.completed_unpaid())
    handle(payment.async_succeeded())
    assert _reload(payment).status == Status.PAID


def test_async_failure_marks_failed(payment):
    handle(payment.completed_unpaid())
    handle(payment.async_failed())
    assert _reload(payment).status == Status.FAILED


def test_completion_arriving_after_async_failure_keeps_failed(payment):
    handle(payment.async_failed())
    handle(payment.completed_unpaid())
    assert _reload(payment).status == Status.FAILED


def test_async_success_arriving_before_completion_stays_paid(payment):
    handle(payment.async_succeeded())
    handle(payment.completed_unpaid())
    assert _reload(payment).status == Status.PAID


def test_expired_session_marks_expired(payment):
    handle(payment.expired())
    assert _reload(payment).status == Status.EXPIRED


def test_expiry_never_unpays_a_paid_appreciation(payment):
    handle(payment.completed())
    handle(payment.expired())
    assert _reload(payment).status == Status.PAID


def test_expiry_of_a_replaced_session_is_ignored(payment):
    other = StripePayment(payment.appreciation)
    other.session_id = events.stripe_id("cs")

    record = handle(other.expired())

    assert record.outcome == Outcome.IGNORED
    assert _reload(payment).status == Status.PENDING


def test_no_payment_required_session_is_ignored(payment):
    record = handle(payment.completed(payment_status="no_payment_required"))
    assert record.outcome == Outcome.IGNORED
    assert _reload(payment).status == Status.PENDING


@pytest.mark.parametrize(
    "overrides", [{"amount_total": 5000}, {"currency": "usd"}], ids=["amount", "currency"]
)
def test_session_whose_money_differs_from_our_record_changes_nothing(payment, overrides, caplog):
    record = handle(payment.completed(**overrides))

    appreciation = _reload(payment)
    assert record.outcome == Outcome.IGNORED
    assert "amount mismatch" in record.last_error
    assert appreciation.status == Status.PENDING
    assert appreciation.stripe_payment_intent_id is None
    assert "we expected 500 EUR" in caplog.text


def test_session_is_found_by_client_reference_when_its_id_was_not_saved():
    appreciation = AppreciationFactory(amount=700)
    payment = StripePayment(appreciation)

    handle(payment.completed())

    appreciation.refresh_from_db()
    assert appreciation.status == Status.PAID
    assert appreciation.stripe_checkout_session_id == payment.session_id


# --- refunds: the charge as Stripe reports it now ---------------------------------------------


def test_partial_then_full_refund_sets_the_charges_refunded_amount(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=200)
    handle(payment.charge_refunded(200))
    assert _reload(payment).refunded_amount == 200
    payment.charge_route(stripe_transport, refunded=500)
    handle(payment.charge_refunded(500))
    assert _reload(payment).refunded_amount == 500
    lookups = [(r.method, r.path) for r in stripe_transport.requests if r.path.startswith("/v1/charges/")]
    assert lookups == [("GET", f"/v1/charges/{payment.charge_id}")] * 2


def test_a_stale_refund_event_arriving_late_keeps_stripes_current_amount(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=500)
    handle(payment.charge_refunded(500))
    handle(payment.charge_refunded(200))  # delivered late: Stripe's charge still says 500
    assert _reload(payment).refunded_amount == 500


def test_refund_object_and_charge_event_for_the_same_refund_count_once(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=200)
    handle(payment.refund_event("re_one", 200))
    handle(payment.charge_refunded(200))
    handle(payment.refund_event("re_one", 200, kind="refund.updated"))
    assert _reload(payment).refunded_amount == 200


def test_two_refund_objects_add_up_without_charge_events(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=200)
    handle(payment.refund_event("re_one", 200))
    payment.charge_route(stripe_transport, refunded=300)
    handle(payment.refund_event("re_two", 100))
    handle(payment.refund_event("re_one", 200, kind="refund.updated"))
    assert _reload(payment).refunded_amount == 300


def test_cancelled_pending_refund_is_taken_off_again(payment, stripe_transport):
    """A pending refund (delayed methods, a short balance) counts in the charge's amount_refunded;
    when it is cancelled Stripe gives the money back and the books follow."""
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=400)
    handle(payment.refund_event("re_one", 400, status="pending"))
    handle(payment.charge_refunded(400))
    assert _reload(payment).refunded_amount == 400

    payment.charge_route(stripe_transport, refunded=0)
    handle(payment.refund_event("re_one", 400, status="canceled", kind="refund.updated"))

    appreciation = _reload(payment)
    assert appreciation.refunded_amount == 0
    assert selectors.article_supporters(article_id=appreciation.article_id)[0] == 1


def test_refund_that_fails_after_succeeding_is_not_counted(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=500)
    handle(payment.refund_event("re_one", 500, status="succeeded"))
    assert selectors.article_supporters(article_id=payment.appreciation.article_id)[0] == 0

    payment.charge_route(stripe_transport, refunded=0)
    record = handle(payment.refund_event("re_one", 500, status="failed", kind="refund.failed"))

    assert record.outcome == Outcome.PROCESSED
    assert _reload(payment).refunded_amount == 0
    assert selectors.article_supporters(article_id=payment.appreciation.article_id)[0] == 1


def test_refund_event_fails_for_a_retry_when_the_charge_cannot_be_fetched(payment, stripe_transport):
    handle(payment.completed())
    stripe_transport.on("GET", r"/v1/charges/.*", {"error": {"type": "api_error"}}, status=500)
    payload = payment.refund_event("re_one", 200)

    with pytest.raises(services.EventProcessingError):
        handle(payload)

    record = StripeEvent.objects.get(stripe_event_id=payload["id"])
    assert (record.outcome, _reload(payment).refunded_amount) == (Outcome.FAILED, 0)
    assert record.last_error.startswith(f"ChargeUnavailable: charge {payment.charge_id} could not be fetched")
    payment.charge_route(stripe_transport, refunded=200)
    assert handle(payload).outcome == Outcome.PROCESSED  # Stripe's retry, or stripe_reconcile
    assert _reload(payment).refunded_amount == 200


def test_refund_above_the_amount_is_capped(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=800)
    handle(payment.refund_event("re_one", 400))
    assert _reload(payment).refunded_amount == 500


@pytest.mark.parametrize("kind", ["charge.refunded", "refund.created"])
def test_refund_in_another_currency_is_ignored_and_logged(payment, stripe_transport, kind, caplog):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=500)
    if kind == "charge.refunded":
        obj = events.charge(
            payment.appreciation,
            charge_id=payment.charge_id,
            payment_intent=payment.payment_intent,
            amount=550,
            amount_refunded=550,
            currency="usd",
        )
    else:
        obj = events.refund(
            refund_id="re_one",
            charge_id=payment.charge_id,
            payment_intent=payment.payment_intent,
            amount=550,
            currency="usd",
        )

    record = handle(events.event(kind, obj))

    assert record.outcome == Outcome.IGNORED
    assert "currency mismatch" in record.last_error
    assert "is in USD, the record in EUR" in caplog.text
    assert _reload(payment).refunded_amount == 0


def test_a_charge_stripe_reports_in_another_currency_is_not_booked(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=500, currency="usd")
    record = handle(payment.refund_event("re_one", 500))
    assert record.outcome == Outcome.IGNORED
    assert _reload(payment).refunded_amount == 0


def test_partial_refund_then_lost_dispute_never_counts_the_refunded_part_twice(payment, stripe_transport):
    handle(payment.completed())
    payment.charge_route(stripe_transport, refunded=150)
    handle(payment.refund_event("re_one", 150))
    _dispute(payment, "lost", kind="charge.dispute.closed")
    totals = selectors.totals(currency="EUR")
    # gross 500, refunded 150, the remaining 350 lost to the dispute: nothing left, never below.
    assert (totals.refunded, totals.disputed, totals.net) == (150, 350, 0)


# --- disputes ----------------------------------------------------------------------------------


def _dispute(payment, status, kind="charge.dispute.created", dispute_id="dp_one", **extra):
    return handle(payment.dispute_event(dispute_id, status, kind=kind, **extra))


def test_dispute_created_opens_a_dispute(payment):
    handle(payment.completed())
    _dispute(payment, "needs_response")
    assert _reload(payment).dispute_status == Dispute.OPEN


@pytest.mark.parametrize(("closed", "expected"), [("won", Dispute.WON), ("lost", Dispute.LOST)])
def test_closed_dispute_records_the_result(payment, closed, expected):
    handle(payment.completed())
    _dispute(payment, "needs_response")
    _dispute(payment, closed, kind="charge.dispute.closed")
    assert _reload(payment).dispute_status == expected


@pytest.mark.parametrize("closed", ["won", "lost", "warning_closed"])
def test_closed_dispute_wins_over_a_late_created_event(payment, closed):
    handle(payment.completed())
    _dispute(payment, closed, kind="charge.dispute.closed")
    _dispute(payment, "needs_response")
    expected = {"won": Dispute.WON, "lost": Dispute.LOST, "warning_closed": Dispute.NONE}[closed]
    assert _reload(payment).dispute_status == expected


@pytest.mark.parametrize("closed", ["warning_closed", "prevented"])
def test_inquiry_is_never_a_chargeback(payment, closed):
    handle(payment.completed())
    _dispute(payment, "warning_needs_response")
    assert _reload(payment).dispute_status == Dispute.NONE
    _dispute(payment, closed, kind="charge.dispute.closed")
    assert _reload(payment).dispute_status == Dispute.NONE


def test_inquiry_escalated_to_a_chargeback_counts_as_disputed(payment):
    handle(payment.completed())
    _dispute(payment, "warning_needs_response")
    # The issuer escalates the same dispute; Stripe withdraws the money and updates it.
    _dispute(payment, "needs_response", kind="charge.dispute.funds_withdrawn")
    assert _reload(payment).dispute_status == Dispute.OPEN
    _dispute(payment, "under_review", kind="charge.dispute.updated")
    assert _reload(payment).dispute_status == Dispute.OPEN
    _dispute(payment, "won", kind="charge.dispute.funds_reinstated")
    assert _reload(payment).dispute_status == Dispute.WON


def _withdrawal(amount=500, fee=2000, currency="eur"):
    return events.dispute_balance_transaction(amount=-amount, fee=fee, currency=currency)


def test_lost_dispute_records_stripes_dispute_fee_and_net_subtracts_it(payment, stripe_transport):
    payment.fee_route(stripe_transport, fee=33)
    handle(payment.completed())
    withdrawal = _withdrawal()
    _dispute(
        payment, "needs_response", kind="charge.dispute.funds_withdrawn", balance_transactions=[withdrawal]
    )
    _dispute(payment, "lost", kind="charge.dispute.closed", balance_transactions=[withdrawal])

    appreciation = _reload(payment)
    assert (appreciation.dispute_status, appreciation.dispute_fee_amount) == (Dispute.LOST, 2000)
    totals = selectors.totals(currency="EUR")
    assert (totals.gross, totals.disputed, totals.fees, totals.dispute_fees) == (500, 500, 33, 2000)
    assert totals.net == 500 - 500 - 33 - 2000


@pytest.mark.parametrize(("returned_fee", "expected"), [(-2000, 0), (0, 2000)], ids=["fee-back", "fee-kept"])
def test_won_dispute_keeps_the_fee_stripe_did_not_return(payment, returned_fee, expected):
    handle(payment.completed())
    withdrawal = _withdrawal()
    reinstated = events.dispute_balance_transaction(amount=500, fee=returned_fee)
    # The closing event arrives first; the earlier object (one transaction) must not win.
    _dispute(payment, "won", kind="charge.dispute.closed", balance_transactions=[withdrawal, reinstated])
    _dispute(
        payment, "needs_response", kind="charge.dispute.funds_withdrawn", balance_transactions=[withdrawal]
    )

    appreciation = _reload(payment)
    assert (appreciation.dispute_status, appreciation.dispute_fee_amount) == (Dispute.WON, expected)
    assert selectors.totals(currency="EUR").net == 500 - expected


def test_dispute_fee_settled_in_another_currency_is_not_subtracted(payment):
    handle(payment.completed())
    _dispute(
        payment, "lost", kind="charge.dispute.closed", balance_transactions=[_withdrawal(currency="usd")]
    )
    appreciation = _reload(payment)
    assert (appreciation.dispute_status, appreciation.dispute_fee_amount) == (Dispute.LOST, 0)


def test_dispute_in_another_currency_is_ignored(payment, caplog):
    handle(payment.completed())
    record = _dispute(payment, "lost", kind="charge.dispute.closed", currency="usd")
    assert record.outcome == Outcome.IGNORED and "currency mismatch" in record.last_error
    assert _reload(payment).dispute_status == Dispute.NONE
    # A later dispute event of ours does not pick the ignored one up either.
    _dispute(payment, "needs_response", dispute_id="dp_two")
    assert _reload(payment).dispute_status == Dispute.OPEN


def test_dispute_events_handled_one_inside_another_end_with_all_events_state(payment, monkeypatch):
    """A second worker's `closed` runs while `created` is on its way to the row lock: the state
    is computed after the lock, from every stored event, so `created` cannot write OPEN over LOST."""
    handle(payment.completed())
    created = payment.dispute_event("dp_one", "needs_response", kind="charge.dispute.created")
    closed = payment.dispute_event("dp_one", "lost", kind="charge.dispute.closed")
    original = services.appreciation_dispute_record
    calls = []

    def interleaved(**kwargs):
        calls.append(kwargs)
        if len(calls) == 1:
            handle(closed)
        return original(**kwargs)

    monkeypatch.setattr(services, "appreciation_dispute_record", interleaved)
    handle(created)

    assert len(calls) == 2
    assert _reload(payment).dispute_status == Dispute.LOST


# --- when the money arrived -----------------------------------------------------------------


def test_paid_at_is_when_stripe_says_not_when_we_processed_it():
    """A webhook retried for hours, or a reconcile run, must not move money to another month."""
    payment = StripePayment(AppreciationFactory(amount=1000))
    jan31 = int(datetime(2026, 1, 31, 22, 0, tzinfo=UTC).timestamp())
    payload = payment.completed()
    payload["created"] = jan31

    handle(payload)

    assert _reload(payment).paid_at == datetime(2026, 1, 31, 22, 0, tzinfo=UTC)
    january = selectors.totals(
        currency="EUR", start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC)
    )
    assert (january.payments, january.gross) == (1, 1000)


def test_delayed_payment_is_paid_when_it_succeeded(payment):
    completed = payment.completed_unpaid()
    completed["created"] = int(datetime(2026, 3, 30, 9, tzinfo=UTC).timestamp())
    succeeded = payment.async_succeeded()
    succeeded["created"] = int(datetime(2026, 4, 2, 9, tzinfo=UTC).timestamp())
    handle(succeeded)
    handle(completed)
    assert _reload(payment).paid_at == datetime(2026, 4, 2, 9, tzinfo=UTC)


# --- out of order, not ours, duplicates, modes, failures ---------------------------------------


def test_dispute_before_completion_is_deferred_then_applied(payment):
    record = _dispute(payment, "needs_response")
    assert record.outcome == Outcome.DEFERRED
    assert record.stripe_payment_intent_id == payment.payment_intent
    assert _reload(payment).dispute_status == Dispute.NONE

    handle(payment.completed())

    assert _reload(payment).dispute_status == Dispute.OPEN
    record.refresh_from_db()
    assert record.outcome == Outcome.PROCESSED


def test_refund_before_completion_is_deferred_then_applied(payment, stripe_transport):
    payment.charge_route(stripe_transport, refunded=150)
    record = handle(payment.refund_event("re_one", 150))
    assert record.outcome == Outcome.DEFERRED

    handle(payment.completed())

    assert _reload(payment).refunded_amount == 150
    record.refresh_from_db()
    assert record.outcome == Outcome.PROCESSED


def test_charge_event_before_completion_maps_by_metadata(payment, stripe_transport):
    payment.charge_route(stripe_transport, refunded=100)
    deferred = _dispute(payment, "needs_response")
    handle(payment.charge_refunded(100))

    appreciation = _reload(payment)
    assert appreciation.refunded_amount == 100
    assert appreciation.stripe_payment_intent_id == payment.payment_intent
    # Linking the payment intent released the dispute that was waiting for it.
    assert appreciation.dispute_status == Dispute.OPEN
    deferred.refresh_from_db()
    assert deferred.outcome == Outcome.PROCESSED

    handle(payment.completed())
    assert _reload(payment).status == Status.PAID


def test_session_we_never_created_is_stored_and_ignored():
    stranger = AppreciationFactory.build(amount=500)  # never saved: another integration's payment
    record = handle(events.event("checkout.session.completed", events.checkout_session(stranger)))
    assert record.outcome == Outcome.IGNORED
    assert not Appreciation.objects.exists()


def test_charge_we_never_created_is_stored_and_ignored(payment):
    obj = events.charge(None, charge_id="ch_other", payment_intent="pi_other", amount=900, metadata={})
    record = handle(events.event("charge.refunded", obj))
    assert record.outcome == Outcome.IGNORED
    assert StripeEvent.objects.filter(stripe_event_id=record.stripe_event_id).exists()


def test_unhandled_event_type_is_stored_and_ignored():
    record = handle(events.event("customer.created", {"id": "cus_123", "object": "customer"}))
    assert record.outcome == Outcome.IGNORED
    assert record.type == "customer.created"


def test_event_of_the_other_mode_is_stored_and_ignored(payment):
    live = payment.completed()
    live["livemode"] = True

    record = handle(live)

    assert record.outcome == Outcome.IGNORED
    assert record.livemode is True
    assert _reload(payment).status == Status.PENDING


def test_duplicate_event_changes_nothing(payment, stripe_transport):
    payment.charge_route(stripe_transport, refunded=200)
    completed = payment.completed()
    first = handle(completed)
    refunded = payment.charge_refunded(200)
    handle(refunded)

    again = handle(completed)
    handle(refunded)

    assert again.pk == first.pk
    assert again.attempts == 1
    assert StripeEvent.objects.count() == 2
    assert _reload(payment).refunded_amount == 200


def test_event_is_stored_with_its_stripe_fields(payment):
    payload = payment.completed()
    record = handle(payload)
    assert record.stripe_event_id == payload["id"]
    assert record.type == "checkout.session.completed"
    assert int(record.created.timestamp()) == payload["created"]
    assert record.api_version == events.API_VERSION
    # Stored as Stripe sent it, less what identifies the reader (payments.security.stripe_payload_redact).
    assert record.payload["data"]["object"]["customer_details"] is None
    payload["data"]["object"]["customer_details"] = None
    assert record.payload == payload
    assert record.processed_at is not None
    assert record.received_at is not None
    # What the INSERT (written once per process) stored is what the record says.
    stored = StripeEvent.objects.get(pk=record.pk)
    for field in StripeEvent._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(record, field.attname), field.name


def test_event_insert_written_once_is_what_the_orm_compiles_for_any_event(payment):
    from django.db import connection
    from django.db.models.constants import OnConflict
    from django.db.models.sql import InsertQuery

    record = StripeEvent(stripe_event_id="evt_x", type="charge.refunded", payload=payment.completed())
    query = InsertQuery(StripeEvent, on_conflict=OnConflict.IGNORE)
    query.insert_values(services._EVENT_FIELDS, [record])
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [StripeEvent._meta.pk]
    [(sql, params)] = compiler.as_sql()
    assert services._event_insert_sql() == sql
    assert len(params) == len(services._EVENT_FIELDS)


def test_locked_read_is_what_the_orm_loads(payment):
    from django.db import transaction

    appreciation = Appreciation.objects.get(pk=payment.appreciation.pk)
    Appreciation.objects.filter(pk=appreciation.pk).update(
        message="Hallo\nwereld", is_public=True, fee_amount=None
    )
    expected = Appreciation.objects.select_related("author").get(pk=appreciation.pk)
    with transaction.atomic():
        found = services._locked_by("public_id", expected.public_id)
    for field in Appreciation._meta.concrete_fields:
        value = getattr(found, field.attname)
        assert value == getattr(expected, field.attname), field.name
        assert type(value) is type(getattr(expected, field.attname)), field.name  # a UUID, not hex
    for field in Author._meta.concrete_fields:
        assert getattr(found.author, field.attname) == getattr(expected.author, field.attname), field.name
    assert found._state.adding is False and found._state.db == "default"


@pytest.mark.django_db(transaction=True)
def test_locked_read_refuses_to_run_outside_a_transaction(payment):
    from django.db.transaction import TransactionManagementError

    with pytest.raises(TransactionManagementError):
        services._locked_by("public_id", payment.appreciation.public_id)


def _notified_author(payment: StripePayment) -> None:
    """_notify_each, with an address the email really goes to."""
    from django.contrib.auth import get_user_model

    author = payment.appreciation.author
    author.user = get_user_model().objects.create_user("anna", "anna@example.org")
    author.save(update_fields=["user"])
    _notify_each(payment)


# Real commits (transaction=True): the attempt that fails is rolled back as a whole, and its
# outcome is recorded in a transaction of its own.
@pytest.mark.django_db(transaction=True)
def test_a_charge_another_record_holds_never_stops_the_payment(payment, stripe_transport, caplog):
    from payments.models import SupporterSummary

    payment.fee_route(stripe_transport, fee=33)
    AppreciationFactory(stripe_charge_id=payment.charge_id)

    record = handle(payment.completed())

    assert (record.outcome, record.attempts, record.last_error) == (Outcome.PROCESSED, 1, "")
    appreciation = _reload(payment)
    assert (appreciation.status, appreciation.stripe_payment_intent_id) == (
        Status.PAID,
        payment.payment_intent,
    )
    assert (appreciation.fee_amount, appreciation.stripe_charge_id) == (None, None)
    assert SupporterSummary.objects.get(article_id=appreciation.article_id).count is None  # made stale
    # Booked without the fee, which was then looked up once more after the commit, and logged.
    lookups = [r for r in stripe_transport.requests if r.path.startswith("/v1/payment_intents/")]
    assert len(lookups) == 2
    assert "not recorded: its charge id is another record's" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_failed_attempt_leaves_nothing_but_its_error(payment, stripe_transport):
    from django.core import mail

    from payments.models import SupporterSummary

    _notified_author(payment)
    payment.fee_route(stripe_transport, fee=33)
    # Another record holds this payment intent: linking violates the unique constraint.
    squatter = AppreciationFactory(stripe_payment_intent_id=payment.payment_intent)
    payload = payment.completed()

    with pytest.raises(services.EventProcessingError):
        handle(payload)

    record = StripeEvent.objects.get(stripe_event_id=payload["id"])
    assert (record.outcome, record.attempts) == (Outcome.FAILED, 1)
    assert "IntegrityError" in record.last_error
    appreciation = _reload(payment)
    assert (appreciation.status, appreciation.fee_amount) == (Status.PENDING, None)
    assert not SupporterSummary.objects.filter(article_id=appreciation.article_id).exists()
    assert mail.outbox == []  # the failed attempt's notification went with it

    squatter.stripe_payment_intent_id = None
    squatter.save()
    record = handle(payload)

    assert (record.outcome, record.attempts, record.last_error) == (Outcome.PROCESSED, 2, "")
    assert (_reload(payment).status, _reload(payment).fee_amount) == (Status.PAID, 33)
    assert len(mail.outbox) == 1


def test_processing_failure_is_recorded_and_a_retry_succeeds(payment):
    # Another record already holds this payment intent: linking violates the unique constraint.
    squatter = AppreciationFactory(stripe_payment_intent_id=payment.payment_intent)
    payload = payment.completed()

    with pytest.raises(services.EventProcessingError):
        handle(payload)

    record = StripeEvent.objects.get(stripe_event_id=payload["id"])
    assert record.outcome == Outcome.FAILED
    assert record.attempts == 1
    assert "IntegrityError" in record.last_error
    assert _reload(payment).status == Status.PENDING

    squatter.stripe_payment_intent_id = None
    squatter.save()
    record = handle(payload)

    assert record.outcome == Outcome.PROCESSED
    assert record.attempts == 2
    assert record.last_error == ""
    assert _reload(payment).status == Status.PAID


@pytest.mark.parametrize(
    "body",
    [
        {"object": "event", "id": "evt_1"},
        {"object": "event", "id": "evt_1", "type": "x", "created": 1, "data": {"object": "nope"}},
        {"object": "event", "id": "evt_1", "type": "x", "created": "yesterday", "data": {"object": {}}},
    ],
)
def test_event_without_stripes_fields_is_rejected_and_not_stored(body):
    with pytest.raises(services.InvalidEvent):
        handle(body)
    assert not StripeEvent.objects.exists()
