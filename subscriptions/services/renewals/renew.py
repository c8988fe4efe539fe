"""Renewing: a batch's plain subscriptions together in one transaction, the others one by
one (`subscription_renew`), each under its row lock; a short balance goes to
subscriptions.services.renewals.short.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from djmoney.money import Money

from credit.services.auto_recharge import auto_recharge_start_if_needed
from credit.services.ledger import accounts_lock, transfers_post
from organizations.audit import audit_record_many
from organizations.models import Organization
from subscriptions.models import Renewal, Subscription
from subscriptions.periods import period_end
from subscriptions.services.charges import charge_movement
from subscriptions.services.renewals.common import (
    END_CANCELLED,
    END_NOT_PAID,
    END_NOT_RENEWED,
    END_NOT_SOLD,
    RENEWING,
    Outcome,
    _audit,
    _audit_event,
    _Context,
    _renewal_write,
)
from subscriptions.services.renewals.short import _end, _short

logger = logging.getLogger(__name__)


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
