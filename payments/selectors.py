"""Reads of the books: one set of query functions for the widget, the panel, exports and reports.

Definitions (per currency, over appreciations that were paid in the period, by `paid_at`):
- gross: every paid amount;
- refunded: what Stripe reports as refunded (cumulative per payment);
- disputed: the unrefunded part of payments in an open or lost dispute;
- fees: Stripe's fee from the balance transaction, when it was settled in the same currency
  (missing fees, and fees in another settlement currency, count as 0 and in `fees_missing`);
- dispute_fees: Stripe's fees for disputes (kept by Stripe even when some disputes are won);
- net: gross - refunded - disputed - fees - dispute_fees: what is really the author's;
- supporters: paid payments that are not fully refunded and not in an open or lost dispute.
All sums run in the database; nothing loops over rows in Python.
"""

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate, TruncMonth

from articles.models import Article, Author
from payments.models import Appreciation, SupporterSummary


def _earned_q() -> Q:
    return Q(refunded_amount__lt=F("amount"), dispute_status__in=Appreciation.DISPUTE_COUNTS)


def _same_currency_fee_q() -> Q:
    # A fee settled in another currency cannot be subtracted from amounts in this one.
    return Q(fee_amount__isnull=False) & (Q(settlement_currency="") | Q(settlement_currency=F("currency")))


def _disputed_expression() -> Case:
    return Case(
        When(
            dispute_status__in=[Appreciation.Dispute.OPEN, Appreciation.Dispute.LOST],
            then=F("amount") - F("refunded_amount"),
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


def _aggregates() -> dict:
    zero = Value(0)
    return {
        "supporters": Count("id", filter=_earned_q()),
        "payments": Count("id"),
        "gross": Coalesce(Sum("amount"), zero),
        "refunded": Coalesce(Sum("refunded_amount"), zero),
        "disputed": Coalesce(Sum(_disputed_expression()), zero),
        "fees": Coalesce(Sum("fee_amount", filter=_same_currency_fee_q()), zero),
        "fees_missing": Count("id", filter=~_same_currency_fee_q()),
        "dispute_fees": Coalesce(Sum("dispute_fee_amount"), zero),
        "last_paid_at": Max("paid_at"),
    }


@dataclass(frozen=True)
class Totals:
    """Money in minor units of `currency`."""

    currency: str
    supporters: int = 0
    payments: int = 0
    gross: int = 0
    refunded: int = 0
    disputed: int = 0
    fees: int = 0
    fees_missing: int = 0
    dispute_fees: int = 0
    last_paid_at: datetime | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def net(self) -> int:
        return self.gross - self.refunded - self.disputed - self.fees - self.dispute_fees

    @property
    def average(self) -> int:
        """Average gross per supporter, rounded down to a minor unit."""
        return self.gross // self.payments if self.payments else 0


def paid_appreciations(
    *,
    author: Author | None = None,
    article: Article | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[Appreciation]:
    """Paid appreciations, optionally for one author or article, with `start <= paid_at < end`."""
    qs = Appreciation.objects.paid()
    if author is not None:
        qs = qs.filter(author=author)
    if article is not None:
        qs = qs.filter(article=article)
    if start is not None:
        qs = qs.filter(paid_at__gte=start)
    if end is not None:
        qs = qs.filter(paid_at__lt=end)
    return qs


def totals(*, currency: str, **filters) -> Totals:
    """The totals for one currency; `filters` as in `paid_appreciations`."""
    row = paid_appreciations(**filters).filter(currency=currency).aggregate(**_aggregates())
    return Totals(currency=currency, **row)


def totals_by_article(*, currency: str, **filters) -> list[tuple[Article, Totals]]:
    """Totals per article, highest gross first, with the articles fetched in one query."""
    rows = (
        paid_appreciations(**filters)
        .filter(currency=currency)
        .values("article_id")
        .annotate(**_aggregates())
        .order_by("-gross", "article_id")
    )
    rows = list(rows)
    articles = Article.objects.select_related("author").in_bulk([row["article_id"] for row in rows])
    return [
        (articles[row.pop("article_id")], Totals(currency=currency, **row))
        for row in rows
        if row["article_id"] in articles
    ]


def totals_by_author(*, currency: str, **filters) -> list[tuple[Author, Totals]]:
    """Totals per author, highest gross first, with the authors fetched in one query."""
    rows = list(
        paid_appreciations(**filters)
        .filter(currency=currency)
        .values("author_id")
        .annotate(**_aggregates())
        .order_by("-gross", "author_id")
    )
    authors = Author.objects.in_bulk([row["author_id"] for row in rows])
    return [(authors[row.pop("author_id")], Totals(currency=currency, **row)) for row in rows]


def currencies(**filters) -> list[str]:
    """The currencies of paid appreciations, sorted; `filters` as in `paid_appreciations`."""
    return sorted(set(paid_appreciations(**filters).values_list("currency", flat=True)))


def totals_by_author_month(*, currency: str, **filters) -> list[tuple[Author, date, Totals]]:
    """The editor's statement: totals per author and calendar month (site time zone)."""
    rows = list(
        paid_appreciations(**filters)
        .filter(currency=currency)
        .annotate(month=TruncMonth("paid_at"))
        .values("author_id", "month")
        .annotate(**_aggregates())
        .order_by("month", "author_id")
    )
    authors = Author.objects.in_bulk([row["author_id"] for row in rows])
    result = []
    for row in rows:
        author = authors[row.pop("author_id")]
        month = row.pop("month")
        result.append(
            (author, month.date() if isinstance(month, datetime) else month, Totals(currency=currency, **row))
        )
    return result


def totals_by_day(*, currency: str, **filters) -> list[tuple[date, Totals]]:
    """Daily totals (site time zone) for the panel's chart; days without payments are absent."""
    rows = list(
        paid_appreciations(**filters)
        .filter(currency=currency)
        .annotate(day=TruncDate("paid_at"))
        .values("day")
        .annotate(**_aggregates())
        .order_by("day")
    )
    return [(row.pop("day"), Totals(currency=currency, **row)) for row in rows]


@dataclass(frozen=True)
class Supporter:
    display_name: str
    message: str


def _earned_sql() -> str:
    """earned() as SQL, with its constants written out rather than bound: PostgreSQL can only
    choose the partial index `appreciation_earned_article` for a condition it can compare with
    the index's own, and a prepared statement's generic plan does not know a bound value."""
    disputes = ", ".join(f"'{value}'" for value in Appreciation.DISPUTE_COUNTS)
    return (
        f"article_id = %s AND status = '{Appreciation.Status.PAID}' "
        f"AND refunded_amount < amount AND dispute_status IN ({disputes})"
    )


# The supporters under an article: how many (earned()) and the newest public ones whom the
# author did not hide. Every uncached article page asks this, so it is one statement, one round
# trip and no ORM compilation (which cost more than the query itself). The first row carries the
# count; the others the supporters, newest first: ordered by their rank, a number, because
# turning each row's time into a Python datetime cost more than the rest of the row.
_SUPPORTERS_SQL = """
SELECT 0 AS part, 0 AS position, COUNT(*) AS total, NULL AS display_name, NULL AS message
FROM {table} WHERE {earned}
UNION ALL
SELECT * FROM (
    SELECT 1, ROW_NUMBER() OVER (ORDER BY paid_at DESC), 0, display_name, message FROM {table}
    WHERE {earned} AND is_public AND NOT hidden_by_author
    ORDER BY paid_at DESC LIMIT %s
) AS newest
ORDER BY part, position
""".format(table=Appreciation._meta.db_table, earned=_earned_sql())  # noqa: S608 - our names and constants; values are bound


def article_supporters(*, article_id: int, limit: int = 10) -> tuple[int, list[Supporter]]:
    """(how many readers appreciated the article: paid, not refunded, not disputed; the newest
    `limit` of them who chose to be shown and whom the author did not hide)."""
    with connection.cursor() as cursor:
        cursor.execute(_SUPPORTERS_SQL, [article_id, article_id, limit])
        (_part, _position, count, *_), *rows = cursor.fetchall()
    return count, [Supporter(display_name, message) for *_order, _total, display_name, message in rows]


@dataclass(frozen=True)
class StoredSupporters:
    """An article's SupporterSummary as the article page's own query reads it: `version` None
    when it has none yet, `count` None when it is stale."""

    version: int | None
    count: int | None
    newest: str | None

    def current(self) -> tuple[int, list[Supporter]] | None:
        """What article_supporters() would say, or None if it must be asked."""
        if self.count is None:
            return None
        return self.count, [Supporter(name, message) for name, message in json.loads(self.newest or "[]")]


def stored_supporters_sql(article_id_column: str) -> tuple[str, str]:
    """(the columns, the LEFT JOIN) with which a query of articles reads each one's stored
    supporters, in StoredSupporters' order."""
    quote = connection.ops.quote_name
    table = quote(SupporterSummary._meta.db_table)
    columns = ", ".join(f"{table}.{quote(name)}" for name in ("version", "count", "newest"))
    return columns, f" LEFT JOIN {table} ON {table}.{quote('article_id')} = {article_id_column}"
