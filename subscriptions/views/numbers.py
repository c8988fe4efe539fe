"""Buying online numbers for members (owners and admins) and following them.

Buy is three steps of one form, like allocation: choose (who, country, area or digits, a
number found or "any", the period), preview (each line, the total, the company balance
after), confirm. The form carries a one-time key: a form sent twice buys once. The search
answers htmx with the numbers Twilio offers (radio buttons the form sends as `number`).
The numbers page shows each number as it is set up (it polls while any is provisioning).
"""

import uuid

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods

from credit.forms.allocation import new_key
from credit.models import Account
from credit.selectors.balances import may_buy
from credit.services.allocation import CompanyBalanceShort
from credit.services.ledger import system_account
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error
from subscriptions.forms.numbers import ANY, NumberBuyForm, NumberSearchForm
from subscriptions.models import Subscription
from subscriptions.selectors.phone import organization_numbers
from subscriptions.services.assign import subscriptions_assign
from subscriptions.services.twilio_numbers import (
    NumberRefused,
    ProviderUnavailable,
    numbers_available,
    numbers_search,
)

START, EDIT, PREVIEW, CONFIRM = "start", "edit", "preview", "confirm"
BUY, BUY_PREVIEW = "subscriptions/number_buy.html", "subscriptions/number_buy_preview.html"
NUMBERS_SHOWN = 200


def _with_key(data):
    try:
        uuid.UUID(str(data.get("idempotency_key", "")))
    except ValueError:
        data = data.copy()
        data["idempotency_key"] = new_key()
    return data


def _hidden_fields(form) -> list[tuple[str, str]]:
    pairs = []
    for name in [*form.fields, "member_q"]:
        for value in form.data.getlist(form.add_prefix(name)):
            pairs.append((form.add_prefix(name), value))
    return pairs


@require_http_methods(["GET", "POST"])
def number_buy(request):
    """Give members an online number: choose, preview, confirm."""
    organization = request.org
    if request.method == "GET":
        members = [value for value in request.GET.getlist("members") if value.isdigit()]
        form = NumberBuyForm(
            organization=organization,
            initial={"idempotency_key": new_key(), "members": members, "number": ANY},
        )
        return render(request, BUY, {"form": form, "unavailable": not numbers_available()})
    step = request.POST.get("step", PREVIEW)
    data = _with_key(request.POST)
    if data is not request.POST and step == CONFIRM:
        # The form came without its key (expired, tampered): show the check again, with a
        # fresh key, rather than buy on a key nobody saw.
        step = PREVIEW
    form = NumberBuyForm(data, organization=organization)
    if step == EDIT or not form.is_valid():
        return render(request, BUY, {"form": form})
    data = form.cleaned_data
    offer = form.offer
    price = offer.prices[data["period"]]
    targets = data["targets"]
    total = price * len(targets)
    company = system_account(organization, Account.Kind.ORGANIZATION)
    balance = Account.objects.for_org(organization).get(pk=company.pk).balance
    preview = {
        "form": form,
        "plan": offer.plan,
        "price": price,
        "targets": targets,
        "total": total,
        "balance": balance,
        "after": balance - total,
        "missing": total - balance if total > balance else None,
        "hidden_fields": _hidden_fields(form),
        "may_buy": may_buy(organization=organization, member=request.member),
    }
    if step != CONFIRM:
        return render(request, BUY_PREVIEW, preview)
    try:
        assignment = subscriptions_assign(
            organization=organization,
            actor=request.member,
            members=targets,
            plan=offer.plan,
            period_months=data["period"],
            form_key=form.key,
            number_country=data["country"],
            number_area=data["area"],
            number_requested=form.number_requested,
            ip_address=client_ip(request),
        )
    except CompanyBalanceShort as short:
        preview.update(
            missing=short.missing,
            recharge_started=getattr(short, "recharge_started", False),
            refused=short.message,
        )
        return render(request, BUY_PREVIEW, preview)
    except ApplicationError as error:
        form_error(form, error)
        return render(request, BUY, {"form": form})
    if assignment.replayed:
        messages.info(request, _("These numbers were already bought; nothing was charged again."))
    else:
        messages.success(
            request,
            ngettext(
                "A number is being set up for %(count)d member (%(total)s charged).",
                "Numbers are being set up for %(count)d members (%(total)s charged).",
                len(assignment.subscriptions),
            )
            % {"count": len(assignment.subscriptions), "total": assignment.total},
        )
    return redirect("subscriptions:number-list", org_slug=organization.slug)


@require_GET
def number_search(request):
    """The numbers Twilio offers for a country and an area or digits (an htmx fragment, or
    a page without JavaScript)."""
    form = NumberSearchForm(request.GET, organization=request.org)
    found, problem = [], ""
    if not numbers_available():
        problem = _(
            "Online numbers cannot be bought on this server: no telephony provider is set up."
        )
    elif form.is_valid():
        try:
            found = numbers_search(
                country=form.cleaned_data["country"],
                area_code=form.cleaned_data["area"],
                contains=form.cleaned_data["contains"],
            )
        except NumberRefused:
            problem = _("No numbers match this search. Try another area or fewer digits.")
        except ProviderUnavailable:
            problem = _("The number provider cannot be reached now. Try again in a moment.")
    else:
        problem = " ".join(" ".join(errors) for errors in form.errors.values())
    context = {
        "form": form,
        "found": found,
        "problem": problem,
        "chosen": request.GET.get("number"),
    }
    template = "subscriptions/_number_search_results.html"
    if not request.htmx:
        template = "subscriptions/number_search.html"
    return render(request, template, context)


@require_GET
def number_list(request):
    """The organization's numbers and how each is doing; refreshed while any is set up."""
    numbers = list(organization_numbers(organization=request.org)[:NUMBERS_SHOWN])
    context = {
        "numbers": numbers,
        "provisioning": any(n.status == Subscription.Status.PROVISIONING for n in numbers),
    }
    if request.htmx:
        return render(request, "subscriptions/_number_rows.html", context)
    return render(request, "subscriptions/number_list.html", context)
