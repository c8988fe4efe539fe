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
from django.db import connection, transaction
from django.utils import timezone

from credit.models import Account
from credit.services.ledger import accounts_lock, currency_guard, member_wallet
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
        wallet = _wallet_locked(organization, member)
        now = timezone.now()
        allowance = allowance_reckon(
            organization=organization,
            member=member,
            wallet=wallet,
            destination=destination,
            kind=kind,
            units=units,
            now=now,
            reference=reference,
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
        subscription = allowance.subscription if included else None
        reservation = _hold(
            CallReservation(
                organization=organization,
                member=member,
                kind=kind,
                reference=reference,
                destination=allowance.digits,
                amount=allowance.hold,
                seconds=allowance.seconds,
                included_seconds=included if subscription else 0,
                subscription=subscription,
                expires_at=expires,
                created_at=now,
            )
        )
        caller_id = _caller_id(allowance.features)
        return Authorization(
            allowed=True,
            reason="",
            message="",
            seconds=reservation.seconds,
            caller_id=caller_id,
            digits=reservation.destination,
            reservation=reservation,
            allowance=allowance,
        )


def _wallet_locked(organization: Organization, member: Member) -> Account:
    """The member's wallet, locked (made first when they have none): in one query when it
    exists and the currency is fixed, the usual case."""
    currency_guard(organization)
    wallet = (
        Account.objects.for_org(organization)
        .select_for_update(no_key=True)
        .filter(kind=Account.Kind.MEMBER, member=member)
        .first()
    )
    if wallet is None:
        wallet = member_wallet(organization, member)
        wallet = accounts_lock(organization, [wallet])[wallet.pk]
    return wallet


_HOLD = """
INSERT INTO usage_callreservation (organization_id, member_id, kind, reference, destination,
    amount, seconds, included_seconds, subscription_id, expires_at, released_at, created_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, NULL, %s)
ON CONFLICT (organization_id, reference) DO NOTHING
RETURNING id
"""


def _hold(reservation: CallReservation) -> CallReservation:
    """Write the hold; when the call already holds (a retried webhook, or two at once), the
    first hold stands and is returned."""
    with connection.cursor() as cursor:
        cursor.execute(
            _HOLD,
            [
                reservation.organization_id,
                reservation.member_id,
                reservation.kind,
                reservation.reference,
                reservation.destination,
                reservation.amount,
                reservation.seconds,
                reservation.included_seconds,
                reservation.subscription_id,
                reservation.expires_at,
                reservation.created_at,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return CallReservation.objects.for_org(reservation.organization).get(
            reference=reservation.reference
        )
    reservation.pk = row[0]
    reservation._state.adding = False
    return reservation


def _caller_id(features: MemberFeatures | None) -> str:
    """The number the member's calls show: their chosen online number when they can use it,
    else the platform's default (TWILIO_CALLER_ID)."""
    chosen = features.caller_id if features is not None and features.caller_id_id else None
    if chosen is not None and chosen.status in Subscription.USABLE and chosen.phone_number:
        return chosen.phone_number
    return getattr(settings, "TWILIO_CALLER_ID", "")


def reservation_release(*, organization: Organization, reference: str) -> bool:
    """Stop holding what the call or message `reference` held (it ended without a record, or
    its record arrived). Returns whether a hold was released."""
    released = (
        CallReservation.objects.for_org(organization)
        .filter(reference=(reference or "")[:64], released_at__isnull=True)
        .update(released_at=timezone.now())
    )
    return released > 0
