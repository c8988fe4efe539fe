"""The invitee's link and SMS code: turning a link's token into an invitation that can still be
answered (or a typed error), checking a phone invitation's code, and texting a new one.

The lookup is by the token's hash, across tenants: the token names its organization. Checking
a code locks the invitation; texting a new one locks the organization row, then the invitation.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members import tokens
from members.models import Invitation, InvitationDelivery
from members.services.invitations.errors import (
    InvitationExpired,
    InvitationMalformed,
    InvitationRevoked,
    InvitationUnknown,
    InvitationUsed,
)
from members.services.invitations.limits import CODE_LIFETIME, CODE_MAX_ATTEMPTS, _check_volume
from members.services.invitations.managing import _locked
from members.services.invitations.sending import _record_deliveries, _send_after_commit
from organizations.scoping import all_tenants
from skypemgr.errors import ApplicationError


def invitation_from_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation a link names, if it can still be answered; else a typed error.

    The token names its organization: the lookup is by the token's hash, across tenants.
    """
    if not tokens.TOKEN_PATTERN.match(token or ""):
        raise InvitationMalformed(_("This invitation link is incomplete or damaged."))
    digest = tokens.token_hash(token)
    with all_tenants("an invitation link is looked up by its secret, before any organization"):
        found = Invitation.objects.select_related("organization", "member", "invited_by")
        if for_update:
            found = found.select_for_update(of=("self",))
        invitation = found.filter(token_hash=digest).first()
    if invitation is None or not tokens.codes_match(invitation.token_hash, digest):
        raise InvitationUnknown(_("We do not know this invitation link."))
    _raise_unless_open(invitation)
    return invitation


def _raise_unless_open(invitation: Invitation) -> None:
    status = invitation.status
    if status == Invitation.Status.REVOKED:
        raise InvitationRevoked(_("This invitation was withdrawn by the organization."))
    if status in (Invitation.Status.ACCEPTED, Invitation.Status.DECLINED):
        raise InvitationUsed(_("This invitation has already been answered."))
    if status == Invitation.Status.EXPIRED or invitation.expires_at <= timezone.now():
        raise InvitationExpired(_("This invitation has expired."))


def invitation_check_code(*, token: str, code: str) -> Invitation:
    """Check the SMS code of a phone invitation: 15 minutes, 5 attempts, then a new code."""
    failure = None
    with transaction.atomic():
        invitation = invitation_from_token(token, for_update=True)
        if invitation.channel != Invitation.Channel.PHONE:
            return invitation
        if invitation.code_attempts >= CODE_MAX_ATTEMPTS:
            failure = _("Too many wrong codes. Ask for a new code.")
        elif invitation.code_expires_at is None or invitation.code_expires_at <= timezone.now():
            failure = _("This code has expired. Ask for a new code.")
        else:
            expected = tokens.sms_code(invitation.token_nonce, invitation.code_nonce)
            if tokens.codes_match(expected, (code or "").strip()):
                return invitation
            invitation.code_attempts += 1
            invitation.save(update_fields=["code_attempts"])
            left = CODE_MAX_ATTEMPTS - invitation.code_attempts
            failure = (
                ngettext(
                    "Wrong code. %(left)d attempt left.",
                    "Wrong code. %(left)d attempts left.",
                    left,
                )
                % {"left": left}
                if left
                else _("Too many wrong codes. Ask for a new code.")
            )
    raise ApplicationError(failure, field="code", code="wrong_code")


def invitation_send_code(*, token: str) -> Invitation:
    """Text a new code for a phone invitation, within the hourly limits."""
    with transaction.atomic():
        invitation = invitation_from_token(token)
        if invitation.channel != Invitation.Channel.PHONE:
            raise ApplicationError(_("This invitation has no code."))
        organization = invitation.organization
        invitation = _locked(organization, invitation)
        _check_volume(organization, 1, [invitation.address])
        invitation.code_nonce = tokens.new_nonce()
        invitation.code_expires_at = timezone.now() + CODE_LIFETIME
        invitation.code_attempts = 0
        invitation.save(update_fields=["code_nonce", "code_expires_at", "code_attempts"])
        deliveries = _record_deliveries(
            organization, [invitation], kind=InvitationDelivery.Kind.CODE
        )
        _send_after_commit(deliveries)
    return invitation
