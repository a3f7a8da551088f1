"""Feedback without paying: the endpoint's limits and abuse protection, and that it is never money."""

from datetime import UTC

import pytest

from feedback.models import Feedback
from feedback.services import feedback_free_create
from payments import selectors
from payments.models import Appreciation
from tests.factories import ArticleFactory
from tests.feedback.conftest import SAME_ORIGIN, form_data
from tests.panel_helpers import paid

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    return ArticleFactory(slug="de-dijk")


def send(client, article, data, prefix="", **headers):
    return client.post(f"{prefix}/feedback/send/{article.slug}/", data, **{**SAME_ORIGIN, **headers})


def test_reader_sends_reasons_and_a_message_without_paying(client, article):
    response = send(
        client, article, form_data(reasons=["well_researched", "local_knowledge"], message=" Sterk stuk. ")
    )
    assert response.status_code == 303
    assert response["Location"] == "/feedback/thanks/de-dijk/"
    feedback = Feedback.objects.get()
    assert feedback.article == article and feedback.appreciation is None
    assert feedback.message == "Sterk stuk."
    assert sorted(feedback.reasons.values_list("code", flat=True)) == ["local_knowledge", "well_researched"]
    assert not Appreciation.objects.exists()
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200


def test_the_widget_offers_the_reasons_and_a_send_without_paying_button(client, article):
    html = client.get("/artikel/de-dijk/").content.decode()
    assert 'name="reasons" value="well_researched"' in html
    assert 'formaction="/feedback/send/de-dijk/"' in html
    en = client.get("/en/artikel/de-dijk/").content.decode()
    assert 'formaction="/en/feedback/send/de-dijk/"' in en
    assert "Send without paying" in en


def test_only_a_reason_is_enough_and_an_amount_field_is_ignored(client, article):
    response = send(client, article, form_data(reasons=["clearly_written"], amount="abc", preset="500"))
    assert response.status_code == 303
    assert Feedback.objects.get().message == ""


def test_empty_feedback_comes_back_with_400_and_a_clear_error(client, article):
    response = send(client, article, form_data(message="   "), prefix="/en")
    assert response.status_code == 400
    assert "Tick at least one reason or write a message." in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_too_long_message_comes_back_with_the_input_kept(client, article):
    response = send(
        client, article, form_data(reasons=["moving_not_offered"], message="x" * 1001), prefix="/en"
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "x" * 1001 in html
    assert "Choose from the reasons shown." in html
    assert "no-store" in response["Cache-Control"]
    assert not Feedback.objects.exists()


def test_reader_text_is_escaped_when_the_form_comes_back(client, article):
    response = send(client, article, form_data(message="<script>alert(1)</script>" + "y" * 1000))
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.content.decode()


def test_honeypot_looks_like_success_and_keeps_nothing(client, article):
    response = send(client, article, form_data(message="Buy pills", website="http://spam.example"))
    assert response.status_code == 303
    assert not Feedback.objects.exists()


def test_a_form_sent_at_once_after_rendering_is_a_bot(client, article, settings):
    from payments.forms import rendered_stamp

    settings.APPRECIATION_MIN_SUBMIT_SECONDS = 3
    response = send(client, article, {"message": "Hallo", "rendered": rendered_stamp()})
    assert response.status_code == 303
    assert not Feedback.objects.exists()


def test_a_post_from_another_site_is_refused(client, article):
    response = send(
        client,
        article,
        form_data(message="Hallo"),
        HTTP_SEC_FETCH_SITE="cross-site",
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_a_client_that_sends_too_much_gets_429(client, article, settings):
    settings.RATELIMIT_FEEDBACK_IP = "3/10m"
    for number in range(3):
        assert send(client, article, form_data(message=f"Bericht {number}")).status_code == 303
    response = send(client, article, form_data(message="Nog een"))
    assert response.status_code == 429
    assert "Retry-After" in response
    assert Feedback.objects.count() == 3


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_only_post_is_accepted(client, article, method):
    assert getattr(client, method)(f"/feedback/send/{article.slug}/").status_code == 405


def test_drafts_articles_without_widget_and_unknown_articles_are_404(client):
    draft = ArticleFactory(status="draft")
    closed = ArticleFactory(appreciation_enabled=False)
    for slug in (draft.slug, closed.slug, "bestaat-niet", "99999999999999999999999"):
        assert (
            client.post(f"/feedback/send/{slug}/", form_data(message="Hi"), **SAME_ORIGIN).status_code == 404
        )


def test_free_feedback_never_counts_as_money(article):
    from datetime import datetime

    paid(article, paid_at=datetime(2026, 11, 3, 12, tzinfo=UTC), amount=700)
    before = (
        selectors.totals(currency="EUR"),
        selectors.totals_by_article(currency="EUR"),
        selectors.article_supporters(article_id=article.pk),
    )
    for number in range(5):
        feedback_free_create(
            article=article, reasons=["well_researched"], message=f"Gratis {number}", locale="nl"
        )
    after = (
        selectors.totals(currency="EUR"),
        selectors.totals_by_article(currency="EUR"),
        selectors.article_supporters(article_id=article.pk),
    )
    assert after == before
    assert after[0].supporters == 1 and after[0].gross == 700
    assert Appreciation.objects.count() == 1


@pytest.mark.parametrize("ref", ["%C2%B2", "%D9%A3", "99999999999999999999"])
def test_unusual_article_refs_get_a_404_not_a_500(client, ref):
    response = client.post(f"/feedback/send/{ref}/", form_data(message="Hallo"), **SAME_ORIGIN)
    assert response.status_code == 404
