"""The author panel: Django's admin with a dashboard, an export and the editor's statement.

Authors land on a dashboard of their own figures; editors (and superusers) see the whole
site and may pick an author. Every figure comes from payments.selectors, the same reads the
reports use. Scope is decided once per request by `viewer_of`: an author can never widen it
with a URL parameter (403), and objects outside it are 404, never a redirect that confirms
they exist.
"""

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from articles.models import Author
from articles.roles import Viewer, viewer_of
from payments.models import Appreciation
from payments.money import format_money, format_plain
from payments.selectors import (
    Totals,
    paid_appreciations,
    totals,
    totals_by_article,
    totals_by_author_month,
    totals_by_day,
)

# --- who is looking -------------------------------------------------------------------------


def scope_author(request: HttpRequest, viewer: Viewer) -> Author | None:
    """The author whose figures to show; None means the whole site (editors only).

    An author who asks for anyone else through ?author= gets 403: a parameter can narrow
    an editor's view but never widen an author's.
    """
    raw = request.GET.get("author", "")
    if viewer.editor:
        if not raw:
            return None
        try:
            return Author.objects.get(pk=int(raw))
        except (ValueError, Author.DoesNotExist):
            raise Http404 from None
    if viewer.author is None:
        raise PermissionDenied
    if raw and raw != str(viewer.author.pk):
        raise PermissionDenied
    return viewer.author


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


# --- the chart ------------------------------------------------------------------------------

CHART_WIDTH = 720
CHART_HEIGHT = 180
CHART_MAX_BARS = 92
# Date labels under the chart: at most this many, so they never run into each other; on a
# phone only the first, middle and last stay (the others are `minor`, hidden by panel.css).
CHART_MAX_LABELS = 7


def svg_number(value: float) -> str:
    """A coordinate for an SVG attribute, as a string so the template never localizes it.

    Dutch formatting would write 12,5, which SVG cannot read: the bars then disappear.
    """
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def chart_label_indexes(count: int, most: int = CHART_MAX_LABELS) -> list[int]:
    """Evenly spread bucket indexes to label, always the first and the last."""
    if count <= most:
        return list(range(count))
    return sorted({round(i * (count - 1) / (most - 1)) for i in range(most)})


def chart_for(days: list[tuple[date, Totals]], *, first: date | None, last: date | None, currency: str):
    """Geometry for an inline SVG of count and net per day (per week or more for long periods).

    Days without payments are drawn as empty; the sums below run over the few daily rows
    the database returned, never over appreciations. Bars are net in minor units scaled
    to the plot's height; the line is the count, scaled from the same zero line up.
    """
    if not days:
        return None
    first = first or days[0][0]
    last = max(last or days[-1][0], first)
    span = (last - first).days + 1
    size = max(1, math.ceil(span / CHART_MAX_BARS))
    buckets: list[dict] = []
    for index in range(math.ceil(span / size)):
        start = first + timedelta(days=index * size)
        end = min(start + timedelta(days=size - 1), last)
        buckets.append({"start": start, "end": end, "count": 0, "net": 0})
    for day, total in days:
        index = (day - first).days // size
        if 0 <= index < len(buckets):
            buckets[index]["count"] += total.payments
            buckets[index]["net"] += total.net
    top = max(max(b["net"] for b in buckets), 1)
    bottom = min(min(b["net"] for b in buckets), 0)
    max_count = max(max(b["count"] for b in buckets), 1)
    plot_top, plot_height = 8, CHART_HEIGHT - 16
    scale = plot_height / (top - bottom)
    baseline = plot_top + top * scale
    step = CHART_WIDTH / len(buckets)
    bar_width = max(step * 0.7, 1)
    points = []
    for index, bucket in enumerate(buckets):
        height = abs(bucket["net"]) * scale
        # A day that earned anything gets at least a sliver, so small amounts stay visible.
        if bucket["net"] and height < 1:
            height = 1
        cx = index * step + step / 2
        bucket["x"] = svg_number(index * step + (step - bar_width) / 2)
        bucket["width"] = svg_number(bar_width)
        bucket["y"] = svg_number(baseline - height if bucket["net"] >= 0 else baseline)
        bucket["height"] = svg_number(height)
        bucket["cx"] = svg_number(cx)
        # The count shares the bars' zero line, so a day without payments sits on the axis.
        bucket["cy"] = svg_number(baseline - bucket["count"] / max_count * (baseline - plot_top))
        bucket["net_display"] = money(bucket["net"], currency)
        points.append(f"{bucket['cx']},{bucket['cy']}")
    indexes = chart_label_indexes(len(buckets))
    keep_on_phone = {indexes[0], indexes[len(indexes) // 2], indexes[-1]}
    labels = [
        {
            "day": buckets[index]["start"],
            "left": svg_number((index * step + step / 2) / CHART_WIDTH * 100),
            "edge": "first" if index == indexes[0] else "last" if index == indexes[-1] else "",
            "minor": index not in keep_on_phone,
        }
        for index in indexes
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "baseline": svg_number(baseline),
        "buckets": buckets,
        "points": " ".join(points),
        "labels": labels,
        "days_per_bar": size,
        "first": first,
        "last": last,
        "top_display": money(top, currency),
        "max_count": max_count,
    }


# --- CSV ------------------------------------------------------------------------------------

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """Text a spreadsheet will not run: cells starting with = + - @ tab or CR get a leading quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


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


def csv_response(rows: Iterator[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def period_slug(period: Period) -> str:
    if period.first_day is None and period.last_day is None:
        return "all"
    return f"{period.first_day or 'start'}_{period.last_day or 'today'}"


# --- the site -------------------------------------------------------------------------------


class PanelSite(AdminSite):
    """Django's admin as the author panel: the dashboard is the landing page."""

    site_header = _("Waardeer")
    site_title = _("Waardeer")
    index_title = _("Dashboard")

    def get_urls(self):
        custom = [
            path("panel/export.csv", self.admin_view(self.export_view), name="panel-export"),
            path("panel/statement/", self.admin_view(self.statement_view), name="panel-statement"),
            path("panel/statement.csv", self.admin_view(self.statement_csv_view), name="panel-statement-csv"),
            path("panel/preview/", self.admin_view(self.markdown_preview_view), name="panel-preview"),
            # Replaces the admin's "view on site" redirect, which would reveal any object's URL.
            path(
                "r/<path:content_type_id>/<path:object_id>/",
                self.admin_view(self.view_on_site_view),
                name="view_on_site",
            ),
        ]
        return custom + super().get_urls()

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        if request.user.is_authenticated:
            viewer = viewer_of(request)
            context["panel_is_editor"] = viewer.editor
            context["panel_author"] = viewer.author
        return context

    # Dashboard -----------------------------------------------------------------------------

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> TemplateResponse:
        viewer = viewer_of(request)
        context = {
            **self.each_context(request),
            "title": self.index_title,
            "subtitle": None,
            "app_list": self.get_app_list(request),
            **(extra_context or {}),
        }
        request.current_app = self.name
        if viewer.has_role:
            context.update(self._dashboard_context(request, viewer))
        return TemplateResponse(request, "payments/panel/dashboard.html", context)

    def _dashboard_context(self, request: HttpRequest, viewer: Viewer) -> dict:
        author = scope_author(request, viewer)
        form = PeriodForm(request.GET or None)
        period = form.chosen_period(site_today())
        currency = settings.APPRECIATION_CURRENCY
        filters = {"author": author, "start": period.start, "end": period.end}
        overall = totals(currency=currency, **filters)

        sort = article_sort_key(request.GET.get("sort", DEFAULT_SORT))
        rows = [
            {
                "article": article,
                "totals": article_totals,
                "display": totals_display(article_totals),
                "share": share(article_totals.gross, overall.gross),
            }
            for article, article_totals in totals_by_article(currency=currency, **filters)
        ]
        rows.sort(key=ARTICLE_SORTS[sort.lstrip("-")], reverse=sort.startswith("-"))

        days = totals_by_day(currency=currency, **filters)
        chart = chart_for(
            days,
            first=period.first_day,
            last=min(period.last_day, site_today()) if period.last_day else site_today(),
            currency=currency,
        )
        messages = (
            paid_appreciations(**filters)
            .exclude(message="")
            .select_related("article")
            .only("display_name", "message", "paid_at", "is_public", "hidden_by_author", "article__title")
            .order_by("-paid_at")[:10]
        )
        query = request.GET.copy()
        query.pop("sort", None)
        return {
            "form": form,
            "period": period,
            "scope_author": author,
            "authors": Author.objects.only("name") if viewer.editor else None,
            "overall": totals_display(overall),
            "currency": currency,
            "article_rows": rows,
            "sort": sort,
            "sort_columns": self._sort_columns(sort),
            "query_without_sort": query.urlencode(),
            "chart": chart,
            "chart_days": [(day, totals_display(day_totals)) for day, day_totals in days],
            "messages_latest": messages,
            "export_query": request.GET.urlencode(),
        }

    @staticmethod
    def _sort_columns(current: str) -> list[dict]:
        labels = [
            ("supporters", _("Supporters")),
            ("gross", _("Gross")),
            ("net", _("Net")),
            ("average", _("Average")),
            ("share", _("Share")),
            ("last", _("Last appreciation")),
        ]
        columns = []
        for key, label in labels:
            active = current.lstrip("-") == key
            descending = current.startswith("-")
            columns.append(
                {
                    "key": key,
                    "label": label,
                    "active": active,
                    "aria_sort": ("descending" if descending else "ascending") if active else None,
                    # A click on the active column flips it; others start high to low.
                    "next": key if active and descending else f"-{key}",
                }
            )
        return columns

    # Export --------------------------------------------------------------------------------

    def export_view(self, request: HttpRequest) -> HttpResponse:
        viewer = viewer_of(request)
        if not viewer.has_role:
            raise PermissionDenied
        author = scope_author(request, viewer)
        form = PeriodForm(request.GET or None)
        if request.GET and not form.is_valid():
            return HttpResponseBadRequest(gettext("Invalid period."))
        period = form.chosen_period(site_today())
        name = f"appreciations-{author.slug if author else 'all'}-{period_slug(period)}.csv"
        return csv_response(export_rows(author=author, start=period.start, end=period.end), name)

    # Statement -----------------------------------------------------------------------------

    def _statement(self, request: HttpRequest):
        viewer = viewer_of(request)
        if not viewer.editor:
            raise PermissionDenied
        author = scope_author(request, viewer)
        data = request.GET.copy()
        data.setdefault("period", "this-year")
        form = PeriodForm(data)
        period = form.chosen_period(site_today())
        currency = settings.APPRECIATION_CURRENCY
        rows = totals_by_author_month(currency=currency, author=author, start=period.start, end=period.end)
        return form, period, author, currency, rows

    def statement_view(self, request: HttpRequest) -> TemplateResponse:
        form, period, author, currency, rows = self._statement(request)
        context = {
            **self.each_context(request),
            "title": gettext("Statement per author and month"),
            "form": form,
            "period": period,
            "scope_author": author,
            "authors": Author.objects.only("name"),
            "currency": currency,
            "rows": [
                {"author": row_author, "month": month, "display": totals_display(month_totals)}
                for row_author, month, month_totals in rows
            ],
            "overall": totals_display(
                totals(currency=currency, author=author, start=period.start, end=period.end)
            ),
            "export_query": request.GET.urlencode(),
        }
        request.current_app = self.name
        return TemplateResponse(request, "payments/panel/statement.html", context)

    def statement_csv_view(self, request: HttpRequest) -> HttpResponse:
        form, period, _author, currency, rows = self._statement(request)
        if not form.is_valid():
            return HttpResponseBadRequest(gettext("Invalid period."))

        def lines() -> Iterator[list]:
            yield [
                gettext("author"),
                gettext("month"),
                gettext("supporters"),
                gettext("payments"),
                gettext("gross"),
                gettext("fees"),
                gettext("dispute fees"),
                gettext("refunded"),
                gettext("disputed"),
                gettext("net"),
                gettext("currency"),
                gettext("payments without fee yet"),
            ]
            for row_author, month, t in rows:
                yield [
                    csv_safe(row_author.name),
                    month.strftime("%Y-%m"),
                    t.supporters,
                    t.payments,
                    format_plain(t.gross, currency),
                    format_plain(t.fees, currency),
                    format_plain(t.dispute_fees, currency),
                    format_plain(t.refunded, currency),
                    format_plain(t.disputed, currency),
                    format_plain(t.net, currency),
                    currency,
                    t.fees_missing,
                ]

        return csv_response(lines(), f"statement-{period_slug(period)}.csv")

    # Markdown preview ----------------------------------------------------------------------

    def markdown_preview_view(self, request: HttpRequest) -> HttpResponse:
        return _markdown_preview(request)

    # View on site --------------------------------------------------------------------------

    def view_on_site_view(self, request: HttpRequest, content_type_id: str, object_id: str) -> HttpResponse:
        """The admin's "view on site" redirect, for objects the user may see in the panel only."""
        from django.contrib.contenttypes import views as contenttype_views
        from django.contrib.contenttypes.models import ContentType

        try:
            model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
        except (ValueError, ContentType.DoesNotExist):
            raise Http404 from None
        model_admin = self._registry.get(model)
        if model_admin is None or not model_admin.has_view_or_change_permission(request):
            raise Http404
        try:
            visible = model_admin.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404
        return contenttype_views.shortcut(request, content_type_id, object_id)


MAX_PREVIEW_CHARS = 200_000


@require_POST
def _markdown_preview(request: HttpRequest) -> HttpResponse:
    """Render POSTed Markdown exactly as the public page does (same renderer and sanitiser)."""
    from articles.rendering import render_markdown

    viewer = viewer_of(request)
    user = request.user
    may_write = user.has_perm("articles.add_article") or user.has_perm("articles.change_article")
    if not (viewer.has_role and may_write):
        raise PermissionDenied
    body = request.POST.get("body", "")
    if len(body) > MAX_PREVIEW_CHARS:
        return HttpResponseBadRequest(gettext("The text is too long to preview."))
    response = HttpResponse(render_markdown(body), content_type="text/html; charset=utf-8")
    response["X-Robots-Tag"] = "noindex"
    return response
