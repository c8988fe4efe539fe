"""What a report must say, worked out from the raw rows (transfers, usage records), the long way
round, and the report's tables read back as dictionaries.

The report reads rollups; this module never does: balances are sums of transfers up to an
instant, spending sums usage records (cost and later adjustment, by their start in the
organization's time zone) and the feature charges less refunds (by the day they were posted).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.urls import resolve

from credit.models import Account, Transfer
from dashboard.periods import Period
from subscriptions.models import Plan, Subscription
from usage.models import UsageRecord

ZERO = Decimal(0)
WALLETS = (Account.Kind.ORGANIZATION, Account.Kind.MEMBER)

# The summary's lines, as a reader sees them, and the transfers each one adds up.
SUMMARY_LINES = {
    "Purchases": ("purchase",),
    "Allocations": ("allocation",),
    "Take-backs": ("take_back",),
    "Usage": ("usage",),
    "Subscription charges": ("subscription_charge",),
    "Refunds": ("subscription_refund", "refund"),
    "Settlements of what was owed": ("settlement",),
    "Adjustments": ("adjustment",),
}
# Lines the summary shows even when nothing moved.
ALWAYS_SHOWN = ("Purchases", "Allocations", "Usage", "Subscription charges")
FEATURE_CATEGORIES = {
    Plan.Kind.NUMBER: "number",
    Plan.Kind.VOICEMAIL: "voicemail",
}


@dataclass(frozen=True)
class Spent:
    """One usage record or one feature charge (or refund) as the reports count it."""

    member_id: int
    day: datetime.date
    category: str
    amount: Decimal
    quantity: int
    records: int

    @property
    def is_call(self) -> bool:
        return self.category.startswith("call:")

    @property
    def is_usage(self) -> bool:
        return self.is_call or self.category == "sms"


@dataclass
class Split:
    """Spending split as the members' and days' rows split it."""

    calls: int = 0
    seconds: int = 0
    messages: int = 0
    usage: Decimal = ZERO
    features: Decimal = ZERO
    records: int = 0

    def add(self, spent: Spent) -> None:
        if spent.is_call:
            self.calls += spent.records
            self.seconds += spent.quantity
        if spent.category == "sms":
            self.messages += spent.quantity
        if spent.is_usage:
            self.usage += spent.amount
        else:
            self.features += spent.amount
        self.records += spent.records

    @property
    def total(self) -> Decimal:
        return self.usage + self.features

    @property
    def figures(self) -> list:
        """The six figures of a members' or days' row, in the report's column order."""
        return [self.calls, self.seconds, self.messages, self.usage, self.features, self.total]


def _category_matches(category: str, wanted: str) -> bool:
    if not wanted:
        return True
    if wanted == "calls":
        return category.startswith("call:")
    return category == wanted


class Truth:
    """An organization's money and spending, read once from its transfers and usage records."""

    def __init__(self, organization):
        self.organization = organization
        self.zone = ZoneInfo(organization.time_zone)
        self.transfers = list(
            Transfer.objects.for_org(organization).select_related("source", "destination")
        )
        subscriptions = {
            subscription.pk: subscription
            for subscription in Subscription.objects.for_org(organization).select_related("plan")
        }
        self.spent: list[Spent] = []
        for record in UsageRecord.objects.for_org(organization):
            call = record.kind == UsageRecord.Kind.CALL
            self.spent.append(
                Spent(
                    member_id=record.member_id,
                    day=record.started_at.astimezone(self.zone).date(),
                    category=f"call:{(record.country or 'ZZ').upper()}" if call else "sms",
                    amount=record.cost + record.adjustment,
                    quantity=record.seconds if call else record.units,
                    records=1,
                )
            )
        for transfer in self.transfers:
            if transfer.kind not in ("subscription_charge", "subscription_refund"):
                continue
            # The keys name the subscription: "subscription:<id>:period:<start>[:refund]".
            subscription = subscriptions[int(transfer.idempotency_key.split(":")[1])]
            charge = transfer.kind == "subscription_charge"
            self.spent.append(
                Spent(
                    member_id=subscription.member_id,
                    day=transfer.created_at.astimezone(self.zone).date(),
                    category=FEATURE_CATEGORIES.get(subscription.plan.kind, "subscription"),
                    amount=transfer.amount.amount if charge else -transfer.amount.amount,
                    quantity=0,
                    records=1 if charge else 0,
                )
            )

    # --- The ledger ----------------------------------------------------------------------------

    def _wallet_sides(self, transfer: Transfer, members):
        """(wallet kind, signed amount) for each wallet the transfer moves money in or out of."""
        amount = transfer.amount.amount
        for account, sign in ((transfer.source, -1), (transfer.destination, 1)):
            if account.kind not in WALLETS:
                continue
            if members is not None and account.member_id not in members:
                continue
            yield account.kind, sign * amount

    def wallets_at(self, instant: datetime.datetime, *, members=None) -> dict[str, Decimal]:
        """The company's and the members' balances at `instant`: every transfer before it.
        `members` (ids) narrows the members' wallets to those and leaves the company out."""
        balances = {kind: ZERO for kind in WALLETS}
        for transfer in self.transfers:
            if transfer.created_at < instant:
                for kind, amount in self._wallet_sides(transfer, members):
                    balances[kind] += amount
        return balances

    def moved(
        self, start: datetime.datetime, end: datetime.datetime, kinds, *, members=None
    ) -> dict[str, Decimal]:
        """What transfers of `kinds` posted in [start, end) added to the wallets (net)."""
        moved = {kind: ZERO for kind in WALLETS}
        for transfer in self.transfers:
            if transfer.kind in kinds and start <= transfer.created_at < end:
                for kind, amount in self._wallet_sides(transfer, members):
                    moved[kind] += amount
        return moved

    # --- Spending ------------------------------------------------------------------------------

    def spending(self, period: Period, *, members=None, category: str = "") -> list[Spent]:
        return [
            spent
            for spent in self.spent
            if period.contains(spent.day)
            and (members is None or spent.member_id in members)
            and _category_matches(spent.category, category)
        ]

    def by(self, period: Period, key, **narrowed) -> dict:
        splits = defaultdict(Split)
        for spent in self.spending(period, **narrowed):
            splits[key(spent)].add(spent)
        return dict(splits)

    def total(self, period: Period, **narrowed) -> Split:
        split = Split()
        for spent in self.spending(period, **narrowed):
            split.add(spent)
        return split


# --- Reading a report back -------------------------------------------------------------------


def lines_of(report) -> dict[str, list]:
    """The summary's rows by their label, the closing balance included."""
    summary = report.tables["summary"]
    return {row[0]: row[1:] for row in [*summary.rows, summary.totals]}


def member_rows(table) -> dict[int, list]:
    """The members' rows by member id (from each row's link to the member's page)."""
    return {
        resolve(link).kwargs["member_id"]: row
        for link, row in zip(table.links, table.rows, strict=True)
    }


def rows_by_first(table) -> dict:
    return {row[0]: row[1:] for row in table.rows}


def column_keys(table) -> list[str]:
    return [column.key for column in table.columns]
