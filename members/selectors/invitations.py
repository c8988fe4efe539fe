"""Reads about invitations, for the invitations page and its live status rows."""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from members.models import Invitation, InvitationDelivery
from organizations.models import Organization
from organizations.scoping import all_tenants


def invitations_for_org(
    organization: Organization, *, status: str = "", channel: str = "", q: str = ""
) -> QuerySet[Invitation]:
    """Invitations, newest first, each with its last delivery's state and error."""
    last_delivery = (
        InvitationDelivery.objects.for_org(organization)
        .filter(invitation=OuterRef("pk"))
        .order_by("-created_at", "-pk")
    )
    invitations = (
        Invitation.objects.for_org(organization)
        .select_related("invited_by", "member")
        .annotate(
            delivery_state=Subquery(last_delivery.values("message__status")[:1]),
            delivery_error=Subquery(last_delivery.values("message__error")[:1]),
            delivery_written=Subquery(last_delivery.values("written_at")[:1]),
        )
        .order_by("-created_at", "-pk")
    )
    if status in Invitation.Status.values:
        invitations = invitations.filter(status=status)
    if channel in Invitation.Channel.values:
        invitations = invitations.filter(channel=channel)
    if q:
        invitations = invitations.filter(
            Q(address__icontains=q.strip()) | Q(member__display_name__icontains=q.strip())
        )
    return invitations


def delivery_label(invitation: Invitation) -> str:
    """queued, sent, failed, or in_app (nowhere to write: the person sees it when signed in).

    An invitation to a username is "in_app" once written, whether an email went to the
    account or not: telling "sent" from "in_app" (or showing an email's error) would tell the
    inviter that an account has the username, and whether it has an address.
    """
    if invitation.channel == Invitation.Channel.USERNAME:
        return "in_app" if invitation.delivery_written else "queued"
    if invitation.delivery_state == "sending":
        return "queued"
    if invitation.delivery_state:
        return invitation.delivery_state
    return "in_app" if invitation.delivery_written else "queued"


def invitation_allowance(organization: Organization) -> dict:
    """What the organization may still send: for the invite page."""
    sent = (
        InvitationDelivery.objects.for_org(organization)
        .filter(created_at__gte=timezone.now() - timedelta(days=1))
        .count()
    )
    return {
        "daily_limit": organization.invitation_daily_limit,
        "sent_last_day": sent,
        "remaining_today": max(0, organization.invitation_daily_limit - sent),
        "sms_per_number_per_hour": settings.INVITATION_SMS_PER_NUMBER_PER_HOUR,
        "expiry_days": organization.invitation_expiry_days,
    }


def invitations_for_user(user) -> list[Invitation]:
    """Pending invitations addressed to the person's account, verified email or number.

    Across organizations on purpose: it is what the person was invited to.
    """
    if not user.is_authenticated:
        return []
    emails = list(
        EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    )
    condition = Q(channel=Invitation.Channel.USERNAME, invited_user=user)
    if emails:
        condition |= Q(channel=Invitation.Channel.EMAIL, address__in=[e.lower() for e in emails])
    if user.phone and user.phone_verified:
        condition |= Q(channel=Invitation.Channel.PHONE, address=user.phone.as_e164)
    with all_tenants("a person's own invitations, from every organization that invited them"):
        return list(
            Invitation.objects.filter(condition)
            .filter(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())
            .select_related("organization", "invited_by")
            .order_by("-created_at")
        )
