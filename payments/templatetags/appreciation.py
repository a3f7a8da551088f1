"""`{% appreciation_widget article %}`: the form, social proof and cancel note at the end of an article.

Query budget on the article page: one COUNT for the supporters, one list of public
supporters only when there are any, and one lookup only when returning from a cancelled
checkout (`?cancelled=<public id>`).
"""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from articles.models import Article
from payments import checkout, money, selectors
from payments.forms import AppreciationForm
from payments.models import Appreciation

register = template.Library()

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


@register.inclusion_tag("payments/widget.html", takes_context=True)
def appreciation_widget(context, article: Article, form: AppreciationForm | None = None) -> dict:
    request = context.get("request")
    locale = checkout.checkout_locale(translation.get_language())
    form = form or context.get("appreciation_form")
    action = reverse("payments:appreciate", kwargs={"ref": article.slug})
    cancelled = False
    if form is None:
        initial = {}
        cancelled_id = request.GET.get("cancelled") if request is not None else None
        if cancelled_id:
            previous = checkout.appreciation_for_cancel(article=article, public_id=cancelled_id)
            if previous is not None:
                initial, cancelled = cancelled_initial(previous, locale), True
        form = AppreciationForm(initial=initial, locale=locale, action=action)
    count = selectors.supporter_count(article=article)
    supporters = list(selectors.public_supporters(article=article)) if count else []
    return {
        "article": article,
        "form": form,
        "appeal": appeal_text(locale),
        "supporter_count": count,
        "supporters": supporters,
        "cancelled": cancelled,
        "checkout_error": context.get("checkout_error", ""),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
