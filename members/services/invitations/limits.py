"""Limits on inviting: who may invite whom (only owners and admins invite, only owners invite
owners and admins), how many invitations an organization sends a day, how many texts go out an
hour (per organization and per number, whichever organization sends them), and how long an SMS
code lives and how many attempts it allows.

Reads only; the services that invite or send hold the organization row's lock while they
count, so two batches of one organization cannot both pass its limits.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from members.models import InvitationDelivery
from organizations.models import Member, Organization
from organizations.roles import Role
from organizations.scoping import all_tenants
from skypemgr.errors import ApplicationError

CODE_LIFETIME = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
INVITABLE_ROLES = (Role.ADMIN, Role.FINANCE, Role.MEMBER, Role.OWNER)


def _require_inviter(actor: Member, roles: set[str]) -> None:
    if not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(_("Only owners and admins invite members."), code="denied")
    if roles & {Role.OWNER, Role.ADMIN} and actor.role != Role.OWNER:
        raise ApplicationError(_("Only owners invite owners and admins."), code="denied")


def _check_volume(organization: Organization, count: int, phones: Sequence[str]) -> None:
    """Daily invitation limit of the organization; hourly SMS limits per number and in all."""
    now = timezone.now()
    deliveries = InvitationDelivery.objects.for_org(organization)
    sent_today = deliveries.filter(created_at__gte=now - timedelta(days=1)).count()
    limit = organization.invitation_daily_limit
    if sent_today + count > limit:
        raise ApplicationError(
            _(
                "Your organization may send %(limit)d invitations a day; %(sent)d were sent in "
                "the last 24 hours. Send fewer, or try again later."
            )
            % {"limit": limit, "sent": sent_today},
            code="daily_limit",
        )
    if not phones:
        return
    hour_ago = now - timedelta(hours=1)
    organization_sms = deliveries.filter(channel="sms", created_at__gte=hour_ago).count()
    organization_limit = settings.INVITATION_SMS_PER_ORGANIZATION_PER_HOUR
    if organization_sms + len(phones) > organization_limit:
        raise ApplicationError(
            _("Your organization may send %(limit)d text messages an hour; try again later.")
            % {"limit": organization_limit},
            code="sms_limit",
        )
    wanted = Counter(phones)
    with all_tenants("a per-number limit counts every organization's texts to that number"):
        used_by_number = dict(
            InvitationDelivery.objects.filter(
                channel="sms", to__in=list(wanted), created_at__gte=hour_ago
            )
            .values("to")
            .annotate(count=Count("id"))
            .values_list("to", "count")
        )
    for phone, count in wanted.items():
        used = used_by_number.get(phone, 0)
        if used + count > settings.INVITATION_SMS_PER_NUMBER_PER_HOUR:
            raise ApplicationError(
                _("%(phone)s has received %(count)d text messages in the last hour; try later.")
                % {"phone": phone, "count": used},
                code="sms_limit",
            )


def sms_left_this_hour(phone: str) -> int:
    """How many more invitation texts one number may receive this hour."""
    return max(0, settings.INVITATION_SMS_PER_NUMBER_PER_HOUR - sms_sent_last_hour(phone))


def sms_sent_last_hour(phone: str) -> int:
    """Invitation texts sent to one number in the last hour, whichever organization sent them."""
    with all_tenants("a per-number limit counts every organization's texts to that number"):
        return InvitationDelivery.objects.filter(
            channel="sms", to=phone, created_at__gte=timezone.now() - timedelta(hours=1)
        ).count()
