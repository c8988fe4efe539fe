"""Assigning a calling or voicemail plan to members (owners and admins).

Three steps, each a POST of the same form, as allocating credit: choose (whom, which plan, which
period), preview (each member and price, the total, the company balance after; who is left out
and why), confirm. The form carries a one-time key made when it is first shown: the service
assigns once per key, so a form sent twice charges once and the second confirmation says it
was already done. The directory's bulk bar and a member's page post or link `members=<id>`.
"""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from credit.selectors.balances import credit_target_members, may_buy
from credit.services.allocation import CompanyBalanceShort
from credit.views.allocation import CONFIRM, EDIT, START, _hidden_fields, _target_form
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from subscriptions.forms.assign import AssignForm
from subscriptions.selectors.assign import assign_preview
from subscriptions.selectors.features import assigned_with_form_key
from subscriptions.services.assign import subscriptions_assign

FORM, PREVIEW_PAGE = "subscriptions/subscription_assign.html", "subscriptions/assign_preview.html"


def _preview(request, form, plan, **extra):
    return render(
        request,
        PREVIEW_PAGE,
        {
            "form": form,
            "plan": plan,
            "hidden_fields": _hidden_fields(form),
            "may_buy": may_buy(organization=request.org, member=request.member),
            **extra,
        },
    )


@require_http_methods(["GET", "POST"])
def assign(request):
    """Assign a plan: choose, preview, confirm (see the module's docstring)."""
    form, step = _target_form(request, AssignForm)
    if step in (START, EDIT) or not form.is_valid():
        return render(request, FORM, {"form": form})
    data = form.cleaned_data
    offer = form.offer
    months = data["period_months"]
    members = credit_target_members(
        organization=request.org,
        target=data["target"],
        members=data.get("members") or (),
        member_list=data.get("member_list"),
    )
    plan = assign_preview(
        organization=request.org,
        members=members,
        plan=offer.plan,
        period_months=months,
        price=offer.prices[months],
    )
    if step == CONFIRM:
        if assigned_with_form_key(organization=request.org, form_key=form.key):
            return _assigned_before(request)
        if data.get("expected") != plan.fingerprint:
            # Someone joined, left or got the feature since the preview: show it as it is now.
            return _preview(request, form, plan, changed=True)
        try:
            done = subscriptions_assign(
                organization=request.org,
                actor=request.member,
                members=plan.members,
                plan=offer.plan,
                period_months=months,
                form_key=form.key,
                ip_address=client_ip(request),
            )
        except CompanyBalanceShort as short:
            return _preview(request, form, plan, short=short)
        except ApplicationError as error:
            form.add_error(None, error.message)
            return render(request, FORM, {"form": form, "left_out": plan.left_out})
        if done.replayed:
            return _assigned_before(request)
        count = len(done.subscriptions)
        messages.success(
            request,
            ngettext(
                "%(plan)s assigned to %(count)d member (%(total)s charged).",
                "%(plan)s assigned to %(count)d members (%(total)s charged).",
                count,
            )
            % {"plan": offer.plan.display_name, "count": count, "total": done.total},
        )
        return redirect("subscriptions:overview", org_slug=request.org.slug)
    if not plan.lines:
        form.add_error(None, _("None of these people can receive this feature."))
        return render(request, FORM, {"form": form, "left_out": plan.left_out})
    return _preview(request, form, plan)


def _assigned_before(request):
    messages.info(request, _("This was already assigned; each feature was charged once."))
    return redirect("subscriptions:overview", org_slug=request.org.slug)
