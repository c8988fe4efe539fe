"""The organization's renewal policy (FeatureSettings): one row, created with the organization,
changed by its owners (`feature_settings_update`, which locks the row and records what changed
in the audit trail)."""

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from djmoney.money import Money

from organizations.audit import audit_record
from organizations.models import Member, Organization
from skypemgr.amounts import LARGEST
from skypemgr.errors import ApplicationError
from subscriptions.models import FeatureSettings

# The bounds the model's validators state, checked again here: a service is called by more
# than the form.
LIMITS = {
    "grace_days": (0, 60),
    "number_hold_days": (0, 365),
    "notice_days": (1, 30),
}


def feature_settings_create(organization: Organization) -> None:
    """Create the row with the defaults (organizations.extensions calls this on creation)."""
    if not FeatureSettings.objects.for_org(organization).exists():
        FeatureSettings.objects.create(organization=organization)


def feature_settings(organization: Organization) -> FeatureSettings:
    """The organization's row (every organization has one)."""
    return FeatureSettings.objects.for_org(organization).get()


def _days(name: str, value) -> int:
    low, high = LIMITS[name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApplicationError(
            _("Enter a whole number of days from %(low)d to %(high)d.")
            % {"low": low, "high": high},
            field=name,
        )
    return value


def _amount(name: str, value, currency: str, *, optional: bool) -> Decimal | None:
    """A Money of `currency`, a Decimal or an int, at zero or above; None only if `optional`."""
    if value is None:
        if optional:
            return None
        raise ApplicationError(_("Enter an amount."), field=name)
    if isinstance(value, Money):
        if str(value.currency) != currency:
            raise ApplicationError(
                _("Amounts are in %(currency)s here.") % {"currency": currency}, field=name
            )
        value = value.amount
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ApplicationError(_("Enter an amount."), field=name)
    value = Decimal(value)
    if not value.is_finite() or value < 0:
        raise ApplicationError(_("Enter 0 or more."), field=name)
    if value > LARGEST:
        raise ApplicationError(_("This amount is too large."), field=name)
    if -value.as_tuple().exponent > 4:
        raise ApplicationError(_("Enter an amount."), field=name)
    return value


def _state(row: FeatureSettings) -> dict:
    """The row as the audit trail stores it (amounts as text, blank as None)."""
    return {
        "grace_days": row.grace_days,
        "number_hold_days": row.number_hold_days,
        "renew_min_balance": (
            None if row.renew_min_balance is None else str(row.renew_min_balance.normalize())
        ),
        "notice_days": row.notice_days,
        "notice_threshold": str(Decimal(row.notice_threshold).normalize()),
    }


def feature_settings_update(
    *,
    organization: Organization,
    actor: Member,
    grace_days: int,
    number_hold_days: int,
    renew_min_balance,
    notice_days: int,
    notice_threshold,
    ip_address: str | None = None,
) -> FeatureSettings:
    """Save the renewal policy: the grace period, how long a suspended number is kept, the
    balance below which nothing renews (None: no such limit), and when admins hear of a large
    renewal run. Checks every value (a refusal changes nothing), locks the settings row, and
    records the changes (before and after) in one audit event; saving the same values again
    records nothing."""
    currency = organization.currency
    values = {
        "grace_days": _days("grace_days", grace_days),
        "number_hold_days": _days("number_hold_days", number_hold_days),
        "renew_min_balance": _amount(
            "renew_min_balance", renew_min_balance, currency, optional=True
        ),
        "notice_days": _days("notice_days", notice_days),
        "notice_threshold": _amount("notice_threshold", notice_threshold, currency, optional=False),
    }
    with transaction.atomic():
        row = FeatureSettings.objects.for_org(organization).select_for_update().get()
        before = _state(row)
        for name, value in values.items():
            setattr(row, name, value)
        row.save()
        row.refresh_from_db()
        after = _state(row)
        changes = {
            name: {"from": before[name], "to": after[name]}
            for name in after
            if after[name] != before[name]
        }
        if changes:
            audit_record(
                organization=organization,
                actor=actor,
                verb="feature_settings.updated",
                data={"changes": changes, "currency": currency},
                ip_address=ip_address,
            )
    return row
