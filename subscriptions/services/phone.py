"""A member's own phone settings and voicemail: forwarding number, greeting, caller ID,
voicemails listened and deleted. Each service acts for the member on their own rows only;
MemberFeatures is created here when first needed (a member without one uses the defaults).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.audit import audit_record
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError
from subscriptions.models import MemberFeatures, Voicemail
from subscriptions.selectors.phone import member_numbers


def _features(organization: Organization, member: Member) -> MemberFeatures:
    features, _created = (
        MemberFeatures.objects.for_org(organization)
        .select_for_update()
        .get_or_create(member=member, defaults={"organization": organization})
    )
    return features


def forwarding_set(*, organization: Organization, member: Member, number: str) -> MemberFeatures:
    """Forward the member's incoming calls to `number` (E.164), or stop when it is empty."""
    with transaction.atomic():
        features = _features(organization, member)
        features.forwarding_number = number or ""
        features.save(update_fields=["forwarding_number", "updated_at"])
        audit_record(
            organization=organization,
            actor=member,
            verb="phone.forwarding_set",
            target=member,
            data={"number": number or ""},
        )
    return features


def greeting_set(
    *,
    organization: Organization,
    member: Member,
    text: str,
    audio: tuple[bytes, str] | None = None,
    remove_audio: bool = False,
) -> MemberFeatures:
    """Set the voicemail greeting: the text spoken, and an uploaded recording (checked by
    the form) played instead of it while there is one."""
    with transaction.atomic():
        features = _features(organization, member)
        features.greeting_text = text
        if audio is not None:
            features.greeting_audio, features.greeting_audio_type = audio
        elif remove_audio:
            features.greeting_audio, features.greeting_audio_type = b"", ""
        features.save()
        audit_record(
            organization=organization,
            actor=member,
            verb="phone.greeting_set",
            target=member,
            data={"audio": bool(features.greeting_audio)},
        )
    return features


def caller_id_set(*, organization: Organization, member: Member, subscription_id) -> MemberFeatures:
    """Show one of the member's active numbers as the caller ID of their calls (None: the
    company's default). A number that is not theirs or not active is refused."""
    with transaction.atomic():
        chosen = None
        if subscription_id is not None:
            chosen = (
                member_numbers(organization=organization, member=member, usable=True)
                .filter(pk=subscription_id)
                .first()
            )
            if chosen is None:
                raise ApplicationError(_("Choose one of your active numbers."), code="caller_id")
        features = _features(organization, member)
        features.caller_id = chosen
        features.save(update_fields=["caller_id", "updated_at"])
        audit_record(
            organization=organization,
            actor=member,
            verb="phone.caller_id_set",
            target=member,
            data={"number": chosen.phone_number if chosen else ""},
        )
    return features


def _own_voicemail(organization: Organization, member: Member, voicemail_id: int) -> Voicemail:
    voicemail = (
        Voicemail.objects.for_org(organization)
        .select_for_update()
        .filter(member=member, pk=voicemail_id, deleted_at__isnull=True)
        .first()
    )
    if voicemail is None:
        raise ApplicationError(_("This voicemail was not found."), code="not_found")
    return voicemail


def voicemail_listened(*, organization: Organization, member: Member, voicemail_id: int) -> None:
    with transaction.atomic():
        voicemail = _own_voicemail(organization, member, voicemail_id)
        if not voicemail.listened:
            voicemail.listened = True
            voicemail.save(update_fields=["listened"])


def voicemail_delete(*, organization: Organization, member: Member, voicemail_id: int) -> None:
    """Delete a voicemail: its audio goes at once; the row stays (marked deleted) so that a
    repeated recording callback does not bring it back."""
    with transaction.atomic():
        voicemail = _own_voicemail(organization, member, voicemail_id)
        voicemail.deleted_at = timezone.now()
        voicemail.audio = b""
        voicemail.save(update_fields=["deleted_at", "audio"])
