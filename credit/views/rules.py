"""The credit rules page: the rules with their last runs and this month's automatic recharges,
a form to add a rule, pausing and resuming; and deleting a rule (after a confirmation page).
Finance reads; owners and admins change.

Services are called through their module: the view `rule_delete`, a name the URL map fixes,
stands beside the service `credit_rule_delete`.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit.forms.rules import CreditRuleActiveForm, CreditRuleForm
from credit.models import CreditRule
from credit.selectors.rules import credit_rules_overview
from credit.services import rules as services
from organizations.roles import Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error

RECHARGES_PAGE_SIZE = 50


def _can_manage(request) -> bool:
    return Role(request.member.role).at_least(Role.ADMIN)


def _render_list(request, form=None):
    can_manage = _can_manage(request)
    if can_manage and form is None:
        form = CreditRuleForm(organization=request.org)
    overview = credit_rules_overview(organization=request.org)
    return render(
        request,
        "credit/rule_list.html",
        {
            "overview": overview,
            "page": Paginator(overview.recharges, RECHARGES_PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            "form": form if can_manage else None,
            "can_manage": can_manage,
        },
    )


@require_http_methods(["GET", "POST"])
def rule_list(request):
    """GET: the rules. POST `action`: "create" (the form) or "active" (pause or resume)."""
    if request.method == "GET":
        return _render_list(request)
    if request.POST.get("action") == "active":
        return _set_active(request)
    form = CreditRuleForm(request.POST, organization=request.org)
    if not form.is_valid():
        return _render_list(request, form)
    data = form.cleaned_data
    try:
        rule = services.credit_rule_create(
            organization=request.org,
            actor=request.member,
            kind=data["kind"],
            target=data["target"],
            member=data.get("member"),
            member_list=data.get("member_list"),
            amount=data["amount"],
            threshold=data.get("threshold"),
            monthly_max=data.get("monthly_max"),
            start=data.get("start") or services.Start.THIS_MONTH,
            idempotency_key=data["idempotency_key"],
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        form_error(form, error)
        return _render_list(request, form)
    if rule.kind == CreditRule.Kind.AUTO_RECHARGE:
        text = _("Rule added. Balances below the threshold are recharged within a few minutes.")
    elif data.get("start") == services.Start.NEXT_MONTH:
        text = _("Rule added. It gives its first credit on the 1st of next month.")
    else:
        text = _("Rule added. It gives this month's credit within a few minutes.")
    messages.success(request, text)
    return redirect("credit:rule-list", org_slug=request.org.slug)


def _set_active(request):
    form = CreditRuleActiveForm(request.POST, organization=request.org)
    if not form.is_valid():
        messages.error(request, form.errors.get("rule", [_("This rule was not found.")])[0])
        return redirect("credit:rule-list", org_slug=request.org.slug)
    active = form.cleaned_data["active"]
    try:
        services.credit_rule_set_active(
            organization=request.org,
            actor=request.member,
            rule=form.cleaned_data["rule"],
            active=active,
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Rule resumed.") if active else _("Rule paused."))
    return redirect("credit:rule-list", org_slug=request.org.slug)


@require_http_methods(["GET", "POST"])
def rule_delete(request, rule_id: int):
    """GET: confirm; POST: delete the rule. The credit it gave stays with the members."""
    rule = get_object_or_404(
        CreditRule.objects.for_org(request.org).select_related("member", "member_list"),
        pk=rule_id,
    )
    if request.method == "GET":
        return render(request, "credit/rule_delete.html", {"rule": rule})
    try:
        services.credit_rule_delete(
            organization=request.org,
            actor=request.member,
            rule=rule,
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Rule deleted. The credit it gave stays with the members."))
    return redirect("credit:rule-list", org_slug=request.org.slug)
