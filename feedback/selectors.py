"""Reads of reader feedback for the panel: reason counts (payers and non-payers) and messages.

Periods are half-open [start, end) on when the feedback was sent. Reported feedback never
counts; feedback sent with a payment counts only once that payment is paid.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, CharField, Count, F, Q, QuerySet, When

from articles.models import Article, Author
from feedback.models import Feedback, FeedbackQuerySet, FeedbackReason
from feedback.reasons import reason_codes, reason_label


@dataclass(frozen=True)
class ReasonCount:
    code: str
    label: str
    payers: int
    non_payers: int

    @property
    def total(self) -> int:
        return self.payers + self.non_payers


def _scoped(
    qs: QuerySet[Feedback],
    *,
    author: Author | None,
    article: Article | None,
    start: datetime | None,
    end: datetime | None,
) -> QuerySet[Feedback]:
    if author is not None:
        qs = qs.filter(article__author=author)
    if article is not None:
        qs = qs.filter(article=article)
    if start is not None:
        qs = qs.filter(created_at__gte=start)
    if end is not None:
        qs = qs.filter(created_at__lt=end)
    return qs


def reason_counts(
    *,
    author: Author | None = None,
    article: Article | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[ReasonCount]:
    """How often each reason was given, by payers and by non-payers, configured reasons first."""
    counted = _scoped(Feedback.objects.counted(), author=author, article=article, start=start, end=end)
    rows = (
        FeedbackReason.objects.filter(feedback__in=counted)
        .values("code")
        .annotate(
            payers=Count("id", filter=Q(feedback__appreciation__isnull=False)),
            non_payers=Count("id", filter=Q(feedback__appreciation__isnull=True)),
        )
        .order_by()
    )
    found = {row["code"]: row for row in rows}
    order = [*reason_codes(), *sorted(code for code in found if code not in reason_codes())]
    return [
        ReasonCount(
            code=code,
            label=reason_label(code),
            payers=found.get(code, {}).get("payers", 0),
            non_payers=found.get(code, {}).get("non_payers", 0),
        )
        for code in order
    ]


def feedback_counts(**filters) -> dict[str, int]:
    """How many readers sent feedback (not reported), with and without a paid payment."""
    counted = _scoped(Feedback.objects.counted(), **_defaults(filters))
    return counted.aggregate(
        payers=Count("id", filter=Q(appreciation__isnull=False)),
        non_payers=Count("id", filter=Q(appreciation__isnull=True)),
        unread=Count("id", filter=Q(is_read=False) & _has_message_q()),
    )


def _defaults(filters: dict) -> dict:
    return {"author": None, "article": None, "start": None, "end": None, **filters}


def _has_message_q() -> Q:
    return (Q(appreciation__isnull=True) & ~Q(message="")) | (
        Q(appreciation__isnull=False) & ~Q(appreciation__message="")
    )


def feedback_messages(*, include_reported: bool = False, **filters) -> QuerySet[Feedback]:
    """Messages newest first, as `text`, with their reasons; reported ones only on request."""
    qs = Feedback.objects.filter(FeedbackQuerySet.sent_q())
    if not include_reported:
        qs = qs.filter(is_reported=False)
    qs = _scoped(qs, **_defaults(filters)).filter(_has_message_q())
    return (
        qs.select_related("article", "appreciation")
        .prefetch_related("reasons")
        .annotate(
            text=Case(
                When(appreciation__isnull=False, then=F("appreciation__message")),
                default=F("message"),
                output_field=CharField(),
            )
        )
        .order_by("-created_at", "-id")
    )
