"""Authorizing members' calls and messages, and holding what they may cost.

Owns CallReservation. `call_authorize` (the outgoing-call webhook) and `sms_authorize` (sending
a message) lock the member's wallet, reckon what the member may spend
(usage.selectors.allowance), and hold it: a CallReservation of the most the call or message may
cost, and of the included seconds it may take, until its usage record arrives
(usage.services.ingest releases it in the same transaction) or it expires. Holding under the
wallet's lock means two calls at once cannot both be allowed the same credit: the second sees
the first's hold. The debit when the usage arrives stays the authority; a hold only limits.

Lock order: the organization's currency guard and the member's wallet (the ledger's order,
`accounts_lock`), then the reservation row.
"""

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from credit.services.ledger import accounts_lock, member_wallet
from organizations.models import Member, Organization
from subscriptions.models import MemberFeatures, Subscription
from usage.models import CallReservation, UsageRecord
from usage.selectors.allowance import Allowance, allowance_reckon

# A hold outlives its call by this much, for the status callback to arrive.
HOLD_MARGIN = datetime.timedelta(minutes=10)
# A message's hold: until Twilio says it was sent or failed.
SMS_HOLD = datetime.timedelta(hours=1)


@dataclass
class Authorization:
    allowed: bool
    reason: str
    message: str
    seconds: int = 0
    caller_id: str = ""
    digits: str = ""
    reservation: CallReservation | None = None
    allowance: Allowance | None = None


def member_identity(member: Member) -> str:
    """The member's identity for Twilio (the browser phone's access token, and the "From" of
    their calls): the organization's and the member's ids."""
    return f"skypemgr-{member.organization_id}-{member.pk}"


def member_from_identity(value: str) -> tuple[int, int] | None:
    """(organization id, member id) from a call's "From": "client:skypemgr-<org>-<member>"
    (the browser phone) or "sip:skypemgr-<org>-<member>@…" (a SIP phone registered with
    that user name)."""
    value = (value or "").strip()
    for scheme in ("client:", "sip:"):
        if value.startswith(scheme):
            value = value[len(scheme) :].split("@", 1)[0]
            break
    else:
        return None
    parts = value.split("-")
    if len(parts) != 3 or parts[0] != "skypemgr" or not all(p.isdigit() for p in parts[1:]):
        return None
    return int(parts[1]), int(parts[2])


def caller_id_of(organization: Organization, member: Member) -> str:
    """The number the member's calls show: their chosen online number when they can use it,
    else the platform's default (TWILIO_CALLER_ID)."""
    features = (
        MemberFeatures.objects.for_org(organization)
        .filter(member=member, caller_id__status__in=Subscription.USABLE)
        .select_related("caller_id")
        .first()
    )
    if features is not None and features.caller_id and features.caller_id.phone_number:
        return features.caller_id.phone_number
    return getattr(settings, "TWILIO_CALLER_ID", "")


def call_authorize(
    *, organization: Organization, member: Member, destination: str, reference: str
) -> Authorization:
    """Allow `member`'s call `reference` (Twilio's CallSid) to `destination`, for as many
    seconds as they may spend, holding its most cost; or refuse it (reason, message).
    The same reference authorized again answers the first hold again."""
    return _authorize(
        organization=organization,
        member=member,
        destination=destination,
        reference=reference,
        kind=UsageRecord.Kind.CALL,
        units=1,
    )


def sms_authorize(
    *, organization: Organization, member: Member, destination: str, units: int, reference: str
) -> Authorization:
    """Allow a message of `units` parts to `destination`, holding its cost; or refuse it."""
    return _authorize(
        organization=organization,
        member=member,
        destination=destination,
        reference=reference,
        kind=UsageRecord.Kind.SMS,
        units=units,
    )


def _authorize(*, organization, member, destination, reference, kind, units) -> Authorization:
    reference = (reference or "")[:64]
    with transaction.atomic():
        existing = CallReservation.objects.for_org(organization).filter(reference=reference).first()
        if existing is not None:
            return _granted(organization, member, existing, existing.seconds, existing.destination)
        wallet = member_wallet(organization, member)
        wallet = accounts_lock(organization, [wallet])[wallet.pk]
        now = timezone.now()
        allowance = allowance_reckon(
            organization=organization,
            member=member,
            wallet=wallet,
            destination=destination,
            kind=kind,
            units=units,
            now=now,
        )
        if not allowance.allowed:
            return Authorization(
                allowed=False,
                reason=allowance.reason,
                message=allowance.message,
                digits=allowance.digits,
                allowance=allowance,
            )
        if kind == UsageRecord.Kind.CALL:
            expires = now + datetime.timedelta(seconds=allowance.seconds) + HOLD_MARGIN
            included = min(allowance.included_seconds, allowance.seconds)
        else:
            expires, included = now + SMS_HOLD, 0
        try:
            with transaction.atomic():
                reservation = CallReservation.objects.create(
                    organization=organization,
                    member=member,
                    kind=kind,
                    reference=reference,
                    destination=allowance.digits,
                    amount=allowance.hold,
                    seconds=allowance.seconds,
                    included_seconds=included if allowance.subscription else 0,
                    subscription=allowance.subscription if included else None,
                    expires_at=expires,
                )
        except IntegrityError:
            # The same call authorized twice at once (a retried webhook): the first hold stands.
            reservation = CallReservation.objects.for_org(organization).get(reference=reference)
        authorization = _granted(
            organization, member, reservation, reservation.seconds, reservation.destination
        )
        authorization.allowance = allowance
        return authorization


def _granted(organization, member, reservation, seconds, digits) -> Authorization:
    return Authorization(
        allowed=True,
        reason="",
        message="",
        seconds=seconds,
        caller_id=caller_id_of(organization, member),
        digits=digits,
        reservation=reservation,
    )


def reservation_release(*, organization: Organization, reference: str) -> bool:
    """Stop holding what the call or message `reference` held (it ended without a record, or
    its record arrived). Returns whether a hold was released."""
    released = (
        CallReservation.objects.for_org(organization)
        .filter(reference=(reference or "")[:64], released_at__isnull=True)
        .update(released_at=timezone.now())
    )
    return released > 0
