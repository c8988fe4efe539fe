"""Inviting: `invitations_create` inserts the placeholder members, the invitations, their list
memberships and their deliveries in bulk, all or nothing, and queues the sending after commit.

An invitation to a username that no account has is made like any other, with no account to
tell (`invited_user` is None): nobody can see or accept it, no message is written, and it
expires. To the inviter it looks exactly like an invitation to an existing account, so that
inviting cannot be used to learn which usernames exist.

Owns the placeholder Member rows with status "invited" and the InvitationDelivery rows; the
helpers that record a delivery, queue its sending and describe an audit event are shared with
resending and with texting a new code. Locks the organization row.
"""

from collections.abc import Sequence
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import tokens
from members.models import Invitation, InvitationDelivery, ListMembership, MemberList
from members.services.invitations.invitees import Invitee, _is, invitees_check
from members.services.invitations.limits import (
    CODE_LIFETIME,
    INVITABLE_ROLES,
    _check_volume,
    _require_inviter,
)
from organizations.audit import audit_record_many
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.after_commit import task_after_commit
from skypemgr.errors import ApplicationError


def invitations_create(
    *,
    organization: Organization,
    actor: Member,
    invitees: Sequence[Invitee],
    role: str = Role.MEMBER,
    lists: Sequence[MemberList] = (),
    ip_address: str | None = None,
) -> list[Invitation]:
    """Invite everyone in `invitees`, all or nothing, and send after commit.

    Locks the organization row, so that concurrent batches cannot pass the daily limit or
    invite one address twice. Each invitee gets a placeholder membership (a former member's
    is reused), joins `lists` and its own lists, and an invitation valid for the
    organization's number of days. Raises ApplicationError, naming the first refused invitee,
    when any of them is refused.
    """
    if not invitees:
        raise ApplicationError(_("Add at least one person to invite."))
    roles = {invitee.role or role for invitee in invitees}
    if not roles <= set(INVITABLE_ROLES):
        raise ApplicationError(_("Choose a role from the list."), field="role")
    _require_inviter(actor, roles)
    for member_list in [*lists, *(lst for invitee in invitees for lst in invitee.lists)]:
        if member_list.organization_id != organization.pk:
            raise ApplicationError(_("Choose lists of this organization."), field="lists")

    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        checked = invitees_check(organization=organization, invitees=invitees)
        refused = next((item for item in checked if not item.ok), None)
        if refused is not None:
            raise ApplicationError(
                f"{refused.invitee.address}: {' '.join(refused.errors)}", code="invitee"
            )
        phones = [item.address for item in checked if _is(item, "phone")]
        _check_volume(organization, len(checked), phones)
        invitations = _insert(organization, actor, checked, role, lists)
        deliveries = _record_deliveries(organization, invitations)
        audit_records = [
            _audit(organization, actor, "invitation.sent", invitation, ip_address)
            for invitation in invitations
        ]
        audit_record_many(audit_records)
        _send_after_commit(deliveries)
    return invitations


def _insert(organization, actor, checked, role, lists) -> list[Invitation]:
    now = timezone.now()
    expires_at = now + timedelta(days=organization.invitation_expiry_days)
    placeholders, reused = [], []
    for item in checked:
        invitee = item.invitee
        member = item.member or Member(organization=organization, created_at=now)
        member.status = Member.Status.INVITED
        member.role = invitee.role or role
        member.display_name = invitee.display_name or member.display_name
        member.job_title = invitee.job_title or member.job_title
        member.department = invitee.department or member.department
        if _is(item, "email"):
            member.email = member.email or item.address
        elif _is(item, "phone"):
            member.phone = member.phone or item.address
        else:
            # Nothing of the account (its name, its email) is copied before the person
            # accepts: the place looks the same whether or not an account has the username.
            member.user = item.user
            member.username = item.address
        (reused if member.pk else placeholders).append(member)
        item.member = member
    Member.objects.bulk_create(placeholders)
    Member.objects.for_org(organization).bulk_update(
        reused, ["status", "role", "display_name", "job_title", "department", "email", "phone",
                 "user", "username"],
    )  # fmt: skip

    invitations = []
    for item in checked:
        nonce = tokens.new_nonce()
        invitation = Invitation(
            organization=organization,
            channel=item.invitee.channel,
            address=item.address,
            invited_user=item.user,
            member=item.member,
            role=item.member.role,
            invited_by=actor,
            token_nonce=nonce,
            token_hash=tokens.token_hash(tokens.link_token(nonce)),
            expires_at=expires_at,
        )
        if _is(item, "phone"):
            invitation.code_nonce = tokens.new_nonce()
            invitation.code_expires_at = now + CODE_LIFETIME
        invitations.append(invitation)
    Invitation.objects.bulk_create(invitations)

    memberships = {
        (member_list.pk, item.member.pk): ListMembership(
            organization=organization, member_list=member_list, member=item.member
        )
        for item in checked
        for member_list in [*lists, *item.invitee.lists]
    }
    ListMembership.objects.bulk_create(memberships.values(), ignore_conflicts=True)
    return invitations


def _record_deliveries(
    organization, invitations, kind=InvitationDelivery.Kind.INVITATION
) -> list[InvitationDelivery]:
    deliveries = [
        InvitationDelivery(
            organization=organization,
            invitation=invitation,
            kind=kind,
            channel="sms" if invitation.channel == Invitation.Channel.PHONE else "email",
            to=invitation.address if invitation.channel != Invitation.Channel.USERNAME else "",
        )
        for invitation in invitations
    ]
    return InvitationDelivery.objects.bulk_create(deliveries)


def _send_after_commit(deliveries: Sequence[InvitationDelivery]) -> None:
    """One task per batch of deliveries, so that a worker sends a batch over one connection.
    With the broker down the invitations are saved all the same; the stuck-invitation sweep
    (members.send_stuck_invitations) sends them."""
    from members.services.delivery import BATCH_SIZE
    from members.tasks import send_invitations

    ids = [delivery.pk for delivery in deliveries]
    if not ids:
        return
    organization_id = deliveries[0].organization_id
    batches = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
    for batch in batches:
        task_after_commit(send_invitations, organization_id, batch)


def _audit(organization, actor, verb, invitation, ip_address, data=None) -> dict:
    return {
        "organization": organization,
        "actor": actor,
        "verb": verb,
        "target": invitation,
        "data": data or {"channel": invitation.channel, "address": invitation.address},
        "ip_address": ip_address,
    }
