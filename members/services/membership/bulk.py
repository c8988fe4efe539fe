"""The directory's bulk actions: adding to and removing from a list, changing the role,
suspending and removing, for many members at once.

All or nothing, in one transaction: when one member is refused, nothing changes and the error
names who and why. Locks the organization row, then the actor and the members in id order, then
the list.
"""

from collections.abc import Iterable

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from members.models import MemberList
from members.services.lists import list_members_delete, list_members_insert
from members.services.locks import member_ids_of, member_list_lock, members_lock
from members.services.membership.changes import _members_change
from members.services.membership.rules import Change
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError


class BulkAction(models.TextChoices):
    ADD_TO_LIST = "add_to_list", gettext_lazy("Add to list")
    REMOVE_FROM_LIST = "remove_from_list", gettext_lazy("Remove from list")
    CHANGE_ROLE = "change_role", gettext_lazy("Change role")
    SUSPEND = "suspend", gettext_lazy("Suspend")
    REMOVE = "remove", gettext_lazy("Remove from the organization")


# These ask for a confirmation page before they run.
DESTRUCTIVE_ACTIONS = frozenset({BulkAction.CHANGE_ROLE, BulkAction.SUSPEND, BulkAction.REMOVE})


_BULK_CHANGES = {
    BulkAction.CHANGE_ROLE: Change.ROLE,
    BulkAction.SUSPEND: Change.SUSPEND,
    BulkAction.REMOVE: Change.REMOVE,
}


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
