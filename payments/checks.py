from django.conf import settings
from django.core.checks import Error, Tags, register

UI_MODES = ("hosted_page", "embedded_page")


@register(Tags.security, deploy=False)
def stripe_keys_configured(app_configs, **kwargs) -> list[Error]:
    """The offline sandbox must never take real readers' money: without DEBUG, keys are required
    and the sandbox cannot be switched on."""
    errors = []
    if settings.STRIPE_CHECKOUT_UI_MODE not in UI_MODES:
        errors.append(
            Error(
                f"STRIPE_CHECKOUT_UI_MODE must be one of {', '.join(UI_MODES)}.",
                hint="API 2026-10-28.endive rejects the old 'hosted' and 'embedded'.",
                id="payments.E004",
            )
        )
    if settings.STRIPE_CHECKOUT_UI_MODE == "embedded_page" and not (
        settings.STRIPE_PUBLISHABLE_KEY or settings.STRIPE_SANDBOX
    ):
        errors.append(
            Error("Embedded Checkout needs STRIPE_PUBLISHABLE_KEY.", id="payments.E005"),
        )
    if settings.DEBUG:
        return errors
    if settings.STRIPE_SANDBOX:
        errors.append(Error("The offline Stripe sandbox cannot run with DEBUG off.", id="payments.E003"))
    if not settings.STRIPE_SECRET_KEY:
        errors.append(Error("STRIPE_SECRET_KEY is not set.", id="payments.E001"))
    if not settings.STRIPE_WEBHOOK_SECRETS:
        errors.append(Error("STRIPE_WEBHOOK_SECRET is not set.", id="payments.E002"))
    return errors
