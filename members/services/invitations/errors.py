"""Errors an invitee may meet: an invitation link that is malformed, unknown, expired, used or
revoked. Each is an ApplicationError whose `status` is the HTTP status of the page that says so.
"""

from skypemgr.errors import ApplicationError


class InvitationLinkError(ApplicationError):
    """A link that leads nowhere usable; `status` is the HTTP status of the page that says so."""

    status = 404


class InvitationMalformed(InvitationLinkError):
    code = "malformed"


class InvitationUnknown(InvitationLinkError):
    code = "unknown"


class InvitationExpired(InvitationLinkError):
    code = "expired"
    status = 410


class InvitationUsed(InvitationLinkError):
    code = "used"
    status = 410


class InvitationRevoked(InvitationLinkError):
    code = "revoked"
    status = 410
