"""The catalog for every features test: shipped by a data migration, it is gone after any
transactional test elsewhere in the run flushed the database (tests/integration, e2e)."""

import importlib

import pytest
from django.apps import apps


@pytest.fixture(autouse=True)
def _catalog(request):
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from subscriptions.models import Plan

    if not Plan.objects.exists():
        migration = importlib.import_module("subscriptions.migrations.0002_catalog_and_settings")
        migration.catalog_load(apps, None)
