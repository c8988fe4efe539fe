"""Members' calls and messages through Twilio: the answer to an outgoing call (TwiML), and the
status callbacks that close them (recorded once, priced and debited by usage.services.ingest).

The outgoing call comes from the browser phone ("client:<identity>") or a SIP phone
("sip:<identity>@…"); the identity names the organization and the member
(usage.services.authorize.member_identity). We answer with a Dial limited to what the member may
spend, to the second, from their caller ID, whose dialled leg reports to our call-status
callback when it ends; or with a refusal spoken in the member's language.

The callbacks' addresses carry the organization's and the member's ids: Twilio signs the whole
address, so they cannot be forged. A callback repeated (Twilio retries) records nothing more.
"""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import Dial, VoiceResponse

from organizations.models import Member, Organization
from organizations.scoping import all_tenants, tenant_scope
from subscriptions.models import Plan, Subscription
from subscriptions.services.notifications import member_language
from subscriptions.services.twilio_numbers import numbers_available
from usage.models import UsageRecord
from usage.services.authorize import call_authorize, member_from_identity, reservation_release
from usage.services.ingest import UsageInput, usage_record_reprice, usage_records_ingest

logger = logging.getLogger(__name__)

SAY_LANGUAGE = {"en": "en-US", "fr": "fr-FR"}
# Statuses of a dialled leg that end it; only "completed" was answered.
CALL_ENDED = {"completed", "busy", "no-answer", "failed", "canceled"}
SMS_SENT = {"sent", "delivered"}
SMS_FAILED = {"failed", "undelivered", "canceled"}


def _url(name: str, **query) -> str:
    from urllib.parse import urlencode

    return settings.SITE_URL + reverse(name) + "?" + urlencode(query)


def _refusal(language: str, text: str) -> str:
    response = VoiceResponse()
    response.say(text, language=SAY_LANGUAGE.get((language or "en")[:2], "en-US"))
    response.hangup()
    return str(response)


def _member(organization_id, member_id) -> tuple[Organization | None, Member | None]:
    """The member a callback or an identity names, with their organization (one query)."""
    if organization_id is None or member_id is None:
        return None, None
    with all_tenants("Twilio signed the ids; the member is looked up within its organization"):
        member = (
            Member.objects.filter(pk=member_id, organization_id=organization_id)
            .select_related("organization", "user")
            .first()
        )
    return (member.organization, member) if member is not None else (None, None)


def outgoing_call_twiml(params: dict) -> str:
    """TwiML for a member's outgoing call: Dial with a time limit, or a spoken refusal."""
    identity = member_from_identity(params.get("From", ""))
    organization, member = _member(*identity) if identity else (None, None)
    if member is None:
        return _refusal("en", _("This phone is not known here. Goodbye."))
    language = member_language(member)
    with tenant_scope(organization), translation.override(language):
        authorization = call_authorize(
            organization=organization,
            member=member,
            destination=params.get("To", ""),
            reference=params.get("CallSid", ""),
        )
        if not authorization.allowed:
            return _refusal(language, authorization.message + " " + _("Goodbye."))
        response = VoiceResponse()
        dial = Dial(
            caller_id=authorization.caller_id or None,
            time_limit=authorization.seconds,
            # The browser phone hears ringing and counts the call from the answer, not from
            # Twilio taking it.
            answer_on_bridge=True,
            action=_url("usage:twilio-outgoing-done", o=organization.pk),
        )
        dial.number(
            "+" + authorization.digits,
            status_callback=_url("usage:twilio-call-status", o=organization.pk, m=member.pk),
            status_callback_event="completed",
            status_callback_method="POST",
        )
        response.append(dial)
        return str(response)


def outgoing_call_done(*, organization_id: str, params: dict) -> None:
    """The Dial of a member's call ended (answered or not): its hold is released (the record,
    if the call was answered, arrives by the call-status callback and releases it too)."""
    organization = Organization.objects.filter(pk=_int(organization_id)).first()
    if organization is None:
        return
    with tenant_scope(organization):
        reservation_release(organization=organization, reference=params.get("CallSid", ""))


def call_status_receive(*, organization_id: str, member_id: str, params: dict) -> str:
    """A dialled leg ended: record it once (CallSid), priced and debited; release its hold.
    Returns what happened: "recorded", "duplicate", "released", "ignored"."""
    organization, member = _member(_int(organization_id), _int(member_id))
    status = params.get("CallStatus", "")
    if member is None or status not in CALL_ENDED:
        return "ignored"
    with tenant_scope(organization):
        parent = params.get("ParentCallSid", "")
        if status != "completed":
            reservation_release(organization=organization, reference=parent)
            return "released"
        seconds = _int(params.get("CallDuration")) or 0
        outcome = _ingest(
            organization,
            UsageInput(
                member=member,
                kind=UsageRecord.Kind.CALL,
                destination=params.get("To", ""),
                started_at=timezone.now() - datetime.timedelta(seconds=seconds),
                seconds=seconds,
                source=UsageRecord.Source.TWILIO,
                external_id=params.get("CallSid", ""),
                reservation=parent,
            ),
        )
        _price_if_given(
            organization, params, params.get("CallSid", ""), outcome, UsageRecord.Kind.CALL
        )
        if outcome.status == "rejected":
            logger.warning("Call %s not recorded: %s", params.get("CallSid"), outcome.reason)
            reservation_release(organization=organization, reference=parent)
        return {"created": "recorded"}.get(outcome.status, outcome.status)


def sms_status_receive(*, organization_id: str, member_id: str, params: dict) -> str:
    """A member's message was sent (recorded once by MessageSid, per part) or failed (its hold
    released). The member is the one the address names, or the holder of the sending number."""
    organization = Organization.objects.filter(pk=_int(organization_id)).first()
    if organization is None:
        return "ignored"
    with tenant_scope(organization):
        member = None
        if member_id:
            member = Member.objects.for_org(organization).filter(pk=_int(member_id)).first()
        if member is None:
            member = _number_holder(organization, params.get("From", ""))
        status = params.get("MessageStatus", "") or params.get("SmsStatus", "")
        reference = params.get("reference", "")
        if member is None:
            return "ignored"
        if status in SMS_FAILED:
            reservation_release(organization=organization, reference=reference)
            return "released"
        if status not in SMS_SENT:
            return "ignored"
        sid = params.get("MessageSid", "") or params.get("SmsSid", "")
        outcome = _ingest(
            organization,
            UsageInput(
                member=member,
                kind=UsageRecord.Kind.SMS,
                destination=params.get("To", ""),
                started_at=timezone.now(),
                units=max(1, _int(params.get("NumSegments")) or 1),
                source=UsageRecord.Source.TWILIO,
                external_id=sid,
                reservation=reference,
            ),
        )
        _price_if_given(organization, params, sid, outcome, UsageRecord.Kind.SMS)
        return {"created": "recorded"}.get(outcome.status, outcome.status)


def _ingest(organization, record: UsageInput):
    [outcome] = usage_records_ingest(organization=organization, records=[record])
    return outcome


def _price_if_given(organization: Organization, params: dict, sid: str, outcome, kind) -> None:
    """Twilio's own price: when the callback carries it (in the organization's currency only),
    at once; else, for a record just made, fetched later by a task (when Twilio is set up)."""
    price, unit = params.get("Price", ""), params.get("PriceUnit", "")
    if not price:
        if outcome.status == "created" and numbers_available():
            from usage.tasks.prices import FIRST_ASK, fetch_price

            organization_id = organization.pk
            transaction.on_commit(
                lambda: fetch_price.apply_async((organization_id, kind, sid), countdown=FIRST_ASK),
                robust=True,
            )
        return
    if unit.upper() == organization.currency:
        usage_record_reprice(
            organization=organization,
            source=UsageRecord.Source.TWILIO,
            external_id=sid,
            provider_cost=price,
        )


def _number_holder(organization: Organization, number: str) -> Member | None:
    subscription = (
        Subscription.objects.for_org(organization)
        .filter(phone_number=number, plan__kind=Plan.Kind.NUMBER, released_at__isnull=True)
        .select_related("member")
        .first()
        if number
        else None
    )
    return subscription.member if subscription else None


def _int(value) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 <= number < 2**31 else None
