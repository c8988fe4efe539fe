"""What a 5,000-row member import costs: the whole journey against plain bulk inserts; and what
each crafted upload (tests/members/upload_bombs.py) costs before it is refused.

Measured: upload and check, the preview page, and the import POST, through django.test.Client,
for 5,000 rows (every third one in a list). Baseline: `bulk_create` of 5,000 plain Member rows
in one transaction, the least any import of 5,000 people could cost.

Upload bombs: for each crafted file, the time its upload takes to be answered (through
django.test.Client), the peak of what Python allocates while reading it (tracemalloc), and how
far the process's resident memory rose past its earlier high-water mark (which includes what
zlib and expat allocate; the bombs run first, so the mark is the process's own start). Target:
each answered in under 2 s, growing memory by under 100 MB.

Sending is queued for real (one Celery message per batch of invitations) on the default queue,
which no worker consumes during a benchmark run, and emptied at the end.
"""

import resource
import statistics
import time
import tracemalloc

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client

from bench.__main__ import report
from members.models import Invitation, MemberImport, MemberList
from members.services.imports import read_table
from organizations.models import Member
from organizations.services import organization_create
from skypemgr import celery_app
from skypemgr.errors import ApplicationError
from tests.factories import UserFactory
from tests.members import upload_bombs as bombs

ROWS = 5000
REPEAT = 3


def _organization(number: int):
    owner = UserFactory(username=f"bench-import-owner-{number}")
    organization = organization_create(
        user=owner,
        name=f"Import Bench {number}",
        country="FR",
        currency="EUR",
        time_zone="Europe/Paris",
    )
    MemberList.objects.for_org(organization).create(organization=organization, name="Sales")
    client = Client()
    client.force_login(owner)
    return organization, client


def _csv(number: int) -> bytes:
    lines = ["email,display name,role,lists,department,job title"]
    for n in range(ROWS):
        lists = "Sales" if n % 3 == 0 else ""
        lines.append(f"p{n}.r{number}@bench.example.com,Person {n},member,{lists},Ops,Agent")
    return ("\n".join(lines) + "\n").encode()


class _QueryCounter:
    """Counts the queries a request runs (CaptureQueriesContext loses them: every request
    starts by resetting the connection's query log)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _counted(client_call) -> tuple[object, int]:
    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        response = client_call()
    return response, counter.count


BOMBS = {
    "0.3 MB XLSX, one cell of 300 MB": (bombs.huge_cell_xlsx, "x.xlsx"),
    "XLSX, one cell of 0.5 MB": (lambda: bombs.huge_cell_xlsx(0.5), "x.xlsx"),
    "XLSX, 1 row x 2M cells": (bombs.wide_row_xlsx, "x.xlsx"),
    "XLSX, 1 row x 200k cells": (lambda: bombs.wide_row_xlsx(200_000), "x.xlsx"),
    "XLSX, 2M empty rows": (bombs.many_rows_xlsx, "x.xlsx"),
    "XLSX, 150k empty rows": (lambda: bombs.many_rows_xlsx(150_000), "x.xlsx"),
    "XLSX, a person on row 1,048,576": (bombs.far_row_xlsx, "x.xlsx"),
    "XLSX, 1M shared strings": (bombs.shared_strings_xlsx, "x.xlsx"),
    "XLSX, 250k numbered shared strings": (
        lambda: bombs.shared_strings_xlsx(250_000, numbered=True),
        "x.xlsx",
    ),
    "XLSX, 600k numbered cells": (bombs.many_cells_xlsx, "x.xlsx"),
    "XLSX, 20k parts": (bombs.many_parts_xlsx, "x.xlsx"),
    "XLSX, headers that understate the sheet": (bombs.lying_sizes_xlsx, "x.xlsx"),
    "XLSX, entity expansion": (bombs.entity_xlsx, "x.xlsx"),
    "CSV, 1 line x 2M cells": (bombs.wide_csv, "x.csv"),
    "CSV, one cell of 4 MB": (bombs.huge_field_csv, "x.csv"),
    "CSV, 4M blank lines": (bombs.blank_lines_csv, "x.csv"),
}


def _max_rss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _bombs(organization, client) -> None:
    url = f"/o/{organization.slug}/members/import/"
    start_rss = _max_rss_mb()
    for name, (build, file_name) in BOMBS.items():
        content = build()
        started = time.perf_counter()
        response = client.post(url, {"file": SimpleUploadedFile(file_name, content)})
        answered = time.perf_counter() - started
        assert response.status_code == 200, response.status_code
        tracemalloc.start()
        try:
            read_table(SimpleUploadedFile(file_name, content))
            outcome = "READ (not refused)"
        except ApplicationError as error:
            outcome = f"refused ({error.code})"
        peak = tracemalloc.get_traced_memory()[1] / (1 << 20)
        tracemalloc.stop()
        print(
            f"bomb {name} ({len(content) / 1024:.0f} KB): answered in {answered * 1000:.0f} ms, "
            f"Python peak {peak:.1f} MB, resident high-water +{_max_rss_mb() - start_rss:.0f} MB"
            f"; {outcome}",
            flush=True,
        )
    assert not MemberImport.objects.for_org(organization).exists()


def _import(organization, client, content: bytes, timings: dict) -> int:
    base = f"/o/{organization.slug}/members/import/"
    started = time.perf_counter()
    response, upload_queries = _counted(
        lambda: client.post(base, {"file": SimpleUploadedFile("people.csv", content)})
    )
    assert response.status_code == 302, response.content[:2000]
    checked = time.perf_counter()
    detail = response["Location"]
    assert client.get(detail).status_code == 200
    previewed = time.perf_counter()
    response, import_queries = _counted(lambda: client.post(detail))
    assert response.status_code == 302
    done = time.perf_counter()
    timings.setdefault("upload and check", []).append(checked - started)
    timings.setdefault("preview page", []).append(previewed - checked)
    timings.setdefault("import POST", []).append(done - previewed)
    timings.setdefault("upload queries", []).append(upload_queries)
    timings.setdefault("import POST queries", []).append(import_queries)
    return Invitation.objects.for_org(organization).count()


def _bulk_members(organization) -> float:
    members = [
        Member(
            organization=organization,
            status=Member.Status.INVITED,
            display_name=f"Person {n}",
            email=f"plain{n}@bench.example.com",
            department="Ops",
            job_title="Agent",
        )
        for n in range(ROWS)
    ]
    started = time.perf_counter()
    with transaction.atomic():
        Member.objects.bulk_create(members)
    return time.perf_counter() - started


def _purge_queue() -> int:
    return celery_app.control.purge() or 0


def run() -> None:
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    _purge_queue()
    try:
        _bombs(*_organization(200))
        timings: dict[str, list[float]] = {}
        whole, baseline = [], []
        for number in range(REPEAT):
            organization, client = _organization(number)
            content = _csv(number)
            started = time.perf_counter()
            invited = _import(organization, client, content, timings)
            whole.append(time.perf_counter() - started)
            assert invited == ROWS, invited
            baseline.append(_bulk_members(_organization(100 + number)[0]))

        member_import = MemberImport.objects.for_org(organization).get()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_column_size(rows), octet_length(rows::text) FROM members_memberimport"
                " WHERE id = %s",
                [member_import.pk],
            )
            stored, text = cursor.fetchone()
        for name, values in timings.items():
            if name.endswith("queries"):
                print(f"{name}: {values[-1]}")
            else:
                print(f"{name}: {statistics.median(values) * 1000:.0f} ms")
        print(f"rows JSON: {text / 1024:.0f} KiB as text, {stored / 1024:.0f} KiB stored")
        print(f"messages queued, then purged: {_purge_queue()}")
        report(
            f"import of {ROWS} rows (upload + preview + import, {REPEAT} runs, median)",
            statistics.median(whole),
            statistics.median(baseline),
            f"bulk_create of {ROWS} Member rows",
        )
    finally:
        _purge_queue()
        celery_app.conf.task_always_eager = eager
