"""`manage.py support_report`: totals per author and article, as text and as stable JSON."""

import json
from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from payments.models import Appreciation
from tests.factories import AppreciationFactory, ArticleFactory, AuthorFactory

pytestmark = pytest.mark.django_db

AMS = ZoneInfo("Europe/Amsterdam")
PAID = Appreciation.Status.PAID


def report(*args: str) -> str:
    out = StringIO()
    call_command("support_report", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def books():
    anna = AuthorFactory(slug="anna", name="Anna de Vries")
    bram = AuthorFactory(slug="bram", name="Bram Jansen")
    dijk = ArticleFactory(slug="dijk", title="De dijk", author=anna)
    haven = ArticleFactory(slug="haven", title="De haven", author=anna)
    markt = ArticleFactory(slug="markt", title="De markt", author=bram)
    november = datetime(2026, 11, 10, 12, tzinfo=AMS)
    october = datetime(2026, 10, 31, 23, 30, tzinfo=AMS)  # still October in Amsterdam, November in UTC
    AppreciationFactory(article=dijk, amount=500, status=PAID, paid_at=november, fee_amount=33)
    AppreciationFactory(
        article=dijk, amount=1000, status=PAID, paid_at=november, fee_amount=40, refunded_amount=1000
    )
    AppreciationFactory(article=haven, amount=300, status=PAID, paid_at=october, fee_amount=30)
    AppreciationFactory(
        article=markt, amount=700, status=PAID, paid_at=november, dispute_status=Appreciation.Dispute.LOST
    )
    AppreciationFactory(article=markt, amount=900, status=Appreciation.Status.PENDING)
    AppreciationFactory(
        article=markt, amount=1200, currency="USD", status=PAID, paid_at=november, fee_amount=60
    )
    return anna, bram


def test_json_report_has_totals_per_author_and_article_in_minor_units(books):
    data = json.loads(report("--json"))

    assert data["filters"] == {"author": None, "article": None, "month": None}
    assert [author["slug"] for author in data["authors"]] == ["anna", "bram"]
    anna = data["authors"][0]
    assert anna["name"] == "Anna de Vries"
    assert anna["totals"] == [
        {
            "currency": "EUR",
            "payments": 3,
            "supporters": 2,
            "gross": 1800,
            "refunded": 1000,
            "disputed": 0,
            "fees": 103,
            "fees_missing": 0,
            "dispute_fees": 0,
            "net": 697,
        }
    ]
    bram = data["authors"][1]
    assert [
        (totals["currency"], totals["gross"], totals["disputed"], totals["net"]) for totals in bram["totals"]
    ] == [
        ("EUR", 700, 700, 0),
        ("USD", 1200, 0, 1140),
    ]
    assert bram["totals"][0]["fees_missing"] == 1
    assert [(article["slug"], article["author"]) for article in data["articles"]] == [
        ("dijk", "anna"),
        ("haven", "anna"),
        ("markt", "bram"),
    ]
    dijk = data["articles"][0]
    assert (dijk["title"], dijk["totals"][0]["gross"], dijk["totals"][0]["supporters"]) == (
        "De dijk",
        1500,
        1,
    )


def test_json_report_is_stable(books):
    assert report("--json") == report("--json")


def test_month_filter_uses_the_site_time_zone(books):
    october = json.loads(report("--json", "--month", "2026-10"))
    november = json.loads(report("--json", "--month", "2026-11"))

    assert [article["slug"] for article in october["articles"]] == ["haven"]
    assert october["filters"]["month"] == "2026-10"
    assert "haven" not in [article["slug"] for article in november["articles"]]


def test_author_and_article_filters(books):
    only_bram = json.loads(report("--json", "--author", "bram"))
    assert [author["slug"] for author in only_bram["authors"]] == ["bram"]
    assert [article["slug"] for article in only_bram["articles"]] == ["markt"]

    only_haven = json.loads(report("--json", "--article", "haven"))
    assert only_haven["authors"][0]["totals"][0]["gross"] == 300


def test_text_report_shows_amounts_in_major_units(books):
    text = report()

    assert text.startswith("Per author")
    assert "Anna de Vries (anna)" in text
    anna_line = next(line for line in text.splitlines() if line.startswith("Anna de Vries"))
    # gross, refunded, disputed, fees, dispute fees, net
    assert anna_line.split()[-9:] == ["EUR", "3", "2", "18.00", "10.00", "0.00", "1.03", "0.00", "6.97"]
    assert "(1 fees missing)" in text
    assert "De markt (markt)" in text and "USD" in text


def test_dispute_fees_are_reported_beside_stripe_fees_and_subtracted_from_net():
    author = AuthorFactory(slug="cas", name="Cas Smit")
    article = ArticleFactory(slug="kust", title="De kust", author=author)
    paid_at = datetime(2026, 11, 10, 12, tzinfo=AMS)
    AppreciationFactory(
        article=article,
        amount=2000,
        status=PAID,
        paid_at=paid_at,
        fee_amount=55,
        dispute_status=Appreciation.Dispute.WON,
        dispute_fee_amount=1500,
    )
    AppreciationFactory(article=article, amount=500, status=PAID, paid_at=paid_at, fee_amount=33)

    totals = json.loads(report("--json"))["authors"][0]["totals"][0]
    assert (totals["fees"], totals["dispute_fees"], totals["net"]) == (88, 1500, 2500 - 88 - 1500)
    assert list(totals) == sorted(totals)  # sort_keys: the order is stable too

    text = report().splitlines()
    header = text[1].split()
    assert header[header.index("fees") + 1] == "disp.fees"
    cas_line = next(line for line in text if line.startswith("Cas Smit"))
    assert cas_line.split()[-6:] == ["25.00", "0.00", "0.00", "0.88", "15.00", "9.12"]


def test_text_report_without_payments_says_so():
    assert "(no paid appreciations)" in report()


@pytest.mark.parametrize(
    "args", [("--author", "nobody"), ("--article", "nothing"), ("--month", "2026-13"), ("--month", "nov")]
)
def test_unknown_filters_are_command_errors(books, args):
    with pytest.raises(CommandError):
        report(*args)
