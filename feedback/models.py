from django.db import models
from django.utils.translation import gettext_lazy as _

from articles.models import Article
from feedback.reasons import CODE_MAX_LENGTH, reason_label
from payments.models import Appreciation


class FeedbackQuerySet(models.QuerySet):
    def counted(self) -> "FeedbackQuerySet":
        """Feedback that counts: free feedback, or feedback sent with a payment that was made.

        Reported feedback never counts; feedback with a payment that was abandoned, failed or
        expired is not counted either (the reader meant it to go with the payment).
        """
        return self.filter(is_reported=False).filter(self.sent_q())

    @staticmethod
    def sent_q() -> models.Q:
        """Free feedback, or feedback whose payment was made."""
        return models.Q(appreciation__isnull=True) | models.Q(appreciation__status=Appreciation.Status.PAID)

    def free(self) -> "FeedbackQuerySet":
        return self.filter(appreciation__isnull=True)

    def with_payment(self) -> "FeedbackQuerySet":
        return self.filter(appreciation__isnull=False)


class Feedback(models.Model):
    """One reader's reasons and message about an article, with or without paying.

    With a payment, the message stays on the Appreciation (one copy of reader text) and this
    row carries the reasons and the author's moderation; it only counts once the payment is
    paid. Free feedback is never money: nothing in payments.selectors reads this table.
    """

    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.CASCADE, related_name="feedback"
    )
    # CASCADE: a pending appreciation whose checkout could not start is removed, and its feedback with it.
    appreciation = models.OneToOneField(
        Appreciation,
        verbose_name=_("appreciation"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feedback",
        help_text=_("Empty for feedback sent without paying."),
    )
    message = models.TextField(
        _("message"), max_length=1000, blank=True, help_text=_("Only for feedback sent without paying.")
    )
    locale = models.CharField(_("reader language"), max_length=8, default="nl")
    created_at = models.DateTimeField(_("sent"), auto_now_add=True, db_index=True)
    is_read = models.BooleanField(_("read"), default=False)
    is_reported = models.BooleanField(
        _("reported as abuse"),
        default=False,
        help_text=_("Reported messages are hidden and their reasons are not counted."),
    )
    reported_at = models.DateTimeField(_("reported"), null=True, blank=True)

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("reader feedback")
        verbose_name_plural = _("reader feedback")
        indexes = [models.Index(fields=["article", "created_at"])]

    def __str__(self) -> str:
        return f"{self.article} · {self.created_at:%Y-%m-%d}"

    @property
    def is_free(self) -> bool:
        return self.appreciation_id is None


class FeedbackReason(models.Model):
    """One ticked reason, by its stable code, so counts are a GROUP BY in the database."""

    feedback = models.ForeignKey(Feedback, on_delete=models.CASCADE, related_name="reasons")
    code = models.CharField(_("reason"), max_length=CODE_MAX_LENGTH)

    class Meta:
        verbose_name = _("reason")
        verbose_name_plural = _("reasons")
        constraints = [models.UniqueConstraint(fields=["feedback", "code"], name="feedback_reason_once")]

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        return reason_label(self.code)
