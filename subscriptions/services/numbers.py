"""Online numbers: buying the number a subscription was assigned, failing it (with its first
period refunded once), and releasing numbers held too long after their feature stopped.

Owns the number fields of Subscription (phone_number, provider_id, released_at) and the
provisioning statuses. Each service locks the subscription row (`select_for_update`) before
it asks Twilio anything and keeps the lock until its row is written, so two workers never
buy or release the same number twice, and the renewal engine (which locks the same row) sees
either the number held or released, never half of it.

Idempotency with Twilio: a number is bought with FriendlyName `number_marker(subscription)`.
A worker killed between Twilio's answer and our commit leaves a number we do not know about;
the retry asks Twilio for the number with that name first and adopts it instead of buying
another.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.services.ledger import transfers_post
from organizations.audit import audit_record
from organizations.models import Organization
from organizations.scoping import all_tenants
from subscriptions.models import FeatureSettings, Plan, Renewal, Subscription
from subscriptions.services.charges import refund_movement
from subscriptions.services.notifications import email_admins
from subscriptions.services.twilio_numbers import (
    NumberRefused,
    ProviderUnavailable,
    number_buy,
    number_find_ours,
    number_release_at_provider,
    numbers_search,
)

logger = logging.getLogger(__name__)

# A subscription still provisioning after this is sent to a worker again by the sweep.
PROVISIONING_STUCK_AFTER = datetime.timedelta(minutes=10)

__all__ = [
    "NumberRefused",
    "ProviderUnavailable",
    "number_marker",
    "number_provision",
    "number_release",
    "numbers_release_due",
    "numbers_stuck",
]


def number_marker(subscription: Subscription) -> str:
    """The FriendlyName a subscription's number is bought under (our record at Twilio)."""
    return f"skypemgr-subscription-{subscription.pk}"


def _locked(organization: Organization, subscription_id: int) -> Subscription | None:
    return (
        Subscription.objects.for_org(organization)
        .select_for_update(of=("self",))
        .select_related("plan", "member")
        .filter(pk=subscription_id, plan__kind=Plan.Kind.NUMBER)
        .first()
    )


def number_provision(*, organization: Organization, subscription_id: int) -> Subscription | None:
    """Buy the number of a provisioning subscription: the one asked for, or the first Twilio
    offers in its country (and area). Success: active, with the number and Twilio's id.
    Twilio's refusal, or no number to be had: failed, with the reason, and the first period
    refunded (`number_fail`). Twilio unreachable: ProviderUnavailable, nothing changed (the
    task retries, and the sweep after it).

    Locks the subscription row for the whole exchange with Twilio; a subscription that is no
    longer provisioning (done by another worker, failed) is left as it is.
    """
    with transaction.atomic():
        subscription = _locked(organization, subscription_id)
        if subscription is None or subscription.status != Subscription.Status.PROVISIONING:
            return subscription
        marker = number_marker(subscription)
        owned = number_find_ours(marker)
        if owned is None:
            try:
                wanted = subscription.number_requested or _first_available(subscription)
                if not wanted:
                    return number_fail(
                        organization=organization,
                        subscription=subscription,
                        reason=_("No number is available there now. Try another area."),
                    )
                owned = number_buy(phone_number=wanted, marker=marker)
            except NumberRefused as refusal:
                return number_fail(
                    organization=organization,
                    subscription=subscription,
                    reason=_("Twilio refused the number: %(reason)s") % {"reason": refusal},
                )
        subscription.status = Subscription.Status.ACTIVE
        subscription.phone_number = owned.phone_number
        subscription.provider_id = owned.sid
        subscription.failure_reason = ""
        subscription.save(update_fields=["status", "phone_number", "provider_id", "failure_reason"])
        audit_record(
            organization=organization,
            actor=None,
            verb="number.provisioned",
            target=subscription.member,
            data={"number": owned.phone_number, "subscription": subscription.pk},
        )
    return subscription


def _first_available(subscription: Subscription) -> str:
    found = numbers_search(
        country=str(subscription.number_country or subscription.plan.country),
        area_code=subscription.number_area,
        limit=1,
    )
    return found[0].phone_number if found else ""


def number_fail(
    *, organization: Organization, subscription: Subscription, reason: str
) -> Subscription:
    """Mark a locked, provisioning subscription failed and refund its first period, once.

    The refund is keyed by the period (services.charges), and the first Renewal turns
    `refunded` in the same transaction, so a retried task neither refunds twice nor misses
    it. The owners and admins are told by email (once per subscription).
    """
    now = timezone.now()
    subscription.status = Subscription.Status.FAILED
    subscription.failure_reason = reason[:500]
    subscription.ended_at = now
    subscription.save(update_fields=["status", "failure_reason", "ended_at"])
    first = (
        Renewal.objects.for_org(organization)
        .select_for_update(of=("self",))
        .select_related("transfer")
        .filter(subscription=subscription, period_start=subscription.period_start)
        .first()
    )
    refunded = None
    if first is not None and first.status == Renewal.Status.PAID and first.transfer is not None:
        transfers_post(
            organization=organization,
            actor=None,
            movements=[
                refund_movement(
                    organization=organization,
                    subscription=subscription,
                    period_start=first.period_start,
                    amount=Money(first.amount, organization.currency),
                    charge=first.transfer,
                )
            ],
        )
        first.status = Renewal.Status.REFUNDED
        first.save(update_fields=["status"])
        refunded = Money(first.amount, organization.currency)
    audit_record(
        organization=organization,
        actor=None,
        verb="number.failed",
        target=subscription.member,
        data={
            "subscription": subscription.pk,
            "reason": subscription.failure_reason,
            "refunded": str(refunded.amount) if refunded else "",
        },
    )
    email_admins(
        organization=organization,
        template="number_failed",
        key=f"subscriptions:number-failed:{subscription.pk}",
        context={"subscription": subscription, "reason": reason, "refunded": refunded},
    )
    return subscription


def numbers_stuck(*, now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """(organization id, subscription id) of numbers still provisioning after
    PROVISIONING_STUCK_AFTER: their task was lost (broker down) or keeps failing."""
    now = now or timezone.now()
    with all_tenants("the provisioning sweep looks at every organization's numbers"):
        return list(
            Subscription.objects.filter(
                status=Subscription.Status.PROVISIONING,
                plan__kind=Plan.Kind.NUMBER,
                created_at__lt=now - PROVISIONING_STUCK_AFTER,
            )
            .order_by("pk")
            .values_list("organization_id", "pk")
        )


# A number is held while its feature is suspended, or after it ended, for the organization's
# number_hold_days; then it goes back to Twilio.
HELD_STATUSES = (
    Subscription.Status.SUSPENDED,
    Subscription.Status.CANCELLED,
    Subscription.Status.EXPIRED,
)


def _held_since(subscription: Subscription) -> datetime.datetime | None:
    if subscription.status == Subscription.Status.SUSPENDED:
        return subscription.suspended_at
    if subscription.status in (Subscription.Status.CANCELLED, Subscription.Status.EXPIRED):
        return subscription.ended_at
    return None


def _hold_days(organization_id: int) -> int:
    with all_tenants("one organization's setting, read by id in a sweep"):
        days = (
            FeatureSettings.objects.filter(organization_id=organization_id)
            .values_list("number_hold_days", flat=True)
            .first()
        )
    return 30 if days is None else days


def _release_due(subscription: Subscription, now: datetime.datetime) -> bool:
    since = _held_since(subscription)
    if since is None or subscription.released_at is not None or not subscription.provider_id:
        return False
    return since <= now - datetime.timedelta(days=_hold_days(subscription.organization_id))


def numbers_release_due(*, now: datetime.datetime | None = None) -> list[tuple[int, int]]:
    """(organization id, subscription id) of held numbers whose hold is over."""
    now = now or timezone.now()
    with all_tenants("the release sweep looks at every organization's numbers"):
        candidates = list(
            Subscription.objects.filter(
                plan__kind=Plan.Kind.NUMBER,
                status__in=HELD_STATUSES,
                released_at__isnull=True,
            )
            .exclude(provider_id="")
            .order_by("pk")
        )
    return [(sub.organization_id, sub.pk) for sub in candidates if _release_due(sub, now)]


def number_release(
    *, organization: Organization, subscription_id: int, now: datetime.datetime | None = None
) -> Subscription | None:
    """Give a held number back to Twilio once its hold is over: DELETE at Twilio, then
    released_at and status expired, with an audit event.

    Locks the subscription row first and re-checks under the lock: a late payment (the
    renewal engine locks the same row) that reactivated the feature keeps the number.
    Twilio unreachable: ProviderUnavailable, nothing changed.
    """
    now = now or timezone.now()
    with transaction.atomic():
        subscription = _locked(organization, subscription_id)
        if subscription is None or not _release_due(subscription, now):
            return subscription
        number_release_at_provider(subscription.provider_id)
        subscription.released_at = now
        subscription.status = Subscription.Status.EXPIRED
        subscription.ended_at = subscription.ended_at or now
        subscription.save(update_fields=["released_at", "status", "ended_at"])
        audit_record(
            organization=organization,
            actor=None,
            verb="number.released",
            target=subscription.member,
            data={"number": subscription.phone_number, "subscription": subscription.pk},
        )
    return subscription
