"""The rules every membership change keeps, and the errors that say why one is refused.

Only owners make or unmake owners and admins, and only owners suspend, reactivate or remove an
owner or an admin; nobody suspends or removes themself; an invited placeholder is neither
suspended nor removed; the organization keeps at least one active owner. A bulk error names
who was refused and why, up to a few names. Reads only: the callers hold the organization
row's lock while they count the owners.
"""

from collections.abc import Sequence

from django.db import models
from django.utils.translation import gettext as _

from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError

Status = Member.Status
PRIVILEGED_ROLES = (Role.OWNER, Role.ADMIN)
# How many refused members a bulk error names before it says "and N more".
NAMED_IN_ERRORS = 5


class Change(models.TextChoices):
    ROLE = "role"
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    REMOVE = "remove"


def _active_owner_count(organization: Organization) -> int:
    return (
        Member.objects.for_org(organization).filter(role=Role.OWNER, status=Status.ACTIVE).count()
    )


def _refusal(*, actor: Member, member: Member, change: Change, role: str | None) -> str | None:
    """Why `actor` may not make `change` to `member`, or None when they may."""
    is_owner = actor.role == Role.OWNER
    if change == Change.ROLE:
        if member.status == Status.REMOVED:
            return _("This is a former member: invite them again instead.")
        touches_privileged = member.role in PRIVILEGED_ROLES or role in PRIVILEGED_ROLES
        if member.role != role and touches_privileged and not is_owner:
            return _("Only owners make or unmake owners and admins.")
        return None
    if member.pk == actor.pk and change in (Change.SUSPEND, Change.REMOVE):
        if change == Change.SUSPEND:
            return _("You cannot suspend yourself.")
        return _("You cannot remove yourself: leave the organization from My account instead.")
    if member.status == Status.INVITED:
        return _("This person has not joined yet: revoke their invitation instead.")
    if member.status == Status.REMOVED:
        if change == Change.REMOVE:
            return None
        return _("This is a former member: invite them again instead.")
    unchanged = (change == Change.SUSPEND and member.status == Status.SUSPENDED) or (
        change == Change.REACTIVATE and member.status == Status.ACTIVE
    )
    if not unchanged and member.role in PRIVILEGED_ROLES and not is_owner:
        return _("Only owners suspend, reactivate or remove owners and admins.")
    return None


def _loses_ownership(member: Member, change: Change, role: str | None) -> bool:
    if member.role != Role.OWNER or member.status != Status.ACTIVE:
        return False
    if change == Change.ROLE:
        return role != Role.OWNER
    return change in (Change.SUSPEND, Change.REMOVE)


def _names(members: Sequence[Member]) -> str:
    names = [str(member) for member in members[:NAMED_IN_ERRORS]]
    if len(members) > NAMED_IN_ERRORS:
        names.append(_("and %(count)d more") % {"count": len(members) - NAMED_IN_ERRORS})
    return ", ".join(names)


def _refused(refusals: list[tuple[Member, str]], *, bulk: bool) -> ApplicationError:
    if not bulk:
        return ApplicationError(refusals[0][1], code="refused")
    shown = " ".join(f"{member}: {reason}" for member, reason in refusals[:NAMED_IN_ERRORS])
    if len(refusals) > NAMED_IN_ERRORS:
        more = len(refusals) - NAMED_IN_ERRORS
        shown += " " + _("And %(count)d more refused.") % {"count": more}
    return ApplicationError(
        _("Nothing was changed. %(refusals)s") % {"refusals": shown},
        field="members",
        code="refused",
    )


def _last_owner(losing: list[Member], *, bulk: bool) -> ApplicationError:
    if bulk:
        message = _(
            "Nothing was changed: the organization must keep at least one active owner "
            "(selected: %(names)s). Make someone else an owner first."
        ) % {"names": _names(losing)}
    else:
        message = _("%(name)s is the last active owner: make someone else an owner first.") % {
            "name": losing[0]
        }
    return ApplicationError(message, code="last_owner")
