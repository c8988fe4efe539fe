"""What the product keeps beside the raw rows, computed from them as the checks compute them.

- Daily spending rollups (credit.services.rollups, as ingest and the charges write them):
  usage by member, day of the record's start and category ("call:<country>", "sms"), its cost
  plus adjustment, seconds or parts, and count; feature charges by member, day of the charge
  and category ("number", "voicemail", "subscription"), their amount and count.
- Monthly rollups: the daily ones summed by calendar month.
- Ledger rollups: each transfer out of its source and into its destination, by account, month
  of the transfer and kind.
- Cached balances: what each account's transfers add up to.
Days and months are the organization's (its time zone). See credit.selectors.rollups and
credit.selectors.ledger for the checks these must pass.
"""

from django.db import connection

from organizations.models import Organization

_DAILY = """
INSERT INTO credit_dailyrollup
    (organization_id, member_id, day, category, amount, quantity, records)
SELECT %(organization)s, member_id, (started_at AT TIME ZONE %(zone)s)::date,
       CASE WHEN kind = 'call' THEN 'call:' || COALESCE(NULLIF(upper(country), ''), 'ZZ')
            ELSE 'sms' END,
       SUM(cost + adjustment), SUM(CASE WHEN kind = 'call' THEN seconds ELSE units END),
       COUNT(*)
FROM usage_usagerecord WHERE organization_id = %(organization)s
GROUP BY 2, 3, 4
UNION ALL
SELECT %(organization)s, subscription.member_id, (charge.created_at AT TIME ZONE %(zone)s)::date,
       CASE plan.kind WHEN 'number' THEN 'number' WHEN 'voicemail' THEN 'voicemail'
            ELSE 'subscription' END,
       SUM(charge.amount), 0, COUNT(*)
FROM subscriptions_renewal AS renewal
JOIN credit_transfer AS charge ON charge.id = renewal.transfer_id
JOIN subscriptions_subscription AS subscription ON subscription.id = renewal.subscription_id
JOIN subscriptions_plan AS plan ON plan.id = subscription.plan_id
WHERE renewal.organization_id = %(organization)s AND charge.kind = 'subscription_charge'
GROUP BY 2, 3, 4
-- In the unique index's order: each index page is written once, not revisited at random.
ORDER BY 2, 3, 4
"""

_MONTHLY = """
INSERT INTO credit_monthlyrollup
    (organization_id, member_id, month, category, amount, quantity, records)
SELECT %(organization)s, member_id, date_trunc('month', day)::date, category, SUM(amount),
       SUM(quantity), SUM(records)
FROM credit_dailyrollup WHERE organization_id = %(organization)s
GROUP BY 2, 3, 4
ORDER BY 2, 3, 4
"""

_DAY_TOTALS = """
INSERT INTO credit_dailytotal (organization_id, day, category, amount, quantity, records)
SELECT %(organization)s, day, category, SUM(amount), SUM(quantity), SUM(records)
FROM credit_dailyrollup WHERE organization_id = %(organization)s
GROUP BY 2, 3
ORDER BY 2, 3
"""

_MEMBER_MONTHS = """
INSERT INTO credit_membermonthtotal
    (organization_id, member_id, month, calls, seconds, messages, usage, features, amount)
SELECT %(organization)s, member_id, month,
       SUM(CASE WHEN category LIKE 'call:%%' THEN records ELSE 0 END),
       SUM(CASE WHEN category LIKE 'call:%%' THEN quantity ELSE 0 END),
       SUM(CASE WHEN category = 'sms' THEN quantity ELSE 0 END),
       SUM(CASE WHEN category LIKE 'call:%%' OR category = 'sms' THEN amount ELSE 0 END),
       SUM(CASE WHEN category LIKE 'call:%%' OR category = 'sms' THEN 0 ELSE amount END),
       SUM(amount)
FROM credit_monthlyrollup WHERE organization_id = %(organization)s
GROUP BY 2, 3
ORDER BY 2, 3
"""

_LEDGER = """
INSERT INTO credit_ledgerrollup (
    organization_id, account_id, account_kind, month, kind, amount_in, amount_out, transfers
)
SELECT %(organization)s, side.account_id, account.kind, side.month, side.kind,
       SUM(side.amount_in), SUM(side.amount_out), COUNT(*)
FROM (
    SELECT destination_id AS account_id, kind, amount AS amount_in, 0 AS amount_out,
           date_trunc('month', created_at AT TIME ZONE %(zone)s)::date AS month
    FROM credit_transfer WHERE organization_id = %(organization)s
    UNION ALL
    SELECT source_id, kind, 0, amount, date_trunc('month', created_at AT TIME ZONE %(zone)s)::date
    FROM credit_transfer WHERE organization_id = %(organization)s
) AS side
JOIN credit_account AS account ON account.id = side.account_id
GROUP BY side.account_id, account.kind, side.month, side.kind
"""

# Computed once (MATERIALIZED), whatever plan the update gets.
_BALANCES = """
WITH moved AS MATERIALIZED (
    SELECT account_id, SUM(amount) AS balance FROM (
        SELECT destination_id AS account_id, amount FROM credit_transfer
        WHERE organization_id = %(organization)s
        UNION ALL
        SELECT source_id, -amount FROM credit_transfer WHERE organization_id = %(organization)s
    ) AS side
    GROUP BY account_id
)
UPDATE credit_account AS account SET balance = moved.balance
FROM moved
WHERE account.id = moved.account_id AND account.organization_id = %(organization)s
"""


def totals_compute(*, organization: Organization) -> None:
    """Write the organization's rollups and balances from its usage records and transfers
    (it has none yet: a new organization)."""
    parameters = {"organization": organization.pk, "zone": organization.time_zone}
    with connection.cursor() as cursor:
        for statement in (_DAILY, _MONTHLY, _DAY_TOTALS, _MEMBER_MONTHS, _LEDGER, _BALANCES):
            cursor.execute(statement, parameters)
