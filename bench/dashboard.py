"""The reports of a large organization against the raw GROUP BY over its usage records that
computes the same numbers, in the same run.

The organization is `manage.py seed_scale`'s (1,000 members in 20 lists, 12 months, 1,000,000
calls and 50,000 messages, purchases, allocations and renewals): seeded here, or reused when
the database already holds it at the size asked for and up to this month (run with
BENCH_KEEPDB=1 to keep the test database between runs: the first run seeds, in minutes, the
next ones start measuring at once).

For each page (overview, the previous complete month, this year), signed in as a finance
member: p50 and p95 over REQUESTS requests through Django's test client (after a warm-up, DEBUG
off, templates rendered and start-up's objects frozen as in production), the SQL queries of one
request (CaptureQueriesContext), and how many times faster it is than the raw aggregation of the
same numbers over usage_usagerecord (p50 against p50):

- month (the monthly report): totals by member, by category (the call's country, or SMS)
  and by day;
- year (the annual report): totals by month and category, by member, and by list (through
  members_listmembership: a member in two lists counts in both);
- overview: this month's totals (as for a month) and this year's by month and category.

Targets: p95 <= 150 ms, >= 20x faster than raw, <= 25 queries per page. A page whose URL does
not exist yet, or answers 404, is reported as missing; the raw timings are printed anyway.

BENCH_DASHBOARD_RECORDS (calls, default 1,000,000), BENCH_DASHBOARD_MEMBERS (default 1,000),
BENCH_DASHBOARD_REQUESTS (default 50) and BENCH_DASHBOARD_RAW_REPEAT (default 10) make a
smaller or quicker run.

    TEST_DATABASE_NAME=test_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
        BENCH_KEEPDB=1 make bench BENCH_ARGS=dashboard
"""

import gc
import io
import os
import statistics
import time
import zoneinfo
from contextlib import contextmanager
from dataclasses import dataclass

from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import (
    CaptureQueriesContext,
    setup_test_environment,
    teardown_test_environment,
)
from django.urls import NoReverseMatch, reverse

from dashboard.periods import MONTH, YEAR, Period
from organizations.models import Member, Organization
from organizations.roles import Role
from skypemgr import celery_app
from skypemgr.startup import freeze_startup_objects
from usage.models import UsageRecord

RECORDS = int(os.environ.get("BENCH_DASHBOARD_RECORDS", "1000000"))
MEMBERS = int(os.environ.get("BENCH_DASHBOARD_MEMBERS", "1000"))
REQUESTS = int(os.environ.get("BENCH_DASHBOARD_REQUESTS", "50"))
RAW_REPEAT = int(os.environ.get("BENCH_DASHBOARD_RAW_REPEAT", "10"))
SLUG = "scale"
WARMUP = 3
PAGE_P95, FASTER_THAN_RAW, MOST_QUERIES = 0.150, 20, 25
QUEUE = "skypemgr-bench-dashboard"


# --- The organization ------------------------------------------------------------------------


def _seeded_already() -> Organization | None:
    """The seeded organization, if it is there at the size asked for, up to this month."""
    organization = Organization.objects.filter(slug=SLUG).first()
    if organization is None:
        return None
    members = Member.objects.for_org(organization).count()
    calls = UsageRecord.objects.for_org(organization).filter(kind="call").count()
    latest = UsageRecord.objects.for_org(organization).order_by("-started_at").first()
    this_month = Period.current(MONTH, organization)
    if (members, calls) != (MEMBERS, RECORDS) or latest is None:
        return None
    zone = zoneinfo.ZoneInfo(organization.time_zone)
    if not this_month.contains(latest.started_at.astimezone(zone).date()):
        return None
    return organization


def _organization() -> Organization:
    organization = _seeded_already()
    if organization is not None:
        print(f"reusing the seeded organization /o/{SLUG}/ ({RECORDS:,} calls)", flush=True)
        return organization
    out = io.StringIO()
    started = time.perf_counter()
    with override_settings(DEBUG=True):
        call_command(
            "seed_scale",
            "--replace",
            "--slug",
            SLUG,
            "--records",
            str(RECORDS),
            "--members",
            str(MEMBERS),
            stdout=out,
        )
    print(f"seeded /o/{SLUG}/ in {time.perf_counter() - started:.0f} s:", flush=True)
    for line in out.getvalue().splitlines():
        print(f"  {line}", flush=True)
    return Organization.objects.get(slug=SLUG)


# --- Raw aggregations ------------------------------------------------------------------------

# Spelled out in full, as someone would write them without the rollups.
MONTH_RAW = {
    "by member": """
        SELECT member_id, SUM(cost + adjustment),
               SUM(CASE WHEN kind = 'call' THEN seconds ELSE units END), COUNT(*)
        FROM usage_usagerecord
        WHERE organization_id = %(org)s AND started_at >= %(start)s AND started_at < %(end)s
        GROUP BY 1
    """,
    "by category": """
        SELECT CASE WHEN kind = 'call' THEN 'call:' || COALESCE(NULLIF(upper(country), ''), 'ZZ')
                    ELSE 'sms' END,
               SUM(cost + adjustment),
               SUM(CASE WHEN kind = 'call' THEN seconds ELSE units END), COUNT(*)
        FROM usage_usagerecord
        WHERE organization_id = %(org)s AND started_at >= %(start)s AND started_at < %(end)s
        GROUP BY 1
    """,
    "by day": """
        SELECT (started_at AT TIME ZONE %(zone)s)::date, SUM(cost + adjustment),
               SUM(CASE WHEN kind = 'call' THEN seconds ELSE units END), COUNT(*)
        FROM usage_usagerecord
        WHERE organization_id = %(org)s AND started_at >= %(start)s AND started_at < %(end)s
        GROUP BY 1
    """,
}
YEAR_RAW = {
    "by month and category": """
        SELECT date_trunc('month', started_at AT TIME ZONE %(zone)s)::date,
               CASE WHEN kind = 'call' THEN 'call:' || COALESCE(NULLIF(upper(country), ''), 'ZZ')
                    ELSE 'sms' END,
               SUM(cost + adjustment),
               SUM(CASE WHEN kind = 'call' THEN seconds ELSE units END), COUNT(*)
        FROM usage_usagerecord
        WHERE organization_id = %(org)s AND started_at >= %(start)s AND started_at < %(end)s
        GROUP BY 1, 2
    """,
    "by member": MONTH_RAW["by member"],
    "by list": """
        SELECT membership.member_list_id, SUM(record.cost + record.adjustment), COUNT(*)
        FROM usage_usagerecord AS record
        JOIN members_listmembership AS membership ON membership.member_id = record.member_id
        WHERE record.organization_id = %(org)s AND record.started_at >= %(start)s
          AND record.started_at < %(end)s
        GROUP BY 1
    """,
}


@dataclass
class Timing:
    p50: float
    p95: float


def _timing(samples: list[float]) -> Timing:
    samples = sorted(samples)
    if len(samples) == 1:
        return Timing(samples[0], samples[0])
    return Timing(
        statistics.median(samples), statistics.quantiles(samples, n=100, method="inclusive")[94]
    )


# A set of raw aggregations: (period, name, SQL) run one after the other.
RawSet = list[tuple[Period, str, str]]


def _raw_set(period: Period, queries: dict[str, str]) -> RawSet:
    return [(period, name, sql) for name, sql in queries.items()]


def _raw(organization: Organization, raw_set: RawSet) -> Timing:
    """p50 and p95 of the whole set (each query in turn, its rows fetched)."""

    def parameters(period: Period) -> dict:
        start, end = period.bounds(organization)
        return {
            "org": organization.pk,
            "start": start,
            "end": end,
            "zone": organization.time_zone,
        }

    def run_set() -> float:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            for period, _name, sql in raw_set:
                cursor.execute(sql, parameters(period))
                cursor.fetchall()
        return time.perf_counter() - started

    run_set()
    return _timing([run_set() for _ in range(RAW_REPEAT)])


# --- Pages -----------------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    url_name: str
    query: dict
    raw_name: str


@dataclass
class PageResult:
    timing: Timing | None = None
    queries: int = 0
    problem: str = ""


def _page_url(page: Page) -> str | None:
    try:
        return reverse(page.url_name, kwargs={"org_slug": SLUG})
    except NoReverseMatch:
        return None


def _measure(client: Client, page: Page) -> PageResult:
    url = _page_url(page)
    if url is None:
        return PageResult(problem="page missing (no URL)")

    def send() -> float:
        started = time.perf_counter()
        response = client.get(url, page.query)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise _PageAnswered(response.status_code)
        return elapsed

    try:
        for _ in range(WARMUP):
            send()
        with CaptureQueriesContext(connection) as captured:
            send()
        # Counted now: the next request empties the connection's log that this reads.
        queries = len(captured.captured_queries)
        samples = [send() for _ in range(REQUESTS)]
    except _PageAnswered as answer:
        if answer.status == 404:
            return PageResult(problem="page missing (404)")
        return PageResult(problem=f"answered {answer.status}")
    return PageResult(timing=_timing(samples), queries=queries)


class _PageAnswered(Exception):
    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


@contextmanager
def _as_in_production():
    """DEBUG off, and what start-up loaded frozen, as the web server's process does
    (skypemgr.wsgi)."""
    teardown_test_environment()
    freeze_startup_objects()
    try:
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
            yield
    finally:
        gc.unfreeze()
        setup_test_environment()


def _verdict(result: PageResult, raw: Timing) -> str:
    timing = result.timing
    checks = [
        ("p95 <= 150 ms", timing.p95 <= PAGE_P95),
        (f">= {FASTER_THAN_RAW}x raw", raw.p50 / timing.p50 >= FASTER_THAN_RAW),
        (f"<= {MOST_QUERIES} queries", result.queries <= MOST_QUERIES),
    ]
    return ", ".join(f"{label} {'ok' if ok else 'MISSED'}" for label, ok in checks)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def run() -> None:
    eager, queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = QUEUE
    try:
        _run()
    finally:
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(QUEUE)
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = queue


def _run() -> None:
    organization = _organization()
    this_month = Period.current(MONTH, organization)
    last_month = this_month.previous
    this_year = Period.current(YEAR, organization)
    finance = (
        Member.objects.for_org(organization)
        .filter(role=Role.FINANCE, status=Member.Status.ACTIVE, user__isnull=False)
        .order_by("pk")
        .first()
    )
    client = Client()
    client.force_login(finance.user)
    # The overview is compared with this month's totals and this year's by month (what a
    # summary of spend shows); each report with its period's.
    raws: dict[str, RawSet] = {
        "overview": _raw_set(this_month, MONTH_RAW)
        + _raw_set(this_year, {"by month and category": YEAR_RAW["by month and category"]}),
        f"month {last_month.param}": _raw_set(last_month, MONTH_RAW),
        f"year {this_year.param}": _raw_set(this_year, YEAR_RAW),
    }
    pages = [
        Page("overview", "dashboard:overview", {}, "overview"),
        Page(
            f"month {last_month.param}",
            "dashboard:report-month",
            {"month": last_month.param},
            f"month {last_month.param}",
        ),
        Page(
            f"year {this_year.param}",
            "dashboard:report-year",
            {"year": this_year.param},
            f"year {this_year.param}",
        ),
    ]
    with _as_in_production():
        raw_timings = {}
        print(f"raw GROUP BY over usage_usagerecord, p50 of {RAW_REPEAT}:", flush=True)
        for name, raw_set in raws.items():
            raw_timings[name] = _raw(organization, raw_set)
            parts = ", ".join(f"{part} ({period.param})" for period, part, _sql in raw_set)
            print(
                f"  {name:<14} p50 {_ms(raw_timings[name].p50):>10}  "
                f"p95 {_ms(raw_timings[name].p95):>10}  {parts}",
                flush=True,
            )
        print(
            f"{'page':<16}{'p50':>10}{'p95':>10}{'queries':>9}{'raw p50':>11}"
            f"{'faster':>9}  targets (p95 <= 150 ms, >= {FASTER_THAN_RAW}x raw, "
            f"<= {MOST_QUERIES} queries)",
            flush=True,
        )
        for page in pages:
            raw = raw_timings[page.raw_name]
            result = _measure(client, page)
            if result.timing is None:
                print(f"{page.name:<16}{result.problem:>40}{_ms(raw.p50):>11}", flush=True)
                continue
            print(
                f"{page.name:<16}{_ms(result.timing.p50):>10}{_ms(result.timing.p95):>10}"
                f"{result.queries:>9}{_ms(raw.p50):>11}{raw.p50 / result.timing.p50:>8.1f}x  "
                f"{_verdict(result, raw)}",
                flush=True,
            )
