"""Reason counts (payers and non-payers), moderation, the paid route and the panel's scope."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from feedback import selectors, services
from feedback.models import Feedback
from funnel import services as funnel_services
from funnel.models import DailyCount
from payments.models import Appreciation
from tests.factories import AppreciationFactory, ArticleFactory
from tests.feedback.conftest import form_data
from tests.panel_helpers import author_login, editor_login, paid

pytestmark = pytest.mark.django_db
PAID_AT = datetime(2026, 11, 3, 12, tzinfo=UTC)


def counts(**filters) -> dict:
    return {r.code: (r.payers, r.non_payers) for r in selectors.reason_counts(**filters)}


def with_payment(article, reasons, *, status=Appreciation.Status.PAID, message="", **fields):
    if status == Appreciation.Status.PAID:
        appreciation = paid(article, paid_at=PAID_AT, message=message, **fields)
    else:
        appreciation = AppreciationFactory(article=article, status=status, message=message, **fields)
    return services.feedback_for_appreciation_save(appreciation=appreciation, reasons=reasons)


def test_reasons_are_counted_separately_for_payers_and_non_payers():
    article = ArticleFactory()
    with_payment(article, ["well_researched", "new_perspective"])
    with_payment(article, ["well_researched"])
    services.feedback_free_create(article=article, reasons=["well_researched"], message="", locale="nl")
    services.feedback_free_create(article=article, reasons=["local_knowledge"], message="Hoi", locale="nl")
    # Not counted: a payment that never happened, and another article.
    with_payment(article, ["clearly_written"], status=Appreciation.Status.EXPIRED)
    with_payment(article, ["important_to_know"], status=Appreciation.Status.PENDING)
    services.feedback_free_create(
        article=ArticleFactory(), reasons=["new_perspective"], message="", locale="nl"
    )
    result = counts(article=article)
    assert result == {
        "well_researched": (2, 1),
        "new_perspective": (1, 0),
        "clearly_written": (0, 0),
        "important_to_know": (0, 0),
        "local_knowledge": (0, 1),
    }
    assert selectors.feedback_counts(article=article) == {"payers": 2, "non_payers": 2, "unread": 1}


def test_unknown_and_repeated_codes_are_dropped_and_a_repeat_submission_changes_nothing():
    article = ArticleFactory()
    appreciation = paid(article, paid_at=PAID_AT)
    services.feedback_for_appreciation_save(
        appreciation=appreciation, reasons=["well_researched", "x", "well_researched"]
    )
    services.feedback_for_appreciation_save(appreciation=appreciation, reasons=["well_researched"])
    assert Feedback.objects.count() == 1
    assert list(Feedback.objects.get().reasons.values_list("code", flat=True)) == ["well_researched"]


def test_a_payment_without_reasons_or_message_leaves_no_feedback_row():
    assert (
        services.feedback_for_appreciation_save(
            appreciation=paid(ArticleFactory(), paid_at=PAID_AT), reasons=[]
        )
        is None
    )
    assert not Feedback.objects.exists()


def test_period_filters_on_when_feedback_was_sent():
    article = ArticleFactory()
    old = services.feedback_free_create(article=article, reasons=["moving"], message="", locale="nl")
    Feedback.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    services.feedback_free_create(article=article, reasons=["useful"], message="", locale="nl")
    recent = counts(article=article, start=timezone.now() - timedelta(days=7))
    assert recent.get("moving", (0, 0)) == (0, 0)
    assert counts(article=article)["moving"] == (0, 1)


def test_reported_feedback_is_hidden_and_excluded_from_counts_and_restoring_brings_it_back():
    article = ArticleFactory()
    feedback = with_payment(article, ["well_researched"], message="Scheldwoorden", is_public=True)
    assert counts(article=article)["well_researched"] == (1, 0)
    services.feedback_report(feedback=feedback)
    assert counts(article=article)["well_researched"] == (0, 0)
    assert list(selectors.feedback_messages(article=article)) == []
    assert [f.pk for f in selectors.feedback_messages(article=article, include_reported=True)] == [
        feedback.pk
    ]
    appreciation = Appreciation.objects.get()
    assert appreciation.hidden_by_author
    # The payment itself still counts: reporting a message never changes the books.
    from payments import selectors as books

    assert books.article_supporters(article_id=article.pk)[0] == 1
    services.feedback_report(feedback=feedback, reported=False)
    assert counts(article=article)["well_researched"] == (1, 0)


def test_hide_and_read_change_only_what_they_say():
    article = ArticleFactory()
    feedback = with_payment(article, [], message="Mooi", is_public=True)
    from payments import selectors as books

    assert [s.message for s in books.article_supporters(article_id=article.pk)[1]] == ["Mooi"]
    services.feedback_set_hidden(feedback=feedback, hidden=True)
    assert books.article_supporters(article_id=article.pk)[1] == []
    services.feedback_mark_read(feedback=feedback)
    assert Feedback.objects.get().is_read
    assert counts(article=article) == dict.fromkeys(counts(article=article), (0, 0))
    messages = list(selectors.feedback_messages(article=article))
    assert [m.text for m in messages] == ["Mooi"]


def test_messages_are_listed_newest_first_from_both_routes():
    article = ArticleFactory()
    first = services.feedback_free_create(article=article, reasons=[], message="Eerste", locale="nl")
    Feedback.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=2))
    with_payment(article, ["moving"], message="Tweede")
    services.feedback_free_create(article=article, reasons=["useful"], message="", locale="nl")
    assert [m.text for m in selectors.feedback_messages(article=article)] == ["Tweede", "Eerste"]


def test_paying_reader_sends_reasons_with_the_appreciation_and_one_checkout_is_counted(
    client, stripe_transport
):
    article = ArticleFactory(slug="met-redenen")
    sessions = {}

    def created(request):
        key = request.headers.get("Idempotency-Key")
        sessions.setdefault(key, f"cs_test_r{len(sessions) + 1}")
        sid = sessions[key]
        return 200, {
            "id": sid,
            "object": "checkout.session",
            "url": f"https://checkout.stripe.com/c/pay/{sid}",
            "status": "open",
            "payment_status": "unpaid",
        }

    stripe_transport.on("POST", r"/v1/checkout/sessions", created)
    data = form_data(
        preset="500",
        nonce="nonce-reasons-1",
        client_nonce="visitor-nonce-1",  # filled by the widget script; only it lets a double click dedupe
        reasons=["well_researched", "local_knowledge"],
        message="Dank",
    )
    for _ in range(2):  # a double click
        response = client.post("/en/payments/appreciate/met-redenen/", data)
        assert response.status_code == 303, response.content.decode()[-3000:]
    appreciation = Appreciation.objects.get()
    feedback = Feedback.objects.get()
    assert feedback.appreciation == appreciation
    assert sorted(feedback.reasons.values_list("code", flat=True)) == ["local_knowledge", "well_researched"]
    assert appreciation.message == "Dank" and feedback.message == ""
    # Pending: not counted as a payer's reason yet.
    assert counts(article=article)["well_researched"] == (0, 0)
    Appreciation.objects.filter(pk=appreciation.pk).update(status=Appreciation.Status.PAID, paid_at=PAID_AT)
    assert counts(article=article)["well_researched"] == (1, 0)
    funnel_services.funnel_flush()
    assert DailyCount.objects.get(article=article).started == 1


def test_an_invalid_reason_on_the_paid_route_comes_back_with_400(client, stripe_transport):
    ArticleFactory(slug="foute-reden")
    data = form_data(preset="500", nonce="nonce-reasons-2", reasons=["not_a_reason"])
    assert client.post("/payments/appreciate/foute-reden/", data).status_code == 400
    assert not Appreciation.objects.exists() and not Feedback.objects.exists()


# --- the panel -----------------------------------------------------------------------------


@pytest.fixture
def two_authors():
    anna_user, anna = author_login("anna", name="Anna")
    bram_user, bram = author_login("bram", name="Bram")
    anna_article = ArticleFactory(author=anna, title="Anna's stuk")
    bram_article = ArticleFactory(author=bram, title="Bram's stuk")
    anna_fb = services.feedback_free_create(
        article=anna_article, reasons=["moving"], message="Voor Anna", locale="nl"
    )
    bram_fb = services.feedback_free_create(
        article=bram_article, reasons=["useful"], message="Voor Bram", locale="nl"
    )
    return {
        "anna": (anna_user, anna, anna_article, anna_fb),
        "bram": (bram_user, bram, bram_article, bram_fb),
    }


def test_author_sees_only_feedback_on_their_own_articles(client, two_authors):
    user, _author, article, _fb = two_authors["anna"]
    client.force_login(user)
    response = client.get("/en/admin/panel/feedback/?period=all")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Voor Anna" in html and "Voor Bram" not in html
    assert client.get(f"/en/admin/panel/feedback/?article={article.pk}&period=all").status_code == 200


def test_author_asking_for_another_authors_article_or_author_is_refused(client, two_authors):
    user = two_authors["anna"][0]
    _bram_user, bram, bram_article, bram_fb = two_authors["bram"]
    client.force_login(user)
    assert client.get(f"/admin/panel/feedback/?article={bram_article.pk}").status_code == 404
    assert client.get(f"/admin/panel/feedback/?author={bram.pk}").status_code == 403
    response = client.post(f"/admin/panel/feedback/{bram_fb.pk}/moderate/", {"action": "report"})
    assert response.status_code == 404
    assert not Feedback.objects.get(pk=bram_fb.pk).is_reported


def test_author_moderates_their_own_feedback(client, two_authors):
    user, _author, _article, fb = two_authors["anna"]
    client.force_login(user)
    url = f"/admin/panel/feedback/{fb.pk}/moderate/"
    assert client.post(url, {"action": "read", "next": "/admin/panel/feedback/"}).status_code == 302
    assert Feedback.objects.get(pk=fb.pk).is_read
    assert (
        client.post(url, {"action": "report", "next": "https://evil.example/"})["Location"]
        == "/admin/panel/feedback/"
    )
    assert Feedback.objects.get(pk=fb.pk).is_reported
    assert client.post(url, {"action": "delete"}).status_code == 400


def test_editor_sees_everything_and_readers_see_nothing(client, two_authors):
    client.force_login(editor_login())
    html = client.get("/admin/panel/feedback/?period=all").content.decode()
    assert "Voor Anna" in html and "Voor Bram" in html
    client.logout()
    assert client.get("/admin/panel/feedback/").status_code == 302  # to the login
