"""Settings for Waardeer, read from the environment only.

Every variable is listed in `.env.example` and the README. Development defaults
apply only when DEBUG is on; production (DEBUG off) refuses to start without a
real SECRET_KEY, ALLOWED_HOSTS and Stripe keys (see payments.checks).
"""

import re
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base for links that leave the request context (feeds, emails, Stripe return URLs).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Waardeer")

INSTALLED_APPS = [
    # Django's admin with our site class: the author panel (payments.panel), which requires
    # two-factor login when ADMIN_REQUIRE_2FA=1 (payments.twofactor).
    "payments.security.SecureAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "articles",
    "payments",
    "feedback",
    "funnel",
]

MIDDLEWARE = [
    # Anonymous reading pages are answered from the cache here, before anything else runs;
    # each stored page keeps the headers the middleware below added (CSP, security headers).
    "articles.caching.PageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "payments.security.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # 400 for a NUL byte in the URL: PostgreSQL would raise on it (payments.security).
    "payments.security.RejectNulBytesMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "journalism.urls"
WSGI_APPLICATION = "journalism.wsgi.application"

TEMPLATES = [
    # The pages readers see: Jinja2, about twice as fast to render (articles/templating.py).
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "articles.templating.environment",
            "context_processors": [
                "django.template.context_processors.i18n",
                "articles.context_processors.site",
            ],
        },
    },
    # The panel (Django's admin), emails and forms: Django templates.
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "articles.context_processors.site",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own backend, with a health check that skips the round trip on a quiet connection.
    DATABASES["default"]["ENGINE"] = "journalism.postgresql"
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        # Parameters bound by the server, and a statement run 5 times on a connection is prepared
        # (psycopg's threshold): PostgreSQL then skips parsing and planning it. Pages and webhooks
        # run the same few statements all day, and planning them cost more than running them.
        # Off (0) behind a transaction-pooling PgBouncer without max_prepared_statements.
        DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Webhook deliveries may arrive concurrently; wait for the write lock instead of failing.
    # IMMEDIATE makes a second writer wait for the lock instead of failing on its first write.
    DATABASES["default"].setdefault("OPTIONS", {}).update(timeout=20, transaction_mode="IMMEDIATE")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
CACHE_URL = env.str("CACHE_URL", default="")
if CACHE_URL:
    CACHES = {"default": env.cache_url("CACHE_URL")}
elif REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="waardeer"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Full-page cache of the reading site (articles.caching). Entries are invalidated when what
# they show changes; the timeout only bounds how late a scheduled article reaches the lists.
PAGE_CACHE_ALIAS = "default"
PAGE_CACHE_TIMEOUT = 300
# Seconds a shared cache (nginx, a CDN) may keep a page; browsers always revalidate (ETag, 304).
PAGE_CACHE_S_MAXAGE = 10
# Each process keeps its most used pages in memory and checks the generation in the shared
# cache at most this often, so a change elsewhere reaches every process within a second.
PAGE_CACHE_LOCAL_SECONDS = 1.0
PAGE_CACHE_LOCAL_ENTRIES = 200

# The admin login is throttled against guessing (django-axes): after AXES_FAILURE_LIMIT failures
# for one username from one client address, that pair is locked out for AXES_COOLOFF_MINUTES.
AUTHENTICATION_BACKENDS = [
    "payments.twofactor.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.int("AXES_COOLOFF_MINUTES", default=15) / 60  # hours, as axes reads a float
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The same client address as the rate limits (TRUST_X_FORWARDED_FOR), never a raw header.
AXES_CLIENT_IP_CALLABLE = "payments.security.client_ip"
# The admin is the only login; an unsafe or missing ?next= lands on the panel's dashboard.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"
# Staff must confirm a login with a one-time password from a TOTP app or a static code.
ADMIN_REQUIRE_2FA = env.bool("ADMIN_REQUIRE_2FA", default=False)
OTP_TOTP_ISSUER = SITE_NAME

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "nl"
LANGUAGES = [("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Amsterdam")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MAX_AGE = 31536000 if not DEBUG else 0
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Waardeer <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Security headers; production values unless DEBUG.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("TRUST_X_FORWARDED_PROTO", default=False) else None
)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
# Nothing of ours reads the CSRF cookie from JavaScript (the admin sends the form field).
CSRF_COOKIE_HTTPONLY = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a hard-to-undo commitment for the whole domain, so it stays opt-in
# (SECURE_HSTS_PRELOAD=1) and Django's reminder about it is not a deployment failure.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# Client address for rate limits and the login throttle: REMOTE_ADDR, or with
# TRUST_X_FORWARDED_FOR=1 (only behind deploy/nginx.conf, which overwrites the header) the
# first hop of X-Forwarded-For from the right that is not in TRUSTED_PROXIES.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])

# Stripe. With no secret key and DEBUG on, checkout runs in the offline sandbox.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Several secrets, comma separated, are accepted while an endpoint secret is being rotated.
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRET", default=[])
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_CHECKOUT_UI_MODE = env.str("STRIPE_CHECKOUT_UI_MODE", default="hosted_page")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Seconds one request to Stripe may take (the SDK's own default is 80). With the retries, the
# worst case must stay under gunicorn's 30 s worker timeout, or the worker is killed mid-request.
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=8)
STRIPE_SANDBOX = DEBUG and not STRIPE_SECRET_KEY

# Content Security Policy (django-csp 4). Only our own scripts run: no inline script, no CDN.
# Styles also allow 'unsafe-inline' (styles only, never scripts): Django's admin changelist and
# the self-contained 500 page carry inline <style> blocks. Stripe.js and its frames are allowed
# only when embedded Checkout is in use; hosted Checkout is a plain redirect.
_STRIPE_EMBEDDED = STRIPE_CHECKOUT_UI_MODE == "embedded_page"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"] + (["https://js.stripe.com"] if _STRIPE_EMBEDDED else []),
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"] + (["https://*.stripe.com"] if _STRIPE_EMBEDDED else []),
        "connect-src": ["'self'"]
        + (["https://api.stripe.com", "https://checkout.stripe.com"] if _STRIPE_EMBEDDED else []),
        "frame-src": ["https://js.stripe.com", "https://checkout.stripe.com"]
        if _STRIPE_EMBEDDED
        else ["'none'"],
        # A 303 to Stripe's hosted page after a form POST is governed by form-action in some browsers.
        "form-action": ["'self'", "https://checkout.stripe.com"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

# Card testing and floods: limits on starting a checkout, as "<count>/<s|m|h|d>" (empty: off),
# counted in the cache (Redis with REDIS_URL, so across processes). See payments.ratelimit.
RATELIMIT_ENABLED = env.bool("RATELIMIT_ENABLED", default=True)
RATELIMIT_CHECKOUT_IP = env.str("RATELIMIT_CHECKOUT_IP", default="10/h")
RATELIMIT_CHECKOUT_IP_ARTICLE = env.str("RATELIMIT_CHECKOUT_IP_ARTICLE", default="5/h")
RATELIMIT_CHECKOUT_FORM = env.str("RATELIMIT_CHECKOUT_FORM", default="5/h")
RATELIMIT_CHECKOUT_SITE = env.str("RATELIMIT_CHECKOUT_SITE", default="")
for _rate in (
    RATELIMIT_CHECKOUT_IP,
    RATELIMIT_CHECKOUT_IP_ARTICLE,
    RATELIMIT_CHECKOUT_FORM,
    RATELIMIT_CHECKOUT_SITE,
):
    if _rate and not re.fullmatch(r"\d+/\d*[smhd]|off", _rate.strip().lower()):
        raise ImproperlyConfigured(f"A RATELIMIT_CHECKOUT_* value {_rate!r} is not like 10/h.")
# Bots submit at once: a form sent sooner than this after its page was rendered is dropped
# silently; one older than the maximum age is shown again ("please try again").
APPRECIATION_MIN_SUBMIT_SECONDS = env.int("APPRECIATION_MIN_SUBMIT_SECONDS", default=3)
APPRECIATION_FORM_MAX_AGE = env.int("APPRECIATION_FORM_MAX_AGE", default=86400)

# Appreciation amounts, in the currency's minor units.
APPRECIATION_CURRENCY = env.str("APPRECIATION_CURRENCY", default="EUR").upper()
APPRECIATION_PRESETS = env.list("APPRECIATION_PRESETS", cast=int, default=[300, 500, 1000])
APPRECIATION_MIN_AMOUNT = env.int("APPRECIATION_MIN_AMOUNT", default=100)
APPRECIATION_MAX_AMOUNT = env.int("APPRECIATION_MAX_AMOUNT", default=50000)
# Estimate shown to readers who choose to cover the payment costs: percent (basis points) + fixed.
APPRECIATION_FEE_PERCENT_BP = env.int("APPRECIATION_FEE_PERCENT_BP", default=150)
APPRECIATION_FEE_FIXED = env.int("APPRECIATION_FEE_FIXED", default=25)
# The appeal under the widget's heading, per interface language; empty means our default wording.
APPRECIATION_APPEAL_NL = env.str("APPRECIATION_APPEAL_NL", default="")
APPRECIATION_APPEAL_EN = env.str("APPRECIATION_APPEAL_EN", default="")

# Reasons a reader can tick ("why was it worth it"), as stable codes from feedback.reasons;
# per language optionally FEEDBACK_REASONS_NL / FEEDBACK_REASONS_EN (empty: FEEDBACK_REASONS).
FEEDBACK_REASONS = env.list(
    "FEEDBACK_REASONS",
    default=["well_researched", "new_perspective", "clearly_written", "important_to_know", "local_knowledge"],
)
FEEDBACK_REASONS_NL = env.list("FEEDBACK_REASONS_NL", default=[])
FEEDBACK_REASONS_EN = env.list("FEEDBACK_REASONS_EN", default=[])
# Feedback without paying, per client address (payments.ratelimit syntax: count/unit).
RATELIMIT_FEEDBACK_IP = env.str("RATELIMIT_FEEDBACK_IP", default="5/10m")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
