import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from articles.models import Article, Author


class AppreciationQuerySet(models.QuerySet):
    def paid(self) -> "AppreciationQuerySet":
        """Money that reached us at some point, whatever happened to it later."""
        return self.filter(status=Appreciation.Status.PAID)

    def earned(self) -> "AppreciationQuerySet":
        """Money that is really in: paid, not fully refunded, not in or lost to a dispute."""
        return self.filter(
            status=Appreciation.Status.PAID,
            refunded_amount__lt=F("amount"),
            dispute_status__in=Appreciation.DISPUTE_COUNTS,
        )


class Appreciation(models.Model):
    """One reader's payment for one article, created pending before the redirect to Stripe.

    Only verified Stripe events (or the sandbox, through the same code) change its
    payment fields; see payments.services. Money rows are never cascade-deleted.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        PROCESSING = "processing", _("Processing")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    class Dispute(models.TextChoices):
        NONE = "", _("None")
        OPEN = "open", _("Disputed")
        WON = "won", _("Dispute won")
        LOST = "lost", _("Dispute lost")

    # Disputes that leave the money with the author.
    DISPUTE_COUNTS = (Dispute.NONE, Dispute.WON)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    article = models.ForeignKey(
        Article, verbose_name=_("article"), on_delete=models.PROTECT, related_name="appreciations"
    )
    author = models.ForeignKey(
        Author,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="appreciations",
        help_text=_("The article's author when the reader paid; earnings stay with them."),
    )
    amount = models.PositiveIntegerField(
        _("amount"), help_text=_("What the reader pays, in minor units (cents), fee cover included.")
    )
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code, upper case."))
    fee_cover_amount = models.PositiveIntegerField(
        _("fee cover"), default=0, help_text=_("Part of the amount the reader added for payment costs.")
    )
    display_name = models.CharField(_("name"), max_length=80, blank=True)
    message = models.TextField(_("message"), max_length=1000, blank=True)
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("The reader agreed to show name and message.")
    )
    hidden_by_author = models.BooleanField(
        _("hidden"), default=False, help_text=_("The author hid the name and message from the page.")
    )
    locale = models.CharField(_("reader language"), max_length=8, default="nl")

    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    refunded_amount = models.PositiveIntegerField(
        _("refunded"), default=0, help_text=_("Cumulative, as Stripe reports it; never summed by us.")
    )
    dispute_status = models.CharField(
        _("dispute"), max_length=8, choices=Dispute.choices, default=Dispute.NONE, blank=True
    )
    dispute_fee_amount = models.PositiveIntegerField(
        _("dispute fee"),
        default=0,
        help_text=_(
            "Stripe's fees on the payment's disputes (sum of their balance transactions, in this "
            "currency); kept even when a dispute is won unless Stripe returns it."
        ),
    )
    fee_amount = models.PositiveIntegerField(_("Stripe fee"), null=True, blank=True)
    net_amount = models.IntegerField(_("net"), null=True, blank=True)
    settlement_currency = models.CharField(_("settlement currency"), max_length=3, blank=True)
    payment_method_type = models.CharField(_("payment method"), max_length=40, blank=True)

    stripe_checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    stripe_charge_id = models.CharField(max_length=255, unique=True, null=True, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    author_notified_at = models.DateTimeField(
        _("author notified"), null=True, blank=True, help_text=_("Set once the per-payment email went out.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AppreciationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("appreciation")
        verbose_name_plural = _("appreciations")
        indexes = [
            models.Index(fields=["article", "status"]),
            models.Index(fields=["author", "status", "paid_at"]),
            models.Index(fields=["status", "paid_at"]),
            # The supporters under an article (their count, the newest public names): earned()
            # rows only, so counting them reads this small index instead of rows scattered over
            # the table. The condition must stay what earned() asks (and what the widget's SQL in
            # payments.selectors writes out), or PostgreSQL cannot use it.
            models.Index(
                fields=["article", "-paid_at"],
                condition=Q(status="paid", dispute_status__in=["", "won"], refunded_amount__lt=F("amount")),
                name="appreciation_earned_article",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="appreciation_amount_positive"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("amount")), name="appreciation_refund_within_amount"
            ),
            models.CheckConstraint(
                condition=Q(fee_cover_amount__lt=F("amount")), name="appreciation_fee_cover_within_amount"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article} · {self.amount} {self.currency} · {self.status}"


class StripeEvent(models.Model):
    """Every verified Stripe event, stored once under its id before it is processed.

    The unique id makes redelivery harmless; attempts and last_error show what failed.
    """

    class Outcome(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        DEFERRED = "deferred", _("Waiting for its payment")
        FAILED = "failed", _("Failed")

    stripe_event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    created = models.DateTimeField(help_text=_("When Stripe created the event."))
    livemode = models.BooleanField(default=False)
    api_version = models.CharField(max_length=40, blank=True)
    payload = models.JSONField()
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.RECEIVED, db_index=True
    )
    # The payment intent an event is about; deferred events wait here for their appreciation.
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self) -> str:
        return f"{self.stripe_event_id} {self.type}"


class DigestLog(models.Model):
    """One row per author and day whose digest went out, so a digest is never sent twice."""

    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="digests")
    day = models.DateField()
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["author", "day"], name="digest_once_per_day")]

    def __str__(self) -> str:
        return f"{self.author} {self.day}"


class SupporterSummary(models.Model):
    """What an article page shows of its supporters (payments.selectors.article_supporters),
    stored so that an uncached page reads one row with its article instead of counting.

    Every change that could alter it (a payment counted or no longer counted, a name hidden)
    makes it stale in its own transaction: `count` goes back to None and `version` goes up. The
    next page that finds it stale counts again and stores the result only if `version` is still
    the one it read (payments.services.supporters_keep), so a count made before a change is
    never kept after it.
    """

    article = models.OneToOneField(Article, on_delete=models.CASCADE, primary_key=True, related_name="+")
    version = models.PositiveBigIntegerField(default=0)
    count = models.PositiveIntegerField(null=True)  # None: stale, count again
    # The newest public supporters, newest first, as JSON: [[display name, message], ...].
    newest = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.article_id} v{self.version}: {self.count}"
