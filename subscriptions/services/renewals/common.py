"""What the renewal modules share: the statuses renewed, the retry delays, the batch size,
`subscription_renew`'s outcomes and the reasons an end is recorded with; what a batch of one
organization shares (`_Context`); and the writes every path makes (the period's Renewal row,
the audit events).
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from djmoney.money import Money

from credit.models import Account
from credit.selectors.settings import credit_settings
from credit.services.ledger import system_account
from organizations.audit import audit_record
from organizations.models import Organization
from subscriptions.models import FeatureSettings, Plan, Renewal, Subscription
from subscriptions.selectors.catalog import price_for
from subscriptions.services.settings import feature_settings

# Statuses the sweep renews (a number still being bought is not renewed until it is active).
RENEWING = (
    Subscription.Status.ACTIVE,
    Subscription.Status.PAST_DUE,
    Subscription.Status.SUSPENDED,
)
# While a company auto-recharge is on its way, a short renewal is tried again this soon.
RETRY_SOON = timedelta(minutes=15)
# Past due and suspended subscriptions are tried again this often (and at once on a purchase).
RETRY_DAILY = timedelta(days=1)
# Subscriptions renewed by one task: a few seconds of work.
BATCH = 100


class Outcome(StrEnum):
    """What `subscription_renew` did."""

    RENEWED = "renewed"
    REACTIVATED = "reactivated"
    RECHARGING = "recharging"
    PAST_DUE = "past_due"
    SUSPENDED = "suspended"
    RETRY = "retry"
    ENDED = "ended"
    SKIPPED = "skipped"


# Why a subscription ended (in its audit event's data).
END_CANCELLED = "cancelled"
END_NOT_RENEWED = "auto_renew_off"
END_NOT_PAID = "not_paid"
END_NOT_SOLD = "not_sold"


@dataclass
class _Context:
    """What a batch of renewals of one organization shares (read once per batch)."""

    organization: Organization
    settings: FeatureSettings
    company: Account
    bucket: Account
    auto_recharge_on: bool
    prices: dict[tuple[int, int], Money | None] = field(default_factory=dict)

    @classmethod
    def of(cls, organization: Organization) -> "_Context":
        return cls(
            organization=organization,
            settings=feature_settings(organization),
            company=system_account(organization, Account.Kind.ORGANIZATION),
            bucket=system_account(organization, Account.Kind.SUBSCRIPTIONS),
            auto_recharge_on=credit_settings(organization).auto_recharge_enabled,
        )

    def price(self, plan: Plan, months: int) -> Money | None:
        """The catalog's price now (cached for the batch)."""
        key = (plan.pk, months)
        if key not in self.prices:
            self.prices[key] = price_for(
                plan=plan, currency=self.organization.currency, period_months=months
            )
        return self.prices[key]


def _renewal_write(
    organization: Organization,
    subscription: Subscription,
    *,
    start: datetime,
    end: datetime,
    months: int,
    amount: Money,
    status: str,
    transfer,
    now: datetime,
    next_attempt_at: datetime | None,
) -> Renewal:
    """The period's one Renewal row, created on the first attempt and updated after."""
    renewal = (
        Renewal.objects.for_org(organization)
        .filter(subscription=subscription, period_start=start)
        .first()
    )
    values = {
        "period_end": end,
        "period_months": months,
        "amount": amount.amount,
        "status": status,
        "transfer": transfer,
        "last_attempt_at": now,
        "next_attempt_at": next_attempt_at,
    }
    if renewal is None:
        return Renewal.objects.create(
            organization=organization,
            subscription=subscription,
            period_start=start,
            attempts=1,
            **values,
        )
    for name, value in values.items():
        setattr(renewal, name, value)
    renewal.attempts += 1
    renewal.save(update_fields=[*values, "attempts"])
    return renewal


def _audit_event(organization: Organization, subscription: Subscription, verb: str, **data) -> dict:
    return {
        "organization": organization,
        "actor": None,
        "verb": verb,
        "target": subscription,
        "data": {
            "plan": subscription.plan.code,
            "plan_name": subscription.plan.name,
            "member_name": str(subscription.member),
            **{key: str(value) for key, value in data.items()},
        },
    }


def _audit(organization: Organization, subscription: Subscription, verb: str, **data) -> None:
    audit_record(**_audit_event(organization, subscription, verb, **data))
