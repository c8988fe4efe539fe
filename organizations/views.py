"""Pages for choosing, creating and running an organization.

Views under /o/<slug>/ receive `request.org` and `request.member` from organizations.tenancy;
they validate with a form, call one service or selector, and render or redirect.
"""

from allauth.account.adapter import get_adapter as get_account_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from organizations import selectors, services
from organizations.extensions import home_panels_for, settings_links_for
from organizations.forms import OrganizationForm, OrganizationSettingsForm, time_zones_data
from organizations.models import AUDIT_VERBS
from organizations.roles import Role
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error


def client_ip(request) -> str | None:
    """The visitor's address for the audit log, by the rule the sign-in rate limits use
    (TRUSTED_PROXY_COUNT / TRUSTED_CLIENT_IP_HEADER): one address per person, proxy or not."""
    try:
        return get_account_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return None


def landing(request):
    return render(request, "organizations/landing.html")


@login_required
def organization_choose(request):
    memberships = selectors.memberships_for_user(request.user)
    if len(memberships) == 1 and not request.GET.get("all"):
        return redirect("organizations:home", org_slug=memberships[0].organization.slug)
    if not memberships:
        return redirect("organizations:create")
    return render(request, "organizations/organization_choose.html", {"memberships": memberships})


@login_required
@require_http_methods(["GET", "POST"])
def organization_create(request):
    verified = request.user.has_verified_contact()
    form = OrganizationForm(request.POST or None, initial=_initial_for(request))
    if request.method == "POST" and verified and form.is_valid():
        try:
            organization = services.organization_create(
                user=request.user, ip_address=client_ip(request), **form.cleaned_data
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("Welcome to %(name)s. You are its owner.") % {"name": organization.name},
            )
            return redirect("organizations:home", org_slug=organization.slug)
    return render(
        request,
        "organizations/organization_create.html",
        {"form": form, "verified": verified, "time_zones": time_zones_data()},
    )


def _initial_for(request) -> dict:
    # The time zone is left to follow the country the person picks.
    if request.LANGUAGE_CODE == "fr":
        return {"country": "FR", "currency": "EUR"}
    return {"currency": "EUR"}


def organization_home(request):
    if request.member.role == Role.MEMBER:
        return redirect("dashboard:my-account", org_slug=request.org.slug)
    recent = []
    if Role(request.member.role).at_least(Role.ADMIN):
        recent = selectors.audit_events_recent(request.org)
    return render(
        request,
        "organizations/organization_home.html",
        {
            "recent_events": recent,
            "member_count": selectors.member_count(request.org),
            "home_panels": home_panels_for(request),
        },
    )


@require_http_methods(["GET", "POST"])
def organization_settings(request):
    organization = request.org
    form = OrganizationSettingsForm(
        request.POST or None,
        currency_locked=organization.currency_locked,
        initial={
            "name": organization.name,
            "country": organization.country.code,
            "currency": organization.currency,
            "time_zone": organization.time_zone,
            "invitation_expiry_days": organization.invitation_expiry_days,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.organization_update(
                organization=organization,
                actor=request.member,
                name=data["name"],
                country=data["country"],
                time_zone=data["time_zone"],
                currency=data["currency"],
                invitation_expiry_days=data["invitation_expiry_days"],
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("organizations:settings", org_slug=organization.slug)
    return render(
        request,
        "organizations/organization_settings.html",
        {
            "form": form,
            "time_zones": time_zones_data(),
            "settings_links": settings_links_for(request),
        },
    )


def audit_log(request):
    verb = request.GET.get("verb", "")
    if verb not in AUDIT_VERBS:
        verb = ""
    events = selectors.audit_events_for_org(request.org, verb=verb)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    page.object_list = selectors.audit_events_describe(request.org, page.object_list)
    verb_choices = sorted(
        ((code, str(label)) for code, label in AUDIT_VERBS.items()), key=lambda c: c[1]
    )
    return render(
        request,
        "organizations/audit_log.html",
        {"page": page, "verb": verb, "verb_choices": verb_choices},
    )
