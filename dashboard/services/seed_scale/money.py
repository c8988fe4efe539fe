"""The seeded organization's money, as the product's services would have moved it.

- Allocations (credit_allocate's transfers, keyed `allocate:<key>:member:<id>`): on the 1st
  of each month at 07:00, to every member, what their usage of the month costs plus a margin,
  rounded up; so every call is paid from the member's wallet.
- Subscriptions (assign and the renewal sweep): monthly plans assigned on a day from the 2nd
  to the 28th, one Renewal per period with its `subscription_charge` transfer from the company
  balance, keyed by `subscription_charge_key`, up to the period running now.
- Purchases (card, or bank transfer every third month), paid on the 1st at 06:00, each within
  the verified purchase limit, enough for the month's allocations and charges: the company
  balance never goes below zero. The first one fixes the currency.
"""

import datetime
import math
import random
import secrets
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers
from django.db import connection
from djmoney.money import Money

from credit.models import Account, Purchase
from credit.services.purchases import REFERENCE_ALPHABET, purchase_limits
from dashboard.services.seed_scale.people import People
from dashboard.services.seed_scale.timeline import Timeline, at
from organizations.models import Member, Organization
from subscriptions.models import Plan, PlanPrice, Renewal, Subscription
from subscriptions.periods import period_end
from subscriptions.services.charges import subscription_charge_key

# What each member is given beyond their month's usage, and the step amounts are rounded up to
# (in the currency's unit; scaled for currencies whose unit is small, as purchase limits are).
MARGIN, STEP = 3, 5
SMALL_UNIT_SCALE = {"JPY": 100}
# Plans people get, by kind; a number in the organization's country is the likeliest.
KIND_WEIGHTS = {Plan.Kind.CALLING: 45, Plan.Kind.NUMBER: 35, Plan.Kind.VOICEMAIL: 20}
HOME_NUMBER_WEIGHT = 4
FIRST_MONTH_SHARE = 0.6
BANK_TRANSFER_EVERY = 3


def _scale(organization: Organization) -> int:
    return SMALL_UNIT_SCALE.get(organization.currency, 1)


_ALLOCATIONS = """
INSERT INTO credit_transfer (
    organization_id, amount_currency, actor_id, created_at, source_id, destination_id, amount,
    kind, memo, idempotency_key, reverses_id
)
SELECT %(organization)s, %(currency)s, %(actor)s, month.allocation_at, %(company)s,
       member.wallet_id,
       ceil((COALESCE(spent.total, 0) + %(margin)s) / %(step)s) * %(step)s, 'allocation',
       'Monthly credit ' || to_char(month.first_day, 'YYYY-MM'),
       'allocate:seed-' || to_char(month.first_day, 'YYYY-MM') || ':member:' || member.member_id,
       NULL
FROM unnest(%(months)s::date[], %(moments)s::timestamptz[]) AS month(first_day, allocation_at)
CROSS JOIN seed_member AS member
LEFT JOIN (
    SELECT member_id, date_trunc('month', started_at AT TIME ZONE %(zone)s)::date AS first_day,
           SUM(cost) AS total
    FROM usage_usagerecord WHERE organization_id = %(organization)s
    GROUP BY 1, 2
) AS spent ON spent.member_id = member.member_id AND spent.first_day = month.first_day
"""


def allocations_insert(
    *, organization: Organization, people: People, timeline: Timeline, company: Account
) -> int:
    """Each month's allocation to every member (the months begun by now)."""
    months = [month for month in timeline.months if month.allocation_at <= timeline.now]
    if not months:
        return 0
    scale = _scale(organization)
    with connection.cursor() as cursor:
        cursor.execute(
            _ALLOCATIONS,
            {
                "organization": organization.pk,
                "currency": organization.currency,
                "actor": people.owner.pk,
                "company": company.pk,
                "margin": MARGIN * scale,
                "step": STEP * scale,
                "months": [month.first_day for month in months],
                "moments": [month.allocation_at for month in months],
                "zone": timeline.time_zone,
            },
        )
        return cursor.rowcount


@dataclass
class _Period:
    start: datetime.datetime
    end: datetime.datetime
    charged_at: datetime.datetime


def _plans(organization: Organization) -> list[tuple[Plan, Decimal, float]]:
    """The monthly plans priced in the currency, with their price and how likely each is."""
    prices = {
        price.plan_id: price.amount
        for price in PlanPrice.objects.filter(currency=organization.currency, period_months=1)
    }
    plans = [plan for plan in Plan.objects.filter(active=True) if plan.pk in prices]
    counts = {kind: sum(1 for plan in plans if plan.kind == kind) for kind in KIND_WEIGHTS}
    weighted = []
    for plan in plans:
        weight = KIND_WEIGHTS[plan.kind] / counts[plan.kind]
        if plan.kind == Plan.Kind.NUMBER and plan.country == organization.country:
            weight *= HOME_NUMBER_WEIGHT
        weighted.append((plan, prices[plan.pk], weight))
    return weighted


def _periods(start, anchor: int, timeline: Timeline, rng: random.Random) -> list[_Period]:
    """The monthly periods from `start` to the one running now; each renewal is charged by
    the sweep a few minutes after its period starts."""
    periods = [
        _Period(start, period_end(start, 1, anchor_day=anchor, time_zone=timeline.time_zone), start)
    ]
    while periods[-1].end <= timeline.now:
        begins = periods[-1].end
        charged_at = min(begins + datetime.timedelta(minutes=rng.randint(5, 40)), timeline.now)
        ends = period_end(begins, 1, anchor_day=anchor, time_zone=timeline.time_zone)
        periods.append(_Period(begins, ends, charged_at))
    return periods


def _start(timeline: Timeline, rng: random.Random) -> tuple[datetime.datetime, int] | None:
    """When a subscription was assigned (most in the first month) and its anchor day."""
    months = timeline.months
    index = 0 if rng.random() < FIRST_MONTH_SHARE else rng.randrange(len(months))
    anchor = rng.randint(2, 28)
    first_day = months[index].first_day.replace(day=anchor)
    start = at(first_day, rng.randint(9, 17), timeline.time_zone, minute=rng.randrange(60))
    if start < timeline.now:
        return start, anchor
    start = at(months[0].first_day.replace(day=2), 9, timeline.time_zone)
    return (start, 2) if start < timeline.now else None


class _NumberBook:
    """Phone numbers for online-number plans that no live subscription holds (the database's
    rule: a number belongs to one subscription until released)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT phone_number FROM subscriptions_subscription "
                "WHERE phone_number <> '' AND released_at IS NULL"
            )
            self.taken = {number for (number,) in cursor}

    def number(self, country: str) -> str:
        example = phonenumbers.example_number_for_type(
            country, phonenumbers.PhoneNumberType.FIXED_LINE
        )
        if example is None:
            return ""
        digits = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for _attempt in range(1000):
            candidate = digits[:-5] + f"{self.rng.randrange(100_000):05d}"
            if candidate not in self.taken:
                self.taken.add(candidate)
                return candidate
        return ""


_CHARGES = """
INSERT INTO credit_transfer (
    organization_id, amount_currency, actor_id, created_at, source_id, destination_id, amount,
    kind, memo, idempotency_key, reverses_id
)
SELECT %s, %s, NULL, new.created_at, %s, %s, new.amount, 'subscription_charge', new.memo,
       new.idempotency_key, NULL
FROM unnest(%s::timestamptz[], %s::numeric[], %s::text[], %s::text[])
    AS new(created_at, amount, memo, idempotency_key)
RETURNING id, idempotency_key
"""


def subscriptions_create(
    *,
    organization: Organization,
    people: People,
    timeline: Timeline,
    company: Account,
    bucket: Account,
    count: int,
    rng: random.Random,
) -> tuple[int, int]:
    """`count` monthly subscriptions and all their periods' renewals and charges; returns how
    many subscriptions and renewals were made."""
    plans = _plans(organization)
    if not plans or not count:
        return 0, 0
    names = dict(Member.objects.for_org(organization).values_list("pk", "display_name"))
    members = sorted(names)
    rng.shuffle(members)
    book = _NumberBook(rng)
    subscriptions, periods = [], []
    for index in range(count):
        started = _start(timeline, rng)
        if started is None:
            break
        start, anchor = started
        [(plan, price, _weight)] = rng.choices(plans, weights=[w for _p, _a, w in plans])
        number = plan.kind == Plan.Kind.NUMBER
        spans = _periods(start, anchor, timeline, rng)
        subscriptions.append(
            Subscription(
                organization=organization,
                member_id=members[index % len(members)],
                plan=plan,
                status=Subscription.Status.ACTIVE,
                period_months=1,
                anchor_day=anchor,
                period_start=spans[-1].start,
                period_end=spans[-1].end,
                number_country=plan.country if number else "",
                phone_number=book.number(str(plan.country)) if number else "",
                provider_id=f"PN{secrets.token_hex(16)}" if number else "",
                created_by=people.owner,
            )
        )
        periods.append((start, price, spans))
    created = Subscription.objects.for_org(organization).bulk_create(subscriptions)
    charges = [
        (subscription, price, span)
        for subscription, (_start_at, price, spans) in zip(created, periods, strict=True)
        for span in spans
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            _CHARGES,
            [
                organization.pk,
                organization.currency,
                company.pk,
                bucket.pk,
                [span.charged_at for _s, _p, span in charges],
                [price for _s, price, _span in charges],
                [
                    f"{subscription.plan.name} for {names[subscription.member_id]}"[:255]
                    for subscription, _p, _span in charges
                ],
                [subscription_charge_key(s.pk, span.start) for s, _p, span in charges],
            ],
        )
        transfers = {key: pk for pk, key in cursor.fetchall()}
    renewals = Renewal.objects.for_org(organization).bulk_create(
        Renewal(
            organization=organization,
            subscription=subscription,
            period_start=span.start,
            period_end=span.end,
            period_months=1,
            amount=price,
            status=Renewal.Status.PAID,
            transfer_id=transfers[subscription_charge_key(subscription.pk, span.start)],
            attempts=1,
            last_attempt_at=span.charged_at,
        )
        for subscription, price, span in charges
    )
    _created_at_move("subscriptions_subscription", [s.pk for s in created], [p[0] for p in periods])
    _created_at_move(
        "subscriptions_renewal",
        [r.pk for r in renewals],
        [span.charged_at for *_x, span in charges],
    )
    return len(created), len(renewals)


def _created_at_move(table: str, ids: list[int], moments: list[datetime.datetime]) -> None:
    """Give bulk-created rows the time they stand for (auto_now_add stamped the seed's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name comes from this module, never from input.
            f"UPDATE {table} AS row SET created_at = new.moment "  # noqa: S608
            "FROM unnest(%s::bigint[], %s::timestamptz[]) AS new(id, moment) WHERE row.id = new.id",
            [ids, moments],
        )


_PURCHASE_CREDITS = """
INSERT INTO credit_transfer (
    organization_id, amount_currency, actor_id, created_at, source_id, destination_id, amount,
    kind, memo, idempotency_key, reverses_id
)
SELECT organization_id, amount_currency, NULL, paid_at, %(payments)s, %(company)s, amount,
       'purchase',
       CASE method WHEN 'bank_transfer' THEN 'Bank transfer ' ELSE 'Card ' END || number,
       'purchase:' || id, NULL
FROM credit_purchase WHERE organization_id = %(organization)s AND status = 'paid'
"""


def purchases_create(
    *,
    organization: Organization,
    people: People,
    timeline: Timeline,
    company: Account,
    payments: Account,
) -> int:
    """The purchases that fund each month's allocations and charges (run after them)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT date_trunc('month', created_at AT TIME ZONE %s)::date, SUM(amount)
            FROM credit_transfer WHERE organization_id = %s AND source_id = %s GROUP BY 1
            """,
            [timeline.time_zone, organization.pk, company.pk],
        )
        spent = dict(cursor.fetchall())
    scale = _scale(organization)
    round_to = Decimal(100 * scale)
    _smallest, largest = purchase_limits(organization)
    purchases, numbers = [], {}
    for index, month in enumerate(timeline.months):
        need = spent.get(month.first_day, Decimal(0))
        if not need or month.purchase_at > timeline.now:
            continue
        total = Decimal(math.ceil((need + round_to / 2) / round_to)) * round_to
        bank = index % BANK_TRANSFER_EVERY == BANK_TRANSFER_EVERY - 1
        while total > 0:
            amount = min(total, largest.amount)
            total -= amount
            created_at = month.purchase_at - (
                datetime.timedelta(days=2) if bank else datetime.timedelta(minutes=2)
            )
            year = created_at.astimezone(datetime.UTC).year
            numbers[year] = numbers.get(year, 0) + 1
            purchases.append(
                Purchase(
                    organization=organization,
                    number=f"{year}-{numbers[year]:05d}",
                    method=Purchase.Method.BANK_TRANSFER if bank else Purchase.Method.CARD,
                    amount=Money(amount, organization.currency),
                    status=Purchase.Status.PAID,
                    created_by=people.owner,
                    reference=_reference() if bank else "",
                    refunded=Money(0, organization.currency),
                    paid_at=month.purchase_at,
                    created_at=created_at,
                )
            )
    moments = [purchase.created_at for purchase in purchases]
    created = Purchase.objects.for_org(organization).bulk_create(purchases)
    _created_at_move("credit_purchase", [purchase.pk for purchase in created], moments)
    with connection.cursor() as cursor:
        cursor.execute(
            _PURCHASE_CREDITS,
            {"organization": organization.pk, "payments": payments.pk, "company": company.pk},
        )
    if moments:
        # The first purchase fixed the currency, as purchase_create does.
        Organization.objects.filter(pk=organization.pk).update(currency_locked_at=min(moments))
    return len(created)


def _reference() -> str:
    return "SM-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
