"""What a 5,000-row member import costs: the whole journey against plain bulk inserts.

Measured: upload and check, the preview page, and the import POST, through django.test.Client,
for 5,000 rows (every third one in a list). Baseline: `bulk_create` of 5,000 plain Member rows
in one transaction, the least any import of 5,000 people could cost.

Sending is queued for real (one Celery message per batch of invitations) on the default queue,
which no worker consumes during a benchmark run, and emptied at the end.
"""

import statistics
import time

from django.db import connection, transaction
from django.test import Client

from bench.__main__ import report
from members.models import Invitation, MemberImport, MemberList
from organizations.models import Member
from organizations.services import organization_create
from skypemgr import celery_app
from tests.factories import UserFactory

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


def _import(organization, client, content: bytes, timings: dict) -> int:
    from django.core.files.uploadedfile import SimpleUploadedFile

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
