"""The appreciation widget at the end of an article: the form, social proof and cancel note.

`appreciation_widget(request, article, ...)` gives what templates/jinja2/payments/widget.html shows.

Query budget on the article page: none for the supporters, their count and the newest public
ones, which the article page's own query reads as last stored (payments.models.SupporterSummary);
when those are stale, one query to count them and one to store the result. One lookup more only
when returning from a cancelled checkout (`?cancelled=<public id>`). The form's fields are
rendered by crispy once per language and settings, and reused: only the nonce and the signed
render time differ per page.
"""

import uuid
from typing import Any

from crispy_forms.utils import render_crispy_form
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from articles.caching import reverse_memo
from articles.models import Article
from payments import checkout, money, selectors, services
from payments.forms import AppreciationForm, rendered_stamp, stamp_inputs
from payments.models import Appreciation

# Our own wording; the site owner overrides it per language with APPRECIATION_APPEAL_NL / _EN.
DEFAULT_APPEAL = _(
    "You read this article for free. If it was worth something to you, give what you think "
    "it is worth: your appreciation goes to the journalist who wrote it."
)


def appeal_text(locale: str) -> str:
    """The site owner's appeal per language (APPRECIATION_APPEAL_NL / _EN), or our default wording."""
    configured = getattr(settings, f"APPRECIATION_APPEAL_{locale.upper()}", "")
    return configured or DEFAULT_APPEAL


def cancelled_initial(appreciation: Appreciation, locale: str) -> dict:
    """The reader's earlier choice, to refill the form: amount, name, message and public flag only."""
    base = appreciation.amount - appreciation.fee_cover_amount
    initial = {
        "display_name": appreciation.display_name,
        "message": appreciation.message,
        "is_public": appreciation.is_public,
        "cover_fee": appreciation.fee_cover_amount > 0,
    }
    if base in settings.APPRECIATION_PRESETS:
        initial["preset"] = base
    else:
        plain = money.format_plain(base, appreciation.currency)
        initial["amount"] = plain.replace(".", ",") if locale == "nl" else plain
    return initial


def _supporters(article: Article) -> tuple[int, list[selectors.Supporter]]:
    """(supporter count, public supporters) of the article: as stored, if the article page's
    query read them and they are not stale; else counted now, and stored for the next page."""
    stored = getattr(article, "stored_supporters", None)
    found = stored.current() if stored is not None else None
    if found is None:
        version = stored.version if stored is not None else None
        found = services.supporters_recount(article_id=article.pk, version=version)
    return found


# The crispy-rendered fields of an empty form, per active language and checkout locale: the same
# on every article and for every reader, so rendered once per process. In process memory rather
# than the shared cache, so a deploy with another layout never serves the old one; forgotten
# when settings change (amounts, fees, reasons shape the form).
_EMPTY_FORMS: dict[tuple[str | None, str], tuple[str, str]] = {}


@receiver(setting_changed)
def _form_settings_changed(**kwargs: Any) -> None:
    _EMPTY_FORMS.clear()


def _empty_form(locale: str, action: str) -> tuple[str, str]:
    """(the <form> element's attributes, the fields) of a form nobody has filled in."""
    key = (translation.get_language(), locale)
    found = _EMPTY_FORMS.get(key)
    if found is None:
        blank = AppreciationForm(locale=locale, action=action)
        found = (blank.form_tag_attrs(), render_crispy_form(blank, blank.helper))
        _EMPTY_FORMS[key] = found
    return found


def appreciation_widget(
    request: HttpRequest | None,
    article: Article,
    form: AppreciationForm | None = None,
    checkout_error: str = "",
) -> dict:
    """What the widget shows; `form` is a reader's own input to show again (with its errors)."""
    locale = checkout.checkout_locale(translation.get_language())
    action = reverse_memo("payments:appreciate", ref=article.slug)
    cancelled = False
    if form is None:
        initial = {}
        cancelled_id = request.GET.get("cancelled") if request is not None else None
        if cancelled_id:
            previous = checkout.appreciation_for_cancel(article=article, public_id=cancelled_id)
            if previous is not None:
                initial, cancelled = cancelled_initial(previous, locale), True
        if initial:
            form = AppreciationForm(initial=initial, locale=locale, action=action)
    if form is None:
        # Crispy's fields as rendered once; only the nonce and the render time are new.
        form_attrs, fields = _empty_form(locale, action)
        stamps = stamp_inputs(nonce=uuid.uuid4().hex, rendered=rendered_stamp())
    else:
        # A reader's own input (errors, or back from a cancelled checkout): rendered in full.
        form_attrs, fields = form.form_tag_attrs(), render_crispy_form(form, form.helper)
        stamps = form.stamp_inputs()
    count, supporters = _supporters(article)
    return {
        "article": article,
        "form": form,
        "action": action,
        "form_attrs": mark_safe(form_attrs),  # noqa: S308 - crispy's flatatt escapes the values
        "form_fields": fields,
        "form_stamps": stamps,
        "appeal": appeal_text(locale),
        "supporter_count": count,
        "supporter_count_text": ngettext(
            "%(counter)s reader appreciated this article",
            "%(counter)s readers appreciated this article",
            count,
        )
        % {"counter": count},
        "supporters": supporters,
        "cancelled": cancelled,
        "checkout_error": checkout_error,
    }
