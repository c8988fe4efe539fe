"""Reads of the ledger: balances and the invariants `check_ledger` verifies."""

from decimal import Decimal

from django.db import connection
from django.db.models import Sum

from credit.models import Account, Transfer
from organizations.models import Organization
from organizations.scoping import all_tenants


def ledger_problems(organization: Organization | None = None) -> list[str]:
    """Every break of the ledger's invariants, in words; empty when the books are sound.

    For each organization (or the one given): each account's cached balance equals what its
    transfers add up to; wallets are not below zero; every amount is in the organization's
    currency; all its accounts sum to zero; and the monthly ledger rollups (LedgerRollup)
    equal the transfers they sum, per account, month (the organization's time zone) and kind.
    """
    problems = []
    with all_tenants("check_ledger verifies every organization's books"):
        organizations = (
            [organization]
            if organization is not None
            else Organization.objects.filter(
                pk__in=Account.objects.values("organization_id").distinct()
            )
        )
        for org in organizations:
            problems.extend(_problems_of(org))
    return problems


def _problems_of(organization: Organization) -> list[str]:
    problems = []
    accounts = list(Account.objects.filter(organization=organization).order_by("pk"))
    transfers = Transfer.objects.filter(organization=organization)
    incoming = dict(
        transfers.values("destination_id")
        .annotate(total=Sum("amount"))
        .values_list("destination_id", "total")
    )
    outgoing = dict(
        transfers.values("source_id")
        .annotate(total=Sum("amount"))
        .values_list("source_id", "total")
    )
    other_currency = transfers.exclude(amount_currency=organization.currency).count()
    if other_currency:
        problems.append(
            f"{organization.slug}: {other_currency} transfers are not in {organization.currency}"
        )
    total = Decimal(0)
    for account in accounts:
        expected = incoming.get(account.pk, Decimal(0)) - outgoing.get(account.pk, Decimal(0))
        cached = account.balance.amount
        total += cached
        if cached != expected:
            problems.append(
                f"{organization.slug}: account {account.pk} ({account.kind}) caches {cached}, "
                f"its transfers make {expected}"
            )
        if account.is_wallet and cached < 0:
            problems.append(f"{organization.slug}: wallet {account.pk} is below zero ({cached})")
        if str(account.balance.currency) != organization.currency:
            problems.append(f"{organization.slug}: account {account.pk} is not in the currency")
    if total != 0:
        problems.append(f"{organization.slug}: accounts sum to {total}, not zero")
    with connection.cursor() as cursor:
        cursor.execute(
            _ROLLUPS_AGAINST_TRANSFERS,
            {"organization": organization.pk, "zone": organization.time_zone},
        )
        for account, month, kind, want, have in cursor.fetchall():
            problems.append(
                f"{organization.slug}: account {account} in {month:%Y-%m} ({kind}): ledger rollup "
                f"{have}, transfers {want} (in, out, count)"
            )
    return problems


# Each account's (month, kind) totals from the transfers and from the rollups, where they differ.
_ROLLUPS_AGAINST_TRANSFERS = """
WITH moved AS (
    SELECT account_id, month, kind, SUM(amount_in) AS amount_in, SUM(amount_out) AS amount_out,
           COUNT(*) AS transfers
    FROM (
        SELECT destination_id AS account_id, kind, amount AS amount_in, 0 AS amount_out,
               date_trunc('month', created_at AT TIME ZONE %(zone)s)::date AS month
        FROM credit_transfer WHERE organization_id = %(organization)s
        UNION ALL
        SELECT source_id, kind, 0, amount,
               date_trunc('month', created_at AT TIME ZONE %(zone)s)::date
        FROM credit_transfer WHERE organization_id = %(organization)s
    ) AS side
    GROUP BY 1, 2, 3
), kept AS (
    SELECT account_id, month, kind, amount_in, amount_out, transfers
    FROM credit_ledgerrollup
    WHERE organization_id = %(organization)s
)
SELECT COALESCE(moved.account_id, kept.account_id), COALESCE(moved.month, kept.month),
       COALESCE(moved.kind, kept.kind),
       ARRAY[moved.amount_in, moved.amount_out, moved.transfers]::text,
       ARRAY[kept.amount_in, kept.amount_out, kept.transfers]::text
FROM moved FULL OUTER JOIN kept USING (account_id, month, kind)
WHERE moved.amount_in IS DISTINCT FROM kept.amount_in
   OR moved.amount_out IS DISTINCT FROM kept.amount_out
   OR moved.transfers IS DISTINCT FROM kept.transfers
ORDER BY 1, 2, 3
"""


def organization_balances(organization: Organization) -> dict:
    """The company balance, what members hold in all, and what the company owes."""
    zero = Decimal(0)
    sums = dict(
        Account.objects.for_org(organization)
        .values("kind")
        .annotate(total=Sum("balance"))
        .values_list("kind", "total")
    )
    from djmoney.money import Money

    currency = organization.currency
    return {
        "company": Money(sums.get(Account.Kind.ORGANIZATION, zero), currency),
        "members": Money(sums.get(Account.Kind.MEMBER, zero), currency),
        "owed": Money(-min(sums.get(Account.Kind.RECEIVABLE, zero), zero), currency),
    }
