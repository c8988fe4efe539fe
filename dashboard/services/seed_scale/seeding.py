"""The seed's steps, in order, in one transaction (see the package's docstring)."""

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from credit.models import Account
from credit.services.accounts import system_account
from dashboard.services.seed_scale import money, people, totals, usage
from dashboard.services.seed_scale.removal import scale_organization_remove, seed_people_remove
from dashboard.services.seed_scale.spec import ScaleSpec
from dashboard.services.seed_scale.timeline import timeline_of
from organizations.models import Member, Organization
from skypemgr.errors import ApplicationError

__all__ = ["ScaleSpec", "SeedSummary", "scale_organization_seed"]


@dataclass
class SeedSummary:
    organization: Organization
    owner: Member
    finance: Member
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)


class _Clock:
    def __init__(self, progress: Callable[[str], None] | None):
        self.progress = progress
        self.started = time.perf_counter()

    def step(self, text: str) -> None:
        if self.progress is not None:
            self.progress(f"[{time.perf_counter() - self.started:7.1f} s] {text}")

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def scale_organization_seed(
    *,
    spec: ScaleSpec,
    replace: bool = False,
    password: str = "",
    progress: Callable[[str], None] | None = None,
) -> SeedSummary:
    """Make the organization `spec` describes. An organization already at `spec.slug` is
    refused (ApplicationError), or with `replace` deleted first (its own transaction, see
    `scale_organization_remove`). `password`, if given, lets the owner and the first finance
    member sign in (the others cannot). `progress` receives a line per step."""
    spec.check()
    clock = _Clock(progress)
    existing = Organization.objects.filter(slug=spec.slug).first()
    if existing is not None:
        if not replace:
            raise ApplicationError(
                f"An organization already has the address {spec.slug!r}. Pass --replace to "
                "delete it (with all its data) and seed it again, or choose another --slug."
            )
        deleted = scale_organization_remove(organization=existing)
        clock.step(f"deleted the previous {spec.slug!r}: {sum(deleted.values()):,} rows")
    else:
        # People of an earlier seed whose organization was deleted another way hold the
        # usernames this seed gives.
        seed_people_remove(spec.slug)
    # Made-up data, not secrets: a seeded generator makes two seeds alike.
    rng = random.Random(f"{spec.random_seed}:{spec.slug}")  # noqa: S311
    with transaction.atomic():
        summary = _seed(spec, rng, password, clock)
        # Committing checks the foreign keys of every row written (deferred to the commit).
    clock.step("committed")
    summary.counts = seed_counts(summary.organization)
    summary.seconds = clock.elapsed
    return summary


def _seed(spec: ScaleSpec, rng: random.Random, password: str, clock: _Clock) -> SeedSummary:
    with connection.cursor() as cursor:
        # Room to group and sort a million rows in memory; a commit that returns before its
        # WAL reaches the disk (a crash loses the seed, never corrupts the database).
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL synchronous_commit = off")
        # random() in the SQL below follows the seed's own generator.
        cursor.execute("SELECT setseed(%s)", [rng.random()])
    timeline = timeline_of(time_zone=spec.time_zone, months=spec.months, now=timezone.now())
    crowd = people.people_create(spec=spec, timeline=timeline, rng=rng, password=password)
    organization = crowd.organization
    clock.step(
        f"organization {organization.slug!r} (id {organization.pk}), {spec.members:,} members "
        f"in {len(crowd.lists)} lists"
    )
    accounts = {
        kind: system_account(organization, kind)
        for kind in (
            Account.Kind.ORGANIZATION,
            Account.Kind.USAGE,
            Account.Kind.SUBSCRIPTIONS,
            Account.Kind.PAYMENTS,
        )
    }
    destinations = usage.destinations_pick(currency=spec.currency, country=spec.country, rng=rng)
    usage.scratch_tables_fill(
        destinations=destinations, timeline=timeline, wallets=crowd.wallets, rng=rng
    )
    usage.usage_records_insert(
        organization=organization,
        destinations=destinations,
        timeline=timeline,
        members=spec.members,
        calls=spec.calls,
        messages=spec.message_count,
    )
    _analyze("usage_usagerecord")
    clock.step(
        f"{spec.calls:,} calls and {spec.message_count:,} messages over {spec.months} months "
        f"({len(destinations)} destinations)"
    )
    debits = usage.usage_debits_insert(
        organization=organization, usage_account=accounts[Account.Kind.USAGE]
    )
    clock.step(f"{debits:,} usage debits")
    allocations = money.allocations_insert(
        organization=organization,
        people=crowd,
        timeline=timeline,
        company=accounts[Account.Kind.ORGANIZATION],
    )
    clock.step(f"{allocations:,} allocations")
    subscriptions, renewals = money.subscriptions_create(
        organization=organization,
        people=crowd,
        timeline=timeline,
        company=accounts[Account.Kind.ORGANIZATION],
        bucket=accounts[Account.Kind.SUBSCRIPTIONS],
        count=spec.subscription_count,
        rng=rng,
    )
    clock.step(f"{subscriptions:,} subscriptions, {renewals:,} periods charged")
    purchases = money.purchases_create(
        organization=organization,
        people=crowd,
        timeline=timeline,
        company=accounts[Account.Kind.ORGANIZATION],
        payments=accounts[Account.Kind.PAYMENTS],
    )
    clock.step(f"{purchases:,} purchases")
    organization.refresh_from_db()
    _analyze("credit_transfer", "credit_account", "subscriptions_renewal")
    totals.totals_compute(organization=organization)
    usage.scratch_tables_drop()
    _analyze(
        "credit_dailyrollup",
        "credit_monthlyrollup",
        "credit_dailytotal",
        "credit_membermonthtotal",
        "credit_ledgerrollup",
    )
    clock.step("rollups and balances")
    return SeedSummary(organization=organization, owner=crowd.owner, finance=crowd.finance)


def _analyze(*tables: str) -> None:
    """Refresh the planner's statistics of tables that just grew by a million rows (ANALYZE
    in the transaction counts its own rows): planned for the few rows they had, the next
    statements would rescan them once per row of a join, for minutes."""
    with connection.cursor() as cursor:
        for table in tables:
            # Names from this module, never from input.
            cursor.execute(f"ANALYZE {table}")


_COUNTS = {
    "members": "SELECT COUNT(*) FROM organizations_member WHERE organization_id = %s",
    "lists": "SELECT COUNT(*) FROM members_memberlist WHERE organization_id = %s",
    "list memberships": "SELECT COUNT(*) FROM members_listmembership WHERE organization_id = %s",
    "calls": "SELECT COUNT(*) FROM usage_usagerecord WHERE organization_id = %s AND kind = 'call'",
    "messages": (
        "SELECT COUNT(*) FROM usage_usagerecord WHERE organization_id = %s AND kind = 'sms'"
    ),
    "transfers": "SELECT COUNT(*) FROM credit_transfer WHERE organization_id = %s",
    "purchases": "SELECT COUNT(*) FROM credit_purchase WHERE organization_id = %s",
    "subscriptions": ("SELECT COUNT(*) FROM subscriptions_subscription WHERE organization_id = %s"),
    "renewals": "SELECT COUNT(*) FROM subscriptions_renewal WHERE organization_id = %s",
    "daily rollups": "SELECT COUNT(*) FROM credit_dailyrollup WHERE organization_id = %s",
    "monthly rollups": "SELECT COUNT(*) FROM credit_monthlyrollup WHERE organization_id = %s",
    "ledger rollups": "SELECT COUNT(*) FROM credit_ledgerrollup WHERE organization_id = %s",
}


def seed_counts(organization: Organization) -> dict[str, int]:
    """How many rows of each kind the organization has."""
    counts = {}
    with connection.cursor() as cursor:
        for name, sql in _COUNTS.items():
            cursor.execute(sql, [organization.pk])
            counts[name] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT kind, COUNT(*) FROM credit_transfer WHERE organization_id = %s "
            "GROUP BY kind ORDER BY kind",
            [organization.pk],
        )
        for kind, count in cursor.fetchall():
            counts[f"transfers: {kind}"] = count
    return counts
