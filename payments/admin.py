"""Appreciations and Stripe events in the author panel: the books are read-only here.

Money and payment fields are never editable by anyone in the admin; they change only
through payments.services, driven by verified Stripe events. The one thing an author may
change is whether a reader's name and message show on the article (hidden_by_author).
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from articles.admin import OwnedModelAdmin
from articles.roles import viewer_of
from payments import services
from payments.models import Appreciation, StripeEvent
from payments.money import format_money

EDITABLE_APPRECIATION_FIELDS = ("hidden_by_author",)


def _money(amount: int | None, currency: str) -> str:
    if amount is None:
        return "–"
    return format_money(amount, currency, get_language() or "nl")


@admin.register(Appreciation)
class AppreciationAdmin(OwnedModelAdmin):
    list_display = [
        "paid_at",
        "article",
        "author",
        "amount_display",
        "fee_display",
        "net_display",
        "status",
        "dispute_status",
        "display_name",
        "message_excerpt",
        "is_public",
        "hidden_by_author",
    ]
    list_select_related = ["article", "author"]
    search_fields = ["display_name", "message", "article__title"]
    date_hierarchy = "paid_at"
    actions = ["hide_from_page", "show_on_page"]

    def get_list_display(self, request: HttpRequest) -> list[str]:
        if viewer_of(request).editor:
            return self.list_display
        return [name for name in self.list_display if name != "author"]

    def get_list_filter(self, request: HttpRequest) -> list:
        common = ["status", "dispute_status", "is_public", "hidden_by_author"]
        # RelatedOnly lists the articles in the user's own queryset, never anyone else's titles.
        article = ("article", admin.RelatedOnlyFieldListFilter)
        if viewer_of(request).editor:
            return [*common, ("author", admin.RelatedOnlyFieldListFilter), article]
        return [*common, article]

    def get_fieldsets(self, request: HttpRequest, obj: Appreciation | None = None):
        fieldsets = [
            (None, {"fields": ["article", "author", "paid_at", "status"]}),
            (
                _("Money"),
                {
                    "fields": [
                        "amount_display",
                        "fee_cover_display",
                        "fee_display",
                        "refunded_display",
                        "dispute_status",
                        "net_display",
                        "currency",
                        "payment_method_type",
                    ]
                },
            ),
            (
                _("Reader"),
                {
                    "fields": ["display_name", "message", "is_public", "locale", "hidden_by_author"],
                    "description": _(
                        "Name and message show on the article only when the reader agreed and "
                        "you did not hide them."
                    ),
                },
            ),
        ]
        if viewer_of(request).editor:
            fieldsets.append(
                (
                    _("Stripe"),
                    {
                        "fields": [
                            "stripe_checkout_session_id",
                            "stripe_payment_intent_id",
                            "stripe_charge_id",
                            "settlement_currency",
                            "created_at",
                            "updated_at",
                            "author_notified_at",
                        ]
                    },
                )
            )
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Appreciation | None = None) -> list[str]:
        names = [name for _title, options in self.get_fieldsets(request, obj) for name in options["fields"]]
        return [name for name in names if name not in EDITABLE_APPRECIATION_FIELDS]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Appreciation | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Appreciation, form, change: bool) -> None:
        # Write only the author's choice: a full save could overwrite payment fields that a
        # webhook changed since this form was loaded.
        services.appreciations_hidden_set(appreciation_ids=[obj.pk], hidden=obj.hidden_by_author)

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.action(description=_("Hide name and message from the article"), permissions=["change"])
    def hide_from_page(self, request: HttpRequest, queryset: QuerySet[Appreciation]) -> None:
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description=_("Show name and message on the article"), permissions=["change"])
    def show_on_page(self, request: HttpRequest, queryset: QuerySet[Appreciation]) -> None:
        self._set_hidden(request, queryset, hidden=False)

    def _set_hidden(self, request: HttpRequest, queryset: QuerySet[Appreciation], *, hidden: bool) -> None:
        # The changelist passes a queryset already narrowed by get_queryset; narrow again anyway.
        own = self.get_queryset(request).filter(pk__in=queryset.values("pk"))
        # The rows as chosen now: the changelist's filters could match another one a moment later.
        chosen = list(own.values_list("pk", flat=True))
        count = services.appreciations_hidden_set(appreciation_ids=chosen, hidden=hidden)
        message = (
            ngettext("%(count)d appreciation hidden.", "%(count)d appreciations hidden.", count)
            if hidden
            else ngettext("%(count)d appreciation shown.", "%(count)d appreciations shown.", count)
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Appreciation) -> str:
        return _money(obj.amount, obj.currency)

    @admin.display(description=_("fee cover"))
    def fee_cover_display(self, obj: Appreciation) -> str:
        return _money(obj.fee_cover_amount, obj.currency)

    @admin.display(description=_("Stripe fee"))
    def fee_display(self, obj: Appreciation) -> str:
        return _money(obj.fee_amount, obj.currency)

    @admin.display(description=_("refunded"))
    def refunded_display(self, obj: Appreciation) -> str:
        return _money(obj.refunded_amount, obj.currency)

    @admin.display(description=_("net"))
    def net_display(self, obj: Appreciation) -> str:
        if obj.status != Appreciation.Status.PAID:
            return "–"
        disputed = (
            obj.amount - obj.refunded_amount
            if obj.dispute_status in (Appreciation.Dispute.OPEN, Appreciation.Dispute.LOST)
            else 0
        )
        return _money(obj.amount - obj.refunded_amount - disputed - (obj.fee_amount or 0), obj.currency)

    @admin.display(description=_("message"))
    def message_excerpt(self, obj: Appreciation) -> str:
        text = obj.message.strip()
        return text if len(text) <= 80 else text[:79] + "…"


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    """Read-only for everyone: the stored events are the evidence of what Stripe told us."""

    list_display = ["stripe_event_id", "type", "created", "outcome", "attempts", "livemode"]
    list_filter = ["outcome", "type", "livemode"]
    search_fields = ["stripe_event_id", "stripe_payment_intent_id"]
    date_hierarchy = "created"

    def get_readonly_fields(self, request: HttpRequest, obj: StripeEvent | None = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: StripeEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StripeEvent | None = None) -> bool:
        return False
