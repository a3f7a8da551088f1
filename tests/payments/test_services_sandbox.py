"""The offline sandbox answers the charge lookup refund events need, from our own record."""

import pytest

from payments import sandbox, services, stripe_api
from payments.models import Appreciation, StripeEvent
from tests.factories import AppreciationFactory
from tests.payments import events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def offline_sandbox(settings, monkeypatch):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_SANDBOX = True
    settings.STRIPE_WEBHOOK_SECRETS = []
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", None)


def test_sandbox_answers_a_charge_from_the_record():
    appreciation = AppreciationFactory(amount=700, status=Appreciation.Status.PAID, refunded_amount=200)
    charge = stripe_api.charge_retrieve(sandbox.charge_id_for(appreciation))
    assert (charge["id"], charge["amount"], charge["amount_refunded"], charge["currency"]) == (
        sandbox.charge_id_for(appreciation),
        700,
        200,
        "eur",
    )
    assert charge["metadata"]["appreciation_id"] == str(appreciation.public_id)


@pytest.mark.parametrize("charge_id", ["ch_sandbox_nothex", "ch_test_123", "ch_sandbox_" + "0" * 32])
def test_sandbox_says_no_such_charge_for_anything_else(charge_id):
    with pytest.raises(stripe_api.PaymentProviderError):
        stripe_api.charge_retrieve(charge_id)


def test_refund_event_for_a_sandbox_payment_is_processed_through_the_sandbox():
    appreciation = AppreciationFactory(amount=700)
    services.stripe_event_handle(sandbox.event_for(sandbox.PAID, appreciation))
    refund = events.refund(
        refund_id="re_sandbox_1",
        charge_id=sandbox.charge_id_for(appreciation),
        payment_intent=sandbox.payment_intent_id_for(appreciation),
        amount=300,
    )
    record = services.stripe_event_handle(events.event("refund.created", refund))
    assert record.outcome == StripeEvent.Outcome.PROCESSED
    appreciation.refresh_from_db()
    assert appreciation.stripe_charge_id == sandbox.charge_id_for(appreciation)
