"""The row locks that the membership and list services share, always taken in one order.

Order: the organization row, then the members involved (the acting member included) in id
order, then lists in id order. Every write that could change who owns or runs an organization
takes the organization row first, so such writes run one after the other within an
organization and each sees what the previous one committed.
"""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from members.models import MemberList
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import NotFoundError, PermissionDeniedError


def member_ids_of(members: Iterable[Member | int]) -> list[int]:
    """Ids of members given as rows or ids, in the order given, without repeats."""
    return list(dict.fromkeys(getattr(member, "pk", member) for member in members))


def members_lock(
    *, organization: Organization, actor: Member, member_ids: Iterable[int]
) -> tuple[Member, list[Member]]:
    """Lock the organization row, then the actor and the members, and check the actor.

    Runs inside the caller's transaction. Returns the actor and the members as they are now
    (in the order of `member_ids`). A member of another organization, or one that does not
    exist, is not found: nothing tells the two apart.
    """
    Organization.objects.select_for_update().get(pk=organization.pk)
    member_ids = list(dict.fromkeys(member_ids))
    rows = (
        Member.objects.for_org(organization)
        .select_for_update()
        .filter(pk__in={*member_ids, actor.pk})
        .order_by("pk")
    )
    locked = {member.pk: member for member in rows}
    current_actor = locked.get(actor.pk)
    if (
        current_actor is None
        or current_actor.status != Member.Status.ACTIVE
        or not Role(current_actor.role).at_least(Role.ADMIN)
    ):
        raise PermissionDeniedError(_("Only owners and admins manage members."))
    if any(pk not in locked for pk in member_ids):
        raise NotFoundError(
            _("Some of the selected members were not found. Nothing was changed."),
            field="members",
        )
    return current_actor, [locked[pk] for pk in member_ids]


def member_list_lock(*, organization: Organization, member_list: MemberList) -> MemberList:
    """Lock one list of the organization (after the members, see the module's order)."""
    locked = (
        MemberList.objects.for_org(organization)
        .select_for_update()
        .filter(pk=getattr(member_list, "pk", member_list))
        .first()
    )
    if locked is None:
        raise NotFoundError(_("This list was not found."), field="member_list")
    return locked


def member_lists_lock(
    *, organization: Organization, member_lists: Iterable[MemberList]
) -> list[MemberList]:
    ids = {getattr(member_list, "pk", member_list) for member_list in member_lists}
    locked = list(
        MemberList.objects.for_org(organization)
        .select_for_update()
        .filter(pk__in=ids)
        .order_by("pk")
    )
    if len(locked) != len(ids):
        raise NotFoundError(_("Some of the lists were not found."), field="lists")
    return locked
