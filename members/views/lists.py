"""Lists of members: the index (with a form to create one), a list's page (its members, adding
and taking out, renaming) and deleting a list. Finance reads; owners and admins change.

Services are called through their module: the view `list_delete`, a name the URL map fixes,
would hide the service of the same name.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from members.forms.lists import (
    ListAddMembersForm,
    ListDetailQueryForm,
    ListRemoveMemberForm,
    MemberListForm,
)
from members.models import MemberList
from members.selectors.directory import list_candidates, list_members, lists_with_counts
from members.services import lists as services
from organizations.roles import Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error

PAGE_SIZE = 50
# How many people not yet in the list the page offers at once; a search finds the others.
CANDIDATES_SHOWN = 50


def _can_manage(request) -> bool:
    return Role(request.member.role).at_least(Role.ADMIN)


def _list_or_404(request, list_id: int) -> MemberList:
    return get_object_or_404(MemberList.objects.for_org(request.org), pk=list_id)


def _list_url(request, member_list: MemberList) -> str:
    return reverse(
        "members:list-detail", kwargs={"org_slug": request.org.slug, "list_id": member_list.pk}
    )


@require_http_methods(["GET", "POST"])
def list_list(request):
    form = MemberListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member_list = services.list_create(
                organization=request.org,
                actor=request.member,
                name=form.cleaned_data["name"],
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                _("List “%(name)s” created. Now add its members.") % {"name": member_list},
            )
            return redirect(_list_url(request, member_list))
    return render(
        request,
        "members/list_list.html",
        {
            "lists": lists_with_counts(organization=request.org),
            "form": form,
            "can_manage": _can_manage(request),
        },
    )


def _render_detail(request, member_list, *, rename_form=None, add_form=None, status=200):
    query_form = ListDetailQueryForm(request.GET)
    query_form.is_valid()
    q, page_number = query_form.query()
    members = list_members(organization=request.org, member_list=member_list)
    context = {
        "member_list": member_list,
        "page": Paginator(members, PAGE_SIZE).get_page(page_number),
        "can_manage": _can_manage(request),
    }
    if context["can_manage"]:
        candidates = list_candidates(organization=request.org, member_list=member_list, q=q)
        context.update(
            q=q,
            search_errors=query_form.errors.get("q", []),
            candidates=candidates[:CANDIDATES_SHOWN],
            more_candidates=candidates[CANDIDATES_SHOWN : CANDIDATES_SHOWN + 1].exists(),
            rename_form=rename_form or MemberListForm(initial={"name": member_list.name}),
            add_form=add_form,
        )
    return render(request, "members/list_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def list_detail(request, list_id: int):
    """The list's members. POST `action`: "rename", "add" (members) or "remove" (member)."""
    member_list = _list_or_404(request, list_id)
    if request.method == "GET":
        return _render_detail(request, member_list)
    action = request.POST.get("action")
    if action == "rename":
        return _rename(request, member_list)
    if action == "add":
        return _add(request, member_list)
    if action == "remove":
        return _remove(request, member_list)
    messages.error(request, _("Choose what to do with the list."))
    return redirect(_list_url(request, member_list))


def _rename(request, member_list):
    form = MemberListForm(request.POST)
    if form.is_valid():
        try:
            member_list = services.list_rename(
                organization=request.org,
                actor=request.member,
                member_list=member_list,
                name=form.cleaned_data["name"],
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(request, _("List renamed to “%(name)s”.") % {"name": member_list})
            return redirect(_list_url(request, member_list))
    return _render_detail(request, member_list, rename_form=form)


def _add(request, member_list):
    form = ListAddMembersForm(request.POST, organization=request.org, member_list=member_list)
    if form.is_valid():
        try:
            added = services.list_add_members(
                organization=request.org,
                actor=request.member,
                member_list=member_list,
                members=form.cleaned_data["members"],
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            form_error(form, error)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d member added to %(list)s.",
                    "%(count)d members added to %(list)s.",
                    len(added),
                )
                % {"count": len(added), "list": member_list},
            )
            return redirect(_list_url(request, member_list))
    return _render_detail(request, member_list, add_form=form)


def _remove(request, member_list):
    form = ListRemoveMemberForm(request.POST, organization=request.org)
    if not form.is_valid():
        messages.error(request, form.errors["member"][0])
        return redirect(_list_url(request, member_list))
    member = form.cleaned_data["member"]
    try:
        removed = services.list_remove_members(
            organization=request.org,
            actor=request.member,
            member_list=member_list,
            members=[member],
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if removed:
            messages.success(
                request,
                _("%(name)s taken out of %(list)s.") % {"name": member, "list": member_list},
            )
        else:
            messages.info(
                request,
                _("%(name)s was not in %(list)s.") % {"name": member, "list": member_list},
            )
    return redirect(_list_url(request, member_list))


@require_http_methods(["GET", "POST"])
def list_delete(request, list_id: int):
    """GET: confirm; POST: delete the list. Its members stay in the organization."""
    member_list = _list_or_404(request, list_id)
    if request.method == "GET":
        size = list_members(organization=request.org, member_list=member_list).count()
        return render(
            request, "members/list_delete.html", {"member_list": member_list, "size": size}
        )
    name = member_list.name
    try:
        services.list_delete(
            organization=request.org,
            actor=request.member,
            member_list=member_list,
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect(_list_url(request, member_list))
    messages.success(request, _("List “%(name)s” deleted. Its members stay.") % {"name": name})
    return redirect("members:list-list", org_slug=request.org.slug)
