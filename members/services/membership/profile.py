"""What the organization knows about a member: their profile (name, phone, job title,
department; not their email or username, which come from their sign-in) and the lists they are
in.

A former member's profile is kept as it was, and a former member joins no list. Locks the
organization row, then the actor and the member, then the lists involved in id order.
"""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _
from phonenumber_field.phonenumber import PhoneNumber

from members.models import ListMembership, MemberList
from members.services.lists import list_members_delete, list_members_insert
from members.services.locks import member_lists_lock, members_lock
from members.services.membership.rules import Status
from organizations.audit import audit_record
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError


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
