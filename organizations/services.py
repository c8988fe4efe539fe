"""Writes for organizations and their settings.

Each function runs in one transaction and records an audit event; the caller (a view or a
task) passes the acting user or member and never touches the models itself.
"""

import zoneinfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_countries import countries

from organizations import extensions
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError

NAME_MAX_LENGTH = Organization._meta.get_field("name").max_length
CURRENCY_FIXED = _lazy(
    "The currency is fixed now that credit has been bought or moved in this organization."
)
SLUG_MAX_LENGTH = 50
# First path segments the product uses or may use; an organization never takes them.
RESERVED_SLUGS = frozenset(
    {
        "admin", "o", "orgs", "accounts", "account", "api", "app", "dev", "healthz", "static",
        "media", "webhooks", "i18n", "new", "settings", "login", "logout", "signup", "www",
        "help", "support", "billing", "skypemgr",
    }
)  # fmt: skip


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ApplicationError(_("Enter the company name."), field="name", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ApplicationError(
            _("Keep the company name to %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            field="name",
            code="too_long",
        )
    return name


def _check_choices(*, country: str, currency: str | None, time_zone: str) -> None:
    if country not in dict(countries):
        raise ApplicationError(_("Choose a country from the list."), field="country")
    if currency is not None and currency not in settings.CURRENCIES:
        raise ApplicationError(_("Choose a currency from the list."), field="currency")
    if time_zone not in zoneinfo.available_timezones():
        raise ApplicationError(_("Choose a time zone from the list."), field="time_zone")


def slug_candidates(name: str):
    """The slug for a name, then the same with -2, -3, … (reserved words always get a suffix)."""
    base = slugify(name)[:SLUG_MAX_LENGTH].strip("-") or "company"
    if base not in RESERVED_SLUGS:
        yield base
    for number in range(2, 10_000):
        suffix = f"-{number}"
        yield f"{base[: SLUG_MAX_LENGTH - len(suffix)].rstrip('-')}{suffix}"


def _free_slug(name: str) -> str:
    for candidate in slug_candidates(name):
        if not Organization.objects.filter(slug=candidate).exists():
            return candidate
    raise ApplicationError(_("Choose a more distinctive company name."), field="name")


def _insert_with_free_slug(**fields) -> Organization:
    """Insert under the first free slug; when a concurrent insert wins it, take the next."""
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Organization.objects.create(slug=_free_slug(fields["name"]), **fields)
        except IntegrityError:
            continue
    raise ApplicationError(_("Please try again in a moment."), code="busy")


def organization_create(
    *,
    user,
    name: str,
    country: str,
    currency: str,
    time_zone: str,
    ip_address: str | None = None,
) -> Organization:
    """Create an organization with `user` as its first owner.

    The person must have verified an email address or a mobile number. The slug comes from
    the name; when another organization holds it, the next free suffix is taken, also under
    a race (the unique index decides, and we try the next one).
    """
    if not user.has_verified_contact():
        raise ApplicationError(
            _("Verify your email address or mobile number before creating an organization."),
            code="unverified",
        )
    name = _clean_name(name)
    _check_choices(country=country, currency=currency, time_zone=time_zone)
    with transaction.atomic():
        organization = _insert_with_free_slug(
            name=name, country=country, currency=currency, time_zone=time_zone, created_by=user
        )
        owner = Member.objects.create(
            organization=organization,
            user=user,
            role=Role.OWNER,
            status=Member.Status.ACTIVE,
            display_name=user.get_full_name() or user.username,
            email=user.email,
            phone=user.phone or "",
            username=user.username,
            joined_at=timezone.now(),
        )
        audit_record(
            organization=organization,
            actor=owner,
            verb="organization.created",
            target=organization,
            data={"name": name, "country": country, "currency": currency, "time_zone": time_zone},
            ip_address=ip_address,
        )
        audit_record(
            organization=organization,
            actor=owner,
            verb="member.joined",
            target=owner,
            data={"role": Role.OWNER},
            ip_address=ip_address,
        )
        extensions.organization_created(organization)
    return organization


def organization_update(
    *,
    organization: Organization,
    actor: Member,
    name: str,
    country: str,
    time_zone: str,
    currency: str | None = None,
    invitation_expiry_days: int | None = None,
    ip_address: str | None = None,
) -> Organization:
    """Change the organization's settings. Locks the organization row.

    The currency may change only until it is fixed (`currency_locked_at`: the first purchase,
    or a first transfer without one); the apps' amounts follow it (extensions.currency_changed).
    The slug never changes, so links people saved keep working.
    """
    if not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(_("Only owners and admins change these settings."), code="denied")
    name = _clean_name(name)
    _check_choices(country=country, currency=currency, time_zone=time_zone)
    if invitation_expiry_days is not None and not 1 <= invitation_expiry_days <= 365:
        raise ApplicationError(
            _("Invitations expire after 1 to 365 days."), field="invitation_expiry_days"
        )
    with transaction.atomic():
        locked = Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        if currency is not None and currency != locked.currency and locked.currency_locked:
            raise ApplicationError(CURRENCY_FIXED, field="currency", code="currency_locked")
        previous_currency = locked.currency
        changes = {}
        for field, value in (
            ("name", name),
            ("country", country),
            ("time_zone", time_zone),
            ("currency", currency if currency is not None else locked.currency),
            ("invitation_expiry_days", invitation_expiry_days or locked.invitation_expiry_days),
        ):
            before = getattr(locked, field)
            if str(before) != str(value):
                changes[field] = {"from": str(before), "to": str(value)}
                setattr(locked, field, value)
        if changes:
            locked.save(update_fields=list(changes))
            if "currency" in changes:
                extensions.currency_changed(locked, previous_currency)
            audit_record(
                organization=locked,
                actor=actor,
                verb="organization.updated",
                target=locked,
                data=changes,
                ip_address=ip_address,
            )
    return locked


def member_add(
    *,
    organization: Organization,
    actor: Member | None,
    user,
    role: Role = Role.MEMBER,
    job_title: str = "",
    department: str = "",
    ip_address: str | None = None,
) -> Member:
    """Make `user` an active member with `role`, or reactivate their former membership.

    Locks the organization row so that concurrent additions of one person make one
    membership (the unique (organization, user) index is the last line).
    """
    if actor is not None and not Role(actor.role).at_least(Role.ADMIN):
        raise ApplicationError(_("Only owners and admins add members."), code="denied")
    if actor is not None and role in (Role.OWNER, Role.ADMIN) and actor.role != Role.OWNER:
        raise ApplicationError(_("Only owners add owners and admins."), code="denied")
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        member = Member.objects.for_org(organization).filter(user=user).first()
        if member is not None and member.status == Member.Status.ACTIVE:
            return member
        if member is None:
            member = Member(organization=organization, user=user)
        member.role = role
        member.status = Member.Status.ACTIVE
        member.display_name = member.display_name or user.get_full_name() or user.username
        member.email = member.email or user.email
        member.phone = member.phone or user.phone or ""
        member.username = user.username
        member.job_title = job_title or member.job_title
        member.department = department or member.department
        member.joined_at = timezone.now()
        member.removed_at = None
        member.save()
        audit_record(
            organization=organization,
            actor=actor,
            verb="member.added" if actor is not None else "member.joined",
            target=member,
            data={"role": role},
            ip_address=ip_address,
        )
    return member
