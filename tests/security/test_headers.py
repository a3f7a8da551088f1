"""Security headers, CSP, cookies and error pages, as the production configuration sends them."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.test import Client
from django.urls import path

from tests.factories import ArticleFactory
from tests.security.helpers import answer_session_create, appreciate_url, form_data

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def explode(request):
    raise RuntimeError(f"boom {django_settings.SECRET_KEY}")


def fine(request):
    return HttpResponse("ok")


urlpatterns = [path("boom/", explode), path("fine/", fine)]


def csp_of(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_article_page_has_a_strict_content_security_policy(client):
    article = ArticleFactory()
    policy = csp_of(client.get(article.get_absolute_url()))
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no CDN
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # styles only: admin and the 500 page
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'", "https://checkout.stripe.com"]
    assert policy["base-uri"] == ["'self'"] and policy["object-src"] == ["'none'"]
    assert policy["frame-src"] == ["'none'"]


def test_cached_pages_carry_the_policy_too(client):
    article = ArticleFactory()
    client.get(article.get_absolute_url())
    again = client.get(article.get_absolute_url())
    assert "script-src 'self'" in again["Content-Security-Policy"]
    assert again["X-Frame-Options"] == "DENY"


def _policy_with(**env_overrides: str) -> dict:
    env = {**os.environ, "DEBUG": "1", **env_overrides}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    script = "import json, journalism.settings as s; print(json.dumps(s.CONTENT_SECURITY_POLICY))"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["DIRECTIVES"]


def _nonce_used(request):
    response = HttpResponse(str(request.csp_nonce))
    return response


@pytest.mark.parametrize(
    "case",
    [
        "plain",
        "exempt",
        "exempt-none",
        "updated",
        "replaced",
        "nonce",
        "excluded",
        "report-only",
        "debug-404",
    ],
)
def test_our_csp_middleware_sets_what_django_csp_sets(settings, rf, case):
    """payments.security.CSPMiddleware builds its policies once; the headers must not differ."""
    import copy

    from csp.middleware import CSPMiddleware as Theirs

    from payments.security import CSPMiddleware as Ours

    policy = copy.deepcopy(django_settings.CONTENT_SECURITY_POLICY)
    if case == "excluded":
        policy["EXCLUDE_URL_PREFIXES"] = ["/fine"]
    settings.CONTENT_SECURITY_POLICY = policy
    if case == "report-only":
        settings.CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": {"default-src": ["'none'"]}}
    settings.DEBUG = case == "debug-404"

    def answer(request):
        if case == "nonce":
            return _nonce_used(request)
        response = HttpResponse("ok", status=404 if case == "debug-404" else 200)
        if case in ("exempt", "exempt-none"):
            response._csp_exempt = True if case == "exempt" else None
        if case == "updated":
            response._csp_update = {"img-src": ["https://images.example"]}
        if case == "replaced":
            response._csp_replace = {"script-src": ["'self'", "https://js.example"]}
        return response

    found = []
    for middleware in (Theirs(answer), Ours(answer)):
        request = rf.get("/fine/")
        response = middleware(request)
        headers = {name: value for name, value in response.items() if "Security-Policy" in name}
        if case == "nonce":  # a new nonce each time: compare the policies without it
            headers = {name: value.replace(response.content.decode(), "N") for name, value in headers.items()}
        if case not in ("nonce", "debug-404"):
            with pytest.raises(Exception, match="csp_nonce"):  # asked too late: an error, in both
                str(request.csp_nonce)
        found.append(headers)
    assert found[0] == found[1]
    expected = {
        "plain": 1,
        "exempt": 0,
        "exempt-none": 0,
        "updated": 1,
        "replaced": 1,
        "nonce": 1,
        "excluded": 0,
    }
    assert len(found[1]) == expected.get(case, 2 if case == "report-only" else 0)


def test_stripe_js_is_allowed_only_for_embedded_checkout():
    hosted = _policy_with(STRIPE_CHECKOUT_UI_MODE="hosted_page")
    embedded = _policy_with(STRIPE_CHECKOUT_UI_MODE="embedded_page")
    assert hosted["script-src"] == ["'self'"] and hosted["frame-src"] == ["'none'"]
    assert embedded["script-src"] == ["'self'", "https://js.stripe.com"]
    assert embedded["frame-src"] == ["https://js.stripe.com", "https://checkout.stripe.com"]
    assert "'unsafe-inline'" not in embedded["script-src"]


def test_no_inline_script_or_event_handler_in_our_templates():
    inline = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/ld\+json)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        if inline.search(text) or handler.search(text) or "javascript:" in text:
            offenders.append(str(template.relative_to(ROOT)))
    assert offenders == []


def test_production_headers_on_an_https_page(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    article = ArticleFactory()
    plain = Client().get(article.get_absolute_url())
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    response = client.get(article.get_absolute_url(), secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert "Set-Cookie" not in response.headers


def test_admin_cookies_are_secure_and_httponly(settings, admin_user):
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_SSL_REDIRECT = False
    client = Client()
    client.get("/admin/login/", secure=True)
    response = client.post(
        "/admin/login/", {"username": admin_user.username, "password": "password"}, secure=True
    )
    assert response.status_code == 302
    for name in ("sessionid", "csrftoken"):
        cookie = response.cookies.get(name) or client.cookies[name]
        assert cookie["secure"] and cookie["httponly"], name
        assert cookie["samesite"] == "Lax"


def test_production_settings_keep_cookies_secure_and_secrets_from_the_environment():
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DEBUG": "0",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "example.org",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_x",
    }
    script = (
        "import json, journalism.settings as s; print(json.dumps([s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_HTTPONLY, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_SSL_REDIRECT, s.X_FRAME_OPTIONS, s.SECURE_CONTENT_TYPE_NOSNIFF, s.DEBUG]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert json.loads(result.stdout) == [True, True, True, True, 31536000, True, "DENY", True, False]


def test_no_secret_is_in_the_repository():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    pattern = re.compile(r"(sk|rk)_live_[0-9a-zA-Z]{10,}|whsec_[0-9a-zA-Z]{20,}")
    leaks = [
        name
        for name in tracked
        if (ROOT / name).is_file()
        and (ROOT / name).stat().st_size < 2_000_000
        and pattern.search((ROOT / name).read_text(errors="ignore"))
    ]
    assert leaks == []


@pytest.mark.urls("tests.security.test_headers")
def test_a_crash_with_debug_off_shows_the_plain_500_page_and_nothing_else(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong" in html or "Er ging iets mis" in html
    for leak in ("Traceback", "RuntimeError", "boom", settings.SECRET_KEY, "SECRET_KEY", "settings.py"):
        assert leak not in html


@pytest.mark.urls("tests.security.test_headers")
def test_a_disallowed_host_is_a_400_not_a_500(settings):
    settings.DEBUG = False
    response = Client(raise_request_exception=False).get("/fine/", HTTP_HOST="evil.example")
    assert response.status_code == 400


def test_stripe_errors_never_reach_the_reader_or_the_log(client, stripe_transport, caplog):
    stripe_transport.on(
        "POST",
        r"/v1/checkout/sessions",
        {"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_****aard"}},
        status=401,
    )
    article = ArticleFactory()
    response = client.post(appreciate_url(article, "/en"), form_data())
    assert response.status_code == 503
    html = response.content.decode()
    assert "sk_test" not in html and "Invalid API Key" not in html
    assert "sk_test_waardeer" not in caplog.text


def test_the_webhook_log_names_no_secret(client, stripe_transport, caplog):
    answer_session_create(stripe_transport)
    response = client.post(
        "/payments/stripe/webhook/", "{}", content_type="application/json", HTTP_STRIPE_SIGNATURE="t=1,v1=ab"
    )
    assert response.status_code == 400
    assert "whsec_" not in caplog.text and "v1=ab" not in caplog.text
