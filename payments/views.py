"""Reader-facing payment pages: the appreciation POST, the thank-you page, the offline sandbox.

Views stay thin: the form validates, payments.checkout creates the pending record and the
Checkout Session, and only verified Stripe events (payments.services) change payment state.
The thank-you page reads and shows; it never marks anything paid.
"""

import hashlib
import logging
import re

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from articles.models import Article
from articles.selectors import appreciable_article
from payments import checkout, ratelimit, sandbox, stripe_api
from payments.forms import AppreciationForm, Verdict
from payments.models import Appreciation
from payments.money import format_money
from payments.security import client_ip, same_origin_required

logger = logging.getLogger(__name__)

# Stripe session ids are `cs_test_…` / `cs_live_…` with letters and digits; anything else is not ours.
_SESSION_ID = re.compile(r"^cs_(?:test|live)_[A-Za-z0-9_]{1,250}$")


def _see_other(url: str) -> HttpResponse:
    """303 so the browser follows with GET and a reload never re-submits the form."""
    response = HttpResponse(status=303)
    response["Location"] = url
    return response


def _appreciate_page(
    request: HttpRequest, article: Article, form: AppreciationForm, *, status: int, error: str = ""
) -> HttpResponse:
    response = render(
        request,
        "payments/appreciate.html",
        {"article": article, "appreciation_form": form, "checkout_error": error},
        status=status,
    )
    # Carries the reader's own input: never stored by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _form_key(nonce: str, request: HttpRequest) -> str:
    """The form's nonce tied to the client: a cached article page gives every reader the same
    nonce, so on its own it would merge different readers' attempts into one record."""
    seen = f"{nonce}|{client_ip(request)}|{request.headers.get('User-Agent', '')}"
    return hashlib.sha256(seen.encode("utf-8", "replace")).hexdigest()[:32]


def _too_many(request: HttpRequest, article: Article, retry_after: int) -> HttpResponse:
    """A short page, not the whole form again: under a flood this answer must stay cheap."""
    minutes = max(1, -(-retry_after // 60))
    message = _(
        "Too many payment attempts came from your connection. Nothing was charged. "
        "Please try again in %(minutes)s minutes."
    ) % {"minutes": minutes}
    response = render(
        request, "payments/rate_limited.html", {"article": article, "message": message}, status=429
    )
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "private, no-store"
    return response


@csrf_exempt
@same_origin_required
@require_POST
def appreciate(request: HttpRequest, ref: str) -> HttpResponse:
    """Start a checkout. Anti-abuse order: origin (403), article (404), a used-up limit (429,
    before any form work), bot checks (silent 303), form (400), counting against the limits
    (429), then the pending record and Stripe."""
    article = appreciable_article(ref)
    ip = client_ip(request)
    used_up = ratelimit.already_over(
        ratelimit.checkout_limits(
            ip=ip, article_id=article.pk, form_key=_form_key(str(request.POST.get("nonce", "")), request)
        )
    )
    if used_up is not None:
        return _too_many(request, article, used_up.retry_after)
    locale = checkout.checkout_locale(translation.get_language())
    form = AppreciationForm(request.POST, locale=locale, action=request.path)
    verdict = form.submission_verdict()
    if verdict == Verdict.BOT:
        # Answered as if all went well, so a bot learns nothing; nothing is created or sent.
        logger.info("Appreciation form for article %s rejected silently", article.pk)
        return _see_other(f"{article.get_absolute_url()}#waardeer")
    if verdict == Verdict.STALE:
        form.is_valid()
        form.renew_rendered()
        error = _("This form was open for a long time. Please check your choice and press the button again.")
        return _appreciate_page(request, article, form, status=400, error=error)
    if not form.is_valid():
        return _appreciate_page(request, article, form, status=400)
    data = form.cleaned_data
    form_key = _form_key(data["nonce"], request)
    exceeded = ratelimit.hit(ratelimit.checkout_limits(ip=ip, article_id=article.pk, form_key=form_key))
    if exceeded is not None:
        return _too_many(request, article, exceeded.retry_after)
    try:
        appreciation, session = checkout.appreciation_checkout_start(
            checkout.CheckoutRequest(
                article=article,
                amount=data["total_amount"],
                fee_cover_amount=data["fee_cover_amount"],
                display_name=data["display_name"],
                message=data["message"],
                is_public=data["is_public"],
                locale=locale,
                # Only the script's per-visitor nonce may reuse a pending record; see payments.checkout.
                nonce=_form_key(data["client_nonce"], request) if data.get("client_nonce") else "",
                reasons=tuple(data.get("reasons") or ()),
            )
        )
    except stripe_api.PaymentProviderError as exc:
        return _appreciate_page(request, article, form, status=503, error=str(exc.user_message))
    if session.get("url") and (
        sandbox.sandbox_active() or settings.STRIPE_CHECKOUT_UI_MODE != "embedded_page"
    ):
        return _see_other(session["url"])
    if session.get("client_secret"):
        return render(
            request,
            "payments/embedded_checkout.html",
            {
                "article": article,
                "appreciation": appreciation,
                "client_secret": session["client_secret"],
                "publishable_key": settings.STRIPE_PUBLISHABLE_KEY,
            },
        )
    logger.error("Checkout session %s came back without url or client_secret", session.get("id"))
    return _appreciate_page(
        request,
        article,
        form,
        status=503,
        error=_("The payment could not be started. Nothing was charged. Please try again later."),
    )


def _our_appreciation(session_id: str) -> Appreciation | None:
    if not _SESSION_ID.match(session_id or ""):
        return None
    return (
        Appreciation.objects.select_related("article", "article__author")
        .filter(stripe_checkout_session_id=session_id)
        .first()
    )


@never_cache
@require_GET
def thank_you(request: HttpRequest) -> HttpResponse:
    """Shows what Stripe and our record say about a session of ours. Reads only: no state changes."""
    appreciation = _our_appreciation(request.GET.get("session_id", ""))
    if appreciation is None:
        return render(request, "payments/thank_you_unknown.html", status=404)
    payment_status, session = "", {}
    # A paid record is final (see payments.services): no need to ask Stripe, or wait on its retries.
    if appreciation.status != Appreciation.Status.PAID:
        try:
            session = stripe_api.checkout_session_retrieve(appreciation.stripe_checkout_session_id)
            payment_status = str(session.get("payment_status") or "")
        except stripe_api.PaymentProviderError:
            # Stripe being unreachable must not hide the thanks; our record still tells the state.
            session = {}
    state = _thank_you_state(appreciation, session, payment_status)
    locale = checkout.checkout_locale(translation.get_language())
    return render(
        request,
        "payments/thank_you.html",
        {
            "appreciation": appreciation,
            "article": appreciation.article,
            "amount": appreciation_amount_display(appreciation, locale),
            "state": state,
            "share_url": f"{settings.SITE_URL}{appreciation.article.get_absolute_url()}",
            "sandbox_url": sandbox.checkout_page_url(appreciation)
            if sandbox.sandbox_active() and state == "processing"
            else "",
        },
    )


def _thank_you_state(appreciation: Appreciation, session: dict, payment_status: str) -> str:
    Status = Appreciation.Status
    if appreciation.status == Status.PAID or payment_status in ("paid", "no_payment_required"):
        return "paid"
    if appreciation.status == Status.FAILED:
        return "failed"
    if appreciation.status == Status.PROCESSING or session.get("status") == "complete":
        return "processing"
    if appreciation.status == Status.EXPIRED or session.get("status") == "expired":
        return "expired"
    return "open"


def appreciation_amount_display(appreciation: Appreciation, locale: str) -> str:
    return format_money(appreciation.amount, appreciation.currency, locale)


# --- offline sandbox -------------------------------------------------------------------------------

_SANDBOX_CHOICES = {
    Appreciation.Status.PENDING: (sandbox.PAID, sandbox.DECLINED, sandbox.PAID_LATER, sandbox.ABANDONED),
    Appreciation.Status.PROCESSING: (sandbox.ASYNC_SUCCEEDED, sandbox.ASYNC_FAILED),
}


@never_cache
@require_http_methods(["GET", "POST"])
def sandbox_checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    """The local stand-in for Stripe's checkout page; 404 unless the sandbox is on."""
    if not sandbox.sandbox_active():
        raise Http404
    appreciation = sandbox.appreciation_for_session(session_id)
    if appreciation is None or appreciation.stripe_checkout_session_id != session_id:
        raise Http404
    choices = _SANDBOX_CHOICES.get(appreciation.status, ())
    notice, status = "", 200
    if request.method == "POST":
        choice = request.POST.get("choice", "")
        if choice not in choices:
            notice, status = _("That choice is not possible for this test payment any more."), 409
        elif choice == sandbox.DECLINED:
            # Real Checkout keeps the reader on its page after a decline and tells us nothing.
            notice, status = _("Your card was declined. Nothing was charged; try another choice."), 402
        else:
            from payments.services import EventProcessingError

            try:
                sandbox.choice_deliver(choice, appreciation)
            except EventProcessingError:
                logger.exception("Sandbox event for %s could not be processed", session_id)
                notice, status = _("The test event could not be processed; see the server log."), 503
            else:
                return _see_other(_sandbox_next_url(choice, appreciation))
    locale = checkout.checkout_locale(translation.get_language())
    return render(
        request,
        "payments/sandbox_checkout.html",
        {
            "appreciation": appreciation,
            "article": appreciation.article,
            "amount": appreciation_amount_display(appreciation, locale),
            "choices": choices,
            "notice": notice,
            "session_id": session_id,
        },
        status=status,
    )


def _sandbox_next_url(choice: str, appreciation: Appreciation) -> str:
    """Where Stripe would send the reader next: back to the article on abandon, else the thank-you page."""
    if choice == sandbox.ABANDONED:
        return checkout.cancel_url(appreciation)
    return checkout.thank_you_url(appreciation.locale).replace(
        "{CHECKOUT_SESSION_ID}", sandbox.session_id_for(appreciation)
    )
