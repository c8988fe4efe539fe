"""Writes about memberships: role, suspension, removal, leaving, profile, a member's lists, and
the directory's bulk actions.

The rules every function here keeps:

- only active owners and admins manage members; the actor is re-read under the lock, so an
  admin demoted a moment ago cannot finish a change;
- only owners make or unmake owners and admins, and only owners suspend, reactivate or remove
  an owner or an admin;
- nobody suspends or removes themself: they leave, from My account;
- an invited placeholder is neither suspended nor removed: its invitation is revoked instead;
- the organization always keeps at least one active owner. Every function locks the
  organization row before it counts the owners, so two changes at once cannot both see
  "another owner is left" (the lock order is members.services.locks').

A removed member keeps their row and their data ("former member") and leaves every list.
Each change records an audit event with what it was and what it became; a request that changes
nothing records nothing. Bulk actions are all or nothing: when one member is refused, nothing
changes and the error names who and why.
"""

from collections.abc import Iterable, Sequence

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from phonenumber_field.phonenumber import PhoneNumber

from members.models import ListMembership, MemberList
from members.services.lists import list_members_delete, list_members_insert
from members.services.locks import (
    member_ids_of,
    member_list_lock,
    member_lists_lock,
    members_lock,
)
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError

Status = Member.Status
PRIVILEGED_ROLES = (Role.OWNER, Role.ADMIN)
# How many refused members a bulk error names before it says "and N more".
NAMED_IN_ERRORS = 5


class BulkAction(models.TextChoices):
    ADD_TO_LIST = "add_to_list", gettext_lazy("Add to list")
    REMOVE_FROM_LIST = "remove_from_list", gettext_lazy("Remove from list")
    CHANGE_ROLE = "change_role", gettext_lazy("Change role")
    SUSPEND = "suspend", gettext_lazy("Suspend")
    REMOVE = "remove", gettext_lazy("Remove from the organization")


# These ask for a confirmation page before they run.
DESTRUCTIVE_ACTIONS = frozenset({BulkAction.CHANGE_ROLE, BulkAction.SUSPEND, BulkAction.REMOVE})


class Change(models.TextChoices):
    ROLE = "role"
    SUSPEND = "suspend"
    REACTIVATE = "reactivate"
    REMOVE = "remove"


_BULK_CHANGES = {
    BulkAction.CHANGE_ROLE: Change.ROLE,
    BulkAction.SUSPEND: Change.SUSPEND,
    BulkAction.REMOVE: Change.REMOVE,
}


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


def _leave_lists(organization: Organization, member: Member) -> list[str]:
    """Take a member out of every list; the lists' names, for the audit trail."""
    rows = ListMembership.objects.for_org(organization).filter(member=member)
    names = sorted(
        MemberList.objects.for_org(organization)
        .filter(pk__in=rows.values("member_list_id"))
        .values_list("name", flat=True)
    )
    rows.delete()
    return names


def _end_membership(organization: Organization, member: Member) -> list[str]:
    member.status = Status.REMOVED
    member.removed_at = timezone.now()
    member.save(update_fields=["status", "removed_at"])
    return _leave_lists(organization, member)


def _apply(
    *,
    organization: Organization,
    actor: Member,
    member: Member,
    change: Change,
    role: str | None,
    ip_address: str | None,
) -> bool:
    """Make one allowed change to a locked member; False when there was nothing to do."""
    if change == Change.ROLE:
        if member.role == role:
            return False
        data = {"from": member.role, "to": role}
        member.role = role
        member.save(update_fields=["role"])
        verb = "member.role_changed"
    elif change == Change.REMOVE:
        if member.status == Status.REMOVED:
            return False
        data = {"from": member.status, "to": Status.REMOVED.value}
        data["lists"] = _end_membership(organization, member)
        verb = "member.removed"
    else:
        new_status = Status.SUSPENDED if change == Change.SUSPEND else Status.ACTIVE
        if member.status == new_status:
            return False
        data = {"from": member.status, "to": new_status.value}
        member.status = new_status
        member.save(update_fields=["status"])
        verb = "member.suspended" if change == Change.SUSPEND else "member.reactivated"
    audit_record(
        organization=organization,
        actor=actor,
        verb=verb,
        target=member,
        data=data,
        ip_address=ip_address,
    )
    return True


def _members_change(
    *,
    organization: Organization,
    actor: Member,
    members: Iterable[Member | int],
    change: Change,
    role: str | None = None,
    ip_address: str | None = None,
    bulk: bool = False,
) -> tuple[list[Member], list[Member]]:
    """Check every member, then change them all or none: (members as locked, those changed)."""
    if change == Change.ROLE and role not in Role.values:
        raise ApplicationError(_("Choose a role from the list."), field="role", code="invalid")
    with transaction.atomic():
        actor, targets = members_lock(
            organization=organization, actor=actor, member_ids=member_ids_of(members)
        )
        if not targets:
            raise ApplicationError(_("Select at least one member."), field="members")
        refusals = [
            (member, reason)
            for member in targets
            if (reason := _refusal(actor=actor, member=member, change=change, role=role))
        ]
        if refusals:
            raise _refused(refusals, bulk=bulk)
        losing = [member for member in targets if _loses_ownership(member, change, role)]
        if losing and _active_owner_count(organization) - len(losing) < 1:
            raise _last_owner(losing, bulk=bulk)
        changed = [
            member
            for member in targets
            if _apply(
                organization=organization,
                actor=actor,
                member=member,
                change=change,
                role=role,
                ip_address=ip_address,
            )
        ]
    return targets, changed


def member_change_role(
    *,
    organization: Organization,
    actor: Member,
    member: Member,
    role: str,
    ip_address: str | None = None,
) -> Member:
    """Give a member another role. Only owners touch the owner and admin roles; the last
    active owner keeps theirs. Locks the organization, then the actor and the member."""
    targets, _changed = _members_change(
        organization=organization,
        actor=actor,
        members=[member],
        change=Change.ROLE,
        role=role,
        ip_address=ip_address,
    )
    return targets[0]


def member_suspend(
    *, organization: Organization, actor: Member, member: Member, ip_address: str | None = None
) -> Member:
    """Suspend an active member: from their next request on, they cannot open the
    organization's pages (the tenancy check wants an active membership). Same locks."""
    targets, _changed = _members_change(
        organization=organization,
        actor=actor,
        members=[member],
        change=Change.SUSPEND,
        ip_address=ip_address,
    )
    return targets[0]


def member_reactivate(
    *, organization: Organization, actor: Member, member: Member, ip_address: str | None = None
) -> Member:
    """Give a suspended member their access back, with their role and lists. Same locks."""
    targets, _changed = _members_change(
        organization=organization,
        actor=actor,
        members=[member],
        change=Change.REACTIVATE,
        ip_address=ip_address,
    )
    return targets[0]


def member_remove(
    *, organization: Organization, actor: Member, member: Member, ip_address: str | None = None
) -> Member:
    """End a membership: status "removed", the date, out of every list; the row and its
    history stay (a "former member"). Same locks."""
    targets, _changed = _members_change(
        organization=organization,
        actor=actor,
        members=[member],
        change=Change.REMOVE,
        ip_address=ip_address,
    )
    return targets[0]


def member_leave(
    *, organization: Organization, member: Member, ip_address: str | None = None
) -> Member:
    """A member ends their own membership, as a removal does; the last active owner may not.

    Locks the organization row, then the member.
    """
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        locked = (
            Member.objects.for_org(organization)
            .select_for_update()
            .filter(pk=member.pk, status=Status.ACTIVE)
            .first()
        )
        if locked is None:
            raise ApplicationError(
                _("You are no longer a member of this organization."), code="not_member"
            )
        if locked.role == Role.OWNER and _active_owner_count(organization) <= 1:
            raise ApplicationError(
                _(
                    "You are the last owner of %(organization)s: make someone else an owner "
                    "before you leave."
                )
                % {"organization": organization.name},
                code="last_owner",
            )
        lists = _end_membership(organization, locked)
        audit_record(
            organization=organization,
            actor=locked,
            verb="member.left",
            target=locked,
            data={"role": locked.role, "lists": lists},
            ip_address=ip_address,
        )
    return locked


def member_update_profile(
    *,
    organization: Organization,
    actor: Member,
    member: Member,
    display_name: str,
    phone: PhoneNumber | str | None,
    job_title: str,
    department: str,
    ip_address: str | None = None,
) -> Member:
    """Change what the organization knows about a member (not their email or username, which
    come from their sign-in). A former member's profile is kept as it was. Locks the
    organization, then the actor and the member."""
    values = {
        "display_name": " ".join((display_name or "").split()),
        "phone": phone or "",
        "job_title": " ".join((job_title or "").split()),
        "department": " ".join((department or "").split()),
    }
    if not values["display_name"]:
        raise ApplicationError(_("Enter the member's name."), field="display_name")
    for field, value in values.items():
        limit = getattr(Member._meta.get_field(field), "max_length", None)
        if field != "phone" and limit and len(value) > limit:
            raise ApplicationError(
                _("Keep this to %(max)d characters.") % {"max": limit}, field=field
            )
    with transaction.atomic():
        actor, (locked,) = members_lock(
            organization=organization, actor=actor, member_ids=[member.pk]
        )
        if locked.status == Status.REMOVED:
            raise ApplicationError(
                _("This is a former member: their profile is kept as it was."), code="refused"
            )
        changes = {}
        for field, value in values.items():
            before = str(getattr(locked, field) or "")
            if before != str(value):
                changes[field] = {"from": before, "to": str(value)}
                setattr(locked, field, value)
        if changes:
            locked.save(update_fields=list(changes))
            audit_record(
                organization=organization,
                actor=actor,
                verb="member.profile_updated",
                target=locked,
                data=changes,
                ip_address=ip_address,
            )
    return locked


def member_set_lists(
    *,
    organization: Organization,
    actor: Member,
    member: Member,
    member_lists: Iterable[MemberList],
    ip_address: str | None = None,
) -> tuple[list[MemberList], list[MemberList]]:
    """Put a member in exactly `member_lists`: (lists joined, lists left).

    Locks the organization, the actor and the member, then the lists involved in id order.
    A former member joins no list.
    """
    with transaction.atomic():
        actor, (locked,) = members_lock(
            organization=organization, actor=actor, member_ids=[member.pk]
        )
        wanted = {getattr(member_list, "pk", member_list) for member_list in member_lists}
        current = set(
            ListMembership.objects.for_org(organization)
            .filter(member=locked)
            .values_list("member_list_id", flat=True)
        )
        lists = member_lists_lock(organization=organization, member_lists=wanted | current)
        joined, left = [], []
        for member_list in lists:
            if member_list.pk in wanted and member_list.pk not in current:
                list_members_insert(
                    organization=organization,
                    actor=actor,
                    member_list=member_list,
                    members=[locked],
                    ip_address=ip_address,
                )
                joined.append(member_list)
            elif member_list.pk in current and member_list.pk not in wanted:
                list_members_delete(
                    organization=organization,
                    actor=actor,
                    member_list=member_list,
                    members=[locked],
                    ip_address=ip_address,
                )
                left.append(member_list)
    return joined, left


def members_bulk_apply(
    *,
    organization: Organization,
    actor: Member,
    members: Iterable[Member | int],
    action: str,
    role: str | None = None,
    member_list: MemberList | None = None,
    ip_address: str | None = None,
) -> int:
    """Apply one of the directory's bulk actions to members (rows or ids): how many changed.

    All or nothing, in one transaction: a member of another organization (not found) or one
    refused by the rules above stops the whole request, and the error names who and why.
    Locks the organization, then the actor and the members in id order, then the list.
    """
    if action not in BulkAction.values:
        raise ApplicationError(_("Choose an action from the list."), field="action")
    member_ids = member_ids_of(members)
    if not member_ids:
        raise ApplicationError(_("Select at least one member."), field="members")
    if action in (BulkAction.ADD_TO_LIST, BulkAction.REMOVE_FROM_LIST):
        if member_list is None:
            raise ApplicationError(_("Choose a list."), field="member_list")
        with transaction.atomic():
            actor, targets = members_lock(
                organization=organization, actor=actor, member_ids=member_ids
            )
            locked_list = member_list_lock(organization=organization, member_list=member_list)
            write = list_members_insert if action == BulkAction.ADD_TO_LIST else list_members_delete
            changed = write(
                organization=organization,
                actor=actor,
                member_list=locked_list,
                members=targets,
                ip_address=ip_address,
            )
        return len(changed)
    if action == BulkAction.CHANGE_ROLE and role not in Role.values:
        raise ApplicationError(_("Choose a role."), field="role")
    _targets, changed = _members_change(
        organization=organization,
        actor=actor,
        members=member_ids,
        change=_BULK_CHANGES[BulkAction(action)],
        role=role,
        ip_address=ip_address,
        bulk=True,
    )
    return len(changed)
