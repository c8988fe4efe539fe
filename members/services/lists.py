"""Writes for lists of members: create, rename, delete, and who is in each list.

A list groups members (Sales, Support); a member may be in several. Deleting a list never
touches its members. Former members are in no list: removing someone takes them out of every
list (members.services.membership), and they cannot be put back until they rejoin.

Each function runs in one transaction, locks in the order of members.services.locks
(organization, members, lists), and records one audit event per list it changes.
"""

from collections.abc import Iterable, Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from members.models import ListMembership, MemberList
from members.services.locks import member_ids_of, member_list_lock, members_lock
from organizations.audit import audit_record
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError

NAME_MAX_LENGTH = MemberList._meta.get_field("name").max_length


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError(_("Enter a name for the list."), field="name", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ApplicationError(
            _("Keep the list's name to %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            field="name",
            code="too_long",
        )
    return name


def _name_taken(name: str) -> ApplicationError:
    return ApplicationError(
        _("There is already a list called “%(name)s”.") % {"name": name},
        field="name",
        code="duplicate",
    )


def _check_name_free(organization: Organization, name: str, *, exclude_pk=None) -> None:
    """Names are unique per organization whatever their case (a unique index says so too)."""
    others = MemberList.objects.for_org(organization).filter(name__iexact=name)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise _name_taken(name)


def _member_refs(members: Iterable[Member]) -> list[dict]:
    return [{"id": member.pk, "name": str(member)} for member in members]


def list_create(
    *, organization: Organization, actor: Member, name: str, ip_address: str | None = None
) -> MemberList:
    """Create an empty list. Locks the organization row (and checks the actor under it)."""
    name = _clean_name(name)
    with transaction.atomic():
        actor, _members = members_lock(organization=organization, actor=actor, member_ids=[])
        _check_name_free(organization, name)
        try:
            with transaction.atomic():
                member_list = MemberList.objects.create(organization=organization, name=name)
        except IntegrityError:
            raise _name_taken(name) from None
        audit_record(
            organization=organization,
            actor=actor,
            verb="list.created",
            target=member_list,
            data={"name": name},
            ip_address=ip_address,
        )
    return member_list


def list_rename(
    *,
    organization: Organization,
    actor: Member,
    member_list: MemberList,
    name: str,
    ip_address: str | None = None,
) -> MemberList:
    """Rename a list; another list of the organization may not have the name in any case."""
    name = _clean_name(name)
    with transaction.atomic():
        actor, _members = members_lock(organization=organization, actor=actor, member_ids=[])
        locked = member_list_lock(organization=organization, member_list=member_list)
        if locked.name == name:
            return locked
        _check_name_free(organization, name, exclude_pk=locked.pk)
        before = locked.name
        locked.name = name
        try:
            with transaction.atomic():
                locked.save(update_fields=["name"])
        except IntegrityError:
            raise _name_taken(name) from None
        audit_record(
            organization=organization,
            actor=actor,
            verb="list.renamed",
            target=locked,
            data={"from": before, "to": name},
            ip_address=ip_address,
        )
    return locked


def list_delete(
    *,
    organization: Organization,
    actor: Member,
    member_list: MemberList,
    ip_address: str | None = None,
) -> None:
    """Delete a list. Its members stay in the organization and in their other lists."""
    with transaction.atomic():
        actor, _members = members_lock(organization=organization, actor=actor, member_ids=[])
        locked = member_list_lock(organization=organization, member_list=member_list)
        size = ListMembership.objects.for_org(organization).filter(member_list=locked).count()
        audit_record(
            organization=organization,
            actor=actor,
            verb="list.deleted",
            target=locked,
            data={"name": locked.name, "members": size},
            ip_address=ip_address,
        )
        locked.delete()


def list_add_members(
    *,
    organization: Organization,
    actor: Member,
    member_list: MemberList,
    members: Iterable[Member | int],
    ip_address: str | None = None,
) -> list[Member]:
    """Put members in a list; returns those who were not in it yet.

    All or nothing: a member of another organization (not found) or a former member refuses
    the whole request. Locks the organization, the actor and the members, then the list.
    """
    with transaction.atomic():
        actor, targets = members_lock(
            organization=organization, actor=actor, member_ids=member_ids_of(members)
        )
        locked = member_list_lock(organization=organization, member_list=member_list)
        return list_members_insert(
            organization=organization,
            actor=actor,
            member_list=locked,
            members=targets,
            ip_address=ip_address,
        )


def list_remove_members(
    *,
    organization: Organization,
    actor: Member,
    member_list: MemberList,
    members: Iterable[Member | int],
    ip_address: str | None = None,
) -> list[Member]:
    """Take members out of a list; returns those who were in it. Same locks as adding."""
    with transaction.atomic():
        actor, targets = members_lock(
            organization=organization, actor=actor, member_ids=member_ids_of(members)
        )
        locked = member_list_lock(organization=organization, member_list=member_list)
        return list_members_delete(
            organization=organization,
            actor=actor,
            member_list=locked,
            members=targets,
            ip_address=ip_address,
        )


def _former_members_refusal(members: Iterable[Member]) -> ApplicationError | None:
    former = [str(member) for member in members if member.status == Member.Status.REMOVED]
    if not former:
        return None
    return ApplicationError(
        _("Former members cannot be put in a list: %(names)s. Nothing was changed.")
        % {"names": ", ".join(former)},
        field="members",
        code="former_member",
    )


def list_members_insert(
    *,
    organization: Organization,
    actor: Member,
    member_list: MemberList,
    members: Sequence[Member],
    ip_address: str | None = None,
) -> list[Member]:
    """The insert behind adding to a list, for callers that already hold the locks."""
    refusal = _former_members_refusal(members)
    if refusal is not None:
        raise refusal
    present = set(
        ListMembership.objects.for_org(organization)
        .filter(member_list=member_list, member__in=members)
        .values_list("member_id", flat=True)
    )
    added = [member for member in members if member.pk not in present]
    if not added:
        return []
    ListMembership.objects.bulk_create(
        ListMembership(organization=organization, member_list=member_list, member=member)
        for member in added
    )
    audit_record(
        organization=organization,
        actor=actor,
        verb="list.member_added",
        target=member_list,
        data={"members": _member_refs(added)},
        ip_address=ip_address,
    )
    return added


def list_members_delete(
    *,
    organization: Organization,
    actor: Member,
    member_list: MemberList,
    members: Sequence[Member],
    ip_address: str | None = None,
) -> list[Member]:
    """The delete behind taking out of a list, for callers that already hold the locks."""
    rows = ListMembership.objects.for_org(organization).filter(
        member_list=member_list, member__in=members
    )
    present = set(rows.values_list("member_id", flat=True))
    removed = [member for member in members if member.pk in present]
    if not removed:
        return []
    rows.delete()
    audit_record(
        organization=organization,
        actor=actor,
        verb="list.member_removed",
        target=member_list,
        data={"members": _member_refs(removed)},
        ip_address=ip_address,
    )
    return removed
