"""Submitting the widget: the pending record and the exact Checkout Session request Stripe receives."""

import json
import re
from pathlib import Path

import pytest

from payments.models import Appreciation
from tests.factories import AppreciationFactory, ArticleFactory
from tests.stripe_fakes import checkout_session_created

pytestmark = pytest.mark.django_db


REQUEST_PARAMS = Path("/work/shared/stripe/stripe-python-16.1.0.request-params.json")


def session_created(request):
    """Answer like Stripe: a new open session built from what was sent; a repeated
    Idempotency-Key gets the first answer again, as Stripe does for 24 hours."""
    key = request.headers.get("Idempotency-Key")
    if key in idempotent_answers:
        return idempotent_answers[key]
    session_id = f"cs_test_a1{len(idempotent_answers) + 1:04d}"
    idempotent_answers[key] = answer = (200, checkout_session_created(request, session_id))
    return answer


idempotent_answers: dict = {}


@pytest.fixture
def stripe(stripe_transport):
    idempotent_answers.clear()
    stripe_transport.on("POST", r"/v1/checkout/sessions", session_created)
    return stripe_transport


@pytest.fixture
def article():
    return ArticleFactory(
        title="Water in the polder", slug="water-in-de-polder", author__name="Sanne de Vries"
    )


def post(client, article, data, prefix=""):
    return client.post(f"{prefix}/payments/appreciate/{article.slug}/", data)


def test_submit_creates_pending_record_and_redirects_303_to_stripe(client, stripe, article):
    response = post(client, article, {"preset": "500", "nonce": "nonce-one-123", "message": "Dank!"})
    assert response.status_code == 303
    appreciation = Appreciation.objects.get()
    assert (
        response["Location"] == f"https://checkout.stripe.com/c/pay/{appreciation.stripe_checkout_session_id}"
    )
    assert appreciation.status == Appreciation.Status.PENDING
    assert (appreciation.amount, appreciation.currency, appreciation.fee_cover_amount) == (500, "EUR", 0)
    assert appreciation.article == article
    assert appreciation.author == article.author
    assert appreciation.message == "Dank!"
    assert appreciation.locale == "nl"


def test_exact_checkout_session_request(client, stripe, article):
    response = post(
        client,
        article,
        {
            "amount": "2,50",
            "cover_fee": "on",
            "display_name": "Anna",
            "is_public": "on",
            "nonce": "n-abcdefgh",
        },
        prefix="/en",
    )
    assert response.status_code == 303
    appreciation = Appreciation.objects.get()
    assert (appreciation.amount, appreciation.fee_cover_amount, appreciation.locale) == (280, 30, "en")
    assert appreciation.display_name == "Anna" and appreciation.is_public
    [request] = stripe.requests
    assert (request.method, request.path) == ("POST", "/v1/checkout/sessions")
    public_id = str(appreciation.public_id)
    assert request.params == {
        "mode": "payment",
        "submit_type": "donate",
        "ui_mode": "hosted_page",
        "locale": "en",
        "client_reference_id": public_id,
        "metadata[appreciation_id]": public_id,
        "metadata[article_id]": str(article.pk),
        "payment_intent_data[metadata][appreciation_id]": public_id,
        "payment_intent_data[metadata][article_id]": str(article.pk),
        "payment_intent_data[description]": "Appreciation for an article by Sanne de Vries",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "eur",
        "line_items[0][price_data][unit_amount]": "280",
        "line_items[0][price_data][product_data][name]": "Appreciation for “Water in the polder”",
        "success_url": "http://testserver/en/payments/thank-you/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"http://testserver/en/artikel/water-in-de-polder/?cancelled={public_id}#waardeer",
        # The reader pays in the record's currency: no localised price in another one.
        "adaptive_pricing[enabled]": "false",
    }
    # The key covers the exact parameters: Stripe answers the same ones with the same session.
    assert re.fullmatch(
        f"appreciation-checkout-{public_id}-[0-9a-f]{{16}}", request.headers["Idempotency-Key"]
    )
    assert request.headers["Authorization"] == "Bearer sk_test_waardeer"
    assert "payment_method_types" not in " ".join(request.params)


def test_dutch_reader_gets_dutch_checkout_and_return_urls(client, stripe, article):
    post(client, article, {"preset": "300"})
    params = stripe.requests[0].params
    assert params["locale"] == "nl"
    assert params["success_url"] == "http://testserver/payments/thank-you/?session_id={CHECKOUT_SESSION_ID}"
    assert params["cancel_url"].startswith("http://testserver/artikel/water-in-de-polder/?cancelled=")


def _flatten_names(key: str) -> list[str]:
    """`line_items[0][price_data][currency]` -> ["line_items", "price_data", "currency"]."""
    return [part for part in re.findall(r"[^\[\]]+", key) if not part.isdigit()]


def _python_type_ok(declared: str, value: str) -> bool:
    if declared.startswith("int"):
        return value.isdigit()
    if declared.startswith("bool"):
        return value in ("true", "false")
    if declared.startswith("Literal["):
        return f"'{value}'" in declared or declared.endswith("|str")
    return declared.startswith(("str", "Dict[str, str]"))


@pytest.mark.parametrize("ui_mode", ["hosted_page", "embedded_page"])
def test_every_parameter_we_send_exists_in_stripe_python_16_1_0_with_the_right_type(
    client, stripe, article, settings, ui_mode
):
    settings.STRIPE_CHECKOUT_UI_MODE = ui_mode
    post(client, article, {"amount": "12,34", "cover_fee": "on"})
    spec = json.loads(REQUEST_PARAMS.read_text())["operations"]["POST /v1/checkout/sessions"]["properties"]
    [request] = stripe.requests
    for key, value in request.params.items():
        names = _flatten_names(key)
        node = {"properties": spec}
        for depth, name in enumerate(names):
            properties = node.get("properties") or {}
            if name not in properties and "Dict[str, str]" in node.get("type", ""):
                break  # metadata: free keys, string values
            assert name in properties, f"{key}: {name!r} is not a parameter of Checkout Session create"
            node = properties[name]
            if depth == len(names) - 1:
                assert _python_type_ok(node["type"], value), f"{key}={value!r} does not fit {node['type']}"
    sent_top = {_flatten_names(key)[0] for key in request.params}
    assert ("return_url" in sent_top) == (ui_mode == "embedded_page")
    assert ("success_url" in sent_top) == (ui_mode == "hosted_page")
    assert spec["ui_mode"]["enum"] and ui_mode in spec["ui_mode"]["enum"]


def test_embedded_mode_keeps_reader_on_our_page_with_client_secret(client, stripe, article, settings):
    settings.STRIPE_CHECKOUT_UI_MODE = "embedded_page"
    response = post(client, article, {"preset": "500"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-client-secret="cs_test_a10001_secret_x"' in html
    assert 'data-publishable-key="pk_test_waardeer"' in html
    assert "Water in the polder" in html
    assert stripe.requests[0].params["return_url"].endswith("?session_id={CHECKOUT_SESSION_ID}")


def test_double_submit_creates_one_record_and_one_session(client, stripe, article):
    data = {
        "preset": "500",
        "nonce": "cached-page-nonce",
        "client_nonce": "visitor-nonce-1",
        "message": "twice",
    }
    first = post(client, article, data)
    second = post(client, article, data)
    assert first["Location"] == second["Location"]
    assert Appreciation.objects.count() == 1
    keys = {request.headers["Idempotency-Key"] for request in stripe.requests}
    assert len(keys) == 1  # a retried request Stripe answers with the same session


def test_same_form_with_another_amount_is_a_new_appreciation(client, stripe, article):
    post(client, article, {"preset": "500", "client_nonce": "visitor-nonce-1"})
    post(client, article, {"preset": "1000", "client_nonce": "visitor-nonce-1"})
    assert sorted(Appreciation.objects.values_list("amount", flat=True)) == [500, 1000]


def test_resubmitting_a_finished_attempt_starts_a_new_one(client, stripe, article):
    data = {"preset": "500", "client_nonce": "visitor-nonce-2"}
    post(client, article, data)
    Appreciation.objects.update(status=Appreciation.Status.EXPIRED)
    post(client, article, data)
    assert Appreciation.objects.count() == 2
    assert Appreciation.objects.filter(status=Appreciation.Status.PENDING).count() == 1


@pytest.mark.parametrize(
    ("status", "body", "message"),
    [
        (500, {"error": {"type": "api_error", "message": "boom"}}, "Nothing was charged"),
        (400, {"error": {"type": "invalid_request_error", "message": "bad"}}, "Nothing was charged"),
        (429, {"error": {"type": "rate_limit_error", "message": "slow"}}, "cannot be reached right now"),
    ],
)
def test_stripe_failure_gives_a_calm_message_and_leaves_no_record(
    client, stripe_transport, article, status, body, message
):
    stripe_transport.on("POST", r"/v1/checkout/sessions", body, status=status)
    response = post(client, article, {"preset": "500", "message": "kept"}, prefix="/en")
    assert response.status_code == 503
    html = response.content.decode()
    assert message in html
    assert "boom" not in html and "sk_test" not in html
    assert "kept</textarea>" in html  # the reader does not lose what they typed
    assert Appreciation.objects.count() == 0


def test_network_failure_gives_a_calm_message_and_leaves_no_record(client, stripe_transport, article):
    def unreachable(request):
        import stripe as stripe_sdk

        raise stripe_sdk.APIConnectionError("connection refused")

    stripe_transport.on("POST", r"/v1/checkout/sessions", unreachable)
    response = post(client, article, {"preset": "500"}, prefix="/en")
    assert response.status_code == 503
    assert "cannot be reached right now" in response.content.decode()
    assert Appreciation.objects.count() == 0


@pytest.mark.parametrize(
    "make",
    [
        lambda: ArticleFactory(status="draft", published_at=None),
        lambda: ArticleFactory(appreciation_enabled=False),
        lambda: ArticleFactory(published_at="2999-01-01T00:00:00Z"),
    ],
    ids=["draft", "appreciation-off", "scheduled"],
)
def test_only_published_appreciation_enabled_articles_accept_payments(client, stripe, make):
    article = make()
    response = post(client, article, {"preset": "500"})
    assert response.status_code == 404
    assert stripe.requests == [] and Appreciation.objects.count() == 0


def test_article_by_pk_and_currency_never_from_the_post(client, stripe, article, settings):
    response = client.post(
        f"/payments/appreciate/{article.pk}/", {"preset": "500", "currency": "USD", "article": "999"}
    )
    assert response.status_code == 303
    appreciation = Appreciation.objects.get()
    assert appreciation.currency == "EUR" and appreciation.article == article
    assert stripe.requests[0].params["line_items[0][price_data][currency]"] == "eur"


def test_get_is_not_allowed(client, article):
    assert client.get(f"/payments/appreciate/{article.slug}/").status_code == 405


def test_unknown_article_is_404(client, stripe):
    assert client.post("/payments/appreciate/no-such-article/", {"preset": "500"}).status_code == 404


def test_cancel_brings_the_reader_back_with_amount_and_message(client, article):
    previous = AppreciationFactory(
        article=article, amount=279, fee_cover_amount=29, message="Mooi stuk", display_name="Anna"
    )
    response = client.get(f"{article.get_absolute_url()}?cancelled={previous.public_id}")
    html = response.content.decode()
    assert "Je hebt de betaling geannuleerd" in html
    assert 'name="amount" value="2,50"' in html
    assert "Mooi stuk</textarea>" in html
    assert 'value="Anna"' in html
    assert re.search(r'<input[^>]*name="cover_fee"[^>]*checked>', html)
    assert "Betaal €\u00a00,30 extra voor de betaalkosten" in html


def test_cancel_with_a_preset_amount_selects_the_preset(client, article):
    previous = AppreciationFactory(article=article, amount=1000)
    html = client.get(f"/en{article.get_absolute_url()}?cancelled={previous.public_id}").content.decode()
    assert re.search(r'<input[^>]*name="preset" value="1000"[^>]*checked>', html)
    assert not re.search(r'<input[^>]*name="preset" value="(300|500)"[^>]*checked>', html)
    assert not re.search(r'<input[^>]*name="cover_fee"[^>]*checked>', html)


@pytest.mark.parametrize("which", ["other-article", "paid", "garbage"])
def test_cancel_note_only_for_this_articles_unfinished_attempt(client, article, which):
    if which == "other-article":
        ref = AppreciationFactory(message="not yours").public_id
    elif which == "paid":
        ref = AppreciationFactory(article=article, status="paid", message="not yours").public_id
    else:
        ref = "'><script>"
    html = client.get(f"{article.get_absolute_url()}?cancelled={ref}").content.decode()
    assert "You cancelled the payment" not in html
    assert "not yours" not in html
    assert "<script>" not in html.split("<main", 1)[1].split("appreciation.js")[0]


# --- reusing a pending record: only the same visitor's form, with their latest choices ---------


def test_without_the_script_every_submission_is_a_new_record(client, stripe, article):
    """The server-rendered nonce is the same for every reader of a cached page: it reuses nothing."""
    data = {"preset": "500", "nonce": "cached-page-nonce"}
    first, second = post(client, article, data), post(client, article, data)
    assert first["Location"] != second["Location"]
    assert Appreciation.objects.count() == 2


def test_two_readers_on_one_network_never_share_a_record_or_session(stripe, article):
    """Same cached page (same nonce), same public IP (CGNAT, an office) and the same browser build."""
    from django.test import Client

    ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) Safari/605.1.15"
    readers = [
        Client(headers={"Sec-Fetch-Site": "same-origin", "User-Agent": ua}, REMOTE_ADDR="100.64.1.1")
        for _ in range(2)
    ]
    anna = {
        "preset": "500",
        "nonce": "cached-page-nonce",
        "client_nonce": "anna-visit-1",
        "display_name": "Anna",
    }
    bert = {"preset": "500", "nonce": "cached-page-nonce", "client_nonce": "bert-visit-1", "message": "Bert"}
    first, second = post(readers[0], article, anna), post(readers[1], article, bert)
    assert first["Location"] != second["Location"]
    assert sorted(Appreciation.objects.values_list("display_name", "message")) == [("", "Bert"), ("Anna", "")]


def test_back_and_resubmit_keeps_the_session_with_the_readers_new_name_message_and_choice(
    client, stripe, article
):
    """Ticked 'show my name', went to Stripe, pressed Back, unticked it, emptied the name, paid."""
    form = {"preset": "500", "client_nonce": "visitor-nonce-3", "display_name": "Anna", "is_public": "on"}
    first = post(client, article, form)
    form.pop("is_public")
    form.update(display_name="", message="Toch anoniem")
    second = post(client, article, form)

    appreciation = Appreciation.objects.get()
    assert (appreciation.is_public, appreciation.display_name, appreciation.message) == (
        False,
        "",
        "Toch anoniem",
    )
    assert first["Location"] == second["Location"]
    assert len({request.headers["Idempotency-Key"] for request in stripe.requests}) == 1


def test_title_edited_between_two_clicks_gives_a_new_session_not_an_error(client, stripe, article):
    """Stripe refuses a key reused with other parameters; the key covers them, so the reader goes on."""
    seen = []

    def strict_stripe(request):
        # Stripe's answer to a key reused with other parameters.
        key = request.headers["Idempotency-Key"]
        if any(key == earlier_key and request.params != earlier for earlier_key, earlier in seen):
            return 400, {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests..."}}
        seen.append((key, request.params))
        return session_created(request)

    stripe.on("POST", r"/v1/checkout/sessions", strict_stripe)
    stripe.on(
        "POST", r"/v1/checkout/sessions/(?P<id>[^/]+)/expire", {"id": "x", "object": "checkout.session"}
    )
    form = {"preset": "500", "client_nonce": "visitor-nonce-4"}
    first = post(client, article, form)
    article.title = "Water in the polder (corrected)"
    article.save()
    second = post(client, article, form)

    assert (first.status_code, second.status_code) == (303, 303)
    appreciation = Appreciation.objects.get()
    assert second["Location"].endswith(appreciation.stripe_checkout_session_id)
    assert first["Location"] != second["Location"]
    # The first session is expired, so one record can never be paid twice.
    expired = [r.path for r in stripe.requests if r.path.endswith("/expire")]
    assert expired == [f"/v1/checkout/sessions/{first['Location'].rsplit('/', 1)[1]}/expire"]


def test_idempotency_error_is_a_retryable_message_and_keeps_the_record(client, stripe_transport, article):
    stripe_transport.on(
        "POST",
        r"/v1/checkout/sessions",
        {"error": {"type": "idempotency_error", "message": "Keys for idempotent requests..."}},
        status=400,
    )
    response = post(client, article, {"preset": "500", "client_nonce": "visitor-nonce-5"}, prefix="/en")
    assert response.status_code == 503
    assert "cannot be reached right now. Please try again in a moment." in response.content.decode()
    assert Appreciation.objects.count() == 1


def test_second_click_while_the_first_request_is_at_stripe_does_not_break_the_first(
    stripe_transport, article
):
    """Stripe answers a concurrent request with the same key 409 (the SDK's retries are off here)."""
    from django.test import Client

    form = {"preset": "500", "nonce": "cached-page-nonce", "client_nonce": "visitor-nonce-6"}
    reader = Client(headers={"Sec-Fetch-Site": "same-origin"})
    seen = []

    def handler(request):
        seen.append(request.headers["Idempotency-Key"])
        if len(seen) == 1:
            second = reader.post(f"/en/payments/appreciate/{article.slug}/", form)
            seen.append((second.status_code, "Please try again in a moment" in second.content.decode()))
            return 200, {
                "id": "cs_test_first",
                "object": "checkout.session",
                "amount_total": 500,
                "currency": "eur",
                "livemode": False,
                "mode": "payment",
                "payment_status": "unpaid",
                "status": "open",
                "url": "https://checkout.stripe.com/c/pay/cs_test_first",
            }
        return 409, {
            "error": {
                "type": "idempotency_error",
                "message": "There is currently another in-progress request using this Idempotent Key.",
            }
        }

    stripe_transport.on("POST", r"/v1/checkout/sessions", handler)
    first = reader.post(f"/payments/appreciate/{article.slug}/", form)

    assert seen[1] == seen[0], "the second click sent the same key"
    assert seen[2] == (503, True)
    assert first.status_code == 303
    assert Appreciation.objects.get().stripe_checkout_session_id == "cs_test_first"


def test_record_removed_during_the_stripe_call_never_sends_the_reader_to_pay(
    client, stripe_transport, article
):
    def created_then_gone(request):
        Appreciation.objects.all().delete()  # what a failing concurrent request may do
        return session_created(request)

    idempotent_answers.clear()
    stripe_transport.on("POST", r"/v1/checkout/sessions", created_then_gone)
    stripe_transport.on("POST", r"/v1/checkout/sessions/(?P<id>[^/]+)/expire", {"id": "x"})
    response = post(client, article, {"preset": "500"}, prefix="/en")

    assert response.status_code == 503
    assert [r.path for r in stripe_transport.requests][-1] == "/v1/checkout/sessions/cs_test_a10001/expire"


@pytest.mark.parametrize("ref", ["%C2%B2", "%D9%A3", "99999999999999999999999"])
def test_odd_article_refs_are_404_not_500(client, stripe, ref):
    client.raise_request_exception = False
    assert client.post(f"/payments/appreciate/{ref}/", {"preset": "500"}).status_code == 404
