"""Settings for Waardeer, read from the environment only.

Every variable is listed in `.env.example` and the README. Development defaults
apply only when DEBUG is on; production (DEBUG off) refuses to start without a
real SECRET_KEY, ALLOWED_HOSTS and Stripe keys (see payments.checks).
"""

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
    # Django's admin with our site class: the author panel (payments.panel).
    "payments.panel_apps.PanelAdminConfig",
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
    "articles",
    "payments",
    "feedback",
    "funnel",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous reading pages are answered from the cache here, before sessions and CSRF.
    "articles.caching.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "journalism.urls"
WSGI_APPLICATION = "journalism.wsgi.application"

TEMPLATES = [
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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
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
# Short for browsers and proxies, because supporter counts change.
PAGE_CACHE_MAX_AGE = 15
PAGE_CACHE_S_MAXAGE = 10
PAGE_CACHE_STALE_WHILE_REVALIDATE = 30
# Each process keeps its most used pages in memory and checks the generation in the shared
# cache at most this often, so a change elsewhere reaches every process within a second.
PAGE_CACHE_LOCAL_SECONDS = 1.0
PAGE_CACHE_LOCAL_ENTRIES = 200

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
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
# Preloading is a hard-to-undo commitment for the whole domain, so it stays opt-in
# (SECURE_HSTS_PRELOAD=1) and Django's reminder about it is not a deployment failure.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# Stripe. With no secret key and DEBUG on, checkout runs in the offline sandbox.
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
# Several secrets, comma separated, are accepted while an endpoint secret is being rotated.
STRIPE_WEBHOOK_SECRETS = env.list("STRIPE_WEBHOOK_SECRET", default=[])
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_CHECKOUT_UI_MODE = env.str("STRIPE_CHECKOUT_UI_MODE", default="hosted_page")
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
STRIPE_SANDBOX = DEBUG and not STRIPE_SECRET_KEY

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
