"""Invitations: checking invitees, inviting, sending, resending, revoking, expiring, and the
invitee's answer (accept as an existing account, sign up and accept, decline).

Owns Invitation and InvitationDelivery, and the placeholder Member rows with status "invited".
Locks, always in this order: the organization row, then invitations, then members. Messages
are written and sent by a task after commit (members.tasks), which derives the link and the
code from the invitation's nonces (members.tokens); nothing sent is decided there.

- errors: what an invitee may meet behind a link (malformed, unknown, expired, used, revoked);
- invitees: checking who is to be invited, with a handful of queries per batch, and the
  invite page's preview (limits included);
- limits: who may invite whom, daily invitations, hourly texts, the SMS code's life;
- sending: inviting in bulk and queuing the messages after commit;
- managing: resending, revoking, and the daily expiry sweep;
- links: from a link's token to an open invitation, and the SMS code;
- answering: accepting, signing up and accepting, declining, and the in-app answer.

This package's public names are re-exported here.
"""

# The views and tests read the invitations addressed to an account through this package.
from members.selectors.invitations import invitations_for_user
from members.services.invitations.answering import (
    invitation_accept,
    invitation_decline,
    invitation_identity_problem,
    invitation_respond_in_app,
    invitation_signup,
)
from members.services.invitations.errors import (
    InvitationExpired,
    InvitationLinkError,
    InvitationMalformed,
    InvitationRevoked,
    InvitationUnknown,
    InvitationUsed,
)
from members.services.invitations.invitees import (
    CheckedInvitee,
    InvitationPreview,
    Invitee,
    invitations_preview,
    invitees_check,
    normalize_address,
)
from members.services.invitations.limits import (
    CODE_LIFETIME,
    CODE_MAX_ATTEMPTS,
    INVITABLE_ROLES,
    sms_left_this_hour,
    sms_sent_last_hour,
)
from members.services.invitations.links import (
    invitation_check_code,
    invitation_from_token,
    invitation_send_code,
)
from members.services.invitations.managing import (
    invitation_resend,
    invitations_expire_due,
    invitations_revoke,
)
from members.services.invitations.sending import invitations_create

__all__ = [
    "CODE_LIFETIME",
    "CODE_MAX_ATTEMPTS",
    "INVITABLE_ROLES",
    "CheckedInvitee",
    "InvitationExpired",
    "InvitationLinkError",
    "InvitationMalformed",
    "InvitationPreview",
    "InvitationRevoked",
    "InvitationUnknown",
    "InvitationUsed",
    "Invitee",
    "invitation_accept",
    "invitation_check_code",
    "invitation_decline",
    "invitation_from_token",
    "invitation_identity_problem",
    "invitation_resend",
    "invitation_respond_in_app",
    "invitation_send_code",
    "invitation_signup",
    "invitations_create",
    "invitations_expire_due",
    "invitations_for_user",
    "invitations_preview",
    "invitations_revoke",
    "invitees_check",
    "normalize_address",
    "sms_left_this_hour",
    "sms_sent_last_hour",
]
