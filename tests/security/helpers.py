"""Shared pieces of the security tests: a Stripe that answers session creation, form data as a
browser sends it (signed render time from the past, fresh nonce), and request headers."""

import itertools
import time
import uuid

from django.test import Client

from payments.forms import rendered_stamp
from tests.stripe_fakes import checkout_session_created

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
_sessions = itertools.count(1)


def answer_session_create(stripe_transport) -> None:
    """Stripe's answer to POST /v1/checkout/sessions: a new open session each time."""

    answers: dict = {}

    def created(request):
        # Like Stripe: a repeated Idempotency-Key gets the first answer again.
        key = request.headers.get("Idempotency-Key")
        if key in answers:
            return answers[key]
        session_id = f"cs_test_sec{next(_sessions):06d}"
        answers[key] = answer = (200, checkout_session_created(request, session_id))
        return answer

    stripe_transport.on("POST", r"/v1/checkout/sessions", created)


def session_creations(stripe_transport) -> int:
    return sum(
        1 for r in stripe_transport.requests if (r.method, r.path) == ("POST", "/v1/checkout/sessions")
    )


def form_data(*, seconds_ago: float = 10, **fields) -> dict:
    """What the widget posts after a reader spent `seconds_ago` on the page."""
    data = {
        "preset": "500",
        "nonce": uuid.uuid4().hex,
        "rendered": rendered_stamp(now=time.time() - seconds_ago),
        "website": "",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def appreciate_url(article, prefix: str = "") -> str:
    return f"{prefix}/payments/appreciate/{article.slug}/"


def bare_client() -> Client:
    """A client that sends no fetch metadata, Origin or Referer unless a test adds them."""
    return Client()
