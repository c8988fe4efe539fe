"""Platform staff's view of credit, across organizations (organizations.middleware lifts the
tenant scope in the admin). Everything is read-only: money moves only through the services.
The one action, "Confirm bank transfer received", credits a waiting bank transfer once."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from credit.models import Account, CreditSettings, Purchase, StripeEvent, Transfer
from credit.services.purchases import purchase_bank_transfer_confirm


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = (
        "number",
        "organization",
        "method",
        "amount",
        "status",
        "reference",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "method")
    search_fields = ("number", "reference", "organization__name", "stripe_payment_intent_id")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"
    actions = ["confirm_bank_transfer"]

    @admin.action(description=_("Confirm bank transfer received"))
    def confirm_bank_transfer(self, request, queryset):
        confirmed, skipped = 0, 0
        staff = f"Platform staff ({request.user.get_username()})"
        for purchase in queryset.select_related("organization").order_by("pk"):
            if purchase_bank_transfer_confirm(purchase=purchase, staff_label=staff):
                confirmed += 1
            else:
                skipped += 1
        if confirmed:
            self.message_user(
                request,
                ngettext(
                    "%(count)d bank transfer confirmed: the credit is added and the owners "
                    "emailed.",
                    "%(count)d bank transfers confirmed: the credit is added and the owners "
                    "emailed.",
                    confirmed,
                )
                % {"count": confirmed},
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d purchase skipped: not a bank transfer waiting for payment.",
                    "%(count)d purchases skipped: not bank transfers waiting for payment.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("organization", "kind", "member", "balance", "created_at")
    list_filter = ("kind",)
    search_fields = ("organization__name",)
    list_select_related = ("organization", "member")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "kind", "amount", "source", "destination", "memo")
    list_filter = ("kind",)
    search_fields = ("organization__name", "idempotency_key", "memo")
    list_select_related = ("organization", "source__member", "destination__member")


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "organization", "processed_at", "error")
    list_filter = ("type",)
    search_fields = ("event_id", "type")


@admin.register(CreditSettings)
class CreditSettingsAdmin(ReadOnlyAdmin):
    list_display = (
        "organization",
        "auto_recharge_enabled",
        "payment_method_label",
        "billing_name",
        "vat_number",
    )
    list_filter = ("auto_recharge_enabled",)
    search_fields = ("organization__name", "billing_name", "vat_number")
    list_select_related = ("organization",)
