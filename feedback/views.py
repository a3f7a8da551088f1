"""Feedback without paying: the widget's "Send without paying" button posts here.

The same protection as the appreciation POST, from the same pieces: our own pages only
(payments.security.same_origin_required), the honeypot and minimum fill-in time of the widget
(AppreciationForm.submission_verdict), a rate limit per client (payments.ratelimit) and length
limits. Invalid input comes back with 400 and the reader's input kept.
"""

import logging

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from articles.models import Article
from articles.selectors import appreciable_article
from feedback import services
from feedback.forms import FreeFeedbackForm
from payments import checkout, ratelimit
from payments.forms import AppreciationForm, Verdict
from payments.security import client_ip, same_origin_required

logger = logging.getLogger(__name__)


def _page(request: HttpRequest, article: Article, form: FreeFeedbackForm, *, status: int, error: str = ""):
    response = render(
        request,
        "feedback/send.html",
        {"article": article, "form": form, "error": error},
        status=status,
    )
    # Carries the reader's own input: never stored by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


# The article page is cached for everyone, so it cannot carry a CSRF token; the origin check,
# the bot checks and the rate limit protect this endpoint instead. It creates no session.
@csrf_exempt
@same_origin_required
@never_cache
@require_POST
def feedback_send(request: HttpRequest, ref: str) -> HttpResponse:
    article = appreciable_article(ref)
    locale = checkout.checkout_locale(translation.get_language())
    form = FreeFeedbackForm(request.POST, locale=locale)
    verdict = AppreciationForm(request.POST, locale=locale).submission_verdict()
    if verdict == Verdict.BOT:
        # Looks like success to the robot; nothing is kept.
        logger.info("Free feedback for article %s rejected silently", article.pk)
        return _see_other(reverse("feedback:thanks", kwargs={"ref": article.slug}))
    if not form.is_valid():
        return _page(request, article, form, status=400)
    exceeded = ratelimit.hit(
        [
            (
                "feedback-ip",
                ratelimit.ip_bucket(client_ip(request)),
                ratelimit.Rate.parse(settings.RATELIMIT_FEEDBACK_IP),
            )
        ]
    )
    if exceeded is not None:
        response = _page(
            request,
            article,
            form,
            status=429,
            error=translation.gettext("You sent a lot of feedback in a short time. Please try again later."),
        )
        response["Retry-After"] = str(exceeded.retry_after)
        return response
    services.feedback_free_create(
        article=article,
        reasons=form.cleaned_data["reasons"],
        message=form.cleaned_data["message"],
        locale=locale,
    )
    return _see_other(reverse("feedback:thanks", kwargs={"ref": article.slug}))


@require_GET
def feedback_thanks(request: HttpRequest, ref: str) -> HttpResponse:
    article = appreciable_article(ref)
    return render(request, "feedback/thanks.html", {"article": article})


def _see_other(url: str) -> HttpResponse:
    """303 so a reload never sends the feedback twice."""
    response = HttpResponse(status=303)
    response["Location"] = url
    return response
