"""The pages of a big organization against the same pages of the demo company, in the same run.

The big organization is built through the real services: 5,000 members (member_add), 30 lists
(list_create, list_add_members), three years of monthly allocations to everyone and take-backs
from a list (credit_allocate, credit_take_back), two runs of a monthly rule and this month's
member auto-recharges: about 200,000 transfers. The demo company is `manage.py demo_data`'s.

For each page: p50 and p95 over REQUESTS requests through Django's test client (after a
warm-up, DEBUG off and templates rendered as in production: outside the test environment,
whose instrumentation copies every template's context for the test client) and the number of
queries of one request. Target: every
page p95 <= 150 ms (the allocation to everyone confirmed <= 1 s), and the big organization
asks no more queries than the demo company.

BENCH_PAGES_MEMBERS, BENCH_PAGES_MONTHS and BENCH_PAGES_REQUESTS make a smaller run.
"""

import datetime
import os
import statistics
import time
import zoneinfo
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import setup_test_environment, teardown_test_environment
from django.urls import reverse

from credit.forms.allocation import new_key
from credit.models import CreditRule, Purchase
from credit.selectors.spending import local_month
from credit.services.allocation import credit_allocate, credit_take_back
from credit.services.purchases import purchase_create, purchase_credit
from credit.services.rules import credit_rule_create, credit_rule_run, member_auto_recharges
from credit.services.rules.management import Start, Target
from members.services.lists import list_add_members, list_create
from organizations.models import Member, Organization
from organizations.roles import Role
from organizations.services import member_add, organization_create
from skypemgr import celery_app

MEMBERS = int(os.environ.get("BENCH_PAGES_MEMBERS", "5000"))
MONTHS = int(os.environ.get("BENCH_PAGES_MONTHS", "36"))
REQUESTS = int(os.environ.get("BENCH_PAGES_REQUESTS", "20"))
WARMUP = 3
LISTS = 30
PAGE_TARGET, CONFIRM_TARGET = 0.150, 1.0
QUEUE = "skypemgr-bench-pages"
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
PASSWORD = "bench-pass-2026"  # noqa: S105 (the benchmark's throwaway owners)
FIRST = ("Alice", "Bruno", "Chloé", "David", "Emma", "Farid", "Gaëlle", "Hugo", "Inès", "Jules")
LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy")
DEPARTMENTS = ("Sales", "Support", "Finance", "Engineering", "Marketing", "Operations")


@dataclass
class Company:
    organization: Organization
    owner: Member
    # A member with a long history, for member details and the filtered history.
    busy: Member


def _owner(username: str):
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@bench.example", password=PASSWORD
    )
    user.emailaddress_set.create(email=user.email, verified=True, primary=True)
    return user


def _buy(organization: Organization, owner: Member, total: int) -> None:
    """Bank transfers received, each within the verified purchase limit."""
    while total > 0:
        amount = min(total, 10_000)
        purchase = purchase_create(
            organization=organization,
            actor=owner,
            method=Purchase.Method.BANK_TRANSFER,
            amount=amount,
        )
        purchase_credit(purchase=purchase)
        total -= amount


def _people(organization: Organization, owner: Member) -> list[Member]:
    User = get_user_model()
    users = User.objects.bulk_create(
        User(
            username=f"bench-{n}",
            email=f"bench-{n}@bench.example",
            first_name=FIRST[n % len(FIRST)],
            last_name=f"{LAST[n // len(FIRST) % len(LAST)]}-{n}",
            password="!",  # noqa: S106 (an unusable password: nobody signs in as them)
        )
        for n in range(MEMBERS - 1)
    )
    return [owner] + [
        member_add(
            organization=organization,
            actor=owner,
            user=user,
            role=Role.ADMIN if n % 500 == 0 else Role.MEMBER,
            job_title="Agent",
            department=DEPARTMENTS[n % len(DEPARTMENTS)],
        )
        for n, user in enumerate(users)
    ]


def _phase(name: str, started: float) -> float:
    now = time.perf_counter()
    print(f"  {name}: {now - started:.0f} s", flush=True)
    return now


def _big_company() -> Company:
    clock = time.perf_counter()
    now = datetime.datetime.now(tz=PARIS)
    start = (now.replace(day=1) - datetime.timedelta(days=31 * MONTHS)).replace(day=1, hour=9)
    with time_machine.travel(start, tick=True):
        organization = organization_create(
            user=_owner("bench-big"),
            name="Bench Big SA",
            country="FR",
            currency="EUR",
            time_zone="Europe/Paris",
        )
        Organization.objects.filter(pk=organization.pk).update(verified=True)
        organization.refresh_from_db()
        owner = Member.objects.for_org(organization).get(role=Role.OWNER)
        people = _people(organization, owner)
        clock = _phase(f"{MEMBERS} members", clock)
        lists = []
        for number in range(LISTS):
            member_list = list_create(
                organization=organization, actor=owner, name=f"Team {number + 1}"
            )
            # Lists of 100 to 390 people, overlapping.
            size = 100 + (number * 97) % 300
            first = (number * 151) % len(people)
            chosen = (people + people)[first : first + size]
            list_add_members(
                organization=organization, actor=owner, member_list=member_list, members=chosen
            )
            lists.append(member_list)
        _buy(organization, owner, 50_000)
        clock = _phase(f"{LISTS} lists, credit bought", clock)
    for month in range(MONTHS):
        day = (start + datetime.timedelta(days=31 * month)).replace(day=2 + month % 20)
        with time_machine.travel(day, tick=True):
            credit_allocate(
                organization=organization,
                actor=owner,
                members=people,
                amount="0.10",
                idempotency_key=f"bench:month:{month}",
                memo=f"Monthly credit {month + 1}",
            )
        with time_machine.travel(day + datetime.timedelta(days=3), tick=True):
            taken = lists[month % LISTS]
            credit_take_back(
                organization=organization,
                actor=owner,
                members=list(Member.objects.for_org(organization).filter(lists=taken)),
                idempotency_key=f"bench:back:{month}",
            )
    clock = _phase(f"{MONTHS} months of allocations and take-backs", clock)
    _rules(organization, owner, lists)
    _phase("rules run, members recharged", clock)
    return Company(organization, owner, busy=people[1])


def _rules(organization: Organization, owner: Member, lists) -> None:
    """A monthly top-up for everyone (run this month), auto-recharges for two lists and one
    member, recharging this month."""
    top_up = credit_rule_create(
        organization=organization,
        actor=owner,
        kind=CreditRule.Kind.MONTHLY_TOP_UP,
        target=Target.EVERYONE,
        amount="4",
        start=Start.THIS_MONTH,
    )
    credit_rule_run(organization=organization, rule_id=top_up.pk, period=local_month(organization))
    for member_list in lists[:2]:
        credit_rule_create(
            organization=organization,
            actor=owner,
            kind=CreditRule.Kind.AUTO_RECHARGE,
            target=Target.LIST,
            member_list=member_list,
            amount="5",
            threshold="100",
            monthly_max="10",
        )
    someone = Member.objects.for_org(organization).filter(role=Role.MEMBER).order_by("pk")[3]
    credit_rule_create(
        organization=organization,
        actor=owner,
        kind=CreditRule.Kind.AUTO_RECHARGE,
        target=Target.MEMBER,
        member=someone,
        amount="5",
        threshold="100",
        monthly_max="10",
    )
    ids = list(Member.objects.for_org(organization).values_list("pk", flat=True))
    member_auto_recharges(organization=organization, member_ids=ids)


def _demo_company() -> Company:
    with override_settings(DEBUG=True):
        call_command("demo_data", stdout=open(os.devnull, "w"))  # noqa: SIM115
    organization = Organization.objects.get(name="Demo SARL")
    Organization.objects.filter(pk=organization.pk).update(verified=True)
    organization.refresh_from_db()
    owner = Member.objects.for_org(organization).get(role=Role.OWNER)
    _buy(organization, owner, 2_000)
    busy = Member.objects.for_org(organization).get(role=Role.MEMBER)
    return Company(organization, owner, busy)


# --- The pages ---------------------------------------------------------------------------------

# A request: (method, path, data); a page makes one for each repetition.
Request = tuple[str, str, dict]


def _url(company: Company, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"org_slug": company.organization.slug, **kwargs})


def _history_far(company: Company, client: Client) -> Request:
    """The oldest movements: the date jump to the first month of the history."""
    first = datetime.date.today() - datetime.timedelta(days=31 * MONTHS)
    return ("get", _url(company, "credit:history"), {"day": first.isoformat()})


def _allocation(company: Company, client: Client, *, confirm: bool) -> Callable[[], Request]:
    url = _url(company, "credit:allocate")
    fields = {"target": "everyone", "amount": "0.01", "memo": "Bench"}
    preview = client.post(url, {**fields, "step": "preview", "idempotency_key": new_key()})
    assert preview.status_code == 200, preview.status_code
    fingerprint = preview.context["plan"].fingerprint

    def request() -> Request:
        step = {"step": "confirm", "expected": fingerprint} if confirm else {"step": "preview"}
        return ("post", url, {**fields, **step, "idempotency_key": new_key()})

    return request


def _pages(company: Company, client: Client) -> list[tuple[str, Callable[[], Request]]]:
    members = _url(company, "members:member-list")
    history = _url(company, "credit:history")
    details = _url(company, "members:member-detail", member_id=company.busy.pk)
    filtered = {"member": company.busy.pk, "kind": "allocation"}
    far = _history_far(company, client)
    return [
        ("directory", lambda: ("get", members, {})),
        ("directory, search", lambda: ("get", members, {"q": "mar"})),
        ("directory, filter", lambda: ("get", members, {"role": "member", "status": "active"})),
        ("directory, far page", lambda: ("get", members, {"page": "80"})),
        ("member details", lambda: ("get", details, {})),
        ("credit history", lambda: ("get", history, {})),
        ("credit history, filtered", lambda: ("get", history, filtered)),
        ("credit history, far page", lambda: far),
        ("rules", lambda: ("get", _url(company, "credit:rule-list"), {})),
        ("allocate to everyone, preview", _allocation(company, client, confirm=False)),
        ("allocate to everyone, confirm", _allocation(company, client, confirm=True)),
    ]


@dataclass
class Measured:
    p50: float
    p95: float
    queries: int


def _measure(client: Client, make: Callable[[], Request]) -> Measured:
    def send() -> float:
        method, path, data = make()
        started = time.perf_counter()
        response = getattr(client, method)(path, data)
        elapsed = time.perf_counter() - started
        assert response.status_code in (200, 302), (path, response.status_code)
        return elapsed

    for _ in range(WARMUP):
        send()
    statements = []

    def count(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        send()
    samples = sorted(send() for _ in range(REQUESTS))
    p95 = statistics.quantiles(samples, n=100, method="inclusive")[94]
    return Measured(statistics.median(samples), p95, len(statements))


def run() -> None:
    eager, queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = QUEUE
    try:
        started = time.perf_counter()
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            big = _big_company()
            demo = _demo_company()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute(
                "SELECT count(*) FROM credit_transfer WHERE organization_id = %s",
                [big.organization.pk],
            )
            [transfers] = cursor.fetchone()
        print(
            f"big organization: {MEMBERS} members, {LISTS} lists, {transfers} transfers, "
            f"built in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        clients = {}
        for company in (big, demo):
            clients[company.organization.pk] = Client()
            clients[company.organization.pk].force_login(company.owner.user)
        print(
            f"{'page':<32}{'big p50 / p95 (queries)':>30}{'demo p50 / p95 (queries)':>30}"
            f"{'p95 ratio':>11}  target",
            flush=True,
        )
        big_pages = _pages(big, clients[big.organization.pk])
        demo_pages = _pages(demo, clients[demo.organization.pk])
        with _as_in_production():
            for (name, big_page), (_name, demo_page) in zip(big_pages, demo_pages, strict=True):
                ours = _measure(clients[big.organization.pk], big_page)
                theirs = _measure(clients[demo.organization.pk], demo_page)
                limit = CONFIRM_TARGET if name.endswith("confirm") else PAGE_TARGET
                verdict = "ok" if ours.p95 <= limit and ours.queries <= theirs.queries else "MISSED"
                print(
                    f"{name:<32}"
                    f"{_cell(ours):>30}{_cell(theirs):>30}"
                    f"{ours.p95 / theirs.p95:>11.2f}  {verdict} (p95 <= {limit * 1000:.0f} ms,"
                    f" queries <= demo)",
                    flush=True,
                )
    finally:
        with celery_app.connection_for_write() as broker:
            broker.default_channel.queue_purge(QUEUE)
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = queue


@contextmanager
def _as_in_production():
    teardown_test_environment()
    try:
        with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
            yield
    finally:
        setup_test_environment()


def _cell(measured: Measured) -> str:
    return f"{measured.p50 * 1000:.0f} / {measured.p95 * 1000:.0f} ms ({measured.queries})"
