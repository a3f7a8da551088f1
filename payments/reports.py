"""Report helpers shared by the panel pages, the funnel and feedback panels and the digests.

Periods in the site's time zone, figures formatted for display and the rows of the CSV
export. Nothing here reads the request: the views decide who is looking
(payments.panel.scope_author) and pass the author in, so the same helpers serve mail and
management commands too.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from articles.models import Author
from payments.models import Appreciation
from payments.money import format_money, format_plain
from payments.selectors import Totals, paid_appreciations

# --- periods --------------------------------------------------------------------------------

PERIOD_CHOICES = [
    ("this-month", _("This month")),
    ("last-month", _("Last month")),
    ("90-days", _("Last 90 days")),
    ("this-year", _("This year")),
    ("all", _("All time")),
    ("custom", _("Custom dates")),
]
DEFAULT_PERIOD = "this-month"


@dataclass(frozen=True)
class Period:
    """A half-open range [start, end) of aware datetimes at local midnights; None is open."""

    key: str
    first_day: date | None
    last_day: date | None

    @property
    def start(self) -> datetime | None:
        return local_midnight(self.first_day) if self.first_day else None

    @property
    def end(self) -> datetime | None:
        return local_midnight(self.last_day + timedelta(days=1)) if self.last_day else None


def local_midnight(day: date) -> datetime:
    """Midnight at the start of `day` in the site's time zone (settings.TIME_ZONE)."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def site_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), timezone.get_default_timezone()).date()


def period_for(key: str, *, today: date, first: date | None = None, last: date | None = None) -> Period:
    """The period a picker choice means on `today` (a date in the site's time zone)."""
    if key == "this-month":
        return Period(key, today.replace(day=1), today)
    if key == "last-month":
        last_of_previous = today.replace(day=1) - timedelta(days=1)
        return Period(key, last_of_previous.replace(day=1), last_of_previous)
    if key == "90-days":
        return Period(key, today - timedelta(days=89), today)
    if key == "this-year":
        return Period(key, today.replace(month=1, day=1), today)
    if key == "custom":
        return Period(key, first, last)
    return Period("all", None, None)


class PeriodForm(forms.Form):
    period = forms.ChoiceField(label=_("Period"), choices=PERIOD_CHOICES, required=False)
    # Both date inputs point at the hint under the form (payments/panel/_period_form.html).
    start = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "aria-describedby": "period-dates-help"}, format="%Y-%m-%d"
        ),
    )
    end = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "aria-describedby": "period-dates-help"}, format="%Y-%m-%d"
        ),
    )

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if data.get("period") == "custom" or (not data.get("period") and (start or end)):
            data["period"] = "custom"
            if start and end and start > end:
                raise ValidationError(_("The start date must be on or before the end date."))
        return data

    def chosen_period(self, today: date) -> Period:
        """The chosen period, or this month when the form is invalid."""
        if not self.is_valid():
            return period_for(DEFAULT_PERIOD, today=today)
        data = self.cleaned_data
        return period_for(
            data.get("period") or DEFAULT_PERIOD, today=today, first=data.get("start"), last=data.get("end")
        )


def period_slug(period: Period) -> str:
    if period.first_day is None and period.last_day is None:
        return "all"
    return f"{period.first_day or 'start'}_{period.last_day or 'today'}"


# --- presentation helpers -------------------------------------------------------------------


def money(amount: int, currency: str) -> str:
    return format_money(amount, currency, get_language() or settings.LANGUAGE_CODE)


def share(part: int, whole: int) -> Decimal | None:
    """Percentage with one decimal, exact (no floats); None when the whole is zero."""
    if whole <= 0:
        return None
    return (Decimal(part * 100) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def totals_display(total: Totals) -> dict:
    cur = total.currency
    return {
        "supporters": total.supporters,
        "payments": total.payments,
        "gross": money(total.gross, cur),
        "fees": money(total.fees, cur),
        "dispute_fees": money(total.dispute_fees, cur),
        "net": money(total.net, cur),
        "refunded": money(total.refunded, cur),
        "disputed": money(total.disputed, cur),
        "average": money(total.average, cur),
        "fees_missing": total.fees_missing,
        "last_paid_at": total.last_paid_at,
    }


ARTICLE_SORTS = {
    "supporters": lambda row: row["totals"].supporters,
    "gross": lambda row: row["totals"].gross,
    "net": lambda row: row["totals"].net,
    "average": lambda row: row["totals"].average,
    "share": lambda row: row["totals"].gross,
    "last": lambda row: row["totals"].last_paid_at or datetime.min.replace(tzinfo=timezone.UTC),
}
DEFAULT_SORT = "-gross"


def article_sort_key(raw: str) -> str:
    """A whitelisted sort key such as "-net"; anything else falls back to the default."""
    return raw if raw.lstrip("-") in ARTICLE_SORTS and raw.count("-") <= 1 else DEFAULT_SORT


# --- CSV ------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """Text a spreadsheet will not run: cells starting with = + - @ tab or CR get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def appreciation_status(amount: int, refunded: int, dispute: str) -> str:
    if dispute == Appreciation.Dispute.OPEN:
        return gettext("disputed")
    if dispute == Appreciation.Dispute.LOST:
        return gettext("dispute lost")
    if refunded >= amount:
        return gettext("refunded")
    if refunded:
        return gettext("partially refunded")
    return gettext("paid")


def export_rows(*, author: Author | None, start: datetime | None, end: datetime | None) -> Iterator[list]:
    """One row per paid appreciation, from a single query streamed in chunks.

    No reader email or Stripe ids: this file leaves the site. User-supplied text goes
    through csv_safe; the numbers are ours.
    """
    header = [
        gettext("date"),
        gettext("article"),
        gettext("amount"),
        gettext("fee"),
        gettext("refunded"),
        gettext("net"),
        gettext("currency"),
        gettext("status"),
        gettext("public name"),
        gettext("message"),
    ]
    if author is None:
        header.insert(2, gettext("author"))
    yield header
    columns = [
        "paid_at",
        "article__title",
        "author__name",
        "amount",
        "fee_amount",
        "refunded_amount",
        "dispute_status",
        "currency",
        "display_name",
        "message",
        "settlement_currency",
        "dispute_fee_amount",
    ]
    qs = paid_appreciations(author=author, start=start, end=end).order_by("paid_at", "id")
    qs = qs.values_list(*columns)
    tz = timezone.get_default_timezone()
    disputed_states = (Appreciation.Dispute.OPEN, Appreciation.Dispute.LOST)
    for (
        paid_at,
        title,
        author_name,
        amount,
        fee,
        refunded,
        dispute,
        currency,
        name,
        message,
        settled_in,
        dispute_fee,
    ) in qs.iterator(chunk_size=2000):
        # As in payments.selectors: a fee settled in another currency is not in this one's units.
        if settled_in and settled_in != currency:
            fee = None
        disputed = amount - refunded if dispute in disputed_states else 0
        net = amount - refunded - disputed - (fee or 0) - dispute_fee
        row = [
            timezone.localtime(paid_at, tz).strftime("%Y-%m-%d %H:%M"),
            csv_safe(title),
            format_plain(amount, currency),
            format_plain(fee, currency) if fee is not None else "",
            format_plain(refunded, currency),
            format_plain(net, currency),
            currency,
            appreciation_status(amount, refunded, dispute),
            csv_safe(name),
            csv_safe(message),
        ]
        if author is None:
            row.insert(2, csv_safe(author_name))
        yield row
