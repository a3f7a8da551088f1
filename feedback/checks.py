"""A misspelled reason code in the environment would silently drop a reason: refuse it at start."""

from django.conf import settings
from django.core import checks

from feedback.reasons import REASON_LABELS


@checks.register()
def reason_codes_known(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for name in ("FEEDBACK_REASONS", "FEEDBACK_REASONS_NL", "FEEDBACK_REASONS_EN"):
        for code in getattr(settings, name, []) or []:
            if code not in REASON_LABELS:
                errors.append(
                    checks.Error(
                        f"{name} lists unknown reason code {code!r}.",
                        hint=f"Known codes: {', '.join(REASON_LABELS)}.",
                        id="feedback.E001",
                    )
                )
    return errors
