"""The monthly and annual reports, read from the rollups and the ledger's monthly rollups.

Totals never scan usage records or transfers: spending comes from MonthlyRollup (and
DailyRollup for the days of a month), money in and out of the wallets from LedgerRollup, and
opening and closing balances from the accounts' cached balances less what moved since. Only the
paged detail lists (purchases, allocations, features assigned) read rows, one page at a time,
through indexes. Each table is one query, so a page costs the same for ten members or ten
thousand.

Member filters (a list, a department, one member) narrow spending and the balances to those
members' wallets; the company's own balance is then left out. Lists are today's: a member in
two lists counts in both.
"""

import datetime
from collections import defaultdict
from decimal import Decimal

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_countries import countries

from credit.models import Purchase, Transfer
from dashboard.periods import MONTH as MONTH_PERIOD
from dashboard.periods import YEAR, Period, today_of
from dashboard.reports import (
    DATE,
    DURATION,
    MONEY,
    MONTH,
    NUMBER,
    TEXT,
    Chart,
    Column,
    Report,
    ReportFilters,
    ReportTable,
    money_total,
)
from organizations.models import Member
from subscriptions.models import Plan, Subscription

PAGE_SIZE = 50
# The members shown in the "top members" chart.
TOP_MEMBERS = 10

# The summary's lines: (transfer kinds, label), in the order a statement reads.
_SUMMARY_KINDS = (
    (("purchase",), lambda: _("Purchases")),
    (("allocation",), lambda: _("Allocations")),
    (("take_back",), lambda: _("Take-backs")),
    (("usage",), lambda: _("Usage")),
    (("subscription_charge",), lambda: _("Subscription charges")),
    (("subscription_refund", "refund"), lambda: _("Refunds")),
    (("settlement",), lambda: _("Settlements of what was owed")),
    (("adjustment",), lambda: _("Adjustments")),
)
WALLETS = ("organization", "member")


def report_build(
    *,
    organization,
    period: Period,
    filters: ReportFilters | None = None,
    sort: str = "",
    page: int | None = None,
    only: tuple[str, ...] | None = None,
) -> Report:
    """The report of `period` (a month or a year) narrowed by `filters`. `sort` orders the
    members' table; `page` (1-based) makes the long tables one page each, as on screen;
    exports pass no page and get every row. `only` names the tables wanted (all by default;
    the charts come with theirs)."""
    filters = filters or ReportFilters()
    report = Report(
        organization=organization,
        period=period,
        filters=filters,
        title=_("Annual report") if period.kind == YEAR else _("Monthly report"),
        generated_at=timezone.now(),
        currency=organization.currency,
    )
    scope = _Scope(organization, filters)
    first = None if page is None else 1
    builders = {
        "summary": lambda: _summary_table(scope, period, flows()),
        "by_month": lambda: _by_month_table(scope, period, flows()),
        "per_day": lambda: _per_day_table(scope, period),
        "by_category": lambda: _by_category_table(scope, period),
        "by_member": lambda: _by_member_table(scope, figures(), sort=sort, page=page),
        "by_list": lambda: _by_group_table(scope, figures(), group="list"),
        "by_department": lambda: _by_group_table(scope, figures(), group="department"),
        # The detail lists show their first page on screen (the files have every row).
        "purchases": lambda: _purchases_table(scope, period, page=first),
        "allocations": lambda: _allocations_table(scope, period, page=first),
        "features": lambda: _features_table(scope, period, page=first),
    }
    found = {}

    def flows() -> dict:
        if "flows" not in found:
            found["flows"] = _ledger_flows(scope, period)
        return found["flows"]

    def figures() -> list[tuple]:
        if "figures" not in found:
            found["figures"] = _member_figures(scope, period)
        return found["figures"]

    # A year reads month by month, a month day by day.
    skipped = "per_day" if period.kind == YEAR else "by_month"
    for key, build in builders.items():
        if key != skipped and (only is None or key in only):
            report.add(build())
    report.charts = _charts(report)
    return report


class _Scope:
    """The organization and the filters, as SQL conditions on a table's `member_id` and
    `category` columns."""

    def __init__(self, organization, filters: ReportFilters):
        self.organization = organization
        self.filters = filters

    def members_sql(self, column: str = "member_id") -> tuple[str, list]:
        conditions, params = [], []
        if self.filters.member_id:
            conditions.append(f"{column} = %s")
            params.append(self.filters.member_id)
        if self.filters.member_list_id:
            conditions.append(
                f"{column} IN (SELECT member_id FROM members_listmembership "
                "WHERE organization_id = %s AND member_list_id = %s)"
            )
            params += [self.organization.pk, self.filters.member_list_id]
        if self.filters.department:
            conditions.append(
                f"{column} IN (SELECT id FROM organizations_member "
                "WHERE organization_id = %s AND department = %s)"
            )
            params += [self.organization.pk, self.filters.department]
        return "".join(f" AND {condition}" for condition in conditions), params

    @property
    def days_table(self) -> str:
        """Where the days are: the organization's totals, or the members' rows when the report
        narrows to some members."""
        return "credit_dailyrollup" if self.filters.narrows_members else "credit_dailytotal"

    @property
    def months_source(self) -> tuple[str, str]:
        """(table, date column) of the spending by category and month: the organization's day
        totals (a few hundred rows a month), or the members' monthly rows when narrowed."""
        if self.filters.narrows_members:
            return "credit_monthlyrollup", "month"
        return "credit_dailytotal", "day"

    def category_sql(self, column: str = "category") -> tuple[str, list]:
        category = self.filters.category
        if not category:
            return "", []
        if category == "calls":
            return f" AND {column} LIKE %s", ["call:%"]
        return f" AND {column} = %s", [category]

    def rows(self, sql: str, params: list) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()


# --- The ledger: balances and what moved -------------------------------------------------------


def _ledger_flows(scope: _Scope, period: Period) -> dict:
    """What moved in and out of the wallets, by month and kind, from the period's start on;
    and the wallets' balances today. One query each."""
    members, params = scope.members_sql("account.member_id")
    narrowed = scope.filters.narrows_members
    kinds = ("member",) if narrowed else WALLETS
    moved = scope.rows(
        f"""
        SELECT rollup.month, rollup.account_kind, rollup.kind,
               SUM(rollup.amount_in - rollup.amount_out)
        FROM credit_ledgerrollup rollup
        {"JOIN credit_account account ON account.id = rollup.account_id" if members else ""}
        WHERE rollup.organization_id = %s AND rollup.month >= %s
          AND rollup.account_kind = ANY(%s){members}
        GROUP BY 1, 2, 3
        """,
        [scope.organization.pk, period.start, list(kinds), *params],
    )
    balances = dict(
        scope.rows(
            f"""
            SELECT account.kind, SUM(account.balance) FROM credit_account account
            WHERE account.organization_id = %s AND account.kind = ANY(%s){members}
            GROUP BY 1
            """,
            [scope.organization.pk, list(kinds), *params],
        )
    )
    return {"moved": moved, "balances": balances, "kinds": kinds}


def _balance_at(flows: dict, day: datetime.date, account_kind: str) -> Decimal:
    """A wallet kind's balance at the start of `day` (a first of the month): today's less what
    moved since."""
    since = sum(
        (
            net
            for month, kind, _kind, net in flows["moved"]
            if kind == account_kind and month >= day
        ),
        Decimal(0),
    )
    return flows["balances"].get(account_kind, Decimal(0)) - since


def _moved(flows: dict, months: list[datetime.date], account_kind: str, kinds) -> Decimal:
    months = set(months)
    return sum(
        (
            net
            for month, kind, transfer_kind, net in flows["moved"]
            if kind == account_kind and month in months and transfer_kind in kinds
        ),
        Decimal(0),
    )


def _summary_table(scope: _Scope, period: Period, flows: dict) -> ReportTable:
    narrowed = scope.filters.narrows_members
    columns = [Column("line", _("Line"), TEXT)]
    if not narrowed:
        columns.append(Column("company", _("Company balance"), MONEY))
    columns.append(Column("members", _("Members' balances"), MONEY))
    columns.append(Column("total", _("Total"), MONEY))

    def line(label: str, values: dict) -> list:
        row = [label]
        if not narrowed:
            row.append(values["organization"])
        row.append(values["member"])
        row.append(sum(values.values(), Decimal(0)))
        return row

    kinds = flows["kinds"]
    rows = [
        line(
            _("Opening balance"),
            {kind: _balance_at(flows, period.start, kind) for kind in WALLETS if kind in kinds}
            | ({} if not narrowed else {"organization": Decimal(0)}),
        )
    ]
    # The lines a statement always shows (members' wallets are never bought or charged).
    always = ("allocation", "usage")
    if not narrowed:
        always += ("purchase", "subscription_charge")
    for transfer_kinds, label in _SUMMARY_KINDS:
        values = {
            kind: _moved(flows, period.months, kind, transfer_kinds)
            if kind in kinds
            else Decimal(0)
            for kind in WALLETS
        }
        if transfer_kinds[0] in always or any(values.values()):
            rows.append(line(label(), values))
    closing = {
        kind: _balance_at(flows, period.end, kind) if kind in kinds else Decimal(0)
        for kind in WALLETS
    }
    note = _(
        "Money in and out of the company balance and the members' balances. Allocations and "
        "take-backs move credit between them."
    )
    if narrowed:
        note = _("The chosen members' balances only: the company balance is left out.")
    if scope.filters.category:
        note += " " + _("Money moves without a category: the category applies to spending only.")
    return ReportTable(
        key="summary",
        title=_("Summary"),
        columns=columns,
        rows=rows,
        totals=line(_("Closing balance"), closing),
        note=note,
    )


def _by_month_table(scope: _Scope, period: Period, flows: dict) -> ReportTable:
    """The year month by month: the wallets' movements, spending, and spending a year before."""
    members, params = scope.members_sql()
    categories, category_params = scope.category_sql()
    spent = defaultdict(Decimal)
    table, column = scope.months_source
    for month, amount in scope.rows(
        f"""
        SELECT date_trunc('month', {column})::date, SUM(amount) FROM {table}
        WHERE organization_id = %s AND {column} >= %s AND {column} < %s{members}{categories}
        GROUP BY 1
        """,
        [
            scope.organization.pk,
            period.a_year_before.start,
            period.end,
            *params,
            *category_params,
        ],
    ):
        spent[month] = amount
    rows = []
    for month in period.months:
        before = month.replace(year=month.year - 1)
        wallet = [
            sum((_moved(flows, [month], kind, kinds) for kind in flows["kinds"]), Decimal(0))
            for kinds in (("purchase",), ("usage",), ("subscription_charge",))
        ]
        closing = sum(
            (_balance_at(flows, _next_month(month), kind) for kind in flows["kinds"]), Decimal(0)
        )
        rows.append(
            [
                month,
                wallet[0],
                -wallet[1],
                -wallet[2],
                spent[month],
                spent[before],
                _change(spent[month], spent[before]),
                closing,
            ]
        )
    return ReportTable(
        key="by_month",
        title=_("Month by month"),
        columns=[
            Column("month", _("Month"), MONTH),
            Column("purchases", _("Purchases"), MONEY),
            Column("usage", _("Usage"), MONEY),
            Column("charges", _("Subscription charges"), MONEY),
            Column("spend", _("Spend"), MONEY),
            Column("spend_last_year", _("Spend a year before"), MONEY),
            Column("change", _("Change (%)"), NUMBER),
            Column("closing", _("Closing balance"), MONEY),
        ],
        rows=rows,
        totals=[
            _("Total"),
            money_total(row[1] for row in rows),
            money_total(row[2] for row in rows),
            money_total(row[3] for row in rows),
            money_total(row[4] for row in rows),
            money_total(row[5] for row in rows),
            _change(money_total(row[4] for row in rows), money_total(row[5] for row in rows)),
            rows[-1][7] if rows else Decimal(0),
        ],
        note=_(
            "Spend is usage and features, net of refunds, as the members' rows count it; "
            "purchases, usage and charges are what the balances received and paid."
        ),
    )


def _change(now: Decimal, before: Decimal) -> int | None:
    """The change in whole percent, None when there was nothing before."""
    if not before:
        return None
    return int(((now - before) * 100 / before).to_integral_value())


def _next_month(month: datetime.date) -> datetime.date:
    return Period(MONTH_PERIOD, month).end


# --- Spending, from the rollups -----------------------------------------------------------------


# How each category's figures read: calls (seconds), messages, features' charges.
def _split(alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    category, records = f"{prefix}category", f"{prefix}records"
    quantity, amount = f"{prefix}quantity", f"{prefix}amount"
    usage = f"{category} LIKE 'call:%%' OR {category} = 'sms'"
    return f"""
    SUM(CASE WHEN {category} LIKE 'call:%%' THEN {records} ELSE 0 END),
    SUM(CASE WHEN {category} LIKE 'call:%%' THEN {quantity} ELSE 0 END),
    SUM(CASE WHEN {category} = 'sms' THEN {quantity} ELSE 0 END),
    SUM(CASE WHEN {usage} THEN {amount} ELSE 0 END),
    SUM(CASE WHEN {usage} THEN 0 ELSE {amount} END),
    SUM({amount})
    """


_SPLIT_COLUMNS = (
    ("calls", lambda: _("Calls"), NUMBER),
    ("seconds", lambda: _("Call time"), DURATION),
    ("messages", lambda: _("Messages"), NUMBER),
    ("usage", lambda: _("Calls and messages"), MONEY),
    ("features", lambda: _("Features"), MONEY),
    ("total", lambda: _("Total"), MONEY),
)


def _split_columns(sortable: bool = False) -> list[Column]:
    return [
        Column(key, label(), kind, sort=key if sortable else "")
        for key, label, kind in _SPLIT_COLUMNS
    ]


def _split_totals(rows: list[list], first: int) -> list:
    return [sum((row[index] or 0 for row in rows), 0) for index in range(first, first + 6)]


def _per_day_table(scope: _Scope, period: Period) -> ReportTable:
    members, params = scope.members_sql()
    categories, category_params = scope.category_sql()
    found = {
        row[0]: list(row[1:])
        for row in scope.rows(
            f"""
            SELECT day, {_split()} FROM {scope.days_table}
            WHERE organization_id = %s AND day >= %s AND day < %s{members}{categories}
            GROUP BY 1
            """,
            [scope.organization.pk, period.start, period.end, *params, *category_params],
        )
    }
    # This month's days up to today: the rest has not happened.
    today = today_of(scope.organization)
    days = [day for day in period.days if day <= today] or period.days[:1]
    rows = [[day, *found.get(day, [0, 0, 0, Decimal(0), Decimal(0), Decimal(0)])] for day in days]
    return ReportTable(
        key="per_day",
        title=_("Spend per day"),
        columns=[Column("day", _("Day"), DATE), *_split_columns()],
        rows=rows,
        totals=[_("Total"), *_split_totals(rows, 1)],
    )


def _category_label(category: str) -> str:
    if category.startswith("call:"):
        code = category[5:]
        name = countries.name(code) if code != "ZZ" else ""
        return _("Calls to %(country)s") % {"country": name or _("other destinations")}
    return {
        "sms": _("Messages (SMS)"),
        "number": _("Online numbers"),
        "voicemail": _("Voicemail"),
        "subscription": _("Calling subscriptions"),
    }.get(category, category)


def _by_category_table(scope: _Scope, period: Period) -> ReportTable:
    members, params = scope.members_sql()
    categories, category_params = scope.category_sql()
    table, column = scope.months_source
    found = scope.rows(
        f"""
        SELECT category, SUM(records), SUM(quantity), SUM(amount) FROM {table}
        WHERE organization_id = %s AND {column} >= %s AND {column} < %s{members}{categories}
        GROUP BY 1 HAVING SUM(amount) <> 0 OR SUM(records) <> 0
        ORDER BY 4 DESC, 1
        """,
        [scope.organization.pk, period.start, period.end, *params, *category_params],
    )
    rows, keys = [], []
    for category, records, quantity, amount in found:
        is_call = category.startswith("call:")
        keys.append(category)
        rows.append(
            [
                _category_label(category),
                records,
                quantity if is_call else 0,
                quantity if category == "sms" else 0,
                amount,
            ]
        )
    total = money_total(row[4] for row in rows)
    for row in rows:
        row.append(int((row[4] * 100 / total).to_integral_value()) if total else 0)
    return ReportTable(
        key="by_category",
        title=_("Spend by category"),
        columns=[
            Column("category", _("Category"), TEXT),
            Column("records", _("Calls, messages or charges"), NUMBER),
            Column("seconds", _("Call time"), DURATION),
            Column("messages", _("Messages"), NUMBER),
            Column("total", _("Total"), MONEY),
            Column("share", _("Share (%)"), NUMBER),
        ],
        rows=rows,
        totals=[
            _("Total"),
            sum(row[1] for row in rows),
            sum(row[2] for row in rows),
            sum(row[3] for row in rows),
            total,
            100 if total else 0,
        ],
        keys=keys,
    )


# Sorting the members' table: ?sort=<key>, "-<key>" for descending. Each key reads a member's
# row (name, department, then the split's figures).
_MEMBER_SORTS = {
    "name": lambda row: row[1].casefold(),
    "department": lambda row: row[2].casefold(),
    **{
        key: (lambda index: lambda row: row[index])(3 + position)
        for position, (key, _label, _kind) in enumerate(_SPLIT_COLUMNS)
    },
}


def member_sort_of(sort: str) -> str:
    """A known sort key (with its "-"), or the default: the biggest spenders first."""
    key = sort.removeprefix("-")
    return sort if key in _MEMBER_SORTS else "-total"


def _member_figures(scope: _Scope, period: Period) -> list[tuple]:
    """Each member who spent in the period: (id, name, department, calls, seconds, messages,
    usage, features, total), in one query over the monthly rollups. The members', lists' and
    departments' tables all read these rows (a thousand members are a thousand short rows)."""
    members, params = scope.members_sql("rollup.member_id")
    categories, category_params = scope.category_sql("rollup.category")
    name = _name_sql("member")
    if categories:
        figures = f"{_split('rollup')} FROM credit_monthlyrollup rollup"
    else:
        # No category to pick: the members' month totals, one row each.
        figures = """
            SUM(rollup.calls), SUM(rollup.seconds), SUM(rollup.messages), SUM(rollup.usage),
            SUM(rollup.features), SUM(rollup.amount)
            FROM credit_membermonthtotal rollup"""
    # Summed per member first, then named: a year is a dozen rows per member.
    return scope.rows(
        f"""
        SELECT spent.member_id, {name}, member.department, spent.calls, spent.seconds,
               spent.messages, spent.usage, spent.features, spent.amount
        FROM (
            SELECT rollup.member_id, {figures}
            WHERE rollup.organization_id = %s AND rollup.month >= %s AND rollup.month < %s
                  {members}{categories}
            GROUP BY 1
        ) AS spent(member_id, calls, seconds, messages, usage, features, amount)
        JOIN organizations_member member ON member.id = spent.member_id
        """,
        [scope.organization.pk, period.start, period.end, *params, *category_params],
    )


def _by_member_table(
    scope: _Scope, figures: list[tuple], *, sort: str, page: int | None
) -> ReportTable:
    sort = member_sort_of(sort)
    key = _MEMBER_SORTS[sort.removeprefix("-")]
    # Ties (and equal names) in a steady order: by member id.
    ordered = sorted(figures, key=lambda row: row[0])
    ordered.sort(key=key, reverse=sort.startswith("-"))
    current = None
    if page is not None:
        current = Paginator(ordered, PAGE_SIZE).get_page(page)
        ordered = list(current.object_list)
    return ReportTable(
        key="by_member",
        title=_("Spend by member"),
        columns=[
            Column("name", _("Member"), TEXT, sort="name"),
            Column("department", _("Department"), TEXT, sort="department"),
            *_split_columns(sortable=True),
        ],
        rows=[list(row[1:]) for row in ordered],
        totals=[_("Total"), "", *_split_totals(figures, 3)],
        note=_("Members who spent nothing in the period are left out."),
        page=current,
        sort=sort,
        count=len(figures),
        links=[
            reverse(
                "members:member-detail",
                kwargs={"org_slug": scope.organization.slug, "member_id": row[0]},
            )
            for row in ordered
        ],
    )


def _by_group_table(scope: _Scope, figures: list[tuple], *, group: str) -> ReportTable:
    """Spending by list (today's lists: a member in two lists counts in both; members in no
    list on a line of their own) or by department (as the members' profiles say today)."""
    if group == "list":
        groups_of = defaultdict(list)
        for member_id, list_id, name in scope.rows(
            """
            SELECT membership.member_id, list.id, list.name
            FROM members_listmembership membership
            JOIN members_memberlist list ON list.id = membership.member_list_id
            WHERE membership.organization_id = %s
            """,
            [scope.organization.pk],
        ):
            groups_of[member_id].append((list_id, name))
        title, label, empty = _("Spend by list"), _("List"), _("In no list")
        note = _("Lists as they are today: a member in two lists counts in both.")
    else:
        groups_of = {row[0]: [(row[2], row[2])] for row in figures if row[2]}
        title, label, empty = _("Spend by department"), _("Department"), _("No department")
        note = _("Departments as the members' profiles say today.")
    sums: dict = {}
    for row in figures:
        for group_key in groups_of.get(row[0]) or [(None, empty)]:
            total = sums.setdefault(group_key, [0, 0, 0, 0, Decimal(0), Decimal(0), Decimal(0)])
            total[0] += 1
            for index, value in enumerate(row[3:9], start=1):
                total[index] += value or 0
    ordered = sorted(
        sums.items(),
        key=lambda item: (item[0][0] is None, -item[1][6], str(item[0][1]).casefold()),
    )
    return ReportTable(
        key="by_list" if group == "list" else "by_department",
        title=title,
        columns=[
            Column("name", label, TEXT),
            Column("members", pgettext("how many", "Members"), NUMBER),
            *_split_columns(),
        ],
        rows=[[name, *figures] for (_key, name), figures in ordered],
        note=note,
    )


# --- Paged detail lists ---------------------------------------------------------------------


def _member_name(member: Member | None) -> str:
    return str(member) if member is not None else ""


# The fields a member's name is read from, first found first, as str(Member) reads them. The
# long detail lists read these as values rather than building models: a page of allocations
# would otherwise be 300 model instances, a tenth of the page's time.
_NAME_FIELDS = ("display_name", "email", "phone", "username")


def _name_fields(path: str) -> list[str]:
    return [f"{path}__{field}" for field in _NAME_FIELDS]


def _name(*parts) -> str:
    for part in parts:
        text = "" if part is None else str(part)
        if text:
            return text
    return ""


def _name_sql(alias: str) -> str:
    """The same name in SQL, from the member table aliased `alias`."""
    fields = ", ".join(f"NULLIF({alias}.{field}, '')" for field in _NAME_FIELDS)
    return f"COALESCE({fields}, '')"


def _paged(queryset, page: int | None, *, fields: tuple[str, ...] = ()):
    """One page of `queryset` (on screen), or all of it (exports): its models, or the values
    of `fields` when given (counted without the joins those need)."""
    found = queryset.values_list(*fields) if fields else queryset
    if page is None:
        return list(found), None
    current = Paginator(queryset, PAGE_SIZE).get_page(page)
    if not fields:
        return list(current.object_list), current
    # The page holds the values read (a page is true when it has rows: templates ask it).
    current.object_list = (
        list(found[current.start_index() - 1 : current.end_index()])
        if current.paginator.count
        else []
    )
    return current.object_list, current


def _purchases_table(scope: _Scope, period: Period, *, page: int | None) -> ReportTable:
    start, end = period.bounds(scope.organization)
    zone = start.tzinfo
    purchases = (
        Purchase.objects.for_org(scope.organization)
        .filter(created_at__gte=start, created_at__lt=end)
        .select_related("created_by")
        .order_by("-created_at", "-id")
    )
    found, current = _paged(purchases, page)
    rows, links = [], []
    for purchase in found:
        rows.append(
            [
                purchase.created_at.astimezone(zone).date(),
                purchase.number,
                purchase.get_method_display(),
                purchase.get_status_display(),
                _member_name(purchase.created_by),
                purchase.amount.amount,
            ]
        )
        links.append(
            reverse(
                "credit:purchase-detail",
                kwargs={"org_slug": scope.organization.slug, "purchase_id": purchase.pk},
            )
        )
    paid = _moved_total(scope, period, "purchase")
    table = ReportTable(
        key="purchases",
        title=_("Purchases"),
        columns=[
            Column("date", _("Date"), DATE),
            Column("number", _("Number"), TEXT),
            Column("method", _("Payment method"), TEXT),
            Column("status", _("Status"), TEXT),
            Column("by", _("By"), TEXT),
            Column("amount", _("Amount"), MONEY),
        ],
        rows=rows,
        totals=[_("Credited"), "", "", "", "", paid],
        note=_("Every purchase started in the period; the total is what was credited."),
        page=current,
        links=links,
    )
    return table


def _moved_total(scope: _Scope, period: Period, kind: str) -> Decimal:
    """What transfers of `kind` brought into the company balance in the period."""
    found = scope.rows(
        """
        SELECT COALESCE(SUM(amount_in), 0) FROM credit_ledgerrollup
        WHERE organization_id = %s AND account_kind = 'organization' AND kind = %s
          AND month >= %s AND month < %s
        """,
        [scope.organization.pk, kind, period.start, period.end],
    )
    return found[0][0]


def _allocations_table(scope: _Scope, period: Period, *, page: int | None) -> ReportTable:
    start, end = period.bounds(scope.organization)
    zone = start.tzinfo
    transfers = (
        Transfer.objects.for_org(scope.organization)
        .filter(
            kind__in=[Transfer.Kind.ALLOCATION, Transfer.Kind.TAKE_BACK],
            created_at__gte=start,
            created_at__lt=end,
        )
        # Said again for the database: the index of the transfers that are not usage gives
        # them newest first without stepping over the month's calls.
        .exclude(kind=Transfer.Kind.USAGE)
        .order_by("-created_at", "-id")
    )
    if scope.filters.narrows_members:
        ids = _filtered_member_ids(scope)
        transfers = transfers.filter(
            Q(source__member_id__in=ids) | Q(destination__member_id__in=ids)
        )
    found, current = _paged(
        transfers,
        page,
        fields=(
            "created_at",
            "kind",
            "amount",
            *_name_fields("source__member"),
            *_name_fields("destination__member"),
            *_name_fields("actor"),
        ),
    )
    rows = []
    kinds = dict(Transfer.Kind.choices)
    for created_at, kind, amount, *names in found:
        source, destination, actor = names[:4], names[4:8], names[8:]
        taken = kind == Transfer.Kind.TAKE_BACK
        rows.append(
            [
                created_at.astimezone(zone).date(),
                str(kinds.get(kind, kind)),
                _name(*(source if taken else destination)),
                _name(*actor) or _("Automatic"),
                -amount if taken else amount,
            ]
        )
    return ReportTable(
        key="allocations",
        title=_("Credit allocated"),
        columns=[
            Column("date", _("Date"), DATE),
            Column("kind", _("Type"), TEXT),
            Column("member", _("Member"), TEXT),
            Column("by", _("By"), TEXT),
            Column("amount", _("Amount"), MONEY),
        ],
        rows=rows,
        note=_("Take-backs are negative."),
        page=current,
    )


def _filtered_member_ids(scope: _Scope) -> list[int]:
    members, params = scope.members_sql("id")
    return [
        row[0]
        for row in scope.rows(
            f"SELECT id FROM organizations_member WHERE organization_id = %s{members}",
            [scope.organization.pk, *params],
        )
    ]


def _features_table(scope: _Scope, period: Period, *, page: int | None) -> ReportTable:
    start, end = period.bounds(scope.organization)
    zone = start.tzinfo
    subscriptions = (
        Subscription.objects.for_org(scope.organization)
        .filter(created_at__gte=start, created_at__lt=end)
        .order_by("-created_at", "-id")
    )
    if scope.filters.narrows_members:
        subscriptions = subscriptions.filter(member_id__in=_filtered_member_ids(scope))
    found, current = _paged(
        subscriptions,
        page,
        fields=(
            "created_at",
            "plan__name",
            "plan__name_fr",
            "phone_number",
            "status",
            *_name_fields("member"),
            *_name_fields("created_by"),
        ),
    )
    statuses = dict(Subscription.Status.choices)
    rows = []
    for created_at, plan, plan_fr, number, status, *names in found:
        rows.append(
            [
                created_at.astimezone(zone).date(),
                Plan(name=plan, name_fr=plan_fr).display_name,
                number,
                _name(*names[:4]),
                _name(*names[4:]) or _("Automatic"),
                str(statuses.get(status, status)),
            ]
        )
    return ReportTable(
        key="features",
        title=_("Features assigned"),
        columns=[
            Column("date", _("Date"), DATE),
            Column("plan", _("Feature"), TEXT),
            Column("number", _("Number"), TEXT),
            Column("member", _("Member"), TEXT),
            Column("by", _("By"), TEXT),
            Column("status", _("Status"), TEXT),
        ],
        rows=rows,
        note=_("Subscriptions, online numbers and voicemail assigned in the period."),
        page=current,
    )


# --- Charts -------------------------------------------------------------------------------------


def _charts(report: Report) -> list[Chart]:
    charts = []
    if report.period.kind == YEAR and "by_month" in report.tables:
        by_month = report.tables["by_month"]
        charts.append(
            Chart(
                key="trend",
                title=_("Spend per month, this year and the year before"),
                kind="line",
                labels=[row[0].strftime("%Y-%m") for row in by_month.rows],
                series=[
                    {
                        "label": report.period.label,
                        "data": [float(row[4]) for row in by_month.rows],
                    },
                    {
                        "label": report.period.previous.label,
                        "data": [float(row[5]) for row in by_month.rows],
                    },
                ],
                table="by_month",
            )
        )
    elif "per_day" in report.tables:
        per_day = report.tables["per_day"]
        charts.append(
            Chart(
                key="per_day",
                title=_("Spend per day"),
                kind="bar",
                labels=[str(row[0].day) for row in per_day.rows],
                series=[
                    {
                        "label": _("Calls and messages"),
                        "data": [float(row[4]) for row in per_day.rows],
                    },
                    {"label": _("Features"), "data": [float(row[5]) for row in per_day.rows]},
                ],
                table="per_day",
            )
        )
    by_member = report.tables.get("by_member")
    top = []
    if (
        by_member
        and by_member.sort == "-total"
        and (by_member.page is None or by_member.page.number == 1)
    ):
        top = by_member.rows[:TOP_MEMBERS]
    if top:
        charts.append(
            Chart(
                key="top_members",
                title=_("Top members"),
                kind="bar",
                labels=[row[0] for row in top],
                series=[{"label": _("Total"), "data": [float(row[7]) for row in top]}],
                table="by_member",
            )
        )
    by_category = report.tables.get("by_category")
    if by_category and by_category.rows:
        charts.append(
            Chart(
                key="categories",
                title=_("Spend by category"),
                kind="doughnut",
                labels=[row[0] for row in by_category.rows],
                series=[{"label": _("Total"), "data": [float(row[4]) for row in by_category.rows]}],
                table="by_category",
            )
        )
    return charts
