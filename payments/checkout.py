"""Starting a payment: the pending Appreciation and its Stripe Checkout Session.

The record is created before the reader leaves for Stripe so that every event can be
mapped back to it (client_reference_id and metadata carry its public id). Nothing here
marks anything paid: only verified Stripe events do that, in payments.services.

Double clicks and retries: the public id is derived from the form's nonce, the article
and the amount, so the same submission finds the same pending record and sends the same
idempotency key, and Stripe answers with the same session instead of a second one.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from articles.models import Article
from feedback.services import feedback_for_appreciation_save
from funnel.services import funnel_count
from payments import stripe_api
from payments.models import Appreciation

# Derived public ids live in their own namespace, so they never collide with random ones.
_PUBLIC_ID_NAMESPACE = uuid.UUID("5b0f1a52-4e0b-4c57-9a55-2f6b8a0f7c11")
# A resubmitted form within this window reuses its pending record (and Stripe session);
# later, it starts afresh. Stripe keeps idempotency keys for 24 hours, far longer.
DEDUPE_WINDOW = timedelta(minutes=30)
CHECKOUT_LOCALES = {"nl", "en"}


@dataclass(frozen=True)
class CheckoutRequest:
    """What the reader chose, already validated by AppreciationForm; amounts in minor units."""

    article: Article
    amount: int
    fee_cover_amount: int
    display_name: str
    message: str
    is_public: bool
    locale: str
    nonce: str
    # Reason codes the reader ticked (feedback.reasons); stored with the pending record.
    reasons: tuple[str, ...] = ()


def checkout_locale(language: str | None) -> str:
    code = (language or settings.LANGUAGE_CODE).split("-")[0].lower()
    return code if code in CHECKOUT_LOCALES else "nl"


def thank_you_url(locale: str) -> str:
    """Stripe replaces {CHECKOUT_SESSION_ID}; the page itself only reads, never writes."""
    with translation.override(locale):
        path = reverse("payments:thank-you")
    return f"{settings.SITE_URL}{path}?session_id={{CHECKOUT_SESSION_ID}}"


def cancel_url(appreciation: Appreciation) -> str:
    """Back to the widget, which restores the reader's amount and message from the pending record."""
    with translation.override(appreciation.locale):
        path = appreciation.article.get_absolute_url()
    return f"{settings.SITE_URL}{path}?cancelled={appreciation.public_id}#waardeer"


def appreciation_pending_create(request: CheckoutRequest) -> Appreciation:
    """The pending record for this submission: the same one for a repeat within the window."""
    currency = settings.APPRECIATION_CURRENCY
    derived = uuid.uuid5(
        _PUBLIC_ID_NAMESPACE,
        f"{request.article.pk}|{request.nonce}|{request.amount}|{currency}|{request.fee_cover_amount}",
    )
    fields = {
        "article": request.article,
        "author": request.article.author,
        "amount": request.amount,
        "currency": currency,
        "fee_cover_amount": request.fee_cover_amount,
        "display_name": request.display_name,
        "message": request.message,
        "is_public": request.is_public,
        "locale": request.locale,
    }
    try:
        with transaction.atomic():
            appreciation, created = Appreciation.objects.get_or_create(public_id=derived, defaults=fields)
    except IntegrityError:
        appreciation, created = Appreciation.objects.get(public_id=derived), False
    fresh = appreciation.created_at >= timezone.now() - DEDUPE_WINDOW
    if created or (appreciation.status == Appreciation.Status.PENDING and fresh):
        return appreciation
    # The nonce was spent on an earlier, finished attempt: this is a new appreciation.
    return Appreciation.objects.create(**fields)


def checkout_session_params(appreciation: Appreciation) -> dict[str, Any]:
    """Everything Stripe needs for exactly this appreciation; payment methods come from the Dashboard."""
    article = appreciation.article
    metadata = {"appreciation_id": str(appreciation.public_id), "article_id": str(article.pk)}
    with translation.override(appreciation.locale):
        name = _("Appreciation for “%(title)s”") % {"title": article.title}
        description = _("Appreciation for an article by %(author)s") % {"author": article.author.name}
    params: dict[str, Any] = {
        "mode": "payment",
        "submit_type": "donate",
        "ui_mode": settings.STRIPE_CHECKOUT_UI_MODE,
        "locale": appreciation.locale,
        "client_reference_id": str(appreciation.public_id),
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata, "description": description[:250]},
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": appreciation.currency.lower(),
                    "unit_amount": appreciation.amount,
                    "product_data": {"name": name[:250]},
                },
            }
        ],
    }
    if settings.STRIPE_CHECKOUT_UI_MODE == "embedded_page":
        params["return_url"] = thank_you_url(appreciation.locale)
    else:
        params["success_url"] = thank_you_url(appreciation.locale)
        params["cancel_url"] = cancel_url(appreciation)
    return params


def idempotency_key(appreciation: Appreciation) -> str:
    return f"appreciation-checkout-{appreciation.public_id}"


def appreciation_checkout_start(request: CheckoutRequest) -> tuple[Appreciation, dict[str, Any]]:
    """Create (or find) the pending record and its Checkout Session; return both.

    On a Stripe error the pending row is removed unless a session already exists for it,
    so no half-made record lingers; the error propagates with its reader-safe message.
    """
    appreciation = appreciation_pending_create(request)
    feedback_for_appreciation_save(appreciation=appreciation, reasons=request.reasons)
    try:
        session = stripe_api.checkout_session_create(
            checkout_session_params(appreciation), idempotency_key=idempotency_key(appreciation)
        )
    except stripe_api.PaymentProviderError:
        Appreciation.objects.filter(
            pk=appreciation.pk, status=Appreciation.Status.PENDING, stripe_checkout_session_id__isnull=True
        ).delete()
        raise
    if appreciation.stripe_checkout_session_id != session["id"]:
        attached = Appreciation.objects.filter(
            pk=appreciation.pk, stripe_checkout_session_id__isnull=True
        ).update(stripe_checkout_session_id=session["id"])
        appreciation.refresh_from_db(fields=["stripe_checkout_session_id"])
        if attached:
            # A new session, not a double click finding the first one: one checkout started.
            funnel_count(article_id=appreciation.article_id, event="started")
    return appreciation, session


def appreciation_for_cancel(*, article: Article, public_id: str) -> Appreciation | None:
    """The reader's abandoned attempt on this article, to refill the widget after Cancel."""
    try:
        key = uuid.UUID(str(public_id))
    except ValueError:
        return None
    return (
        Appreciation.objects.filter(
            public_id=key,
            article=article,
            status__in=[Appreciation.Status.PENDING, Appreciation.Status.EXPIRED],
            created_at__gte=timezone.now() - timedelta(days=1),
        )
        .only("amount", "fee_cover_amount", "currency", "display_name", "message", "is_public")
        .first()
    )
