"""Spending safety: the low-balance warning, and telling the company's managers (owners and
admins) when credit rules cannot be honoured because the company balance is short.

Owns `CreditSettings.low_balance_warned_at` (only that field: it is written with a conditional
UPDATE, never with a whole-row save, so that a settings form saved meanwhile keeps its values).
Emails go through the outbox under keys derived from what they are about, so that a sweep that
runs every ten minutes, or twice at once, sends each of them once. Each manager reads them in
their own language.

The reading side of the members' monthly spending cap is in credit.selectors.spending.
"""

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from credit.models import Account, CreditSettings, Purchase
from credit.selectors.settings import credit_settings
from credit.services import auto_recharge
from credit.services.ledger import system_account
from credit.services.notifications import email_members, site_url
from organizations.audit import audit_record
from organizations.models import Organization
from organizations.roles import Role

__all__ = [
    "company_auto_recharge_check",
    "company_short_handle",
    "low_balance_check",
    "managers_email",
]


def managers_email(*, organization: Organization, template: str, key: str, context: dict) -> int:
    """Queue `credit/email/<template>_{subject,message}` to each manager (active owners and
    admins), once per manager for `key`."""
    return email_members(
        organization=organization,
        roles=[Role.OWNER, Role.ADMIN],
        template=template,
        key=key,
        context=context,
    )


# --- Company auto-recharge ----------------------------------------------------------------------


def company_auto_recharge_check(*, organization: Organization) -> Purchase | None:
    """Ask the company auto-recharge to start when it is enabled (it decides whether the
    balance is below its threshold, and never runs twice at once)."""
    if not credit_settings(organization).auto_recharge_enabled:
        return None
    return auto_recharge.auto_recharge_start_if_needed(organization=organization)


def _auto_recharge_in_flight(organization: Organization) -> bool:
    return (
        Purchase.objects.for_org(organization)
        .filter(method=Purchase.Method.AUTO_RECHARGE, status__in=Purchase.IN_FLIGHT)
        .exists()
    )


def company_short_handle(
    *,
    organization: Organization,
    template: str,
    key: str,
    context: dict,
    email_anyway: bool = False,
) -> bool:
    """The company balance cannot pay what a rule gives: ask for a company auto-recharge when
    it is enabled, and email the managers when none is on its way (or `email_anyway`).

    `key` names the email (the caller puts a period or a day in it to say how often it may be
    sent). Returns whether a company auto-recharge is on its way. Call it outside the
    transaction that found the balance short: the recharge locks rows of its own.
    """
    recharging = False
    if credit_settings(organization).auto_recharge_enabled:
        started = auto_recharge.auto_recharge_start_if_needed(organization=organization)
        recharging = started is not None or _auto_recharge_in_flight(organization)
    if email_anyway or not recharging:
        managers_email(
            organization=organization,
            template=template,
            key=key,
            context={
                **context,
                "auto_recharge_started": recharging,
                "buy_link": site_url("credit:buy", org_slug=organization.slug),
                "rules_link": site_url("credit:rule-list", org_slug=organization.slug),
            },
        )
    return recharging


# --- Low balance ------------------------------------------------------------------------------


def low_balance_check(*, organization: Organization) -> str | None:
    """Warn the managers once when the company balance is below the warning level; re-arm when
    it is back at or above it (or the warning was switched off).

    Returns "warned", "rearmed" or None. A conditional UPDATE of `low_balance_warned_at` is the
    guard: of two checks at once, one warns.
    """
    settings_row = credit_settings(organization)
    level: Money = settings_row.low_balance_warning
    balance = system_account(organization, Account.Kind.ORGANIZATION).balance
    rows = CreditSettings.objects.for_org(organization).filter(pk=settings_row.pk)
    below = level.amount > 0 and balance < level
    if below and settings_row.low_balance_warned_at is None:
        now = timezone.now()
        with transaction.atomic():
            warned = rows.filter(low_balance_warned_at__isnull=True).update(
                low_balance_warned_at=now
            )
            if not warned:
                return None
            _low_balance_warn(organization, settings_row, balance, now)
        return "warned"
    rearm = not below and settings_row.low_balance_warned_at is not None
    if rearm and rows.filter(low_balance_warned_at__isnull=False).update(
        low_balance_warned_at=None
    ):
        return "rearmed"
    return None


def _low_balance_warn(
    organization: Organization, settings_row: CreditSettings, balance: Money, now
) -> None:
    level = settings_row.low_balance_warning
    audit_record(
        organization=organization,
        actor=None,
        verb="credit.low_balance_warned",
        data={"balance": str(balance.amount), "level": str(level.amount)},
    )
    managers_email(
        organization=organization,
        template="low_balance",
        key=f"credit:low-balance:{organization.pk}:{now.isoformat()}",
        context={
            "balance": balance,
            "level": level,
            "auto_recharge_enabled": settings_row.auto_recharge_enabled,
            "buy_link": site_url("credit:buy", org_slug=organization.slug),
            "settings_link": site_url("credit:settings", org_slug=organization.slug),
        },
    )
