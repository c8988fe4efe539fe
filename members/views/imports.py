"""Bulk import: upload a CSV or XLSX, review every row, invite the valid ones, download the rest.

Views under /o/<slug>/ get `request.org` and `request.member` from organizations.tenancy,
which has already checked the role (organizations.roles.ROLE_MATRIX).
"""

from pathlib import PurePath

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_safe

from members.forms.imports import ImportRowsFilterForm, MemberImportForm
from members.models import Invitation, MemberImport
from members.services import imports
from organizations.roles import Role
from organizations.views import client_ip
from skypemgr.errors import ApplicationError
from skypemgr.exports import download

# The preview shows this many rows a page; the counts cover the whole file.
ROWS_PER_PAGE = 100

ROLE_LABELS = {role.value: role.label for role in Role}
CHANNEL_LABELS = {channel.value: channel.label for channel in Invitation.Channel}


@require_http_methods(["GET", "POST"])
def member_import(request):
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = MemberImportForm(data, files)
    if request.method == "POST" and form.is_valid():
        try:
            member_import = imports.member_import_parse(
                organization=request.org,
                actor=request.member,
                uploaded_file=form.cleaned_data["file"],
                ip_address=client_ip(request),
            )
        except ApplicationError as error:
            form.add_error("file", error.message)
        else:
            return redirect(
                "members:import-detail", org_slug=request.org.slug, import_id=member_import.pk
            )
    return render(
        request,
        "members/import_form.html",
        {
            "form": form,
            "max_rows": imports.MAX_ROWS,
            "recent_imports": imports.member_imports_recent(organization=request.org),
        },
    )


@require_safe
def import_template(request):
    return _csv_response(imports.member_import_template_csv(), _("members-import-template.csv"))


@require_http_methods(["GET", "POST"])
def import_detail(request, import_id: int):
    member_import = get_object_or_404(MemberImport.objects.for_org(request.org), pk=import_id)
    if request.method == "POST":
        return _run(request, member_import)

    filters = ImportRowsFilterForm(request.GET)
    filters.is_valid()
    show = filters.cleaned_data["show"]
    rows = member_import.rows
    if show == "valid":
        rows = [row for row in rows if not row["errors"]]
    elif show == "invalid":
        rows = [row for row in rows if row["errors"]]
    page = Paginator(rows, ROWS_PER_PAGE).get_page(filters.cleaned_data["page"])
    return render(
        request,
        "members/import_detail.html",
        {
            "member_import": member_import,
            "is_preview": member_import.status == MemberImport.Status.PREVIEW,
            "show": show,
            "row_count": len(member_import.rows),
            "page": page,
            "rows": [_displayed(row) for row in page.object_list],
            "ignored_columns": imports.ignored_columns(imports.member_import_header(member_import)),
        },
    )


def _run(request, member_import: MemberImport):
    try:
        created, refused = imports.member_import_run(
            organization=request.org,
            actor=request.member,
            member_import=member_import,
            ip_address=client_ip(request),
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            ngettext("%(count)d invitation queued.", "%(count)d invitations queued.", created)
            % {"count": created},
        )
        if refused:
            messages.warning(
                request,
                ngettext(
                    "%(count)d row changed since the check and was not imported; it is with "
                    "the invalid rows.",
                    "%(count)d rows changed since the check and were not imported; they are "
                    "with the invalid rows.",
                    len(refused),
                )
                % {"count": len(refused)},
            )
    return redirect("members:import-detail", org_slug=request.org.slug, import_id=member_import.pk)


def _displayed(row: dict) -> dict:
    return {
        **row,
        "role_label": ROLE_LABELS.get(row["role"], row["role"]),
        "channel_label": CHANNEL_LABELS.get(row["channel"], ""),
        "list_names": [name for _pk, name in row["lists"]],
    }


@require_safe
def import_errors(request, import_id: int):
    member_import = get_object_or_404(MemberImport.objects.for_org(request.org), pk=import_id)
    stem = PurePath(member_import.file_name).stem or "import"
    return _csv_response(
        imports.member_import_errors_csv(member_import=member_import),
        _("%(name)s-invalid-rows.csv") % {"name": stem},
    )


def _csv_response(content: str, file_name: str) -> HttpResponse:
    return download(content, file_name=file_name, file_format="csv")
