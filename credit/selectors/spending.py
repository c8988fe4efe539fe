"""Reads of members' spending and of calendar months in the organization's time zone.

A month is counted where the company lives: "this month" for an organization in Auckland starts
at midnight on the 1st in Auckland, hours before it does in Paris. Months are named by their
first day (a `date`), which is also the period of the monthly credit rules.

The monthly spending cap is stored on the member's wallet (`Account.monthly_spending_cap`);
`member_may_spend` is what usage authorization asks before letting a member spend more.
"""

import zoneinfo
from datetime import date, datetime, time

from django.db.models import Sum
from django.utils import timezone
from djmoney.money import Money

from credit.models import Account, Transfer
from organizations.models import Member, Organization

# What a member spends: usage (calls, texts) and the charges of their features.
SPENDING_KINDS = (Transfer.Kind.USAGE, Transfer.Kind.SUBSCRIPTION_CHARGE)


def organization_zone(organization: Organization) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(organization.time_zone or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_today(organization: Organization, when: datetime | None = None) -> date:
    """The organization's calendar day at `when` (now by default)."""
    return timezone.localtime(when or timezone.now(), organization_zone(organization)).date()


def local_month(organization: Organization, when: datetime | None = None) -> date:
    """The first day of the organization's calendar month at `when` (now by default)."""
    return local_today(organization, when).replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def month_bounds(organization: Organization, month: date) -> tuple[datetime, datetime]:
    """When `month` (its first day) starts and ends, as aware datetimes: [start, end)."""
    zone = organization_zone(organization)
    start = datetime.combine(month.replace(day=1), time.min, tzinfo=zone)
    end = datetime.combine(next_month(month), time.min, tzinfo=zone)
    return start, end


def member_spend_this_month(*, organization: Organization, member: Member) -> Money:
    """What the member's wallet paid for usage and features since the 1st of this month, in the
    organization's time zone. Usage the company paid for them (their wallet was empty) is not
    theirs to count: it is what the cap protects against."""
    zero = Money(0, organization.currency)
    wallet = Account.objects.for_org(organization).filter(member=member).first()
    if wallet is None:
        return zero
    start, end = month_bounds(organization, local_month(organization))
    total = (
        Transfer.objects.for_org(organization)
        .filter(source=wallet, kind__in=SPENDING_KINDS, created_at__gte=start, created_at__lt=end)
        .aggregate(total=Sum("amount"))["total"]
    )
    return Money(total, organization.currency) if total else zero


def member_may_spend(*, organization: Organization, member: Member, amount) -> bool:
    """Whether spending `amount` more this month keeps the member within their monthly cap.

    True when the member has no cap. A read without locks: usage authorization asks it before
    a call, and the ledger still records whatever usage really happened.
    """
    wallet = Account.objects.for_org(organization).filter(member=member).first()
    cap = wallet.monthly_spending_cap if wallet is not None else None
    if cap is None:
        return True
    if not isinstance(amount, Money):
        amount = Money(amount, organization.currency)
    spent = member_spend_this_month(organization=organization, member=member)
    return spent + amount <= cap
