"""Writing the audit trail. Services call `audit_record` inside their own transaction."""

from typing import Any

from django.db import models

from organizations.models import AuditEvent, Member, Organization


def audit_record(
    *,
    organization: Organization,
    actor: Member | None,
    verb: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event. `verb` reads like `member.role_changed`; `data` holds the details.

    `actor_label` names an actor who is not a member (an invitee who declines, say).
    """
    event = _event(
        organization=organization,
        actor=actor,
        verb=verb,
        target=target,
        data=data,
        ip_address=ip_address,
        actor_label=actor_label,
    )
    event.save()
    return event


def audit_record_many(events: list[dict[str, Any]]) -> list[AuditEvent]:
    """Append many events in one statement; each dict takes `audit_record`'s arguments."""
    return AuditEvent.objects.bulk_create(_event(**event) for event in events)


def _event(
    *,
    organization: Organization,
    actor: Member | None,
    verb: str,
    target: models.Model | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
    actor_label: str = "",
) -> AuditEvent:
    return AuditEvent(
        organization=organization,
        actor=actor,
        actor_label=actor_label or (str(actor) if actor else ""),
        verb=verb,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        data=data or {},
        ip_address=ip_address,
    )
