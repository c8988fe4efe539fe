"""The invitee's answer: accepting as an existing account, signing up and accepting, declining,
and answering an invitation shown in the product (no link: the account is the proof).

Owns turning the reserved place into the user's active membership. Locks the organization row,
then the invitation, then the user's existing membership: of two simultaneous answers, the
second finds the invitation answered.
"""

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members import tokens
from members.models import Invitation, ListMembership
from members.selectors.invitations import invitations_for_user
from members.services.invitations.errors import InvitationUnknown
from members.services.invitations.links import _raise_unless_open, invitation_from_token
from members.services.invitations.managing import _close, _locked
from organizations.audit import audit_record
from organizations.models import Member
from skypemgr.errors import ApplicationError

User = get_user_model()


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
