"""Writing invitations' messages: the email or SMS of each delivery, in the inviter's language,
with the link and the code derived from the invitation's nonces.

Owns the link between an InvitationDelivery and its OutboundMessage; the outbox sends them.
"""

from collections.abc import Sequence
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from members import tokens
from members.models import Invitation, InvitationDelivery
from organizations.models import Organization
from organizations.scoping import all_tenants
from outbox.models import OutboundMessage
from outbox.services import message_mark_failed

BATCH_SIZE = 100
# A delivery not written this long after it was recorded lost its task; older than STUCK_FOR
# it is left alone (an invitation sent days late would surprise more than help).
STUCK_AFTER = timedelta(minutes=10)
STUCK_FOR = timedelta(days=2)
STUCK_LIMIT = 5000


def invitation_link(invitation: Invitation) -> str:
    token = tokens.link_token(invitation.token_nonce)
    return settings.SITE_URL + reverse("members:invitation-open", kwargs={"token": token})


def invitation_deliveries_write(
    *, organization: Organization, delivery_ids: Sequence[int]
) -> list[int]:
    """Write the messages of these deliveries of the organization, once, and return the ids
    of those to send.

    Locks the delivery rows; a delivery already written keeps its message (which is returned
    again: sending is idempotent). A delivery of an invitation revoked or answered meanwhile
    writes nothing; one with nowhere to write (a username without a verified email) is marked
    written without a message. Ids of another organization's deliveries are ignored.
    """
    with transaction.atomic():
        deliveries = list(
            InvitationDelivery.objects.for_org(organization)
            .select_for_update(of=("self",))
            .select_related(
                "invitation__organization",
                "invitation__invited_by__user",
                "invitation__invited_user",
            )
            .filter(pk__in=delivery_ids)
            .order_by("pk")
        )
        to_send, messages, written = [], [], []
        rendered: dict[tuple, dict[str, str]] = {}
        for delivery in deliveries:
            if delivery.message_id is not None:
                to_send.append(delivery.message_id)
                continue
            if delivery.written_at is not None:
                continue
            if delivery.invitation.status != Invitation.Status.PENDING:
                continue
            delivery.message = _write(delivery, rendered)
            delivery.written_at = timezone.now()
            written.append(delivery)
            if delivery.message is not None:
                messages.append(delivery.message)
        OutboundMessage.objects.bulk_create(messages)
        for delivery in written:
            # Re-assign so that the foreign key takes the id bulk_create gave the message.
            delivery.message = delivery.message
        InvitationDelivery.objects.for_org(organization).bulk_update(
            written, ["message", "written_at"]
        )
        return to_send + [message.pk for message in messages]


# Stand-ins for what differs between the invitations of one batch: the templates are rendered
# once per kind of message, then each message gets its own link and code.
LINK_MARK, CODE_MARK = "@@invitation-link@@", "@@invitation-code@@"


def _write(delivery: InvitationDelivery, rendered: dict) -> OutboundMessage | None:
    """The unsaved message of one delivery, or None when there is nowhere to send it."""
    invitation = delivery.invitation
    to = delivery.to or (
        _account_email(invitation) if delivery.channel == OutboundMessage.Channel.EMAIL else ""
    )
    if not to:
        return None
    language = _language(invitation)
    parts = _rendered_parts(delivery, language, rendered)
    personal = {
        LINK_MARK: invitation_link(invitation),
        CODE_MARK: tokens.sms_code(invitation.token_nonce, invitation.code_nonce)
        if invitation.code_nonce
        else "",
    }
    for name, text in parts.items():
        for mark, value in personal.items():
            text = text.replace(mark, value)
        parts[name] = text
    return OutboundMessage(
        channel=delivery.channel,
        to=to,
        from_address=settings.DEFAULT_FROM_EMAIL if delivery.channel == "email" else "",
        key=f"invitation-delivery:{delivery.pk}",
        language=language,
        **parts,
    )


def _rendered_parts(delivery: InvitationDelivery, language: str, rendered: dict) -> dict:
    """The message's texts with stand-ins, rendered once for all alike deliveries."""
    invitation = delivery.invitation
    key = (
        language,
        delivery.channel,
        delivery.kind,
        invitation.organization_id,
        invitation.invited_by_id,
        invitation.role,
        invitation.expires_at.date(),
    )
    if key not in rendered:
        context = {
            "organization": invitation.organization,
            "inviter": invitation.invited_by,
            "invitation": invitation,
            "link": LINK_MARK,
            "code": CODE_MARK,
            "role": invitation.get_role_display(),
        }
        with translation.override(language):
            rendered[key] = _render(delivery, context)
    return dict(rendered[key])


def _render(delivery: InvitationDelivery, context: dict) -> dict[str, str]:
    if delivery.channel == OutboundMessage.Channel.SMS:
        template = (
            "members/sms/code.txt"
            if delivery.kind == InvitationDelivery.Kind.CODE
            else "members/sms/invitation.txt"
        )
        return {"body": render_to_string(template, context).strip()}
    subject = render_to_string("members/email/invitation_subject.txt", context)
    return {
        "subject": settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split()),
        "body": render_to_string("members/email/invitation_message.txt", context).strip(),
        "html": render_to_string("members/email/invitation_message.html", context),
    }


def _language(invitation: Invitation) -> str:
    inviter = invitation.invited_by
    if inviter is not None and inviter.user is not None and inviter.user.language:
        return inviter.user.language
    return settings.LANGUAGE_CODE


def _account_email(invitation: Invitation) -> str:
    """For a username invitation: the account's primary verified address, if it has one."""
    user = invitation.invited_user
    if user is None:
        return ""
    address = (
        EmailAddress.objects.filter(user=user, verified=True).order_by("-primary", "pk").first()
    )
    return address.email if address else ""


def invitation_deliveries_fail(
    *, organization: Organization, delivery_ids: Sequence[int], reason: str
) -> None:
    """Give up on deliveries whose messages could not be sent after every retry."""
    message_ids = list(
        InvitationDelivery.objects.for_org(organization)
        .filter(pk__in=delivery_ids, message__isnull=False)
        .values_list("message_id", flat=True)
    )
    for message_id in message_ids:
        message_mark_failed(message_id=message_id, reason=reason)


def invitation_deliveries_stuck() -> list[tuple[int, list[int]]]:
    """Deliveries never written STUCK_AFTER after they were recorded (the task that writes
    them never reached a worker: the broker was down), by organization, in batches: the
    sweep's query. Pending invitations only, recorded within the last STUCK_FOR."""
    now = timezone.now()
    with all_tenants("the stuck-invitation sweep looks at every organization"):
        rows = (
            InvitationDelivery.objects.filter(
                written_at__isnull=True,
                created_at__lt=now - STUCK_AFTER,
                created_at__gte=now - STUCK_FOR,
                invitation__status=Invitation.Status.PENDING,
            )
            .order_by("organization_id", "pk")
            .values_list("organization_id", "pk")[:STUCK_LIMIT]
        )
        by_organization: dict[int, list[int]] = {}
        for organization_id, delivery_id in rows:
            by_organization.setdefault(organization_id, []).append(delivery_id)
    return [
        (organization_id, ids[start : start + BATCH_SIZE])
        for organization_id, ids in by_organization.items()
        for start in range(0, len(ids), BATCH_SIZE)
    ]
