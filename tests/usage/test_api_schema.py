"""The call-record API against its own OpenAPI schema (schemathesis): every operation, fed
with generated requests (valid and invalid), through the real Django WSGI application in the
test's process, authenticated with a live key. No answer is a server error, and every answer
matches the schema. Also: the schema and the docs page are served, the docs from our own
static files."""

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.factories import MemberFactory
from tests.usage.support import fund, give, rate
from usage.services.api_keys import api_key_create

SCHEMA_URL = "/api/v1/openapi.json"


# The schema as the application serves it, loaded through Django's WSGI application when the
# tests are collected (the schema's view reads no database). Requests go through the same
# application. (schemathesis.pytest.from_fixture, the lazy loader, does not run on pytest 9.)
schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, WSGIHandler())


@pytest.fixture
def in_test_transaction(db):
    """Requests answered inside the test's transaction: as Django's test client does, a
    request must not close the test's database connection when it ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def key_headers(in_test_transaction, org, owner, settings):
    """A live key of an organization with credit, rates and a few members and records, so
    that generated requests also reach the paths that record and read."""
    settings.API_RATE_LIMIT = 100_000
    rate("33", "0.02", country="FR")
    fund(org, 100)
    for n in range(3):
        member = MemberFactory(organization=org, email=f"m{n}@example.com")
        give(org, member, 10)
    _key, plaintext = api_key_create(organization=org, actor=owner, name="Schemathesis")
    return {"Authorization": f"Bearer {plaintext}"}


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_the_api_matches_its_schema_and_never_fails(case, key_headers):
    case.call_and_validate(
        headers=key_headers,
        checks=[
            not_a_server_error,
            response_schema_conformance,
            status_code_conformance,
            content_type_conformance,
        ],
    )


def test_the_schema_and_the_docs_are_served_without_a_cdn(db):
    client = Client()
    schema_answer = client.get(SCHEMA_URL)
    assert schema_answer.status_code == 200
    document = schema_answer.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/api/v1/usage", "/api/v1/usage/{external_id}"}
    records = document["components"]["schemas"]["UsageBatchIn"]["properties"]["records"]
    assert records["items"] == {"$ref": "#/components/schemas/UsageRecordIn"}
    assert (records["minItems"], records["maxItems"]) == (1, 1000)
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "http://" not in page
    assert "https://" not in page
