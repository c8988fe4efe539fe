"""The credit history: every transfer, newest first, with who did it and the note; filters by
member, type and dates (in the organization's time zone); 50 a page (keyset pages: see
test_history_pages); finance reads it."""

import datetime
import zoneinfo

import pytest
import time_machine
from djmoney.money import Money

from credit.selectors.history import transfer_history
from credit.services.allocation import credit_allocate, credit_take_back
from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.factories import MemberFactory

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def eur(value) -> Money:
    return Money(value, "EUR")


def history_url(org) -> str:
    return f"/o/{org.slug}/credit/history/"


def main_of(response) -> str:
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


def shown(response) -> list:
    return list(response.context["history"].transfers)


@pytest.fixture
def story(org, owner, admin, employee):
    """A purchase, an allocation with a note, a take-back: three transfers, a day apart."""
    with time_machine.travel(datetime.datetime(2026, 3, 1, 10, tzinfo=PARIS), tick=False):
        bought(org, owner)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 23, 30, tzinfo=PARIS), tick=False):
        credit_allocate(
            organization=org, actor=admin, members=[employee], amount=20,
            idempotency_key="give", memo="Conference calls",
        )  # fmt: skip
    with time_machine.travel(datetime.datetime(2026, 3, 3, 0, 30, tzinfo=PARIS), tick=False):
        credit_take_back(
            organization=org, actor=owner, members=[employee], amount=5, idempotency_key="take"
        )


def test_every_transfer_newest_first_with_actor_and_note(org, owner, admin, employee, story, login):
    response = login(finance_of(org)).get(history_url(org))
    assert response.status_code == 200
    assert [t.kind for t in shown(response)] == ["take_back", "allocation", "purchase"]
    assert [t.direction for t in shown(response)] == [1, -1, 1]
    page = main_of(response)
    for text in (
        "Conference calls",
        admin.display_name,
        owner.display_name,
        employee.display_name,
        "Company balance",
        "Payments received",
        "+€5.00",
        "\N{MINUS SIGN}€20.00",
        "+€100.00",
    ):
        assert text in page


def finance_of(org):
    return MemberFactory(organization=org, role=Role.FINANCE)


def test_filter_by_member(org, owner, employee, story, login):
    other = MemberFactory(organization=org)
    credit_allocate(organization=org, actor=owner, members=[other], amount=1, idempotency_key="o")
    response = login(owner).get(history_url(org), {"member": employee.pk})
    assert [t.kind for t in shown(response)] == ["take_back", "allocation"]
    nobody = login(owner).get(history_url(org), {"member": MemberFactory(organization=org).pk})
    assert "member" in nobody.context["form"].errors
    assert len(shown(nobody)) == 4, "an unknown member is dropped, the rest still applies"


def test_filter_by_kind(org, owner, story, login):
    response = login(owner).get(history_url(org), {"kind": "allocation"})
    assert [t.kind for t in shown(response)] == ["allocation"]
    bad = login(owner).get(history_url(org), {"kind": "theft"})
    assert bad.status_code == 200
    assert len(shown(bad)) == 3


def test_filter_by_days_in_the_organizations_time_zone(org, owner, story, login):
    client = login(owner)
    second = client.get(history_url(org), {"date_from": "2026-03-02", "date_to": "2026-03-02"})
    assert [t.kind for t in shown(second)] == ["allocation"]
    from_third = client.get(history_url(org), {"date_from": "2026-03-03"})
    assert [t.kind for t in shown(from_third)] == ["take_back"]
    upside_down = client.get(history_url(org), {"date_from": "2026-03-03", "date_to": "2026-03-01"})
    assert "date_to" in upside_down.context["form"].errors
    garbage = client.get(history_url(org), {"date_from": "yesterday", "page": "last"})
    assert garbage.status_code == 200


def test_the_other_organizations_members_are_not_choices(org, owner, story, outsider, login):
    response = login(owner).get(history_url(org), {"member": outsider.pk})
    assert "member" in response.context["form"].errors
    assert str(outsider) not in main_of(response)


def test_fifty_a_page(org, owner, employee, login):
    bought(org, owner, 500)
    for n in range(60):
        credit_allocate(
            organization=org, actor=owner, members=[employee], amount=1, idempotency_key=f"k{n}"
        )
    client = login(owner)
    first = client.get(history_url(org))
    assert len(shown(first)) == 50
    older = first.context["history"].older
    last = client.get(history_url(org), {"before": older.token, "kind": "allocation"})
    assert len(shown(last)) == 10
    assert "kind=allocation" in main_of(last)
    assert last.context["history"].older is None


def test_the_history_reads_in_a_constant_number_of_queries(org, owner, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bought(org, owner, 500)
    members = MemberFactory.create_batch(30, organization=org)
    credit_allocate(organization=org, actor=owner, members=members, amount=1, idempotency_key="a")
    client = login(owner)
    client.get(history_url(org))
    with CaptureQueriesContext(connection) as captured:
        client.get(history_url(org))
    assert len(captured.captured_queries) < 15


def test_the_selector_scopes_to_the_organization(org, owner, other_org, outsider, story):
    bought(other_org, outsider)
    assert {t.organization_id for t in transfer_history(organization=org)} == {org.pk}
    assert transfer_history(organization=other_org).count() == 1


@pytest.mark.parametrize("role", [Role.MEMBER])
def test_employees_cannot_read_the_company_history(org, login, role):
    assert (
        login(MemberFactory(organization=org, role=role)).get(history_url(org)).status_code == 403
    )
