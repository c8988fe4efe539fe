"""The browser phone's access tokens: what lets a member's browser place calls through Twilio's
Voice JavaScript SDK.

A token is a JWT signed with the platform's Twilio API key, good for ten minutes, that lets its
holder place outgoing calls through our TwiML App (whose webhook authorizes every call against
what the member may spend) and receive none. Its identity names the member, so the webhook knows
who is calling. Minting writes nothing: a token is only a right to ask the webhook.
"""

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError
from subscriptions.selectors.features import member_access
from usage.services.authorize import member_identity

# Long enough for a page left open a while (the page asks for a new one before it runs out),
# short enough that a token copied out of a browser is soon worthless.
TOKEN_TTL = 10 * 60


@dataclass(frozen=True)
class PhoneToken:
    token: str
    identity: str
    expires_in: int


def calling_configured() -> bool:
    """Whether this deployment can place calls from the browser: a Twilio account, an API key to
    sign tokens with, and the TwiML App that receives the calls."""
    return all(
        (
            settings.TWILIO_ACCOUNT_SID,
            settings.TWILIO_API_KEY_SID,
            settings.TWILIO_API_KEY_SECRET,
            settings.TWILIO_TWIML_APP_SID,
        )
    )


def phone_refusal(*, organization: Organization, member: Member) -> ApplicationError | None:
    """Why this member cannot call from the browser here, or None when they can (whether a
    call goes through is the webhook's to decide: credit, rates, caps)."""
    if not calling_configured():
        return ApplicationError(
            _("Calls from the browser are not set up here yet."), code="not_configured"
        )
    if member.organization_id != organization.pk or member.status != Member.Status.ACTIVE:
        return ApplicationError(_("This account cannot call or send messages."), code="inactive")
    if not member_access(organization=organization, member=member).may_call:
        return ApplicationError(
            _("Your company does not allow you to make calls."), code="not_allowed"
        )
    return None


def phone_token_mint(*, organization: Organization, member: Member) -> PhoneToken:
    """A ten-minute access token for the member's browser phone: outgoing calls through the
    TwiML App only, no incoming calls. Raises ApplicationError (code "not_configured",
    "inactive" or "not_allowed") when the member cannot call from the browser."""
    refusal = phone_refusal(organization=organization, member=member)
    if refusal is not None:
        raise refusal
    identity = member_identity(member)
    token = AccessToken(
        settings.TWILIO_ACCOUNT_SID,
        settings.TWILIO_API_KEY_SID,
        settings.TWILIO_API_KEY_SECRET,
        identity=identity,
        ttl=TOKEN_TTL,
    )
    token.add_grant(
        VoiceGrant(outgoing_application_sid=settings.TWILIO_TWIML_APP_SID, incoming_allow=False)
    )
    return PhoneToken(token=token.to_jwt(), identity=identity, expires_in=TOKEN_TTL)
