"""Usage through the real HTTP stack: gunicorn (2 workers) on loopback, against this run's
database, driven from this process.

1. Authorization: REQUESTS signed outgoing-call webhooks (Twilio's form, signed by
   twilio-python's RequestValidator) from 16 concurrent clients, over 200 funded members with
   rates and a calling subscription for some: requests/s, p50 and p99 (target p99 < 50 ms),
   against /healthz (one SELECT and one Redis PING) on the same server, same clients.
2. Ingestion (once the call-record API exists): batches of 500 records posted to
   POST /api/v1/usage for 20 s by two clients: records/s, against psycopg2's raw
   `INSERT … ON CONFLICT DO NOTHING` of rows alike into the same table, 500 a statement, in
   the same run (target ratio >= 0.25, with pricing, ledger and rollups).

BENCH_USAGE_REQUESTS and BENCH_USAGE_SECONDS make a shorter run.
"""

import contextlib
import datetime
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlencode

from django.db import connection
from twilio.request_validator import RequestValidator

from credit.models import Account, Transfer
from credit.services import ledger
from organizations.scoping import tenant_scope
from subscriptions.models import Plan, Subscription
from tests.factories import MemberFactory, OrganizationFactory
from usage.models import Rate
from usage.services.authorize import member_identity

REQUESTS = int(os.environ.get("BENCH_USAGE_REQUESTS", "2000"))
SECONDS = float(os.environ.get("BENCH_USAGE_SECONDS", "20"))
CLIENTS = 16
MEMBERS = 200
TOKEN = "bench-twilio-token"  # noqa: S105 (the benchmark's own signing secret)
DESTINATIONS = ["+33123456789", "+33612345678", "+447700900123", "+14155550100", "+4930123456"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def _gunicorn(port: int):
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "skypemgr.settings",
        "DATABASE_URL": (
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        ),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 40,
        "SITE_URL": f"http://127.0.0.1:{port}",
        "SECURE_SSL_REDIRECT": "false",
        "TWILIO_AUTH_TOKEN": TOKEN,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "skypemgr.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        env=environment,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = _get(port, "/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def _get(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.status


def _post(port: int, path: str, body: bytes, headers: dict) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    content = response.read()
    conn.close()
    return response.status, content


def _load(port: int, requests: list, clients: int) -> tuple[list[float], float, dict]:
    """Send `requests` (callables taking the port, returning a status) from `clients` threads;
    (latencies, elapsed seconds, statuses counted)."""
    latencies, statuses = [], {}
    lock = threading.Lock()
    queue = list(reversed(requests))

    def client():
        while True:
            with lock:
                if not queue:
                    return
                request = queue.pop()
            start = time.perf_counter()
            status = request(port)
            took = time.perf_counter() - start
            with lock:
                latencies.append(took)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started, statuses


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _company():
    for prefix, country, per_minute, line in [
        ("33", "FR", "0.0200", "landline"),
        ("336", "FR", "0.1500", "mobile"),
        ("44", "GB", "0.0300", "landline"),
        ("447", "GB", "0.1200", "mobile"),
        ("1", "US", "0.0100", "landline"),
        ("49", "DE", "0.0250", "landline"),
    ]:
        Rate.objects.update_or_create(
            currency="EUR",
            prefix=prefix,
            defaults={
                "country": country,
                "description": prefix,
                "per_minute": per_minute,
                "per_sms": "0.0500",
                "line_type": line,
            },
        )
    organization = OrganizationFactory(name="Bench usage", slug="bench-usage", verified=True)
    members = MemberFactory.create_batch(MEMBERS, organization=organization)
    plan = Plan.objects.get(code="europe-400")
    with tenant_scope(organization):
        company = ledger.system_account(organization, Account.Kind.ORGANIZATION)
        ledger.transfer_post(
            organization=organization,
            actor=None,
            source=ledger.system_account(organization, Account.Kind.PAYMENTS),
            destination=company,
            amount=MEMBERS * 1000,
            kind=Transfer.Kind.PURCHASE,
            idempotency_key="bench:usage:purchase",
        )
        wallets = ledger.member_wallets(organization, members)
        ledger.transfers_post(
            organization=organization,
            actor=None,
            movements=[
                ledger.Movement(
                    company,
                    wallets[m.pk],
                    ledger.amount_of(1000, "EUR"),
                    Transfer.Kind.ALLOCATION,
                    f"bench:usage:give:{m.pk}",
                )
                for m in members
            ],
        )
        now = datetime.datetime.now(datetime.UTC)
        Subscription.objects.bulk_create(
            Subscription(
                organization=organization,
                member=m,
                plan=plan,
                status="active",
                period_months=1,
                anchor_day=now.day,
                period_start=now,
                period_end=now + datetime.timedelta(days=30),
            )
            for m in members[::4]
        )
    return organization, members


def _authorizations(port: int, members) -> list:
    validator = RequestValidator(TOKEN)
    url = f"http://127.0.0.1:{port}/twilio/outgoing/"
    requests = []
    for n in range(REQUESTS):
        member = members[n % len(members)]
        params = {
            "CallSid": f"CA{uuid.uuid4().hex}",
            "From": f"client:{member_identity(member)}",
            "To": DESTINATIONS[n % len(DESTINATIONS)],
            "AccountSid": "AC" + "0" * 32,
        }
        body = urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, params),
        }

        def request(port, body=body, headers=headers):
            status, content = _post(port, "/twilio/outgoing/", body, headers)
            if status == 200 and b"<Dial" not in content:
                return "refused"
            return status

        requests.append(request)
    return requests


def run() -> None:
    _organization, members = _company()
    port = _free_port()
    with _gunicorn(port):
        # Warm both workers.
        _load(port, [lambda p: _get(p, "/healthz")] * 50, CLIENTS)
        _load(port, _authorizations(port, members)[:50], CLIENTS)
        baseline, base_elapsed, _ = _load(port, [lambda p: _get(p, "/healthz")] * REQUESTS, CLIENTS)
        measured, elapsed, statuses = _load(port, _authorizations(port, members), CLIENTS)
    print(
        f"authorization webhook: {REQUESTS} requests, {CLIENTS} clients: "
        f"{REQUESTS / elapsed:.0f} requests/s, p50 {statistics.median(measured) * 1000:.1f} ms, "
        f"p99 {_percentile(measured, 0.99) * 1000:.1f} ms (target < 50 ms); answers {statuses}",
        flush=True,
    )
    print(
        f"baseline /healthz: {REQUESTS / base_elapsed:.0f} requests/s, "
        f"p50 {statistics.median(baseline) * 1000:.1f} ms, "
        f"p99 {_percentile(baseline, 0.99) * 1000:.1f} ms; "
        f"ratio (requests/s) {(REQUESTS / elapsed) / (REQUESTS / base_elapsed):.2f}",
        flush=True,
    )
