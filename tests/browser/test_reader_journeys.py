"""A reader's journeys in Chromium, on a phone and a desktop: from the home page through the
widget and the offline sandbox checkout to the thank-you page and back, with and without
JavaScript, for every outcome the sandbox offers, and in English."""

import pytest

from payments.models import Appreciation
from payments.money import format_money
from tests.browser.conftest import assert_accessible, screenshot, tr
from tests.browser.journeys import (
    amount_field,
    article_path,
    fill_widget,
    preset,
    sandbox_choose,
    sees_supporters,
    submit_to_sandbox,
    supporter_count_text,
    supporters_list,
    wait_for_thank_you,
)
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE = "Eindelijk iemand die de dijkwerkers zelf aan het woord laat."


def _article(**fields):
    return ArticleFactory(title="Wie de dijk bewaakt", slug="wie-de-dijk-bewaakt", **fields)


def _open_article_from_home(page, base_url: str, article) -> None:
    page.goto(f"{base_url}/")
    page.get_by_role("link", name=article.title, exact=True).first.click()
    page.wait_for_url(f"**{article_path(article)}")
    assert page.get_by_role("heading", level=1).inner_text() == article.title


def _back_to_article_from_thank_you(page, article, language: str = "nl") -> None:
    back = tr("Back to “%(title)s”", language) % {"title": article.title}
    page.get_by_role("link", name=back, exact=True).click()
    page.wait_for_url(f"**{article_path(article, language)}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_reader_pays_an_own_amount_and_finds_their_name_under_the_article(
    open_page, sandbox_site, viewport_name, javascript
):
    article = _article()
    page = open_page(viewport_name, javascript=javascript)
    _open_article_from_home(page, sandbox_site, article)
    assert page.get_by_text(supporter_count_text(0)).is_visible()

    preset(page, 500).check()
    if javascript:
        # The script copies the preset into the amount field.
        assert amount_field(page).input_value() == "5,00"
    fill_widget(page, amount="2,50", name="Sanne de Wit", message=MESSAGE, public=True)
    if javascript:
        # Typing an own amount unticks the preset it no longer matches.
        assert not preset(page, 500).is_checked()
    submit_to_sandbox(page)
    sandbox_choose(page, "paid")
    wait_for_thank_you(page)

    assert page.get_by_role("heading", level=1).inner_text() == tr("Thank you for your appreciation!")
    appreciation = Appreciation.objects.get()
    assert (appreciation.status, appreciation.amount, appreciation.currency) == ("paid", 250, "EUR")
    assert (appreciation.display_name, appreciation.message, appreciation.is_public) == (
        "Sanne de Wit",
        MESSAGE,
        True,
    )
    assert format_money(250, "EUR", "nl") in page.locator("main").inner_text()
    if javascript:
        screenshot(page, f"thank-you-{viewport_name}")
        assert_accessible(page)

    _back_to_article_from_thank_you(page, article)
    sees_supporters(page, 1)
    supporters = supporters_list(page)
    assert "Sanne de Wit" in supporters.inner_text()
    assert MESSAGE in supporters.inner_text()


def test_declined_card_keeps_the_reader_in_checkout_and_another_try_pays(
    open_page, sandbox_site, viewport_name
):
    article = _article()
    page = open_page(viewport_name)
    page.goto(sandbox_site + article_path(article))
    fill_widget(page, amount="4")
    submit_to_sandbox(page)
    checkout_url = page.url

    sandbox_choose(page, "declined")
    assert page.url == checkout_url
    alert = page.get_by_role("alert")
    assert alert.inner_text() == tr("Your card was declined. Nothing was charged; try another choice.")
    assert Appreciation.objects.get().status == "pending"

    sandbox_choose(page, "paid")
    wait_for_thank_you(page)
    assert page.get_by_role("heading", level=1).inner_text() == tr("Thank you for your appreciation!")
    assert Appreciation.objects.get().status == "paid"


@pytest.mark.parametrize(
    ("outcome", "status", "heading", "count"),
    [
        ("async_succeeded", "paid", "Thank you for your appreciation!", 1),
        ("async_failed", "failed", "The payment did not go through", 0),
    ],
    ids=["succeeded", "failed"],
)
def test_payment_that_settles_later_ends_as_the_bank_decides(
    open_page, sandbox_site, viewport_name, outcome, status, heading, count
):
    article = _article()
    page = open_page(viewport_name)
    page.goto(sandbox_site + article_path(article))
    fill_widget(page, amount="7,50", name="Joost", message="Voor later.", public=True)
    submit_to_sandbox(page)

    sandbox_choose(page, "paid_later")
    wait_for_thank_you(page)
    processing = tr("Thank you! Your payment is being processed")
    assert page.get_by_role("heading", level=1).inner_text() == processing
    assert Appreciation.objects.get().status == "processing"

    page.get_by_role("link", name=tr("Test mode: decide what this delayed payment does")).click()
    page.wait_for_url("**/payments/sandbox/checkout/**")
    sandbox_choose(page, outcome)
    wait_for_thank_you(page)
    assert page.get_by_role("heading", level=1).inner_text() == tr(heading)
    assert Appreciation.objects.get().status == status

    _back_to_article_from_thank_you(page, article)
    sees_supporters(page, count)
    assert ("Voor later." in page.locator("main").inner_text()) is bool(count)


def test_abandoned_checkout_returns_to_the_article_with_the_choice_kept(
    open_page, sandbox_site, viewport_name
):
    article = _article()
    page = open_page(viewport_name)
    page.goto(sandbox_site + article_path(article))
    fill_widget(page, amount="2,50", message="Misschien later.")
    submit_to_sandbox(page)

    sandbox_choose(page, "abandoned")
    page.wait_for_url(f"**{article_path(article)}?cancelled=*")
    note = page.get_by_text(
        tr(
            "You cancelled the payment, so nothing was charged. Your amount and message are still here "
            "if you want to try again."
        )
    )
    assert note.get_attribute("role") == "status"
    assert amount_field(page).input_value() == "2,50"
    assert page.get_by_label(tr("A message for the author (optional)")).input_value() == "Misschien later."
    assert Appreciation.objects.get().status == "expired"
    assert page.get_by_text(supporter_count_text(0)).is_visible()


def test_reader_switches_to_english_and_pays_in_english(open_page, sandbox_site, viewport_name):
    article = _article()
    page = open_page(viewport_name)
    page.goto(sandbox_site + article_path(article))
    page.get_by_role("navigation", name=tr("Language")).get_by_role("link", name="English").click()
    page.wait_for_url(f"**{article_path(article, 'en')}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name=tr("Appreciate this article!", "en")).is_visible()

    preset(page, 1000, "en").check()
    assert amount_field(page, "en").input_value() == "10.00"
    fill_widget(page, amount="2.50", name="Sam", message="Great reporting.", public=True, language="en")
    submit_to_sandbox(page, "en")
    assert page.get_by_role("button", name=tr("Pay: the payment succeeds", "en")).is_visible()
    sandbox_choose(page, "paid", "en")
    wait_for_thank_you(page)
    assert "/en/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == tr("Thank you for your appreciation!", "en")
    assert format_money(250, "EUR", "en") in page.locator("main").inner_text()
    appreciation = Appreciation.objects.get()
    assert (appreciation.amount, appreciation.locale, appreciation.status) == (250, "en", "paid")

    _back_to_article_from_thank_you(page, article, "en")
    sees_supporters(page, 1, "en")
    assert "Great reporting." in supporters_list(page, "en").inner_text()
