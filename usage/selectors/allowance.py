"""What a member may spend on a call or a message right now, and why not when they may not.

The same reckoning serves the Phone page (read only, `member_allowance`) and the voice webhook
(`usage.services.authorize`, which runs it with the member's wallet locked and then holds what
it allows). In a handful of indexed queries:

- may they: an active member, allowed calls (or SMS) in their features;
- the destination: its rate in the organization's currency (longest prefix), not blocked;
- their credit: the wallet's balance, less what calls in progress hold (CallReservation),
  within the monthly spending cap (this month's usage from the daily rollups, plus holds);
- their included minutes: calling subscriptions they can use whose destinations cover the
  number (landlines only where the plan says so), less this month's use and holds.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from credit.models import Account, DailyRollup
from organizations.models import Member, Organization
from subscriptions.models import MemberFeatures, Plan, Subscription
from usage.models import CallReservation, IncludedMinutes, Rate, UsageRecord
from usage.pricing import affordable_seconds, call_cost, sms_cost
from usage.selectors.rates import number_digits, rate_for, terms_of

CALL = UsageRecord.Kind.CALL
SMS = UsageRecord.Kind.SMS
# An unlimited plan's month: more seconds than any month holds.
UNLIMITED_SECONDS = 10**9


def included_seconds_of(plan: Plan) -> int:
    """The seconds a calling plan includes each month."""
    return UNLIMITED_SECONDS if plan.minutes is None else plan.minutes * 60


@dataclass
class Allowance:
    allowed: bool
    reason: str
    message: str
    digits: str = ""
    rate: Rate | None = None
    per_minute: Money | None = None
    per_sms: Money | None = None
    balance: Money | None = None
    available: Money | None = None
    cap_left: Money | None = None
    included_seconds: int = 0
    subscription: Subscription | None = None
    seconds: int = 0
    # What the allowed call or message may cost at most (what an authorization holds).
    hold: Decimal = Decimal(0)
    wallet: Account | None = None
    features: MemberFeatures | None = None


def month_start(organization: Organization, moment: datetime.datetime) -> datetime.date:
    """The first day of `moment`'s month in the organization's time zone."""
    return moment.astimezone(ZoneInfo(organization.time_zone)).date().replace(day=1)


def usage_categories() -> Q:
    """The rollups that are usage (what a spending cap limits): calls and SMS."""
    return Q(category__startswith="call:") | Q(category="sms")


def member_allowance(
    *,
    organization: Organization,
    member: Member,
    destination: str,
    kind: str = CALL,
    units: int = 1,
    now: datetime.datetime | None = None,
) -> Allowance:
    """What `member` may spend calling (or texting, `units` parts) `destination` now. Reads
    only: the wallet is read, not created or locked."""
    wallet = (
        Account.objects.for_org(organization)
        .filter(kind=Account.Kind.MEMBER, member=member)
        .first()
    )
    return allowance_reckon(
        organization=organization,
        member=member,
        wallet=wallet,
        destination=destination,
        kind=kind,
        units=units,
        now=now or timezone.now(),
    )


def allowance_reckon(
    *,
    organization: Organization,
    member: Member,
    wallet: Account | None,
    destination: str,
    kind: str,
    units: int,
    now: datetime.datetime,
    reference: str = "",
) -> Allowance:
    """The reckoning itself, given the wallet (locked or not: the caller decides). The hold of
    `reference` (the call being authorized again) does not count against it."""
    currency = organization.currency

    def money(amount) -> Money:
        return Money(amount, currency)

    def refuse(reason: str, message: str, **known) -> Allowance:
        return Allowance(allowed=False, reason=reason, message=message, **known)

    if member.status != Member.Status.ACTIVE:
        return refuse("inactive", _("This account cannot call or send messages."))
    features = (
        MemberFeatures.objects.for_org(organization)
        .filter(member=member)
        .select_related("caller_id")
        .first()
    )
    if features is not None and not (features.may_call if kind == CALL else features.may_sms):
        if kind == CALL:
            return refuse("not_allowed", _("Your company does not allow you to make calls."))
        return refuse("not_allowed", _("Your company does not allow you to send messages."))
    digits = number_digits(destination, region=str(organization.country) or None)
    if not digits:
        return refuse("no_number", _("Enter a phone number, with its country code."))
    rate = rate_for(currency=currency, digits=digits)
    if rate is None:
        return refuse("no_rate", _("This number cannot be reached from here."), digits=digits)
    known = {
        "features": features,
        "digits": digits,
        "rate": rate,
        "per_minute": money(rate.per_minute),
        "per_sms": money(rate.per_sms),
    }
    if rate.blocked:
        return refuse("blocked", _("Calls and messages to this destination are blocked."), **known)

    balance = wallet.balance.amount if wallet is not None else Decimal(0)
    held = _held(organization, member, now, reference)
    available = max(Decimal(0), balance - held["amount"])
    cap_left = None
    cap = wallet.monthly_spending_cap if wallet is not None else None
    if cap is not None:
        spent = _spent_this_month(organization, member, now)
        cap_left = max(Decimal(0), cap.amount - spent - held["amount"])
        available = min(available, cap_left)
    known.update(
        balance=money(balance),
        available=money(available),
        cap_left=money(cap_left) if cap_left is not None else None,
        wallet=wallet,
    )
    terms = terms_of(rate)

    if kind == SMS:
        cost = sms_cost(terms=terms, currency=currency, units=units)
        if cost > available:
            return _short(refuse, cap_left, balance - held["amount"], cost, known)
        return Allowance(allowed=True, reason="", message="", hold=cost, **known)

    subscription, included = _included(organization, member, rate, now, held["included"])
    seconds = affordable_seconds(
        terms=terms, currency=currency, budget=available, included_available=included
    )
    known.update(included_seconds=included, subscription=subscription, seconds=seconds)
    if seconds < 1:
        cheapest = call_cost(terms=terms, currency=currency, seconds=1).cost
        return _short(refuse, cap_left, balance - held["amount"], cheapest, known)
    hold = call_cost(
        terms=terms, currency=currency, seconds=seconds, included_available=included
    ).cost
    return Allowance(allowed=True, reason="", message="", hold=hold, **known)


def _short(refuse, cap_left, free, cost, known) -> Allowance:
    """Refused for money: the cap when the wallet alone would have paid, else the credit."""
    if cap_left is not None and cap_left < cost <= free:
        return refuse("cap_reached", _("You have reached your monthly spending limit."), **known)
    return refuse("no_credit", _("You do not have enough credit."), **known)


def _held(organization: Organization, member: Member, now, reference: str) -> dict:
    """What the member's calls and messages in progress hold: credit, and included seconds
    per subscription."""
    rows = (
        CallReservation.objects.for_org(organization)
        .filter(member=member, released_at__isnull=True, expires_at__gt=now)
        .exclude(reference=reference)
        .values("subscription_id")
        .annotate(amount=Sum("amount"), included=Sum("included_seconds"))
    )
    amount, included = Decimal(0), {}
    for row in rows:
        amount += row["amount"] or 0
        if row["subscription_id"]:
            included[row["subscription_id"]] = row["included"] or 0
    return {"amount": amount, "included": included}


def _spent_this_month(organization: Organization, member: Member, now) -> Decimal:
    total = (
        DailyRollup.objects.for_org(organization)
        .filter(usage_categories(), member=member, day__gte=month_start(organization, now))
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal(0)


def _included(organization, member, rate: Rate, now, held: dict) -> tuple[Subscription | None, int]:
    """The calling subscription with the most seconds left for this destination this month,
    and those seconds (after holds)."""
    subscriptions = list(
        Subscription.objects.for_org(organization)
        .filter(
            Q(plan__minutes__gt=0) | Q(plan__minutes__isnull=True),
            member=member,
            status__in=Subscription.USABLE,
            plan__kind=Plan.Kind.CALLING,
            plan__destinations__contains=[rate.country],
        )
        .select_related("plan")
    )
    if rate.line_type != Rate.LineType.LANDLINE:
        subscriptions = [s for s in subscriptions if not s.plan.landlines_only]
    if not subscriptions:
        return None, 0
    used = dict(
        IncludedMinutes.objects.for_org(organization)
        .filter(subscription__in=subscriptions, month=month_start(organization, now))
        .values_list("subscription_id", "used_seconds")
    )
    best, best_left = None, 0
    for subscription in subscriptions:
        left = (
            included_seconds_of(subscription.plan)
            - used.get(subscription.pk, 0)
            - held.get(subscription.pk, 0)
        )
        if left > best_left:
            best, best_left = subscription, left
    return best, best_left
