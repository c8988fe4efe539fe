"""Reads for the member directory, member details and lists, always given the organization."""

import datetime
import re
import zoneinfo
from dataclasses import dataclass

import phonenumbers
from django.db.models import Case, Count, F, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Lower, NullIf

from members.models import Invitation, ListMembership, MemberList
from organizations.models import Member, Organization
from organizations.roles import Role

Status = Member.Status

# Directory order: most powerful first, the people who can act before the others.
_ROLE_ORDER = Case(
    *(When(role=role, then=Value(-role.rank)) for role in Role), output_field=IntegerField()
)
_STATUS_ORDER = Case(
    *(
        When(status=status, then=Value(position))
        for position, status in enumerate(
            (Status.ACTIVE, Status.INVITED, Status.SUSPENDED, Status.REMOVED)
        )
    ),
    output_field=IntegerField(),
)
# What the directory shows as the name: invited people may have only an address.
_SORT_NAME = Lower(
    Coalesce(NullIf("display_name", Value("")), NullIf("email", Value("")), "username")
)
SORTS = {
    "name": (_SORT_NAME.asc(), "id"),
    "-name": (_SORT_NAME.desc(), "-id"),
    "role": (_ROLE_ORDER.asc(), _SORT_NAME.asc(), "id"),
    "-role": (_ROLE_ORDER.desc(), _SORT_NAME.asc(), "id"),
    "status": (_STATUS_ORDER.asc(), _SORT_NAME.asc(), "id"),
    "-status": (_STATUS_ORDER.desc(), _SORT_NAME.asc(), "id"),
    # People who have not joined yet have no date: they come last either way.
    "joined": (F("joined_at").asc(nulls_last=True), "id"),
    "-joined": (F("joined_at").desc(nulls_last=True), "-id"),
}
SORT_DEFAULT = "name"
# Digits typed in a search: enough of them to mean a phone number rather than a name.
_PHONE_MIN_DIGITS = 3
_NOT_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class DirectoryFilters:
    q: str = ""
    role: str = ""
    # "" means everyone but former members; a Member.Status value, that status only.
    status: str = ""
    member_list: MemberList | None = None
    department: str = ""
    joined_from: datetime.date | None = None
    joined_to: datetime.date | None = None
    sort: str = SORT_DEFAULT


def _phone_search(organization: Organization, text: str) -> Q | None:
    """Numbers as people type them: spaces, dots, dashes, a national leading 0."""
    digits = _NOT_DIGITS.sub("", text)
    if len(digits) < _PHONE_MIN_DIGITS:
        return None
    condition = Q(phone__contains=digits)
    try:
        number = phonenumbers.parse(text, organization.country.code or None)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_possible_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        condition |= Q(phone=e164)
    elif digits.startswith("0") and len(digits) > _PHONE_MIN_DIGITS:
        condition |= Q(phone__contains=digits[1:])
    return condition


def _day_start(day: datetime.date, organization: Organization) -> datetime.datetime:
    return datetime.datetime.combine(
        day, datetime.time.min, tzinfo=zoneinfo.ZoneInfo(organization.time_zone)
    )


def member_directory(
    *, organization: Organization, filters: DirectoryFilters | None = None
) -> QuerySet[Member]:
    """The organization's members matching `filters`, sorted, with their lists prefetched.

    Dates are days in the organization's time zone, both ends included.
    """
    filters = filters or DirectoryFilters()
    members = Member.objects.for_org(organization)
    if filters.status:
        members = members.filter(status=filters.status)
    else:
        members = members.exclude(status=Status.REMOVED)
    if filters.q:
        text = filters.q.strip()
        condition = (
            Q(display_name__icontains=text) | Q(email__icontains=text) | Q(username__icontains=text)
        )
        phone = _phone_search(organization, text)
        if phone is not None:
            condition |= phone
        members = members.filter(condition)
    if filters.role:
        members = members.filter(role=filters.role)
    if filters.member_list is not None:
        in_list = ListMembership.objects.for_org(organization).filter(
            member_list=filters.member_list
        )
        members = members.filter(pk__in=in_list.values("member_id"))
    if filters.department:
        members = members.filter(department__iexact=filters.department)
    if filters.joined_from:
        members = members.filter(joined_at__gte=_day_start(filters.joined_from, organization))
    if filters.joined_to:
        next_day = filters.joined_to + datetime.timedelta(days=1)
        members = members.filter(joined_at__lt=_day_start(next_day, organization))
    order = SORTS.get(filters.sort, SORTS[SORT_DEFAULT])
    return members.order_by(*order).prefetch_related(
        Prefetch("lists", queryset=MemberList.objects.for_org(organization))
    )


def member_departments(*, organization: Organization) -> list[str]:
    """The departments people are in, for the directory's filter."""
    values = (
        Member.objects.for_org(organization)
        .exclude(department="")
        .order_by("department")
        .values_list("department", flat=True)
        .distinct()
    )
    # One entry per department whatever its case; the first spelling met stands for it.
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return sorted(seen.values(), key=str.casefold)


def member_lists_of(*, organization: Organization, member: Member) -> QuerySet[MemberList]:
    return MemberList.objects.for_org(organization).filter(
        pk__in=ListMembership.objects.for_org(organization)
        .filter(member=member)
        .values("member_list_id")
    )


def member_invitations(*, organization: Organization, member: Member) -> QuerySet[Invitation]:
    """A member's invitations, newest first."""
    return (
        Invitation.objects.for_org(organization)
        .filter(member=member)
        .order_by("-created_at", "-id")
    )


def lists_with_counts(*, organization: Organization) -> QuerySet[MemberList]:
    # Meta.ordering does not apply to a GROUP BY query: say the order, or it is the database's.
    return (
        MemberList.objects.for_org(organization)
        .annotate(member_count=Count("members"))
        .order_by(Lower("name"), "pk")
    )


def list_members(*, organization: Organization, member_list: MemberList) -> QuerySet[Member]:
    in_list = ListMembership.objects.for_org(organization).filter(member_list=member_list)
    return (
        Member.objects.for_org(organization)
        .filter(pk__in=in_list.values("member_id"))
        .order_by(*SORTS[SORT_DEFAULT])
    )


def list_candidates(
    *, organization: Organization, member_list: MemberList, q: str = ""
) -> QuerySet[Member]:
    """Active, suspended and invited members not in the list yet, matching `q` if given."""
    members = member_directory(organization=organization, filters=DirectoryFilters(q=q))
    in_list = ListMembership.objects.for_org(organization).filter(member_list=member_list)
    return members.exclude(pk__in=in_list.values("member_id"))


def member_is_last_owner(*, organization: Organization, member: Member) -> bool:
    """True for the organization's only active owner (who may not leave or step down)."""
    if member.role != Role.OWNER or member.status != Status.ACTIVE:
        return False
    owners = Member.objects.for_org(organization).filter(role=Role.OWNER, status=Status.ACTIVE)
    return not owners.exclude(pk=member.pk).exists()
