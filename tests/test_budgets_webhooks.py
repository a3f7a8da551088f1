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


def test_completed_checkout_is_stored_and_booked_with_its_fee_in_one_commit(client, payment):
    with CaptureQueriesContext(connection) as queries:
        assert deliver(client, payment.completed()).json()["outcome"] == "processed"
    appreciation = Appreciation.objects.get()
    assert (appreciation.status, appreciation.fee_amount, appreciation.net_amount) == ("paid", 33, 467)
    assert appreciation.stripe_payment_intent_id == payment.payment_intent
    assert appreciation.stripe_charge_id == payment.charge_id
    assert StripeEvent.objects.get().outcome == "processed"
    sql = [query["sql"] for query in queries]
    # Each commit waits for the disk: the event, the payment and its fee share one.
    assert sql.count("COMMIT") == 1
    # The event, and the article's stored supporters made stale (payments.models.SupporterSummary).
    inserts = [q for q in sql if q.startswith("INSERT")]
    assert len(inserts) == 2 and '"payments_supportersummary"' in inserts[1]
    writes = [q for q in sql if q.startswith('UPDATE "payments_appreciation"')]
    assert len(writes) == 1 and '"fee_amount" = 33' in writes[0] and "\"status\" = 'paid'" in writes[0]
    # The event is inserted as processed: no second write of it, and no read of it back.
    assert not any(
        q.startswith(('UPDATE "payments_stripeevent"', 'SELECT "payments_stripeevent"."id", ')) for q in sql
    )
    appreciation_reads = [q for q in sql if q.startswith('SELECT "payments_appreciation"')]
    # The one locked read with its author, who takes the daily digest: no read after the commit.
    assert len(appreciation_reads) == 1
    if connection.vendor == "postgresql":
        assert appreciation_reads[0].endswith('FOR UPDATE OF "payments_appreciation"')
    # No savepoint around the handler: a failure rolls the attempt back and is recorded anew.
    assert not any(q.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")) for q in sql)
    assert len(queries) <= 8, "\n".join(sql)


def test_redelivery_is_cheap_and_changes_nothing(client, payment):
    payload = payment.completed()
    deliver(client, payload)
    before = Appreciation.objects.values().get()
    with CaptureQueriesContext(connection) as queries:
        assert deliver(client, payload).json()["outcome"] == "processed"
    assert Appreciation.objects.values().get() == before
    assert StripeEvent.objects.get().attempts == 1
    # The INSERT that finds the id taken and the locked read of the stored event; nothing else.
    assert not any(q["sql"].startswith("UPDATE") for q in queries)
    assert len(queries) <= 6, "\n".join(q["sql"] for q in queries)


def test_failed_fee_lookup_books_the_payment_and_is_not_repeated(client, stripe_transport):
    payment = StripePayment(
        AppreciationFactory(amount=500, stripe_checkout_session_id=events.stripe_id("cs"))
    )
    assert deliver(client, payment.completed()).json()["outcome"] == "processed"
    appreciation = Appreciation.objects.get()
    assert (appreciation.status, appreciation.fee_amount) == ("paid", None)
    lookups = [r for r in stripe_transport.requests if r.path.startswith("/v1/payment_intents/")]
    assert len(lookups) == 1  # reconcile fills the fee later
