"""Invitations: checking invitees, inviting, sending, resending, revoking, expiring, and the
invitee's answer (accept as an existing account, sign up and accept, decline).

Owns Invitation and InvitationDelivery, and the placeholder Member rows with status "invited".
Locks, always in this order: the organization row, then invitations, then members. Messages
are written and sent by a task after commit (members.tasks), which derives the link and the
code from the invitation's nonces (members.tokens); nothing sent is decided there.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.fields import E164PhoneField
from members import tokens
from members.models import Invitation, InvitationDelivery, ListMembership, MemberList
from members.selectors.invitations import invitations_for_user
from organizations.audit import audit_record, audit_record_many
from organizations.models import Member, Organization
from organizations.roles import Role
from organizations.scoping import all_tenants
from skypemgr.errors import ApplicationError

CODE_LIFETIME = timedelta(minutes=15)
CODE_MAX_ATTEMPTS = 5
INVITABLE_ROLES = (Role.ADMIN, Role.FINANCE, Role.MEMBER, Role.OWNER)

User = get_user_model()


# --- Errors an invitee may meet ------------------------------------------------------------


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


# --- Checking invitees ---------------------------------------------------------------------


@dataclass(frozen=True)
class Invitee:
    """One person to invite, as typed in the invite form or read from an import row."""

    channel: str
    address: str
    display_name: str = ""
    job_title: str = ""
    department: str = ""
    # For an import row: its own role and lists, instead of the batch's.
    role: str | None = None
    lists: tuple[MemberList, ...] = ()


@dataclass
class CheckedInvitee:
    invitee: Invitee
    address: str = ""
    user: object | None = None
    # The membership to reuse: a former member, or an invited placeholder with no live invitation.
    member: Member | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def normalize_address(channel: str, raw: str) -> str:
    """The canonical form of an address; ApplicationError when it cannot be one."""
    value = (raw or "").strip()
    if channel == Invitation.Channel.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            raise ApplicationError(
                _("“%(value)s” is not a valid email address.") % {"value": value}
            ) from None
        return value.lower()
    if channel == Invitation.Channel.PHONE:
        try:
            return E164PhoneField(required=True).clean(value)
        except ValidationError:
            raise ApplicationError(
                _("“%(value)s” is not a valid mobile number (use +country code).")
                % {"value": value}
            ) from None
    if channel == Invitation.Channel.USERNAME:
        if not value:
            raise ApplicationError(_("Enter a username."))
        return value
    raise ApplicationError(_("Choose how to invite: email, username or mobile number."))


def invitees_check(
    *, organization: Organization, invitees: Sequence[Invitee]
) -> list[CheckedInvitee]:
    """Check many invitees with a handful of queries, in order, flagging duplicates in the batch.

    Reasons: the address is invalid, the username unknown, the person is already a member (or
    suspended), already has a pending invitation, or appears twice in this batch.
    """
    checked = [CheckedInvitee(invitee=invitee) for invitee in invitees]
    for item in checked:
        try:
            item.address = normalize_address(item.invitee.channel, item.invitee.address)
        except ApplicationError as error:
            item.errors.append(error.message)

    usernames = {item.address.lower() for item in checked if item.ok and _is(item, "username")}
    users_by_username = {}
    if usernames:
        users = User.objects.annotate(lower_username=Lower("username"))
        for user in users.filter(lower_username__in=usernames):
            users_by_username[user.username.lower()] = user
    for item in checked:
        if item.ok and _is(item, "username"):
            item.user = users_by_username.get(item.address.lower())
            if item.user is None:
                item.errors.append(
                    _("No account has the username “%(value)s”.") % {"value": item.address}
                )
            else:
                item.address = item.user.username

    members = _members_matching(organization, [item for item in checked if item.ok])
    # Past its date but not swept yet, a pending invitation still holds its address.
    pending = {
        (channel, address): expires_at <= timezone.now()
        for channel, address, expires_at in Invitation.objects.for_org(organization)
        .filter(status=Invitation.Status.PENDING)
        .filter(address__in=[item.address for item in checked if item.ok])
        .values_list("channel", "address", "expires_at")
    }
    seen: set[tuple[str, str]] = set()
    for item in checked:
        if not item.ok:
            continue
        key = (item.invitee.channel, item.address.lower())
        if key in seen:
            item.errors.append(_("Listed twice."))
            continue
        seen.add(key)
        expired = pending.get((item.invitee.channel, item.address))
        if expired is not None:
            item.errors.append(
                _("Already invited; that invitation has expired: resend it.")
                if expired
                else _("Already invited: resend the invitation instead.")
            )
            continue
        member = members.get(key)
        if member is None:
            continue
        if member.status == Member.Status.ACTIVE:
            item.errors.append(_("Already a member."))
        elif member.status == Member.Status.SUSPENDED:
            item.errors.append(_("Already a member, suspended: reactivate them instead."))
        else:
            item.member = member
    return checked


def _is(item: CheckedInvitee, channel: str) -> bool:
    return item.invitee.channel == channel


def _members_matching(organization: Organization, items: list[CheckedInvitee]) -> dict:
    """Existing memberships (any status) keyed by (channel, lower-case address)."""
    emails = {item.address for item in items if _is(item, "email")}
    phones = {item.address for item in items if _is(item, "phone")}
    user_ids = {item.user.pk for item in items if _is(item, "username")}
    if not (emails or phones or user_ids):
        return {}
    verified_emails: dict[int, set[str]] = {}
    if emails:
        rows = EmailAddress.objects.filter(email__in=emails, verified=True)
        for user_id, email in rows.values_list("user_id", "email"):
            verified_emails.setdefault(user_id, set()).add(email.lower())
    condition = Q(email__in=emails) | Q(phone__in=phones) | Q(user_id__in=user_ids)
    condition |= Q(user_id__in=verified_emails) | Q(user__phone__in=phones)
    found = {}
    for member in Member.objects.for_org(organization).filter(condition).select_related("user"):
        keys = {("email", member.email.lower()), ("phone", str(member.phone))}
        if member.user_id:
            keys.add(("username", member.user.username.lower()))
            keys.update(("email", email) for email in verified_emails.get(member.user_id, ()))
            if member.user.phone:
                keys.add(("phone", member.user.phone.as_e164))
        for key in keys:
            # An active membership wins over a former one for the same address.
            current = found.get(key)
            if current is None or member.status == Member.Status.ACTIVE:
                found[key] = member
    return found


# --- Inviting ------------------------------------------------------------------------------


def _require_inviter(actor: Member, roles: set[str]) -> None:
    if not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(_("Only owners and admins invite members."), code="denied")
    if roles & {Role.OWNER, Role.ADMIN} and actor.role != Role.OWNER:
        raise ApplicationError(_("Only owners invite owners and admins."), code="denied")


def _check_volume(organization: Organization, count: int, phones: Sequence[str]) -> None:
    """Daily invitation limit of the organization; hourly SMS limits per number and in all."""
    now = timezone.now()
    deliveries = InvitationDelivery.objects.for_org(organization)
    sent_today = deliveries.filter(created_at__gte=now - timedelta(days=1)).count()
    limit = organization.invitation_daily_limit
    if sent_today + count > limit:
        raise ApplicationError(
            _(
                "Your organization may send %(limit)d invitations a day; %(sent)d were sent in "
                "the last 24 hours. Send fewer, or try again later."
            )
            % {"limit": limit, "sent": sent_today},
            code="daily_limit",
        )
    if not phones:
        return
    hour_ago = now - timedelta(hours=1)
    organization_sms = deliveries.filter(channel="sms", created_at__gte=hour_ago).count()
    organization_limit = settings.INVITATION_SMS_PER_ORGANIZATION_PER_HOUR
    if organization_sms + len(phones) > organization_limit:
        raise ApplicationError(
            _("Your organization may send %(limit)d text messages an hour; try again later.")
            % {"limit": organization_limit},
            code="sms_limit",
        )
    wanted = Counter(phones)
    with all_tenants("a per-number limit counts every organization's texts to that number"):
        used_by_number = dict(
            InvitationDelivery.objects.filter(
                channel="sms", to__in=list(wanted), created_at__gte=hour_ago
            )
            .values("to")
            .annotate(count=Count("id"))
            .values_list("to", "count")
        )
    for phone, count in wanted.items():
        used = used_by_number.get(phone, 0)
        if used + count > settings.INVITATION_SMS_PER_NUMBER_PER_HOUR:
            raise ApplicationError(
                _("%(phone)s has received %(count)d text messages in the last hour; try later.")
                % {"phone": phone, "count": used},
                code="sms_limit",
            )


def sms_left_this_hour(phone: str) -> int:
    """How many more invitation texts one number may receive this hour."""
    return max(0, settings.INVITATION_SMS_PER_NUMBER_PER_HOUR - sms_sent_last_hour(phone))


def sms_sent_last_hour(phone: str) -> int:
    """Invitation texts sent to one number in the last hour, whichever organization sent them."""
    with all_tenants("a per-number limit counts every organization's texts to that number"):
        return InvitationDelivery.objects.filter(
            channel="sms", to=phone, created_at__gte=timezone.now() - timedelta(hours=1)
        ).count()


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
            member.user = item.user
            member.username = item.user.username
            member.email = member.email or item.user.email
            member.display_name = member.display_name or item.user.get_full_name()
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
    """One task per batch of deliveries, so that a worker sends a batch over one connection."""
    from members.services.delivery import BATCH_SIZE
    from members.tasks import send_invitations

    ids = [delivery.pk for delivery in deliveries]
    batches = [ids[start : start + BATCH_SIZE] for start in range(0, len(ids), BATCH_SIZE)]
    for batch in batches:
        send_invitations.delay_on_commit(batch)


def _audit(organization, actor, verb, invitation, ip_address, data=None) -> dict:
    return {
        "organization": organization,
        "actor": actor,
        "verb": verb,
        "target": invitation,
        "data": data or {"channel": invitation.channel, "address": invitation.address},
        "ip_address": ip_address,
    }


# --- Managing invitations ------------------------------------------------------------------


def _locked(organization: Organization, invitation: Invitation) -> Invitation:
    Organization.objects.select_for_update().get(pk=organization.pk)
    return Invitation.objects.for_org(organization).select_for_update().get(pk=invitation.pk)


def invitation_resend(
    *, organization: Organization, actor: Member, invitation: Invitation, ip_address=None
) -> Invitation:
    """Send again with a new link (the old one stops working) and, by SMS, a new code.

    A pending or expired invitation may be resent; it is then valid for a full period again.
    """
    _require_inviter(actor, {invitation.role})
    with transaction.atomic():
        invitation = _locked(organization, invitation)
        if invitation.status not in (Invitation.Status.PENDING, Invitation.Status.EXPIRED):
            raise ApplicationError(
                _("This invitation was %(status)s; invite the person again instead.")
                % {"status": invitation.get_status_display().lower()}
            )
        if invitation.member is None:
            raise ApplicationError(_("Invite the person again instead."))
        if (
            invitation.status == Invitation.Status.EXPIRED
            and Invitation.objects.for_org(organization)
            .filter(
                channel=invitation.channel,
                address=invitation.address,
                status=Invitation.Status.PENDING,
            )
            .exists()
        ):
            raise ApplicationError(_("A newer invitation to this address is pending."))
        phones = [invitation.address] if invitation.channel == Invitation.Channel.PHONE else []
        _check_volume(organization, 1, phones)
        now = timezone.now()
        invitation.token_nonce = tokens.new_nonce()
        invitation.token_hash = tokens.token_hash(tokens.link_token(invitation.token_nonce))
        invitation.status = Invitation.Status.PENDING
        invitation.expires_at = now + timedelta(days=organization.invitation_expiry_days)
        if invitation.channel == Invitation.Channel.PHONE:
            invitation.code_nonce = tokens.new_nonce()
            invitation.code_expires_at = now + CODE_LIFETIME
            invitation.code_attempts = 0
        invitation.save()
        deliveries = _record_deliveries(organization, [invitation])
        audit_record(**_audit(organization, actor, "invitation.resent", invitation, ip_address))
        _send_after_commit(deliveries)
    return invitation


def invitations_revoke(
    *,
    organization: Organization,
    actor: Member,
    invitations: Sequence[Invitation],
    ip_address=None,
) -> int:
    """Revoke pending invitations; their links stop working. Returns how many were revoked.

    The places they reserved are released: a new person's placeholder is deleted (with its
    lists), a former member's returns to "former member".
    """
    _require_inviter(actor, {invitation.role for invitation in invitations})
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        locked = list(
            Invitation.objects.for_org(organization)
            .select_for_update()
            .filter(pk__in=[invitation.pk for invitation in invitations])
            .filter(status=Invitation.Status.PENDING)
            .order_by("pk")
        )
        for invitation in locked:
            _close(invitation, Invitation.Status.REVOKED)
        audit_record_many(
            [_audit(organization, actor, "invitation.revoked", item, ip_address) for item in locked]
        )
    return len(locked)


def _close(invitation: Invitation, status: str) -> None:
    """End a pending invitation and give back the place it reserved."""
    member = invitation.member
    invitation.status = status
    invitation.responded_at = timezone.now()
    if member is not None and member.status == Member.Status.INVITED:
        if member.joined_at is None:
            invitation.member = None
            invitation.save()
            ListMembership.objects.for_org(invitation.organization).filter(member=member).delete()
            member.delete()
            return
        member.status = Member.Status.REMOVED
        member.save(update_fields=["status"])
    invitation.save()


def invitations_expire_due(*, now=None) -> int:
    """Mark pending invitations past their date as expired (the daily job). Returns the count.

    Placeholders stay, so that a resend keeps the role and lists chosen at invite time.
    """
    now = now or timezone.now()
    with all_tenants("the expiry sweep covers every organization's invitations"):
        return Invitation.objects.filter(
            status=Invitation.Status.PENDING, expires_at__lte=now
        ).update(status=Invitation.Status.EXPIRED)


# --- The invitee's side --------------------------------------------------------------------


def invitation_from_token(token: str, *, for_update: bool = False) -> Invitation:
    """The invitation a link names, if it can still be answered; else a typed error.

    The token names its organization: the lookup is by the token's hash, across tenants.
    """
    if not tokens.TOKEN_PATTERN.match(token or ""):
        raise InvitationMalformed(_("This invitation link is incomplete or damaged."))
    digest = tokens.token_hash(token)
    with all_tenants("an invitation link is looked up by its secret, before any organization"):
        found = Invitation.objects.select_related("organization", "member", "invited_by")
        if for_update:
            found = found.select_for_update(of=("self",))
        invitation = found.filter(token_hash=digest).first()
    if invitation is None or not tokens.codes_match(invitation.token_hash, digest):
        raise InvitationUnknown(_("We do not know this invitation link."))
    _raise_unless_open(invitation)
    return invitation


def _raise_unless_open(invitation: Invitation) -> None:
    status = invitation.status
    if status == Invitation.Status.REVOKED:
        raise InvitationRevoked(_("This invitation was withdrawn by the organization."))
    if status in (Invitation.Status.ACCEPTED, Invitation.Status.DECLINED):
        raise InvitationUsed(_("This invitation has already been answered."))
    if status == Invitation.Status.EXPIRED or invitation.expires_at <= timezone.now():
        raise InvitationExpired(_("This invitation has expired."))


def invitation_check_code(*, token: str, code: str) -> Invitation:
    """Check the SMS code of a phone invitation: 15 minutes, 5 attempts, then a new code."""
    failure = None
    with transaction.atomic():
        invitation = invitation_from_token(token, for_update=True)
        if invitation.channel != Invitation.Channel.PHONE:
            return invitation
        if invitation.code_attempts >= CODE_MAX_ATTEMPTS:
            failure = _("Too many wrong codes. Ask for a new code.")
        elif invitation.code_expires_at is None or invitation.code_expires_at <= timezone.now():
            failure = _("This code has expired. Ask for a new code.")
        else:
            expected = tokens.sms_code(invitation.token_nonce, invitation.code_nonce)
            if tokens.codes_match(expected, (code or "").strip()):
                return invitation
            invitation.code_attempts += 1
            invitation.save(update_fields=["code_attempts"])
            left = CODE_MAX_ATTEMPTS - invitation.code_attempts
            failure = (
                ngettext(
                    "Wrong code. %(left)d attempt left.",
                    "Wrong code. %(left)d attempts left.",
                    left,
                )
                % {"left": left}
                if left
                else _("Too many wrong codes. Ask for a new code.")
            )
    raise ApplicationError(failure, field="code", code="wrong_code")


def invitation_send_code(*, token: str) -> Invitation:
    """Text a new code for a phone invitation, within the hourly limits."""
    with transaction.atomic():
        invitation = invitation_from_token(token)
        if invitation.channel != Invitation.Channel.PHONE:
            raise ApplicationError(_("This invitation has no code."))
        organization = invitation.organization
        invitation = _locked(organization, invitation)
        _check_volume(organization, 1, [invitation.address])
        invitation.code_nonce = tokens.new_nonce()
        invitation.code_expires_at = timezone.now() + CODE_LIFETIME
        invitation.code_attempts = 0
        invitation.save(update_fields=["code_nonce", "code_expires_at", "code_attempts"])
        deliveries = _record_deliveries(
            organization, [invitation], kind=InvitationDelivery.Kind.CODE
        )
        _send_after_commit(deliveries)
    return invitation


def invitation_identity_problem(invitation: Invitation, user, *, phone_proven: bool) -> str:
    """Why `user` may not accept this invitation, or "" when they may."""
    channel = invitation.channel
    if channel == Invitation.Channel.USERNAME:
        if invitation.invited_user_id != user.pk:
            return _("This invitation is for the account “%(username)s”.") % {
                "username": invitation.address
            }
        return ""
    if channel == Invitation.Channel.EMAIL:
        if EmailAddress.objects.filter(user=user, email__iexact=invitation.address).exists():
            return ""
        return _(
            "This invitation was sent to %(address)s, which is not an address of your account."
        ) % {"address": invitation.address}
    number = user.phone.as_e164 if user.phone else ""
    if number != invitation.address:
        return _(
            "This invitation was sent to %(address)s, which is not the mobile number of your "
            "account. Add it in your account settings, or sign in with the account that has it."
        ) % {"address": invitation.address}
    if not (phone_proven or user.phone_verified):
        return _("Enter the code we texted to %(address)s first.") % {"address": invitation.address}
    return ""


def invitation_accept(
    *, token: str, user, phone_proven: bool = False, ip_address: str | None = None
) -> Member:
    """Accept as an existing account: the invitation's address must be the account's.

    Locks the organization row, then the invitation: of two simultaneous accepts, the second
    finds it answered. Holding the link proves the email address (the account's matching
    address becomes verified); holding the code proves the number.
    """
    invitation = invitation_from_token(token)
    organization = invitation.organization
    with transaction.atomic():
        invitation = _locked(organization, invitation)
        _raise_unless_open(invitation)
        problem = invitation_identity_problem(invitation, user, phone_proven=phone_proven)
        if problem:
            raise ApplicationError(problem, code="mismatch")
        if invitation.channel == Invitation.Channel.EMAIL:
            EmailAddress.objects.filter(user=user, email__iexact=invitation.address).update(
                verified=True
            )
        elif invitation.channel == Invitation.Channel.PHONE and not user.phone_verified:
            user.phone_verified = True
            user.save(update_fields=["phone_verified"])
        member = _join(invitation, user)
        invitation.status = Invitation.Status.ACCEPTED
        invitation.responded_at = timezone.now()
        invitation.accepted_by = user
        invitation.member = member
        invitation.save()
        audit_record(
            organization=organization,
            actor=member,
            verb="invitation.accepted",
            target=invitation,
            data={"channel": invitation.channel, "role": member.role},
            ip_address=ip_address,
        )
    return member


def _join(invitation: Invitation, user) -> Member:
    """Turn the reserved place into the user's active membership."""
    organization = invitation.organization
    placeholder = invitation.member
    existing = Member.objects.for_org(organization).select_for_update().filter(user=user).first()
    if existing is not None and placeholder is not None and existing.pk != placeholder.pk:
        if existing.status == Member.Status.ACTIVE:
            _drop_placeholder(placeholder)
            return existing
        if existing.status == Member.Status.SUSPENDED:
            raise ApplicationError(
                _("Your membership of %(name)s is suspended; ask an admin to reactivate it.")
                % {"name": organization.name},
                code="suspended",
            )
        # A former membership the invitation did not find: keep its history, take the
        # invitation's role and lists.
        ListMembership.objects.for_org(organization).filter(member=placeholder).update(
            member=existing
        )
        existing.role = placeholder.role
        _drop_placeholder(placeholder)
        member = existing
    else:
        member = placeholder or existing or Member(organization=organization, role=invitation.role)
    member.user = user
    member.status = Member.Status.ACTIVE
    member.joined_at = timezone.now()
    member.removed_at = None
    member.display_name = member.display_name or user.get_full_name() or user.username
    member.email = member.email or user.email
    member.phone = member.phone or user.phone or ""
    member.username = user.username
    member.save()
    return member


def _drop_placeholder(placeholder: Member) -> None:
    if placeholder.joined_at is None:
        placeholder.delete()
    else:
        placeholder.status = Member.Status.REMOVED
        placeholder.save(update_fields=["status"])


def invitation_signup(
    *,
    token: str,
    password: str,
    name: str = "",
    username: str = "",
    phone_proven: bool = False,
    language: str = "",
    ip_address: str | None = None,
):
    """Create an account for the invitee and accept with it, in one transaction.

    The email address (proved by the link) or the number (proved by the code) is the
    account's, verified. Refused when an account already has it: that person signs in.
    Returns (user, member).
    """
    invitation = invitation_from_token(token)
    if invitation.channel == Invitation.Channel.USERNAME:
        raise ApplicationError(_("Sign in with your account to accept this invitation."))
    if invitation.channel == Invitation.Channel.PHONE and not phone_proven:
        raise ApplicationError(_("Enter the code we texted to you first."), field="code")
    with transaction.atomic():
        if invitation.channel == Invitation.Channel.EMAIL:
            taken = EmailAddress.objects.filter(email__iexact=invitation.address).exists()
            taken = taken or User.objects.filter(email__iexact=invitation.address).exists()
        else:
            taken = User.objects.filter(phone=invitation.address).exists()
        if taken:
            raise ApplicationError(
                _("An account already uses this address: sign in to accept."), code="exists"
            )
        username = username.strip()
        if username and User.objects.filter(username__iexact=username).exists():
            raise ApplicationError(_("This username is taken."), field="username")
        first, _sep, last = " ".join(name.split()).partition(" ")
        user = User(
            username=username
            or get_adapter().generate_unique_username(
                [first, last, invitation.address.split("@")[0], "user"]
            ),
            first_name=first[:150],
            last_name=last[:150],
            language=language[:8],
        )
        user.set_password(password)
        if invitation.channel == Invitation.Channel.EMAIL:
            user.email = invitation.address
        else:
            user.phone = invitation.address
            user.phone_verified = True
        user.save()
        if user.email:
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        member = invitation_accept(
            token=token, user=user, phone_proven=phone_proven, ip_address=ip_address
        )
    return user, member


def invitation_decline(*, token: str, user=None, ip_address: str | None = None) -> Invitation:
    """The invitee says no; the link stops working and the reserved place is released."""
    invitation = invitation_from_token(token)
    organization = invitation.organization
    with transaction.atomic():
        invitation = _locked(organization, invitation)
        _raise_unless_open(invitation)
        _close(invitation, Invitation.Status.DECLINED)
        audit_record(
            organization=organization,
            actor=None,
            verb="invitation.declined",
            target=invitation,
            data={"channel": invitation.channel, "by_user": getattr(user, "pk", None)},
            ip_address=ip_address,
            actor_label=invitation.address,
        )
    return invitation


# --- Invitations seen in the product (no link) ---------------------------------------------


def invitation_respond_in_app(
    *, invitation_id: int, user, accept: bool, ip_address: str | None = None
) -> Member | None:
    """Accept or decline an invitation shown in the product; the account is the proof.

    An invitation that is not addressed to this account is "not found".
    """
    invitation = next((i for i in invitations_for_user(user) if i.pk == invitation_id), None)
    if invitation is None:
        raise InvitationUnknown(_("We do not know this invitation."))
    token = tokens.link_token(invitation.token_nonce)
    if accept:
        return invitation_accept(token=token, user=user, ip_address=ip_address)
    invitation_decline(token=token, user=user, ip_address=ip_address)
    return None
