"""The widget in a real browser (Debian's Chromium): what the small script adds, and the sandbox
journey by clicks. Skips when Chromium or Playwright is missing (see tests/browser/conftest.py)."""

import pytest
from django.utils import translation

from payments import stripe_api
from payments.models import Appreciation
from tests.browser.conftest import CHROMIUM, browser, new_page  # noqa: F401  (fixture and helper)
from tests.factories import ArticleFactory

pytest.importorskip("playwright", reason="SKIPPED browser tests: playwright is not installed")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(CHROMIUM is None, reason="SKIPPED browser tests: Debian's chromium is not installed"),
]


@pytest.fixture(autouse=True)
def offline_sandbox(settings, monkeypatch, live_server):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_SANDBOX = True
    settings.SITE_URL = live_server.url
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", None)
    translation.activate("nl")
    yield
    translation.activate("nl")


def test_script_fills_presets_checks_as_you_type_and_shows_the_fee(browser, live_server):  # noqa: F811
    article = ArticleFactory(slug="water")
    page = new_page(browser, "phone")
    page.goto(f"{live_server.url}/artikel/{article.slug}/")
    amount = page.locator("#id_amount")
    page.locator("label[for=id_preset_1]").click()
    assert amount.input_value() == "5,00"
    amount.fill("0,10")
    amount.blur()
    assert amount.get_attribute("aria-invalid") == "true"
    assert "id_amount_error" in amount.get_attribute("aria-describedby")
    assert page.locator("#id_amount_error").inner_text() == "The minimum is €\u00a01,00."
    amount.fill("2.5")
    amount.blur()
    assert amount.input_value() == "2,50"
    assert amount.get_attribute("aria-invalid") is None
    assert (
        page.locator("label[for=id_cover_fee]").inner_text() == "Add €\u00a00,30 to cover the payment costs"
    )
    page.locator("#id_cover_fee").check()
    assert page.locator("[data-total]").inner_text() == "You pay €\u00a02,80 in total."
    # The whole sandbox journey by clicks.
    page.locator("#submit-id-pay").click()
    page.wait_for_url("**/payments/sandbox/checkout/**")
    assert "TEST MODE" in page.locator(".sandbox-banner").inner_text()
    page.locator("button[value=paid]").click()
    page.wait_for_url("**/payments/thank-you/**")
    assert "Thank you for your appreciation!" in page.content()
    appreciation = Appreciation.objects.get()
    assert (appreciation.status, appreciation.amount, appreciation.fee_cover_amount) == ("paid", 280, 30)
    page.goto(f"{live_server.url}/artikel/{article.slug}/")
    assert "1 reader appreciated this article" in page.content()
    page.context.close()


def test_without_javascript_an_invalid_amount_comes_back_with_the_message(browser, live_server):  # noqa: F811
    article = ArticleFactory(slug="water")
    page = new_page(browser, "desktop", javascript=False)
    page.goto(f"{live_server.url}/en/artikel/{article.slug}/")
    page.locator("#id_amount").fill("2,555")
    page.locator("#id_message").fill("Kept for you")
    response_holder = []
    page.on("response", lambda response: response_holder.append(response.status))
    page.locator("#submit-id-pay").click()
    page.wait_for_load_state()
    assert 400 in response_holder
    assert "thousands separator" in page.locator("#id_amount_error").inner_text()
    assert page.locator("#id_message").input_value() == "Kept for you"
    assert Appreciation.objects.count() == 0
    page.context.close()
