"""Reads of the member picker: the members a picker's scope offers (members.extensions), found
by a few letters of their name, email address or username. Always given the organization;
a scope's members are narrowed to the organization again here, whatever the scope returns.
"""

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from members.extensions import MEMBER_PICKER_SCOPES
from members.selectors.directory import SORTS
from organizations.models import Member, Organization

# How many matches a search shows; typing more letters finds the others.
PICKER_LIMIT = 10


def active_members(organization: Organization) -> QuerySet[Member]:
    """The "active" scope: members who have joined and are not suspended or gone."""
    return Member.objects.for_org(organization).filter(status=Member.Status.ACTIVE)


def picker_members(*, organization: Organization, scope: str) -> QuerySet[Member]:
    """The members `scope` offers, in directory order; none for an unknown scope."""
    found = MEMBER_PICKER_SCOPES.get(scope)
    if found is None:
        return Member.objects.for_org(organization).none()
    return found(organization).filter(organization_id=organization.pk).order_by(*SORTS["name"])


def _matching(text: str) -> Q:
    return Q(display_name__icontains=text) | Q(email__icontains=text) | Q(username__icontains=text)


@dataclass(frozen=True)
class PickerMatches:
    text: str
    members: list[Member]
    # More members match than are shown.
    more: bool


def member_picker_search(
    *, organization: Organization, scope: str, text: str, limit: int = PICKER_LIMIT
) -> PickerMatches:
    """The first `limit` members of `scope` matching `text` (none for an empty text)."""
    text = text.strip()
    if not text:
        return PickerMatches(text, [], more=False)
    found = list(
        picker_members(organization=organization, scope=scope).filter(_matching(text))[: limit + 1]
    )
    return PickerMatches(text, found[:limit], more=len(found) > limit)


def member_picker_matches(*, organization: Organization, member: Member, text: str) -> bool:
    """Whether `member` is one of the members `text` finds (the name the picker shows for
    them always finds them)."""
    text = text.strip()
    if not text or text.casefold() == str(member).casefold():
        return True
    return (
        Member.objects.for_org(organization).filter(pk=member.pk).filter(_matching(text)).exists()
    )
