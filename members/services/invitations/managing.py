"""Managing invitations, on the organization's side: resending (a new link and code), revoking,
and the daily sweep that marks the invitations past their date as expired.

Closing an invitation gives back the place it reserved: a new person's placeholder is deleted
(with its lists), a former member's returns to "former member". Resending and revoking lock
the organization row, then the invitations.
"""

from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import tokens
from members.models import Invitation, ListMembership
from members.services.invitations.limits import CODE_LIFETIME, _check_volume, _require_inviter
from members.services.invitations.sending import _audit, _record_deliveries, _send_after_commit
from organizations.audit import audit_record, audit_record_many
from organizations.models import Member, Organization
from organizations.scoping import all_tenants
from skypemgr.errors import ApplicationError


def _locked(organization: Organization, invitation: Invitation) -> Invitation:
    Organization.objects.select_for_update().get(pk=organization.pk)
    return Invitation.objects.for_org(organization).select_for_update().get(pk=invitation.pk)


def invitation_resend(
    *, organization: Organization, actor: Member, invitation: Invitation, ip_address=None
) -> Invitation:
    """Send again with a new link (the old one stops working) and, by SMS, a new code.

    A pending or expired invitation may be resent; it is then valid for a full period again.
    """
    _require_inviter(actor, {invitation.role})
    with transaction.atomic():
        invitation = _locked(organization, invitation)
        if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
            raise ApplicationError(
                _("This invitation was %(status)s; invite the person again instead.")
                % {"status": invitation.get_status_display().lower()}
            )
        if invitation.member is None:
            raise ApplicationError(_("Invite the person again instead."))
        if (
            invitation.status == Invitation.Status.EXPIRED
            and Invitation.objects.for_org(organization)
            .filter(
                channel=invitation.channel,
                address=invitation.address,
                status=Invitation.Status.PENDING,
            )
            .exists()
        ):
            raise ApplicationError(_("A newer invitation to this address is pending."))
        phones = [invitation.address] if invitation.channel == Invitation.Channel.PHONE else []
        _check_volume(organization, 1, phones)
        now = timezone.now()
        invitation.token_nonce = tokens.new_nonce()
        invitation.token_hash = tokens.token_hash(tokens.link_token(invitation.token_nonce))
        invitation.status = Invitation.Status.PENDING
        invitation.expires_at = now + timedelta(days=organization.invitation_expiry_days)
        if invitation.channel == Invitation.Channel.PHONE:
            invitation.code_nonce = tokens.new_nonce()
            invitation.code_expires_at = now + CODE_LIFETIME
            invitation.code_attempts = 0
        invitation.save()
        deliveries = _record_deliveries(organization, [invitation])
        audit_record(**_audit(organization, actor, "invitation.resent", invitation, ip_address))
        _send_after_commit(deliveries)
    return invitation


def invitations_revoke(
    *,
    organization: Organization,
    actor: Member,
    invitations: Sequence[Invitation],
    ip_address=None,
) -> int:
    """Revoke pending invitations; their links stop working. Returns how many were revoked.

    The places they reserved are released: a new person's placeholder is deleted (with its
    lists), a former member's returns to "former member".
    """
    _require_inviter(actor, {invitation.role for invitation in invitations})
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        locked = list(
            Invitation.objects.for_org(organization)
            .select_for_update()
            .filter(pk__in=[invitation.pk for invitation in invitations])
            .filter(status=Invitation.Status.PENDING)
            .order_by("pk")
        )
        for invitation in locked:
            _close(invitation, Invitation.Status.REVOKED)
        audit_record_many(
            [_audit(organization, actor, "invitation.revoked", item, ip_address) for item in locked]
        )
    return len(locked)


def _close(invitation: Invitation, status: str) -> None:
    """End a pending invitation and give back the place it reserved."""
    member = invitation.member
    invitation.status = status
    invitation.responded_at = timezone.now()
    if member is not None and member.status == Member.Status.INVITED:
        if member.joined_at is None:
            invitation.member = None
            invitation.save()
            ListMembership.objects.for_org(invitation.organization).filter(member=member).delete()
            member.delete()
            return
        member.status = Member.Status.REMOVED
        member.save(update_fields=["status"])
    invitation.save()


def invitations_expire_due(*, now=None) -> int:
    """Mark pending invitations past their date as expired (the daily job). Returns the count.

    Placeholders stay, so that a resend keeps the role and lists chosen at invite time.
    """
    now = now or timezone.now()
    with all_tenants("the expiry sweep covers every organization's invitations"):
        return Invitation.objects.filter(
            status=Invitation.Status.PENDING, expires_at__lte=now
        ).update(status=Invitation.Status.EXPIRED)
