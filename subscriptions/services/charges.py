"""Charging a subscription's period to the company balance, and refunding it.

Owns the `subscription_charge` and `subscription_refund` transfers. A period's charge is one
transfer from the company balance to the Subscriptions account, keyed by the subscription and
the period's start: whoever charges a period (the assign form, the renewal sweep, a retry, two
workers at once), the ledger posts it once.
"""

import datetime

from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.services import rollups
from credit.services.ledger import Movement, system_account
from organizations.models import Organization
from subscriptions.models import Subscription


def subscription_charge_key(subscription_id: int, period_start: datetime.datetime) -> str:
    """The idempotency key of the charge for the period starting at `period_start`."""
    start = period_start.astimezone(datetime.UTC)
    return f"subscription:{subscription_id}:period:{start:%Y%m%dT%H%M%S}"


def subscription_refund_key(subscription_id: int, period_start: datetime.datetime) -> str:
    """The idempotency key of the refund of that period (at most one per period)."""
    return subscription_charge_key(subscription_id, period_start) + ":refund"


def charge_memo(subscription: Subscription) -> str:
    return _("%(plan)s for %(member)s") % {
        "plan": subscription.plan.display_name,
        "member": subscription.member,
    }


def _rollup(
    organization: Organization, subscription: Subscription, amount: Money, *, sign: int
) -> rollups.RollupEntry:
    """What a charge (sign 1) or refund (sign -1) adds to the member's daily spending."""
    category = {
        subscription.plan.Kind.NUMBER: rollups.NUMBER,
        subscription.plan.Kind.VOICEMAIL: rollups.VOICEMAIL,
    }.get(subscription.plan.kind, rollups.SUBSCRIPTION)
    return rollups.RollupEntry(
        member_id=subscription.member_id,
        day=rollups.rollup_day(organization),
        category=category,
        amount=sign * amount.amount,
        records=1 if sign > 0 else 0,
    )


def charge_movement(
    *,
    organization: Organization,
    subscription: Subscription,
    period_start: datetime.datetime,
    amount: Money,
    company: Account | None = None,
    subscriptions_account: Account | None = None,
) -> Movement:
    """The movement that pays one period (post it with `transfers_post`)."""
    return Movement(
        source=company or system_account(organization, Account.Kind.ORGANIZATION),
        destination=subscriptions_account
        or system_account(organization, Account.Kind.SUBSCRIPTIONS),
        amount=amount,
        kind=Transfer.Kind.SUBSCRIPTION_CHARGE,
        idempotency_key=subscription_charge_key(subscription.pk, period_start),
        memo=charge_memo(subscription),
        rollup=_rollup(organization, subscription, amount, sign=1),
    )


def refund_movement(
    *,
    organization: Organization,
    subscription: Subscription,
    period_start: datetime.datetime,
    amount: Money,
    charge: Transfer | None = None,
) -> Movement:
    """The movement that gives (part of) a period's charge back to the company balance."""
    return Movement(
        source=system_account(organization, Account.Kind.SUBSCRIPTIONS),
        destination=system_account(organization, Account.Kind.ORGANIZATION),
        amount=amount,
        kind=Transfer.Kind.SUBSCRIPTION_REFUND,
        idempotency_key=subscription_refund_key(subscription.pk, period_start),
        memo=charge_memo(subscription),
        reverses=charge,
        rollup=_rollup(organization, subscription, amount, sign=-1),
    )
