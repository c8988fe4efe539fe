"""The usage pages: a member's own calls and messages ("My usage"), the same table for one
member as finance, admins and owners read it, and the usage settings (owners change them;
admins and finance read them)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from credit.selectors.balances import member_credit
from organizations.models import Member
from organizations.roles import Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error
from usage.forms.settings import UsageSettingsForm
from usage.forms.usage import UsageFilterForm
from usage.selectors.usage import member_usage, member_usage_summary, minutes_left
from usage.services.settings import usage_settings, usage_settings_update


def _page(request, subject: Member) -> dict:
    form = UsageFilterForm(request.GET)
    form.is_valid()
    page = member_usage(
        organization=request.org,
        member=subject,
        viewer=request.member,
        **form.filters(),
        **form.position(),
    )
    return {
        "subject": subject,
        "form": form,
        "usage": page,
        "is_filtered": form.is_filtered(),
        "filter_query": form.filter_query(),
        "summary": member_usage_summary(organization=request.org, member=subject),
        "minutes": minutes_left(organization=request.org, member=subject),
        "credit": member_credit(organization=request.org, member=subject),
    }


def my_usage(request):
    """The member's own calls and messages, 25 a page, by kind and month."""
    return render(request, "usage/my_usage.html", _page(request, request.member))


def member_usage_view(request, member_id: int):
    """One member's calls and messages, as finance, admins and owners read them."""
    subject = get_object_or_404(Member.objects.for_org(request.org), pk=member_id)
    return render(request, "usage/member_usage.html", _page(request, subject))


@require_http_methods(["GET", "POST"])
def usage_settings_view(request):
    organization = request.org
    row = usage_settings(organization)
    can_edit = request.member.role == Role.OWNER
    form = UsageSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "mask_destinations": row.mask_destinations,
            "unusual_spend_factor": row.unusual_spend_factor,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            usage_settings_update(
                organization=organization,
                actor=request.member,
                ip_address=client_ip(request),
                **form.cleaned_data,
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Usage settings saved."))
            return redirect("usage:settings", org_slug=organization.slug)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    return render(request, "usage/usage_settings.html", {"form": form, "can_edit": can_edit})
