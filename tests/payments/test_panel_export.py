"""CSV export of appreciations and the editor's statement: content, escaping, isolation, queries."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from payments.reports import csv_safe
from tests.factories import ArticleFactory
from tests.panel_helpers import author_login, editor_login, paid

pytestmark = pytest.mark.django_db

FEBRUARY = {"period": "custom", "start": "2026-02-01", "end": "2026-02-28"}


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def two_authors():
    user_a, author_a = author_login("anna", name="Anna", slug="anna")
    user_b, author_b = author_login("bram", name="Bram", slug="bram")
    article_a = ArticleFactory(author=author_a, title="Dykes")
    article_b = ArticleFactory(author=author_b, title="Secret of Bram")
    paid(article_b, paid_at=datetime(2026, 2, 9, 12, tzinfo=UTC), amount=5000, fee=100, message="for Bram")
    return user_a, author_a, article_a, user_b, author_b, article_b


def test_author_exports_own_appreciations_with_amounts_fees_and_net(client, two_authors):
    user_a, _, article_a, *_ = two_authors
    paid(
        article_a,
        paid_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC),  # 1 February, 00:30 in Amsterdam
        amount=1000,
        fee=40,
        display_name="Els",
        message="Dank je",
        is_public=True,
    )
    paid(article_a, paid_at=datetime(2026, 2, 3, 9, tzinfo=UTC), amount=500, fee=33, refunded_amount=500)
    paid(article_a, paid_at=datetime(2026, 2, 4, 9, tzinfo=UTC), amount=700, fee=None, dispute_status="open")
    client.force_login(user_a)
    with translation.override("en"):
        url = reverse("admin:panel-export")
    assert url.startswith("/en/")
    rows = rows_of(client.get(url, FEBRUARY))
    assert rows[0] == [
        "date",
        "article",
        "amount",
        "fee",
        "refunded",
        "net",
        "currency",
        "status",
        "public name",
        "message",
    ]
    assert rows[1] == [
        "2026-02-01 00:30",
        "Dykes",
        "10.00",
        "0.40",
        "0.00",
        "9.60",
        "EUR",
        "paid",
        "Els",
        "Dank je",
    ]
    assert rows[2][2:8] == ["5.00", "0.33", "5.00", "-0.33", "EUR", "refunded"]
    assert rows[3][2:8] == ["7.00", "", "0.00", "0.00", "EUR", "disputed"]
    assert len(rows) == 4
    text = str(rows)
    assert "Bram" not in text
    assert "@" not in text  # no reader email or other address in the file


def test_export_neutralises_spreadsheet_formulas(client, two_authors):
    user_a, _, _, *_ = two_authors
    article = ArticleFactory(author=two_authors[1], title='=HYPERLINK("http://evil")')
    for index, text in enumerate(["=1+1", "+31 6", "-2", "@SUM(A1)", "\tTab", "\rReturn"]):
        paid(article, paid_at=datetime(2026, 2, 10 + index, tzinfo=UTC), display_name=text, message=text)
    client.force_login(user_a)
    rows = rows_of(client.get(reverse("admin:panel-export"), FEBRUARY))[1:]
    assert {row[1] for row in rows} == {'\'=HYPERLINK("http://evil")'}
    assert [row[8] for row in rows] == ["'=1+1", "'+31 6", "'-2", "'@SUM(A1)", "'\tTab", "'\rReturn"]
    assert [row[9] for row in rows] == [row[8] for row in rows]


def test_csv_safe_leaves_ordinary_text_alone():
    assert csv_safe("Dank je wel") == "Dank je wel"
    assert csv_safe("") == ""
    assert csv_safe(None) == ""
    assert csv_safe("a=b") == "a=b"


def test_author_cannot_export_another_authors_appreciations(client, two_authors):
    user_a, _, _, _, author_b, _ = two_authors
    client.force_login(user_a)
    assert client.get(reverse("admin:panel-export"), {**FEBRUARY, "author": author_b.pk}).status_code == 403
    assert client.get(reverse("admin:panel-export"), {"author": "bram"}).status_code == 403


def test_export_rejects_an_invalid_period(client, two_authors):
    client.force_login(two_authors[0])
    response = client.get(reverse("admin:panel-export"), {"period": "custom", "start": "2026-13-01"})
    assert response.status_code == 400


def test_editor_exports_everyone_with_an_author_column_or_one_author(client, two_authors):
    _, _, article_a, _, author_b, _ = two_authors
    paid(article_a, paid_at=datetime(2026, 2, 2, 12, tzinfo=UTC), amount=300)
    client.force_login(editor_login())
    everyone = rows_of(client.get(reverse("admin:panel-export"), FEBRUARY))
    assert len(everyone) == 3
    assert {row[2] for row in everyone[1:]} == {"Anna", "Bram"}
    only_b = rows_of(client.get(reverse("admin:panel-export"), {**FEBRUARY, "author": author_b.pk}))
    assert len(only_b) == 2
    assert only_b[1][1] == "Secret of Bram"


def test_staff_without_role_cannot_export(client, two_authors):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="loose", is_staff=True))
    assert client.get(reverse("admin:panel-export"), FEBRUARY).status_code == 403


def _export_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        rows_of(client.get(reverse("admin:panel-export"), FEBRUARY))
    return len(queries)


def test_export_query_count_does_not_depend_on_rows(client, two_authors, django_assert_max_num_queries):
    user_a, _, article_a, *_ = two_authors
    client.force_login(user_a)
    paid(article_a, paid_at=datetime(2026, 2, 2, tzinfo=UTC))
    few = _export_queries(client)
    for day in range(3, 28):
        paid(ArticleFactory(author=two_authors[1]), paid_at=datetime(2026, 2, day, tzinfo=UTC))
    many = _export_queries(client)
    assert few == many
    with django_assert_max_num_queries(8):
        rows_of(client.get(reverse("admin:panel-export"), FEBRUARY))


# --- the editor's statement -----------------------------------------------------------------


def test_statement_is_for_editors_only(client, two_authors):
    client.force_login(two_authors[0])
    assert client.get(reverse("admin:panel-statement")).status_code == 403
    assert client.get(reverse("admin:panel-statement-csv")).status_code == 403


def test_statement_per_author_and_month_in_the_site_time_zone(client, two_authors):
    _, _, article_a, _, author_b, _ = two_authors
    paid(article_a, paid_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), amount=1000, fee=40)  # February here
    paid(article_a, paid_at=datetime(2026, 1, 15, 12, tzinfo=UTC), amount=300, fee=29, refunded_amount=300)
    paid(
        article_a,
        paid_at=datetime(2026, 2, 20, 12, tzinfo=UTC),
        amount=700,
        fee=35,
        dispute_status="lost",
        dispute_fee_amount=1500,
    )
    client.force_login(editor_login())
    params = {"period": "custom", "start": "2026-01-01", "end": "2026-02-28"}
    page = client.get(reverse("admin:panel-statement"), params)
    assert page.status_code == 200
    with translation.override("en"):
        csv_url = reverse("admin:panel-statement-csv")
    assert csv_url.startswith("/en/")
    rows = rows_of(client.get(csv_url, params))
    assert rows[0][4:7] == ["gross", "fees", "dispute fees"]
    # Net subtracts the dispute fee: 1700 - 700 disputed - 75 fees - 1500 dispute fee.
    assert rows[1:] == [
        ["Anna", "2026-01", "0", "1", "3.00", "0.29", "0.00", "3.00", "0.00", "-0.29", "EUR", "0"],
        ["Anna", "2026-02", "1", "2", "17.00", "0.75", "15.00", "0.00", "7.00", "-5.75", "EUR", "0"],
        ["Bram", "2026-02", "1", "1", "50.00", "1.00", "0.00", "0.00", "0.00", "49.00", "EUR", "0"],
    ]
    with translation.override("en"):
        english = client.get(reverse("admin:panel-statement"), params).content.decode()
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", english)
    assert cells[cells.index("Stripe fees") + 1] == "Dispute fees"
    assert "€15.00" in cells
    only_b = rows_of(client.get(reverse("admin:panel-statement-csv"), {**params, "author": author_b.pk}))
    assert [row[0] for row in only_b[1:]] == ["Bram"]
    assert "Anna" in page.content.decode()


def test_statement_query_count_does_not_depend_on_rows(client, two_authors, django_assert_max_num_queries):
    client.force_login(editor_login())
    params = {"period": "custom", "start": "2026-01-01", "end": "2026-03-31"}
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("admin:panel-statement"), params)
    for month in (1, 2, 3):
        _, author = author_login(f"writer{month}")
        for day in (2, 9, 16):
            paid(ArticleFactory(author=author), paid_at=datetime(2026, month, day, tzinfo=UTC))
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("admin:panel-statement"), params)
    assert len(few) == len(many)
    with django_assert_max_num_queries(15):
        client.get(reverse("admin:panel-statement"), params)
