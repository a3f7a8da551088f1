"""Request-level protections for the public, cookie-less payment endpoints, and the admin login.

- `same_origin_required`: the replacement for Django's CSRF token on reader POSTs.
- `client_ip`: the one place that decides which address a request comes from (rate limits, axes).
- `CSPMiddleware`: django-csp's, with the policy built once per process.
- `SecureAdminConfig`: Django's admin with the panel site that can require two-factor login
  (payments.twofactor, which also holds the login throttle backend).

This module is imported from INSTALLED_APPS, before models are ready: no model imports here.
"""

import functools
import ipaddress
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import csp.middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from payments.panel_apps import PanelAdminConfig

logger = logging.getLogger(__name__)

# Fetch metadata values that a cross-site page cannot produce: our own pages, or the reader
# typing/bookmarking the URL. `same-site` (a sibling subdomain) and `cross-site` are refused.
_SAFE_FETCH_SITES = {"same-origin", "none"}


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def _origin_of(url: str) -> str:
    """`scheme://host[:port]` in lower case, without the scheme's default port; "" if not a URL."""
    parts = urlsplit(url)
    scheme, netloc = parts.scheme.lower(), parts.netloc.lower()
    if not scheme or not netloc or "@" in netloc:
        return ""
    default = _DEFAULT_PORTS.get(scheme, "")
    if default and netloc.endswith(default):
        netloc = netloc[: -len(default)]
    return f"{scheme}://{netloc}"


def request_is_same_origin(request: HttpRequest) -> bool:
    """Whether a browser sent this request from one of our own pages (see same_origin_required)."""
    fetch_site = request.headers.get("Sec-Fetch-Site", "").strip().lower()
    origin = request.headers.get("Origin", "").strip()
    trusted = {_origin_of(entry) for entry in settings.CSRF_TRUSTED_ORIGINS} - {""}
    if fetch_site:
        if fetch_site in _SAFE_FETCH_SITES:
            return True
        # A sibling or partner site the operator listed explicitly (e.g. www. → apex) may post.
        return bool(origin) and _origin_of(origin) in trusted
    # No fetch metadata (older browsers): the Origin header, or failing that the Referer.
    # Origin "null" (sandboxed frames, privacy redirects) is never ours.
    source = origin if origin else request.headers.get("Referer", "").strip()
    claimed = _origin_of(source)
    if not claimed:
        return False
    ours = _origin_of(f"{request.scheme}://{request.get_host()}")
    return claimed == ours or claimed in trusted


def same_origin_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Refuse (403) a POST that a browser did not send from one of our own pages.

    Why not Django's CSRF token: article pages are cached in a shared cache and must set no
    cookie, so they cannot carry a per-visitor token. The token protects a session from being
    ridden by another site; anonymous readers have no session to ride. What is left to stop
    is another site making a reader's browser post to us (to start checkouts in their name,
    or to launder card testing through real visitors), and the origin check blocks exactly
    those cross-site posts, as the token did: browsers send `Sec-Fetch-Site` (and `Origin`)
    on every POST, and a page cannot forge either. Requests with none of the headers (very old
    browsers, scripts) are refused too; scripts are met by the rate limits anyway.

    Use it together with `@csrf_exempt` on views for anonymous readers only; anything behind a
    login (admin, panel) keeps Django's token.
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and not request_is_same_origin(request):
            logger.info("Cross-site %s to %s refused", request.method, request.path)
            return render(request, "payments/cross_site.html", status=403)
        return view(request, *args, **kwargs)

    return wrapper


def _valid_ip(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return ""


def client_ip(request: HttpRequest) -> str:
    """The address the request came from: REMOTE_ADDR, or behind our proxy the first untrusted hop.

    X-Forwarded-For is read only with TRUST_X_FORWARDED_FOR=1, i.e. when the app is reachable
    through the shipped nginx alone (deploy/nginx.conf overwrites the header with the client's
    address); otherwise anyone could pick their own address and escape the rate limits. Hops
    are read from the right, skipping TRUSTED_PROXIES, so a value the client prepended never wins.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    if not settings.TRUST_X_FORWARDED_FOR:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    trusted = set(settings.TRUSTED_PROXIES)
    for hop in reversed(hops):
        address = _valid_ip(hop)
        if not address:
            break  # garbage in the chain: stop trusting it
        if address not in trusted:
            return address
    return remote


class SecureAdminConfig(PanelAdminConfig):
    """The admin with the panel site that requires an OTP device when ADMIN_REQUIRE_2FA=1."""

    default_site = "payments.twofactor.TwoFactorPanelSite"


# Personal data Stripe puts on sessions, charges and payment intents. We keep what the books
# need (ids, amounts, states) and blank these before an event is stored.
_PERSONAL_KEYS = frozenset(
    {
        "customer_details",
        "customer_email",
        "billing_details",
        "receipt_email",
        "shipping",
        "shipping_details",
        "email",
        "phone",
    }
)


def stripe_payload_redact(payload: Any) -> Any:
    """A copy of a Stripe object or event with the reader's email, name, phone and address blanked.

    Stripe collects the email on its checkout page; we never need it (Stripe sends receipts),
    so it must not be copied into our database with a stored event (payments.StripeEvent).
    NUL characters are dropped from strings too: PostgreSQL cannot store them, and a signed
    event must never turn into a 500 that Stripe retries for days.
    """
    if isinstance(payload, str):
        return payload.replace("\x00", "")
    if isinstance(payload, dict):
        return {
            stripe_payload_redact(key): None if key in _PERSONAL_KEYS else stripe_payload_redact(value)
            for key, value in payload.items()
        }
    if isinstance(payload, list):
        return [stripe_payload_redact(item) for item in payload]
    return payload


class RejectNulBytesMiddleware:
    """400 for a NUL byte in the path or query string, before anything reaches the database.

    PostgreSQL refuses NUL in text and raises, so an admin filter like `?status__exact=%00`
    would otherwise be a 500. Form fields need no help: Django's CharField refuses NUL with a
    message of its own.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any("\x00" in key or "\x00" in value for key, value in _pairs(request)):
            logger.info("Request with a NUL byte in its URL refused")
            return HttpResponseBadRequest(
                _("This address contains characters we cannot read."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _pairs(request: HttpRequest):
    for key, values in request.GET.lists():
        for value in values:
            yield key, value


# The attributes csp.decorators set on a response to change its policy.
_CSP_CHANGES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)


@functools.cache
def _csp_policies() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, policy, exemption attribute, excluded URL prefixes) of the policy and the
    report-only one, as django-csp builds them from the settings alone."""
    found = []
    for header, setting, report_only, exempt in (
        (HEADER, "CONTENT_SECURITY_POLICY", False, "_csp_exempt"),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True, "_csp_exempt_ro"),
    ):
        prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
        found.append((header, build_policy(report_only=report_only), exempt, prefixes))
    return tuple(found)


@receiver(setting_changed)
def _csp_settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _csp_policies.cache_clear()


class CSPMiddleware(csp.middleware.CSPMiddleware):
    """django-csp's middleware, with its policies built once per process for a response that
    changes nothing of them (no csp decorator) on a page that used no nonce, which is every page
    of ours: building them for every response was about 4 % of an uncached article page. The
    headers are set as django-csp sets them (tests compare the two); anything else is its own."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        changed = any(hasattr(response, name) for name in _CSP_CHANGES)
        if changed or getattr(request, "_csp_nonce", None) is not None:
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:  # Django's debug pages
            return response
        for header, policy, exempt, prefixes in _csp_policies():
            exempted = getattr(response, exempt, False) is not False or request.path_info.startswith(prefixes)
            if policy and header not in response and not exempted:
                response[header] = policy
        # As django-csp: asking for a nonce once the header is written is an error, not a no-op.
        request.csp_nonce = csp.middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
