"""The appreciation form, as readers use it without JavaScript: plain POSTs and the form itself."""

import pytest
from django.utils import translation

from payments.forms import AppreciationForm
from payments.models import Appreciation
from tests.factories import ArticleFactory
from tests.translated import translated, translated_html


def bound(data: dict, locale: str = "nl") -> AppreciationForm:
    with translation.override(locale):
        form = AppreciationForm(data, locale=locale)
        form.is_valid()
    return form


def errors_in(form: AppreciationForm, locale: str) -> dict[str, list[str]]:
    """The form's messages as a reader of `locale` sees them: most are lazy and take the
    language that is active when they are read, not the one the form was checked in."""
    with translation.override(locale):
        return {field: [str(message) for message in messages] for field, messages in form.errors.items()}


@pytest.mark.parametrize(
    ("data", "total"),
    [
        ({"preset": "300"}, 300),
        ({"preset": "1000"}, 1000),
        ({"amount": "5"}, 500),
        ({"amount": "2,50"}, 250),
        ({"amount": "2.50"}, 250),
        ({"amount": "€ 2,50"}, 250),
        ({"amount": "€2.50"}, 250),
        ({"amount": " 7 "}, 700),
        ({"amount": "1"}, 100),
        ({"amount": "500"}, 50000),
        # The own amount wins over a preset, even a tampered one.
        ({"preset": "300", "amount": "4"}, 400),
        ({"preset": "999999", "amount": "4"}, 400),
    ],
)
@pytest.mark.parametrize("locale", ["nl", "en"])
def test_valid_amounts_in_both_languages(data, total, locale):
    form = bound(data, locale)
    assert form.errors == {}
    assert form.cleaned_data["total_amount"] == total
    assert form.cleaned_data["fee_cover_amount"] == 0


THOUSANDS = "Write the amount without a thousands separator, such as 1000 or 2,50."
NOT_AN_AMOUNT = "Enter an amount such as 5 or 2,50."


@pytest.mark.parametrize(
    ("typed", "source", "amounts"),
    [
        ("", "Choose an amount or enter your own.", {}),
        ("0", "Enter an amount of more than zero.", {}),
        ("-5", "Enter a positive amount.", {}),
        # Amounts in a message are written the reader's way.
        (
            "0,99",
            "The minimum is %(minimum)s.",
            {"nl": {"minimum": "€\u00a01,00"}, "en": {"minimum": "€1.00"}},
        ),
        (
            "500,01",
            "The maximum is %(maximum)s.",
            {"nl": {"maximum": "€\u00a0500,00"}, "en": {"maximum": "€500.00"}},
        ),
        ("2,555", THOUSANDS, {}),
        ("1.000", THOUSANDS, {}),
        ("2,5555", "Use at most two decimals.", {}),
        ("1e3", NOT_AN_AMOUNT, {}),
        ("NaN", NOT_AN_AMOUNT, {}),
        ("abc", NOT_AN_AMOUNT, {}),
        ("1234567890", "That amount is too large.", {}),
    ],
)
@pytest.mark.parametrize("locale", ["nl", "en"])
def test_invalid_amounts_get_a_message_at_the_amount_field(typed, source, amounts, locale):
    form = bound({"amount": typed}, locale)
    assert not form.is_valid()
    expected = translated(source, locale, **amounts.get(locale, {}))
    assert errors_in(form, locale)["amount"] == [expected]


def test_a_tampered_preset_without_own_amount_is_rejected():
    form = bound({"preset": "1"})
    assert "preset" in form.errors


def test_minimum_never_goes_below_stripes_minimum(settings):
    settings.APPRECIATION_MIN_AMOUNT = 10
    minimum = translated("The minimum is %(minimum)s.", minimum="€\u00a00,50")
    assert errors_in(bound({"amount": "0,49"}), "nl")["amount"] == [minimum]
    assert bound({"amount": "0,50"}).is_valid()


def test_limits_follow_settings(settings):
    settings.APPRECIATION_MIN_AMOUNT = 200
    settings.APPRECIATION_MAX_AMOUNT = 2000
    assert not bound({"amount": "1,99"}).is_valid()
    assert bound({"amount": "2"}).is_valid()
    assert bound({"amount": "20"}).is_valid()
    maximum = translated("The maximum is %(maximum)s.", maximum="€\u00a020,00")
    assert errors_in(bound({"amount": "20,01"}), "nl")["amount"] == [maximum]


@pytest.mark.parametrize(
    ("amount", "fee"),
    [
        # (amount + 25) / (1 - 0.015), rounded up: the author keeps the amount after the estimated fee.
        ("3", 30),
        ("5", 33),
        ("10", 41),
        ("1", 27),
        ("500", 787),
    ],
)
def test_fee_cover_adds_the_estimated_costs(amount, fee):
    form = bound({"amount": amount, "cover_fee": "on"})
    base = form.cleaned_data["base_amount"]
    assert form.cleaned_data["fee_cover_amount"] == fee
    assert form.cleaned_data["total_amount"] == base + fee
    # What remains after the estimated fee is at least what the reader chose to give.
    total = base + fee
    assert total - (-(-total * 150 // 10_000) + 25) >= base


def test_fee_cover_uses_the_configured_estimate(settings):
    settings.APPRECIATION_FEE_PERCENT_BP = 290
    settings.APPRECIATION_FEE_FIXED = 30
    form = bound({"amount": "10", "cover_fee": "on"})
    assert form.cleaned_data["fee_cover_amount"] == 1061 - 1000  # ceil(1030 / 0.971)


def test_fee_cover_is_explained_for_every_preset_without_javascript():
    with translation.override("en"):
        form = AppreciationForm(locale="en")
        help_text = str(form.fields["cover_fee"].help_text)
    assert "1.5% + €0.25" in help_text
    assert "€3.00 + €0.30" in help_text
    assert "€5.00 + €0.33" in help_text
    assert "€10.00 + €0.41" in help_text


def test_name_and_message_lengths_are_limited():
    form = bound({"amount": "5", "display_name": "x" * 81, "message": "y" * 1001})
    assert set(form.errors) == {"display_name", "message"}
    form = bound({"amount": "5", "display_name": "x" * 80, "message": "y" * 1000})
    assert form.is_valid()


def test_a_missing_or_odd_nonce_is_replaced():
    assert len(bound({"amount": "5"}).cleaned_data["nonce"]) == 32
    assert bound({"amount": "5", "nonce": "<script>"}).cleaned_data["nonce"] != "<script>"
    assert bound({"amount": "5", "nonce": "abcdef0123456789"}).cleaned_data["nonce"] == "abcdef0123456789"


# --- plain POSTs through the view (JavaScript off) --------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("prefix", "typed", "source", "params"),
    [
        ("", "0,10", "The minimum is %(minimum)s.", {"minimum": "€\u00a01,00"}),
        ("/en", "0.10", "The minimum is %(minimum)s.", {"minimum": "€1.00"}),
        ("", "2,555", THOUSANDS, {}),
        ("/en", "", "Choose an amount or enter your own.", {}),
    ],
)
def test_invalid_post_rerenders_the_widget_with_input_kept_and_status_400(
    client, prefix, typed, source, params
):
    message = translated_html(source, "en" if prefix == "/en" else "nl", **params)
    article = ArticleFactory(title="Water in the polder")
    response = client.post(
        f"{prefix}/payments/appreciate/{article.slug}/",
        {"amount": typed, "display_name": "Anna <b>", "message": "Keep going & thanks", "is_public": "on"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert "Water in the polder" in html
    assert f'href="{prefix}/artikel/{article.slug}/"' in html
    # The reader's input is kept (escaped), the field is marked and described by its error.
    assert 'value="Anna &lt;b&gt;"' in html
    assert "Keep going &amp; thanks</textarea>" in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_amount_helptext id_amount_error"' in html
    assert 'id="id_amount_error"' in html
    assert 'role="alert"' in html
    assert Appreciation.objects.count() == 0
