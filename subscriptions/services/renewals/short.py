"""A renewal the company balance cannot pay (recharging, past due, suspended, retried) and
ending a subscription (cancelled, not renewed, not paid, no longer sold).
"""

from datetime import datetime, timedelta

from djmoney.money import Money

from credit.models import Purchase
from subscriptions.models import Renewal, Subscription
from subscriptions.services.notices import renewal_managers_email
from subscriptions.services.renewals.common import (
    END_CANCELLED,
    END_NOT_PAID,
    END_NOT_SOLD,
    RETRY_DAILY,
    RETRY_SOON,
    Outcome,
    _audit,
    _Context,
    _renewal_write,
)


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
