"""Emails to authors: one per payment at most, a digest once per day, mail failures never raise."""

import smtplib
from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import CommandError, call_command

from payments.models import Appreciation, DigestLog
from payments.notifications import appreciation_paid_notify, digest_send
from tests.factories import AppreciationFactory, ArticleFactory
from tests.panel_helpers import author_login, paid
from tests.translated import translated

pytestmark = pytest.mark.django_db

FAILING_BACKEND = "tests.payments.test_notifications.FailingBackend"


class FailingBackend(BaseEmailBackend):
    """A mail server that refuses every message."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("mail server went away")


def author_with(notify: str, language: str = "nl", username: str = "anna"):
    _, author = author_login(username, notify=notify, language=language)
    return author


def test_each_payment_sends_one_email_in_text_and_html(settings):
    author = author_with("each")
    article = ArticleFactory(author=author, title="Dijken & <dammen>")
    appreciation = paid(
        article,
        paid_at=datetime(2026, 2, 3, 12, tzinfo=UTC),
        amount=250,
        display_name="Els",
        message="<script>alert(1)</script> dank!",
        is_public=True,
    )
    appreciation_paid_notify(appreciation.pk)
    appreciation_paid_notify(appreciation.pk)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["anna@example.org"]
    # The author reads Dutch: a Dutch subject with the amount written the Dutch way.
    assert message.subject == translated(
        "%(amount)s for “%(title)s”", amount="€\xa02,50", title="Dijken & <dammen>"
    )
    assert "Dijken & <dammen>" in message.body  # plain text stays plain
    assert "<script>alert(1)</script> dank!" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "&lt;script&gt;alert(1)&lt;/script&gt; dank!" in html
    assert "<script>alert(1)" not in html
    assert "Dijken &amp; &lt;dammen&gt;" in html
    appreciation.refresh_from_db()
    assert appreciation.author_notified_at is not None


def test_email_is_in_the_authors_language():
    author = author_with("each", language="en")
    appreciation = paid(ArticleFactory(author=author), paid_at=datetime(2026, 2, 3, tzinfo=UTC), amount=1000)
    appreciation_paid_notify(appreciation.pk)
    message = mail.outbox[0]
    assert "€10.00" in message.subject
    assert "/en/admin/" in message.body
    assert "/en/" in message.alternatives[0][0]


def test_an_already_claimed_payment_is_not_emailed_again():
    author = author_with("each")
    appreciation = paid(ArticleFactory(author=author), paid_at=datetime(2026, 2, 3, tzinfo=UTC))
    # Another process claimed it first (the conditional UPDATE found the column set).
    Appreciation.objects.filter(pk=appreciation.pk).update(
        author_notified_at=datetime(2026, 2, 3, tzinfo=UTC)
    )
    appreciation_paid_notify(appreciation.pk)
    assert mail.outbox == []


@pytest.mark.parametrize("notify", ["daily", "none"])
def test_no_per_payment_email_unless_chosen(notify):
    author = author_with(notify)
    appreciation = paid(ArticleFactory(author=author), paid_at=datetime(2026, 2, 3, tzinfo=UTC))
    appreciation_paid_notify(appreciation.pk)
    assert mail.outbox == []


def test_unpaid_or_missing_appreciations_send_nothing():
    author = author_with("each")
    pending = AppreciationFactory(article=ArticleFactory(author=author))
    appreciation_paid_notify(pending.pk)
    appreciation_paid_notify(999_999)
    assert mail.outbox == []


def test_failing_mail_server_does_not_raise_and_leaves_the_payment_retryable(settings, caplog):
    author = author_with("each")
    appreciation = paid(ArticleFactory(author=author), paid_at=datetime(2026, 2, 3, tzinfo=UTC))
    settings.EMAIL_BACKEND = FAILING_BACKEND
    appreciation_paid_notify(appreciation.pk)  # must not raise
    appreciation.refresh_from_db()
    assert appreciation.status == Appreciation.Status.PAID
    assert appreciation.author_notified_at is None
    assert "Could not email the author" in caplog.text
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    appreciation_paid_notify(appreciation.pk)
    assert len(mail.outbox) == 1


# --- the daily digest -----------------------------------------------------------------------


@pytest.fixture
def day_of_books(settings):
    settings.TIME_ZONE = "Europe/Amsterdam"
    daily = author_with("daily", username="daily")
    each = author_with("each", username="each")
    quiet = author_with("daily", username="quiet")
    for author in (daily, each):
        article = ArticleFactory(author=author, title=f"Piece by {author.name}")
        # 23:30 UTC on 1 February is 2 February in Amsterdam: not in the digest of the 1st.
        paid(article, paid_at=datetime(2026, 2, 1, 23, 30, tzinfo=UTC), amount=900)
        paid(article, paid_at=datetime(2026, 2, 1, 9, tzinfo=UTC), amount=300, message="Goed <b>stuk</b>")
        paid(article, paid_at=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), amount=200)  # 1 February here
    ArticleFactory(author=quiet)
    return daily, each, quiet


def test_digest_goes_once_to_daily_authors_with_appreciations(day_of_books):
    daily, *_ = day_of_books
    call_command("send_digests", "--date", "2026-02-01")
    assert [message.to for message in mail.outbox] == [["daily@example.org"]]
    message = mail.outbox[0]
    assert "2 " in message.subject
    assert "€\xa05,00" in message.body  # 300 + 200, the day in Amsterdam
    assert "Goed <b>stuk</b>" in message.body
    assert "Goed &lt;b&gt;stuk&lt;/b&gt;" in message.alternatives[0][0]
    call_command("send_digests", "--date", "2026-02-01")
    assert len(mail.outbox) == 1
    assert DigestLog.objects.filter(author=daily, day=date(2026, 2, 1)).count() == 1


def test_digest_defaults_to_yesterday(day_of_books, monkeypatch):
    from payments.management.commands import send_digests

    monkeypatch.setattr(send_digests, "site_today", lambda: date(2026, 2, 3))
    call_command("send_digests")  # yesterday = 2 February: the 900 payment
    assert len(mail.outbox) == 1
    assert "€\xa09,00" in mail.outbox[0].body


def test_failed_digest_is_retried_by_the_next_run(day_of_books, settings):
    daily, *_ = day_of_books
    settings.EMAIL_BACKEND = FAILING_BACKEND
    assert digest_send(author=daily, day=date(2026, 2, 1)) is False
    assert not DigestLog.objects.filter(author=daily).exists()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("send_digests", "--date", "2026-02-01")
    assert len(mail.outbox) == 1


def test_digest_is_skipped_when_already_logged(day_of_books):
    daily, *_ = day_of_books
    DigestLog.objects.create(author=daily, day=date(2026, 2, 1))
    assert digest_send(author=daily, day=date(2026, 2, 1)) is False
    assert mail.outbox == []


def test_send_digests_rejects_a_bad_date():
    with pytest.raises(CommandError):
        call_command("send_digests", "--date", "yesterday")
