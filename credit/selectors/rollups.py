"""The daily rollups checked against what they sum up (`manage.py check_rollups`).

Usage categories ("call:<country>", "sms"), per member, day and category, against the usage
records (their cost and any later adjustment, their seconds or parts, their count), the day
being the record's start in the organization's time zone. Feature categories ("number",
"voicemail", "subscription"), per day, against the subscription charges less refunds posted
that day (the organization's time zone). And each monthly rollup (MonthlyRollup) against the
sum of its month's daily rollups; each organization day total (DailyTotal) against its
members' daily rollups; and each member month total (MemberMonthTotal) against the member's
monthly rollups.
"""

from decimal import Decimal

from django.db import connection

from credit.models import DailyRollup
from organizations.models import Organization
from organizations.scoping import all_tenants

_USAGE_FROM_RECORDS = """
SELECT member_id, (started_at AT TIME ZONE %(zone)s)::date AS day,
       CASE WHEN kind = 'call' THEN 'call:' || COALESCE(NULLIF(upper(country), ''), 'ZZ')
            ELSE 'sms' END AS category,
       SUM(cost + adjustment), SUM(CASE WHEN kind = 'call' THEN seconds ELSE units END),
       COUNT(*)
FROM usage_usagerecord WHERE organization_id = %(organization)s
GROUP BY 1, 2, 3
"""

_USAGE_FROM_ROLLUPS = """
SELECT member_id, day, category, amount, quantity, records FROM credit_dailyrollup
WHERE organization_id = %(organization)s AND (category LIKE 'call:%%' OR category = 'sms')
  AND (amount <> 0 OR quantity <> 0 OR records <> 0)
"""

_FEATURES_FROM_TRANSFERS = """
SELECT (created_at AT TIME ZONE %(zone)s)::date,
       SUM(CASE WHEN kind = 'subscription_charge' THEN amount ELSE -amount END)
FROM credit_transfer
WHERE organization_id = %(organization)s
  AND kind IN ('subscription_charge', 'subscription_refund')
GROUP BY 1
"""

_FEATURES_FROM_ROLLUPS = """
SELECT day, SUM(amount) FROM credit_dailyrollup
WHERE organization_id = %(organization)s AND category IN ('number', 'voicemail', 'subscription')
GROUP BY 1
"""

_MONTHS_AGAINST_DAYS = """
WITH days AS (
    SELECT member_id, date_trunc('month', day)::date AS month, category, SUM(amount) AS amount,
           SUM(quantity) AS quantity, SUM(records) AS records
    FROM credit_dailyrollup WHERE organization_id = %(organization)s
    GROUP BY 1, 2, 3
), months AS (
    SELECT member_id, month, category, amount, quantity, records
    FROM credit_monthlyrollup WHERE organization_id = %(organization)s
)
SELECT COALESCE(days.member_id, months.member_id), COALESCE(days.month, months.month),
       COALESCE(days.category, months.category),
       ARRAY[days.amount, days.quantity, days.records]::text,
       ARRAY[months.amount, months.quantity, months.records]::text
FROM days FULL OUTER JOIN months USING (member_id, month, category)
WHERE days.amount IS DISTINCT FROM months.amount
   OR days.quantity IS DISTINCT FROM months.quantity
   OR days.records IS DISTINCT FROM months.records
ORDER BY 1, 2, 3
"""

_DAY_TOTALS_AGAINST_DAYS = """
WITH days AS (
    SELECT day, category, SUM(amount) AS amount, SUM(quantity) AS quantity,
           SUM(records) AS records
    FROM credit_dailyrollup WHERE organization_id = %(organization)s
    GROUP BY 1, 2
), totals AS (
    SELECT day, category, amount, quantity, records
    FROM credit_dailytotal WHERE organization_id = %(organization)s
)
SELECT COALESCE(days.day, totals.day), COALESCE(days.category, totals.category),
       ARRAY[days.amount, days.quantity, days.records]::text,
       ARRAY[totals.amount, totals.quantity, totals.records]::text
FROM days FULL OUTER JOIN totals USING (day, category)
WHERE days.amount IS DISTINCT FROM totals.amount
   OR days.quantity IS DISTINCT FROM totals.quantity
   OR days.records IS DISTINCT FROM totals.records
ORDER BY 1, 2
"""

_MEMBER_MONTHS_AGAINST_MONTHS = """
WITH months AS (
    SELECT member_id, month,
           SUM(CASE WHEN category LIKE 'call:%%' THEN records ELSE 0 END) AS calls,
           SUM(CASE WHEN category LIKE 'call:%%' THEN quantity ELSE 0 END) AS seconds,
           SUM(CASE WHEN category = 'sms' THEN quantity ELSE 0 END) AS messages,
           SUM(CASE WHEN category LIKE 'call:%%' OR category = 'sms' THEN amount ELSE 0 END)
               AS usage,
           SUM(CASE WHEN category LIKE 'call:%%' OR category = 'sms' THEN 0 ELSE amount END)
               AS features,
           SUM(amount) AS amount
    FROM credit_monthlyrollup WHERE organization_id = %(organization)s
    GROUP BY 1, 2
), totals AS (
    SELECT member_id, month, calls, seconds, messages, usage, features, amount
    FROM credit_membermonthtotal WHERE organization_id = %(organization)s
)
SELECT COALESCE(months.member_id, totals.member_id), COALESCE(months.month, totals.month),
       ARRAY[months.calls, months.seconds, months.messages, months.usage, months.features,
             months.amount]::text,
       ARRAY[totals.calls, totals.seconds, totals.messages, totals.usage, totals.features,
             totals.amount]::text
FROM months FULL OUTER JOIN totals USING (member_id, month)
WHERE months.calls IS DISTINCT FROM totals.calls
   OR months.seconds IS DISTINCT FROM totals.seconds
   OR months.messages IS DISTINCT FROM totals.messages
   OR months.usage IS DISTINCT FROM totals.usage
   OR months.features IS DISTINCT FROM totals.features
   OR months.amount IS DISTINCT FROM totals.amount
ORDER BY 1, 2
"""


def rollup_problems(organization: Organization | None = None) -> list[str]:
    """Every difference between the rollups and what they sum up, in words; empty when exact."""
    with all_tenants("check_rollups verifies every organization's rollups"):
        if organization is not None:
            organizations = [organization]
        else:
            organizations = list(
                Organization.objects.filter(
                    pk__in=DailyRollup.objects.values("organization_id").distinct()
                )
            )
            from usage.models import UsageRecord

            seen = {o.pk for o in organizations}
            organizations += list(
                Organization.objects.filter(
                    pk__in=UsageRecord.objects.values("organization_id").distinct()
                ).exclude(pk__in=seen)
            )
    problems = []
    for org in organizations:
        problems.extend(_problems_of(org))
    return problems


def _rows(sql: str, organization: Organization) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"organization": organization.pk, "zone": organization.time_zone})
        return cursor.fetchall()


def _problems_of(organization: Organization) -> list[str]:
    problems = []
    expected = {row[:3]: row[3:] for row in _rows(_USAGE_FROM_RECORDS, organization)}
    kept = {row[:3]: row[3:] for row in _rows(_USAGE_FROM_ROLLUPS, organization)}
    for key in sorted(set(expected) | set(kept), key=str):
        want = tuple(expected.get(key, (Decimal(0), 0, 0)))
        have = tuple(kept.get(key, (Decimal(0), 0, 0)))
        if want != have:
            member, day, category = key
            problems.append(
                f"{organization.slug}: member {member} on {day} ({category}): rollup "
                f"{_words(have)}, usage records {_words(want)}"
            )
    for member, month, category, days, kept_month in _rows(_MONTHS_AGAINST_DAYS, organization):
        problems.append(
            f"{organization.slug}: member {member} in {month:%Y-%m} ({category}): monthly "
            f"rollup {kept_month}, its days {days} (amount, quantity, records)"
        )
    for day, category, days, total in _rows(_DAY_TOTALS_AGAINST_DAYS, organization):
        problems.append(
            f"{organization.slug}: the organization on {day} ({category}): day total {total}, "
            f"its members' days {days} (amount, quantity, records)"
        )
    for member, month, months, total in _rows(_MEMBER_MONTHS_AGAINST_MONTHS, organization):
        problems.append(
            f"{organization.slug}: member {member} in {month:%Y-%m}: month total {total}, "
            f"its categories {months} (calls, seconds, messages, usage, features, amount)"
        )
    charged = dict(_rows(_FEATURES_FROM_TRANSFERS, organization))
    rolled = dict(_rows(_FEATURES_FROM_ROLLUPS, organization))
    for day in sorted(set(charged) | set(rolled)):
        want, have = charged.get(day, Decimal(0)), rolled.get(day, Decimal(0))
        if want != have:
            problems.append(
                f"{organization.slug}: features on {day}: rollups {have}, transfers {want}"
            )
    return problems


def _words(values: tuple) -> str:
    amount, quantity, records = values
    return f"{amount} for {quantity} ({records} records)"
