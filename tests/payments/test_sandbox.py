"""The offline sandbox, end to end: the real checkout code, SDK included, against a local transport,
and the tester's choices turned into Stripe-shaped events through the webhook's own handler."""

import re

import pytest
from django.test import TestCase

from payments import sandbox, stripe_api
from payments.models import Appreciation, StripeEvent
from tests.factories import AppreciationFactory, ArticleFactory
from tests.translated import translated_count, translated_html

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def offline_sandbox(settings, monkeypatch):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_SANDBOX = True
    settings.STRIPE_WEBHOOK_SECRETS = []
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", None)


@pytest.fixture
def article():
    return ArticleFactory(title="Water in the polder", slug="water")


def start(client, article, data=None, prefix=""):
    response = client.post(f"{prefix}/payments/appreciate/{article.slug}/", data or {"preset": "500"})
    assert response.status_code == 303
    appreciation = Appreciation.objects.latest("created_at")
    assert (
        response["Location"]
        == f"http://testserver{prefix}/payments/sandbox/checkout/{appreciation.stripe_checkout_session_id}/"
    )
    return appreciation, response["Location"]


def choose(client, url, choice):
    """The tester's choice, with its transaction's on-commit work run as a real commit would run
    it (the test's own transaction never commits): the page cache is invalidated, mail is sent."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, {"choice": choice})


# What the Dutch reader sees in the widget and on the thank-you page.
FIRST = "Be the first reader to appreciate this article."
THANKS = "Thank you for your appreciation!"


def readers(count: int) -> str:
    return translated_count(
        "%(counter)s reader appreciated this article",
        "%(counter)s readers appreciated this article",
        count,
        counter=count,
    )


def article_html(client, article):
    return client.get("/artikel/water/").content.decode()


def test_pay_leads_to_a_test_checkout_page_marked_as_test(client, article):
    appreciation, url = start(client, article)
    assert appreciation.status == Appreciation.Status.PENDING
    assert appreciation.stripe_checkout_session_id == f"cs_test_sandbox_{appreciation.public_id.hex}"
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="sandbox-banner"' in html and translated_html("TEST MODE") in html
    assert "€\u00a05,00" in html and "Water in the polder" in html
    assert set(re.findall(r'name="choice" value="(\w+)"', html)) == {
        "paid",
        "declined",
        "paid_later",
        "abandoned",
    }


def test_paid_journey_counts_the_supporter_on_the_article_page(client, article):
    assert translated_html(FIRST) in article_html(client, article)
    appreciation, url = start(client, article, {"amount": "4", "display_name": "Anna", "is_public": "on"})
    response = choose(client, url, sandbox.PAID)
    assert response.status_code == 303
    assert response["Location"] == (
        f"http://testserver/payments/thank-you/?session_id={appreciation.stripe_checkout_session_id}"
    )
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.PAID
    assert appreciation.paid_at is not None
    assert appreciation.stripe_payment_intent_id == f"pi_sandbox_{appreciation.public_id.hex}"
    # The fee came through the SDK from the sandbox's payment intent: 1.5 % of 400 rounded up + 25.
    assert (appreciation.fee_amount, appreciation.net_amount) == (31, 369)
    assert appreciation.payment_method_type == "card"
    event = StripeEvent.objects.get()
    assert event.type == "checkout.session.completed" and event.livemode is False
    assert event.payload["data"]["object"]["client_reference_id"] == str(appreciation.public_id)
    thanks = client.get(response["Location"]).content.decode()
    assert translated_html(THANKS) in thanks
    html = article_html(client, article)
    assert readers(1) in html
    assert "Anna" in html


def test_a_double_click_on_paid_changes_nothing_twice(client, article):
    _appreciation, url = start(client, article)
    choose(client, url, sandbox.PAID)
    again = choose(client, url, sandbox.PAID)
    assert again.status_code == 409
    assert StripeEvent.objects.count() == 1
    assert Appreciation.objects.get().status == Appreciation.Status.PAID


def test_paid_later_is_processing_then_succeeds(client, article):
    appreciation, url = start(client, article)
    response = choose(client, url, sandbox.PAID_LATER)
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.PROCESSING
    thanks = client.get(response["Location"]).content.decode()
    assert translated_html("Thank you! Your payment is being processed") in thanks
    assert url.replace("http://testserver", "") in thanks  # the tester finds the way back to decide
    html = client.get(url).content.decode()
    assert set(re.findall(r'name="choice" value="(\w+)"', html)) == {"async_succeeded", "async_failed"}
    waiting = article_html(client, article)
    assert readers(0) not in waiting and translated_html(FIRST) in waiting
    choose(client, url, sandbox.ASYNC_SUCCEEDED)
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.PAID
    assert appreciation.fee_amount == 33  # ceil(500 * 1.5 %) + 25
    assert translated_html(THANKS) in client.get(response["Location"]).content.decode()
    assert readers(1) in article_html(client, article)
    assert list(StripeEvent.objects.order_by("created", "id").values_list("type", flat=True)) == [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ]


def test_paid_later_then_fails(client, article):
    appreciation, url = start(client, article)
    choose(client, url, sandbox.PAID_LATER)
    choose(client, url, sandbox.ASYNC_FAILED)
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.FAILED
    assert translated_html(FIRST) in article_html(client, article)


def test_declined_card_stays_on_the_sandbox_page_and_records_nothing(client, article):
    appreciation, url = start(client, article)
    response = choose(client, url, sandbox.DECLINED)
    assert response.status_code == 402
    html = response.content.decode()
    assert translated_html("Your card was declined. Nothing was charged; try another choice.") in html
    assert 'value="paid"' in html  # the tester can still try again
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.PENDING
    assert StripeEvent.objects.count() == 0


def test_abandoned_session_expires_and_the_reader_is_back_at_the_widget(client, article):
    appreciation, url = start(client, article, {"amount": "7,50", "message": "Goed stuk"})
    response = choose(client, url, sandbox.ABANDONED)
    assert response.status_code == 303
    assert (
        response["Location"]
        == f"http://testserver/artikel/water/?cancelled={appreciation.public_id}#waardeer"
    )
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.EXPIRED
    assert StripeEvent.objects.get().type == "checkout.session.expired"
    html = client.get(response["Location"]).content.decode()
    assert 'name="amount" value="7,50"' in html and "Goed stuk</textarea>" in html
    assert translated_html(FIRST) in html


def test_english_reader_stays_in_english(client, article):
    _appreciation, url = start(client, article, prefix="/en")
    assert url.startswith("http://testserver/en/payments/sandbox/")
    response = choose(client, url, sandbox.PAID)
    assert response["Location"].startswith("http://testserver/en/payments/thank-you/")


def test_sdk_calls_are_answered_from_the_database(article):
    appreciation = AppreciationFactory(article=article, amount=1000)
    appreciation.stripe_checkout_session_id = sandbox.session_id_for(appreciation)
    appreciation.save()
    session = stripe_api.checkout_session_retrieve(appreciation.stripe_checkout_session_id)
    assert (session["status"], session["payment_status"], session["amount_total"]) == ("open", "unpaid", 1000)
    Appreciation.objects.filter(pk=appreciation.pk).update(status="paid")
    session = stripe_api.checkout_session_retrieve(appreciation.stripe_checkout_session_id)
    assert (session["status"], session["payment_status"]) == ("complete", "paid")
    intent = stripe_api.payment_intent_retrieve_with_fees(sandbox.payment_intent_id_for(appreciation))
    txn = intent["latest_charge"]["balance_transaction"]
    assert (txn["fee"], txn["net"], txn["currency"]) == (40, 960, "eur")
    assert intent["latest_charge"]["payment_method_details"]["type"] == "card"
    assert stripe_api.events_list(created_gte=0) == []
    with pytest.raises(stripe_api.PaymentProviderError):
        stripe_api.checkout_session_retrieve("cs_test_sandbox_" + "0" * 32)


def test_session_create_refuses_an_amount_that_is_not_the_records(article):
    appreciation = AppreciationFactory(article=article, amount=1000)
    with pytest.raises(stripe_api.PaymentProviderError):
        stripe_api.checkout_session_create(
            {
                "mode": "payment",
                "client_reference_id": str(appreciation.public_id),
                "line_items": [{"quantity": 1, "price_data": {"currency": "eur", "unit_amount": 1}}],
            },
            idempotency_key="k",
        )


def test_decode_form_rebuilds_nested_parameters():
    body = (
        "a=1&m%5Bk%5D=v&line_items%5B0%5D%5Bprice_data%5D%5Bunit_amount%5D=300"
        "&expand%5B0%5D=x&expand%5B1%5D=y"
    )
    assert sandbox.decode_form(body) == {
        "a": "1",
        "m": {"k": "v"},
        "line_items": [{"price_data": {"unit_amount": "300"}}],
        "expand": ["x", "y"],
    }


@pytest.mark.parametrize(("debug", "sandbox_flag"), [(True, False), (False, True), (False, False)])
def test_sandbox_pages_404_when_not_in_sandbox_mode(client, settings, article, debug, sandbox_flag):
    appreciation = AppreciationFactory(article=article)
    appreciation.stripe_checkout_session_id = sandbox.session_id_for(appreciation)
    appreciation.save()
    settings.DEBUG, settings.STRIPE_SANDBOX = debug, sandbox_flag
    url = f"/payments/sandbox/checkout/{appreciation.stripe_checkout_session_id}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"choice": "paid"}).status_code == 404
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.PENDING


def test_sandbox_transport_refuses_to_answer_outside_debug(settings, article):
    settings.DEBUG = False
    transport = sandbox.SandboxTransport()
    _body, status, _headers = transport.request("get", "https://api.stripe.com/v1/events", {})
    assert status == 403


def test_unknown_sandbox_session_is_404(client):
    assert client.get("/payments/sandbox/checkout/cs_test_sandbox_nothing/").status_code == 404
    assert client.get("/payments/sandbox/checkout/cs_test_sandbox_" + "0" * 32 + "/").status_code == 404


def test_a_choice_that_is_not_offered_is_refused(client, article):
    _appreciation, url = start(client, article)
    response = choose(client, url, sandbox.ASYNC_SUCCEEDED)
    assert response.status_code == 409
    assert StripeEvent.objects.count() == 0
    assert choose(client, url, "<script>").status_code == 409
