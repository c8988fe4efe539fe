"""Members' monthly spending caps: set, changed, cleared, audited; refused where they make no
sense; and from the member's credit page."""

import pytest
from djmoney.money import Money

from credit.models import Account, Transfer
from credit.services.caps import member_spending_cap_set
from members.services.membership import member_remove
from organizations.models import AuditEvent
from skypemgr.errors import ApplicationError
from tests.factories import InvitationFactory
from tests.tenancy import snapshot


def eur(value) -> Money:
    return Money(value, "EUR")


def cap_of(org, member):
    return Account.objects.for_org(org).get(member=member).monthly_spending_cap


def events(org, verb) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_org(org).filter(verb=verb).order_by("pk"))


def page_url(member) -> str:
    return f"/o/{member.organization.slug}/members/{member.pk}/credit/"


def test_set_change_and_clear_a_cap_with_audit(org, admin, employee):
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap="50")
    assert cap_of(org, employee) == eur(50)
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap="50")
    assert len(events(org, "credit.cap_set")) == 1, "the same cap again records nothing"
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap=eur("75.5"))
    member_spending_cap_set(organization=org, actor=admin, member=employee, cap=None)
    assert cap_of(org, employee) is None
    changed = events(org, "credit.cap_set")[-1]
    assert (changed.actor, changed.target_id) == (admin, str(employee.pk))
    assert changed.data == {"cap": "75.5000", "previous": "50.0000", "currency": "EUR"}
    [cleared] = events(org, "credit.cap_cleared")
    assert cleared.data["previous"] == "75.5000"
    assert not Transfer.objects.for_org(org).exists(), "a cap moves no money"


@pytest.mark.parametrize("cap", ["0", "-1", "1.00001", "lots", Money(5, "USD")])
def test_bad_caps_are_refused(org, admin, employee, cap):
    with pytest.raises(ApplicationError) as refused:
        member_spending_cap_set(organization=org, actor=admin, member=employee, cap=cap)
    assert refused.value.field == "cap"
    assert not events(org, "credit.cap_set")


def test_only_owners_and_admins_set_caps(org, finance, employee):
    with pytest.raises(ApplicationError, match="Only owners and admins"):
        member_spending_cap_set(organization=org, actor=finance, member=employee, cap=10)


def test_no_cap_for_people_who_have_not_joined_or_have_left(org, owner, admin, employee):
    invited = InvitationFactory(organization=org).member
    with pytest.raises(ApplicationError, match="has not joined yet"):
        member_spending_cap_set(organization=org, actor=admin, member=invited, cap=10)
    assert not Account.objects.for_org(org).filter(member=invited).exists()
    member_remove(organization=org, actor=owner, member=employee)
    with pytest.raises(ApplicationError, match="former member"):
        member_spending_cap_set(organization=org, actor=admin, member=employee, cap=10)


def test_another_organizations_member_is_refused(org, admin, outsider):
    with pytest.raises(ApplicationError):
        member_spending_cap_set(organization=org, actor=admin, member=outsider, cap=10)


def test_the_cap_from_the_members_credit_page(org, admin, employee, login):
    client = login(admin)
    response = client.post(page_url(employee), {"action": "cap", "cap-cap": "40"})
    assert response.status_code == 302
    assert cap_of(org, employee) == eur(40)
    page = client.get(page_url(employee))
    assert page.context["cap_form"].initial == {"cap": eur(40)}
    assert 'value="40"' in page.content.decode()
    assert "Spends at most €40.00 a month." in page.content.decode()
    detail = client.get(f"/o/{org.slug}/members/{employee.pk}/").content.decode()
    assert "€40.00" in detail
    client.post(page_url(employee), {"action": "cap", "cap-cap": ""})
    assert cap_of(org, employee) is None
    assert [event.verb for event in AuditEvent.objects.for_org(org).order_by("pk")][-2:] == [
        "credit.cap_set",
        "credit.cap_cleared",
    ]


def test_a_bad_cap_on_the_page_is_a_field_error(org, admin, employee, login):
    before = snapshot(org)
    response = login(admin).post(page_url(employee), {"action": "cap", "cap-cap": "10 GBP"})
    assert response.status_code == 200
    assert "Amounts are in EUR here" in response.context["cap_form"].errors["cap"][0]
    assert snapshot(org) == before
