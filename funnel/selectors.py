"""Reads of the funnel: counts per article, per day and in total, for a range of days.

Views, widget seen and checkouts started come from DailyCount; supporters, payments and
revenue come from payments.selectors (the books), never from counters, so money has one
source of truth.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import QuerySet, Sum
from django.db.models.functions import Coalesce

from articles.models import Author
from funnel.models import DailyCount

FIELDS = ("views", "seen", "started")


@dataclass(frozen=True)
class Counts:
    views: int = 0
    seen: int = 0
    started: int = 0


def daily_counts(
    *, author: Author | None = None, first_day: date | None = None, last_day: date | None = None
) -> QuerySet[DailyCount]:
    qs = DailyCount.objects.all()
    if author is not None:
        qs = qs.filter(article__author=author)
    if first_day is not None:
        qs = qs.filter(day__gte=first_day)
    if last_day is not None:
        qs = qs.filter(day__lte=last_day)
    return qs


def _sums() -> dict:
    return {name: Coalesce(Sum(name), 0) for name in FIELDS}


def counts_total(**filters) -> Counts:
    return Counts(**daily_counts(**filters).aggregate(**_sums()))


def counts_by_article(**filters) -> dict[int, Counts]:
    rows = daily_counts(**filters).values("article_id").annotate(**_sums()).order_by()
    return {row.pop("article_id"): Counts(**row) for row in rows}


def counts_by_day(**filters) -> dict[date, Counts]:
    rows = daily_counts(**filters).values("day").annotate(**_sums()).order_by("day")
    return {row.pop("day"): Counts(**row) for row in rows}


def per_thousand(part: int, views: int) -> Decimal | None:
    """`part` per 1,000 views with one decimal, exact; None without views."""
    if views <= 0:
        return None
    return (Decimal(part * 1000) / Decimal(views)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def revenue_per_thousand(gross: int, views: int) -> int | None:
    """Gross in minor units per 1,000 views, rounded down; None without views."""
    if views <= 0:
        return None
    return gross * 1000 // views
