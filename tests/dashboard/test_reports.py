"""The monthly and annual reports (dashboard.selectors.reports.report_build), against the raw
rows they stand for.

Data is made by the product's own services (purchases, allocations, take-backs, usage, features
and their refunds), at chosen moments with time-machine; the report reads rollups, and these
tests compare it with the transfers and usage records themselves (tests.dashboard.report_support).
"""

import contextlib
import datetime
import itertools
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit.selectors.ledger import organization_balances
from credit.services.allocation import credit_allocate, credit_take_back
from dashboard.periods import MONTH, Period
from dashboard.reports import ReportFilters
from dashboard.selectors.reports import PAGE_SIZE, report_build
from members.models import ListMembership, MemberList
from organizations.roles import Role
from organizations.scoping import tenant_scope
from skypemgr.errors import ApplicationError
from subscriptions.models import Plan, Subscription
from subscriptions.services.assign import subscriptions_assign
from subscriptions.services.manage import subscription_cancel
from tests.credit.rules_support import balance_of, bought
from tests.dashboard.report_support import (
    ALWAYS_SHOWN,
    ALWAYS_SHOWN_FOR_MEMBERS,
    SUMMARY_LINES,
    ZERO,
    Truth,
    column_keys,
    lines_of,
    member_rows,
    rows_by_first,
)
from tests.factories import MemberFactory, OrganizationFactory
from tests.usage.support import call, sms
from usage.services.ingest import usage_record_reprice, usage_records_ingest

PARIS = ZoneInfo("Europe/Paris")
UTC = datetime.UTC

_keys = itertools.count(1)


def paris(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=PARIS)


def _key(prefix: str) -> str:
    return f"{prefix}-{next(_keys)}"


def _month(year: int, month: int) -> Period:
    return Period.month_of(datetime.date(year, month, 1))


def _year(year: int) -> Period:
    return Period.year_of(datetime.date(year, 1, 1))


def _company_of(members, **more):
    """A Paris organization, its owner, and members with these departments."""
    organization = OrganizationFactory(time_zone="Europe/Paris", **more)
    owner = MemberFactory(organization=organization, role=Role.OWNER, display_name="Owen Owner")
    people = [
        MemberFactory(organization=organization, display_name=name, department=department)
        for name, department in members
    ]
    return organization, owner, people


def _allocate(organization, owner, members, amount):
    return credit_allocate(
        organization=organization,
        actor=owner,
        members=members,
        amount=amount,
        idempotency_key=_key("allocate"),
    )


def _feature(organization, owner, members, plan="voicemail"):
    with tenant_scope(organization):
        return subscriptions_assign(
            organization=organization,
            actor=owner,
            members=members,
            plan=Plan.objects.get(code=plan),
            period_months=1,
            form_key=_key("feature"),
        )


def _ingest(organization, *records):
    outcomes = usage_records_ingest(organization=organization, records=list(records))
    assert [outcome.status for outcome in outcomes] == ["created"] * len(records), outcomes
    return [outcome.record for outcome in outcomes]


# --- 1. Whatever happened, the report adds up to the transfers and the usage records ------------

WINDOW = (_month(2025, 12), _month(2026, 1), _month(2026, 2))
WINDOW_START, WINDOW_END = paris(2025, 12, 1), paris(2026, 3, 1)
# When the reports are read: after every posting (postings come at most ten days late).
READ_AT = paris(2026, 3, 15, 12)
HOUR = 3600
DESTINATIONS = ("+33123456789", "+33612345678", "+442071234567", "+33800123456")


def _shifted(base: datetime.datetime, seconds: int) -> datetime.datetime:
    return base.astimezone(UTC) + datetime.timedelta(seconds=seconds)


# Anywhere in the window, and often within hours of a month's end in Paris (which is not UTC's).
moments = st.one_of(
    st.integers(0, int((WINDOW_END - WINDOW_START).total_seconds()) - 1).map(
        lambda seconds: _shifted(WINDOW_START, seconds)
    ),
    st.builds(
        _shifted,
        st.sampled_from([paris(2026, 1, 1), paris(2026, 2, 1)]),
        st.integers(-3 * HOUR, 3 * HOUR),
    ),
)
# How long after it started a call or message reaches us: at once, or days later (the next
# month, sometimes).
delays = st.one_of(st.integers(0, 2 * HOUR), st.integers(0, 10 * 24 * HOUR))
# Allocations and take-backs: a share (in percent) of what the balance they draw on holds.
shares = st.integers(1, 100)
who = st.integers(0, 3)

# Credit bought in the window's first days, then anything; run in the order of their moments.
first_purchase = st.tuples(
    st.just("buy"),
    st.integers(0, 5 * 24 * HOUR).map(lambda seconds: _shifted(WINDOW_START, seconds)),
    st.decimals(min_value=50, max_value=300, places=2),
)
any_operations = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), moments, st.decimals(min_value=5, max_value=300, places=2)),
        st.tuples(st.just("allocate"), moments, who, shares),
        st.tuples(st.just("take_back"), moments, who, st.none() | shares),
        st.tuples(
            st.just("call"),
            moments,
            delays,
            who,
            st.sampled_from(DESTINATIONS),
            st.integers(0, 3 * HOUR),
            st.none() | st.decimals(min_value=0, max_value=5, places=4),
        ),
        st.tuples(st.just("sms"), moments, delays, who, st.integers(1, 3)),
        st.tuples(st.just("feature"), moments, who),
        st.tuples(st.just("cancel"), moments, st.integers(0, 10)),
        st.tuples(
            st.just("reprice"),
            moments,
            st.integers(0, 30),
            st.decimals(min_value=0, max_value=5, places=4),
        ),
    ),
    min_size=3,
    max_size=25,
)
operations = st.builds(lambda first, rest: [first, *rest], first_purchase, any_operations)


def _share(balance: Decimal, percent: int) -> Decimal:
    """`percent` of `balance`, in cents, rounded down."""
    return (balance * percent / 100).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def _posted_at(operation) -> datetime.datetime:
    if operation[0] in ("call", "sms"):
        return operation[1] + datetime.timedelta(seconds=operation[2])
    return operation[1]


class _Company:
    """One organization of the property test, moved by the services."""

    def __init__(self):
        self.organization, self.owner, members = _company_of(
            [("Ann Able", "Sales"), ("Ben Baker", "Sales"), ("Cleo Cole", "")]
        )
        self.people = [self.owner, *members]
        self.records: list[str] = []
        self.subscriptions: list[Subscription] = []

    def members_of(self, department: str) -> set[int]:
        return {person.pk for person in self.people if person.department == department}

    def run(self, operation) -> None:
        kind, *arguments = operation
        # Refused (short balances, nothing to take back): nothing moved.
        with contextlib.suppress(ApplicationError):
            getattr(self, kind)(*arguments)

    def buy(self, _at, amount):
        bought(self.organization, self.owner, amount)

    def allocate(self, _at, member, share):
        amount = _share(balance_of(self.organization).amount, share)
        if amount:
            _allocate(self.organization, self.owner, [self.people[member]], amount)

    def take_back(self, _at, member, share):
        # From one of the members who hold something, when anyone does.
        holding = {}
        for person in self.people:
            balance = balance_of(self.organization, person).amount
            if balance:
                holding[person] = balance
        if not holding:
            return
        person = list(holding)[member % len(holding)]
        amount = None if share is None else _share(holding[person], share)
        if amount != 0:
            credit_take_back(
                organization=self.organization,
                actor=self.owner,
                members=[person],
                amount=amount,
                idempotency_key=_key("take-back"),
            )

    def call(self, started_at, _delay, member, destination, seconds, cost):
        [record] = _ingest(
            self.organization,
            call(self.people[member], destination, seconds, started_at=started_at, cost=cost),
        )
        self.records.append(record.external_id)

    def sms(self, started_at, _delay, member, units):
        [record] = _ingest(
            self.organization, sms(self.people[member], units=units, started_at=started_at)
        )
        self.records.append(record.external_id)

    def feature(self, _at, member):
        self.subscriptions += _feature(
            self.organization, self.owner, [self.people[member]]
        ).subscriptions

    def cancel(self, _at, index):
        if self.subscriptions:
            subscription = self.subscriptions[index % len(self.subscriptions)]
            with tenant_scope(self.organization):
                subscription_cancel(
                    organization=self.organization,
                    actor=self.owner,
                    subscription=subscription.pk,
                    now=True,
                )

    def reprice(self, _at, index, cost):
        if self.records:
            usage_record_reprice(
                organization=self.organization,
                source="api",
                external_id=self.records[index % len(self.records)],
                provider_cost=cost,
            )


def _check_summary(report, truth: Truth, *, members=None):
    """The summary against the transfers: opening and closing balances at the period's bounds in
    the organization's time zone, and each line the transfers of its kinds in between."""
    start, end = report.period.bounds(truth.organization)
    lines = lines_of(report)
    narrowed = members is not None

    def row(values) -> list:
        shown = [values["member"]] if narrowed else [values["organization"], values["member"]]
        return [*shown, values["organization"] + values["member"]]

    assert lines["Opening balance"] == row(truth.wallets_at(start, members=members))
    assert lines["Closing balance"] == row(truth.wallets_at(end, members=members))
    for label, kinds in SUMMARY_LINES.items():
        moved = truth.moved(start, end, kinds, members=members)
        always = ALWAYS_SHOWN_FOR_MEMBERS if narrowed else ALWAYS_SHOWN
        if label in lines or label in always or any(moved.values()):
            assert lines[label] == row(moved), label
    # Nothing moves that no line shows: opening and lines add up to the closing balance.
    shown = [values for label, values in lines.items() if label != "Closing balance"]
    assert [sum(column, ZERO) for column in zip(*shown, strict=True)] == lines["Closing balance"]


def _check_spending(report, truth: Truth, **narrowed):
    """The members', categories' and days' tables against the usage records and features."""
    period = report.period
    by_member = report.tables["by_member"]
    expected = truth.by(period, lambda spent: spent.member_id, **narrowed)
    assert {pk: row[2:] for pk, row in member_rows(by_member).items()} == {
        pk: split.figures for pk, split in expected.items()
    }
    total = truth.total(period, **narrowed)
    assert by_member.totals[2:] == total.figures
    assert by_member.count == len(expected)

    by_category = report.tables["by_category"]
    categories = {
        category: split
        for category, split in truth.by(period, lambda spent: spent.category, **narrowed).items()
        if split.total or split.records
    }
    assert dict(zip(by_category.keys, (row[1:5] for row in by_category.rows), strict=True)) == {
        category: [split.records, split.seconds, split.messages, split.total]
        for category, split in categories.items()
    }
    assert by_category.totals[4] == total.total

    # Every member is on exactly one department's line.
    assert sum((row[7] for row in report.tables["by_department"].rows), ZERO) == total.total

    if period.kind == MONTH:
        per_day = report.tables["per_day"]
        days = truth.by(period, lambda spent: spent.day, **narrowed)
        assert [row[0] for row in per_day.rows] == period.days
        for day, *figures in per_day.rows:
            split = days.get(day)
            assert figures == (split.figures if split else [0, 0, 0, ZERO, ZERO, ZERO]), day
        assert per_day.totals[1:] == total.figures


def _check_by_month(report, truth: Truth):
    by_month = report.tables["by_month"]
    organization = truth.organization
    assert [row[0] for row in by_month.rows] == report.period.months
    for month, purchases, usage, charges, spend, last_year, _change, closing in by_month.rows:
        period = Period.month_of(month)
        start, end = period.bounds(organization)

        def net(kind, start=start, end=end):
            moved = truth.moved(start, end, (kind,))
            return moved["organization"] + moved["member"]

        balances = truth.wallets_at(end)
        assert [purchases, usage, charges, closing] == [
            net("purchase"),
            -net("usage"),
            -net("subscription_charge"),
            balances["organization"] + balances["member"],
        ], month
        assert spend == truth.total(period).total
        assert last_year == truth.total(period.a_year_before).total


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=operations)
def test_any_history_adds_up_to_the_transfers_and_the_usage_records(db, operations):
    company = _Company()
    organization = company.organization
    for operation in sorted(operations, key=_posted_at):
        with time_machine.travel(_posted_at(operation), tick=False):
            company.run(operation)

    with time_machine.travel(READ_AT, tick=False):
        truth = Truth(organization)
        previous_closing = None
        for period in WINDOW:
            report = report_build(organization=organization, period=period)
            _check_summary(report, truth)
            _check_spending(report, truth)
            lines = lines_of(report)
            if previous_closing is not None:
                assert lines["Opening balance"] == previous_closing
            previous_closing = lines["Closing balance"]
            # One department's members only, then one category only.
            sales = company.members_of("Sales")
            report = report_build(
                organization=organization, period=period, filters=ReportFilters(department="Sales")
            )
            _check_summary(report, truth, members=sales)
            _check_spending(report, truth, members=sales)
            report = report_build(
                organization=organization, period=period, filters=ReportFilters(category="calls")
            )
            _check_spending(report, truth, category="calls")
        for period in (_year(2025), _year(2026)):
            report = report_build(organization=organization, period=period)
            _check_summary(report, truth)
            _check_spending(report, truth)
            _check_by_month(report, truth)
        # This month's closing balance is what the wallets hold now.
        report = report_build(organization=organization, period=Period.current(MONTH, organization))
        assert report.period == _month(2026, 3)
        balances = organization_balances(organization)
        closing = lines_of(report)["Closing balance"]
        assert closing == [
            balances["company"].amount,
            balances["members"].amount,
            balances["company"].amount + balances["members"].amount,
        ]


# --- 2. Months are the organization's -----------------------------------------------------------


def test_a_call_counts_in_the_month_it_started_in_paris(db):
    organization, owner, [ann] = _company_of([("Ann Able", "Sales")])
    # 23:30 on January 31 in Paris, 22:30 in UTC; and 00:30 on February 1, 23:30 in UTC.
    late_january = datetime.datetime(2026, 1, 31, 22, 30, tzinfo=UTC)
    early_february = datetime.datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    with time_machine.travel(paris(2026, 1, 10), tick=False):
        bought(organization, owner, 100)
    with time_machine.travel(late_january, tick=False):
        bought(organization, owner, 20)
    # Both reach us the next morning: the ledger pays them in February.
    with time_machine.travel(paris(2026, 2, 1, 9), tick=False):
        _ingest(
            organization,
            call(ann, "+33123456789", 600, started_at=late_january, cost=Decimal("1.50")),
            call(ann, "+442071234567", 120, started_at=early_february, cost=Decimal("0.40")),
        )

    january = report_build(organization=organization, period=_month(2026, 1))
    february = report_build(organization=organization, period=_month(2026, 2))

    assert categories_of(january) == {"call:FR": [1, 600, 0, Decimal("1.50")]}
    assert categories_of(february) == {"call:GB": [1, 120, 0, Decimal("0.40")]}
    nothing = [0, 0, 0, ZERO, ZERO, ZERO]
    january_days = rows_by_first(january.tables["per_day"])
    assert january_days[datetime.date(2026, 1, 31)] == [
        1,
        600,
        0,
        Decimal("1.50"),
        0,
        Decimal("1.50"),
    ]
    assert all(figures == nothing for day, figures in january_days.items() if day.day != 31)
    february_days = rows_by_first(february.tables["per_day"])
    assert february_days[datetime.date(2026, 2, 1)] == [
        1,
        120,
        0,
        Decimal("0.40"),
        0,
        Decimal("0.40"),
    ]
    assert all(figures == nothing for day, figures in february_days.items() if day.day != 1)
    assert member_rows(january.tables["by_member"])[ann.pk][2:] == [
        1,
        600,
        0,
        Decimal("1.50"),
        0,
        Decimal("1.50"),
    ]
    assert member_rows(february.tables["by_member"])[ann.pk][2:] == [
        1,
        120,
        0,
        Decimal("0.40"),
        0,
        Decimal("0.40"),
    ]

    [chart] = [chart for chart in january.charts if chart.key == "per_day"]
    assert chart.labels == [str(day) for day in range(1, 32)]
    assert chart.series[0]["data"] == [0.0] * 30 + [1.5]
    assert chart.series[1]["data"] == [0.0] * 31

    # The purchase at 23:30 on January 31 is January's.
    assert [row[0] for row in january.tables["purchases"].rows] == [
        datetime.date(2026, 1, 31),
        datetime.date(2026, 1, 10),
    ]
    assert february.tables["purchases"].rows == []
    # The ledger paid both calls when they reached it, in February.
    assert lines_of(january)["Purchases"] == [Decimal(120), ZERO, Decimal(120)]
    assert lines_of(january)["Usage"] == [ZERO, ZERO, ZERO]
    assert lines_of(february)["Usage"] == [Decimal("-1.90"), ZERO, Decimal("-1.90")]
    assert lines_of(february)["Closing balance"] == [Decimal("118.10"), ZERO, Decimal("118.10")]
    truth = Truth(organization)
    for report in (january, february):
        _check_summary(report, truth)
        _check_spending(report, truth)


# --- 3. Filters ---------------------------------------------------------------------------------


@pytest.fixture
def teams(db):
    """Ann and Ben in Sales, Cleo in Support, Dan in none; lists "Paris office" (Ann, Cleo)
    and "Remote" (Cleo, Dan); each spent in January 2026, Ann has voicemail too."""
    organization, owner, (ann, ben, cleo, dan) = _company_of(
        [("Ann Able", "Sales"), ("Ben Baker", "Sales"), ("Cleo Cole", "Support"), ("Dan Dale", "")]
    )
    office = MemberList.objects.create(organization=organization, name="Paris office")
    remote = MemberList.objects.create(organization=organization, name="Remote")
    for member_list, member in ((office, ann), (office, cleo), (remote, cleo), (remote, dan)):
        ListMembership.objects.create(
            organization=organization, member_list=member_list, member=member
        )
    with time_machine.travel(paris(2026, 1, 5, 10), tick=False):
        bought(organization, owner, 300)
        _allocate(organization, owner, [ann, ben, cleo, dan], 20)
        voicemail = _feature(organization, owner, [ann]).total.amount
    with time_machine.travel(paris(2026, 1, 20, 10), tick=False):
        _ingest(
            organization,
            call(ann, "+33123456789", 300, cost=Decimal("1.00")),
            call(ann, "+442071234567", 60, cost=Decimal("0.50")),
            sms(ann, units=2, cost=Decimal("0.20")),
            call(ben, "+33123456789", 120, cost=Decimal("2.00")),
            call(cleo, "+442071234567", 600, cost=Decimal("3.00")),
            sms(cleo, cost=Decimal("0.10")),
            call(dan, "+33123456789", 60, cost=Decimal("4.00")),
            sms(dan, cost=Decimal("0.30")),
        )
    return {
        "organization": organization,
        "people": {"ann": ann, "ben": ben, "cleo": cleo, "dan": dan},
        "lists": {"office": office, "remote": remote},
        "totals": {
            "ann": Decimal("1.70") + voicemail,
            "ben": Decimal("2.00"),
            "cleo": Decimal("3.10"),
            "dan": Decimal("4.30"),
        },
        "voicemail": voicemail,
    }


def _january(teams, **filters):
    return report_build(
        organization=teams["organization"],
        period=_month(2026, 1),
        filters=ReportFilters(**filters),
    )


def _totals_by_name(report) -> dict[str, Decimal]:
    return {row[0]: row[7] for row in report.tables["by_member"].rows}


def test_a_member_in_two_lists_counts_in_both(teams):
    totals = teams["totals"]
    report = _january(teams)
    by_list = report.tables["by_list"]
    lists = [
        ("Paris office", 2, totals["ann"] + totals["cleo"]),
        ("Remote", 2, totals["cleo"] + totals["dan"]),
    ]
    # The biggest spenders first, members in no list last.
    assert [(row[0], row[1], row[7]) for row in by_list.rows] == [
        *sorted(lists, key=lambda row: -row[2]),
        ("In no list", 1, totals["ben"]),
    ]


def test_members_of_no_department_come_last(teams):
    """Like members in no list: on a line of their own, after the departments, whatever they
    spent (Dan, with none, spent more than Support)."""
    totals = teams["totals"]
    report = _january(teams)
    assert [(row[0], row[1], row[7]) for row in report.tables["by_department"].rows] == [
        ("Sales", 2, totals["ann"] + totals["ben"]),
        ("Support", 1, totals["cleo"]),
        ("No department", 1, totals["dan"]),
    ]


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ({"member_list": "office"}, ["ann", "cleo"]),
        ({"member_list": "remote"}, ["cleo", "dan"]),
        ({"department": "Sales"}, ["ann", "ben"]),
        ({"department": "Support"}, ["cleo"]),
        ({"member": "cleo"}, ["cleo"]),
    ],
)
def test_member_filters_keep_only_those_members(teams, filters, names):
    people = teams["people"]
    chosen = {
        "member_list_id": teams["lists"][filters["member_list"]].pk
        if "member_list" in filters
        else None,
        "department": filters.get("department", ""),
        "member_id": people[filters["member"]].pk if "member" in filters else None,
    }
    report = _january(teams, **chosen)
    ids = {people[name].pk for name in names}

    assert set(member_rows(report.tables["by_member"])) == ids
    assert report.tables["by_member"].totals[7] == sum(teams["totals"][name] for name in names)
    # The summary is the chosen members' balances, without the company's.
    assert column_keys(report.tables["summary"]) == ["line", "members", "total"]
    truth = Truth(teams["organization"])
    _check_summary(report, truth, members=ids)
    _check_spending(report, truth, members=ids)
    held = sum((truth.wallets_at(paris(2026, 2, 1), members={pk})["member"] for pk in ids), ZERO)
    assert lines_of(report)["Closing balance"] == [held, held]
    # The detail lists too: allocations to them, their features.
    assert sorted(row[2] for row in report.tables["allocations"].rows) == sorted(
        str(people[name]) for name in names
    )
    assert [row[3] for row in report.tables["features"].rows] == (
        ["Ann Able"] if "ann" in names else []
    )
    if "member_list" in filters:
        chosen_list = teams["lists"][filters["member_list"]].name
        by_list = rows_by_first(report.tables["by_list"])
        assert by_list[chosen_list][0] == len(names)
        assert by_list[chosen_list][6] == report.tables["by_member"].totals[7]


def test_a_member_filter_narrows_what_the_company_balance_shows(teams):
    everyone = _january(teams)
    assert column_keys(everyone.tables["summary"]) == ["line", "company", "members", "total"]
    _check_summary(everyone, Truth(teams["organization"]))


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("calls", {"ann": "1.50", "ben": "2.00", "cleo": "3.00", "dan": "4.00"}),
        ("call:FR", {"ann": "1.00", "ben": "2.00", "dan": "4.00"}),
        ("call:GB", {"ann": "0.50", "cleo": "3.00"}),
        ("sms", {"ann": "0.20", "cleo": "0.10", "dan": "0.30"}),
        ("voicemail", {"ann": None}),
    ],
)
def test_a_category_filter_keeps_only_that_spending(teams, category, expected):
    people = teams["people"]
    report = _january(teams, category=category)
    wanted = {
        people[name].pk: Decimal(amount) if amount else teams["voicemail"]
        for name, amount in expected.items()
    }
    assert {pk: row[7] for pk, row in member_rows(report.tables["by_member"]).items()} == wanted
    codes = set(report.tables["by_category"].keys)
    if category == "calls":
        assert codes == {"call:FR", "call:GB"}
    else:
        assert codes == {category}
    truth = Truth(teams["organization"])
    _check_spending(report, truth, category=category)
    # Money in and out of the balances has no category: the summary stays whole.
    assert column_keys(report.tables["summary"]) == ["line", "company", "members", "total"]
    _check_summary(report, truth)


def test_filters_combine(teams):
    people = teams["people"]
    report = _january(teams, member_list_id=teams["lists"]["remote"].pk, category="sms")
    assert {pk: row[7] for pk, row in member_rows(report.tables["by_member"]).items()} == {
        people["cleo"].pk: Decimal("0.10"),
        people["dan"].pk: Decimal("0.30"),
    }
    _check_spending(
        report,
        Truth(teams["organization"]),
        members={people["cleo"].pk, people["dan"].pk},
        category="sms",
    )


def test_members_are_named_as_everywhere_else_whatever_they_gave(db):
    """A member known by a number, an address or a username only reads the same in the
    members' table, the allocations and the features as on their profile."""
    organization, owner, _people = _company_of([])
    by_phone = MemberFactory(
        organization=organization, display_name="", email="", phone="+33612345678", username=""
    )
    by_email = MemberFactory(
        organization=organization, display_name="", email="zoe@example.com", username="zoe"
    )
    by_username = MemberFactory(
        organization=organization, display_name="", email="", username="نور‎ 🎧"
    )
    people = [by_phone, by_email, by_username]
    with time_machine.travel(paris(2026, 1, 5, 10), tick=False):
        bought(organization, owner, 100)
        _allocate(organization, owner, people, 5)
        _feature(organization, owner, people)
    with time_machine.travel(paris(2026, 1, 20, 10), tick=False):
        _ingest(organization, *(call(person, "+33123456789", 60) for person in people))

    report = report_build(organization=organization, period=_month(2026, 1))

    names = sorted(str(person) for person in people)
    assert names == sorted(["+33612345678", "zoe@example.com", "نور‎ 🎧"])
    assert sorted(row[0] for row in report.tables["by_member"].rows) == names
    assert sorted(row[2] for row in report.tables["allocations"].rows) == names
    assert {row[3] for row in report.tables["allocations"].rows} == {"Owen Owner"}
    assert sorted(row[3] for row in report.tables["features"].rows) == names
    assert {row[4] for row in report.tables["features"].rows} == {"Owen Owner"}
    assert {row[1] for row in report.tables["features"].rows} == {
        str(Plan.objects.get(code="voicemail"))
    }


# --- 4. Sorting and paging the members' table ---------------------------------------------------


@pytest.fixture
def five(db):
    """Five members who spent in January 2026: (name, calls, total)."""
    spent = [
        ("anna Zed", 3, "1.20"),
        ("Bruno Young", 1, "5.00"),
        ("claire Xu", 2, "3.00"),
        ("David Wu", 0, "2.00"),
        ("Eve Vo", 1, "5.00"),
    ]
    organization, owner, people = _company_of([(name, "") for name, _calls, _total in spent])
    with time_machine.travel(paris(2026, 1, 20, 10), tick=False):
        bought(organization, owner, 100)
        records = []
        for person, (_name, calls, total) in zip(people, spent, strict=True):
            if calls:
                each = Decimal(total) / calls
                records += [call(person, cost=each) for _ in range(calls)]
            else:
                records.append(sms(person, cost=Decimal(total)))
        _ingest(organization, *records)
    return organization


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("name", ["anna Zed", "Bruno Young", "claire Xu", "David Wu", "Eve Vo"]),
        ("-name", ["Eve Vo", "David Wu", "claire Xu", "Bruno Young", "anna Zed"]),
        # Ties (Bruno and Eve) in the order the members joined.
        ("-total", ["Bruno Young", "Eve Vo", "claire Xu", "David Wu", "anna Zed"]),
        ("total", ["anna Zed", "David Wu", "claire Xu", "Bruno Young", "Eve Vo"]),
        ("calls", ["David Wu", "Bruno Young", "Eve Vo", "claire Xu", "anna Zed"]),
        ("-calls", ["anna Zed", "claire Xu", "Bruno Young", "Eve Vo", "David Wu"]),
        ("messages", ["anna Zed", "Bruno Young", "claire Xu", "Eve Vo", "David Wu"]),
    ],
)
def test_the_members_table_sorts(five, sort, order):
    table = report_build(organization=five, period=_month(2026, 1), sort=sort).tables["by_member"]
    assert table.sort == sort
    assert [row[0] for row in table.rows] == order


@pytest.mark.parametrize("sort", ["", "bogus", "-", "name; DROP TABLE x", "--total", "share"])
def test_an_unknown_sort_is_the_biggest_spenders_first(five, sort):
    report = report_build(organization=five, period=_month(2026, 1), sort=sort)
    table = report.tables["by_member"]
    assert table.sort == "-total"
    assert [row[0] for row in table.rows] == [
        "Bruno Young",
        "Eve Vo",
        "claire Xu",
        "David Wu",
        "anna Zed",
    ]
    # The "top members" chart goes with that order only.
    [top] = [chart for chart in report.charts if chart.key == "top_members"]
    assert top.labels == [row[0] for row in table.rows]
    other = report_build(organization=five, period=_month(2026, 1), sort="name")
    assert "top_members" not in [chart.key for chart in other.charts]


@pytest.fixture
def crowd(db):
    """More members than a page holds, each allocated credit and each spending in January."""
    size = PAGE_SIZE + 3
    organization, owner, people = _company_of([(f"Person {n:02d}", "") for n in range(size)])
    with time_machine.travel(paris(2026, 1, 20, 10), tick=False):
        bought(organization, owner, 300)
        _allocate(organization, owner, people, 1)
        _ingest(
            organization,
            *[call(person, cost=Decimal(n + 1) / 100) for n, person in enumerate(people)],
        )
    return organization, people


def test_the_members_table_pages(crowd):
    organization, people = crowd
    everyone = {person.pk for person in people}
    pages = [
        report_build(organization=organization, period=_month(2026, 1), sort="name", page=number)
        for number in (1, 2)
    ]
    first, second = (report.tables["by_member"] for report in pages)
    assert (len(first.rows), len(second.rows)) == (PAGE_SIZE, 3)
    assert first.count == second.count == len(people)
    assert (first.page.number, second.page.number) == (1, 2)
    assert first.page.has_next()
    assert not second.page.has_next()
    seen = [*member_rows(first), *member_rows(second)]
    assert seen == [person.pk for person in people]
    assert set(seen) == everyone
    # The totals are every member's, on each page.
    assert first.totals == second.totals
    assert first.totals[7] == sum(Decimal(n + 1) / 100 for n in range(len(people)))
    # The detail lists show their first page whatever the members' page (the files hold them
    # all), and say how many there are.
    for report in pages:
        allocations = report.tables["allocations"]
        assert len(allocations.rows) == PAGE_SIZE
        assert allocations.page.number == 1
        assert allocations.page.paginator.count == PAGE_SIZE + 3


def test_a_page_past_the_end_shows_the_last_page(crowd):
    """As Django's paginator does (and the report's other tables): a link kept from a longer
    list, or a page number typed in, shows the last page, not an empty table of "0 members"."""
    organization, people = crowd
    report = report_build(organization=organization, period=_month(2026, 1), sort="name", page=9)
    table = report.tables["by_member"]
    assert table.count == len(people)
    assert table.page.number == 2
    assert list(member_rows(table)) == [person.pk for person in people[PAGE_SIZE:]]
    assert report.tables["allocations"].page.number == 1


def test_exports_get_every_row(crowd):
    organization, people = crowd
    report = report_build(organization=organization, period=_month(2026, 1), page=None)
    table = report.tables["by_member"]
    assert table.page is None
    assert len(table.rows) == table.count == len(people)
    assert len(report.tables["allocations"].rows) == len(people)
    assert report.tables["allocations"].page is None


# --- 5. The year ------------------------------------------------------------------------------


def test_the_annual_report_compares_each_month_with_the_year_before(db):
    organization, owner, [ann] = _company_of([("Ann Able", "Sales")])
    spent = {
        paris(2025, 1, 10, 10): "10.00",
        paris(2025, 3, 10, 10): "8.00",
        paris(2025, 5, 10, 10): "3.00",
        paris(2026, 1, 10, 10): "15.00",
        paris(2026, 3, 10, 10): "6.00",
        paris(2026, 4, 10, 10): "4.00",
    }
    with time_machine.travel(paris(2025, 1, 2, 10), tick=False):
        bought(organization, owner, 300)
    for moment, cost in spent.items():
        with time_machine.travel(moment, tick=False):
            _ingest(organization, call(ann, cost=Decimal(cost)))
    with time_machine.travel(paris(2026, 6, 10, 10), tick=False):
        voicemail = _feature(organization, owner, [ann]).total.amount

    last_year = report_build(organization=organization, period=_year(2025))
    report = report_build(organization=organization, period=_year(2026))
    by_month = report.tables["by_month"]
    assert len(by_month.rows) == 12
    assert by_month.values("month") == [datetime.date(2026, month, 1) for month in range(1, 13)]
    spend = by_month.values("spend")
    assert spend == [
        Decimal("15.00"),
        ZERO,
        Decimal("6.00"),
        Decimal("4.00"),
        ZERO,
        voicemail,
        *[ZERO] * 6,
    ]
    assert by_month.values("spend_last_year") == last_year.tables["by_month"].values("spend")
    assert by_month.values("change") == [50, None, -25, None, -100, None, *[None] * 6]
    totals = dict(zip(column_keys(by_month), by_month.totals, strict=True))
    assert totals["spend"] == Decimal("25.00") + voicemail
    assert totals["spend_last_year"] == Decimal("21.00")
    assert totals["change"] == round((Decimal("4.00") + voicemail) * 100 / Decimal("21.00"))
    assert totals["closing"] == by_month.rows[-1][7]

    [trend] = [chart for chart in report.charts if chart.key == "trend"]
    assert trend.labels == [f"2026-{month:02d}" for month in range(1, 13)]
    assert [len(series["data"]) for series in trend.series] == [12, 12]
    assert trend.series[0]["data"] == [float(value) for value in spend]
    assert trend.series[1]["data"] == [
        float(value) for value in last_year.tables["by_month"].values("spend")
    ]
    assert [series["label"] for series in trend.series] == ["2026", "2025"]

    # The year's opening balance is the year before's closing one.
    assert lines_of(report)["Opening balance"] == lines_of(last_year)["Closing balance"]
    truth = Truth(organization)
    for year in (last_year, report):
        _check_summary(year, truth)
        _check_spending(year, truth)
        _check_by_month(year, truth)


# --- 6. Queries -------------------------------------------------------------------------------


def _busy(size: int):
    """An organization of `size` members in two lists and three departments, with purchases,
    allocations, features and usage in January 2026."""
    organization, owner, people = _company_of(
        [(f"Person {n:02d}", ("Sales", "Support", "")[n % 3]) for n in range(size)]
    )
    lists = [
        MemberList.objects.create(organization=organization, name=name)
        for name in ("Paris office", "Remote")
    ]
    for n, person in enumerate(people):
        ListMembership.objects.create(
            organization=organization, member_list=lists[n % 2], member=person
        )
    with time_machine.travel(paris(2026, 1, 3, 10), tick=False):
        bought(organization, owner, 400)
        bought(organization, owner, 100)
        _allocate(organization, owner, people, 2)
        _feature(organization, owner, people[:2])
    with time_machine.travel(paris(2026, 1, 20, 10), tick=False):
        records = []
        for n, person in enumerate(people):
            records += [
                call(person, ("+33123456789", "+442071234567")[n % 2], 60 + n),
                sms(person),
            ]
        _ingest(organization, *records)
    return organization, lists[0]


# report_build's queries: the ledger (2), the month's days or the year's months (1), the
# categories (1), the members (1: lists and departments add them up, with the lists'
# memberships, 1), and the three detail lists:
# purchases (a page's rows, their count, and the credited total), allocations and features (a
# page's rows and their count). Exports need no counts; a member filter reads the members' ids
# for the allocations and the features (1 each).
QUERIES = 13
EXPORT_QUERIES = 10
NARROWED_QUERIES = 15


def test_a_report_costs_the_same_few_queries_for_3_members_or_40(db, django_assert_max_num_queries):
    counts = []
    for size in (3, 40):
        organization, office = _busy(size)
        narrowed = ReportFilters(member_list_id=office.pk, category="calls")
        counted = []
        for period, filters, page, most in (
            (_month(2026, 1), None, 1, QUERIES),
            (_year(2026), None, 1, QUERIES),
            (_month(2026, 1), narrowed, 1, NARROWED_QUERIES),
            (_month(2026, 1), None, None, EXPORT_QUERIES),
        ):
            with django_assert_max_num_queries(most) as captured:
                report = report_build(
                    organization=organization, period=period, filters=filters, page=page
                )
            counted.append(len(captured))
            assert report.tables["by_member"].count == (
                size if filters is None else (size + 1) // 2
            )
        counts.append(counted)
    assert counts[0] == counts[1] == [QUERIES, QUERIES, NARROWED_QUERIES, EXPORT_QUERIES]


def categories_of(report) -> dict:
    """The categories' table by category code: records, seconds, messages, total."""
    table = report.tables["by_category"]
    return dict(zip(table.keys, (row[1:5] for row in table.rows), strict=True))
