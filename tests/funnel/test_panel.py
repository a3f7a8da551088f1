"""The funnel in the panel: counts from DailyCount, money from the books, scoped per author."""

from datetime import UTC, date, datetime, timedelta

import pytest

from funnel.models import DailyCount
from funnel.panel import funnel_rows
from funnel.services import site_day
from tests.factories import ArticleFactory
from tests.panel_helpers import author_login, editor_login, paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def books():
    anna_user, anna = author_login("anna", name="Anna")
    bram_user, bram = author_login("bram", name="Bram")
    today = site_day()
    a1 = ArticleFactory(author=anna, title="Veel gelezen")
    a2 = ArticleFactory(author=anna, title="Weinig gelezen")
    b1 = ArticleFactory(author=bram, title="Van Bram")
    DailyCount.objects.create(article=a1, day=today, views=1500, seen=600, started=30)
    DailyCount.objects.create(article=a1, day=today - timedelta(days=1), views=500, seen=200, started=10)
    DailyCount.objects.create(article=a2, day=today, views=400, seen=100, started=5)
    DailyCount.objects.create(article=b1, day=today, views=999, seen=1, started=1)
    now = datetime.now(UTC) - timedelta(minutes=5)
    for _ in range(4):
        paid(a1, paid_at=now, amount=500)
    paid(a2, paid_at=now, amount=1000)
    paid(b1, paid_at=now, amount=300)
    return {"anna": anna_user, "bram": bram_user, "a1": a1, "a2": a2, "b1": b1, "anna_author": anna}


def test_rows_combine_counts_with_supporters_and_revenue_from_the_books(books):
    rows = {
        row.article.pk: row
        for row in funnel_rows(
            author=books["anna_author"], first_day=None, last_day=None, start=None, end=None
        )
    }
    assert set(rows) == {books["a1"].pk, books["a2"].pk}
    a1 = rows[books["a1"].pk]
    assert (a1.counts.views, a1.counts.seen, a1.counts.started) == (2000, 800, 40)
    assert a1.totals.supporters == 4 and a1.totals.gross == 2000
    assert str(a1.conversion) == "2.0"  # 4 supporters per 2,000 views
    assert a1.revenue == 1000  # €20.00 per 2,000 views = €10.00 per 1,000
    a2 = rows[books["a2"].pk]
    assert str(a2.conversion) == "2.5" and a2.revenue == 2500


def test_an_article_with_payments_but_no_counted_views_shows_dashes_not_errors(books):
    lonely = ArticleFactory(author=books["anna_author"])
    paid(lonely, paid_at=datetime.now(UTC) - timedelta(minutes=1))
    rows = {
        row.article.pk: row
        for row in funnel_rows(
            author=books["anna_author"], first_day=None, last_day=None, start=None, end=None
        )
    }
    assert rows[lonely.pk].conversion is None and rows[lonely.pk].revenue is None


def test_author_page_shows_own_articles_sorted_and_never_anothers(client, books):
    client.force_login(books["anna"])
    response = client.get("/en/admin/panel/funnel/?period=all&sort=-conversion")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Veel gelezen" in html and "Van Bram" not in html
    assert html.index("Weinig gelezen") < html.index("Veel gelezen")  # 2.5 before 2.0
    assert client.get(f"/admin/panel/funnel/?author={books['b1'].author.pk}").status_code == 403
    assert client.get("/admin/panel/funnel/?sort=;drop").status_code == 200


def test_editor_sees_the_site_wide_funnel(client, books):
    client.force_login(editor_login())
    response = client.get("/en/admin/panel/funnel/?period=all")
    assert response.status_code == 200
    overall = response.context["overall"]
    assert (overall.counts.views, overall.counts.seen, overall.counts.started) == (3399, 901, 46)
    assert overall.totals.payments == 6
    assert "Van Bram" in response.content.decode()


def test_period_limits_the_days_counted(client, books):
    client.force_login(books["anna"])
    today = site_day()
    response = client.get(f"/admin/panel/funnel/?period=custom&start={today}&end={today}")
    assert response.context["overall"].counts.views == 1900
    assert isinstance(today, date)


def test_staff_without_a_role_is_refused(client):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody", is_staff=True))
    assert client.get("/admin/panel/funnel/").status_code == 403
