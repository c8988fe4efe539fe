"""The Features pages: the organization's assigned features, the catalog, one feature (its
period, renewals, automatic renewal, next period, cancellation) and a member's access.

Finance reads; owners and admins change; cancelling now with a refund is the owners' (the
service decides, the page offers it only to them). Features are fetched through the
organization: another organization's id is a 404, like a missing one.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from organizations.models import Member
from organizations.roles import ROLE_MATRIX, Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from subscriptions.forms.manage import AccessForm, AutoRenewForm, CancelForm, PeriodForm, When
from subscriptions.models import Plan, Subscription
from subscriptions.selectors.catalog import catalog_for
from subscriptions.selectors.features import (
    feature_counts,
    member_access,
    subscription_list,
    subscription_of,
    subscription_renewals,
)
from subscriptions.services.manage import (
    member_access_set,
    subscription_auto_renew_set,
    subscription_cancel,
    subscription_keep,
    subscription_period_change,
    subscription_refunded,
)

PAGE_SIZE = 50
KIND_ORDER = (Plan.Kind.CALLING, Plan.Kind.NUMBER, Plan.Kind.VOICEMAIL)


def _role(request) -> Role:
    return Role(request.member.role)


def _may(request, url_name: str, method: str = "POST") -> bool:
    return ROLE_MATRIX[url_name].allows(_role(request), method)


def overview(request):
    """The organization's features: live ones (default) or ended ones, 50 a page."""
    status = "ended" if request.GET.get("status") == "ended" else "live"
    page = Paginator(subscription_list(organization=request.org, status=status), PAGE_SIZE)
    return render(
        request,
        "subscriptions/overview.html",
        {
            "page": page.get_page(request.GET.get("page")),
            "status": status,
            "counts": feature_counts(organization=request.org),
            "can_assign": _may(request, "subscriptions:assign", "GET"),
        },
    )


def catalog(request):
    """What can be assigned, with the prices in the organization's currency, by kind."""
    offers = catalog_for(organization=request.org)
    groups = []
    for kind in KIND_ORDER:
        found = [offer for offer in offers if offer.plan.kind == kind]
        if found:
            groups.append({"kind": kind, "label": Plan.Kind(kind).label, "offers": found})
    return render(
        request,
        "subscriptions/catalog.html",
        {
            "groups": groups,
            "periods": (1, 3, 12),
            "can_assign": _may(request, "subscriptions:assign", "GET"),
        },
    )


def _subscription_or_404(request, subscription_id: int):
    found = subscription_of(organization=request.org, subscription_id=subscription_id)
    if found is None:
        raise Http404
    return found


def _detail_url(request, subscription) -> str:
    return reverse(
        "subscriptions:subscription-detail",
        kwargs={"org_slug": request.org.slug, "subscription_id": subscription.pk},
    )


def _periods_sold(request, subscription) -> list[int]:
    offers = catalog_for(organization=request.org, kind=subscription.plan.kind)
    for offer in offers:
        if offer.plan.pk == subscription.plan_id:
            return offer.periods
    return []


@require_http_methods(["GET", "POST"])
def subscription_detail(request, subscription_id: int):
    """One feature. POST `action`: "auto_renew" (on/off), "period" (from the next renewal)
    or "keep" (undo a cancellation at the period end)."""
    subscription = _subscription_or_404(request, subscription_id)
    periods = _periods_sold(request, subscription)
    period_form = PeriodForm(
        initial={"period_months": subscription.next_period_months or subscription.period_months},
        periods=periods,
    )
    if request.method == "POST":
        action = request.POST.get("action")
        arguments = {
            "organization": request.org,
            "actor": request.member,
            "subscription": subscription,
            "ip_address": client_ip(request),
        }
        try:
            if action == "auto_renew":
                form = AutoRenewForm(request.POST)
                if not form.is_valid():
                    raise ApplicationError(_("Choose on or off."))
                on = form.cleaned_data["auto_renew"]
                subscription_auto_renew_set(auto_renew=on, **arguments)
                done = _("It renews automatically.") if on else _("It will not renew.")
            elif action == "period":
                period_form = PeriodForm(request.POST, periods=periods)
                if not period_form.is_valid():
                    raise ApplicationError(period_form.errors["period_months"][0])
                months = period_form.cleaned_data["period_months"]
                subscription_period_change(period_months=months, **arguments)
                done = _("From the next renewal on, it renews for %(months)d months.") % {
                    "months": months
                }
            elif action == "keep":
                subscription_keep(**arguments)
                done = _("The cancellation is undone: it renews at the end of the period.")
            else:
                raise ApplicationError(_("Choose what to change."))
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect(_detail_url(request, subscription))
    return render(
        request,
        "subscriptions/subscription_detail.html",
        {
            "subscription": subscription,
            "renewals": subscription_renewals(organization=request.org, subscription=subscription)[
                :24
            ],
            "refunded": subscription_refunded(organization=request.org, subscription=subscription),
            "period_form": period_form,
            "can_change": _may(request, "subscriptions:subscription-detail"),
            "can_cancel": _may(request, "subscriptions:subscription-cancel"),
        },
    )


@require_http_methods(["GET", "POST"])
def subscription_cancel_view(request, subscription_id: int):
    """GET: ask when the feature ends (at the period end, or now with a refund for owners);
    POST: cancel."""
    subscription = _subscription_or_404(request, subscription_id)
    may_refund = _role(request) == Role.OWNER
    form = CancelForm(request.POST or None, may_refund=may_refund)
    if request.method == "POST" and form.is_valid():
        now = form.cleaned_data["when"] == When.NOW
        already = subscription.status == Subscription.Status.CANCELLED or (
            not now and subscription.cancel_at_period_end
        )
        try:
            subscription = subscription_cancel(
                organization=request.org,
                actor=request.member,
                subscription=subscription,
                now=now,
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            if already:
                messages.info(request, _("This feature was already cancelled."))
            elif now:
                refunded = subscription_refunded(
                    organization=request.org, subscription=subscription
                )
                messages.success(
                    request,
                    _("%(plan)s of %(member)s is cancelled; %(refund)s went back to the company.")
                    % {
                        "plan": subscription.plan.display_name,
                        "member": subscription.member,
                        "refund": refunded,
                    },
                )
            else:
                messages.success(
                    request,
                    _("%(plan)s of %(member)s ends at the end of its period.")
                    % {"plan": subscription.plan.display_name, "member": subscription.member},
                )
        return redirect(_detail_url(request, subscription))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "subscriptions/subscription_cancel.html",
        {"subscription": subscription, "form": form, "may_refund": may_refund},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def member_access_view(request, member_id: int):
    """What a member may use (calls, SMS, numbers, voicemail): finance reads, admins edit."""
    member = get_object_or_404(Member.objects.for_org(request.org), pk=member_id)
    access = member_access(organization=request.org, member=member)
    if request.method == "POST":
        form = AccessForm(request.POST)
        if form.is_valid():
            try:
                member_access_set(
                    organization=request.org,
                    actor=request.member,
                    member=member,
                    ip_address=client_ip(request),
                    **form.cleaned_data,
                )
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, _("Access saved for %(name)s.") % {"name": member})
            return redirect("members:member-detail", org_slug=request.org.slug, member_id=member.pk)
    else:
        form = AccessForm(initial=access.__dict__)
    return render(
        request,
        "subscriptions/member_access.html",
        {
            "subject": member,
            "form": form,
            "access": access,
            "can_change": _may(request, "subscriptions:member-access"),
        },
    )
