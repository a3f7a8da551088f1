"""payments.selectors against states the webhook state machine produces."""

import itertools
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from payments import selectors
from payments.models import Appreciation
from payments.reports import export_rows
from tests.factories import AppreciationFactory, ArticleFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
PAID = Appreciation.Status.PAID


def test_fee_settled_in_another_currency_is_not_subtracted():
    AppreciationFactory(amount=1000, status=PAID, paid_at=datetime(2026, 11, 2, tzinfo=AMS), fee_amount=40)
    AppreciationFactory(
        amount=1000,
        status=PAID,
        paid_at=datetime(2026, 11, 2, tzinfo=AMS),
        fee_amount=55,
        settlement_currency="USD",
    )
    totals = selectors.totals(currency="EUR")
    assert (totals.gross, totals.fees, totals.fees_missing, totals.net) == (2000, 40, 1, 1960)


def test_full_refund_and_lost_dispute_leave_supporters_and_net():
    paid_at = datetime(2026, 11, 2, tzinfo=AMS)
    AppreciationFactory(amount=500, status=PAID, paid_at=paid_at)
    AppreciationFactory(amount=500, status=PAID, paid_at=paid_at, refunded_amount=500)
    AppreciationFactory(amount=500, status=PAID, paid_at=paid_at, refunded_amount=100)
    AppreciationFactory(amount=500, status=PAID, paid_at=paid_at, dispute_status=Appreciation.Dispute.OPEN)
    AppreciationFactory(amount=500, status=PAID, paid_at=paid_at, dispute_status=Appreciation.Dispute.WON)
    AppreciationFactory(
        amount=500,
        status=PAID,
        paid_at=paid_at,
        refunded_amount=200,
        dispute_status=Appreciation.Dispute.LOST,
    )
    AppreciationFactory(amount=500, status=Appreciation.Status.FAILED)
    totals = selectors.totals(currency="EUR")
    assert (totals.payments, totals.supporters) == (6, 3)
    assert (totals.gross, totals.refunded, totals.disputed) == (3000, 800, 800)
    assert totals.net == 1400


def test_totals_by_author_and_currencies():
    first, second = ArticleFactory(), ArticleFactory()
    paid_at = datetime(2026, 11, 2, tzinfo=AMS)
    AppreciationFactory(article=first, amount=300, status=PAID, paid_at=paid_at)
    AppreciationFactory(article=second, amount=900, status=PAID, paid_at=paid_at)
    AppreciationFactory(article=second, amount=700, currency="USD", status=PAID, paid_at=paid_at)

    rows = selectors.totals_by_author(currency="EUR")

    assert [(author, totals.gross) for author, totals in rows] == [(second.author, 900), (first.author, 300)]
    assert selectors.currencies() == ["EUR", "USD"]
    assert selectors.currencies(article=first) == ["EUR"]


def test_month_and_day_follow_the_site_time_zone():
    article = ArticleFactory()
    AppreciationFactory(article=article, status=PAID, paid_at=datetime(2026, 10, 31, 23, 30, tzinfo=AMS))
    AppreciationFactory(article=article, status=PAID, paid_at=datetime(2026, 11, 1, 0, 30, tzinfo=AMS))

    months = [
        (month, totals.payments)
        for _author, month, totals in selectors.totals_by_author_month(currency="EUR")
    ]
    days = [(day, totals.payments) for day, totals in selectors.totals_by_day(currency="EUR")]

    assert months == [(date(2026, 10, 1), 1), (date(2026, 11, 1), 1)]
    assert days == [(date(2026, 10, 31), 1), (date(2026, 11, 1), 1)]


def test_dispute_fees_are_subtracted_from_net():
    paid_at = datetime(2026, 11, 2, tzinfo=AMS)
    AppreciationFactory(
        amount=1000,
        status=PAID,
        paid_at=paid_at,
        fee_amount=40,
        dispute_status=Appreciation.Dispute.LOST,
        dispute_fee_amount=2000,
    )
    AppreciationFactory(
        amount=500,
        status=PAID,
        paid_at=paid_at,
        fee_amount=33,
        dispute_status=Appreciation.Dispute.WON,
        dispute_fee_amount=2000,
    )
    totals = selectors.totals(currency="EUR")
    assert (totals.gross, totals.disputed, totals.fees, totals.dispute_fees) == (1500, 1000, 73, 4000)
    assert totals.net == 1500 - 1000 - 73 - 4000
    lost = Appreciation.objects.get(dispute_status=Appreciation.Dispute.LOST)
    [(_article, per_article)] = selectors.totals_by_article(currency="EUR", article=lost.article)
    assert (per_article.dispute_fees, per_article.net) == (2000, 1000 - 1000 - 40 - 2000)


def test_csv_export_net_follows_the_selectors_fee_rules():
    """A fee settled in another currency is not subtracted (nor shown as if it were in this one);
    dispute fees are; each row's net adds up to the selectors' net."""
    paid_at = datetime(2026, 11, 2, tzinfo=AMS)
    AppreciationFactory(amount=1000, status=PAID, paid_at=paid_at, fee_amount=55, settlement_currency="USD")
    AppreciationFactory(amount=800, status=PAID, paid_at=paid_at, fee_amount=37, settlement_currency="EUR")
    AppreciationFactory(
        amount=700,
        status=PAID,
        paid_at=paid_at,
        fee_amount=35,
        dispute_status=Appreciation.Dispute.LOST,
        dispute_fee_amount=2000,
    )

    with translation.override("en"):
        header, *rows = list(export_rows(author=None, start=None, end=None))

    fee, net = header.index("fee"), header.index("net")
    assert [(row[fee], row[net]) for row in rows] == [("", "10.00"), ("0.37", "7.63"), ("0.35", "-20.35")]
    assert sum(Decimal(row[net]) * 100 for row in rows) == selectors.totals(currency="EUR").net


def test_article_supporters_are_what_earned_counts_and_shows():
    """The widget's one statement is written in SQL; the books define earned() in the ORM. Every
    combination of state, refund, dispute, choice and moderation must agree."""
    article, other = ArticleFactory(), ArticleFactory()
    paid_at = datetime(2026, 11, 2, 12, tzinfo=AMS)
    states = itertools.product(
        Appreciation.Status.values, (0, 200, 500), Appreciation.Dispute.values, (True, False), (False, True)
    )
    for number, (status, refunded, dispute, public, hidden) in enumerate(states):
        AppreciationFactory(
            article=article,
            status=status,
            amount=500,
            refunded_amount=refunded,
            dispute_status=dispute,
            is_public=public,
            hidden_by_author=hidden,
            display_name=f"Reader {number}",
            message=f"Message {number}",
            paid_at=paid_at + timedelta(minutes=number) if status == PAID else None,
        )
    AppreciationFactory(article=other, status=PAID, paid_at=paid_at, is_public=True)
    earned = Appreciation.objects.earned().filter(article=article)
    shown = earned.filter(is_public=True, hidden_by_author=False).order_by("-paid_at")

    for limit in (3, 10, 100):
        count, supporters = selectors.article_supporters(article_id=article.pk, limit=limit)
        assert count == earned.count() == 2 * 2 * 2 * 2  # paid x (0, 200 refunded) x ("", won) x ...
        assert supporters == [selectors.Supporter(row.display_name, row.message) for row in shown[:limit]]
    assert len(selectors.article_supporters(article_id=article.pk)[1]) == min(10, shown.count())
    assert selectors.article_supporters(article_id=ArticleFactory().pk) == (0, [])


def test_supporters_of_an_article_are_read_from_the_earned_payments_index():
    """The partial index's condition must stay what earned() asks, or PostgreSQL cannot use it and
    every uncached article page reads its payments from all over the table."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("reads PostgreSQL's query plan")
    article = ArticleFactory()
    AppreciationFactory(article=article, status=PAID, paid_at=datetime(2026, 11, 2, tzinfo=AMS))
    table = Appreciation._meta.db_table
    with connection.cursor() as cursor:
        # Only the question whether this index can serve: the other plain indexes go (the test's
        # transaction rolls that back) and a table this small would otherwise be read whole.
        others = [
            name
            for name, info in connection.introspection.get_constraints(cursor, table).items()
            if info["index"] and not info["unique"] and not info["primary_key"]
            if name != "appreciation_earned_article"
        ]
        for name in others:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + selectors._SUPPORTERS_SQL, [article.pk, article.pk, 10])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # Both halves, the count and the newest public supporters, read the index.
    assert plan.count("appreciation_earned_article") == 2, plan
    assert selectors.article_supporters(article_id=article.pk)[0] == 1
