"""Stripe's webhook endpoint: verify, hand the event to payments.services, answer.

Only verified Stripe events change payment state. Answers: 200 for every verified event,
processed or merely stored (4xx would make Stripe retry for days); 400 for a body that is
not a signed event; 413 over 1 MB; 500 when processing failed (the event is stored and the
next delivery retries it); 503 when a lock could not be had quickly.
"""

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments import services, stripe_api

logger = logging.getLogger(__name__)

# Stripe's events are a few kilobytes; anything near this is not Stripe.
MAX_BODY_BYTES = 1024 * 1024


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    if _content_length(request) > MAX_BODY_BYTES:
        logger.warning("Stripe webhook rejected: body over %s bytes", MAX_BODY_BYTES)
        return HttpResponse(status=413)
    # Read from the stream with a cap, so a wrong Content-Length cannot make us hold more.
    body = request.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        logger.warning("Stripe webhook rejected: body over %s bytes", MAX_BODY_BYTES)
        return HttpResponse(status=413)
    try:
        event = stripe_api.webhook_event_verify(body, request.headers.get("Stripe-Signature"))
        record = services.stripe_event_handle(event)
    except (stripe_api.InvalidWebhook, services.InvalidEvent) as exc:
        # The reason only: never the payload, the header or a secret.
        logger.warning("Stripe webhook rejected: %s", exc)
        return HttpResponse(status=400)
    except services.EventBusy:
        return HttpResponse(status=503)
    except services.EventProcessingError:
        return HttpResponse(status=500)
    return JsonResponse({"received": True, "outcome": record.outcome})
