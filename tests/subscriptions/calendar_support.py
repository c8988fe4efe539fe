"""Subscriptions written as rows for the calendar's tests: the calendar only reads them, so a
test states each one's period end, period and renewal choices directly."""

import datetime
import importlib
import zoneinfo

import pytest
from django.apps import apps

from organizations.scoping import tenant_scope
from subscriptions.models import Plan, Subscription
from subscriptions.periods import local_midnight


@pytest.fixture
def catalog(db):
    """The shipped catalog, loaded again if a transactional test (a browser test) flushed the
    rows its data migration wrote; plans already there are left as they are."""
    migration = importlib.import_module("subscriptions.migrations.0002_catalog_and_settings")
    migration.catalog_load(apps, None)


def plan(code: str = "france-landlines-unlimited") -> Plan:
    return Plan.objects.get(code=code)


def due(
    organization,
    member,
    day: datetime.date,
    *,
    code: str = "france-landlines-unlimited",
    months: int = 1,
    next_months: int | None = None,
    auto_renew: bool = True,
    cancel_at_period_end: bool = False,
    status: str = Subscription.Status.ACTIVE,
) -> Subscription:
    """A subscription whose period ends at midnight starting `day` (organization time)."""
    end = local_midnight(day, organization.time_zone)
    with tenant_scope(organization):
        return Subscription.objects.create(
            organization=organization,
            member=member,
            plan=plan(code),
            status=status,
            period_months=months,
            next_period_months=next_months,
            anchor_day=day.day,
            period_start=end - datetime.timedelta(days=30 * months),
            period_end=end,
            auto_renew=auto_renew,
            cancel_at_period_end=cancel_at_period_end,
        )


def local(organization, *args) -> datetime.datetime:
    """An instant given as local wall-clock time in the organization's zone."""
    return datetime.datetime(*args, tzinfo=zoneinfo.ZoneInfo(organization.time_zone))
