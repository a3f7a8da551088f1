"""Writes of reader feedback: saving reasons and messages, and the author's moderation.

Free feedback is never money: it has no amount and nothing in payments reads it. Feedback
sent with a payment hangs on the Appreciation (its message stays there) and counts once the
payment is paid.
"""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Article
from feedback.models import Feedback, FeedbackReason
from feedback.reasons import REASON_LABELS
from payments.models import Appreciation
from payments.services import appreciations_hidden_set


def _codes(reasons: Iterable[str]) -> list[str]:
    """Known codes, each once, in the order given."""
    return list(dict.fromkeys(code for code in reasons if code in REASON_LABELS))


def _reasons_set(feedback: Feedback, codes: list[str]) -> None:
    feedback.reasons.exclude(code__in=codes).delete()
    FeedbackReason.objects.bulk_create(
        [FeedbackReason(feedback=feedback, code=code) for code in codes], ignore_conflicts=True
    )


def feedback_free_create(*, article: Article, reasons: Iterable[str], message: str, locale: str) -> Feedback:
    """Reasons and/or a message from a reader who does not pay."""
    codes = _codes(reasons)
    with transaction.atomic():
        feedback = Feedback.objects.create(article=article, message=message.strip(), locale=locale)
        _reasons_set(feedback, codes)
    return feedback


def feedback_for_appreciation_save(*, appreciation: Appreciation, reasons: Iterable[str]) -> Feedback | None:
    """The reasons that go with a payment; a repeated submission of the same form changes nothing.

    A row is kept also for a message without reasons, so the author can moderate it.
    """
    codes = _codes(reasons)
    if not codes and not appreciation.message:
        return None
    try:
        with transaction.atomic():
            feedback, _created = Feedback.objects.get_or_create(
                appreciation=appreciation,
                defaults={"article_id": appreciation.article_id, "locale": appreciation.locale},
            )
            _reasons_set(feedback, codes)
    except IntegrityError:
        # A double click saved it at the same moment; that one has the same reasons.
        return Feedback.objects.filter(appreciation=appreciation).first()
    return feedback


def feedback_mark_read(*, feedback: Feedback, read: bool = True) -> None:
    Feedback.objects.filter(pk=feedback.pk).update(is_read=read)
    feedback.is_read = read


def feedback_set_hidden(*, feedback: Feedback, hidden: bool) -> None:
    """Hide a paying reader's name and message from the article (the field the public list obeys).

    Free feedback is never shown publicly, so there is nothing to hide.
    """
    if feedback.appreciation_id is None:
        return
    appreciations_hidden_set(appreciation_ids=[feedback.appreciation_id], hidden=hidden)


def feedback_report(*, feedback: Feedback, reported: bool = True) -> None:
    """Abuse: hidden from the article and from the list, and its reasons no longer counted.

    The payment itself is untouched: reporting a message never changes the books.
    """
    with transaction.atomic():
        Feedback.objects.filter(pk=feedback.pk).update(
            is_reported=reported, reported_at=timezone.now() if reported else None, is_read=True
        )
        if reported:
            feedback_set_hidden(feedback=feedback, hidden=True)
    feedback.is_reported = reported
