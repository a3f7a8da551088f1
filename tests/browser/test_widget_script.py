"""What the widget's small script adds in a real browser: presets fill the amount field, the
amount is normalised for the page's language, and covering the payment costs shows the fee
and the total, which is what the reader then pays. (Moved here from tests/payments.)"""

import pytest

from payments.forms import AmountLimits
from payments.models import Appreciation
from payments.money import format_money
from tests.browser.conftest import tr
from tests.browser.journeys import (
    amount_field,
    article_path,
    preset,
    sandbox_choose,
    submit_to_sandbox,
    wait_for_thank_you,
)
from tests.factories import ArticleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_script_fills_presets_normalises_the_amount_and_adds_the_fee_that_is_paid(open_page, sandbox_site):
    article = ArticleFactory(slug="water")
    page = open_page("phone")
    page.goto(sandbox_site + article_path(article))
    amount = amount_field(page)
    preset(page, 500).check()
    assert amount.input_value() == "5,00"

    amount.fill("2.5")
    amount.blur()
    assert amount.input_value() == "2,50"
    assert amount.get_attribute("aria-invalid") is None
    fee = AmountLimits.from_settings().fee_cover(250)
    eur = lambda cents: format_money(cents, "EUR", "nl")  # noqa: E731
    cover = page.get_by_label(tr("Add %(fee)s to cover the payment costs") % {"fee": eur(fee)})
    cover.check()
    total = page.get_by_text(tr("You pay %(total)s in total.") % {"total": eur(250 + fee)})
    assert total.is_visible()
    assert total.get_attribute("aria-live") == "polite"

    submit_to_sandbox(page)
    sandbox_choose(page, "paid")
    wait_for_thank_you(page)
    appreciation = Appreciation.objects.get()
    assert appreciation.status == "paid"
    assert (appreciation.amount, appreciation.fee_cover_amount) == (250 + fee, fee)
