"""Changing a member's feature once assigned: cancelling it (at the period end, or now with a
prorated refund), turning its automatic renewal off and on, changing the period of the next
renewals, and moving it to another member.

Every function here locks the organization row (FOR NO KEY UPDATE), then the subscription
(FOR UPDATE), then lets the ledger lock its accounts: the order every money transaction keeps.
A change that changes nothing records nothing; each change records an audit event.
"""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Transfer
from credit.services.ledger import transfers_post
from organizations.audit import audit_record
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr.errors import ApplicationError
from subscriptions.models import PERIOD_CHOICES, MemberFeatures, Renewal, Subscription
from subscriptions.periods import prorated
from subscriptions.services.charges import refund_movement

PERIODS = [months for months, _label in PERIOD_CHOICES]

AUDIT_VERBS = {
    "feature.cancelled": _("cancelled a feature"),
    "feature.cancel_undone": _("kept a feature"),
    "feature.auto_renew_changed": _("changed the automatic renewal of a feature"),
    "feature.period_changed": _("changed the period of a feature"),
    "feature.moved": _("moved a feature"),
    "feature.access_changed": _("changed what a member may use"),
}


def _require(actor: Member | None, role: Role, message: str) -> None:
    if actor is not None and not Role(actor.role).at_least(role):
        raise ApplicationError(message, code="denied")


def _lock(organization: Organization, subscription: Subscription | int) -> Subscription:
    """Lock the organization row, then the subscription; the subscription as it is now."""
    Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
    found = (
        Subscription.objects.for_org(organization)
        .select_for_update(of=("self",))
        .select_related("plan", "member")
        .filter(pk=getattr(subscription, "pk", subscription))
        .first()
    )
    if found is None:
        raise ApplicationError(_("This feature was not found."), code="not_found")
    return found


def _require_live(subscription: Subscription) -> None:
    if not subscription.is_live:
        raise ApplicationError(
            _("This feature has ended (%(status)s): there is nothing to change.")
            % {"status": subscription.get_status_display().lower()},
            code="ended",
        )


def _audit(organization, actor, verb, subscription, ip_address, **data) -> None:
    audit_record(
        organization=organization,
        actor=actor,
        verb=verb,
        target=subscription.member,
        data={
            "subscription": subscription.pk,
            "plan": subscription.plan.code,
            "plan_name": subscription.plan.name,
            **data,
        },
        ip_address=ip_address,
    )


def subscription_cancel(
    *,
    organization: Organization,
    actor: Member | None,
    subscription: Subscription | int,
    now: bool = False,
    ip_address: str | None = None,
) -> Subscription:
    """Cancel a feature: at the end of the period (the default: it stays usable until then,
    and does not renew), or now (owners only) with the unused part of the period paid back
    to the company balance.

    The refund is the period's charge prorated to the time left, posted under the period's
    refund key: a cancellation sent twice, or raced by another, refunds once. A period fully
    refunded marks its renewal `refunded`; an unpaid period (past due) is abandoned.
    """
    _require(actor, Role.ADMIN, _("Only owners and admins cancel features."))
    if now:
        _require(actor, Role.OWNER, _("Only owners cancel a feature now with a refund."))
    moment = timezone.now()
    with transaction.atomic():
        subscription = _lock(organization, subscription)
        if subscription.status == Subscription.Status.CANCELLED:
            # Sent twice (or raced): cancelled once, refunded once.
            return subscription
        _require_live(subscription)
        if not now:
            if subscription.cancel_at_period_end:
                return subscription
            subscription.cancel_at_period_end = True
            subscription.save(update_fields=["cancel_at_period_end"])
            _audit(
                organization,
                actor,
                "feature.cancelled",
                subscription,
                ip_address,
                when="period_end",
                period_end=subscription.period_end.isoformat(),
            )
            return subscription
        refund = _refund_rest_of_period(organization, actor, subscription, moment)
        subscription.status = Subscription.Status.CANCELLED
        subscription.cancel_at_period_end = True
        subscription.auto_renew = False
        subscription.ended_at = moment
        subscription.save(
            update_fields=["status", "cancel_at_period_end", "auto_renew", "ended_at"]
        )
        _clear_caller_id(organization, subscription)
        _audit(
            organization,
            actor,
            "feature.cancelled",
            subscription,
            ip_address,
            when="now",
            refund=str(refund.amount) if refund is not None else "",
        )
    return subscription


def _refund_rest_of_period(
    organization: Organization, actor, subscription: Subscription, moment: datetime.datetime
) -> Money | None:
    """Pay back the unused part of the current period; the amount, or None when the period
    was not paid (nothing to give back)."""
    renewals = Renewal.objects.for_org(organization).select_for_update(of=("self",))
    renewal = (
        renewals.filter(subscription=subscription, period_start=subscription.period_start)
        .select_related("transfer")
        .first()
    )
    # Unpaid periods of this subscription are not owed any more.
    renewals.filter(subscription=subscription, status=Renewal.Status.DUE).update(
        status=Renewal.Status.ABANDONED, next_attempt_at=None
    )
    if renewal is None or renewal.status != Renewal.Status.PAID or renewal.transfer is None:
        return None
    currency = organization.currency
    amount = prorated(
        renewal.amount,
        currency=currency,
        start=renewal.period_start,
        end=renewal.period_end,
        now=moment,
    )
    if amount <= 0:
        return None
    transfers_post(
        organization=organization,
        actor=actor,
        movements=[
            refund_movement(
                organization=organization,
                subscription=subscription,
                period_start=renewal.period_start,
                amount=Money(amount, currency),
                charge=renewal.transfer,
            )
        ],
    )
    if amount >= renewal.amount:
        renewal.status = Renewal.Status.REFUNDED
        renewal.save(update_fields=["status"])
    return Money(amount, currency)


def subscription_refunded(*, organization: Organization, subscription: Subscription) -> Money:
    """What was refunded for this subscription in all (zero when nothing)."""
    total = Money(0, organization.currency)
    for transfer in Transfer.objects.for_org(organization).filter(
        kind=Transfer.Kind.SUBSCRIPTION_REFUND,
        idempotency_key__startswith=f"subscription:{subscription.pk}:",
    ):
        total += transfer.amount
    return total


def _clear_caller_id(organization: Organization, subscription: Subscription) -> None:
    """A number that ends is nobody's caller ID any more."""
    MemberFeatures.objects.for_org(organization).filter(caller_id=subscription).update(
        caller_id=None
    )


def subscription_keep(
    *,
    organization: Organization,
    actor: Member | None,
    subscription: Subscription | int,
    ip_address: str | None = None,
) -> Subscription:
    """Undo a cancellation at the period end: the feature renews again."""
    _require(actor, Role.ADMIN, _("Only owners and admins change features."))
    with transaction.atomic():
        subscription = _lock(organization, subscription)
        _require_live(subscription)
        if not subscription.cancel_at_period_end:
            return subscription
        subscription.cancel_at_period_end = False
        subscription.save(update_fields=["cancel_at_period_end"])
        _audit(organization, actor, "feature.cancel_undone", subscription, ip_address)
    return subscription


def subscription_auto_renew_set(
    *,
    organization: Organization,
    actor: Member | None,
    subscription: Subscription | int,
    auto_renew: bool,
    ip_address: str | None = None,
) -> Subscription:
    """Turn the automatic renewal of a feature off or on."""
    _require(actor, Role.ADMIN, _("Only owners and admins change features."))
    with transaction.atomic():
        subscription = _lock(organization, subscription)
        _require_live(subscription)
        if subscription.auto_renew == auto_renew:
            return subscription
        subscription.auto_renew = auto_renew
        subscription.save(update_fields=["auto_renew"])
        _audit(
            organization,
            actor,
            "feature.auto_renew_changed",
            subscription,
            ip_address,
            auto_renew=auto_renew,
        )
    return subscription


def subscription_period_change(
    *,
    organization: Organization,
    actor: Member | None,
    subscription: Subscription | int,
    period_months: int,
    ip_address: str | None = None,
) -> Subscription:
    """Renew for `period_months` from the next renewal on (the current period is unchanged).
    The plan must be sold for that period in the organization's currency."""
    from subscriptions.services.assign import plan_price

    _require(actor, Role.ADMIN, _("Only owners and admins change features."))
    if period_months not in PERIODS:
        raise ApplicationError(_("Choose a period from the list."), code="period")
    with transaction.atomic():
        subscription = _lock(organization, subscription)
        _require_live(subscription)
        plan_price(organization=organization, plan=subscription.plan, period_months=period_months)
        current = subscription.next_period_months or subscription.period_months
        if current == period_months:
            return subscription
        subscription.next_period_months = (
            None if period_months == subscription.period_months else period_months
        )
        subscription.save(update_fields=["next_period_months"])
        _audit(
            organization,
            actor,
            "feature.period_changed",
            subscription,
            ip_address,
            months=period_months,
            previous=current,
        )
    return subscription


def subscription_move(
    *,
    organization: Organization,
    actor: Member | None,
    subscription: Subscription | int,
    member: Member,
    ip_address: str | None = None,
) -> Subscription:
    """Give a live feature to another active member; a number keeps its number, and stops
    being the caller ID of the member it leaves."""
    _require(actor, Role.ADMIN, _("Only owners and admins move features."))
    with transaction.atomic():
        subscription = _lock(organization, subscription)
        _require_live(subscription)
        target = (
            Member.objects.for_org(organization)
            .filter(pk=getattr(member, "pk", member), status=Member.Status.ACTIVE)
            .first()
        )
        if target is None:
            raise ApplicationError(
                _("Features can move only to an active member of this organization."),
                code="member",
            )
        if target.pk == subscription.member_id:
            return subscription
        previous = subscription.member
        _clear_caller_id(organization, subscription)
        subscription.member = target
        subscription.save(update_fields=["member"])
        audit_record(
            organization=organization,
            actor=actor,
            verb="feature.moved",
            target=target,
            data={
                "subscription": subscription.pk,
                "plan": subscription.plan.code,
                "plan_name": subscription.plan.name,
                "from": str(previous),
                "from_id": previous.pk,
            },
            ip_address=ip_address,
        )
    return subscription


def member_access_set(
    *,
    organization: Organization,
    actor: Member | None,
    member: Member,
    ip_address: str | None = None,
    **access: bool,
) -> MemberFeatures:
    """Set which kinds of features a member may use (calls, SMS, numbers, voicemail). The
    member's MemberFeatures row is created on the first save. Features already assigned stay;
    the switches decide what can be assigned and used from now on."""
    _require(actor, Role.ADMIN, _("Only owners and admins change what members may use."))
    fields = ("may_call", "may_sms", "may_numbers", "may_voicemail")
    unknown = set(access) - set(fields)
    if unknown:
        raise ApplicationError(_("Unknown access: %(names)s") % {"names": ", ".join(unknown)})
    with transaction.atomic():
        Organization.objects.select_for_update(no_key=True).get(pk=organization.pk)
        locked = Member.objects.for_org(organization).select_for_update().filter(pk=member.pk)
        member = locked.first()
        if member is None:
            raise ApplicationError(_("This member was not found."), code="not_found")
        row = MemberFeatures.objects.for_org(organization).filter(member=member).first()
        if row is None:
            row = MemberFeatures(organization=organization, member=member)
        before = {field: getattr(row, field) for field in fields}
        for field, value in access.items():
            setattr(row, field, bool(value))
        changed = {
            field: getattr(row, field) for field in fields if getattr(row, field) != before[field]
        }
        if not changed:
            return row
        row.save()
        audit_record(
            organization=organization,
            actor=actor,
            verb="feature.access_changed",
            target=member,
            data={"changed": changed},
            ip_address=ip_address,
        )
    return row
