"""Incoming calls to members' numbers and their voicemail.

Owns the answers to Twilio's voice webhook (TwiML), the Voicemail rows (one per recording),
fetching their audio and mailing it to the member. The webhook views verify Twilio's
signature before anything here runs.

A call goes: forward to the member's forwarding number when they set one, else ring their
mobile when they have one; when nobody answered (the Dial's action comes back here with
DialCallStatus), voicemail if the member has it, else a polite message. A number that is not
ours, suspended or released answers with a polite message too.
"""

import datetime
import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from twilio.twiml.voice_response import VoiceResponse

from organizations.models import Member, Organization
from organizations.scoping import all_tenants
from skypemgr.after_commit import task_after_commit
from subscriptions.models import MemberFeatures, Plan, Subscription, Voicemail
from subscriptions.services.notifications import email_member_voicemail, member_language
from subscriptions.services.twilio_numbers import recording_fetch, webhook_url

logger = logging.getLogger(__name__)

RING_SECONDS = 20
RECORD_MAX_SECONDS = 120
# Twilio's voices by our languages.
SAY_LANGUAGE = {"en": "en-US", "fr": "fr-FR"}
GREETING_SALT = "subscriptions.greeting"
GREETING_URL_MAX_AGE = 24 * 3600


def _say_language(language: str) -> str:
    return SAY_LANGUAGE.get((language or "en")[:2], "en-US")


def number_owner(to: str) -> Subscription | None:
    """The subscription holding the number `to` (held: not released), if any."""
    if not to:
        return None
    with all_tenants("an incoming call names only the number dialled; the row has its org"):
        return (
            Subscription.objects.filter(
                phone_number=to, released_at__isnull=True, plan__kind=Plan.Kind.NUMBER
            )
            .select_related("organization", "member__user", "plan")
            .order_by("-pk")
            .first()
        )


def member_features(organization: Organization, member: Member) -> MemberFeatures | None:
    return MemberFeatures.objects.for_org(organization).filter(member=member).first()


def member_has_voicemail(organization: Organization, member: Member) -> bool:
    """A usable voicemail subscription, or a usable calling plan with voicemail included,
    and the member's access to voicemail not turned off."""
    features = member_features(organization, member)
    if features is not None and not features.may_voicemail:
        return False
    return (
        Subscription.objects.for_org(organization)
        .filter(member=member, status__in=Subscription.USABLE)
        .filter(
            Q(plan__kind=Plan.Kind.VOICEMAIL)
            | Q(plan__kind=Plan.Kind.CALLING, plan__voicemail_included=True)
        )
        .exists()
    )


def _polite_goodbye(language: str, text: str) -> str:
    response = VoiceResponse()
    response.say(text, language=_say_language(language))
    response.hangup()
    return str(response)


def greeting_token(features: MemberFeatures) -> str:
    """A signed reference to a member's uploaded greeting, for Twilio to fetch it (a public
    URL). It names the row and when it changed: a new upload makes older links stale."""
    return signing.dumps(
        [features.organization_id, features.pk, features.updated_at.timestamp()],
        salt=GREETING_SALT,
    )


def greeting_for_token(token: str) -> MemberFeatures | None:
    """The greeting a token names, if the token is ours, recent and still current."""
    try:
        organization_id, features_id, stamp = signing.loads(
            token, salt=GREETING_SALT, max_age=GREETING_URL_MAX_AGE
        )
    except (signing.BadSignature, ValueError, TypeError):
        return None
    with all_tenants("the signed token names the organization and the row"):
        features = MemberFeatures.objects.filter(
            organization_id=organization_id, pk=features_id
        ).first()
    if features is None or not features.greeting_audio:
        return None
    if abs(features.updated_at.timestamp() - float(stamp)) > 0.001:
        return None
    return features


def incoming_call_twiml(params: dict) -> str:
    """The TwiML answering one request of Twilio's voice webhook (see the module's words)."""
    subscription = number_owner(params.get("To", ""))
    if subscription is None or subscription.status not in Subscription.USABLE:
        language = member_language(subscription.member) if subscription else settings.LANGUAGE_CODE
        with translation.override(language):
            return _polite_goodbye(language, _("Sorry, this number cannot take calls. Goodbye."))
    organization, member = subscription.organization, subscription.member
    language = member_language(member)
    with translation.override(language):
        if params.get("RecordingUrl"):
            return _polite_goodbye(language, _("Thank you, your message was recorded. Goodbye."))
        dial_status = params.get("DialCallStatus")
        if dial_status == "completed":
            response = VoiceResponse()
            response.hangup()
            return str(response)
        features = member_features(organization, member)
        if dial_status is None:
            target = ""
            if features is not None and features.forwarding_number:
                target = str(features.forwarding_number)
            elif member.phone:
                target = str(member.phone)
            if target:
                response = VoiceResponse()
                response.dial(
                    target,
                    timeout=RING_SECONDS,
                    action=webhook_url("subscriptions:twilio-voice"),
                    method="POST",
                )
                return str(response)
        if not member_has_voicemail(organization, member):
            return _polite_goodbye(
                language,
                _("Sorry, %(name)s cannot answer and has no voicemail. Please call again later.")
                % {"name": member},
            )
        return _voicemail(subscription, features, language, params.get("From", ""))


def _voicemail(subscription, features, language: str, caller: str) -> str:
    response = VoiceResponse()
    if features is not None and features.greeting_audio:
        response.play(
            settings.SITE_URL
            + reverse("subscriptions:twilio-greeting", kwargs={"token": greeting_token(features)})
        )
    else:
        text = (features.greeting_text if features else "") or _(
            "%(name)s cannot answer. Please leave a message after the tone."
        ) % {"name": subscription.member}
        response.say(text, language=_say_language(language))
    callback = (
        webhook_url("subscriptions:twilio-recording")
        + "?"
        + urlencode({"subscription": subscription.pk, "from": caller})
    )
    response.record(
        max_length=RECORD_MAX_SECONDS,
        play_beep=True,
        action=webhook_url("subscriptions:twilio-voice"),
        method="POST",
        recording_status_callback=callback,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    return str(response)


def recording_receive(*, subscription_id: str, caller: str, params: dict) -> Voicemail | None:
    """Store a finished recording as one Voicemail (a second callback for the same
    RecordingSid finds the first row and does nothing), then fetch and mail it after
    commit. Returns the voicemail, or None when the callback names nothing of ours."""
    sid = params.get("RecordingSid", "")
    url = params.get("RecordingUrl", "")
    if not sid or not url or params.get("RecordingStatus", "completed") != "completed":
        return None
    if not str(subscription_id).isdigit():
        return None
    with all_tenants("the signed callback URL names the subscription; the row has its org"):
        subscription = (
            Subscription.objects.select_related("organization", "member")
            .filter(pk=int(subscription_id))
            .first()
        )
    if subscription is None:
        return None
    organization = subscription.organization
    try:
        duration = max(0, int(params.get("RecordingDuration") or 0))
    except ValueError:
        duration = 0
    try:
        with transaction.atomic():
            voicemail, created = Voicemail.objects.for_org(organization).get_or_create(
                recording_sid=sid[:64],
                defaults={
                    "organization": organization,
                    "member": subscription.member,
                    "subscription": subscription,
                    "caller": caller[:40],
                    "duration": duration,
                    "recording_url": url[:500],
                },
            )
            if created:
                from subscriptions.tasks.numbers import voicemail_deliver

                task_after_commit(voicemail_deliver, organization.pk, voicemail.pk)
    except IntegrityError:
        # Two callbacks at once: the other one stored it.
        with all_tenants("the recording sid is unique across organizations"):
            return Voicemail.objects.filter(recording_sid=sid[:64]).first()
    return voicemail


def voicemail_deliver(*, organization: Organization, voicemail_id: int) -> Voicemail | None:
    """Fetch the recording's audio (once) and mail it to the member (once, by the outbox's
    key). ProviderUnavailable when Twilio cannot give it yet: the task retries."""
    voicemail = (
        Voicemail.objects.for_org(organization)
        .select_related("member__user")
        .filter(pk=voicemail_id, deleted_at__isnull=True)
        .first()
    )
    if voicemail is None:
        return None
    if not voicemail.audio:
        audio, audio_type = recording_fetch(voicemail.recording_url)
        Voicemail.objects.for_org(organization).filter(pk=voicemail.pk).update(
            audio=audio, audio_type=audio_type
        )
        voicemail.audio, voicemail.audio_type = audio, audio_type
    with transaction.atomic():
        email_member_voicemail(organization=organization, voicemail=voicemail)
    return voicemail


def voicemail_attachment(voicemail_id: str):
    """The audio attached to the voicemail email ("subscriptions.voicemail:<id>"), or None
    when it is gone or has no audio."""
    from outbox.attachments import Attachment

    if not str(voicemail_id).isdigit():
        return None
    with all_tenants("an email names its voicemail by id; the row carries its organization"):
        voicemail = (
            Voicemail.objects.filter(pk=int(voicemail_id), deleted_at__isnull=True)
            .exclude(audio=b"")
            .first()
        )
    if voicemail is None:
        return None
    extension = "wav" if "wav" in voicemail.audio_type else "mp3"
    stamp = timezone.localtime(voicemail.created_at, datetime.UTC).strftime("%Y%m%d-%H%M")
    return Attachment(
        filename=f"voicemail-{stamp}.{extension}",
        content=bytes(voicemail.audio),
        mimetype=voicemail.audio_type or "audio/mpeg",
    )
