from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=False)
def stripe_keys_configured(app_configs, **kwargs) -> list[Error]:
    """The offline sandbox must never take real readers' money: without DEBUG, keys are required."""
    if settings.DEBUG or settings.STRIPE_SANDBOX:
        return []
    errors = []
    if not settings.STRIPE_SECRET_KEY:
        errors.append(Error("STRIPE_SECRET_KEY is not set.", id="payments.E001"))
    if not settings.STRIPE_WEBHOOK_SECRETS:
        errors.append(Error("STRIPE_WEBHOOK_SECRET is not set.", id="payments.E002"))
    return errors
