"""The organization's usage policy (UsageSettings): one row, created with the organization,
changed by its owners (`usage_settings_update`, which locks the row and records what changed
in the audit trail)."""

from django.db import transaction
from django.utils.translation import gettext as _

from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError
from usage.models import UsageSettings

# The bounds the model's CHECK states, checked here first for a readable refusal.
FACTOR_RANGE = (2, 100)


def usage_settings_create(organization: Organization) -> None:
    """Create the organization's usage settings (with the organization; never on a read)."""
    if not UsageSettings.objects.for_org(organization).exists():
        UsageSettings.objects.create(organization=organization)


def usage_settings(organization: Organization) -> UsageSettings:
    return UsageSettings.objects.for_org(organization).get()


def _state(row: UsageSettings) -> dict:
    return {
        "mask_destinations": row.mask_destinations,
        "unusual_spend_factor": row.unusual_spend_factor,
    }


def usage_settings_update(
    *,
    organization: Organization,
    actor: Member,
    mask_destinations: bool,
    unusual_spend_factor: int,
    ip_address: str | None = None,
) -> UsageSettings:
    """Save whether destinations are masked and the unusual-spend factor. Owners only. Checks
    every value (a refusal changes nothing), locks the settings row, and records the changes
    (before and after) in one audit event; saving the same values again records nothing."""
    if actor.role != Role.OWNER or actor.organization_id != organization.pk:
        raise ApplicationError(_("Only owners change the usage settings."), code="forbidden")
    low, high = FACTOR_RANGE
    factor = unusual_spend_factor
    if isinstance(factor, bool) or not isinstance(factor, int) or not low <= factor <= high:
        raise ApplicationError(
            _("Enter a whole number from 2 to 100."), field="unusual_spend_factor"
        )
    if not isinstance(mask_destinations, bool):
        raise ApplicationError(_("Choose yes or no."), field="mask_destinations")
    with transaction.atomic():
        row = UsageSettings.objects.for_org(organization).select_for_update().get()
        before = _state(row)
        row.mask_destinations = mask_destinations
        row.unusual_spend_factor = factor
        after = _state(row)
        changes = {
            name: {"from": before[name], "to": after[name]}
            for name in after
            if after[name] != before[name]
        }
        if changes:
            row.save(update_fields=["mask_destinations", "unusual_spend_factor", "updated_at"])
            audit_record(
                organization=organization,
                actor=actor,
                verb="usage_settings.updated",
                data={"changes": changes},
                ip_address=ip_address,
            )
    return row
