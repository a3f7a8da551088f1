"""Readers are not tracked and their emails are not kept; reader_data shows and erases what we hold."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from payments.models import Appreciation, StripeEvent
from payments.security import stripe_payload_redact
from tests.conftest import WEBHOOK_SECRET
from tests.factories import AppreciationFactory, ArticleFactory
from tests.payments.events import StripePayment
from tests.stripe_fakes import signed_webhook

pytestmark = pytest.mark.django_db


def test_public_pages_load_nothing_from_other_sites(client):
    article = ArticleFactory()
    for url in ("/", article.get_absolute_url(), "/en/"):
        html = client.get(url).content.decode()
        sources = re.findall(r'<(?:script|img|iframe|link)[^>]+(?:src|href)="([^"]+)"', html)
        external = [s for s in sources if s.startswith(("http:", "https:", "//")) and "testserver" not in s]
        assert external == [], url


def test_the_thank_you_page_shows_only_our_own_record():
    """It never says why a card failed or anything Stripe knows beyond paid/processing."""
    paid = AppreciationFactory(status="failed", stripe_checkout_session_id="cs_test_failed1")
    response = Client().get("/en/payments/thank-you/", {"session_id": paid.stripe_checkout_session_id})
    html = response.content.decode()
    assert response.status_code == 200 and "did not go through" in html
    for word in ("declined", "insufficient", "cvc", "card_declined", "do_not_honor", "expired_card"):
        assert word not in html.lower()
    assert not response.cookies


def reader(name="Anna de Boer", message="Mooi stuk", **fields):
    return AppreciationFactory(
        display_name=name,
        message=message,
        is_public=True,
        status="paid",
        paid_at=timezone.now(),
        stripe_checkout_session_id=fields.pop("session", "cs_test_reader1"),
        **fields,
    )


def run(*args) -> str:
    out = StringIO()
    call_command("reader_data", *args, stdout=out)
    return out.getvalue()


def test_reader_data_shows_what_we_hold_by_session_or_appreciation_id():
    appreciation = reader()
    by_session = run("--session", "cs_test_reader1")
    by_id = run("--appreciation", str(appreciation.public_id))
    assert by_session == by_id
    assert "Anna de Boer" in by_session and "Mooi stuk" in by_session
    assert "€5.00" in by_session and "public: yes" in by_session and "status: paid" in by_session


def test_reader_data_erase_blanks_name_and_message_keeps_the_money_and_is_idempotent():
    appreciation = reader()
    other = reader(name="Bram", session="cs_test_other")
    assert "erased" in run("--session", "cs_test_reader1", "--erase")
    appreciation.refresh_from_db()
    assert (appreciation.display_name, appreciation.message, appreciation.is_public) == ("", "", False)
    assert (appreciation.amount, appreciation.status, appreciation.currency) == (500, "paid", "EUR")
    assert "already erased" in run("--session", "cs_test_reader1", "--erase")
    other.refresh_from_db()
    assert other.display_name == "Bram"


def test_reader_data_erase_takes_the_name_off_the_article_page(client, django_capture_on_commit_callbacks):
    appreciation = reader(name="Anna Zichtbaar")
    url = appreciation.article.get_absolute_url()
    assert "Anna Zichtbaar" in client.get(url).content.decode()  # now also in the page cache
    with django_capture_on_commit_callbacks(execute=True):
        run("--appreciation", str(appreciation.public_id), "--erase")
    assert "Anna Zichtbaar" not in client.get(url).content.decode()


def test_reader_data_by_email_says_we_hold_no_emails():
    reader()
    out = run("--email", "reader@example.org")
    assert "We hold no reader email addresses" in out
    assert "Anna" not in out


def test_reader_data_refuses_bad_input():
    with pytest.raises(CommandError):
        run()
    with pytest.raises(CommandError):
        run("--appreciation", "not-a-uuid")
    assert "No appreciation matches." in run("--session", "cs_test_unknown")


def test_our_tables_hold_no_reader_email_after_a_payment(client, stripe_transport):
    appreciation = AppreciationFactory(stripe_checkout_session_id="cs_test_privacy1")
    event = StripePayment(appreciation).completed()
    assert event["data"]["object"]["customer_details"]["email"] == "reader@example.org"
    body, header = signed_webhook(event, WEBHOOK_SECRET)
    client.post(
        "/payments/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )
    appreciation.refresh_from_db()
    assert appreciation.status == "paid"
    columns = [f.name for f in Appreciation._meta.fields]
    assert not [c for c in columns if "email" in c]
    stored = StripeEvent.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM payments_stripeevent WHERE id = %s", [stored.pk])
        raw = str(cursor.fetchone()[0])
    assert "reader@example.org" not in raw


def test_stripe_payloads_are_redacted_of_personal_data():
    event = {
        "id": "evt_1",
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": "cs_test_1",
                "amount_total": 500,
                "customer_details": {"email": "a@b.nl", "name": "Anna", "address": {"city": "Delft"}},
                "customer_email": "a@b.nl",
                "metadata": {"appreciation_id": "x"},
                "payment_intent": {
                    "latest_charge": {"billing_details": {"email": "a@b.nl"}, "receipt_email": "a@b.nl"}
                },
                "line_items": [{"price_data": {"product_data": {"name": "Appreciation"}}}],
            }
        },
    }
    redacted = stripe_payload_redact(event)
    assert "a@b.nl" not in str(redacted) and "Anna" not in str(redacted) and "Delft" not in str(redacted)
    assert redacted["data"]["object"]["amount_total"] == 500
    assert redacted["data"]["object"]["metadata"] == {"appreciation_id": "x"}
    assert redacted["data"]["object"]["line_items"][0]["price_data"]["product_data"]["name"] == "Appreciation"
    assert event["data"]["object"]["customer_email"] == "a@b.nl"  # the original is not changed
