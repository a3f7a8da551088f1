"""The funnel in the author panel: views → widget seen → checkouts started → supporters, per article.

Views, seen and started come from DailyCount (funnel.selectors); supporters and revenue from
payments.selectors.totals_by_article, the same figures as the dashboard. Authors see their own
articles; editors see the site-wide funnel and may pick an author.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from articles.models import Article, Author
from articles.roles import viewer_of
from funnel import selectors
from payments.panel import scope_author
from payments.reports import PeriodForm, money, share, site_today
from payments.selectors import Totals, totals, totals_by_article, totals_by_day


@dataclass
class FunnelRow:
    article: Article | None
    counts: selectors.Counts
    totals: Totals

    @property
    def conversion(self) -> Decimal | None:
        """Supporters per 1,000 views."""
        return selectors.per_thousand(self.totals.supporters, self.counts.views)

    @property
    def revenue(self) -> int | None:
        """Gross per 1,000 views, in minor units."""
        return selectors.revenue_per_thousand(self.totals.gross, self.counts.views)

    @property
    def seen_share(self) -> Decimal | None:
        return share(self.counts.seen, self.counts.views)

    @property
    def started_share(self) -> Decimal | None:
        return share(self.counts.started, self.counts.seen)

    @property
    def paid_share(self) -> Decimal | None:
        return share(self.totals.payments, self.counts.started)

    def display(self) -> dict:
        cur = self.totals.currency
        return {
            "gross": money(self.totals.gross, cur),
            "revenue": money(self.revenue, cur) if self.revenue is not None else "–",
        }


SORTS = {
    "views": lambda row: row.counts.views,
    "seen": lambda row: row.counts.seen,
    "started": lambda row: row.counts.started,
    "supporters": lambda row: row.totals.supporters,
    "conversion": lambda row: row.conversion if row.conversion is not None else Decimal(-1),
    "revenue": lambda row: row.revenue if row.revenue is not None else -1,
    "gross": lambda row: row.totals.gross,
}
SORT_LABELS = [
    ("views", _("Views")),
    ("seen", _("Widget seen")),
    ("started", _("Checkouts started")),
    ("supporters", _("Supporters")),
    ("conversion", _("Supporters per 1,000 views")),
    ("revenue", _("Revenue per 1,000 views")),
    ("gross", _("Gross")),
]
DEFAULT_SORT = "-views"


def sort_key(raw: str) -> str:
    return raw if raw.lstrip("-") in SORTS and raw.count("-") <= 1 else DEFAULT_SORT


def funnel_rows(
    *, author: Author | None, first_day: date | None, last_day: date | None, start, end
) -> list[FunnelRow]:
    currency = settings.APPRECIATION_CURRENCY
    counts = selectors.counts_by_article(author=author, first_day=first_day, last_day=last_day)
    books = dict(totals_by_article(currency=currency, author=author, start=start, end=end))
    by_id = {article.pk: article for article in books}
    missing = [article_id for article_id in counts if article_id not in by_id]
    by_id.update(Article.objects.select_related("author").in_bulk(missing))
    rows = []
    for article_id, article in by_id.items():
        rows.append(
            FunnelRow(
                article=article,
                counts=counts.get(article_id, selectors.Counts()),
                totals=books.get(article, Totals(currency=currency)),
            )
        )
    return rows


@require_GET
def funnel_overview(request: HttpRequest) -> TemplateResponse:
    viewer = viewer_of(request)
    if not viewer.has_role:
        raise PermissionDenied
    author = scope_author(request, viewer)
    form = PeriodForm(request.GET or None)
    period = form.chosen_period(site_today())
    currency = settings.APPRECIATION_CURRENCY
    day_filters = {"author": author, "first_day": period.first_day, "last_day": period.last_day}
    rows = funnel_rows(**day_filters, start=period.start, end=period.end)
    sort = sort_key(request.GET.get("sort", DEFAULT_SORT))
    rows.sort(key=lambda row: (SORTS[sort.lstrip("-")](row), row.article.pk), reverse=sort.startswith("-"))
    overall = FunnelRow(
        article=None,
        counts=selectors.counts_total(**day_filters),
        totals=totals(currency=currency, author=author, start=period.start, end=period.end),
    )
    paid_by_day = dict(totals_by_day(currency=currency, author=author, start=period.start, end=period.end))
    counts_by_day = selectors.counts_by_day(**day_filters)
    days = [
        {
            "day": day,
            "counts": counts_by_day.get(day, selectors.Counts()),
            "payments": paid_by_day[day].payments if day in paid_by_day else 0,
        }
        for day in sorted(set(counts_by_day) | set(paid_by_day), reverse=True)
    ]
    query = request.GET.copy()
    query.pop("sort", None)
    context = {
        **admin.site.each_context(request),
        "title": gettext("Reader funnel"),
        "form": form,
        "period": period,
        "scope_author": author,
        "authors": Author.objects.only("name") if viewer.editor else None,
        "rows": rows,
        "overall": overall,
        "days": days,
        "sort": sort,
        "sort_columns": [
            {
                "key": key,
                "label": label,
                "active": sort.lstrip("-") == key,
                "aria_sort": ("descending" if sort.startswith("-") else "ascending")
                if sort.lstrip("-") == key
                else None,
                "next": key if sort == f"-{key}" else f"-{key}",
            }
            for key, label in SORT_LABELS
        ],
        "query_without_sort": query.urlencode(),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "funnel/panel/overview.html", context)
