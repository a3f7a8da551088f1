"""The thank-you page reads what Stripe and our record say; it never changes anything."""

import pytest
from django.utils import timezone

from payments.models import Appreciation
from tests.factories import AppreciationFactory, ArticleFactory

pytestmark = pytest.mark.django_db


def stripe_session(session_id, *, status="complete", payment_status="paid"):
    return {
        "id": session_id,
        "object": "checkout.session",
        "amount_total": 500,
        "currency": "eur",
        "payment_status": payment_status,
        "status": status,
        "livemode": False,
    }


@pytest.fixture
def pending():
    article = ArticleFactory(title="Water in the polder", slug="water")
    return AppreciationFactory(article=article, amount=500, stripe_checkout_session_id="cs_test_abc123")


def visit(client, session_id, prefix="/en"):
    return client.get(f"{prefix}/payments/thank-you/", {"session_id": session_id})


def test_paid_session_shows_amount_article_and_share_link_but_records_nothing(
    client, stripe_transport, pending
):
    stripe_transport.on("GET", r"/v1/checkout/sessions/cs_test_abc123", stripe_session("cs_test_abc123"))
    response = visit(client, "cs_test_abc123")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Thank you for your appreciation!" in html
    assert "€5.00" in html and "Water in the polder" in html
    assert 'value="http://testserver/en/artikel/water/"' in html
    assert response["Cache-Control"].startswith("max-age=0")
    pending.refresh_from_db()
    assert pending.status == Appreciation.Status.PENDING and pending.paid_at is None
    # Reloading is just as harmless.
    visit(client, "cs_test_abc123")
    pending.refresh_from_db()
    assert pending.status == Appreciation.Status.PENDING
    assert [r.method for r in stripe_transport.requests] == ["GET", "GET"]


def test_dutch_amount_formatting(client, stripe_transport, pending):
    stripe_transport.on("GET", r"/v1/checkout/sessions/cs_test_abc123", stripe_session("cs_test_abc123"))
    assert "€\u00a05,00" in visit(client, "cs_test_abc123", prefix="").content.decode()


def test_processing_payment_says_so(client, stripe_transport, pending):
    stripe_transport.on(
        "GET",
        r"/v1/checkout/sessions/cs_test_abc123",
        stripe_session("cs_test_abc123", payment_status="unpaid"),
    )
    html = visit(client, "cs_test_abc123").content.decode()
    assert "Your payment is being processed" in html
    assert "Thank you for your appreciation!" not in html


def test_record_processing_says_processing_even_if_stripe_is_down(client, stripe_transport, pending):
    Appreciation.objects.filter(pk=pending.pk).update(status=Appreciation.Status.PROCESSING)
    stripe_transport.on("GET", r"/v1/checkout/sessions/.*", {"error": {"type": "api_error"}}, status=500)
    response = visit(client, "cs_test_abc123")
    assert response.status_code == 200
    assert "Your payment is being processed" in response.content.decode()


def test_paid_record_thanks_without_asking_stripe_at_all(client, stripe_transport, pending, settings):
    settings.STRIPE_MAX_NETWORK_RETRIES = 2  # as in production: the SDK would retry a failure twice
    Appreciation.objects.filter(pk=pending.pk).update(status="paid", paid_at=timezone.now())
    stripe_transport.on("GET", r"/v1/checkout/sessions/.*", {"error": {"type": "api_error"}}, status=500)
    response = visit(client, "cs_test_abc123")
    assert response.status_code == 200
    assert "Thank you for your appreciation!" in response.content.decode()
    assert stripe_transport.requests == []


@pytest.mark.parametrize(
    "session_id",
    [
        "cs_test_unknown999",  # well-formed, not ours
        "cs_live_a1b2c3",
        "",
        "{CHECKOUT_SESSION_ID}",
        "'><script>alert(1)</script>",
        "x" * 5000,
        "cs_test_../../v1/charges",
    ],
)
def test_unknown_or_forged_session_ids_get_a_friendly_404_without_asking_stripe(
    client, stripe_transport, pending, session_id
):
    response = visit(client, session_id)
    assert response.status_code == 404
    html = response.content.decode()
    assert "We cannot find this payment" in html
    assert "<script>alert(1)" not in html
    assert stripe_transport.requests == []


def test_missing_session_id_is_404(client, stripe_transport):
    assert client.get("/payments/thank-you/").status_code == 404


def test_a_session_stripe_no_longer_knows_still_renders(client, stripe_transport, pending):
    stripe_transport.on(
        "GET",
        r"/v1/checkout/sessions/.*",
        {"error": {"type": "invalid_request_error", "code": "resource_missing"}},
        status=404,
    )
    response = visit(client, "cs_test_abc123")
    assert response.status_code == 200
    assert "Your payment is not complete yet" in response.content.decode()
