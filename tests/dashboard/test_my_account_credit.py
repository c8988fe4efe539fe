"""My account shows the member's own balance and only the movements of their own wallet."""

import pytest

from credit.services.allocation import credit_allocate, credit_take_back
from credit.services.caps import member_spending_cap_set
from credit.services.purchases import purchase_create, purchase_credit
from organizations.roles import Role
from tests.factories import MemberFactory


def account_url(org) -> str:
    return f"/o/{org.slug}/me/"


def main_of(response) -> str:
    return response.content.decode().split('id="main"')[1].split("</main>")[0]


@pytest.fixture
def funded(org, owner):
    purchase = purchase_create(organization=org, actor=owner, method="bank_transfer", amount=200)
    purchase_credit(purchase=purchase)


def test_a_member_sees_their_balance_and_their_own_movements(org, owner, employee, funded, login):
    colleague = MemberFactory(organization=org)
    credit_allocate(
        organization=org, actor=owner, members=[employee], amount="12.5", idempotency_key="a",
        memo="Welcome credit",
    )  # fmt: skip
    credit_allocate(
        organization=org, actor=owner, members=[colleague], amount=99, idempotency_key="b",
        memo="Colleague only",
    )  # fmt: skip
    credit_take_back(
        organization=org, actor=owner, members=[employee], amount=2, idempotency_key="c"
    )
    member_spending_cap_set(organization=org, actor=owner, member=employee, cap=30)
    response = login(employee).get(account_url(org))
    assert response.status_code == 200
    movements = list(response.context["movements"].object_list)
    assert [(t.kind, t.direction) for t in movements] == [("take_back", -1), ("allocation", 1)]
    page = main_of(response)
    for text in (
        "Your credit",
        "€10.50",
        "+€12.50",
        "\N{MINUS SIGN}€2.00",
        "Welcome credit",
        "€30.00",
    ):
        assert text in page
    assert "Colleague only" not in page
    assert "€99.00" not in page
    assert "€198.00" not in page, "the company balance is not an employee's business"


def test_a_member_with_no_credit_yet(org, employee, login):
    page = main_of(login(employee).get(account_url(org)))
    assert "€0.00" in page
    assert "No credit has moved in or out of your balance yet." in page


def test_twenty_movements_a_page(org, owner, employee, funded, login):
    for n in range(25):
        credit_allocate(
            organization=org, actor=owner, members=[employee], amount=1, idempotency_key=f"k{n}"
        )
    client = login(employee)
    first = client.get(account_url(org))
    assert len(first.context["movements"].object_list) == 20
    second = client.get(account_url(org), {"page": 2})
    assert len(second.context["movements"].object_list) == 5
    assert client.get(account_url(org), {"page": "x"}).status_code == 200


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_their_own_credit(org, owner, funded, login, role):
    member = owner if role == Role.OWNER else MemberFactory(organization=org, role=role)
    credit_allocate(organization=org, actor=owner, members=[member], amount=3, idempotency_key="r")
    assert "€3.00" in main_of(login(member).get(account_url(org)))
