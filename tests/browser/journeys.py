"""Steps a reader takes in the browser, written once and shared by the journey tests.

Everything is found the way a person finds it: by label, role and visible name, in the
page's language (the strings come from the catalogue through `tr`), never by CSS class.
"""

from django.utils import translation

from payments.money import format_money
from tests.browser.conftest import ntr, tr


def article_path(article, language: str = "nl") -> str:
    with translation.override(language):
        return article.get_absolute_url()


def preset(page, cents: int, language: str = "nl"):
    return page.get_by_role("radio", name=format_money(cents, "EUR", language), exact=True)


def amount_field(page, language: str = "nl"):
    return page.get_by_label(tr("My chosen appreciation", language), exact=True)


def pay_button(page, language: str = "nl"):
    return page.get_by_role("button", name=tr("Appreciate", language), exact=True)


def fill_widget(
    page,
    *,
    amount: str,
    preset_cents: int | None = None,
    name: str = "",
    message: str = "",
    public: bool = False,
    language: str = "nl",
) -> None:
    """Pick a preset (if given), then type an own amount over it, and the optional fields."""
    if preset_cents is not None:
        preset(page, preset_cents, language).check()
    field = amount_field(page, language)
    field.fill("")
    field.press_sequentially(amount)
    if name:
        page.get_by_label(tr("Your name (optional)", language), exact=True).fill(name)
    if message:
        page.get_by_label(tr("A message for the author (optional)", language), exact=True).fill(message)
    if public:
        page.get_by_label(tr("Show my name and message publicly", language), exact=True).check()


def submit_to_sandbox(page, language: str = "nl") -> None:
    pay_button(page, language).click()
    page.wait_for_url("**/payments/sandbox/checkout/**")
    assert page.get_by_role("heading", name=tr("Test checkout", language)).is_visible()


# The sandbox's buttons, by the tester's choice.
SANDBOX_BUTTONS = {
    "paid": "Pay: the payment succeeds",
    "declined": "Decline the card",
    "paid_later": "Pay later: the payment is still processing",
    "abandoned": "Abandon: the session expires",
    "async_succeeded": "The delayed payment succeeds",
    "async_failed": "The delayed payment fails",
}


def sandbox_choose(page, choice: str, language: str = "nl") -> None:
    page.get_by_role("button", name=tr(SANDBOX_BUTTONS[choice], language), exact=True).click()
    page.wait_for_load_state()


def wait_for_thank_you(page) -> None:
    page.wait_for_url("**/payments/thank-you/**")


def supporter_count_text(count: int, language: str = "nl") -> str:
    if not count:
        return tr("Be the first reader to appreciate this article.", language)
    return ntr(
        "%(counter)s reader appreciated this article",
        "%(counter)s readers appreciated this article",
        count,
        language,
    ) % {"counter": count}


def supporters_list(page, language: str = "nl"):
    return page.get_by_role("list", name=tr("Readers who appreciated this article", language))


def sees_supporters(page, count: int, language: str = "nl") -> None:
    """Assert the article shows `count` supporters without a reload: article pages make the
    browser revalidate (max-age=0, must-revalidate), so coming back after paying shows the payment."""
    expected = page.get_by_text(supporter_count_text(count, language), exact=True)
    assert expected.is_visible()
