"""Helpers for the renewal tests: features bought at a given moment through the assign service,
the beat's sweep run at a given moment, and what the tests read back."""

import datetime
import zoneinfo

import time_machine

from credit.models import Transfer
from organizations.scoping import tenant_scope
from subscriptions.models import Plan, Renewal, Subscription
from subscriptions.services.assign import subscriptions_assign
from subscriptions.tasks.renewals import renew_due
from tests.factories import MemberFactory

FRANCE = "france-landlines-unlimited"


def local(organization, text: str) -> datetime.datetime:
    """A moment written in the organization's time zone ("2027-01-31 10:00")."""
    return datetime.datetime.fromisoformat(text).replace(
        tzinfo=zoneinfo.ZoneInfo(organization.time_zone)
    )


def subscribe(organization, actor, at, *, code=FRANCE, months=1, member=None) -> Subscription:
    """`code` assigned at `at` (the first period charged then) to `member` or a new member."""
    member = member or MemberFactory(organization=organization)
    with time_machine.travel(at, tick=False), tenant_scope(organization):
        [subscription] = subscriptions_assign(
            organization=organization,
            actor=actor,
            members=[member],
            plan=Plan.objects.get(code=code),
            period_months=months,
            form_key=f"form-{member.pk}-{code}",
        ).subscriptions
    return subscription


def sweep(at) -> int:
    """The beat's renewal sweep at `at` (its batches run inline); how many it handed out."""
    with time_machine.travel(at, tick=False):
        return renew_due()


def fresh(subscription) -> Subscription:
    with tenant_scope(subscription.organization):
        return Subscription.objects.select_related("plan").get(pk=subscription.pk)


def renewals(subscription) -> list[Renewal]:
    with tenant_scope(subscription.organization):
        return list(subscription.renewals.order_by("period_start"))


def charges(organization) -> list[Transfer]:
    return list(
        Transfer.objects.for_org(organization)
        .filter(kind=Transfer.Kind.SUBSCRIPTION_CHARGE)
        .order_by("pk")
    )


def due_subscriptions(organization, count: int, *, members: int = 10, code=FRANCE) -> list[int]:
    """`count` subscriptions whose period ended an hour ago, made in one statement (their first
    period is not charged: only the renewal is under test), spread over `members` members."""
    now = datetime.datetime.now(datetime.UTC)
    end = now - datetime.timedelta(hours=1)
    people = MemberFactory.create_batch(members, organization=organization)
    plan = Plan.objects.get(code=code)
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    with tenant_scope(organization):
        made = Subscription.objects.bulk_create(
            Subscription(
                organization=organization,
                member=people[number % members],
                plan=plan,
                status=Subscription.Status.ACTIVE,
                period_months=1,
                anchor_day=end.astimezone(zone).day,
                period_start=end - datetime.timedelta(days=30),
                period_end=end,
            )
            for number in range(count)
        )
    return [subscription.pk for subscription in made]
