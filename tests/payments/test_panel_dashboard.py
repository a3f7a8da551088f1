"""The author's dashboard: figures equal the books, periods in the site's time zone, isolation."""

import re
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.charts import chart_for
from payments.money import format_money
from payments.reports import period_for
from payments.selectors import totals
from tests.factories import ArticleFactory, UserFactory
from tests.panel_helpers import author_login, editor_login, paid
from tests.translated import translated_html

pytestmark = pytest.mark.django_db

FEBRUARY = {"period": "custom", "start": "2026-02-01", "end": "2026-02-28"}


def at(day: int, hour: int = 12, month: int = 2) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


@pytest.fixture
def books():
    """Author A's February: a refund, a partial refund, an open and a won dispute; B earns too."""
    user_a, author_a = author_login("anna", name="Anna")
    user_b, author_b = author_login("bram", name="Bram")
    first = ArticleFactory(author=author_a, title="Dykes")
    second = ArticleFactory(author=author_a, title="Harbour")
    paid(first, paid_at=at(3), amount=1000, fee=40, message="Keep going")
    paid(first, paid_at=at(4), amount=500, fee=33, refunded_amount=500)
    paid(first, paid_at=at(5), amount=700, fee=35, dispute_status="open")
    paid(second, paid_at=at(6), amount=300, fee=29, refunded_amount=100)
    paid(second, paid_at=at(7), amount=2000, fee=55, dispute_status="won")
    paid(ArticleFactory(author=author_b, title="Secret of Bram"), paid_at=at(5), amount=5000, fee=100)
    return {"a": (user_a, author_a), "b": (user_b, author_b), "articles": (first, second)}


def test_dashboard_figures_equal_the_books_with_refunds_and_disputes(client, books):
    user, author = books["a"]
    client.force_login(user)
    response = client.get(reverse("admin:index"), FEBRUARY)
    assert response.status_code == 200
    overall = response.context["overall"]
    # gross 4500; refunded 500 + 100; disputed 700 (open); fees 192; net 4500 - 600 - 700 - 192.
    assert overall["gross"] == format_money(4500, "EUR", "nl")
    assert overall["refunded"] == format_money(600, "EUR", "nl")
    assert overall["disputed"] == format_money(700, "EUR", "nl")
    assert overall["fees"] == format_money(192, "EUR", "nl")
    assert overall["net"] == format_money(3008, "EUR", "nl") == "€\xa030,08"
    assert overall["supporters"] == 3
    assert overall["average"] == format_money(900, "EUR", "nl")
    books_total = totals(
        currency="EUR", author=author, start=datetime(2026, 1, 31, 23, tzinfo=UTC), end=at(28, 23)
    )
    assert books_total.net == 3008
    content = response.content.decode()
    assert "Secret of Bram" not in content
    assert "€\xa030,08" in content


def test_dashboard_per_article_rows_and_share(client, books):
    user, _ = books["a"]
    client.force_login(user)
    rows = client.get(reverse("admin:index"), FEBRUARY).context["article_rows"]
    assert [row["article"].title for row in rows] == ["Harbour", "Dykes"]  # by gross: 2300, 2200
    harbour, dykes = rows
    assert harbour["totals"].net == 2300 - 100 - 29 - 55
    assert dykes["totals"].net == 2200 - 500 - 700 - 108
    assert str(harbour["share"]) == "51.1"  # 2300 / 4500
    assert dykes["display"]["supporters"] == 1


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("net", ["Dykes", "Harbour"]),
        ("-net", ["Harbour", "Dykes"]),
        ("-supporters", ["Harbour", "Dykes"]),
        ("last", ["Dykes", "Harbour"]),
        ("title);DROP", ["Harbour", "Dykes"]),  # not whitelisted: default, highest gross first
    ],
)
def test_dashboard_sorting_is_whitelisted(client, books, sort, expected):
    user, _ = books["a"]
    client.force_login(user)
    response = client.get(reverse("admin:index"), {**FEBRUARY, "sort": sort})
    assert response.status_code == 200
    assert [row["article"].title for row in response.context["article_rows"]] == expected


def test_author_cannot_open_another_authors_dashboard(client, books):
    user, _ = books["a"]
    _, author_b = books["b"]
    client.force_login(user)
    assert client.get(reverse("admin:index"), {**FEBRUARY, "author": author_b.pk}).status_code == 403
    assert client.get(reverse("admin:index"), {**FEBRUARY, "author": "x"}).status_code == 403


def test_editor_sees_site_wide_figures_and_can_pick_an_author(client, books):
    client.force_login(editor_login())
    site = client.get(reverse("admin:index"), FEBRUARY)
    assert site.context["overall"]["gross"] == format_money(9500, "EUR", "nl")
    assert "Secret of Bram" in site.content.decode()
    _, author_b = books["b"]
    picked = client.get(reverse("admin:index"), {**FEBRUARY, "author": author_b.pk})
    assert picked.context["overall"]["gross"] == format_money(5000, "EUR", "nl")
    assert client.get(reverse("admin:index"), {"author": 999999}).status_code == 404


def test_period_boundaries_follow_the_site_time_zone(client, settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    user, author = author_login("anna")
    article = ArticleFactory(author=author)
    # 23:30 UTC on 31 January is 00:30 on 1 February in Amsterdam.
    paid(article, paid_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), amount=700)
    # 22:30 UTC on 28 February is 23:30 on 28 February in Amsterdam: still February.
    paid(article, paid_at=datetime(2026, 2, 28, 22, 30, tzinfo=UTC), amount=300)
    # 23:30 UTC on 28 February is already March in Amsterdam.
    paid(article, paid_at=datetime(2026, 2, 28, 23, 30, tzinfo=UTC), amount=900)
    client.force_login(user)
    feb = client.get(reverse("admin:index"), FEBRUARY).context["overall"]
    jan = client.get(reverse("admin:index"), {"period": "custom", "start": "2026-01-01", "end": "2026-01-31"})
    assert feb["gross"] == format_money(1000, "EUR", "nl")
    assert jan.context["overall"]["gross"] == format_money(0, "EUR", "nl")


def test_period_picker_choices_are_calendar_periods_in_the_site_time_zone(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    today = date(2026, 3, 15)
    last_month = period_for("last-month", today=today)
    assert (last_month.first_day, last_month.last_day) == (date(2026, 2, 1), date(2026, 2, 28))
    assert last_month.start == datetime(2026, 1, 31, 23, 0, tzinfo=UTC)
    assert last_month.end == datetime(2026, 2, 28, 23, 0, tzinfo=UTC)
    this_month = period_for("this-month", today=today)
    assert (this_month.first_day, this_month.last_day) == (date(2026, 3, 1), today)
    # Summer time: April starts at 22:00 UTC on 31 March.
    assert period_for("last-month", today=date(2026, 5, 2)).start == datetime(2026, 3, 31, 22, tzinfo=UTC)
    assert period_for("90-days", today=today).first_day == date(2025, 12, 16)
    assert period_for("this-year", today=today).first_day == date(2026, 1, 1)
    assert period_for("all", today=today).start is None


def test_invalid_period_shows_an_error_and_this_month(client, books):
    user, _ = books["a"]
    client.force_login(user)
    response = client.get(
        reverse("admin:index"), {"period": "custom", "start": "2026-02-10", "end": "2026-02-01"}
    )
    assert response.status_code == 200
    assert response.context["period"].key == "this-month"
    assert translated_html("The start date must be on or before the end date.") in response.content.decode()
    assert client.get(reverse("admin:index"), {"period": "bogus", "start": "nonsense"}).status_code == 200


def test_chart_is_inline_svg_with_a_bar_per_day_and_accessible_text(client, books):
    user, _ = books["a"]
    client.force_login(user)
    content = client.get(reverse("admin:index"), FEBRUARY).content.decode()
    svg = re.search(r"<svg class=\"panel-chart\".*?</svg>", content, re.S).group(0)
    assert 'role="img"' in svg
    assert '<title id="chart-title">' in svg
    assert '<desc id="chart-desc">' in svg
    assert svg.count("<rect") == 28  # every day of February, empty days included


def test_chart_groups_long_periods_into_buckets():
    from payments.selectors import Totals

    days = [
        (date(2025, 1, 1), Totals(currency="EUR", payments=2, gross=1000)),
        (date(2025, 12, 31), Totals(currency="EUR", payments=1, gross=500)),
    ]
    chart = chart_for(days, first=date(2025, 1, 1), last=date(2025, 12, 31), currency="EUR")
    assert chart["days_per_bar"] == 4
    assert len(chart["buckets"]) == 92
    assert sum(bucket["count"] for bucket in chart["buckets"]) == 3
    assert sum(bucket["net"] for bucket in chart["buckets"]) == 1500


def _bars(content: str) -> list[dict[str, float]]:
    """The chart's bars as numbers; float() fails on a localized "12,5", which SVG cannot read."""
    svg = re.search(r"<svg class=\"panel-chart\".*?</svg>", content, re.S).group(0)
    return [
        {name: float(value) for name, value in re.findall(r'(x|y|width|height)="([^"]*)"', rect)}
        for rect in re.findall(r"<rect [^>]*>", svg)
    ]


def test_chart_draws_a_bar_for_a_day_with_a_small_net_on_the_dutch_dashboard(client):
    user, author = author_login("anna")
    paid(ArticleFactory(author=author), paid_at=at(10), amount=250, fee=29)  # net € 2,21
    client.force_login(user)
    response = client.get(reverse("admin:index"), FEBRUARY)
    assert response.context["chart"]["buckets"][9]["net"] == 221
    bars = _bars(response.content.decode())
    assert len(bars) == 28
    tenth = bars[9]
    assert tenth["height"] > 0
    assert tenth["width"] > 0
    assert [bar["height"] for index, bar in enumerate(bars) if index != 9] == [0] * 27


def test_chart_coordinates_are_plain_numbers_in_english_too(client, books):
    user, _ = books["a"]
    client.force_login(user)
    bars = _bars(client.get("/en/admin/", FEBRUARY).content.decode())
    assert sum(1 for bar in bars if bar["height"] > 0) == 5  # 3 to 7 February


def test_chart_labels_a_few_dates_when_there_are_many_days():
    from payments.selectors import Totals

    days = [(date(2026, 2, day), Totals(currency="EUR", payments=1, gross=500)) for day in range(1, 29)]
    chart = chart_for(days, first=date(2026, 2, 1), last=date(2026, 4, 30), currency="EUR")
    assert len(chart["buckets"]) == 89
    labels = chart["labels"]
    assert len(labels) == 7
    assert (labels[0]["day"], labels[-1]["day"]) == (date(2026, 2, 1), date(2026, 4, 30))
    assert (labels[0]["edge"], labels[-1]["edge"]) == ("first", "last")
    # A phone keeps the first, the middle and the last.
    assert [label["day"] for label in labels if not label["minor"]] == [
        date(2026, 2, 1),
        date(2026, 3, 17),
        date(2026, 4, 30),
    ]
    lefts = [float(label["left"]) for label in labels]
    assert lefts == sorted(lefts)
    assert 0 < lefts[0] < 1 and 99 < lefts[-1] < 100


def test_short_periods_label_every_day():
    from payments.selectors import Totals

    days = [(date(2026, 2, 2), Totals(currency="EUR", payments=1, gross=500))]
    chart = chart_for(days, first=date(2026, 2, 1), last=date(2026, 2, 3), currency="EUR")
    assert [label["day"].day for label in chart["labels"]] == [1, 2, 3]
    assert all(not label["minor"] for label in chart["labels"])


def test_dashboard_shows_dispute_fees_next_to_stripe_fees(client):
    user, author = author_login("anna")
    paid(
        ArticleFactory(author=author),
        paid_at=at(10),
        amount=2000,
        fee=55,
        dispute_status="won",
        dispute_fee_amount=1500,
    )
    client.force_login(user)
    response = client.get("/en/admin/", FEBRUARY)
    overall = response.context["overall"]
    assert overall["dispute_fees"] == "€15.00"
    assert overall["net"] == "€4.45"  # 2000 - 55 - 1500
    terms = re.findall(r"<dt>(.*?)</dt>", response.content.decode())
    assert terms[terms.index("Stripe fees") + 1] == "Dispute fees"


def test_reader_messages_are_escaped_on_the_dashboard(client):
    user, author = author_login("anna")
    paid(
        ArticleFactory(author=author, title="<b>Bold</b> title"),
        paid_at=at(3),
        message="<script>alert(1)</script>",
    )
    client.force_login(user)
    content = client.get(reverse("admin:index"), FEBRUARY).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content
    assert "<script>alert(1)" not in content
    assert "<b>Bold</b>" not in content


def test_dashboard_in_english_formats_money_in_english(client, books):
    user, _ = books["a"]
    client.force_login(user)
    response = client.get("/en/admin/", FEBRUARY)
    assert response.status_code == 200
    assert response.context["overall"]["net"] == "€30.08"
    assert "Stripe fees" in response.content.decode()


def test_staff_without_a_role_sees_no_figures(client, books):
    client.force_login(UserFactory(username="loose", is_staff=True))
    response = client.get(reverse("admin:index"), FEBRUARY)
    assert response.status_code == 200
    assert "overall" not in response.context
    assert "Secret of Bram" not in response.content.decode()


def test_anonymous_visitor_is_sent_to_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def _seed(author, count: int) -> None:
    articles = [ArticleFactory(author=author) for _ in range(max(1, count // 5))]
    for index in range(count):
        paid(articles[index % len(articles)], paid_at=at(1 + index % 27), message=f"Thanks {index}")


def _dashboard_queries(client, user) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:index"), FEBRUARY).status_code == 200
    return len(queries)


def test_dashboard_query_count_does_not_depend_on_rows(client, django_assert_max_num_queries):
    few_user, few_author = author_login("few")
    many_user, many_author = author_login("many")
    _seed(few_author, 2)
    _seed(many_author, 60)
    client.force_login(few_user)
    few = _dashboard_queries(client, few_user)
    client.force_login(many_user)
    many = _dashboard_queries(client, many_user)
    assert few == many
    with django_assert_max_num_queries(20):
        client.get(reverse("admin:index"), FEBRUARY)


def test_editor_dashboard_query_count_does_not_depend_on_rows(client, django_assert_max_num_queries):
    editor = editor_login()
    _, author = author_login("anna")
    _seed(author, 3)
    client.force_login(editor)
    few = _dashboard_queries(client, editor)
    _, other = author_login("bram")
    _seed(other, 50)
    many = _dashboard_queries(client, editor)
    assert few == many
    with django_assert_max_num_queries(20):
        client.get(reverse("admin:index"), FEBRUARY)
