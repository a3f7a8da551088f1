"""The supporters an article page shows, as stored (payments.models.SupporterSummary): after every
change that alters them, the page shows what article_supporters() counts in the books."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from articles import selectors as pages
from feedback import services as feedback_services
from payments import selectors, services, widget
from payments.models import SupporterSummary
from tests.factories import AppreciationFactory, ArticleFactory
from tests.panel_helpers import author_login, paid
from tests.payments import events
from tests.payments.events import StripePayment

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_transport")]

WHEN = datetime(2026, 2, 3, 12, tzinfo=UTC)


def shown(article) -> tuple[int, list]:
    """What the article page's widget shows, read as the page reads it."""
    return widget._supporters(pages.published_article(article.slug))


def assert_shows_the_books(article, before: tuple[int, list]) -> None:
    now = selectors.article_supporters(article_id=article.pk)
    assert now != before, "the change should have changed what the page shows"
    assert shown(article) == now
    assert shown(article) == now  # read back as stored, not counted again
    assert SupporterSummary.objects.get(article=article).count == now[0]


@pytest.fixture
def payment() -> StripePayment:
    appreciation = AppreciationFactory(
        amount=500,
        stripe_checkout_session_id=events.stripe_id("cs"),
        display_name="Els",
        message="Mooi stuk",
        is_public=True,
    )
    return StripePayment(appreciation)


def test_a_paid_checkout_shows_its_supporter(payment):
    article = payment.appreciation.article
    before = shown(article)
    services.stripe_event_handle(payment.completed())
    assert_shows_the_books(article, before)


def test_a_full_refund_takes_the_supporter_off_and_a_failed_one_puts_it_back(payment, stripe_transport):
    article = payment.appreciation.article
    services.stripe_event_handle(payment.completed())
    before = shown(article)
    payment.charge_route(stripe_transport, refunded=500)
    services.stripe_event_handle(payment.refund_event("re_one", 500))
    assert_shows_the_books(article, before)

    before = shown(article)
    payment.charge_route(stripe_transport, refunded=0)
    services.stripe_event_handle(payment.refund_event("re_one", 500, status="failed", kind="refund.failed"))
    assert_shows_the_books(article, before)


def test_a_dispute_takes_the_supporter_off_until_it_is_won(payment):
    article = payment.appreciation.article
    services.stripe_event_handle(payment.completed())
    before = shown(article)
    services.stripe_event_handle(
        payment.dispute_event("dp_one", "needs_response", kind="charge.dispute.created")
    )
    assert_shows_the_books(article, before)

    before = shown(article)
    services.stripe_event_handle(payment.dispute_event("dp_one", "won", kind="charge.dispute.closed"))
    assert_shows_the_books(article, before)


def test_an_earlier_payment_time_puts_the_supporter_in_its_place():
    article = ArticleFactory()
    paid(article, paid_at=WHEN, display_name="Eerst", is_public=True)
    later = paid(article, paid_at=WHEN + timedelta(hours=1), display_name="Later", is_public=True)
    services.supporters_stale(article_ids=[article.pk])  # written past the services above
    before = shown(article)
    assert [s.display_name for s in before[1]] == ["Later", "Eerst"]
    # Another event of the same payment says it was paid earlier: the books take the earlier time.
    services.appreciation_mark_paid(appreciation_id=later.pk, paid_at=WHEN - timedelta(days=1))
    assert_shows_the_books(article, before)
    assert [s.display_name for s in shown(article)[1]] == ["Eerst", "Later"]


def test_hiding_in_the_panel_takes_the_name_off(client):
    user, author = author_login("anna")
    article = ArticleFactory(author=author)
    own = paid(article, paid_at=WHEN, display_name="Els", message="Mooi", is_public=True)
    services.supporters_stale(article_ids=[article.pk])
    client.force_login(user)

    before = shown(article)
    url = reverse("admin:payments_appreciation_changelist")
    client.post(url, {"action": "hide_from_page", helpers.ACTION_CHECKBOX_NAME: [str(own.pk)]})
    assert_shows_the_books(article, before)

    before = shown(article)
    client.post(url, {"action": "show_on_page", helpers.ACTION_CHECKBOX_NAME: [str(own.pk)]})
    assert_shows_the_books(article, before)

    before = shown(article)
    change = reverse("admin:payments_appreciation_change", args=[own.pk])
    assert client.post(change, {"hidden_by_author": "on"}).status_code == 302
    assert_shows_the_books(article, before)


def test_hiding_or_reporting_a_message_in_the_feedback_takes_the_name_off():
    article = ArticleFactory()
    appreciation = paid(article, paid_at=WHEN, display_name="Els", message="Mooi", is_public=True)
    services.supporters_stale(article_ids=[article.pk])
    feedback = feedback_services.feedback_for_appreciation_save(appreciation=appreciation, reasons=[])

    before = shown(article)
    feedback_services.feedback_set_hidden(feedback=feedback, hidden=True)
    assert_shows_the_books(article, before)

    before = shown(article)
    feedback_services.feedback_set_hidden(feedback=feedback, hidden=False)
    assert_shows_the_books(article, before)

    before = shown(article)
    feedback_services.feedback_report(feedback=feedback)
    assert_shows_the_books(article, before)


def test_a_count_made_before_a_change_is_not_kept_after_it():
    article = ArticleFactory()
    counted_before = selectors.article_supporters(article_id=article.pk)
    read = pages.published_article(article.slug).stored_supporters  # no row yet
    services.supporters_stale(article_ids=[article.pk])  # a payment commits meanwhile
    services.supporters_keep(article_id=article.pk, version=read.version, found=counted_before)
    assert SupporterSummary.objects.get(article=article).count is None

    read = pages.published_article(article.slug).stored_supporters  # version 1, stale
    services.supporters_stale(article_ids=[article.pk])  # another one
    services.supporters_keep(article_id=article.pk, version=read.version, found=counted_before)
    assert SupporterSummary.objects.get(article=article).count is None

    read = pages.published_article(article.slug).stored_supporters
    services.supporters_keep(article_id=article.pk, version=read.version, found=(3, []))
    assert SupporterSummary.objects.get(article=article).count == 3


def test_reader_text_is_stored_and_shown_as_it_was_written():
    article = ArticleFactory()
    text = 'Ünïcode, "quotes", <b>tags</b> & a\nnew line'
    paid(article, paid_at=WHEN, display_name="Ånna <i>", message=text, is_public=True)
    services.supporters_stale(article_ids=[article.pk])
    counted = shown(article)
    assert shown(article) == counted == (1, [selectors.Supporter("Ånna <i>", text)])
