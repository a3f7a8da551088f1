"""POST /payments/stripe/webhook/: signatures exactly as Stripe signs, every bad request, the answers."""

import json
import logging
import time

import pytest
from django.urls import reverse

from payments.models import Appreciation, StripeEvent
from tests.conftest import WEBHOOK_SECRET
from tests.factories import AppreciationFactory
from tests.payments import events
from tests.payments.events import StripePayment
from tests.stripe_fakes import signed_webhook

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_transport")]

URL = "/payments/stripe/webhook/"


@pytest.fixture
def payment() -> StripePayment:
    return StripePayment(AppreciationFactory(amount=500, stripe_checkout_session_id=events.stripe_id("cs")))


def post(client, body: str, header: str | None):
    extra = {"HTTP_STRIPE_SIGNATURE": header} if header is not None else {}
    return client.post(URL, data=body, content_type="application/json", **extra)


def deliver(client, payload, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None):
    body, header = signed_webhook(payload, secret, timestamp=timestamp)
    return post(client, body, header)


def test_url_is_named_in_the_payments_namespace():
    assert reverse("payments:stripe-webhook") == URL


def test_signed_completion_marks_the_appreciation_paid(client, payment):
    response = deliver(client, payment.completed())

    assert response.status_code == 200
    assert response.json() == {"received": True, "outcome": "processed"}
    assert Appreciation.objects.get().status == Appreciation.Status.PAID


def test_english_prefixed_url_works_too(client, payment):
    body, header = signed_webhook(payment.completed(), WEBHOOK_SECRET)
    response = client.post(
        "/en" + URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    assert response.status_code == 200


def test_duplicate_delivery_answers_200_and_changes_nothing(client, payment):
    payload = payment.completed()
    deliver(client, payload)
    paid_at = Appreciation.objects.get().paid_at

    response = deliver(client, payload)

    assert response.status_code == 200
    assert StripeEvent.objects.get().attempts == 1
    assert Appreciation.objects.get().paid_at == paid_at


def test_rotated_secret_is_accepted(client, payment, settings):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_new_secret", WEBHOOK_SECRET]
    assert deliver(client, payment.completed(), secret="whsec_new_secret").status_code == 200
    assert deliver(client, payment.async_succeeded(), secret=WEBHOOK_SECRET).status_code == 200
    assert StripeEvent.objects.count() == 2


def test_header_with_several_signatures_is_accepted_if_one_matches(client, payment):
    body, header = signed_webhook(payment.completed(), WEBHOOK_SECRET)
    timestamp, good = header.split(",")
    response = post(client, body, f"{timestamp},v1={'0' * 64},{good}")
    assert response.status_code == 200


def _assert_rejected(response, caplog, status=400):
    assert response.status_code == status
    assert not StripeEvent.objects.exists()
    assert Appreciation.objects.get().status == Appreciation.Status.PENDING
    rejected = [record for record in caplog.records if "webhook rejected" in record.getMessage()]
    assert len(rejected) == 1
    assert WEBHOOK_SECRET not in caplog.text
    assert "checkout.session" not in caplog.text


def test_missing_signature_is_400(client, payment, caplog):
    body, _header = signed_webhook(payment.completed(), WEBHOOK_SECRET)
    with caplog.at_level(logging.INFO):
        _assert_rejected(post(client, body, None), caplog)


def test_wrong_secret_is_400(client, payment, caplog):
    with caplog.at_level(logging.INFO):
        _assert_rejected(deliver(client, payment.completed(), secret="whsec_someone_else"), caplog)


def test_tampered_body_is_400(client, payment, caplog):
    body, header = signed_webhook(payment.completed(), WEBHOOK_SECRET)
    tampered = body.replace('"amount_total": 500', '"amount_total": 50')
    assert tampered != body
    with caplog.at_level(logging.INFO):
        _assert_rejected(post(client, tampered, header), caplog)


def test_garbage_signature_header_is_400(client, payment, caplog):
    body, _header = signed_webhook(payment.completed(), WEBHOOK_SECRET)
    with caplog.at_level(logging.INFO):
        _assert_rejected(post(client, body, "not a signature"), caplog)


def test_stale_timestamp_is_400(client, payment, caplog):
    with caplog.at_level(logging.INFO):
        response = deliver(client, payment.completed(), timestamp=int(time.time()) - 301)
        _assert_rejected(response, caplog)


def test_timestamp_within_tolerance_is_accepted(client, payment):
    response = deliver(client, payment.completed(), timestamp=int(time.time()) - 240)
    assert response.status_code == 200


def test_signed_malformed_json_is_400(client, payment, caplog):
    with caplog.at_level(logging.INFO):
        _assert_rejected(deliver(client, '{"id": "evt_1", "object": "event",'), caplog)


@pytest.mark.parametrize(
    "payload",
    [
        [1, 2, 3],
        {"id": "ch_1", "object": "charge"},
        {"id": "evt_1", "object": "event", "type": "charge.refunded"},
        {"id": "evt_1", "object": "event", "type": "x", "created": 1, "data": {"object": None}},
    ],
    ids=["list", "not-an-event", "no-data", "no-object"],
)
def test_signed_json_that_is_not_an_event_is_400(client, payment, caplog, payload):
    with caplog.at_level(logging.INFO):
        _assert_rejected(deliver(client, json.dumps(payload)), caplog)


def test_body_over_one_megabyte_is_413_before_verification(client, payment, caplog):
    payload = payment.completed()
    payload["data"]["object"]["metadata"]["padding"] = "x" * (1024 * 1024)
    with caplog.at_level(logging.INFO):
        _assert_rejected(deliver(client, payload), caplog, status=413)


def test_declared_length_over_one_megabyte_is_413(client, payment, caplog):
    body, header = signed_webhook(payment.completed(), WEBHOOK_SECRET)
    with caplog.at_level(logging.INFO):
        response = client.generic(
            "POST",
            URL,
            body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=header,
            CONTENT_LENGTH=str(1024 * 1024 + 1),
        )
        _assert_rejected(response, caplog, status=413)


def test_get_is_405(client):
    assert client.get(URL).status_code == 405


def test_webhook_needs_no_csrf_token(payment):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert deliver(strict, payment.completed()).status_code == 200


def test_no_configured_secret_rejects_everything(client, payment, settings, caplog):
    settings.STRIPE_WEBHOOK_SECRETS = []
    with caplog.at_level(logging.INFO):
        _assert_rejected(deliver(client, payment.completed()), caplog)


def test_unknown_session_is_acknowledged_and_stored(client):
    stranger = AppreciationFactory.build(amount=500)
    response = deliver(client, events.event("checkout.session.completed", events.checkout_session(stranger)))
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.IGNORED


def test_unhandled_type_is_acknowledged_and_stored(client):
    response = deliver(client, events.event("payout.paid", {"id": "po_1", "object": "payout"}))
    assert response.status_code == 200
    assert StripeEvent.objects.get().outcome == StripeEvent.Outcome.IGNORED


def test_livemode_mismatch_is_acknowledged_stored_and_ignored(client, payment):
    payload = payment.completed()
    payload["livemode"] = True

    response = deliver(client, payload)

    assert response.status_code == 200
    record = StripeEvent.objects.get()
    assert (record.livemode, record.outcome) == (True, StripeEvent.Outcome.IGNORED)
    assert Appreciation.objects.get().status == Appreciation.Status.PENDING


def test_live_key_processes_live_events(client, payment, settings):
    settings.STRIPE_SECRET_KEY = "sk_live_waardeer"
    payload = payment.completed()
    payload["livemode"] = True

    assert deliver(client, payload).status_code == 200
    assert Appreciation.objects.get().status == Appreciation.Status.PAID


def test_processing_failure_is_500_then_a_redelivery_succeeds(client, payment):
    squatter = AppreciationFactory(stripe_payment_intent_id=payment.payment_intent)
    payload = payment.completed()

    response = deliver(client, payload)

    assert response.status_code == 500
    record = StripeEvent.objects.get()
    assert record.outcome == StripeEvent.Outcome.FAILED
    assert record.last_error

    squatter.stripe_payment_intent_id = None
    squatter.save()
    response = deliver(client, payload)

    assert response.status_code == 200
    record.refresh_from_db()
    assert (record.outcome, record.attempts) == (StripeEvent.Outcome.PROCESSED, 2)
    assert Appreciation.objects.get(pk=payment.appreciation.pk).status == Appreciation.Status.PAID
