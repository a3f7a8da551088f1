"""Money as integer minor units plus an ISO currency code. No floats anywhere.

`parse_amount` reads what readers type ("5", "2,50", "€ 2.50"); `format_money` shows an
amount for a locale through Babel. Both use the exponent table below.
"""

import functools
import re
from dataclasses import dataclass
from decimal import Decimal

from babel import Locale
from babel.numbers import format_currency, get_currency_symbol
from django.utils.translation import gettext_lazy as _

# Minor-unit exponents (ISO 4217) of the currencies we accept; Stripe uses the same.
CURRENCY_EXPONENTS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "SEK": 2,
    "DKK": 2,
    "NOK": 2,
    "PLN": 2,
    "CZK": 2,
    "JPY": 0,
}

# Stripe's minimum charge per currency, in minor units (see shared/stripe/NOTES.md).
STRIPE_MINIMUMS: dict[str, int] = {
    "EUR": 50,
    "USD": 50,
    "GBP": 30,
    "CHF": 50,
    "SEK": 300,
    "DKK": 250,
    "NOK": 300,
    "PLN": 200,
    "CZK": 1500,
    "JPY": 50,
}

# Non-card methods accept at most 8 digits of minor units.
STRIPE_MAXIMUM = 99_999_999


class AmountError(ValueError):
    """A typed amount that cannot be accepted; `message` is translated and safe to show."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Money:
    amount: int
    currency: str

    def format(self, locale: str) -> str:
        return format_money(self.amount, self.currency, locale)


def exponent(currency: str) -> int:
    try:
        return CURRENCY_EXPONENTS[currency.upper()]
    except KeyError:
        raise ValueError(f"unsupported currency {currency!r}") from None


def minimum_amount(currency: str, configured: int) -> int:
    """The configured minimum, never below what Stripe can charge in this currency."""
    return max(configured, STRIPE_MINIMUMS.get(currency.upper(), 1))


def to_decimal(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-exponent(currency))


def format_money(amount: int, currency: str, locale: str) -> str:
    """`€ 2,50` in Dutch, `€2.50` in English."""
    return format_currency(to_decimal(amount, currency), currency.upper(), locale=_babel_locale(locale))


def format_plain(amount: int, currency: str) -> str:
    """The amount in major units with a dot, for input fields and machine-readable output."""
    return f"{to_decimal(amount, currency):.{exponent(currency)}f}"


@functools.lru_cache(maxsize=32)
def _babel_locale(locale: str) -> Locale:
    # Parsed once: given a name, Babel parses it again for every amount, which was most of the
    # cost of a dashboard that shows thousands of amounts.
    return Locale.parse(locale.replace("-", "_") or "nl")


_NUMBER = re.compile(r"^(?P<whole>[0-9]+)(?:[.,](?P<frac>[0-9]*))?$")


def parse_amount(text: str, currency: str) -> int:
    """Read an amount as readers type it and return minor units, or raise AmountError.

    Accepts one decimal separator, comma or dot, and an optional currency symbol or code.
    Rejects signs, exponents, NaN, and a separator followed by three digits ("1.000"),
    which could be a thousands separator.
    """
    currency = currency.upper()
    digits = exponent(currency)
    cleaned = (text or "").strip().replace("\u00a0", " ").replace("\u202f", " ")
    for token in (currency, get_currency_symbol(currency, locale="en"), get_currency_symbol(currency, "nl")):
        if token and cleaned.upper().startswith(token.upper()):
            cleaned = cleaned[len(token) :]
        if token and cleaned.upper().endswith(token.upper()):
            cleaned = cleaned[: -len(token)]
    cleaned = cleaned.strip()
    if cleaned.endswith((",-", ".-")):
        cleaned = cleaned[:-2]
    if not cleaned:
        raise AmountError("empty", _("Enter an amount."))
    if cleaned.startswith("-"):
        raise AmountError("negative", _("Enter a positive amount."))
    match = _NUMBER.match(cleaned)
    if not match:
        raise AmountError("invalid", _("Enter an amount such as 5 or 2,50."))
    whole, frac = match.group("whole"), match.group("frac") or ""
    if len(frac) == 3 and digits < 3:
        raise AmountError(
            "ambiguous", _("Write the amount without a thousands separator, such as 1000 or 2,50.")
        )
    if len(frac) > digits:
        if digits == 0:
            raise AmountError("decimals", _("Enter a whole amount."))
        raise AmountError("decimals", _("Use at most two decimals."))
    if len(whole) > 9:
        raise AmountError("too_large", _("That amount is too large."))
    value = int(whole) * 10**digits + int(frac.ljust(digits, "0") or "0")
    if value <= 0:
        raise AmountError("zero", _("Enter an amount of more than zero."))
    return value


def fee_cover(amount: int, *, percent_bp: int, fixed: int) -> int:
    """What a reader adds so that, after an estimated fee of percent + fixed, the author gets `amount`.

    total = (amount + fixed) / (1 - percent), rounded up to the next minor unit.
    """
    denominator = 10_000 - percent_bp
    total = -(-(amount + fixed) * 10_000 // denominator)
    return total - amount
