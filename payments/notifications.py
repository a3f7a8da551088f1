"""Emails to authors about appreciations: one per payment, a daily digest, or nothing.

Each author chooses (Author.notify) and reads them in their own language (Author.language).
Mail goes out after the payment's transaction committed, and a failing mail server never
reaches the books or the webhook's answer: errors are logged, not raised.
"""

import logging
from datetime import date, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from articles.models import Author
from payments.models import Appreciation, DigestLog
from payments.money import format_money
from payments.reports import local_midnight
from payments.selectors import paid_appreciations, totals

logger = logging.getLogger(__name__)

# A digest lists at most this many appreciations; the totals always cover the whole day.
DIGEST_MAX_ITEMS = 50


def author_email(author: Author) -> str:
    """Where an author's mail goes: the email address of their panel login."""
    return (author.user.email if author.user_id and author.user else "").strip()


def _send(*, to: str, template: str, context: dict, language: str) -> None:
    with translation.override(language):
        # One line; a no-break space inside an amount ("€ 2,50") stays.
        subject = " ".join(render_to_string(f"payments/email/{template}_subject.txt", context).splitlines())
        subject = subject.strip()
        text = render_to_string(f"payments/email/{template}.txt", context)
        html = render_to_string(f"payments/email/{template}.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)


def _links(author: Author) -> dict:
    with translation.override(author.language):
        return {
            "panel_url": settings.SITE_URL + reverse("admin:index"),
            "settings_url": settings.SITE_URL + reverse("admin:articles_author_change", args=[author.pk]),
        }


def _item(appreciation: Appreciation, language: str) -> dict:
    with translation.override(appreciation.author.language):
        article_url = settings.SITE_URL + appreciation.article.get_absolute_url()
    return {
        "article_title": appreciation.article.title,
        "article_url": article_url,
        "amount": format_money(appreciation.amount, appreciation.currency, language),
        "display_name": appreciation.display_name,
        "message": appreciation.message,
        "is_public": appreciation.is_public,
        "paid_at": appreciation.paid_at,
    }


def notifies_each_payment(author: Author) -> bool:
    """Whether a payment of this author's calls for `appreciation_paid_notify`; the webhook skips
    that work after its commit for everyone else (most authors take the daily digest)."""
    return author.notify == Author.Notify.EACH


def appreciation_paid_notify(appreciation_id: int) -> None:
    """Called after the transaction that marked an appreciation paid has committed.

    Sends at most one email per appreciation, ever: the send is claimed with a conditional
    UPDATE of author_notified_at, so concurrent or repeated calls send once. Never raises.
    """
    try:
        _appreciation_paid_notify(appreciation_id)
    except Exception:
        logger.exception("Could not email the author about appreciation %s", appreciation_id)


def _appreciation_paid_notify(appreciation_id: int) -> None:
    # Most authors take the daily digest: for them this finds nothing and loads no article.
    appreciation = (
        Appreciation.objects.select_related("article", "author__user")
        .filter(
            pk=appreciation_id,
            status=Appreciation.Status.PAID,
            author__notify=Author.Notify.EACH,
            author_notified_at__isnull=True,
        )
        .first()
    )
    if appreciation is None:
        return
    author = appreciation.author
    to = author_email(author)
    if not to:
        return
    stamp = timezone.now()
    claimed = Appreciation.objects.filter(pk=appreciation.pk, author_notified_at__isnull=True).update(
        author_notified_at=stamp
    )
    if not claimed:
        return
    context = {"author": author, "item": _item(appreciation, author.language), **_links(author)}
    try:
        _send(to=to, template="appreciation_paid", context=context, language=author.language)
    except Exception:
        # Release the claim so a later call (a redelivered event) can try again.
        claim = Appreciation.objects.filter(pk=appreciation.pk, author_notified_at=stamp)
        claim.update(author_notified_at=None)
        raise
    logger.info("Emailed author %s about appreciation %s", author.pk, appreciation.pk)


def digest_send(*, author: Author, day: date) -> bool:
    """Send the author's digest of `day` (site time zone) once; True if it went out now.

    The DigestLog row is written first, in its own transaction, so a second run (or a
    concurrent one) finds it and sends nothing; when sending fails the row is removed
    again so the next run retries. Never raises for a mail error.
    """
    to = author_email(author)
    if not to:
        return False
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    items = list(
        paid_appreciations(author=author, start=start, end=end)
        .select_related("article", "author")
        .order_by("paid_at", "id")[:DIGEST_MAX_ITEMS]
    )
    if not items:
        return False
    try:
        with transaction.atomic():
            log = DigestLog.objects.create(author=author, day=day)
    except IntegrityError:
        return False
    language = author.language
    day_totals = totals(currency=items[0].currency, author=author, start=start, end=end)
    context = {
        "author": author,
        "day": day,
        "items": [_item(appreciation, language) for appreciation in items],
        "more": max(day_totals.payments - len(items), 0),
        "supporters": day_totals.supporters,
        "payments": day_totals.payments,
        "gross": format_money(day_totals.gross, day_totals.currency, language),
        **_links(author),
    }
    try:
        _send(to=to, template="digest", context=context, language=language)
    except Exception:
        logger.exception("Could not send the digest of %s to author %s; the next run retries", day, author.pk)
        DigestLog.objects.filter(pk=log.pk).delete()
        return False
    return True


def digest_authors(day: date):
    """Authors who want a daily digest and were appreciated on `day` (site time zone)."""
    start, end = local_midnight(day), local_midnight(day + timedelta(days=1))
    return (
        Author.objects.filter(notify=Author.Notify.DAILY, user__isnull=False)
        .exclude(user__email="")
        .filter(
            appreciations__status=Appreciation.Status.PAID,
            appreciations__paid_at__gte=start,
            appreciations__paid_at__lt=end,
        )
        .distinct()
        .select_related("user")
    )
