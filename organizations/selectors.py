"""Reads about organizations and memberships, always starting from an organization or from
the signed-in person."""

from django.db.models import QuerySet

from organizations.audit_sentences import audit_events_describe
from organizations.models import AuditEvent, Member, Organization
from organizations.scoping import all_tenants


def memberships_for_user(user) -> list[Member]:
    """The person's active memberships, across organizations, for the switcher and the chooser.

    This is the one read that crosses tenants on purpose: it starts from the person, and
    only ever returns their own rows.
    """
    if not user.is_authenticated:
        return []
    with all_tenants("a person's own memberships, to choose an organization"):
        return list(
            Member.objects.filter(user=user, status=Member.Status.ACTIVE)
            .select_related("organization")
            .order_by("organization__name")
        )


def audit_events_for_org(organization: Organization, *, verb: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.for_org(organization).select_related("actor")
    if verb:
        events = events.filter(verb=verb)
    return events.order_by("-created_at", "-id")


def audit_events_recent(organization: Organization, *, limit: int = 8) -> list[AuditEvent]:
    """The latest events, each with its `sentence`."""
    return audit_events_describe(organization, audit_events_for_org(organization)[:limit])


def member_count(organization: Organization) -> int:
    return Member.objects.for_org(organization).filter(status=Member.Status.ACTIVE).count()
