"""Fixtures named after the people and places of the tests."""

import importlib

import pytest
from django.test import Client

from organizations.roles import Role
from skypemgr import celery_app, sms
from tests.factories import MemberFactory, OrganizationFactory, UserFactory
from tests.fakes import twilio  # noqa: F401 (a fixture, shared by every test module)
from tests.staff import admin_client
from tests.subscriptions.twilio_fake import twilio_numbers  # noqa: F401 (a fixture, shared)


def _database_order(item: pytest.Item) -> int:
    """0 for a test in a transaction rolled back at its end, 1 for a test whose writes are
    committed (the tables are emptied when it ends), 2 for a test without the database."""
    names = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    if marker is not None:
        kwargs = marker.kwargs
        if kwargs.get("transaction") or kwargs.get("reset_sequences"):
            return 1
    if names & {"transactional_db", "live_server"}:
        return 1
    return 0 if marker is not None or "db" in names else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Committing tests run after every rolled-back one, as pytest-django orders them.

    pytest then regroups the tests by their session-scoped parameters (Playwright's
    `browser_name`), which brought every browser test forward to the first test that opens a
    page. Each of them empties the tables when it ends, the plan catalog and the rate table
    included, so every rolled-back test after them loaded both again inside its own
    transaction: three quarters of the whole run's time. The sort is stable: the order within
    each group stays.
    """
    items.sort(key=_database_order)


def _catalog_load() -> bool:
    """The plan catalog and the sample rate table, as their data migrations ship them, when the
    database has none (a test that commits empties every table when it ends). True when
    either was missing."""
    from django.apps import apps

    from subscriptions.models import Plan
    from usage.models import Rate

    missing = False
    if not Plan.objects.exists():
        migration = importlib.import_module("subscriptions.migrations.0002_catalog_and_settings")
        migration.catalog_load(apps, None)
        missing = True
    if not Rate.objects.exists():
        # The file is read once per process (usage.services.rates.sample_rate_table).
        migration = importlib.import_module("usage.migrations.0003_sample_rates")
        migration.sample_rates_load(apps, None)
        missing = True
    return missing


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """A database kept from an earlier run (--reuse-db) may have been left empty by a test
    that commits: the catalog is loaded back once, committed, not once per test."""
    with django_db_blocker.unblock():
        _catalog_load()


@pytest.fixture(autouse=True)
def _ledger_stays_sound(request):
    """After every test that touched the database, the books must balance (check_ledger) and
    the rollups must be exact (check_rollups)."""
    names = set(request.fixturenames)
    database = next((name for name in ("transactional_db", "db") if name in names), None)
    if database is None:
        yield
        return
    # Depending on the database fixture makes this check run before the database closes.
    request.getfixturevalue(database)
    yield
    from credit.selectors.ledger import ledger_problems
    from credit.selectors.rollups import rollup_problems

    assert ledger_problems() == []
    # And the spending rollups equal what they sum up (check_rollups).
    assert rollup_problems() == []


@pytest.fixture(autouse=True)
def _catalog(request):
    """The plan catalog and the sample rate table, as their data migrations ship them, in
    every test's database: a test with `transaction=True` (browser, integration) empties every
    table when it ends, the catalog and the rates included, and the tests after it would find
    no plans and no rates."""
    names = set(request.fixturenames)
    database = next((name for name in ("transactional_db", "db") if name in names), None)
    marker = request.node.get_closest_marker("django_db")
    if database is None and marker is not None and marker.kwargs.get("databases") != []:
        database = "transactional_db" if marker.kwargs.get("transaction") else "db"
    if database is None:
        return
    request.getfixturevalue(database)
    if _catalog_load() and _database_order(request.node) == 0:
        # The order of pytest_collection_modifyitems was lost: every rolled-back test after
        # this one would pay for the catalog again.
        pytest.fail("a rolled-back test ran after a test that commits (see the test order)")


@pytest.fixture(autouse=True)
def _english_to_start():
    """Each test starts in English: a request's language stays active in the thread after it
    (LocaleMiddleware sets it and leaves it), and a French page would leak into the next test."""
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Password hashing is slow on purpose; tests need it to work, not to resist attack."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _eager_tasks():
    """Run Celery tasks inline (after commit) unless a test starts a real worker."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture(autouse=True)
def sms_outbox(settings):
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth's rate limits live in the cache (Redis): start every test with none spent."""
    from django.core.cache import cache

    # Only our prefixed keys: FLUSHDB would also drop the Celery broker's queues.
    cache.delete_pattern("*")


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Acme SARL", slug="acme-sarl")


@pytest.fixture
def other_org(db):
    return OrganizationFactory(name="Globex GmbH", slug="globex", country="DE")


def _member(organization, role):
    return MemberFactory(organization=organization, role=role)


@pytest.fixture
def owner(org):
    return _member(org, Role.OWNER)


@pytest.fixture
def admin(org):
    return _member(org, Role.ADMIN)


@pytest.fixture
def finance(org):
    return _member(org, Role.FINANCE)


@pytest.fixture
def employee(org):
    return _member(org, Role.MEMBER)


@pytest.fixture
def outsider(other_org):
    """The owner of another organization."""
    return _member(other_org, Role.OWNER)


@pytest.fixture
def login():
    def _login(member_or_user) -> Client:
        user = getattr(member_or_user, "user", member_or_user)
        client = Client()
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def platform_staff(db) -> Client:
    """A superuser of the platform, signed in to Django admin with their second factor."""
    client = admin_client(UserFactory(is_staff=True, is_superuser=True))
    assert client.get("/admin/").status_code == 200
    return client
