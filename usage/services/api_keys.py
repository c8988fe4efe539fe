"""The organization's API keys: creating one (shown once), revoking one, turning a presented
key into its row, and the audit trail of every use.

A key is "smk_" and 43 random URL-safe characters (256 bits). Only its SHA-256 is stored (a
key this random needs no salt or slow hash: nothing can be guessed from the digest), with its
first characters to tell keys apart. A key belongs to one organization and sees only that
organization's data. Owners and admins create and revoke keys; each create, revoke and API
request leaves one audit event.
"""

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from organizations.audit import audit_record
from organizations.models import AuditEvent, Member, Organization
from organizations.roles import Role
from organizations.scoping import all_tenants
from skypemgr.errors import ApplicationError, PermissionDeniedError
from usage.models import ApiKey

KEY_PREFIX = "smk_"
KEY_PATTERN = re.compile(r"^smk_[A-Za-z0-9_-]{43}$")
# "smk_" and the first 8 random characters: enough to tell a company's keys apart, far too
# few to help guess the rest.
SHOWN_LENGTH = len(KEY_PREFIX) + 8
NAME_MAX_LENGTH = ApiKey._meta.get_field("name").max_length
# last_used_at is written at most this often, so that a busy key does not write a row per
# request (the audit trail has every request).
LAST_USED_PRECISION = timedelta(minutes=1)


def key_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _clean_name(name: str) -> str:
    """One line of printable text: control and format characters (NUL, bidi overrides) go,
    runs of spaces become one."""
    name = "".join(
        " " if unicodedata.category(char) in ("Cc", "Zl", "Zp") else char
        for char in str(name or "")
        if unicodedata.category(char) != "Cf"
    )
    name = " ".join(name.split())
    if not name:
        raise ApplicationError(
            _("Enter a name for the key, such as the system that will use it."),
            field="name",
            code="required",
        )
    if len(name) > NAME_MAX_LENGTH:
        raise ApplicationError(
            _("Keep the key's name to %(max)d characters.") % {"max": NAME_MAX_LENGTH},
            field="name",
            code="too_long",
        )
    return name


def _actor_lock(organization: Organization, actor: Member) -> Member:
    """Lock the acting member's row and check they are an active owner or admin now."""
    current = Member.objects.for_org(organization).select_for_update().filter(pk=actor.pk).first()
    if (
        current is None
        or current.status != Member.Status.ACTIVE
        or not Role(current.role).at_least(Role.ADMIN)
    ):
        raise PermissionDeniedError(_("Only owners and admins manage API keys."))
    return current


def api_key_create(
    *, organization: Organization, actor: Member, name: str, ip_address: str | None = None
) -> tuple[ApiKey, str]:
    """Create a key named `name` and return it with its plaintext, which is never stored and
    cannot be shown again. Locks the actor's member row (to check their role)."""
    name = _clean_name(name)
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        actor = _actor_lock(organization, actor)
        key = ApiKey.objects.create(
            organization=organization,
            name=name,
            prefix=plaintext[:SHOWN_LENGTH],
            key_hash=key_hash(plaintext),
            created_by=actor,
        )
        audit_record(
            organization=organization,
            actor=actor,
            verb="api_key.created",
            target=key,
            data={"name": key.name, "prefix": key.prefix},
            ip_address=ip_address,
        )
    return key, plaintext


def api_key_revoke(
    *, organization: Organization, actor: Member, key: ApiKey, ip_address: str | None = None
) -> ApiKey:
    """Revoke `key` at once: the next request with it is refused. Revoking a revoked key
    changes nothing. Locks the actor's member row, then the key."""
    with transaction.atomic():
        actor = _actor_lock(organization, actor)
        locked = ApiKey.objects.for_org(organization).select_for_update().filter(pk=key.pk).first()
        if locked is None:
            raise ApplicationError(_("This API key was not found."), code="not_found")
        if locked.revoked_at is not None:
            return locked
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            organization=organization,
            actor=actor,
            verb="api_key.revoked",
            target=locked,
            data={"name": locked.name, "prefix": locked.prefix},
            ip_address=ip_address,
        )
    return locked


def api_key_authenticate(plaintext: str) -> ApiKey | None:
    """The live key `plaintext` is, with its organization; None for a malformed, unknown or
    revoked key.

    The lookup is by the key's hash, across tenants (the key names its organization); the
    digests are compared in constant time. `last_used_at` moves at most once a minute, by a
    conditional update that never waits on a lock.
    """
    if not isinstance(plaintext, str) or not KEY_PATTERN.match(plaintext):
        return None
    digest = key_hash(plaintext)
    with all_tenants("an API key is looked up by its secret, before any organization"):
        key = ApiKey.objects.select_related("organization").filter(key_hash=digest).first()
    if key is None or not hmac.compare_digest(key.key_hash, digest):
        return None
    if key.revoked_at is not None:
        return None
    now = timezone.now()
    if key.last_used_at is None or key.last_used_at <= now - LAST_USED_PRECISION:
        ApiKey.objects.for_org(key.organization).filter(pk=key.pk).exclude(
            last_used_at__gt=now - LAST_USED_PRECISION
        ).update(last_used_at=now)
        key.last_used_at = now
    return key


def api_key_use_record(
    *,
    key: ApiKey,
    operation: str,
    status: int,
    counts: dict[str, int] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """One audit event for one API request made with `key`: the operation ("usage.post",
    "usage.list", "usage.get"), the HTTP status answered, and the numbers of records (sent,
    created, duplicate, rejected; or returned)."""
    return audit_record(
        organization=key.organization,
        actor=None,
        actor_label=str(key),
        verb="api_key.used",
        target=key,
        data={"operation": operation, "status": status, **(counts or {})},
        ip_address=ip_address,
    )
