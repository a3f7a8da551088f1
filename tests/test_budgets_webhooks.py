"""Query budgets of the webhook: what one signed event costs the database.

The bench's webhook row (`make bench`) needs hundreds of events a second on PostgreSQL; every
query of the busiest event, `checkout.session.completed`, counts. BEGIN, COMMIT and savepoints
are round trips too and are counted here.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from payments.models import Appreciation, StripeEvent
from tests.conftest import WEBHOOK_SECRET
from tests.factories import AppreciationFactory
from tests.payments import events
from tests.payments.events import StripePayment
from tests.stripe_fakes import signed_webhook

# Autocommit as in production: the test's own transaction would hide BEGIN and COMMIT.
pytestmark = [pytest.mark.django_db(transaction=True)]

URL = "/payments/stripe/webhook/"


def deliver(client, payload):
    body, header = signed_webhook(payload, WEBHOOK_SECRET)
    return client.post(URL, data=body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


@pytest.fixture
def payment(stripe_transport) -> StripePayment:
    payment = StripePayment(
        AppreciationFactory(amount=500, stripe_checkout_session_id=events.stripe_id("cs"))
    )
    payment.fee_route(stripe_transport, fee=33)
    return payment


def test_completed_checkout_costs_one_locked_read_and_few_writes(client, payment):
    with CaptureQueriesContext(connection) as queries:
        assert deliver(client, payment.completed()).json()["outcome"] == "processed"
    appreciation = Appreciation.objects.get()
    assert (appreciation.status, appreciation.fee_amount, appreciation.net_amount) == ("paid", 33, 467)
    assert appreciation.stripe_payment_intent_id == payment.payment_intent
    assert StripeEvent.objects.get().outcome == "processed"
    sql = [query["sql"] for query in queries]
    # Stored with one INSERT; the appreciation read once, under its lock, and written once.
    assert sum(q.startswith("INSERT") for q in sql) == 1
    appreciation_reads = [q for q in sql if q.startswith('SELECT "payments_appreciation"')]
    # The one read before the commit (the author's notification reads after it, not ours).
    assert len(appreciation_reads) <= 2
    if connection.vendor == "postgresql":
        assert sum("FOR UPDATE" in q for q in appreciation_reads) == 1
    assert len(queries) <= 13, "\n".join(sql)


def test_redelivery_is_cheap_and_changes_nothing(client, payment):
    payload = payment.completed()
    deliver(client, payload)
    before = Appreciation.objects.values().get()
    with CaptureQueriesContext(connection) as queries:
        assert deliver(client, payload).json()["outcome"] == "processed"
    assert Appreciation.objects.values().get() == before
    assert StripeEvent.objects.get().attempts == 1
    # The failed INSERT, the locked read of the stored event, the fee check; no replay query.
    assert len(queries) <= 7, "\n".join(q["sql"] for q in queries)
