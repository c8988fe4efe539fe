"""Buying credit and what follows: the buy page, the return from Stripe (which waits for the
webhook and never credits), the purchase history and receipts, the company auto-recharge, the
saved payment method, and the credit settings.

Who may do what: the role matrix (organizations.roles) lets finance open these pages; buying
also needs `may_buy` (owners, and the finance members an owner allowed); the others see
a page saying who can buy. Auto-recharge, the payment method and the settings are the owners'
to change; finance reads them.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from credit.forms.purchases import (
    AutoRechargeForm,
    BuyForm,
    CreditSettingsForm,
    PaymentMethodForm,
    PurchaseFilterForm,
    new_form_key,
)
from credit.models import Purchase
from credit.selectors.balances import may_buy
from credit.selectors.ledger import organization_balances
from credit.selectors.purchases import bank_transfer_details, purchasers_of, purchases_filtered
from credit.selectors.settings import credit_purchasers, credit_settings
from credit.services import receipts
from credit.services import settings as settings_services
from credit.services.auto_recharge import auto_recharged_this_month
from credit.services.purchases import purchase_limits
from credit.services.stripe_gateway import (
    StripeUnavailable,
    checkout_origins,
    payment_method_setup_start,
    purchase_checkout_start,
    stripe_configured,
)
from organizations.roles import Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error

PAGE_SIZE = 25


def _is_owner(request) -> bool:
    return request.member.role == Role.OWNER


def _url(request, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": request.org.slug, **kwargs})


def _posted(request):
    return request.POST if request.method == "POST" else None


def _owners_form(request, form, *, save, message: str, url_name: str):
    """A settings form only owners change: saved through the service `save` on a valid POST
    (then a redirect to `url_name`), shown read-only to the others. Returns (form, redirect
    or None)."""
    if request.method == "POST" and form.is_valid():
        try:
            save(
                organization=request.org,
                actor=request.member,
                ip_address=client_ip(request),
                **form.cleaned_data,
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(request, message)
            return form, redirect(_url(request, url_name))
    if not _is_owner(request):
        for field in form.fields.values():
            field.disabled = True
    return form, None


def _see_other(url: str) -> HttpResponseRedirect:
    """303: after a POST, the browser GETs Stripe's page."""
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def _allow_checkout_redirect(request, response):
    """A form whose answer redirects to Stripe's page: the CSP's form-action must allow it
    (browsers check the redirect of a form submission too)."""
    from django.conf import settings

    policy = dict(settings.SECURE_CSP)
    policy["form-action"] = [CSP.SELF, *checkout_origins()]
    response._csp_config = policy
    return response


def _purchase_or_404(request, purchase_id: int) -> Purchase:
    return get_object_or_404(
        Purchase.objects.for_org(request.org).select_related("created_by"), pk=purchase_id
    )


# --- Buying --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def buy(request):
    organization = request.org
    if not may_buy(organization=organization, member=request.member):
        return render(
            request,
            "credit/buy_denied.html",
            {
                "purchasers": purchasers_of(organization),
                "is_finance": request.member.role == Role.FINANCE,
            },
        )
    form = BuyForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            start = purchase_checkout_start(
                organization=organization,
                actor=request.member,
                method=data["method"],
                amount=data["amount"],
                enable_auto_recharge=data["auto_recharge"],
                form_key=data["idempotency_key"],
                success_url=lambda purchase: request.build_absolute_uri(
                    _url(request, "credit:purchase-return", purchase_id=purchase.pk)
                ),
                cancel_url=lambda purchase: request.build_absolute_uri(
                    _url(request, "credit:buy") + f"?canceled={purchase.pk}"
                ),
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            fallback = form.field_for_amount_error() if error.field == "amount" else None
            form_error(form, error, fallback=fallback)
            if error.code == StripeUnavailable.code:
                # That purchase failed: sending the form again starts a new one.
                form.data = form.data.copy()
                form.data["idempotency_key"] = new_form_key()
        else:
            if start.redirect_url:
                return _see_other(start.redirect_url)
            if start.purchase.method == Purchase.Method.BANK_TRANSFER and not start.repeated:
                messages.success(
                    request,
                    _("Purchase %(number)s recorded. Pay it by bank transfer as shown below.")
                    % {"number": start.purchase.number},
                )
            return redirect(_url(request, "credit:purchase-detail", purchase_id=start.purchase.pk))
    smallest, largest = purchase_limits(organization)
    canceled = None
    if request.method == "GET" and request.GET.get("canceled", "").isdigit():
        canceled = (
            Purchase.objects.for_org(organization)
            .filter(pk=int(request.GET["canceled"][:18]))
            .first()
        )
    response = render(
        request,
        "credit/buy.html",
        {
            "form": form,
            "smallest": smallest,
            "largest": largest,
            "stripe_ready": stripe_configured(),
            "canceled": canceled,
            "balances": organization_balances(organization),
            "settings_row": credit_settings(organization),
        },
    )
    return _allow_checkout_redirect(request, response)


# --- After paying --------------------------------------------------------------------------


@require_GET
def purchase_return(request, purchase_id: int):
    """Where Stripe sends the payer back: waits for the webhook, shows the outcome."""
    purchase = _purchase_or_404(request, purchase_id)
    if purchase.method == Purchase.Method.BANK_TRANSFER:
        return redirect(_url(request, "credit:purchase-detail", purchase_id=purchase.pk))
    return render(request, "credit/purchase_return.html", _status_context(request, purchase))


@require_GET
def purchase_status(request, purchase_id: int):
    """The live part of the return page and of a bank transfer's page: htmx polls it (every
    2 seconds for a card, 10 for a bank transfer) until the purchase settles."""
    purchase = _purchase_or_404(request, purchase_id)
    context = {**_status_context(request, purchase), "live": True}
    return render(request, "credit/purchase_return.html#status", context)


def _status_context(request, purchase: Purchase) -> dict:
    settled = purchase.status not in Purchase.IN_FLIGHT
    bank_waiting = purchase.method == Purchase.Method.BANK_TRANSFER and not settled
    return {
        "purchase": purchase,
        "settled": settled,
        "balances": organization_balances(request.org) if settled else None,
        "bank": bank_transfer_details() if bank_waiting else None,
        "can_buy": may_buy(organization=request.org, member=request.member),
        "can_allocate": Role(request.member.role).at_least(Role.ADMIN),
    }


# --- History and receipts ------------------------------------------------------------------


@require_GET
def purchase_list(request):
    filters = PurchaseFilterForm(request.GET or None)
    status = method = ""
    if filters.is_valid():
        status = filters.cleaned_data["status"]
        method = filters.cleaned_data["method"]
    purchases = purchases_filtered(organization=request.org, status=status, method=method)
    return render(
        request,
        "credit/purchase_list.html",
        {
            "filters": filters,
            "filtered": bool(status or method),
            "page": Paginator(purchases, PAGE_SIZE).get_page(request.GET.get("page")),
            "can_buy": may_buy(organization=request.org, member=request.member),
        },
    )


@require_GET
def purchase_detail(request, purchase_id: int):
    purchase = _purchase_or_404(request, purchase_id)
    waiting_bank = (
        purchase.method == Purchase.Method.BANK_TRANSFER and purchase.status in Purchase.IN_FLIGHT
    )
    return render(
        request,
        "credit/purchase_detail.html",
        {
            "purchase": purchase,
            "receipt": receipts.receipt_of(purchase)
            if receipts.receipt_available(purchase)
            else None,
            "bank": bank_transfer_details() if waiting_bank else None,
            "waiting_bank": waiting_bank,
            "can_buy": may_buy(organization=request.org, member=request.member),
            "can_allocate": Role(request.member.role).at_least(Role.ADMIN),
        },
    )


@require_GET
def receipt_pdf(request, purchase_id: int):
    purchase = _purchase_or_404(request, purchase_id)
    if not receipts.receipt_available(purchase):
        messages.info(request, _("There is no receipt until the purchase is paid."))
        return redirect(_url(request, "credit:purchase-detail", purchase_id=purchase.pk))
    pdf = receipts.receipt_pdf(purchase=purchase)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"receipt-{purchase.number}.pdf"
    disposition = "inline" if request.GET.get("view") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


# --- Company auto-recharge and its payment method ------------------------------------------


@require_http_methods(["GET", "POST"])
def auto_recharge(request):
    organization = request.org
    row = credit_settings(organization)
    initial = {
        "enabled": row.auto_recharge_enabled,
        "threshold": row.auto_recharge_threshold,
        "amount": row.auto_recharge_amount,
        "monthly_max": row.auto_recharge_monthly_max,
    }
    can_edit = _is_owner(request)
    form, saved = _owners_form(
        request,
        AutoRechargeForm(_posted(request), initial=initial, organization=organization),
        save=settings_services.auto_recharge_update,
        message=_("Automatic recharge saved."),
        url_name="credit:auto-recharge",
    )
    if saved:
        return saved
    smallest, largest = purchase_limits(organization)
    return render(
        request,
        "credit/auto_recharge.html",
        {
            "form": form,
            "settings_row": row,
            "can_edit": can_edit,
            "this_month": auto_recharged_this_month(organization),
            "smallest": smallest,
            "largest": largest,
            "recent": purchases_filtered(
                organization=organization, method=Purchase.Method.AUTO_RECHARGE
            )[:5],
            "stripe_ready": stripe_configured(),
        },
    )


@require_http_methods(["GET", "POST"])
def payment_method(request):
    """The saved payment method, and a button to replace it through Stripe (setup mode)."""
    organization = request.org
    form = PaymentMethodForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and stripe_configured():
        try:
            url = payment_method_setup_start(
                organization=organization,
                actor=request.member,
                form_key=form.cleaned_data["idempotency_key"],
                success_url=request.build_absolute_uri(
                    _url(request, "credit:payment-method") + "?saved=1"
                ),
                cancel_url=request.build_absolute_uri(_url(request, "credit:payment-method")),
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            return _see_other(url)
    response = render(
        request,
        "credit/payment_method.html",
        {
            "form": form,
            "settings_row": credit_settings(organization),
            "stripe_ready": stripe_configured(),
            "just_saved": request.GET.get("saved") == "1",
        },
    )
    return _allow_checkout_redirect(request, response)


# --- Credit settings -----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def credit_settings_view(request):
    organization = request.org
    row = credit_settings(organization)
    can_edit = _is_owner(request)
    initial = {
        "billing_name": row.billing_name,
        "billing_address": row.billing_address,
        "vat_number": row.vat_number,
        "purchasers": list(credit_purchasers(organization)),
        "low_balance_warning": row.low_balance_warning,
    }
    form, saved = _owners_form(
        request,
        CreditSettingsForm(_posted(request), initial=initial, organization=organization),
        save=settings_services.credit_settings_update,
        message=_("Credit settings saved."),
        url_name="credit:settings",
    )
    if saved:
        return saved
    return render(
        request,
        "credit/settings.html",
        {
            "form": form,
            "can_edit": can_edit,
            "has_finance": form.fields["purchasers"].queryset.exists(),
        },
    )
