"""Our test payloads use Stripe's field names and types, checked against Stripe's published fixtures.

The fixture file lives in the team's shared reference folder; without it the check is skipped.
"""

import json
from pathlib import Path

import pytest

from tests.factories import AppreciationFactory
from tests.payments import events
from tests.payments.events import StripePayment

FIXTURES = Path("/work/shared/stripe/fixtures3.subset.json")

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not FIXTURES.exists(), reason="Stripe fixtures3 subset not available"),
]


@pytest.fixture(scope="module")
def stripe_fixtures():
    return json.loads(FIXTURES.read_text())["resources"]


def _assert_shaped_like(ours: dict, theirs: dict, where: str) -> None:
    for key, value in ours.items():
        assert key in theirs, f"{where}.{key} is not a Stripe field"
        reference = theirs[key]
        if value is None or reference is None:
            continue
        if isinstance(reference, dict) and isinstance(value, dict) and reference:
            if key in ("metadata", "payment_method_details", "data"):
                continue  # free-form or keyed by method
            _assert_shaped_like(value, reference, f"{where}.{key}")
        elif not isinstance(reference, dict):
            assert type(value) is type(reference) or {type(value), type(reference)} <= {int, bool}, (
                f"{where}.{key}: {type(value).__name__} where Stripe has {type(reference).__name__}"
            )


def test_builders_match_stripes_fixture_shapes(stripe_fixtures):
    payment = StripePayment(AppreciationFactory(amount=500))
    pi_with_fees = events.payment_intent_with_fees(
        payment_intent=payment.payment_intent, charge_id=payment.charge_id, amount=500, fee=33
    )
    cases = {
        "checkout.session": payment.session(),
        "charge": events.charge(payment.appreciation, charge_id=payment.charge_id, payment_intent="pi_1"),
        "refund": events.refund(refund_id="re_1", charge_id="ch_1", payment_intent="pi_1", amount=100),
        "dispute": events.dispute(dispute_id="dp_1", charge_id="ch_1", payment_intent="pi_1", amount=500),
        "event": payment.completed(),
        "payment_intent": {key: value for key, value in pi_with_fees.items() if key != "latest_charge"},
        "balance_transaction": pi_with_fees["latest_charge"]["balance_transaction"],
    }
    for name, ours in cases.items():
        _assert_shaped_like(ours, stripe_fixtures[name], name)
    _assert_shaped_like(
        {key: value for key, value in pi_with_fees["latest_charge"].items() if key != "balance_transaction"},
        stripe_fixtures["charge"],
        "payment_intent.latest_charge",
    )
