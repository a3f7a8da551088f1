"""The reasons a reader can tick: stable codes stored in the database, labels translated here.

Codes never change once used (counts are kept per code); a site chooses which to offer, and in
which order, with FEEDBACK_REASONS (and per language FEEDBACK_REASONS_NL / FEEDBACK_REASONS_EN).
A new reason needs a code and a label in REASON_LABELS.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _

REASON_LABELS = {
    "well_researched": _("Well researched"),
    "new_perspective": _("A new perspective"),
    "clearly_written": _("Clearly written"),
    "important_to_know": _("Important to know"),
    "local_knowledge": _("Local knowledge"),
    "moving": _("Moving"),
    "useful": _("Useful to me"),
    "brave": _("Brave reporting"),
}
CODE_MAX_LENGTH = 40


def reason_codes(language: str | None = None) -> list[str]:
    """The codes offered in `language` ("nl", "en"), in the configured order."""
    code = (language or settings.LANGUAGE_CODE).split("-")[0].upper()
    configured = getattr(settings, f"FEEDBACK_REASONS_{code}", None) or settings.FEEDBACK_REASONS
    return [reason for reason in configured if reason in REASON_LABELS]


def reason_choices(language: str | None = None) -> list[tuple[str, str]]:
    return [(code, REASON_LABELS[code]) for code in reason_codes(language)]


def reason_label(code: str) -> str:
    """The label of a code; a code no longer in the catalogue still shows, as itself."""
    return str(REASON_LABELS.get(code, code))
