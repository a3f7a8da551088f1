"""Reasons and message: a field for the appreciation form, and the form for feedback without paying.

Both post the same <form> in the widget ("Appreciate" or "Send without paying"), so the field
names are shared: `reasons` (codes from feedback.reasons) and `message`.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from feedback.reasons import reason_choices

MESSAGE_MAX_LENGTH = 1000


def reasons_field() -> forms.MultipleChoiceField:
    """The tick boxes; choices are set per language in the form's __init__ (reason_choices)."""
    return forms.MultipleChoiceField(
        label=_("What made it worth it? (optional)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _("Choose from the reasons shown.")},
    )


class FreeFeedbackForm(forms.Form):
    reasons = reasons_field()
    message = forms.CharField(
        label=_("A message for the author (optional)"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The widget's anti-bot fields (payments.forms.AppreciationForm), kept when the form comes
    # back with errors; AppreciationForm.submission_verdict judges them for both buttons.
    rendered = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, locale: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = reason_choices(locale)

    def clean_message(self) -> str:
        from payments.forms import strip_control_characters  # payments.forms imports this module

        return strip_control_characters(self.cleaned_data.get("message", ""), keep_newlines=True).strip()

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and not cleaned.get("reasons") and not cleaned.get("message"):
            raise forms.ValidationError(_("Tick at least one reason or write a message."), code="empty")
        return cleaned
