"""Checking an uploaded file's rows: `member_import_parse` reads the file, checks every row and
stores the result (a MemberImport) for an admin to review. Nothing is invited yet.

Checking is set-based: one query for the organization's lists, then `invitees_check` (a handful
of queries whatever the number of rows). A row's problems are kept with the row; a problem with
the whole file stores nothing. Locks nothing.
"""

import os
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from members.models import MemberImport, MemberList
from members.services.imports.columns import (
    ADDRESS_MAX_LENGTH,
    CHANNELS,
    EXAMPLE_EMAIL,
    EXAMPLE_PHONE,
    FIELD_MAX_LENGTHS,
    LIST_SEPARATOR,
    _map_header,
    _role_needs_owner,
    _roles,
    normalized,
)
from members.services.imports.reading import _file_error, read_table
from members.services.invitations import CheckedInvitee, Invitee, invitees_check
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import PermissionDeniedError


def _clean_row(
    line: int,
    cells: list[str],
    header: list[str],
    positions: dict[str, int],
    lists_by_name: dict[str, MemberList],
    roles: dict[str, str],
    actor_role: str,
) -> tuple[dict, Invitee | None]:
    """One row's values and the reasons it is refused, before the checks against the database."""
    values = {
        key: cells[position] if position < len(cells) else "" for key, position in positions.items()
    }
    errors = []
    if any(cells[len(header) :]):
        errors.append(_("This row has more cells than the header row: is a value missing quotes?"))

    identifiers = [(channel, values[channel]) for channel in CHANNELS if values.get(channel)]
    channel, address = identifiers[0] if identifiers else ("", "")
    if not identifiers:
        errors.append(_("Give an email, a mobile number or a username."))
    elif len(identifiers) > 1:
        errors.append(_("Give only one of email, phone or username."))
    elif address.casefold() in (EXAMPLE_EMAIL, EXAMPLE_PHONE):
        errors.append(_("This is the template's example: replace it with a real person."))
    elif len(address) > ADDRESS_MAX_LENGTH:
        errors.append(
            _("The address is too long (%(max)d characters at most).") % {"max": ADDRESS_MAX_LENGTH}
        )

    raw_role = values.get("role", "")
    role = roles.get(normalized(raw_role), "") if raw_role else Role.MEMBER.value
    if not role:
        errors.append(
            _("Unknown role: %(value)s (use admin, finance or member).") % {"value": raw_role}
        )
        role = raw_role
    elif _role_needs_owner(role) and actor_role != Role.OWNER:
        errors.append(_("Only owners can invite owners and admins."))

    row_lists: dict[int, MemberList] = {}
    for name in LIST_SEPARATOR.split(values.get("lists", "")):
        name = " ".join(name.split())
        if not name:
            continue
        member_list = lists_by_name.get(name.casefold())
        if member_list is None:
            errors.append(_("Unknown list: %(name)s") % {"name": name})
        else:
            row_lists[member_list.pk] = member_list

    labels = {
        "display_name": _("The name"),
        "department": _("The department"),
        "job_title": _("The job title"),
    }
    for key, max_length in FIELD_MAX_LENGTHS.items():
        if len(values.get(key, "")) > max_length:
            errors.append(
                _("%(field)s is too long (%(max)d characters at most).")
                % {"field": labels[key], "max": max_length}
            )

    row = {
        "line": line,
        # The file's own columns and values, in its order, for the file of invalid rows.
        "source": [
            [title, cells[position] if position < len(cells) else ""]
            for position, title in enumerate(header)
        ],
        "channel": channel,
        "address": address,
        "display_name": values.get("display_name", ""),
        "role": role,
        "lists": [[member_list.pk, member_list.name] for member_list in row_lists.values()],
        "department": values.get("department", ""),
        "job_title": values.get("job_title", ""),
        "errors": errors,
    }
    if errors:
        return row, None
    return row, _invitee(row, row_lists.values())


def _invitee(row: dict, lists: Iterable[MemberList]) -> Invitee:
    return Invitee(
        channel=row["channel"],
        address=row["address"],
        display_name=row["display_name"],
        job_title=row["job_title"],
        department=row["department"],
        role=row["role"],
        lists=tuple(lists),
    )


def _check_invitees(
    organization: Organization, candidates: list[tuple[dict, Invitee]]
) -> list[tuple[dict, CheckedInvitee]]:
    """Check the rows' invitees against the database; add the reasons to the rows.

    A valid row's address becomes the canonical one (lower-case email, E.164 number, the
    account's username).
    """
    if not candidates:
        return []
    checked = invitees_check(
        organization=organization, invitees=[invitee for _row, invitee in candidates]
    )
    results = []
    for row, item in zip((row for row, _invitee in candidates), checked, strict=True):
        if item.ok:
            row["address"] = item.address
        else:
            row["errors"].extend(item.errors)
        results.append((row, item))
    return results


def _require_importer(actor: Member) -> None:
    if actor.status != Member.Status.ACTIVE or not Role(actor.role).at_least(Role.ADMIN):
        raise PermissionDeniedError(_("Only owners and admins import members."))


def member_import_parse(
    *,
    organization: Organization,
    actor: Member,
    uploaded_file,
    ip_address: str | None = None,
) -> MemberImport:
    """Read an uploaded CSV or XLSX, check every row, and store the result as a preview.

    Raises ApplicationError (field "file") for a problem with the whole file: too large, empty,
    not a table, no identifier column, no rows, too many rows. Stores nothing then. Row
    problems are kept with their rows. Locks nothing: nothing is invited yet.
    """
    _require_importer(actor)
    table = read_table(uploaded_file)
    positions = _map_header(table.header)
    if not table.rows:
        raise _file_error(_("The file has no rows under its header row."), "header_only")

    lists_by_name = {
        member_list.name.casefold(): member_list
        for member_list in MemberList.objects.for_org(organization)
    }
    roles = _roles()
    rows, candidates = [], []
    for line, cells in table.rows:
        row, invitee = _clean_row(
            line, cells, table.header, positions, lists_by_name, roles, actor.role
        )
        rows.append(row)
        if invitee is not None:
            candidates.append((row, invitee))
    _check_invitees(organization, candidates)

    valid_count = sum(1 for row in rows if not row["errors"])
    file_name = os.path.basename((uploaded_file.name or "").replace("\\", "/"))[:255]
    with transaction.atomic():
        member_import = MemberImport.objects.create(
            organization=organization,
            created_by=actor,
            file_name=file_name or "import.csv",
            rows=rows,
            valid_count=valid_count,
            invalid_count=len(rows) - valid_count,
        )
        audit_record(
            organization=organization,
            actor=actor,
            verb="import.checked",
            target=member_import,
            data={"rows": len(rows), "valid": valid_count, "invalid": len(rows) - valid_count},
            ip_address=ip_address,
        )
    return member_import
