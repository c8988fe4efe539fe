"""Reads of online numbers and voicemail: a member's own, and the organization's numbers."""

from django.db.models import QuerySet

from organizations.models import Member, Organization
from subscriptions.models import MemberFeatures, Plan, Subscription, Voicemail


def member_numbers(
    *, organization: Organization, member: Member, usable: bool = False
) -> QuerySet[Subscription]:
    """The member's number subscriptions (those that hold a number or are being set up);
    with `usable`, only the active ones with their number."""
    numbers = (
        Subscription.objects.for_org(organization)
        .filter(member=member, plan__kind=Plan.Kind.NUMBER)
        .select_related("plan")
        .order_by("-pk")
    )
    if usable:
        return numbers.filter(status__in=Subscription.USABLE).exclude(phone_number="")
    return numbers.filter(released_at__isnull=True).exclude(status=Subscription.Status.EXPIRED)


def member_voicemails(*, organization: Organization, member: Member) -> QuerySet[Voicemail]:
    return (
        Voicemail.objects.for_org(organization)
        .filter(member=member, deleted_at__isnull=True)
        .defer("audio")
        .order_by("-created_at", "-pk")
    )


def member_voicemail(
    *, organization: Organization, member: Member, voicemail_id: int
) -> Voicemail | None:
    return (
        Voicemail.objects.for_org(organization)
        .filter(member=member, pk=voicemail_id, deleted_at__isnull=True)
        .first()
    )


def member_features_of(*, organization: Organization, member: Member) -> MemberFeatures | None:
    return MemberFeatures.objects.for_org(organization).filter(member=member).first()


def organization_numbers(*, organization: Organization) -> QuerySet[Subscription]:
    """The organization's numbers, newest first, with their members."""
    return (
        Subscription.objects.for_org(organization)
        .filter(plan__kind=Plan.Kind.NUMBER)
        .select_related("plan", "member")
        .order_by("-pk")
    )
