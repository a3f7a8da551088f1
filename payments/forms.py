"""The appreciation form at the end of an article.

A reader picks a preset (radio buttons, so it works without JavaScript) or types an
own amount, which wins when filled. Amounts are parsed by payments.money and checked
against the configured limits, which never go below what Stripe can charge.
"""

import functools
import re
import time
import unicodedata
import uuid
from dataclasses import dataclass

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Field, Layout, Submit
from crispy_forms.utils import flatatt
from django import forms
from django.conf import settings
from django.core import signing
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from feedback.forms import reasons_field
from feedback.reasons import reason_choices
from payments import money

# The per-form nonce only feeds a hash; anything else is dropped and replaced.
_NONCE = re.compile(r"^[A-Za-z0-9-]{8,64}$")
# Signs the form's render time (the `rendered` field); see AppreciationForm.submission_verdict.
_RENDERED_SALT = "payments.forms.appreciation-rendered"
# Invisible characters that could hide or reorder what an author reads: bidirectional
# overrides and isolates, zero-width joiners are kept (they matter in some scripts).
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def strip_control_characters(text: str, *, keep_newlines: bool) -> str:
    """Reader text without control characters (NUL is refused earlier by Django's validator).

    Tabs become spaces, line breaks survive only where asked (the message), CR LF becomes LF.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").translate(_BIDI_CONTROLS)
    return "".join(
        char
        for char in text
        if (char == "\n" and keep_newlines) or unicodedata.category(char) not in ("Cc", "Cs")
    )


def stamp_inputs(*, nonce: str, rendered: str) -> str:
    """<input type="hidden"> for the nonce and the render time, as Django's HiddenInput writes them."""
    return format_html(
        '<input type="hidden" name="nonce" value="{}" id="id_nonce">'
        '<input type="hidden" name="rendered" value="{}" id="id_rendered">',
        nonce,
        rendered,
    )


def rendered_stamp(*, now: float | None = None) -> str:
    """A signed render time for the form; cached pages carry their cache-fill time (only older)."""
    return _signed_second(int(time.time() if now is None else now), settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _signed_second(second: int, secret_key: str) -> str:
    # The pages rendered in one second share their stamp, signed once; the key is part of the
    # memo's key only, signing reads it itself.
    return signing.dumps(second, salt=_RENDERED_SALT)


class Verdict:
    """What submission_verdict found: fine, a bot to answer silently, or a form to render again."""

    OK = "ok"
    BOT = "bot"
    STALE = "stale"


@dataclass(frozen=True)
class AmountLimits:
    """What the widget accepts, in minor units of `currency`, plus the fee estimate."""

    currency: str
    minimum: int
    maximum: int
    presets: tuple[int, ...]
    fee_percent_bp: int
    fee_fixed: int

    @classmethod
    def from_settings(cls) -> "AmountLimits":
        currency = settings.APPRECIATION_CURRENCY
        return cls(
            currency=currency,
            minimum=money.minimum_amount(currency, settings.APPRECIATION_MIN_AMOUNT),
            maximum=min(settings.APPRECIATION_MAX_AMOUNT, money.STRIPE_MAXIMUM),
            presets=tuple(settings.APPRECIATION_PRESETS),
            fee_percent_bp=settings.APPRECIATION_FEE_PERCENT_BP,
            fee_fixed=settings.APPRECIATION_FEE_FIXED,
        )

    def fee_cover(self, amount: int) -> int:
        return money.fee_cover(amount, percent_bp=self.fee_percent_bp, fixed=self.fee_fixed)


class AppreciationForm(forms.Form):
    preset = forms.TypedChoiceField(
        label=_("Choose an amount"), coerce=int, required=False, widget=forms.RadioSelect, empty_value=None
    )
    amount = forms.CharField(
        label=_("My chosen appreciation"),
        required=False,
        max_length=32,
        help_text=_("Or type your own amount, such as 4 or 2,50."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 8}),
    )
    cover_fee = forms.BooleanField(label=_("Add the payment costs"), required=False)
    display_name = forms.CharField(
        label=_("Your name (optional)"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    reasons = reasons_field()
    message = forms.CharField(
        label=_("A message for the author (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    is_public = forms.BooleanField(label=_("Show my name and message publicly"), required=False)
    nonce = forms.CharField(required=False, widget=forms.HiddenInput)
    # Filled by the widget script per visitor (a cached page gives everyone the same `nonce`);
    # only this one lets a repeated submission reuse the pending record (payments.checkout).
    client_nonce = forms.CharField(required=False, widget=forms.HiddenInput)
    # Anti-bot: `rendered` is the signed render time, `website` a honeypot people never see.
    rendered = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, locale: str, action: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.locale = locale
        self.limits = AmountLimits.from_settings()
        self.fields["preset"].choices = [
            (amount, money.format_money(amount, self.limits.currency, locale))
            for amount in self.limits.presets
        ]
        self.fields["reasons"].choices = reason_choices(locale)
        if not self.is_bound and not self.initial.get("nonce"):
            self.initial["nonce"] = uuid.uuid4().hex
        if not self.is_bound:
            self.initial["rendered"] = rendered_stamp()
        chosen = self.chosen_amount()
        if chosen:
            self.fields["cover_fee"].label = self.fee_label(self.format(self.limits.fee_cover(chosen)))
        self.fields["cover_fee"].help_text = self.fee_explanation()
        self.helper = self._helper(action)

    def format(self, amount: int) -> str:
        return money.format_money(amount, self.limits.currency, self.locale)

    def minimum_message(self) -> str:
        return _("The minimum is %(minimum)s.") % {"minimum": self.format(self.limits.minimum)}

    def maximum_message(self) -> str:
        return _("The maximum is %(maximum)s.") % {"maximum": self.format(self.limits.maximum)}

    @staticmethod
    def fee_label(fee: str) -> str:
        return _("Add %(fee)s to cover the payment costs") % {"fee": fee}

    def chosen_amount(self) -> int | None:
        """The amount the form currently shows (typed, preset or initial), if it reads as one."""
        source = self.data if self.is_bound else self.initial
        typed = str(source.get("amount") or "").strip()
        try:
            if typed:
                return money.parse_amount(typed, self.limits.currency)
            return int(source.get("preset") or 0) or None
        except (money.AmountError, ValueError):
            return None

    def fee_explanation(self) -> str:
        """Without JavaScript the reader still sees what covering the costs adds to each preset."""
        examples = ", ".join(
            f"{self.format(amount)} + {self.format(self.limits.fee_cover(amount))}"
            for amount in self.limits.presets
        )
        return _("Payments cost us about %(percent)s%% + %(fixed)s. For example: %(examples)s.") % {
            "percent": _percent(self.limits.fee_percent_bp, self.locale),
            "fixed": self.format(self.limits.fee_fixed),
            "examples": examples,
        }

    def form_tag_attrs(self) -> str:
        """The <form> element's attributes but its action, as crispy would write them. The
        element itself is in payments/widget.html: the fields crispy renders for an empty form
        are the same on every article, so the widget renders them once per language."""
        helper = self.helper
        return flatatt({**helper.attrs, "id": helper.form_id, "class": helper.form_class})

    def stamp_inputs(self) -> str:
        """The two hidden inputs that differ per render: the nonce and the signed render time."""
        return stamp_inputs(nonce=self["nonce"].value() or "", rendered=self["rendered"].value() or "")

    def _helper(self, action: str) -> FormHelper:
        helper = FormHelper()
        # The <form> element, the nonce and the render time are written by payments/widget.html.
        helper.form_tag = False
        helper.form_action = action
        helper.form_method = "post"
        helper.form_class = "appreciation-form"
        helper.form_id = "appreciation-form"
        # No CSRF token: article pages are cached and cookie-less; the endpoint checks the
        # request's origin instead (payments.security.same_origin_required).
        helper.disable_csrf = True
        helper.attrs = {
            "novalidate": "",
            "data-currency": self.limits.currency,
            "data-locale": self.locale,
            "data-min": str(self.limits.minimum),
            "data-max": str(self.limits.maximum),
            "data-fee-bp": str(self.limits.fee_percent_bp),
            "data-fee-fixed": str(self.limits.fee_fixed),
            "data-digits": str(money.exponent(self.limits.currency)),
            "data-fee-label": self.fee_label("{fee}"),
            "data-total-label": _("You pay %(total)s in total.") % {"total": "{total}"},
            # The same messages the server gives, for checking as the reader types.
            "data-msg-empty": _("Choose an amount or enter your own."),
            "data-msg-invalid": _("Enter an amount such as 5 or 2,50."),
            "data-msg-ambiguous": _("Write the amount without a thousands separator, such as 1000 or 2,50."),
            "data-msg-decimals": _("Use at most two decimals."),
            "data-msg-min": self.minimum_message(),
            "data-msg-max": self.maximum_message(),
        }
        helper.layout = Layout(
            Div(
                Field("preset", wrapper_class="appreciation-presets"),
                Field("amount", wrapper_class="appreciation-amount"),
                css_class="appreciation-choice",
            ),
            Field("cover_fee", wrapper_class="appreciation-fee"),
            Div(
                Field("reasons", wrapper_class="appreciation-reasons"),
                Field("display_name"),
                Field("message"),
                Field("is_public"),
                css_class="appreciation-extra",
            ),
            "client_nonce",
            # Off-screen (widget.css), skipped by Tab and hidden from screen readers; bots fill it.
            Div(Field("website"), css_class="appreciation-hp", aria_hidden="true"),
            HTML('<p class="appreciation-total" data-total hidden aria-live="polite"></p>'),
            Submit("pay", _("Appreciate"), css_class="appreciation-submit"),
            # "Send without paying" follows in payments/widget.html (its URL names the article).
        )
        return helper

    def clean_nonce(self) -> str:
        nonce = self.cleaned_data.get("nonce") or ""
        return nonce if _NONCE.match(nonce) else uuid.uuid4().hex

    def clean_client_nonce(self) -> str:
        nonce = self.cleaned_data.get("client_nonce") or ""
        return nonce if _NONCE.match(nonce) else ""

    def clean_display_name(self) -> str:
        name = strip_control_characters(self.cleaned_data.get("display_name", ""), keep_newlines=False)
        return " ".join(name.split())

    def clean_message(self) -> str:
        message = strip_control_characters(self.cleaned_data.get("message", ""), keep_newlines=True)
        return message.strip()

    def submission_verdict(self) -> str:
        """Honeypot and minimum fill-in time, checked before anything else.

        A filled honeypot, a missing render time or a submit faster than
        APPRECIATION_MIN_SUBMIT_SECONDS is a bot: answered as if fine, nothing created. A
        render time older than APPRECIATION_FORM_MAX_AGE, or not signed by us (e.g. after a
        key change), is a person with an old page: shown the form again with a fresh time.
        """
        if str(self.data.get("website") or "").strip():
            return Verdict.BOT
        minimum = settings.APPRECIATION_MIN_SUBMIT_SECONDS
        token = str(self.data.get("rendered") or "")
        if not token:
            return Verdict.BOT if minimum > 0 else Verdict.OK
        try:
            rendered_at = signing.loads(token, salt=_RENDERED_SALT)
        except signing.BadSignature:
            return Verdict.STALE
        if not isinstance(rendered_at, int):
            return Verdict.STALE
        age = time.time() - rendered_at
        if age < minimum:
            return Verdict.BOT
        if age > settings.APPRECIATION_FORM_MAX_AGE:
            return Verdict.STALE
        return Verdict.OK

    def renew_rendered(self) -> None:
        """Give a stale form a fresh render time, backdated by the minimum: the reader already
        spent longer than that on the page, so pressing the button again at once is fine."""
        data = self.data.copy()
        data["rendered"] = rendered_stamp(now=time.time() - settings.APPRECIATION_MIN_SUBMIT_SECONDS)
        self.data = data

    def clean(self) -> dict:
        cleaned = super().clean()
        typed = (cleaned.get("amount") or "").strip()
        preset = cleaned.get("preset")
        if typed and "preset" in self._errors:
            # The own amount wins; a stale or odd preset value does not matter then.
            del self._errors["preset"]
        if "preset" in self._errors:
            return cleaned
        if typed:
            try:
                value = money.parse_amount(typed, self.limits.currency)
            except money.AmountError as exc:
                self.add_error("amount", exc.message)
                return cleaned
        elif preset is not None:
            value = preset
        else:
            self.add_error("amount", _("Choose an amount or enter your own."))
            return cleaned
        if value < self.limits.minimum:
            self.add_error("amount", self.minimum_message())
            return cleaned
        if value > self.limits.maximum:
            self.add_error("amount", self.maximum_message())
            return cleaned
        fee = self.limits.fee_cover(value) if cleaned.get("cover_fee") else 0
        if value + fee > money.STRIPE_MAXIMUM:
            fee = 0
        cleaned["base_amount"] = value
        cleaned["fee_cover_amount"] = fee
        cleaned["total_amount"] = value + fee
        return cleaned


def _percent(basis_points: int, locale: str) -> str:
    whole, rest = divmod(basis_points, 100)
    if not rest:
        return str(whole)
    separator = "," if locale.startswith("nl") else "."
    return f"{whole}{separator}{rest:02d}".rstrip("0")
