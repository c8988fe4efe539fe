"""Checking invitees: who is to be invited (`Invitee`, as typed in the invite form or read from
an import row), their addresses in canonical form, and the reasons one is refused (an invalid
or over-long address, already a member, already invited, listed twice in the batch).

Whether an account has a username is never told: an inviter could otherwise list the product's
accounts one guess at a time. A well-formed username is "ready" whether or not it exists; at
sending, an existing account gets the invitation, a missing one gets an invitation nobody can
accept, which expires like any other (members.services.invitations.sending).

Phone numbers may be typed as dialled in the organization's country ("06 12 34 56 78" in
France); they are kept in E.164.

Reads only, with a handful of queries whatever the number of invitees; writes nothing.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.fields import E164PhoneField
from members.models import Invitation, MemberList
from members.services.invitations.limits import _check_volume
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError

User = get_user_model()

# What the rows sending writes can hold: the invitation's address, the account's username.
ADDRESS_MAX_LENGTH = Invitation._meta.get_field("address").max_length
USERNAME_MAX_LENGTH = User._meta.get_field("username").max_length


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


def normalize_address(channel: str, raw: str, *, region: str | None = None) -> str:
    """The canonical form of an address; ApplicationError when it cannot be one.

    An email address in lower case, a number in E.164 (typed with + and the country code, or
    as dialled in `region`, a country code such as "FR"), a username in lower case. Refuses
    what sending could not store, so that a line shown as ready is sent.
    """
    value = (raw or "").strip()
    if channel == Invitation.Channel.EMAIL:
        # Django accepts addresses up to 320 characters; an invitation holds 254, as SMTP does.
        if len(value) > ADDRESS_MAX_LENGTH:
            raise ApplicationError(
                _("This email address is too long (%(max)d characters at most).")
                % {"max": ADDRESS_MAX_LENGTH}
            )
        try:
            validate_email(value)
        except ValidationError:
            raise ApplicationError(
                _("“%(value)s” is not a valid email address.") % {"value": value}
            ) from None
        return value.lower()
    if channel == Invitation.Channel.PHONE:
        try:
            return E164PhoneField(required=True, region=region or None).clean(value)
        except ValidationError:
            raise ApplicationError(
                _(
                    "“%(value)s” is not a valid mobile number: type it as dialled in the "
                    "organization's country, or with + and the country code."
                )
                % {"value": value[:40]}
            ) from None
    if channel == Invitation.Channel.USERNAME:
        if not value:
            raise ApplicationError(_("Enter a username."))
        if len(value) > USERNAME_MAX_LENGTH:
            raise ApplicationError(
                _("A username has at most %(max)d characters.") % {"max": USERNAME_MAX_LENGTH}
            )
        try:
            User.username_validator(value)
        except ValidationError:
            raise ApplicationError(
                _(
                    "“%(value)s” cannot be a username: a username holds only letters, digits "
                    "and @ . + - _"
                )
                % {"value": value}
            ) from None
        return value.lower()
    raise ApplicationError(_("Choose how to invite: email, username or mobile number."))


def invitees_check(
    *, organization: Organization, invitees: Sequence[Invitee]
) -> list[CheckedInvitee]:
    """Check many invitees with a handful of queries, in order, flagging duplicates in the batch.

    Reasons: the address is invalid, the person is already a member (or suspended), already
    has a pending invitation, or appears twice in this batch. A username that no account has is
    not a reason (see the module's docstring): its `user` is None, and nothing else differs.
    """
    region = organization.country.code or None
    checked = [CheckedInvitee(invitee=invitee) for invitee in invitees]
    for item in checked:
        try:
            item.address = normalize_address(
                item.invitee.channel, item.invitee.address, region=region
            )
        except ApplicationError as error:
            item.errors.append(error.message)

    usernames = {item.address for item in checked if item.ok and _is(item, "username")}
    users_by_username = {}
    if usernames:
        users = User.objects.annotate(lower_username=Lower("username"))
        for user in users.filter(lower_username__in=usernames):
            users_by_username[user.username.lower()] = user
    for item in checked:
        if item.ok and _is(item, "username"):
            item.user = users_by_username.get(item.address)

    members = _members_matching(organization, [item for item in checked if item.ok])
    # Past its date but not swept yet, a pending invitation still holds its address.
    # Addresses compare in lower case: invitations to usernames once kept the account's case.
    pending = {
        (channel, address): expires_at <= timezone.now()
        for channel, address, expires_at in Invitation.objects.for_org(organization)
        .filter(status=Invitation.Status.PENDING)
        .annotate(lower_address=Lower("address"))
        .filter(lower_address__in=[item.address.lower() for item in checked if item.ok])
        .values_list("channel", "lower_address", "expires_at")
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
        expired = pending.get(key)
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


@dataclass
class InvitationPreview:
    """What sending these invitees would do: each line checked, and a reason the whole batch
    would be refused (a daily or hourly limit), or ""."""

    items: list[CheckedInvitee]
    problem: str = ""

    @property
    def ready_count(self) -> int:
        return sum(1 for item in self.items if item.ok)


def invitations_preview(
    *, organization: Organization, invitees: Sequence[Invitee]
) -> InvitationPreview:
    """Check the invitees as sending will, limits included, so that a batch shown as ready is
    not refused when sent (unless something changes meanwhile). Reads only."""
    items = invitees_check(organization=organization, invitees=invitees)
    ready = [item for item in items if item.ok]
    problem = ""
    if ready:
        try:
            _check_volume(
                organization, len(ready), [item.address for item in ready if _is(item, "phone")]
            )
        except ApplicationError as error:
            problem = error.message
    return InvitationPreview(items=items, problem=problem)


def _is(item: CheckedInvitee, channel: str) -> bool:
    return item.invitee.channel == channel


def _members_matching(organization: Organization, items: list[CheckedInvitee]) -> dict:
    """Existing memberships (any status) keyed by (channel, lower-case address)."""
    emails = {item.address for item in items if _is(item, "email")}
    phones = {item.address for item in items if _is(item, "phone")}
    usernames = {item.address for item in items if _is(item, "username")}
    user_ids = {item.user.pk for item in items if _is(item, "username") and item.user}
    if not (emails or phones or usernames):
        return {}
    verified_emails: dict[int, set[str]] = {}
    if emails:
        rows = EmailAddress.objects.filter(email__in=emails, verified=True)
        for user_id, email in rows.values_list("user_id", "email"):
            verified_emails.setdefault(user_id, set()).add(email.lower())
    condition = Q(email__in=emails) | Q(phone__in=phones) | Q(user_id__in=user_ids)
    condition |= Q(user_id__in=verified_emails) | Q(user__phone__in=phones)
    # The place an earlier invitation to a username kept, whether or not an account has it.
    condition |= Q(user__isnull=True, status=Member.Status.INVITED, username__in=usernames)
    found = {}
    for member in Member.objects.for_org(organization).filter(condition).select_related("user"):
        keys = {("email", member.email.lower()), ("phone", str(member.phone))}
        if member.username and not member.user_id:
            keys.add(("username", member.username.lower()))
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
