"""Balances where people look for them: the organization home, the credit overview (and its
live partial), the directory's column and a member's details; and the extension points that
let credit appear on the pages of the apps below it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from credit.services.allocation import credit_allocate
from credit.services.purchases import purchase_refund
from members import extensions as member_extensions
from organizations import extensions as organization_extensions
from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.factories import MemberFactory
from tests.tenancy import snapshot


def eur(value) -> Money:
    return Money(value, "EUR")


def main_of(response) -> str:
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


def home_url(org) -> str:
    return f"/o/{org.slug}/"


def overview_url(org) -> str:
    return f"/o/{org.slug}/credit/"


def balances_url(org) -> str:
    return f"/o/{org.slug}/credit/balances/"


def directory_url(org) -> str:
    return f"/o/{org.slug}/members/"


def detail_url(member) -> str:
    return f"/o/{member.organization.slug}/members/{member.pk}/"


@pytest.fixture
def spread(org, owner, employee):
    """100 bought, 30 given to the employee."""
    bought(org, owner)
    credit_allocate(
        organization=org, actor=owner, members=[employee], amount=30, idempotency_key="spread"
    )


# --- The organization home and the overview ---------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.FINANCE])
def test_the_home_shows_the_balances_to_staff(org, owner, spread, login, role):
    member = owner if role == Role.OWNER else MemberFactory(organization=org, role=role)
    page = main_of(login(member).get(home_url(org)))
    assert "€70.00" in page
    assert "€30.00" in page
    assert "Allocated to members" in page
    assert f'hx-get="{balances_url(org)}"' in page
    assert 'hx-trigger="every 5s"' in page
    assert (f'href="/o/{org.slug}/credit/buy/"' in page) == (role == Role.OWNER)
    assert (f'href="/o/{org.slug}/credit/allocate/"' in page) == (role != Role.FINANCE)


def test_the_overview_shows_balances_shortcuts_and_the_latest_moves(org, owner, spread, login):
    page = main_of(login(owner).get(overview_url(org)))
    for text in ("€70.00", "€30.00", "every 5s", "Latest movements", "Allocation", "Purchase"):
        assert text in page
    assert "Owed by the company" not in page
    for path in (
        "credit/buy/",
        "credit/allocate/",
        "credit/take-back/",
        "credit/history/",
        "credit/purchases/",
        "credit/auto-recharge/",
        "credit/rules/",
        "credit/settings/",
    ):
        assert f'href="/o/{org.slug}/{path}"' in page


def test_finance_reads_the_overview_without_the_admins_shortcuts(org, owner, finance, login):
    bought(org, owner)
    response = login(finance).get(overview_url(org))
    assert response.status_code == 200
    page = main_of(response)
    assert f"/o/{org.slug}/credit/history/" in page
    for path in ("credit/buy/", "credit/allocate/", "credit/take-back/"):
        assert f'href="/o/{org.slug}/{path}"' not in page


def test_what_the_company_owes_is_shown(org, owner, employee, login):
    purchase = bought(org, owner)
    credit_allocate(
        organization=org, actor=owner, members=[employee], amount=70, idempotency_key="a"
    )
    purchase_refund(purchase=purchase, amount=100, refund_key="re_1")
    page = main_of(login(owner).get(overview_url(org)))
    assert "Owed by the company" in page
    assert "€70.00" in page


def test_the_live_partial_answers_the_current_balances(org, owner, employee, spread, login):
    client = login(owner)
    first = client.get(balances_url(org), HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert "€70.00" in first.content.decode()
    assert "<html" not in first.content.decode()
    credit_allocate(
        organization=org, actor=owner, members=[employee], amount=15, idempotency_key="more"
    )
    later = client.get(balances_url(org), HTTP_HX_REQUEST="true").content.decode()
    assert "€55.00" in later
    assert "€45.00" in later


def test_an_organization_with_no_credit_yet(org, owner, login):
    page = main_of(login(owner).get(overview_url(org)))
    assert "€0.00" in page
    assert "No credit has moved yet" in page


@pytest.mark.parametrize("role", [Role.MEMBER])
def test_employees_see_no_company_balance(org, owner, login, role):
    member = MemberFactory(organization=org, role=role)
    client = login(member)
    assert client.get(overview_url(org)).status_code == 403
    assert client.get(balances_url(org)).status_code == 403


# --- The directory and member details ---------------------------------------------------------


def test_the_directory_has_a_balance_column(org, owner, employee, finance, spread, login):
    response = login(finance).get(directory_url(org))
    page = main_of(response)
    assert ">Balance</th>" in page
    cells = {m.pk: m.extension_cells for m in response.context["page"].object_list}
    assert cells[employee.pk][0]["value"] == eur(30)
    assert cells[finance.pk][0]["value"] is None
    assert "€30.00" in page


def test_the_directory_asks_the_same_number_of_queries_for_5_or_50_members(org, owner, login):
    def queries_for(count: int) -> int:
        members = MemberFactory.create_batch(count, organization=org)
        bought(org, owner, 500)
        credit_allocate(
            organization=org, actor=owner, members=members, amount=1, idempotency_key=str(count)
        )
        client = login(owner)
        client.get(directory_url(org))  # warm the session and the caches
        with CaptureQueriesContext(connection) as captured:
            response = client.get(directory_url(org))
        assert len(response.context["page"].object_list) == min(count + 1, 50)
        return len(captured.captured_queries)

    assert queries_for(4) == queries_for(49)


def test_a_registered_column_appears_with_one_call_per_page(org, owner, monkeypatch, login):
    MemberFactory.create_batch(3, organization=org)
    calls = []

    def values(organization, members):
        calls.append(len(members))
        return {member.pk: f"cell-{member.pk}" for member in members}

    monkeypatch.setattr(member_extensions, "DIRECTORY_COLUMNS", {})
    member_extensions.register_directory_column(
        "test",
        label="Test column",
        cell_template="credit/_credit_directory_cell.html",
        values=values,
        role=Role.ADMIN,
    )
    page = main_of(login(owner).get(directory_url(org)))
    assert "Test column" in page
    assert f"cell-{owner.pk}" in page
    assert calls == [4]
    finance = MemberFactory(organization=org, role=Role.FINANCE)
    assert "Test column" not in main_of(login(finance).get(directory_url(org)))


def test_a_registered_home_panel_is_shown_by_role(org, owner, monkeypatch, login):
    monkeypatch.setattr(organization_extensions, "HOME_PANELS", {})
    organization_extensions.register_home_panel(
        "test",
        template="credit/_credit_directory_cell.html",
        context=lambda request: {"seen": True},
        role=Role.OWNER,
    )
    client = login(owner)
    panels = client.get(home_url(org)).context["home_panels"]
    assert panels == [
        {"key": "test", "template": "credit/_credit_directory_cell.html", "context": {"seen": True}}
    ]
    admin = MemberFactory(organization=org, role=Role.ADMIN)
    assert login(admin).get(home_url(org)).context["home_panels"] == []


def test_the_details_page_shows_the_balance_and_a_way_to_manage_it(
    org, owner, admin, employee, spread, login
):
    page = main_of(login(admin).get(detail_url(employee)))
    assert "€30.00" in page
    assert "Manage credit" in page
    assert f'href="/o/{org.slug}/members/{employee.pk}/credit/"' in page


def test_finance_sees_the_balance_but_cannot_manage_it(
    org, owner, finance, employee, spread, login
):
    page = main_of(login(finance).get(detail_url(employee)))
    assert "€30.00" in page
    assert "Manage credit" not in page


def test_finance_members_an_owner_allowed_see_buy_credit(org, owner, finance, login):
    from credit.selectors.settings import credit_settings

    client = login(finance)
    before = snapshot(org)
    assert "credit/buy/" not in main_of(client.get(home_url(org)))
    assert snapshot(org) == before, "reading the pages writes nothing"
    credit_settings(org).purchasers.add(finance)
    assert f'href="/o/{org.slug}/credit/buy/"' in main_of(client.get(overview_url(org)))
    assert f'href="/o/{org.slug}/credit/buy/"' in main_of(client.get(home_url(org)))
