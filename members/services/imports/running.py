"""Running an import: `member_import_run` invites the rows of a checked import that are still
valid, through `invitations_create` (which bulk-inserts and queues the sending after commit),
and records the rows refused now.

Locks the organization row, then the acting member (as members.services.locks orders them),
then the import row: of two runs of one import, the second waits and then finds it imported.
The rows are checked again under the lock: their lists, the actor's role, then
`invitees_check`.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import MemberImport, MemberList
from members.services.imports.checking import _check_invitees, _invitee
from members.services.imports.columns import _role_needs_owner
from members.services.invitations import Invitee, invitations_create
from members.services.locks import members_lock
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError


def member_import_run(
    *,
    organization: Organization,
    actor: Member,
    member_import: MemberImport,
    ip_address: str | None = None,
) -> tuple[int, list[dict]]:
    """Invite the rows that are still valid; returns (invitations created, rows refused now).

    Locks the organization row, the actor, then the import: a second run of the same import
    (a double submit) waits, then is refused because the import is done. Rows valid at the
    preview are checked again under the lock (someone may have been invited meanwhile, a
    list deleted, the actor's role changed); those still valid are invited in one go, the
    others get their reasons and join the invalid rows. Raises ApplicationError, changing
    nothing, when the import was already run, has no valid row, or when inviting is refused
    as a whole (the daily limit).
    """
    with transaction.atomic():
        actor, _members = members_lock(organization=organization, actor=actor, member_ids=[])
        locked = (
            MemberImport.objects.for_org(organization)
            .select_for_update()
            .filter(pk=member_import.pk)
            .first()
        )
        if locked is None:
            raise ApplicationError(_("This import was not found."), code="not_found")
        if locked.status == MemberImport.Status.IMPORTED:
            raise ApplicationError(_("This file was already imported."), code="already_imported")
        rows = locked.rows
        waiting = [row for row in rows if not row["errors"]]
        if not waiting:
            raise ApplicationError(
                _("No row of this file can be imported. Correct the file and upload it again."),
                code="nothing_to_import",
            )

        refused, candidates = _recheck_locally(organization, actor, waiting)
        checked = _check_invitees(organization, candidates)
        invitees = [item.invitee for _row, item in checked if item.ok]
        for row, item in checked:
            if not item.ok:
                refused.append(row)
        for row in refused:
            row["refused_at_import"] = True

        invitations = []
        if invitees:
            invitations = invitations_create(
                organization=organization,
                actor=actor,
                invitees=invitees,
                role=Role.MEMBER,
                ip_address=ip_address,
            )
        locked.rows = rows
        locked.valid_count = len(invitations)
        locked.invalid_count = len(rows) - len(invitations)
        locked.status = MemberImport.Status.IMPORTED
        locked.imported_at = timezone.now()
        locked.save(update_fields=["rows", "valid_count", "invalid_count", "status", "imported_at"])
        audit_record(
            organization=organization,
            actor=actor,
            verb="import.done",
            target=locked,
            data={"invited": len(invitations), "refused": len(refused)},
            ip_address=ip_address,
        )
    return len(invitations), refused


def _recheck_locally(
    organization: Organization, actor: Member, rows: list[dict]
) -> tuple[list[dict], list[tuple[dict, Invitee]]]:
    """What may have changed outside the invitees' addresses: lists, the actor's role."""
    list_ids = {pk for row in rows for pk, _name in row["lists"]}
    lists = MemberList.objects.for_org(organization).in_bulk(list_ids)
    refused, candidates = [], []
    for row in rows:
        errors = [
            _("Unknown list: %(name)s") % {"name": name}
            for pk, name in row["lists"]
            if pk not in lists
        ]
        if _role_needs_owner(row["role"]) and actor.role != Role.OWNER:
            errors.append(_("Only owners can invite owners and admins."))
        if errors:
            row["errors"] = errors
            refused.append(row)
        else:
            candidates.append((row, _invitee(row, (lists[pk] for pk, _name in row["lists"]))))
    return refused, candidates
