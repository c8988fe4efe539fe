"""My account: every member's own page, and leaving the organization from it."""

import pytest

from members.models import ListMembership
from members.services.lists import list_add_members
from organizations.models import AuditEvent, Member
from organizations.roles import Role
from tests.factories import MemberFactory, MemberListFactory
from tests.tenancy import snapshot


def account_url(org) -> str:
    return f"/o/{org.slug}/me/"


def leave_url(org) -> str:
    return f"/o/{org.slug}/me/leave/"


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize("role", list(Role))
def test_every_role_sees_their_own_page(org, owner, login, role):
    member = owner if role == Role.OWNER else MemberFactory(organization=org, role=role)
    member.job_title = "Sales representative"
    member.save()
    sales = MemberListFactory(organization=org, name="Sales team")
    list_add_members(organization=org, actor=owner, member_list=sales, members=[member])
    page = login(member).get(account_url(org)).content.decode()
    for text in (
        member.display_name,
        member.get_role_display(),
        "Sales representative",
        "Sales team",
        "Your sign-in",
        leave_url(org),
    ):
        assert text in page


def test_no_lists_yet(org, employee, login):
    assert "You are in no list." in login(employee).get(account_url(org)).content.decode()


def test_leaving_asks_first_then_leaves(org, owner, employee, login):
    sales = MemberListFactory(organization=org)
    list_add_members(organization=org, actor=owner, member_list=sales, members=[employee])
    client = login(employee)
    confirm = client.get(leave_url(org))
    assert confirm.status_code == 200
    assert f"Leave {org.name}?" in confirm.content.decode()
    assert Member.objects.for_org(org).get(pk=employee.pk).status == Member.Status.ACTIVE

    response = client.post(leave_url(org))
    assert response.status_code == 302
    assert response["Location"] == "/orgs/"
    # With no organization left, the person is offered to create one, and told what happened.
    landing = client.get("/orgs/", follow=True)
    assert f"You have left {org.name}." in messages_of(landing)
    member = Member.objects.for_org(org).get(pk=employee.pk)
    assert member.status == Member.Status.REMOVED
    assert member.removed_at is not None
    assert not ListMembership.objects.for_org(org).filter(member=employee).exists()
    assert AuditEvent.objects.for_org(org).filter(verb="member.left", actor=employee).exists()
    assert client.get(account_url(org)).status_code == 404


def test_the_last_owner_cannot_leave(org, owner, admin, login):
    client = login(owner)
    page = client.get(leave_url(org)).content.decode()
    assert "You are the last owner" in page
    assert 'method="post"' not in page.split('id="main"')[1].split("</main>")[0]
    before = snapshot(org)
    response = client.post(leave_url(org), follow=True)
    assert response.status_code == 200
    assert any("You are the last owner of Acme SARL" in text for text in messages_of(response))
    assert snapshot(org) == before


def test_an_owner_leaves_when_another_owner_stays(org, owner, login):
    MemberFactory(organization=org, role=Role.OWNER)
    client = login(owner)
    assert "You are the last owner" not in client.get(leave_url(org)).content.decode()
    client.post(leave_url(org))
    assert Member.objects.for_org(org).get(pk=owner.pk).status == Member.Status.REMOVED


def test_leaving_one_organization_keeps_the_others(org, other_org, employee, login):
    elsewhere = MemberFactory(organization=other_org, user=employee.user)
    client = login(employee)
    client.post(leave_url(org))
    assert client.get(account_url(other_org)).status_code == 200
    assert Member.objects.for_org(other_org).get(pk=elsewhere.pk).is_active
