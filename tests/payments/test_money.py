import pytest
from django.utils import translation

from payments.money import AmountError, fee_cover, format_money, minimum_amount, parse_amount


@pytest.mark.parametrize(
    ("typed", "cents"),
    [
        ("5", 500),
        ("2,50", 250),
        ("2.50", 250),
        ("€ 2,50", 250),
        ("€2.50", 250),
        ("  7  ", 700),
        ("2,5", 250),
        ("10,-", 1000),
        ("EUR 3", 300),
        ("3 €", 300),
        ("1000", 100000),
        ("0,99", 99),
    ],
)
def test_parse_amount_accepts_what_readers_type(typed, cents):
    assert parse_amount(typed, "EUR") == cents


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("0", "zero"),
        ("0,00", "zero"),
        ("-5", "negative"),
        ("2,555", "ambiguous"),
        ("1.000", "ambiguous"),
        ("2,5555", "decimals"),
        ("1e3", "invalid"),
        ("NaN", "invalid"),
        ("inf", "invalid"),
        ("1.000,50", "invalid"),
        ("1,000.50", "invalid"),
        ("5 euro's", "invalid"),
        ("٣", "invalid"),
        ("9999999999", "too_large"),
    ],
)
def test_parse_amount_rejects_with_a_reason(typed, code):
    with pytest.raises(AmountError) as caught:
        parse_amount(typed, "EUR")
    assert caught.value.code == code


def test_parse_amount_errors_are_translated():
    with pytest.raises(AmountError) as caught:
        parse_amount("", "EUR")
    # The message is lazy: it takes the language active where it is shown.
    with translation.override("en"):
        assert str(caught.value.message) == "Enter an amount."
    with translation.override("nl"):
        assert str(caught.value.message) == "Vul een bedrag in."


def test_zero_decimal_currency_takes_whole_amounts():
    assert parse_amount("500", "JPY") == 500
    with pytest.raises(AmountError):
        parse_amount("5,5", "JPY")


def test_format_money_follows_the_locale():
    assert format_money(250, "EUR", "nl") == "€\xa02,50"
    assert format_money(250, "EUR", "en") == "€2.50"
    assert format_money(123456, "EUR", "nl") == "€\xa01.234,56"


def test_minimum_never_below_stripe_minimum():
    assert minimum_amount("EUR", 10) == 50
    assert minimum_amount("EUR", 100) == 100
    assert minimum_amount("GBP", 10) == 30


@pytest.mark.parametrize(
    ("amount", "cover"),
    # 1.5% + 0.25: (500 + 25) / 0.985 = 532.99 -> 533, so 33 on top of 500.
    [(500, 33), (300, 30), (100, 27), (50000, 787)],
)
def test_fee_cover_pays_the_estimated_fee(amount, cover):
    assert fee_cover(amount, percent_bp=150, fixed=25) == cover
    total = amount + cover
    estimated_fee = -(-total * 150 // 10_000) + 25
    assert total - estimated_fee >= amount
