"""What a report is, whatever shows it: a page, a CSV or XLSX file, a PDF, an email.

A report is a list of tables. Rows hold raw values (Decimal amounts, ints, dates, text); the
columns say how to show each value. The page and every export render the same tables, so a
download always equals what the screen shows.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from dashboard.periods import Period

# Column kinds: how a value is shown and exported.
TEXT = "text"
MONEY = "money"  # a Decimal in the organization's currency
NUMBER = "number"  # an int
DURATION = "duration"  # seconds, shown as h:mm:ss
DATE = "date"
MONTH = "month"  # a date, shown as "November 2026"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = TEXT
    # The key the page's table is sorted by with ?sort=<key> (empty: not sortable).
    sort: str = ""


@dataclass
class ReportTable:
    key: str
    title: str
    columns: list[Column]
    rows: list[list]
    # The last line ("Total"), with the same columns; None when the table has none.
    totals: list | None = None
    # Said under the table (what it covers, what it leaves out).
    note: str = ""
    # For a paged table: the rows on screen are one page (a Django Page); exports get them all.
    page: object | None = None
    # A link for each row (the member, the purchase), or None.
    links: list | None = None
    # What each row stands for, where a page links it to something (a category's code).
    keys: list | None = None
    # A sortable table's sort ("-total") and how many rows it has in all (every page).
    sort: str = ""
    count: int | None = None

    def values(self, column_key: str) -> list:
        index = [column.key for column in self.columns].index(column_key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class ReportFilters:
    """What a report is narrowed to. Empty values mean "everyone" or "every category"."""

    member_list_id: int | None = None
    department: str = ""
    member_id: int | None = None
    # "" (all), "calls" (every destination), "call:FR", "sms", "number", "voicemail",
    # "subscription".
    category: str = ""

    @property
    def any(self) -> bool:
        return bool(self.member_list_id or self.department or self.member_id or self.category)

    @property
    def narrows_members(self) -> bool:
        return bool(self.member_list_id or self.department or self.member_id)


@dataclass
class Chart:
    """A chart drawn by static/js/charts.js from JSON in the page, with `table` as its
    accessible fallback (and what a printed page shows)."""

    key: str
    title: str
    kind: str  # "bar", "line" or "doughnut"
    labels: list[str]
    series: list[dict]  # [{"label": ..., "data": [numbers]}]
    table: str  # the key of the ReportTable holding the same numbers

    @property
    def script_id(self) -> str:
        return f"chart-data-{self.key}"

    @property
    def data(self) -> dict:
        """What static/js/charts.js reads (from a json_script element)."""
        return {"kind": self.kind, "labels": self.labels, "series": self.series}


@dataclass
class Report:
    organization: object
    period: Period
    filters: ReportFilters
    title: str
    generated_at: datetime.datetime
    tables: dict[str, ReportTable] = field(default_factory=dict)
    charts: list[Chart] = field(default_factory=list)
    currency: str = ""

    def add(self, table: ReportTable) -> ReportTable:
        self.tables[table.key] = table
        return table


def money_total(values) -> Decimal:
    return sum((value for value in values if value is not None), Decimal(0))
