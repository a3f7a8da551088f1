"""The author panel: Django's admin with a dashboard, an export and the editor's statement.

Authors land on a dashboard of their own figures; editors (and superusers) see the whole
site and may pick an author. Every figure comes from payments.selectors, the same reads the
reports use. Scope is decided once per request by `viewer_of`: an author can never widen it
with a URL parameter (403), and objects outside it are 404, never a redirect that confirms
they exist. Periods, display helpers and the CSV rows live in payments.reports, the chart's
geometry in payments.charts.
"""

import csv
from collections.abc import Iterator

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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from articles.models import Author
from articles.roles import Viewer, viewer_of
from payments.charts import chart_for
from payments.money import format_plain
from payments.reports import (
    ARTICLE_SORTS,
    DEFAULT_SORT,
    PeriodForm,
    article_sort_key,
    csv_safe,
    export_rows,
    period_slug,
    share,
    site_today,
    totals_display,
)
from payments.selectors import (
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


# --- CSV responses --------------------------------------------------------------------------


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(rows: Iterator[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
