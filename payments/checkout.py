"""Starting a payment: the pending Appreciation and its Stripe Checkout Session.

The record is created before the reader leaves for Stripe so that every event can be
mapped back to it (client_reference_id and metadata carry its public id). Nothing here
marks anything paid: only verified Stripe events do that, in payments.services.

Double clicks and retries: the widget script gives each visitor's form its own nonce
(`client_nonce`; a cached page's server-rendered nonce is shared by every reader, so it never
reuses anything). The public id is derived from that nonce, the article and the amount, so
the same submission finds the same pending record; the idempotency key is the public id plus
a hash of the exact Stripe parameters, so Stripe answers the same parameters with the same
session and changed ones (an edited title) with a new session instead of an error. Without
the script every submission is a new record.
"""

import hashlib
import json
import logging
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

logger = logging.getLogger(__name__)

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
    # A per-visitor nonce (the widget script's, tied to the client); empty: never reuse a record.
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


# What a reader may change after pressing Back without starting a new appreciation: none of it
# goes to Stripe, so the reused record and its session stay valid.
_REUSABLE_FIELDS = ("display_name", "message", "is_public")


def appreciation_pending_create(request: CheckoutRequest) -> tuple[Appreciation, bool]:
    """The pending record for this submission and whether it is new: the same one for a repeat
    of the same visitor's form within the window, updated with the reader's latest name,
    message and public choice."""
    currency = settings.APPRECIATION_CURRENCY
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
    if not request.nonce:
        return Appreciation.objects.create(**fields), True
    derived = uuid.uuid5(
        _PUBLIC_ID_NAMESPACE,
        f"{request.article.pk}|{request.nonce}|{request.amount}|{currency}|{request.fee_cover_amount}",
    )
    try:
        with transaction.atomic():
            appreciation, created = Appreciation.objects.get_or_create(public_id=derived, defaults=fields)
    except IntegrityError:
        appreciation, created = Appreciation.objects.get(public_id=derived), False
    if created:
        return appreciation, True
    fresh = appreciation.created_at >= timezone.now() - DEDUPE_WINDOW
    if appreciation.status != Appreciation.Status.PENDING or not fresh:
        # The nonce was spent on an earlier, finished attempt: this is a new appreciation.
        return Appreciation.objects.create(**fields), True
    changes = {name: fields[name] for name in _REUSABLE_FIELDS if getattr(appreciation, name) != fields[name]}
    if changes:
        # The reader went Back and changed what is shown with the payment; money fields are the key.
        Appreciation.objects.filter(pk=appreciation.pk, status=Appreciation.Status.PENDING).update(
            **changes, updated_at=timezone.now()
        )
        for name, value in changes.items():
            setattr(appreciation, name, value)
    return appreciation, False


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
        # The reader pays in the record's currency: a localised price would put another currency
        # and amount on the charge, its refunds and disputes than the books hold.
        "adaptive_pricing": {"enabled": False},
    }
    if settings.STRIPE_CHECKOUT_UI_MODE == "embedded_page":
        params["return_url"] = thank_you_url(appreciation.locale)
    else:
        params["success_url"] = thank_you_url(appreciation.locale)
        params["cancel_url"] = cancel_url(appreciation)
    return params


def idempotency_key(appreciation: Appreciation, params: dict[str, Any]) -> str:
    """Stripe refuses a key reused with other parameters (for 24 hours), so the key covers them:
    a title edited between two clicks gives a new session instead of a reader stuck on an error."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"appreciation-checkout-{appreciation.public_id}-{digest}"


def appreciation_checkout_start(request: CheckoutRequest) -> tuple[Appreciation, dict[str, Any]]:
    """Create (or find) the pending record and its Checkout Session; return both.

    On a Stripe error a record this request created is removed (no half-made record lingers),
    but never one another request may be using: a reused record, or any record when Stripe
    reports the key in use. The error propagates with its reader-safe message.
    """
    appreciation, created = appreciation_pending_create(request)
    feedback_for_appreciation_save(appreciation=appreciation, reasons=request.reasons)
    params = checkout_session_params(appreciation)
    try:
        session = stripe_api.checkout_session_create(
            params, idempotency_key=idempotency_key(appreciation, params)
        )
    except stripe_api.PaymentProviderError as exc:
        if created and not exc.conflict:
            Appreciation.objects.filter(
                pk=appreciation.pk,
                status=Appreciation.Status.PENDING,
                stripe_checkout_session_id__isnull=True,
            ).delete()
        raise
    _session_attach(appreciation, session["id"])
    return appreciation, session


def _session_attach(appreciation: Appreciation, session_id: str) -> None:
    """Point the pending record at the session the reader is sent to.

    A record moves to a newer session when its parameters changed (the earlier session is
    expired, so one record is never paid twice). When the record is gone (removed by a request
    whose Stripe call failed while ours succeeded) or no longer pending, the reader must not be
    sent to pay: the new session is expired and the reader asked to try again.
    """
    if appreciation.stripe_checkout_session_id == session_id:
        return
    pending = Appreciation.objects.filter(pk=appreciation.pk, status=Appreciation.Status.PENDING)
    previous = pending.values_list("stripe_checkout_session_id", flat=True).first()
    if pending.filter(stripe_checkout_session_id__isnull=True).update(stripe_checkout_session_id=session_id):
        # A new session, not a double click finding the first one: one checkout started.
        funnel_count(article_id=appreciation.article_id, event="started")
    elif previous and previous != session_id:
        pending.filter(stripe_checkout_session_id=previous).update(stripe_checkout_session_id=session_id)
    current = Appreciation.objects.filter(pk=appreciation.pk, status=Appreciation.Status.PENDING)
    if not current.filter(stripe_checkout_session_id=session_id).exists():
        logger.error("Appreciation %s changed while session %s was created", appreciation.pk, session_id)
        _session_expire_quietly(session_id)
        raise stripe_api.PaymentProviderError(
            _("The payment service cannot be reached right now. Please try again in a moment."),
            retryable=True,
        )
    if previous and previous != session_id:
        _session_expire_quietly(previous)
    appreciation.stripe_checkout_session_id = session_id


def _session_expire_quietly(session_id: str) -> None:
    """Best effort: Stripe expires an unused session after 24 hours anyway."""
    try:
        stripe_api.checkout_session_expire(session_id)
    except stripe_api.PaymentProviderError:
        logger.warning("Checkout session %s could not be expired", session_id)


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
