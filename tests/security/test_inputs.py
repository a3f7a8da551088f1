"""Hostile input to every form and endpoint a reader, author or webhook reaches: a clear error or
a 4xx, never a 500, never a half-made record, and reader text escaped wherever it is shown.

Runs on SQLite and on PostgreSQL (DATABASE_URL), where a NUL byte in a text column raises."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from payments.models import Appreciation, StripeEvent
from payments.notifications import appreciation_paid_notify
from tests.conftest import WEBHOOK_SECRET
from tests.factories import ArticleFactory
from tests.panel_helpers import author_login, editor_login
from tests.payments.events import StripePayment
from tests.security.helpers import answer_session_create, appreciate_url, form_data, session_creations
from tests.stripe_fakes import signed_webhook

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


@pytest.fixture(autouse=True)
def _english_urls():
    translation.activate("en")
    yield
    translation.activate("nl")


@pytest.fixture
def stripe(stripe_transport):
    answer_session_create(stripe_transport)
    return stripe_transport


@pytest.fixture
def article():
    return ArticleFactory(slug="de-dijk", title="De dijk")


def post(client, target, **fields):
    return client.post(appreciate_url(target, "/en"), form_data(**fields))


def assert_refused(response, stripe, status=400):
    assert response.status_code == status
    assert Appreciation.objects.count() == 0 and session_creations(stripe) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"preset": "", "amount": "-5"}, "Enter a positive amount."),
        ({"preset": "", "amount": "0"}, "Enter an amount of more than zero."),
        ({"preset": "", "amount": "0.49"}, "The minimum is"),
        ({"preset": "", "amount": "99999999999"}, "That amount is too large."),
        ({"preset": "", "amount": "1e3"}, "Enter an amount such as 5 or 2,50."),
        ({"preset": "", "amount": "NaN"}, "Enter an amount such as 5 or 2,50."),
        ({"preset": "", "amount": "Infinity"}, "Enter an amount such as 5 or 2,50."),
        ({"preset": "", "amount": "５"}, "Enter an amount such as 5 or 2,50."),
        ({"preset": "", "amount": "1" * 40}, "Ensure this value has at most 32 characters"),
        ({"preset": "1"}, "Select a valid choice."),
        ({"preset": "-500"}, "Select a valid choice."),
        ({"preset": "abc"}, "Select a valid choice."),
        ({"preset": "", "amount": ""}, "Choose an amount or enter your own."),
    ],
)
def test_amounts_are_checked_on_the_server_whatever_the_client_sends(
    client, stripe, article, fields, message
):
    response = post(client, article, **fields)
    assert_refused(response, stripe)
    assert message in response.content.decode()


def test_the_configured_minimum_holds_for_a_direct_post(client, stripe, article, settings):
    settings.APPRECIATION_MIN_AMOUNT = 700
    assert "The minimum is €7.00." in post(client, article, preset="", amount="6.99").content.decode()
    assert_refused(post(client, article, preset="500"), stripe)  # a preset below the minimum too
    assert post(client, article, preset="", amount="7").status_code == 303


def test_tampered_fields_are_ignored(client, stripe, article):
    other = ArticleFactory()
    response = post(
        client,
        article,
        currency="USD",
        article=str(other.pk),
        amount_total="1",
        fee_cover_amount="99999",
        status="paid",
        author="1",
        locale="xx",
        stripe_checkout_session_id="cs_test_forged",
    )
    assert response.status_code == 303
    appreciation = Appreciation.objects.get()
    assert (appreciation.article, appreciation.currency, appreciation.amount) == (article, "EUR", 500)
    assert (appreciation.status, appreciation.fee_cover_amount, appreciation.locale) == ("pending", 0, "en")
    assert appreciation.stripe_checkout_session_id != "cs_test_forged"
    assert stripe.requests[0].params["line_items[0][price_data][unit_amount]"] == "500"


@pytest.mark.parametrize(
    "make",
    [
        lambda: None,
        lambda: ArticleFactory(status="draft"),
        lambda: ArticleFactory(appreciation_enabled=False),
        lambda: ArticleFactory(published_at=datetime(2999, 1, 1, tzinfo=UTC)),
    ],
    ids=["unknown", "draft", "appreciation-off", "scheduled"],
)
def test_articles_that_take_no_appreciation_are_404(client, stripe, make):
    target = make()
    url = appreciate_url(target) if target else "/payments/appreciate/no-such-thing/"
    response = client.post(url, form_data())
    assert_refused(response, stripe, status=404)


@pytest.mark.parametrize(
    "ref", ["..%2f..%2fadmin", "1" * 300, "999999999999999999999999", "caf%C3%A9", "a%20b"]
)
def test_odd_article_references_are_404(client, stripe, ref):
    assert_refused(client.post(f"/payments/appreciate/{ref}/", form_data()), stripe, status=404)


@pytest.mark.parametrize("url", ["/payments/appreciate/%00/", "/artikel/x/?page=%00", "/en/?cancelled=%00"])
def test_a_nul_byte_in_the_url_is_a_400(client, stripe, url):
    response = client.post(url, form_data()) if "appreciate" in url else client.get(url)
    assert response.status_code == 400
    assert Appreciation.objects.count() == 0 and session_creations(stripe) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"display_name": "x" * 81}, "Ensure this value has at most 80 characters"),
        ({"message": "x" * 1001}, "Ensure this value has at most 1000 characters"),
        ({"display_name": "Anna\x00"}, "Null characters are not allowed."),
        ({"message": "hi\x00there"}, "Null characters are not allowed."),
    ],
)
def test_long_text_and_nul_bytes_get_a_clear_error(client, stripe, article, fields, message):
    response = post(client, article, **fields)
    assert_refused(response, stripe)
    assert message in response.content.decode()


def test_control_and_direction_characters_are_stripped(client, stripe, article):
    response = post(
        client,
        article,
        display_name="An\x1bna\u202e\t Smit\x7f",
        message="line one\r\nline two\x07\u2066\x85 end",
    )
    assert response.status_code == 303
    appreciation = Appreciation.objects.get()
    assert appreciation.display_name == "Anna Smit"
    assert appreciation.message == "line one\nline two end"


def test_invalid_utf8_in_the_body_is_no_500(client, stripe, article):
    body = "preset=500&display_name=%ff%fe%00&message=%c3%28&" + "&".join(
        f"{k}={v}" for k, v in form_data().items() if k != "preset"
    )
    response = client.post(
        appreciate_url(article, "/en"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "Null characters are not allowed." in response.content.decode()
    assert Appreciation.objects.count() == 0
    body = body.replace("%00", "")
    response = client.post(
        appreciate_url(article, "/en"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 303
    assert "\ufffd" in Appreciation.objects.get().display_name


def test_an_oversized_body_is_refused_with_a_4xx(client, stripe, article, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = post(client, article, message="x" * 20_000)
    assert response.status_code in (400, 413)
    assert Appreciation.objects.count() == 0 and session_creations(stripe) == 0
    too_many = client.post(
        appreciate_url(article, "/en"), {**form_data(), **{f"f{i}": "1" for i in range(1100)}}
    )
    assert too_many.status_code in (400, 413)


def test_json_or_multipart_bodies_are_no_500(client, stripe, article):
    assert (
        client.post(appreciate_url(article, "/en"), "{}", content_type="application/json").status_code == 400
    )
    assert client.post(appreciate_url(article, "/en"), form_data()).status_code == 303  # multipart


@pytest.mark.parametrize(
    "session_id",
    ["", "cs_test_" + "a" * 300, "cs_test_x' OR 1=1 --", "cs_test_%00", "../../etc/passwd", SCRIPT],
)
def test_the_thank_you_page_answers_404_for_anything_not_ours(client, stripe, session_id):
    response = client.get("/en/payments/thank-you/", {"session_id": session_id})
    assert response.status_code == 404
    assert SCRIPT not in response.content.decode()
    assert not [r for r in stripe.requests if r.method == "GET"]  # Stripe is not even asked


def test_sandbox_pages_are_404_outside_the_sandbox(client, stripe):
    assert client.get("/en/payments/sandbox/checkout/cs_test_x/").status_code == 404
    assert client.post("/en/payments/sandbox/checkout/cs_test_x/", {"choice": "paid"}).status_code == 404


# --- redirects -------------------------------------------------------------------------------------

OFF_SITE = [
    "https://evil.example/",
    "//evil.example/",
    "javascript:alert(1)",
    "/\\evil.example",
    "http:evil.example",
    " https://evil.example",
    "data:text/html,<script>alert(1)</script>",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_language_switch_never_redirects_off_site(target):
    response = Client().post("/i18n/setlang/", {"language": "en", "next": target})
    assert response.status_code == 302
    assert response["Location"] in ("/", "/en/")


@pytest.mark.parametrize("target", OFF_SITE)
def test_the_admin_login_never_redirects_off_site(target, admin_user):
    client = Client()
    response = client.post(
        f"/en/admin/login/?next={target}", {"username": admin_user.username, "password": "password"}
    )
    assert response.status_code == 302
    assert response["Location"].startswith("/en/admin/")


def test_checkout_return_urls_are_ours(client, stripe, article, settings):
    post(client, article)
    params = stripe.requests[0].params
    assert params["success_url"].startswith(f"{settings.SITE_URL}/en/payments/thank-you/")
    assert params["cancel_url"].startswith(f"{settings.SITE_URL}/en/artikel/de-dijk/")


def test_cancelled_parameter_is_only_our_record(client, article):
    for value in (SCRIPT, "not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = client.get(f"/en/artikel/de-dijk/?cancelled={value}")
        assert response.status_code == 200
        assert SCRIPT not in response.content.decode()


# --- escaping everywhere reader text is shown ---------------------------------------------------


def deliver(client, payload):
    body, header = signed_webhook(payload, WEBHOOK_SECRET)
    return client.post(
        "/payments/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )


def test_hostile_text_is_escaped_on_the_article_in_the_admin_csv_and_email(client, stripe, settings):
    _user, author = author_login("anna", notify="each", language="en")
    article = ArticleFactory(author=author, slug="hostile", title="Hostile")
    name, message = f"{IMG}Anna", f'{SCRIPT}\n=HYPERLINK("http://evil.example")'
    assert post(client, article, display_name=name, message=message, is_public="on").status_code == 303
    appreciation = Appreciation.objects.get()
    assert deliver(client, StripePayment(appreciation).completed()).status_code == 200
    appreciation.refresh_from_db()
    assert appreciation.status == "paid"

    page = client.get("/en/artikel/hostile/").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;Anna" in page and IMG not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page and SCRIPT not in page

    staff = Client()
    staff.force_login(editor_login())
    changelist = staff.get(reverse("admin:payments_appreciation_changelist")).content.decode()
    change = staff.get(reverse("admin:payments_appreciation_change", args=[appreciation.pk])).content.decode()
    for html in (changelist, change):
        assert IMG not in html and SCRIPT not in html
    assert "&lt;script&gt;" in change

    export = staff.get(reverse("admin:panel-export"), {"period": "all"})
    assert export.status_code == 200
    text = b"".join(export.streaming_content).decode("utf-8-sig")
    assert "Anna" in text
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)

    mail.outbox.clear()
    appreciation_paid_notify(appreciation.pk)
    [email] = mail.outbox
    html_body = email.alternatives[0][0]
    assert SCRIPT not in html_body and IMG not in html_body and "&lt;script&gt;" in html_body
    assert "\n" not in email.subject and "\r" not in email.subject


def test_hostile_text_in_an_article_title_is_escaped_in_stripe_and_pages(client, stripe):
    article = ArticleFactory(slug="t", title=f"{SCRIPT} Title")
    assert post(client, article).status_code == 303
    assert stripe.requests[0].params["line_items[0][price_data][product_data][name]"].count(SCRIPT) == 1
    page = client.get("/en/artikel/t/").content.decode()
    assert SCRIPT not in page.replace('<script type="application/ld+json">', "")


# --- webhooks: forged or odd bodies ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ("{}", {}),
        ("not json", {"HTTP_STRIPE_SIGNATURE": "t=1,v1=00"}),
        ("\x00\xff", {"HTTP_STRIPE_SIGNATURE": "garbage"}),
        ('{"id": "evt_1", "object": "event"}', {"HTTP_STRIPE_SIGNATURE": "t=9999999999,v1=" + "a" * 64}),
    ],
)
def test_forged_webhooks_are_400_and_store_nothing(client, stripe, body, headers):
    response = client.post("/payments/stripe/webhook/", body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert StripeEvent.objects.count() == 0


def test_a_signed_event_with_hostile_strings_changes_nothing_of_ours(client, stripe):
    payload = {
        "id": f"evt_{SCRIPT}",
        "object": "event",
        "type": "checkout.session.completed",
        "created": int(datetime.now(UTC).timestamp()),
        "livemode": False,
        "data": {"object": {"id": "cs_test_\x00", "object": "checkout.session", "metadata": {"x": IMG}}},
    }
    response = deliver(client, payload)
    # Signed by Stripe, so acknowledged (a 4xx/5xx would be retried for days), stored without the NUL.
    assert response.status_code == 200
    assert Appreciation.objects.count() == 0
    stored = StripeEvent.objects.get()
    assert stored.payload["data"]["object"]["id"] == "cs_test_"


# --- what an author or editor can send in the panel -----------------------------------------------

PANEL_GETS = [
    ("admin:payments_appreciation_changelist", {"q": "x\x00y"}),
    ("admin:payments_appreciation_changelist", {"q": SCRIPT, "o": "99", "status__exact": "\x00"}),
    ("admin:articles_article_changelist", {"q": "\x00", "p": "-1"}),
    ("admin:panel-export", {"period": "custom", "start": "\x00", "end": "2026-99-99"}),
    ("admin:panel-export", {"author": "\x00"}),
    ("admin:index", {"period": "custom", "start": "%ff", "author": "1 OR 1=1", "sort": SCRIPT}),
    ("admin:panel-statement", {"month": "\x00", "author": "-1"}),
]


@pytest.mark.parametrize(("name", "params"), PANEL_GETS)
def test_panel_filters_and_searches_with_hostile_values_are_no_500(name, params):
    staff = Client(raise_request_exception=False)
    staff.force_login(editor_login())
    response = staff.get(reverse(name), params)
    assert response.status_code < 500
    assert SCRIPT not in response.content.decode(errors="replace") if not name.endswith("export") else True


def test_an_author_cannot_save_a_nul_byte_in_an_article():
    user, _author = author_login("noor")
    staff = Client(raise_request_exception=False)
    staff.force_login(user)
    response = staff.post(
        reverse("admin:articles_article_add"),
        {"title": "a\x00b", "slug": "a-b", "lede": "x\x00", "body": "\x00"},
    )
    assert response.status_code == 200  # the form again, with errors
    assert "Null characters are not allowed." in response.content.decode()
