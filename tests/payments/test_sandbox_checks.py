"""Production refuses to start without Stripe keys, and can never run the offline sandbox."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from payments.checks import stripe_keys_configured


def ids(settings) -> set[str]:
    return {error.id for error in stripe_keys_configured(None)}


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.STRIPE_SANDBOX = False
    settings.STRIPE_SECRET_KEY = "sk_live_x"
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_x"]
    settings.STRIPE_CHECKOUT_UI_MODE = "hosted_page"
    return settings


def test_production_with_keys_passes(production):
    assert ids(production) == set()


def test_production_without_keys_refuses_to_start(production):
    production.STRIPE_SECRET_KEY = ""
    production.STRIPE_WEBHOOK_SECRETS = []
    assert ids(production) == {"payments.E001", "payments.E002"}
    with pytest.raises(SystemCheckError, match="STRIPE_SECRET_KEY is not set"):
        call_command("check")


def test_the_sandbox_cannot_run_with_debug_off(production):
    production.STRIPE_SANDBOX = True
    assert "payments.E003" in ids(production)


def test_development_without_keys_is_the_sandbox(settings):
    settings.DEBUG = True
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRETS = []
    settings.STRIPE_SANDBOX = True
    assert ids(settings) == set()


@pytest.mark.parametrize("mode", ["hosted", "embedded", "custom"])
def test_old_checkout_ui_modes_are_rejected(production, mode):
    production.STRIPE_CHECKOUT_UI_MODE = mode
    assert "payments.E004" in ids(production)


def test_embedded_checkout_needs_a_publishable_key(production):
    production.STRIPE_CHECKOUT_UI_MODE = "embedded_page"
    production.STRIPE_PUBLISHABLE_KEY = ""
    assert "payments.E005" in ids(production)
    production.STRIPE_PUBLISHABLE_KEY = "pk_live_x"
    assert ids(production) == set()
