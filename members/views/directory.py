"""The member directory, its bulk actions, and a member's details page.

Finance reads; owners and admins change. Every member is fetched through the organization
(`Member.objects.for_org(request.org)`): another organization's member is a 404, like a
missing one. Refusals from the services come back as form errors or messages, never a 500.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from members.extensions import (
    directory_bulk_actions,
    directory_columns,
    member_detail_panels,
    removal_questions,
)
from members.forms.directory import (
    STATUS_ACTIONS,
    BulkActionForm,
    DirectoryFilterForm,
    MemberListsForm,
    MemberProfileForm,
    MemberRoleForm,
    MemberStatusForm,
)
from members.models import MemberList
from members.selectors.directory import (
    member_directory,
    member_invitations,
    member_lists_of,
)
from members.services.membership import (
    BulkAction,
    Change,
    member_change_role,
    member_reactivate,
    member_remove,
    member_set_lists,
    member_suspend,
    member_update_profile,
    members_bulk_apply,
)
from organizations.models import Member
from organizations.roles import Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.forms import form_error

PAGE_SIZE = 50
Status = Member.Status


def _can_manage(request) -> bool:
    return Role(request.member.role).at_least(Role.ADMIN)


def _member_or_404(request, member_id: int) -> Member:
    return get_object_or_404(Member.objects.for_org(request.org), pk=member_id)


def _detail_url(request, member: Member) -> str:
    return reverse(
        "members:member-detail", kwargs={"org_slug": request.org.slug, "member_id": member.pk}
    )


def _directory_url(request, query: str = "") -> str:
    url = reverse("members:member-list", kwargs={"org_slug": request.org.slug})
    # Parsed and encoded again: only a query string of our own page can come out of it.
    query = QueryDict(query or "").urlencode()
    return f"{url}?{query}" if query else url


def _first_errors(form) -> list[str]:
    """Each distinct error of a form once, for a message banner."""
    return list(dict.fromkeys(str(errors[0]) for errors in form.errors.values()))


# Column headers that sort, with the direction a first click chooses.
_SORTABLE_COLUMNS = (
    ("name", "name"),
    ("role", "role"),
    ("status", "status"),
    ("joined", "-joined"),
)


def _sort_links(request, current: str) -> dict[str, dict]:
    """For each sortable column: the link that sorts by it (or reverses it) and its state."""
    links = {}
    for key, first in _SORTABLE_COLUMNS:
        if current == key:
            target, state = f"-{key}", "ascending"
        elif current == f"-{key}":
            target, state = key, "descending"
        else:
            target, state = first, ""
        query = request.GET.copy()
        query["sort"] = target
        query.pop("page", None)
        links[key] = {"url": f"?{query.urlencode()}", "state": state}
    return links


def member_list(request):
    form = DirectoryFilterForm(request.GET, organization=request.org)
    form.is_valid()
    filters = form.filters()
    members = member_directory(organization=request.org, filters=filters)
    page = Paginator(members, PAGE_SIZE).get_page(form.cleaned_data.get("page") or 1)
    # A list, so that the columns other apps add (members.extensions) annotate the very rows
    # the template shows, with one query per column for the whole page.
    page.object_list = list(page.object_list)
    can_manage = _can_manage(request)
    role = Role(request.member.role)
    context = {
        "form": form,
        "page": page,
        "is_filtered": form.is_filtered(),
        "sort_links": _sort_links(request, filters.sort),
        "can_manage": can_manage,
        "extension_columns": directory_columns(request.org, role, page.object_list),
        "extension_bulk_actions": directory_bulk_actions(role) if can_manage else [],
    }
    if can_manage:
        context["bulk_form"] = BulkActionForm(
            initial={"return_query": request.GET.urlencode()},
            organization=request.org,
            auto_id="bulk-%s",
        )
    return render(request, "members/member_list.html", context)


def _bulk_done_message(action: str, count: int, form_data: dict) -> str:
    member_list = form_data.get("member_list")
    if action == BulkAction.ADD_TO_LIST:
        if not count:
            return _("The selected members were already in %(list)s.") % {"list": member_list}
        return ngettext(
            "%(count)d member added to %(list)s.",
            "%(count)d members added to %(list)s.",
            count,
        ) % {"count": count, "list": member_list}
    if action == BulkAction.REMOVE_FROM_LIST:
        if not count:
            return _("None of the selected members were in %(list)s.") % {"list": member_list}
        return ngettext(
            "%(count)d member taken out of %(list)s.",
            "%(count)d members taken out of %(list)s.",
            count,
        ) % {"count": count, "list": member_list}
    if not count:
        return _("Nothing needed changing.")
    if action == BulkAction.CHANGE_ROLE:
        return ngettext(
            "Role changed for %(count)d member.", "Role changed for %(count)d members.", count
        ) % {"count": count}
    if action == BulkAction.SUSPEND:
        return ngettext("%(count)d member suspended.", "%(count)d members suspended.", count) % {
            "count": count
        }
    return ngettext(
        "%(count)d member removed from the organization.",
        "%(count)d members removed from the organization.",
        count,
    ) % {"count": count}


def member_bulk(request):
    """Apply a bulk action chosen in the directory; destructive ones are confirmed first."""
    form = BulkActionForm(request.POST, organization=request.org)
    back = _directory_url(request, request.POST.get("return_query", ""))
    if not form.is_valid():
        for error in _first_errors(form):
            messages.error(request, error)
        return redirect(back)
    data = form.cleaned_data
    if form.needs_confirmation:
        return render(
            request,
            "members/member_bulk_confirm.html",
            {
                "form": form,
                "selected": list(data["members"]),
                "role_label": Role(data["role"]).label if data.get("role") else "",
                "back": back,
            },
        )
    try:
        count = members_bulk_apply(
            organization=request.org,
            actor=request.member,
            members=data["members"],
            action=data["action"],
            role=data.get("role") or None,
            member_list=data.get("member_list"),
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _bulk_done_message(data["action"], count, data))
    return redirect(back)


def _status_actions(request, member: Member) -> list[tuple[str, str]]:
    """The status changes the page offers for this member (the services still decide)."""
    if member.pk == request.member.pk:
        return []
    if member.status == Status.ACTIVE:
        allowed = (Change.SUSPEND, Change.REMOVE)
    elif member.status == Status.SUSPENDED:
        allowed = (Change.REACTIVATE, Change.REMOVE)
    else:
        allowed = ()
    return [(value, label) for value, label in STATUS_ACTIONS if value in allowed]


def _render_detail(request, member: Member, *, profile_form=None, status=200):
    can_manage = _can_manage(request)
    context = {
        "subject": member,
        "member_lists": member_lists_of(organization=request.org, member=member),
        "invitations": member_invitations(organization=request.org, member=member),
        "can_manage": can_manage,
        "is_self": member.pk == request.member.pk,
        "detail_panels": member_detail_panels(request, member),
    }
    if can_manage and member.status != Status.REMOVED:
        context.update(
            profile_form=profile_form
            or MemberProfileForm(
                initial=MemberProfileForm.initial_for(member), organization=request.org
            ),
            role_form=MemberRoleForm(initial={"role": member.role}),
            lists_form=MemberListsForm(
                initial={"lists": context["member_lists"]}, organization=request.org
            ),
            status_actions=_status_actions(request, member),
            all_lists_exist=MemberList.objects.for_org(request.org).exists(),
        )
    return render(request, "members/member_detail.html", context, status=status)


@require_http_methods(["GET", "POST"])
def member_detail(request, member_id: int):
    """A member's profile, lists and invitations; owners and admins edit the profile here."""
    member = _member_or_404(request, member_id)
    if request.method == "GET":
        return _render_detail(request, member)
    form = MemberProfileForm(request.POST, organization=request.org)
    if form.is_valid():
        try:
            member_update_profile(
                organization=request.org,
                actor=request.member,
                member=member,
                ip_address=client_ip(request),
                **form.cleaned_data,
            )
        except ApplicationError as error:
            if error.field in form.fields:
                form_error(form, error)
            else:
                messages.error(request, error.message)
                return redirect(_detail_url(request, member))
        else:
            messages.success(request, _("Profile saved."))
            return redirect(_detail_url(request, member))
    return _render_detail(request, member, profile_form=form)


def member_role(request, member_id: int):
    member = _member_or_404(request, member_id)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        for error in _first_errors(form):
            messages.error(request, error)
        return redirect(_detail_url(request, member))
    before = member.get_role_display()
    try:
        member = member_change_role(
            organization=request.org,
            actor=request.member,
            member=member,
            role=form.cleaned_data["role"],
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("%(name)s is now %(role)s (was %(before)s).")
            % {"name": member, "role": member.get_role_display(), "before": before},
        )
    return redirect(_detail_url(request, member))


_STATUS_SERVICES = {
    Change.SUSPEND: (member_suspend, gettext_lazy("%(name)s is suspended.")),
    Change.REACTIVATE: (member_reactivate, gettext_lazy("%(name)s is active again.")),
    Change.REMOVE: (member_remove, gettext_lazy("%(name)s is now a former member.")),
}


def _render_status(request, member: Member, action, questions=(), status=200):
    return render(
        request,
        "members/member_status.html",
        {
            "subject": member,
            "actions": _status_actions(request, member),
            "action": action,
            "questions": questions,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
def member_status(request, member_id: int):
    """GET: confirm suspending, reactivating or removing a member (a removal asks what
    happens to what they hold in other apps: members.extensions); POST: do it."""
    member = _member_or_404(request, member_id)
    if request.method == "GET":
        actions = _status_actions(request, member)
        query = MemberStatusForm(request.GET)
        chosen = query.cleaned_data["action"] if query.is_valid() else ""
        action = next(((value, label) for value, label in actions if value == chosen), None)
        questions = removal_questions(request, member) if chosen == Change.REMOVE else []
        return _render_status(request, member, action, questions)
    form = MemberStatusForm(request.POST)
    if not form.is_valid():
        for error in _first_errors(form):
            messages.error(request, error)
        return redirect(_detail_url(request, member))
    change = Change(form.cleaned_data["action"])
    service, done = _STATUS_SERVICES[change]
    extra = {}
    if change == Change.REMOVE:
        questions = removal_questions(request, member, request.POST)
        if not all(question["form"].is_valid() for question in questions):
            action = next(
                (pair for pair in _status_actions(request, member) if pair[0] == change), None
            )
            return _render_status(request, member, action, questions, status=400)
        extra["removal_answers"] = {
            question["key"]: question["form"].cleaned_data for question in questions
        }
    try:
        member = service(
            organization=request.org,
            actor=request.member,
            member=member,
            ip_address=client_ip(request),
            **extra,
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(done) % {"name": member})
    return redirect(_detail_url(request, member))


def member_lists(request, member_id: int):
    """Put a member in exactly the lists ticked on their details page."""
    member = _member_or_404(request, member_id)
    form = MemberListsForm(request.POST, organization=request.org)
    if not form.is_valid():
        for error in _first_errors(form):
            messages.error(request, error)
        return redirect(_detail_url(request, member))
    try:
        joined, left = member_set_lists(
            organization=request.org,
            actor=request.member,
            member=member,
            member_lists=form.cleaned_data["lists"],
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if joined or left:
            messages.success(request, _("Lists saved."))
        else:
            messages.info(request, _("Nothing changed: these were already the lists."))
    return redirect(_detail_url(request, member))
