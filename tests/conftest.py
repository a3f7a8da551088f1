import pytest
from django.conf import settings as django_settings
from django.utils import translation

from payments import stripe_api
from tests.stripe_fakes import StripeTransport

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts and ends in the default language (Dutch).

    LocaleMiddleware activates a request's language in the thread that handles it and never
    switches back; the test client handles requests in the test's own thread, so one request
    to /en/ would leave English active for whatever runs next (reverse(), gettext, templates).
    """
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.activate(django_settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_page_cache():
    """The page cache (articles.caching) lives outside the test database's rollback."""
    from django.conf import settings
    from django.core.cache import caches

    from articles.caching import page_cache_bump

    caches[settings.PAGE_CACHE_ALIAS].clear()
    page_cache_bump()  # also forgets the pages this process keeps in memory


@pytest.fixture
def client():
    """A test client that posts like a modern browser on our own pages (Sec-Fetch-Site:
    same-origin), as reader POSTs require (payments.security.same_origin_required).
    Tests of cross-site requests pass their own headers or use a bare Client()."""
    from django.test import Client

    return Client(headers={"Sec-Fetch-Site": "same-origin"})


@pytest.fixture
def stripe_transport(settings, monkeypatch) -> StripeTransport:
    """Real Stripe keys and an intercepted transport: the SDK runs, nothing leaves the machine."""
    settings.STRIPE_SECRET_KEY = "sk_test_waardeer"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_waardeer"
    settings.STRIPE_WEBHOOK_SECRETS = [WEBHOOK_SECRET]
    settings.STRIPE_SANDBOX = False
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    transport = StripeTransport()
    monkeypatch.setattr(stripe_api, "HTTP_CLIENT", transport)
    return transport
