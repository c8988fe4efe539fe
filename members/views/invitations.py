"""Inviting people and following invitations (under /o/<slug>/), and the pages an invitation
link leads to (public): see the invitation, prove the number, sign up or sign in, answer."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from members.forms.invitations import (
    CodeForm,
    InvitationFilterForm,
    InvitationSignupForm,
    InviteForm,
)
from members.models import Invitation
from members.selectors.invitations import (
    delivery_label,
    invitation_allowance,
    invitations_for_org,
)
from members.services import invitations as service
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error

PROVEN_SESSION_KEY = "invitation_phone_proven"


# --- The organization's side ---------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def invite(request):
    form = InviteForm(request.POST or None, organization=request.org, actor=request.member)
    preview = None
    if request.method == "POST" and form.is_valid():
        preview = service.invitations_preview(organization=request.org, invitees=form.invitees())
        if request.POST.get("action") == "send":
            valid = [item.invitee for item in preview.items if item.ok]
            if not valid:
                form.add_error(None, _("Nobody on the list can be invited; see the reasons below."))
            else:
                try:
                    created = service.invitations_create(
                        organization=request.org,
                        actor=request.member,
                        invitees=valid,
                        role=form.cleaned_data["role"],
                        lists=list(form.cleaned_data["lists"]),
                        ip_address=client_ip(request),
                    )
                except ApplicationError as error:
                    form_error(form, error)
                else:
                    skipped = len(preview.items) - len(created)
                    messages.success(
                        request,
                        ngettext(
                            "%(count)d invitation is on its way.",
                            "%(count)d invitations are on their way.",
                            len(created),
                        )
                        % {"count": len(created)},
                    )
                    if skipped:
                        messages.warning(
                            request,
                            ngettext(
                                "%(count)d line was skipped.",
                                "%(count)d lines were skipped.",
                                skipped,
                            )
                            % {"count": skipped},
                        )
                    return redirect("members:invitation-list", org_slug=request.org.slug)
    return render(
        request,
        "members/invite.html",
        {
            "form": form,
            "preview": preview,
            "valid_count": preview.ready_count if preview else 0,
            "allowance": invitation_allowance(request.org),
        },
    )


def _invitation_page(request):
    form = InvitationFilterForm(request.GET or {"status": Invitation.Status.PENDING})
    # A value that does not fit is dropped (and shown); the others still apply.
    form.is_valid()
    data = form.cleaned_data
    invitations = invitations_for_org(
        request.org,
        status=data.get("status") or "",
        channel=data.get("channel") or "",
        q=data.get("q") or "",
    )
    page = Paginator(invitations, 50).get_page(data.get("page") or 1)
    for invitation in page.object_list:
        invitation.delivery = delivery_label(invitation)
    polling = any(invitation.delivery == "queued" for invitation in page.object_list)
    return form, page, polling


def invitation_list(request):
    form, page, polling = _invitation_page(request)
    return render(
        request,
        "members/invitation_list.html",
        {"filter_form": form, "page": page, "polling": polling},
    )


def invitation_rows(request):
    """The table body alone, polled by htmx while messages are on their way."""
    form, page, polling = _invitation_page(request)
    return render(
        request,
        "members/invitation_list.html#rows",
        {"filter_form": form, "page": page, "polling": polling},
    )


def _back_to_list(request) -> HttpResponseRedirect:
    target = reverse("members:invitation-list", kwargs={"org_slug": request.org.slug})
    query = request.POST.get("next_query", "")
    return HttpResponseRedirect(f"{target}?{query}" if query else target)


def invitation_resend(request, invitation_id: int):
    invitation = get_object_or_404(Invitation.objects.for_org(request.org), pk=invitation_id)
    try:
        service.invitation_resend(
            organization=request.org,
            actor=request.member,
            invitation=invitation,
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Sent again to %(address)s; the previous link no longer works.")
            % {"address": invitation.address},
        )
    return _back_to_list(request)


def invitation_revoke(request, invitation_id: int):
    invitation = get_object_or_404(Invitation.objects.for_org(request.org), pk=invitation_id)
    return _revoke(request, [invitation])


def invitation_bulk_revoke(request):
    ids = [value for value in request.POST.getlist("invitation") if value.isdigit()]
    invitations = list(Invitation.objects.for_org(request.org).filter(pk__in=ids))
    if not invitations:
        messages.error(request, _("Select the invitations to revoke."))
        return _back_to_list(request)
    return _revoke(request, invitations)


def _revoke(request, invitations):
    try:
        count = service.invitations_revoke(
            organization=request.org,
            actor=request.member,
            invitations=invitations,
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if count:
            messages.success(
                request,
                ngettext(
                    "%(count)d invitation revoked; its link no longer works.",
                    "%(count)d invitations revoked; their links no longer work.",
                    count,
                )
                % {"count": count},
            )
        else:
            messages.info(request, _("Nothing to revoke: those invitations were not pending."))
    return _back_to_list(request)


# --- The invitee's side --------------------------------------------------------------------


def _proven(request, invitation: Invitation) -> bool:
    return invitation.channel != Invitation.Channel.PHONE or invitation.pk in request.session.get(
        PROVEN_SESSION_KEY, []
    )


def _link_error(request, error: service.InvitationLinkError):
    return render(
        request,
        "members/invitation_error.html",
        {"error": error, "kind": error.code},
        status=error.status,
    )


def _open_page(request, token: str, invitation: Invitation, *, code_form=None, status=200):
    user = request.user
    problem = ""
    if user.is_authenticated:
        problem = service.invitation_identity_problem(
            invitation, user, phone_proven=_proven(request, invitation)
        )
    return render(
        request,
        "members/invitation_open.html",
        {
            "invitation": invitation,
            "token": token,
            "proven": _proven(request, invitation),
            "code_form": code_form or CodeForm(),
            "problem": problem,
            "sms_left": service.sms_left_this_hour(invitation.address)
            if invitation.channel == Invitation.Channel.PHONE
            else None,
        },
        status=status,
    )


def invitation_open(request, token: str):
    try:
        invitation = service.invitation_from_token(token)
    except service.InvitationLinkError as error:
        return _link_error(request, error)
    return _open_page(request, token, invitation)


@require_POST
def invitation_code(request, token: str):
    try:
        invitation = service.invitation_from_token(token)
    except service.InvitationLinkError as error:
        return _link_error(request, error)
    if request.POST.get("action") == "resend":
        try:
            service.invitation_send_code(token=token)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("A new code is on its way by text message."))
        return redirect("members:invitation-open", token=token)
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            service.invitation_check_code(token=token, code=form.cleaned_data["code"].strip())
        except ApplicationError as error:
            form_error(form, error)
        else:
            proven = request.session.get(PROVEN_SESSION_KEY, [])
            request.session[PROVEN_SESSION_KEY] = [*proven, invitation.pk]
            return redirect("members:invitation-open", token=token)
    return _open_page(request, token, invitation, code_form=form)


@require_http_methods(["GET", "POST"])
def invitation_signup(request, token: str):
    try:
        invitation = service.invitation_from_token(token)
    except service.InvitationLinkError as error:
        return _link_error(request, error)
    if invitation.channel == Invitation.Channel.USERNAME or not _proven(request, invitation):
        return redirect("members:invitation-open", token=token)
    form = InvitationSignupForm(request.POST or None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, _member = service.invitation_signup(
                token=token,
                password=data["password1"],
                name=data["name"],
                username=data["username"],
                phone_proven=_proven(request, invitation),
                language=request.LANGUAGE_CODE,
                ip_address=client_ip(request),
            )
        except service.InvitationLinkError as error:
            return _link_error(request, error)
        except ApplicationError as error:
            form_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Welcome to %(name)s.") % {"name": invitation.organization.name},
            )
            return redirect("organizations:home", org_slug=invitation.organization.slug)
    return render(
        request, "members/invitation_signup.html", {"form": form, "invitation": invitation}
    )


@require_POST
@login_required
def invitation_accept(request, token: str):
    try:
        invitation = service.invitation_from_token(token)
        member = service.invitation_accept(
            token=token,
            user=request.user,
            phone_proven=_proven(request, invitation),
            ip_address=client_ip(request),
        )
    except service.InvitationLinkError as error:
        return _link_error(request, error)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("members:invitation-open", token=token)
    messages.success(request, _("Welcome to %(name)s.") % {"name": member.organization.name})
    return redirect("organizations:home", org_slug=member.organization.slug)


@require_POST
def invitation_decline(request, token: str):
    try:
        invitation = service.invitation_decline(
            token=token, user=request.user, ip_address=client_ip(request)
        )
    except service.InvitationLinkError as error:
        return _link_error(request, error)
    return render(request, "members/invitation_declined.html", {"invitation": invitation})


@login_required
def my_invitations(request):
    return render(
        request,
        "members/my_invitations.html",
        {"invitations": service.invitations_for_user(request.user)},
    )


@require_POST
@login_required
def my_invitation_respond(request, invitation_id: int):
    accept = request.POST.get("answer") == "accept"
    try:
        member = service.invitation_respond_in_app(
            invitation_id=invitation_id,
            user=request.user,
            accept=accept,
            ip_address=client_ip(request),
        )
    except service.InvitationLinkError as error:
        return _link_error(request, error)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("members:my-invitations")
    if member is None:
        messages.info(request, _("Invitation declined."))
        return redirect("members:my-invitations")
    messages.success(request, _("Welcome to %(name)s.") % {"name": member.organization.name})
    return redirect("organizations:home", org_slug=member.organization.slug)
