"""The demo company's features (registered with organizations.extensions): the employee has a
calling subscription; the accountant has an online number (already active: no provider is
called, its provider id is "demo") with voicemail, renewing in a few days."""

import datetime

from django.utils import timezone

from credit.services.ledger import transfers_post
from organizations.models import Member, Organization
from organizations.roles import Role
from subscriptions.models import Plan, Renewal, Subscription
from subscriptions.periods import anchor_day_of, period_end
from subscriptions.selectors.catalog import price_for
from subscriptions.services.assign import subscriptions_assign
from subscriptions.services.charges import charge_movement

DEMO_NUMBER = "+33159000101"


def _paid_subscription(organization, owner, member, plan, **fields) -> Subscription | None:
    """A subscription bought 27 days ago (so it renews within days), its first period paid."""
    price = price_for(plan=plan, currency=organization.currency, period_months=1)
    if price is None:
        return None
    start = timezone.now() - datetime.timedelta(days=27)
    zone = organization.time_zone
    anchor = anchor_day_of(start, zone)
    subscription = Subscription.objects.create(
        organization=organization,
        member=member,
        plan=plan,
        status=Subscription.Status.ACTIVE,
        period_months=1,
        anchor_day=anchor,
        period_start=start,
        period_end=period_end(start, 1, anchor_day=anchor, time_zone=zone),
        created_by=owner,
        **fields,
    )
    [transfer] = transfers_post(
        organization=organization,
        actor=owner,
        movements=[
            charge_movement(
                organization=organization,
                subscription=subscription,
                period_start=start,
                amount=price,
            )
        ],
    )
    Renewal.objects.create(
        organization=organization,
        subscription=subscription,
        period_start=start,
        period_end=subscription.period_end,
        period_months=1,
        amount=price.amount,
        status=Renewal.Status.PAID,
        transfer=transfer,
        attempts=1,
        last_attempt_at=start,
    )
    return subscription


def demo_features_load(organization: Organization, people: dict[str, Member]) -> None:
    owner = people[Role.OWNER]
    employee = people.get(Role.MEMBER)
    accountant = people.get(Role.FINANCE)
    if employee is not None:
        subscriptions_assign(
            organization=organization,
            actor=owner,
            members=[employee],
            plan=Plan.objects.get(code="france-landlines-unlimited"),
            period_months=1,
            form_key="demo:calling",
        )
    if accountant is not None:
        number = Plan.objects.filter(kind=Plan.Kind.NUMBER, country="FR").first()
        if number is not None:
            _paid_subscription(
                organization,
                owner,
                accountant,
                number,
                number_country="FR",
                phone_number=DEMO_NUMBER,
                provider_id="demo",
            )
        voicemail = Plan.objects.filter(code="voicemail").first()
        if voicemail is not None:
            _paid_subscription(organization, owner, accountant, voicemail)
