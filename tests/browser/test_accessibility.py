"""Accessibility in Chromium: axe-core finds nothing serious or critical on the article and its
widget (also in its error states, with and without JavaScript), errors reach screen readers,
the widget and the sandbox checkout work with the keyboard alone, and the phone layout does
not scroll sideways. The thank-you page and the dashboard are checked in the journeys."""

import pytest
from django.utils import timezone

from payments.models import Appreciation
from payments.money import format_money
from tests.browser.conftest import assert_accessible, screenshot, tr
from tests.browser.journeys import (
    amount_field,
    article_path,
    pay_button,
    preset,
    supporters_list,
    wait_for_thank_you,
)
from tests.factories import AppreciationFactory, ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AMBIGUOUS = "Write the amount without a thousands separator, such as 1000 or 2,50."


def _article_with_a_supporter():
    article = ArticleFactory(title="Wie de dijk bewaakt", slug="wie-de-dijk-bewaakt")
    AppreciationFactory(
        article=article,
        status=Appreciation.Status.PAID,
        display_name="Sanne de Wit",
        message="Dank voor dit stuk.",
        is_public=True,
        paid_at=timezone.now(),
    )
    return article


def _widget(page, language: str = "nl"):
    return page.get_by_role("region", name=tr("Appreciate this article!", language))


def _scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def _assert_error_announced(page, message: str) -> None:
    """The amount field is marked invalid and described by the element that holds the message."""
    field = amount_field(page)
    assert field.get_attribute("aria-invalid") == "true"
    described_by = field.get_attribute("aria-describedby").split()
    texts = [page.locator(f"[id='{element_id}']").inner_text().strip() for element_id in described_by]
    assert message in texts


def test_article_page_and_widget_have_no_serious_axe_findings(open_page, sandbox_site, viewport_name):
    article = _article_with_a_supporter()
    page = open_page(viewport_name)
    page.goto(sandbox_site + article_path(article))
    assert "Sanne de Wit" in supporters_list(page).inner_text()
    assert not _scrolls_sideways(page)
    screenshot(page, f"article-{viewport_name}")
    widget = _widget(page)
    widget.scroll_into_view_if_needed()
    screenshot(widget, f"widget-{viewport_name}")
    assert_accessible(page)


def test_widget_errors_without_javascript_come_back_announced_and_accessible(open_page, sandbox_site):
    article = _article_with_a_supporter()
    page = open_page("desktop", javascript=False)
    page.goto(sandbox_site + article_path(article))
    amount_field(page).fill("2,555")
    page.get_by_label(tr("A message for the author (optional)")).fill("Kept for you")
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        pay_button(page).click()
    assert posted.value.status == 400
    page.wait_for_load_state()

    summary = page.get_by_role("alert")
    assert tr(AMBIGUOUS) in summary.inner_text()
    _assert_error_announced(page, tr(AMBIGUOUS))
    assert amount_field(page).input_value() == "2,555"
    assert page.get_by_label(tr("A message for the author (optional)")).input_value() == "Kept for you"
    # The summary's link leads to the field.
    summary.get_by_role("link", name=tr(AMBIGUOUS)).click()
    assert page.evaluate("location.hash") == "#div_id_amount"
    assert Appreciation.objects.filter(status=Appreciation.Status.PENDING).count() == 0
    screenshot(page, "widget-error-no-js")

    # axe-core needs JavaScript: the same server-rendered error page, with our own scripts
    # blocked so the form is posted exactly as without JavaScript.
    checked = open_page("desktop")
    checked.route("**/static/js/**", lambda route: route.abort())
    checked.goto(sandbox_site + article_path(article))
    amount_field(checked).fill("2,555")
    pay_button(checked).click()
    checked.wait_for_load_state()
    _assert_error_announced(checked, tr(AMBIGUOUS))
    assert_accessible(checked)


def test_widget_errors_with_javascript_are_announced_as_you_type_and_block_the_submit(
    open_page, sandbox_site
):
    article = _article_with_a_supporter()
    page = open_page("phone")
    page.goto(sandbox_site + article_path(article))
    field = amount_field(page)
    field.fill("0,10")
    field.blur()
    minimum = tr("The minimum is %(minimum)s.") % {"minimum": format_money(100, "EUR", "nl")}
    _assert_error_announced(page, minimum)
    # The message sits in a live region, so it is read out when it appears.
    assert page.locator("[id='id_amount_error']").get_attribute("aria-live") == "polite"

    pay_button(page).click()
    assert page.evaluate("document.activeElement.name") == "amount"
    assert "/artikel/" in page.url
    assert Appreciation.objects.filter(status=Appreciation.Status.PENDING).count() == 0
    screenshot(page, "widget-error-js-phone")
    assert_accessible(page)

    field.fill("3")
    field.blur()
    assert field.get_attribute("aria-invalid") is None
    assert "id_amount_error" not in (field.get_attribute("aria-describedby") or "")


def _tab_to(page, predicate: str, *, limit: int = 60) -> None:
    """Press Tab until the focused element satisfies the JavaScript `predicate(el)`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(el => {predicate})(document.activeElement)"):
            return
    raise AssertionError(f"Tab never reached an element where {predicate}")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_widget_and_sandbox_checkout_work_with_the_keyboard_alone(open_page, sandbox_site, javascript):
    article = _article_with_a_supporter()
    page = open_page("desktop", javascript=javascript)
    page.goto(sandbox_site + article_path(article))

    _tab_to(page, "el.name === 'preset'")
    page.keyboard.press("Space")
    assert preset(page, 300).is_checked()
    _tab_to(page, "el.name === 'amount'")
    if javascript:
        assert amount_field(page).input_value() == "3,00"
    _tab_to(page, "el.name === 'is_public'")
    page.keyboard.press("Space")
    assert page.get_by_label(tr("Show my name and message publicly")).is_checked()
    _tab_to(page, "el.type === 'submit' && el.name === 'pay'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/payments/sandbox/checkout/**")

    succeed = tr("Pay: the payment succeeds")
    _tab_to(page, f"el.tagName === 'BUTTON' && el.innerText.trim() === {succeed!r}")
    page.keyboard.press("Enter")
    wait_for_thank_you(page)
    appreciation = Appreciation.objects.get(status=Appreciation.Status.PAID, amount=300)
    assert appreciation.is_public is True
    assert page.get_by_role("heading", level=1).inner_text() == tr("Thank you for your appreciation!")
