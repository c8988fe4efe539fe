"""The Reports overview's recent activity: what happened to the money lately, newest first.

Purchases and their refunds, allocations and take-backs, features charged and refunded, one
line per posting (the ledger writes a posting's transfers with one timestamp: an allocation to
forty members is one line, with its total), and large calls. Read with LIMIT queries along the
indexes (organization, created_at, id) of transfers and (organization, started_at, id) of usage
records, so that a feed costs the same whatever the size of the ledger.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Min, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_countries import countries
from djmoney.money import Money

from credit.models import Account, Transfer
from organizations.models import Member, Organization
from usage.models import UsageRecord

ACTIVITY_SHOWN = 15
# The activity feed reads the postings of the kinds it shows from the last ACTIVITY_DAYS days
# (postings to thousands of members are counted in the database, not read).
ACTIVITY_DAYS = 90
ACTIVITY_KINDS = (
    Transfer.Kind.PURCHASE,
    Transfer.Kind.REFUND,
    Transfer.Kind.ALLOCATION,
    Transfer.Kind.TAKE_BACK,
    Transfer.Kind.SUBSCRIPTION_CHARGE,
    Transfer.Kind.SUBSCRIPTION_REFUND,
)
# A call is large when it costs at least this many times the median priced call among the
# organization's latest LARGE_CALL_SCAN records, and at least the currency's minimum (about five
# euros' worth, where calls cost cents a minute).
LARGE_CALL_FACTOR = 10
LARGE_CALL_MINIMUM = {"JPY": Decimal(500)}
LARGE_CALL_DEFAULT_MINIMUM = Decimal(5)
# Large calls (and the median they are measured by) are looked for among the organization's
# latest records only: an index range of (organization, started_at, id), however many calls.
LARGE_CALL_SCAN = 1000
CALL = "call"
# First strong isolate and pop directional isolate: <bdi> in plain text.
ISOLATE, END_ISOLATE = "\u2068", "\u2069"


@dataclass(frozen=True)
class Activity:
    """One line of the feed: the transfers of one posting of one kind (an allocation to forty
    members is one line), or one large call."""

    kind: str
    at: datetime.datetime
    amount: Money
    actor: Member | None = None
    # Transfers in the posting; the one member concerned when there is one.
    count: int = 1
    member: Member | None = None
    memo: str = ""
    # Calls: where to and how long.
    country: str = ""
    seconds: int = 0

    @property
    def is_call(self) -> bool:
        return self.kind == CALL

    @property
    def country_name(self) -> str:
        return countries.name(self.country) if self.country else ""

    @property
    def sentence(self) -> str:
        """What happened, in the active language (the amount and the time are shown apart).
        A name is set apart from the words around it (Unicode isolates), so that a name in
        Arabic does not carry them along right to left."""
        kind, count = self.kind, self.count
        member = f"{ISOLATE}{self.member}{END_ISOLATE}" if self.member is not None else None
        if kind == CALL:
            return _("Large call by %(member)s") % {"member": member or ""}
        if kind == Transfer.Kind.PURCHASE:
            return _("Credit bought")
        if kind == Transfer.Kind.REFUND:
            return _("Purchase refunded")
        if kind == Transfer.Kind.ALLOCATION:
            if count == 1 and member is not None:
                return _("Credit allocated to %(member)s") % {"member": member}
            return ngettext(
                "Credit allocated to %(count)d member",
                "Credit allocated to %(count)d members",
                count,
            ) % {"count": count}
        if kind == Transfer.Kind.TAKE_BACK:
            if count == 1 and member is not None:
                return _("Credit taken back from %(member)s") % {"member": member}
            return ngettext(
                "Credit taken back from %(count)d member",
                "Credit taken back from %(count)d members",
                count,
            ) % {"count": count}
        if kind == Transfer.Kind.SUBSCRIPTION_CHARGE:
            if count == 1:
                return _("Feature charged: %(what)s") % {"what": self.memo}
            return ngettext("%(count)d feature charged", "%(count)d features charged", count) % {
                "count": count
            }
        if count == 1:
            return _("Feature refunded: %(what)s") % {"what": self.memo}
        return ngettext("%(count)d feature refunded", "%(count)d features refunded", count) % {
            "count": count
        }


# The median cost of the priced calls among the organization's latest records (calls that cost
# nothing, paid by a subscription's minutes, would pull it to zero).
_MEDIAN_CALL = """
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY cost + adjustment)
FROM (
    SELECT kind, cost, adjustment FROM usage_usagerecord
    WHERE organization_id = %(organization)s AND started_at >= %(since)s
    ORDER BY started_at DESC, id DESC
    LIMIT %(scan)s
) AS latest
WHERE kind = 'call' AND cost + adjustment > 0
"""


def large_call_threshold(*, organization: Organization, since: datetime.datetime) -> Decimal:
    """The cost from which a call shows in the feed: LARGE_CALL_FACTOR times the median priced
    call among the latest LARGE_CALL_SCAN records since `since`, never under the currency's
    minimum. One query."""
    minimum = LARGE_CALL_MINIMUM.get(organization.currency, LARGE_CALL_DEFAULT_MINIMUM)
    with connection.cursor() as cursor:
        cursor.execute(
            _MEDIAN_CALL, {"organization": organization.pk, "since": since, "scan": LARGE_CALL_SCAN}
        )
        (median,) = cursor.fetchone()
    if median is None:
        return minimum
    return max(Decimal(str(median)) * LARGE_CALL_FACTOR, minimum)


def _postings(organization: Organization, since: datetime.datetime, limit: int) -> list[Activity]:
    """The latest `limit` postings of ACTIVITY_KINDS, each as one line (an allocation to a
    thousand members is one line with its count and total).

    Two queries: the postings themselves, grouped in the database by (moment, kind, actor)
    over the period's transfers of those kinds (the index of the transfers that are not usage);
    then each posting's first transfer, to name its actor (and the member of a one-transfer
    posting)."""
    grouped = list(
        Transfer.objects.for_org(organization)
        .filter(kind__in=ACTIVITY_KINDS, created_at__gte=since)
        # For the index of the transfers that are not usage (credit.models.Transfer).
        .exclude(kind=Transfer.Kind.USAGE)
        .values("created_at", "kind", "actor_id")
        .annotate(count=Count("pk"), total=Sum("amount"), first=Min("pk"))
        .order_by("-created_at", "-first")[:limit]
    )
    # Each posting's first transfer: its actor, and the member of a one-transfer posting.
    firsts = {
        transfer.pk: transfer
        for transfer in Transfer.objects.for_org(organization)
        .filter(pk__in=[group["first"] for group in grouped])
        .select_related("actor", "source__member", "destination__member")
    }
    currency = organization.currency
    items = []
    for group in grouped:
        first = firsts.get(group["first"])
        transfer = first if group["count"] == 1 else None
        items.append(
            Activity(
                kind=group["kind"],
                at=group["created_at"],
                amount=Money(group["total"], currency),
                actor=first.actor if first else None,
                count=group["count"],
                member=_member_of(transfer) if transfer else None,
                memo=transfer.memo if transfer else "",
            )
        )
    return items


def _member_of(transfer: Transfer) -> Member | None:
    """The member whose wallet a transfer moves credit in or out of."""
    for account in (transfer.destination, transfer.source):
        if account.kind == Account.Kind.MEMBER:
            return account.member
    return None


def _large_calls(
    organization: Organization, since: datetime.datetime, threshold: Decimal
) -> list[Activity]:
    """Calls costing at least `threshold` among the organization's LARGE_CALL_SCAN latest
    records (of the last ACTIVITY_DAYS days): one query along (organization, started_at, id)."""
    latest = (
        UsageRecord.objects.for_org(organization)
        .filter(started_at__gte=since)
        .order_by("-started_at", "-id")
        .values("pk")[:LARGE_CALL_SCAN]
    )
    records = (
        UsageRecord.objects.for_org(organization)
        .filter(pk__in=Subquery(latest), kind=UsageRecord.Kind.CALL, cost__gte=threshold)
        .select_related("member")
        .order_by("-started_at", "-id")[:ACTIVITY_SHOWN]
    )
    currency = organization.currency
    return [
        Activity(
            kind=CALL,
            at=record.started_at,
            amount=Money(record.cost + record.adjustment, currency),
            member=record.member,
            country=record.country,
            seconds=record.seconds,
        )
        for record in records
    ]


@dataclass(frozen=True)
class Feed:
    items: list[Activity]
    # The cost from which a call is in the feed.
    large_call: Money


def overview_activity(
    *,
    organization: Organization,
    now: datetime.datetime | None = None,
    limit: int = ACTIVITY_SHOWN,
) -> Feed:
    """The latest `limit` things that happened to the money in the last ACTIVITY_DAYS days:
    purchases and their refunds, allocations and take-backs, features charged and refunded
    (each posting one line), and large calls (see `large_call_threshold`), newest first. Three
    LIMIT queries, up to eight when postings to hundreds of members fill the windows."""
    since = (now or timezone.now()) - datetime.timedelta(days=ACTIVITY_DAYS)
    threshold = large_call_threshold(organization=organization, since=since)
    items = _postings(organization, since, limit) + _large_calls(organization, since, threshold)
    items.sort(key=lambda item: item.at, reverse=True)
    return Feed(items=items[:limit], large_call=Money(threshold, organization.currency))


__all__ = [
    "Activity",
    "Feed",
    "large_call_threshold",
    "overview_activity",
]
