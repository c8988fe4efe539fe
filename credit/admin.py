"""Platform staff's view of credit, across organizations (organizations.middleware lifts the
tenant scope in the admin). Everything is read-only: money moves only through the services.
The actions: "Confirm bank transfer received" credits a waiting bank transfer once; "Mark the
payment problem as handled" clears a purchase that needs attention (a payment our rules would
not credit); "Correct this transfer" posts a transfer back, with a memo (staff with the right
to add transfers only)."""

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from credit.models import Account, CreditSettings, Purchase, StripeEvent, Transfer
from credit.services.attention import PaymentNotCredited, purchase_attention_clear
from credit.services.corrections import transfer_reverse, transfer_reversed_so_far
from credit.services.purchases import purchase_bank_transfer_confirm
from organizations.admin import ReadOnly
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    pass


def _staff(request) -> str:
    return f"Platform staff ({request.user.get_username()})"


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes: a payment was not credited")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.exclude(attention="")
        if self.value() == "no":
            return queryset.filter(attention="")
        return queryset


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
        "needs_attention",
    )
    list_filter = (NeedsAttentionFilter, "status", "method")
    search_fields = ("number", "reference", "organization__name", "stripe_payment_intent_id")
    list_select_related = ("organization",)
    date_hierarchy = "created_at"
    actions = ["confirm_bank_transfer", "attention_handled"]

    @admin.display(boolean=True, description=_("needs attention"))
    def needs_attention(self, purchase):
        return bool(purchase.attention)

    @admin.action(description=_("Confirm bank transfer received"))
    def confirm_bank_transfer(self, request, queryset):
        confirmed, skipped = 0, 0
        for purchase in queryset.select_related("organization").order_by("pk"):
            try:
                done = purchase_bank_transfer_confirm(
                    purchase=purchase, staff_label=_staff(request)
                )
            except PaymentNotCredited as refused:
                self.message_user(
                    request,
                    _("%(number)s not credited: %(reason)s It is marked as needing attention.")
                    % {"number": purchase.number, "reason": refused.message},
                    messages.ERROR,
                )
                continue
            if done:
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

    @admin.action(description=_("Mark the payment problem as handled"))
    def attention_handled(self, request, queryset):
        handled = sum(
            purchase_attention_clear(purchase=purchase, staff_label=_staff(request))
            for purchase in queryset.select_related("organization").order_by("pk")
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d purchase no longer needs attention.",
                "%(count)d purchases no longer need attention.",
                handled,
            )
            % {"count": handled},
            messages.SUCCESS,
        )


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("organization", "kind", "member", "balance", "created_at")
    list_filter = ("kind",)
    search_fields = ("organization__name",)
    list_select_related = ("organization", "member")


class TransferCorrectionForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to give back"),
        required=False,
        min_value=0,
        max_digits=19,
        decimal_places=4,
        help_text=_("Leave empty to reverse all of what is left of the transfer."),
    )
    memo = forms.CharField(
        label=_("Why"),
        max_length=255,
        help_text=_("Kept on the correcting transfer and in the organization's audit log."),
    )
    key = forms.UUIDField(widget=forms.HiddenInput)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "organization", "kind", "amount", "source", "destination", "memo")
    list_filter = ("kind",)
    search_fields = ("organization__name", "idempotency_key", "memo")
    list_select_related = ("organization", "source__member", "destination__member")
    actions = ["correct"]

    def has_correct_permission(self, request) -> bool:
        return request.user.has_perm("credit.add_transfer")

    @admin.action(
        description=_("Correct this transfer (post a transfer back)"), permissions=["correct"]
    )
    def correct(self, request, queryset):
        transfers = list(
            queryset.select_related("organization", "source__member", "destination__member")[:2]
        )
        if len(transfers) != 1:
            self.message_user(request, _("Choose exactly one transfer to correct."), messages.ERROR)
            return None
        [transfer] = transfers
        if "apply" in request.POST:
            form = TransferCorrectionForm(request.POST)
            if form.is_valid():
                try:
                    correction = transfer_reverse(
                        transfer=transfer,
                        amount=form.cleaned_data["amount"],
                        memo=form.cleaned_data["memo"],
                        staff_label=_staff(request),
                        idempotency_key=form.cleaned_data["key"].hex,
                    )
                except ApplicationError as error:
                    form_error(form, error)
                else:
                    self.message_user(
                        request,
                        _("%(amount)s given back from %(source)s to %(destination)s.")
                        % {
                            "amount": correction.amount,
                            "source": correction.source,
                            "destination": correction.destination,
                        },
                        messages.SUCCESS,
                    )
                    return None
        else:
            form = TransferCorrectionForm(initial={"key": uuid.uuid4()})
        return TemplateResponse(
            request,
            "admin/credit/transfer/correct.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Correct a transfer"),
                "opts": self.model._meta,
                "form": form,
                "transfer": transfer,
                "left": transfer.amount - transfer_reversed_so_far(transfer),
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


class StripeEventProblemFilter(admin.SimpleListFilter):
    title = _("outcome")
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return [
            ("refused", _("Refused by our rules (not credited)")),
            ("failing", _("Failing (Stripe retries)")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "refused":
            return queryset.filter(processed_at__isnull=False).exclude(error="")
        if self.value() == "failing":
            return queryset.filter(processed_at__isnull=True).exclude(error="")
        return queryset


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "type", "event_id", "organization", "processed_at", "error")
    list_filter = (StripeEventProblemFilter, "type")
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
