"""What the tenancy check costs a page: an organization page against /healthz, whole stack."""

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.__main__ import measure, report
from organizations.roles import Role
from organizations.services import member_add, organization_create
from tests.factories import UserFactory


def run() -> None:
    owner = UserFactory(username="bench-owner")
    organization = organization_create(
        user=owner, name="Bench SA", country="FR", currency="EUR", time_zone="Europe/Paris"
    )
    from organizations.models import Member

    actor = Member.objects.for_org(organization).get(user=owner)
    for _ in range(200):
        member_add(organization=organization, actor=actor, user=UserFactory(), role=Role.MEMBER)
    client = Client()
    client.force_login(owner)
    page = f"/o/{organization.slug}/me/"
    assert client.get(page).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        client.get(page)
    print(f"queries for {page}: {len(queries)}")

    tenant = measure(lambda: client.get(page), repeat=300)
    baseline = measure(lambda: client.get("/healthz"), repeat=300)
    report("organization page (tenancy + role check + render)", tenant, baseline, "/healthz")
