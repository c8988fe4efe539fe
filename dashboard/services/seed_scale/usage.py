"""Calls, messages and their debits, as `usage_records_ingest` would have recorded them.

Destinations are real numbers of the organization's currency's rate table (each number's
longest prefix is the rate it is priced at, as ingest finds it), mostly in the organization's
own country. Records are drawn in SQL (generate_series, random()) over the working hours of
every day, heavy callers and light ones, about one call in eight unanswered (free), priced by
the rate's increment like `usage.pricing.call_cost` and rounded half up to 4 places; every
record with a cost is debited from the member's wallet by one `usage` transfer keyed
`usage:<source>:<external id>`. Allocations cover the whole cost (money.py), so nothing is
taken from the company balance nor owed.
"""

import random
from collections import defaultdict
from dataclasses import dataclass

import phonenumbers
from django.db import connection

from credit.models import Account
from dashboard.services.seed_scale.timeline import Timeline
from organizations.models import Organization
from skypemgr.errors import ApplicationError
from usage.models import Rate
from usage.selectors.rates import number_digits

# Where calls go: the organization's country gets HOME_WEIGHT, these the rest.
HOME_WEIGHT = 55
ABROAD = {
    "GB": 8, "DE": 7, "ES": 5, "IT": 5, "US": 4, "BE": 4, "CH": 3, "NL": 2, "PT": 2,
    "CA": 1, "MA": 1, "JP": 1, "IN": 1, "BR": 1,
}  # fmt: skip
NUMBERS_PER_RATE = 6
# The destination and day arrays the SQL draws from hold about this many entries.
PICKS = 2000
UNANSWERED = 0.12
MEAN_SECONDS = 170
LONGEST_SECONDS = 2 * 60 * 60
# Heavy callers first: member index = members * random() ** SKEW.
SKEW = 1.6
TWILIO_SHARE = 0.7


@dataclass(frozen=True)
class Destination:
    digits: str
    rate: Rate
    weight: float


def destinations_pick(*, currency: str, country: str, rng: random.Random) -> list[Destination]:
    """Numbers to call, each with its rate (the longest prefix that matches it) and a weight."""
    rates = list(Rate.objects.filter(currency=currency))
    if not rates:
        raise ApplicationError(
            f"The rate table has no prices in {currency}: load them first (manage.py load_rates)."
        )
    by_prefix = {rate.prefix: rate for rate in rates}
    mix = dict(ABROAD)
    mix[country] = mix.get(country, 0) + HOME_WEIGHT
    usable = defaultdict(list)
    for rate in rates:
        if rate.country in mix and not rate.blocked and rate.line_type != Rate.LineType.OTHER:
            usable[rate.country].append(rate)
    picked = []
    for destination_country, weight in mix.items():
        groups = defaultdict(list)
        for rate in usable.get(destination_country, ()):
            groups[rate.line_type].append(rate)
        for group in groups.values():
            for rate in group:
                numbers = _numbers_for(rate, by_prefix, rng)
                for digits in numbers:
                    share = weight / len(groups) / len(group) / len(numbers)
                    picked.append(Destination(digits, rate, share))
    if not picked:
        raise ApplicationError(f"No callable destination has a price in {currency}.")
    return picked


def _numbers_for(rate: Rate, by_prefix: dict[str, Rate], rng: random.Random) -> list[str]:
    kind = (
        phonenumbers.PhoneNumberType.MOBILE
        if rate.line_type == Rate.LineType.MOBILE
        else phonenumbers.PhoneNumberType.FIXED_LINE
    )
    example = phonenumbers.example_number_for_type(rate.country, kind)
    if example is None:
        return []
    length = len(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)) - 1
    numbers = set()
    for _attempt in range(NUMBERS_PER_RATE * 8):
        if len(numbers) == NUMBERS_PER_RATE or len(rate.prefix) >= length:
            break
        tail = "".join(str(rng.randrange(10)) for _ in range(length - len(rate.prefix)))
        digits = rate.prefix + tail
        if _valid(digits) and _longest(by_prefix, digits) is rate:
            numbers.add(digits)
    return sorted(numbers)


def _valid(digits: str) -> bool:
    """A number ingest takes (`number_digits`) and that could be someone's (a valid one)."""
    if number_digits("+" + digits) != digits:
        return False
    return phonenumbers.is_valid_number(phonenumbers.parse("+" + digits))


def _longest(by_prefix: dict[str, Rate], digits: str) -> Rate | None:
    for length in range(min(len(digits), 15), 0, -1):
        rate = by_prefix.get(digits[:length])
        if rate is not None:
            return rate
    return None


def _picks(weights: list[float]) -> list[int]:
    """Indexes (1-based) repeated in proportion to their weights, to draw from in SQL: each
    index with a weight at least once, none without."""
    total = sum(weights)
    return [
        index
        for index, weight in enumerate(weights, start=1)
        if weight
        for _ in range(max(1, round(weight / total * PICKS)))
    ]


def scratch_tables_fill(
    *,
    destinations: list[Destination],
    timeline: Timeline,
    wallets: dict[int, int],
    rng: random.Random,
) -> None:
    """The transaction's scratch tables the SQL draws from: destinations, days, members (in
    a random order: the first are the heaviest callers)."""
    members = list(wallets.items())
    rng.shuffle(members)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE TEMPORARY TABLE seed_destination (
                idx int PRIMARY KEY, destination text, country text, per_minute numeric,
                per_sms numeric, increment text, prefix text, mobile boolean
            ) ON COMMIT DROP;
            CREATE TEMPORARY TABLE seed_day (
                idx int PRIMARY KEY, opens_at timestamptz, span int
            ) ON COMMIT DROP;
            CREATE TEMPORARY TABLE seed_member (
                idx int PRIMARY KEY, member_id bigint UNIQUE, wallet_id bigint
            ) ON COMMIT DROP;
            """
        )
        cursor.execute(
            """
            INSERT INTO seed_destination
            SELECT * FROM unnest(%s::int[], %s::text[], %s::text[], %s::numeric[],
                                 %s::numeric[], %s::text[], %s::text[], %s::boolean[])
            """,
            [
                list(range(1, len(destinations) + 1)),
                ["+" + d.digits for d in destinations],
                [d.rate.country for d in destinations],
                [d.rate.per_minute for d in destinations],
                [d.rate.per_sms for d in destinations],
                [d.rate.increment for d in destinations],
                [d.rate.prefix for d in destinations],
                [d.rate.line_type == Rate.LineType.MOBILE for d in destinations],
            ],
        )
        cursor.execute(
            "INSERT INTO seed_day SELECT * FROM unnest(%s::int[], %s::timestamptz[], %s::int[])",
            [
                list(range(1, len(timeline.days) + 1)),
                [day.opens_at for day in timeline.days],
                [day.span for day in timeline.days],
            ],
        )
        cursor.execute(
            "INSERT INTO seed_member SELECT * FROM unnest(%s::int[], %s::bigint[], %s::bigint[])",
            [
                list(range(len(members))),
                [member for member, _wallet in members],
                [wallet for _member, wallet in members],
            ],
        )
        cursor.execute("ANALYZE seed_destination; ANALYZE seed_day; ANALYZE seed_member")


def scratch_tables_drop() -> None:
    """Drop the scratch tables now (they would go at commit; a test's transaction lasts)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE seed_destination, seed_day, seed_member")


# Draw the records, price them, insert them. %(kind)s decides the columns that differ: a
# call's length and billed seconds (by the rate's increment), a message's parts.
_RECORDS = """
WITH drawn AS (
    SELECT g,
           (%(days)s::int[])[1 + floor(random() * %(day_picks)s)::int] AS day,
           floor(%(members)s * power(random(), %(skew)s))::int AS member,
           (%(destinations)s::int[])[1 + floor(random() * %(destination_picks)s)::int]
               AS destination,
           random() AS moment, random() AS answered, random() AS length, random() AS via
    FROM generate_series(1, %(count)s) AS g
), timed AS (
    SELECT drawn.g, drawn.member, drawn.via, dest.*,
           day.opens_at + floor(drawn.moment * day.span) * interval '1 second' AS started_at,
           CASE WHEN %(kind)s = 'sms' THEN 0
                WHEN drawn.answered < %(unanswered)s THEN 0
                ELSE least(%(longest)s, 5 + floor(-ln(1 - drawn.length) * %(mean)s))::int
           END AS seconds,
           CASE WHEN %(kind)s = 'sms'
                THEN 1 + (drawn.answered < 0.15)::int + (drawn.length < 0.03)::int
                ELSE 0 END AS units
    FROM drawn
    JOIN seed_day AS day ON day.idx = drawn.day
    JOIN seed_destination AS dest ON dest.idx = drawn.destination
), billed AS (
    SELECT timed.*,
           CASE WHEN seconds = 0 THEN 0
                WHEN increment = 'second' THEN greatest(60, seconds)
                ELSE (seconds + 59) / 60 * 60 END AS billed_seconds
    FROM timed
), priced AS (
    SELECT billed.*,
           CASE WHEN %(kind)s = 'sms' THEN round(per_sms * units, 4)
                ELSE round(per_minute * billed_seconds / 60, 4) END AS cost,
           CASE WHEN %(kind)s = 'sms' OR via < %(twilio_share)s THEN 'twilio' ELSE 'api' END
               AS source
    FROM billed
)
INSERT INTO usage_usagerecord (
    organization_id, member_id, kind, direction, destination, country, started_at, seconds,
    units, billed_seconds, included_seconds, subscription_id, rate, rate_prefix, cost,
    currency, from_member, from_company, owed, provider_cost, adjustment, source, external_id,
    created_at
)
SELECT %(organization)s, member.member_id, %(kind)s, 'outbound', priced.destination,
       priced.country, priced.started_at, priced.seconds, priced.units, priced.billed_seconds,
       0, NULL, CASE WHEN %(kind)s = 'sms' THEN priced.per_sms ELSE priced.per_minute END,
       priced.prefix, priced.cost, %(currency)s, priced.cost, 0, 0, NULL, 0, priced.source,
       CASE WHEN priced.source = 'api' THEN 'pbx-' || %(organization)s || '-' || priced.g
            WHEN %(kind)s = 'sms' THEN 'SM' || md5('sms:' || %(organization)s || ':' || priced.g)
            ELSE 'CA' || md5('call:' || %(organization)s || ':' || priced.g) END,
       least(priced.started_at + (priced.seconds + 4) * interval '1 second', %(now)s)
FROM priced JOIN seed_member AS member ON member.idx = priced.member
-- In time order, as they would have come: the indexes on time grow at their end.
ORDER BY priced.started_at
"""

_DEBITS = """
INSERT INTO credit_transfer (
    organization_id, amount_currency, actor_id, created_at, source_id, destination_id, amount,
    kind, memo, idempotency_key, reverses_id
)
SELECT record.organization_id, record.currency, NULL, record.created_at, member.wallet_id,
       %(usage)s, record.cost, 'usage',
       CASE record.kind WHEN 'call' THEN 'Call ' ELSE 'SMS ' END || record.destination,
       'usage:' || record.source || ':' || record.external_id, NULL
FROM usage_usagerecord AS record JOIN seed_member AS member USING (member_id)
WHERE record.organization_id = %(organization)s AND record.cost > 0
ORDER BY record.created_at
"""


def usage_records_insert(
    *,
    organization: Organization,
    destinations: list[Destination],
    timeline: Timeline,
    members: int,
    calls: int,
    messages: int,
) -> None:
    """`calls` calls and `messages` messages over the timeline's days (none if it has no
    working hours yet, on the 1st before 08:00)."""
    if not timeline.days:
        return
    days = _picks([day.weight for day in timeline.days])
    common = {
        "organization": organization.pk,
        "currency": organization.currency,
        "now": timeline.now,
        "days": days,
        "day_picks": len(days),
        "members": members,
        "skew": SKEW,
        "unanswered": UNANSWERED,
        "longest": LONGEST_SECONDS,
        "mean": MEAN_SECONDS,
        "twilio_share": TWILIO_SHARE,
    }
    texting = [
        d.weight if d.rate.line_type == Rate.LineType.MOBILE and d.rate.per_sms > 0 else 0
        for d in destinations
    ]
    with connection.cursor() as cursor:
        for kind, count, weights in (
            ("call", calls, [d.weight for d in destinations]),
            ("sms", messages, texting),
        ):
            if not count or not any(weights):
                continue
            picks = _picks(weights)
            cursor.execute(
                _RECORDS,
                {
                    **common,
                    "kind": kind,
                    "count": count,
                    "destinations": picks,
                    "destination_picks": len(picks),
                },
            )


def usage_debits_insert(*, organization: Organization, usage_account: Account) -> int:
    """One `usage` transfer, wallet to the usage account, per record that cost something."""
    with connection.cursor() as cursor:
        cursor.execute(_DEBITS, {"organization": organization.pk, "usage": usage_account.pk})
        return cursor.rowcount
