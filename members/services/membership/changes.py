"""Changing memberships: a member's role, suspending, reactivating and removing a member (one
at a time or, through `_members_change`, all or nothing for the directory's bulk actions), and
a member leaving on their own.

A removed member keeps their row and their data ("former member") and leaves every list. Each
change records an audit event with what it was and what it became; a change that changes
nothing records nothing. Locks the organization row, then the actor and the members in id
order (members.services.locks), before the rules (members.services.membership.rules) count
the owners.
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.extensions import removal_answers_apply
from members.models import ListMembership, MemberList
from members.services.locks import member_ids_of, members_lock
from members.services.membership.rules import (
    Change,
    Status,
    _active_owner_count,
    _last_owner,
    _loses_ownership,
    _refusal,
    _refused,
)
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError


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
    removal_answers: dict | None = None,
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
        # What other apps hold for the member (features) follows the answers given.
        removal_answers_apply(
            organization=organization, actor=actor, member=member, answers=removal_answers
        )
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
    removal_answers: dict | None = None,
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
                removal_answers=removal_answers,
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
    *,
    organization: Organization,
    actor: Member,
    member: Member,
    ip_address: str | None = None,
    removal_answers: dict | None = None,
) -> Member:
    """End a membership: status "removed", the date, out of every list; the row and its
    history stay (a "former member"). What other apps hold for the member follows
    `removal_answers` ({question key: answer}, members.extensions), in the same transaction.
    Same locks."""
    targets, _changed = _members_change(
        organization=organization,
        actor=actor,
        members=[member],
        change=Change.REMOVE,
        ip_address=ip_address,
        removal_answers=removal_answers,
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
        removal_answers_apply(organization=organization, actor=locked, member=locked, answers=None)
        audit_record(
            organization=organization,
            actor=locked,
            verb="member.left",
            target=locked,
            data={"role": locked.role, "lists": lists},
            ip_address=ip_address,
        )
    return locked
