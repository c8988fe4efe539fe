"""Renewing subscriptions at the end of their period: the charge, the next period, and what
happens when the company balance cannot pay (auto-recharge, past due, grace, suspension).

Owns, on a due subscription: its status, period fields, past_due_since / suspended_at /
ended_at, and its Renewal rows after the first. The first period's row is written by the
assign form (subscriptions.services.assign).

Exactly one renewal per (subscription, period start), whatever happens (a sweep run twice, two
workers, a worker killed mid-renewal): `subscription_renew` locks the subscription row (FOR
UPDATE SKIP LOCKED, so a second sweep passes over it instead of waiting), re-checks that it is
still due, and writes the charge, the Renewal row, the subscription's new period and its audit
event in one transaction. A killed worker's transaction rolls back whole; the renewal's unique
constraint and the charge's idempotency key (`subscription_charge_key`) back the lock up.

Lock order (as the ledger's): the subscription row (step 2, like a purchase or rule row), then
the company balance and the Subscriptions account in id order (`accounts_lock`). Company
auto-recharge takes the organization row, so it is started outside that transaction.

A due period that cannot be paid keeps its Renewal row, status `due`, with `attempts` and
`next_attempt_at`, and the subscription keeps its old period until it is paid: a payment
during grace or suspension pays the period that was due (its start does not move), and the
feature is usable again at once.

Ended numbers and the number-release step (subscriptions.release_held_numbers, written with
the numbers): a subscription with a number that ends here (cancelled or expired) gets
`suspended_at = now` if it had none, exactly like a suspended one, and keeps `released_at`
empty. The release step gives up every number whose subscription is suspended, cancelled or
expired, whose `suspended_at` is older than the organization's `number_hold_days` and that is
not released yet, and sets `released_at`. This module never calls Twilio. A suspended
subscription is retried daily until its number is released (`released_at` set), so a late
payment saves it; one without a number expires once the same hold has passed.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from djmoney.money import Money

from credit.models import Account, Purchase
from credit.selectors.settings import credit_settings
from credit.services.auto_recharge import auto_recharge_start_if_needed
from credit.services.ledger import accounts_lock, system_account, transfers_post
from organizations.audit import audit_record, audit_record_many
from organizations.models import Organization
from organizations.scoping import all_tenants
from subscriptions.models import FeatureSettings, Plan, Renewal, Subscription
from subscriptions.periods import period_end
from subscriptions.selectors.catalog import price_for
from subscriptions.services.charges import charge_movement
from subscriptions.services.notices import renewal_managers_email
from subscriptions.services.settings import feature_settings

logger = logging.getLogger(__name__)

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

__all__ = [
    "BATCH",
    "Outcome",
    "subscription_renew",
    "subscriptions_due",
    "subscriptions_due_for",
    "subscriptions_renew",
]


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


# --- Finding what is due ---------------------------------------------------------------------


def _waiting(now: datetime) -> Exists:
    """The subscription's due period has a retry planned later than `now`."""
    return Exists(
        Renewal.objects.filter(
            subscription=OuterRef("pk"),
            period_start=OuterRef("period_end"),
            status=Renewal.Status.DUE,
            next_attempt_at__gt=now,
        )
    )


def subscriptions_due(*, now: datetime | None = None) -> list[tuple[int, list[int]]]:
    """Every organization's subscriptions due for renewal now, as (organization id, up to
    BATCH subscription ids), for the beat sweep to hand out: renewing, not released, period
    ended, and no retry planned for later."""
    now = now or timezone.now()
    with all_tenants("the renewal sweep looks at every organization"):
        rows = (
            Subscription.objects.filter(
                status__in=RENEWING, released_at__isnull=True, period_end__lte=now
            )
            .exclude(_waiting(now))
            .order_by("organization_id", "pk")
            .values_list("organization_id", "pk")
        )
        batches: list[tuple[int, list[int]]] = []
        for organization_id, pk in rows.iterator(chunk_size=2000):
            if not batches or batches[-1][0] != organization_id or len(batches[-1][1]) >= BATCH:
                batches.append((organization_id, []))
            batches[-1][1].append(pk)
    return batches


def subscriptions_due_for(*, organization: Organization, now: datetime | None = None) -> list[int]:
    """The organization's subscriptions whose period has ended and that are still unpaid,
    retries planned or not (credit just arrived: each is tried at once)."""
    now = now or timezone.now()
    return list(
        Subscription.objects.for_org(organization)
        .filter(status__in=RENEWING, released_at__isnull=True, period_end__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- Renewing --------------------------------------------------------------------------------


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


def subscriptions_renew(
    *, organization: Organization, subscription_ids: Iterable[int], now: datetime | None = None
) -> dict[str, int]:
    """Renew each of these subscriptions that is still due; returns how many had each
    outcome. The plain ones are renewed together (`_renew_together`); the others, and all of
    them when the company balance cannot pay them together, one by one (`subscription_renew`)."""
    now = now or timezone.now()
    context = _Context.of(organization)
    counts: dict[str, int] = {}
    ids = list(subscription_ids)
    renewed = _renew_together(context, ids, now=now)
    if renewed:
        counts[Outcome.RENEWED] = len(renewed)
    for subscription_id in ids:
        if subscription_id in renewed:
            continue
        outcome = _renew(context, subscription_id, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _renew_together(context: _Context, ids: list[int], *, now: datetime) -> set[int]:
    """Renew, in one transaction, those of `ids` that are plainly due: active, renewing
    automatically, priced, their period not tried before, the company balance paying them all
    (and staying above "renew only above"). The same locks and rows as `subscription_renew`,
    for a batch: the subscriptions (skipping those another worker holds), then the accounts;
    one posting of all the charges, each under its own key. Anything less plain, or a balance
    that cannot pay the lot, is left to the one-by-one path (returns the ids renewed)."""
    organization = context.organization
    with transaction.atomic():
        locked = list(
            Subscription.objects.for_org(organization)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("plan", "member")
            .filter(
                pk__in=ids,
                status=Subscription.Status.ACTIVE,
                auto_renew=True,
                cancel_at_period_end=False,
                released_at__isnull=True,
                period_end__lte=now,
            )
            .order_by("pk")
        )
        tried = set(
            Renewal.objects.for_org(organization)
            .filter(subscription__in=locked, period_start__in={s.period_end for s in locked})
            .values_list("subscription_id", "period_start")
        )
        plain = []
        for subscription in locked:
            months = subscription.next_period_months or subscription.period_months
            price = context.price(subscription.plan, months)
            if price is None or (subscription.pk, subscription.period_end) in tried:
                continue
            end = period_end(
                subscription.period_end,
                months,
                anchor_day=subscription.anchor_day,
                time_zone=organization.time_zone,
            )
            plain.append((subscription, months, price, end))
        if not plain:
            return set()
        total = sum((price for _, _, price, _ in plain), Money(0, organization.currency))
        balance = accounts_lock(organization, [context.company, context.bucket])[
            context.company.pk
        ].balance
        minimum = context.settings.renew_min_balance
        if balance < total or (minimum is not None and (balance - total).amount < minimum):
            transaction.set_rollback(True)
            return set()
        transfers = transfers_post(
            organization=organization,
            actor=None,
            movements=[
                charge_movement(
                    organization=organization,
                    subscription=subscription,
                    period_start=subscription.period_end,
                    amount=price,
                    company=context.company,
                    subscriptions_account=context.bucket,
                )
                for subscription, _, price, _ in plain
            ],
        )
        Renewal.objects.bulk_create(
            Renewal(
                organization=organization,
                subscription=subscription,
                period_start=subscription.period_end,
                period_end=end,
                period_months=months,
                amount=price.amount,
                status=Renewal.Status.PAID,
                transfer=transfer,
                attempts=1,
                last_attempt_at=now,
            )
            for (subscription, months, price, end), transfer in zip(plain, transfers, strict=True)
        )
        for subscription, months, _, end in plain:
            subscription.period_start = subscription.period_end
            subscription.period_end = end
            subscription.period_months = months
            subscription.next_period_months = None
        Subscription.objects.for_org(organization).bulk_update(
            [subscription for subscription, _, _, _ in plain],
            ["period_start", "period_end", "period_months", "next_period_months"],
        )
        audit_record_many(
            [
                _audit_event(
                    organization,
                    subscription,
                    "subscription.renewed",
                    amount=price.amount,
                    months=months,
                    until=end.isoformat(),
                )
                for subscription, months, price, end in plain
            ]
        )
    return {subscription.pk for subscription, _, _, _ in plain}


def subscription_renew(
    *, organization: Organization, subscription_id: int, now: datetime | None = None
) -> Outcome:
    """Renew one subscription whose period has ended, or end it, once.

    Locks the subscription (skipping it when another worker holds it: that one is renewing
    it), re-checks that it is renewing and due, then in the same transaction:
    - auto-renew off or cancelled at period end: it ends (cancelled or expired), nothing is
      charged, an unpaid due period is abandoned;
    - the plan is no longer sold in the organization's currency for the period: it expires,
      with the reason;
    - the company balance pays the catalog's price now (and stays at or above the
      organization's "renew only above" amount): one charge, the Renewal row `paid`, the next
      period (next_period_months applied, ending at midnight in the organization's time
      zone on the anchor day), status active;
    - otherwise it is short: see `_short`.
    """
    return _renew(_Context.of(organization), subscription_id, now=now)


def _renew(context: _Context, subscription_id: int, *, now: datetime | None) -> Outcome:
    now = now or timezone.now()
    outcome = _attempt(context, subscription_id, now=now, may_recharge=True)
    if outcome is None:
        # Short, and the company tops its balance up automatically: start a recharge (it
        # locks the organization row, so outside the renewal's transaction), then record the
        # attempt, waiting for that recharge, or past due if none could start.
        started = auto_recharge_start_if_needed(organization=context.organization)
        logger.info(
            "Renewal of subscription %s short; auto-recharge %s",
            subscription_id,
            "started" if started else "not started",
        )
        outcome = _attempt(context, subscription_id, now=now, may_recharge=False)
    return outcome or Outcome.SKIPPED


def _attempt(
    context: _Context, subscription_id: int, *, now: datetime, may_recharge: bool
) -> Outcome | None:
    """One locked attempt; None when the balance is short and a recharge should be tried
    first (nothing written)."""
    organization = context.organization
    with transaction.atomic():
        subscription = (
            Subscription.objects.for_org(organization)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("plan", "member")
            .filter(
                pk=subscription_id,
                status__in=RENEWING,
                released_at__isnull=True,
                period_end__lte=now,
            )
            .first()
        )
        if subscription is None:
            return Outcome.SKIPPED
        start = subscription.period_end
        if not subscription.auto_renew or subscription.cancel_at_period_end:
            reason = END_CANCELLED if subscription.cancel_at_period_end else END_NOT_RENEWED
            return _end(context, subscription, now=now, reason=reason)
        hold = timedelta(days=context.settings.number_hold_days)
        if (
            subscription.status == Subscription.Status.SUSPENDED
            and not subscription.phone_number
            and subscription.suspended_at is not None
            and now >= subscription.suspended_at + hold
        ):
            return _end(context, subscription, now=now, reason=END_NOT_PAID)
        months = subscription.next_period_months or subscription.period_months
        price = context.price(subscription.plan, months)
        if price is None:
            return _end(context, subscription, now=now, reason=END_NOT_SOLD)
        end = period_end(
            start, months, anchor_day=subscription.anchor_day, time_zone=organization.time_zone
        )
        locked = accounts_lock(organization, [context.company, context.bucket])
        balance = locked[context.company.pk].balance
        minimum = context.settings.renew_min_balance
        if balance < price or (minimum is not None and (balance - price).amount < minimum):
            return _short(
                context,
                subscription,
                now=now,
                price=price,
                balance=balance,
                months=months,
                end=end,
                may_recharge=may_recharge,
            )
        [transfer] = transfers_post(
            organization=organization,
            actor=None,
            movements=[
                charge_movement(
                    organization=organization,
                    subscription=subscription,
                    period_start=start,
                    amount=price,
                    company=context.company,
                    subscriptions_account=context.bucket,
                )
            ],
        )
        _renewal_write(
            organization,
            subscription,
            start=start,
            end=end,
            months=months,
            amount=price,
            status=Renewal.Status.PAID,
            transfer=transfer,
            now=now,
            next_attempt_at=None,
        )
        late = subscription.status != Subscription.Status.ACTIVE
        subscription.status = Subscription.Status.ACTIVE
        subscription.period_start = start
        subscription.period_end = end
        subscription.period_months = months
        subscription.next_period_months = None
        subscription.past_due_since = None
        subscription.suspended_at = None
        subscription.save(
            update_fields=[
                "status",
                "period_start",
                "period_end",
                "period_months",
                "next_period_months",
                "past_due_since",
                "suspended_at",
            ]
        )
        _audit(
            organization,
            subscription,
            "subscription.reactivated" if late else "subscription.renewed",
            amount=price.amount,
            months=months,
            until=end.isoformat(),
        )
    return Outcome.REACTIVATED if late else Outcome.RENEWED


def _short(
    context: _Context,
    subscription: Subscription,
    *,
    now: datetime,
    price: Money,
    balance: Money,
    months: int,
    end: datetime,
    may_recharge: bool,
) -> Outcome | None:
    """The company balance cannot pay the period (or would fall below "renew only above").

    A company auto-recharge on its way: the attempt is recorded and retried soon (the
    purchase's credit also renews at once). Auto-recharge on but none on its way: None, for
    the caller to start one first. Otherwise, an active subscription goes past due (managers
    emailed once for the period) and is retried daily; once the grace period has passed it
    is suspended (emailed once) and still retried daily.
    """
    organization = context.organization
    renewal = dict(start=subscription.period_end, end=end, months=months, amount=price, now=now)
    recharging = (
        Purchase.objects.for_org(organization)
        .filter(method=Purchase.Method.AUTO_RECHARGE, status__in=Purchase.IN_FLIGHT)
        .exists()
    )
    if recharging:
        _renewal_write(
            organization,
            subscription,
            **renewal,
            status=Renewal.Status.DUE,
            transfer=None,
            next_attempt_at=now + RETRY_SOON,
        )
        return Outcome.RECHARGING
    if may_recharge and context.auto_recharge_on:
        return None
    grace = timedelta(days=context.settings.grace_days)
    hold = timedelta(days=context.settings.number_hold_days)
    email = {"amount": price, "balance": balance}
    outcome = Outcome.RETRY
    fields = []
    if subscription.status == Subscription.Status.ACTIVE:
        subscription.status = Subscription.Status.PAST_DUE
        subscription.past_due_since = now
        fields += ["status", "past_due_since"]
        outcome = Outcome.PAST_DUE
        _audit(organization, subscription, "subscription.past_due", amount=price.amount)
        renewal_managers_email(
            organization=organization,
            subscription=subscription,
            template="renewal_past_due",
            key=f"subscriptions:past-due:{subscription.pk}:{subscription.period_end:%Y%m%dT%H%M}",
            context={**email, "grace_end": now + grace},
        )
    past_due_since = subscription.past_due_since or now
    if subscription.status == Subscription.Status.PAST_DUE and now >= past_due_since + grace:
        subscription.status = Subscription.Status.SUSPENDED
        subscription.suspended_at = now
        fields += ["status", "suspended_at"]
        outcome = Outcome.SUSPENDED
        _audit(organization, subscription, "subscription.suspended", amount=price.amount)
        renewal_managers_email(
            organization=organization,
            subscription=subscription,
            template="renewal_suspended",
            key=f"subscriptions:suspended:{subscription.pk}:{subscription.period_end:%Y%m%dT%H%M}",
            context={**email, "hold_end": now + hold},
        )
    next_attempt_at = now + RETRY_DAILY
    if subscription.status == Subscription.Status.PAST_DUE:
        # Suspended on time, not up to a day late.
        next_attempt_at = min(next_attempt_at, past_due_since + grace)
    elif subscription.status == Subscription.Status.SUSPENDED and not subscription.phone_number:
        next_attempt_at = min(next_attempt_at, (subscription.suspended_at or now) + hold)
    if fields:
        subscription.save(update_fields=list(dict.fromkeys(fields)))
    _renewal_write(
        organization,
        subscription,
        **renewal,
        status=Renewal.Status.DUE,
        transfer=None,
        next_attempt_at=next_attempt_at,
    )
    return outcome


def _end(context: _Context, subscription: Subscription, *, now: datetime, reason: str) -> Outcome:
    """End the subscription at its period end: nothing charged, its unpaid due period (if
    any) abandoned, and a number kept for the hold before it is released."""
    unpaid = reason in (END_NOT_PAID, END_NOT_SOLD)
    subscription.status = (
        Subscription.Status.CANCELLED if reason == END_CANCELLED else Subscription.Status.EXPIRED
    )
    subscription.ended_at = now if unpaid else subscription.period_end
    fields = ["status", "ended_at"]
    if reason == END_NOT_SOLD:
        subscription.failure_reason = "no-price"
        fields.append("failure_reason")
    if subscription.phone_number and subscription.suspended_at is None:
        subscription.suspended_at = now
        fields.append("suspended_at")
    subscription.save(update_fields=fields)
    Renewal.objects.for_org(context.organization).filter(
        subscription=subscription, status=Renewal.Status.DUE
    ).update(status=Renewal.Status.ABANDONED, next_attempt_at=None)
    _audit(context.organization, subscription, "subscription.ended", reason=reason)
    return Outcome.ENDED


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
