"""Lists of members: the services' rules, and the pages that create, fill, rename and delete."""

import pytest

from members.models import ListMembership, MemberList
from members.services.lists import (
    list_add_members,
    list_create,
    list_delete,
    list_remove_members,
    list_rename,
)
from members.services.membership import member_remove
from organizations.models import AuditEvent, Member
from skypemgr.errors import ApplicationError
from tests.factories import InvitationFactory, MemberFactory, MemberListFactory
from tests.tenancy import snapshot


def lists_url(org) -> str:
    return f"/o/{org.slug}/lists/"


def list_url(member_list) -> str:
    return f"/o/{member_list.organization.slug}/lists/{member_list.pk}/"


def names_in(member_list) -> set[str]:
    return set(
        ListMembership.objects.for_org(member_list.organization)
        .filter(member_list=member_list)
        .values_list("member__display_name", flat=True)
    )


def verbs(org) -> list[str]:
    return list(AuditEvent.objects.for_org(org).order_by("id").values_list("verb", flat=True))


def refused(org, match, service, **kwargs):
    before = snapshot(org)
    with pytest.raises(ApplicationError, match=match):
        service(organization=org, **kwargs)
    assert snapshot(org) == before


# --- Services -----------------------------------------------------------------------------------


def test_create_rename_delete(org, admin, employee):
    sales = list_create(organization=org, actor=admin, name="  Sales   team ")
    assert sales.name == "Sales team"
    list_add_members(organization=org, actor=admin, member_list=sales, members=[employee])
    list_rename(organization=org, actor=admin, member_list=sales, name="Sales")
    assert MemberList.objects.for_org(org).get().name == "Sales"
    list_delete(organization=org, actor=admin, member_list=sales)
    assert not MemberList.objects.for_org(org).exists()
    assert not ListMembership.objects.for_org(org).exists()
    assert Member.objects.for_org(org).get(pk=employee.pk).status == Member.Status.ACTIVE
    assert verbs(org) == ["list.created", "list.member_added", "list.renamed", "list.deleted"]
    deleted = AuditEvent.objects.for_org(org).get(verb="list.deleted")
    assert deleted.data == {"name": "Sales", "members": 1}
    renamed = AuditEvent.objects.for_org(org).get(verb="list.renamed")
    assert renamed.data == {"from": "Sales team", "to": "Sales"}


@pytest.mark.parametrize("name", ["Sales", "sales", " SALES "])
def test_names_are_unique_whatever_their_case(org, admin, name):
    MemberListFactory(organization=org, name="Sales")
    refused(org, "already a list called", list_create, actor=admin, name=name)


def test_rename_to_another_lists_name_is_refused(org, admin):
    MemberListFactory(organization=org, name="Sales")
    support = MemberListFactory(organization=org, name="Support")
    refused(org, "already a list", list_rename, actor=admin, member_list=support, name="SALES")


def test_rename_changing_only_the_case_is_allowed(org, admin):
    sales = MemberListFactory(organization=org, name="sales")
    list_rename(organization=org, actor=admin, member_list=sales, name="Sales")
    assert MemberList.objects.for_org(org).get().name == "Sales"


def test_the_same_name_in_another_organization_is_fine(org, admin, other_org):
    MemberListFactory(organization=other_org, name="Sales")
    assert list_create(organization=org, actor=admin, name="Sales").name == "Sales"


@pytest.mark.parametrize(("name", "message"), [("   ", "Enter a name"), ("x" * 101, "100")])
def test_bad_names_are_refused(org, admin, name, message):
    refused(org, message, list_create, actor=admin, name=name)


def test_finance_and_members_do_not_manage_lists(org, finance, employee):
    sales = MemberListFactory(organization=org)
    for actor in (finance, employee):
        refused(org, "Only owners and admins", list_create, actor=actor, name="X")
        refused(org, "Only owners and admins", list_delete, actor=actor, member_list=sales)
        refused(
            org,
            "Only owners and admins",
            list_add_members,
            actor=actor,
            member_list=sales,
            members=[employee],
        )


def test_add_and_remove_members(org, admin):
    people = MemberFactory.create_batch(3, organization=org)
    invited = InvitationFactory(organization=org).member
    sales = MemberListFactory(organization=org)
    added = list_add_members(
        organization=org, actor=admin, member_list=sales, members=[*people, invited]
    )
    assert len(added) == 4
    assert list_add_members(organization=org, actor=admin, member_list=sales, members=people) == []
    removed = list_remove_members(
        organization=org, actor=admin, member_list=sales, members=people[:2]
    )
    assert removed == people[:2]
    assert names_in(sales) == {people[2].display_name, invited.display_name}
    event = AuditEvent.objects.for_org(org).get(verb="list.member_added")
    assert [entry["id"] for entry in event.data["members"]] == [
        member.pk for member in [*people, invited]
    ]


def test_members_of_another_organization_are_never_added(org, admin, outsider, other_org):
    sales = MemberListFactory(organization=org)
    mine = MemberFactory(organization=org)
    refused(
        org,
        "not found",
        list_add_members,
        actor=admin,
        member_list=sales,
        members=[mine, outsider],
    )
    foreign_list = MemberListFactory(organization=other_org)
    refused(
        org,
        "not found",
        list_add_members,
        actor=admin,
        member_list=foreign_list,
        members=[mine],
    )
    assert not ListMembership.objects.for_org(other_org).exists()


def test_a_removed_member_is_in_no_list_and_cannot_be_put_back(org, admin, employee):
    sales = MemberListFactory(organization=org)
    list_add_members(organization=org, actor=admin, member_list=sales, members=[employee])
    member_remove(organization=org, actor=admin, member=employee)
    assert names_in(sales) == set()
    refused(
        org,
        "Former members",
        list_add_members,
        actor=admin,
        member_list=sales,
        members=[employee],
    )


# --- Pages --------------------------------------------------------------------------------------


def test_the_index_shows_lists_with_their_counts(org, admin, login):
    sales = MemberListFactory(organization=org, name="Sales")
    MemberListFactory(organization=org, name="Support")
    list_add_members(
        organization=org,
        actor=admin,
        member_list=sales,
        members=MemberFactory.create_batch(2, organization=org),
    )
    page = login(admin).get(lists_url(org))
    assert page.status_code == 200
    rows = page.content.decode()
    assert "Sales" in rows
    assert "Support" in rows
    assert [(row.name, row.member_count) for row in page.context["lists"]] == [
        ("Sales", 2),
        ("Support", 0),
    ]
    assert "Create a list" in rows


def test_finance_reads_lists_without_forms(org, finance, login):
    sales = MemberListFactory(organization=org, name="Sales")
    client = login(finance)
    index = client.get(lists_url(org)).content.decode()
    assert "Sales" in index
    assert "Create a list" not in index
    detail = client.get(list_url(sales)).content.decode()
    assert "Add members" not in detail
    assert "Delete list" not in detail
    assert client.post(lists_url(org), {"name": "Finance"}).status_code == 403
    assert MemberList.objects.for_org(org).count() == 1


def test_create_from_the_index(org, admin, login):
    response = login(admin).post(lists_url(org), {"name": "Sales"})
    sales = MemberList.objects.for_org(org).get()
    assert response.status_code == 302
    assert response["Location"] == list_url(sales)


def test_a_duplicate_name_is_shown_on_the_form(org, admin, login):
    MemberListFactory(organization=org, name="Sales")
    response = login(admin).post(lists_url(org), {"name": "SALES"})
    assert response.status_code == 200
    assert "There is already a list called" in response.content.decode()
    assert MemberList.objects.for_org(org).count() == 1


def test_empty_index(org, admin, login):
    assert "No lists yet." in login(admin).get(lists_url(org)).content.decode()


def test_add_rename_and_take_out_on_the_list_page(org, admin, login):
    alice, bruno = (
        MemberFactory(organization=org, display_name=name) for name in ("Alice", "Bruno")
    )
    MemberFactory(organization=org, display_name="Gone", status=Member.Status.REMOVED)
    sales = MemberListFactory(organization=org, name="Sales")
    client = login(admin)

    page = client.get(list_url(sales)).content.decode()
    assert f'value="{alice.pk}"' in page
    assert "Gone" not in page
    assert "Nobody is in this list yet." in page

    response = client.post(
        list_url(sales), {"action": "add", "members": [str(alice.pk), str(bruno.pk)]}
    )
    assert response.status_code == 302
    assert names_in(sales) == {"Alice", "Bruno"}

    response = client.post(list_url(sales), {"action": "remove", "member": str(alice.pk)})
    assert response.status_code == 302
    assert names_in(sales) == {"Bruno"}

    response = client.post(list_url(sales), {"action": "rename", "name": "Sales EMEA"})
    assert response.status_code == 302
    assert MemberList.objects.for_org(org).get().name == "Sales EMEA"


def test_the_list_page_search_finds_people_to_add(org, admin, login):
    MemberFactory(organization=org, display_name="Alice Martin")
    MemberFactory(organization=org, display_name="Bruno Lefèvre")
    sales = MemberListFactory(organization=org)
    page = login(admin).get(list_url(sales), {"q": "alice"}).content.decode()
    assert "Alice Martin" in page
    assert "Bruno Lefèvre" not in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"q": "ali\x00ce"}, "Null characters are not allowed."),
        ({"q": "a" * 10_000}, "Ensure this value has at most 100 characters"),
        ({"q": "alice", "page": "\x00"}, ""),
        ({"page": "9" * 40}, ""),
    ],
)
def test_an_odd_query_on_the_list_page_is_ignored_with_a_reason(org, admin, login, query, message):
    MemberFactory(organization=org, display_name="Alice Martin")
    sales = MemberListFactory(organization=org)
    response = login(admin).get(list_url(sales), query)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Alice Martin" in page
    assert message in page


def test_list_page_refusals_change_nothing(org, admin, outsider, login):
    sales = MemberListFactory(organization=org, name="Sales")
    MemberListFactory(organization=org, name="Support")
    client = login(admin)
    before = snapshot(org)
    response = client.post(list_url(sales), {"action": "add", "members": [str(outsider.pk)]})
    assert response.status_code == 200
    assert "not found" in response.content.decode()
    response = client.post(list_url(sales), {"action": "add"})
    assert "Select at least one member to add." in response.content.decode()
    response = client.post(list_url(sales), {"action": "rename", "name": "support"})
    assert response.status_code == 200
    assert "There is already a list called" in response.content.decode()
    response = client.post(list_url(sales), {"action": "remove", "member": str(outsider.pk)})
    assert response.status_code == 302
    response = client.post(list_url(sales), {"action": "explode"}, follow=True)
    assert "Choose what to do with the list." in response.content.decode()
    assert snapshot(org) == before


def test_delete_asks_first_and_members_stay(org, admin, employee, login):
    sales = MemberListFactory(organization=org, name="Sales")
    list_add_members(organization=org, actor=admin, member_list=sales, members=[employee])
    client = login(admin)
    confirm = client.get(f"{list_url(sales)}delete/")
    assert confirm.status_code == 200
    assert "Its 1 member stays in the organization" in confirm.content.decode()
    assert MemberList.objects.for_org(org).exists()
    response = client.post(f"{list_url(sales)}delete/")
    assert response["Location"] == lists_url(org)
    assert not MemberList.objects.for_org(org).exists()
    assert Member.objects.for_org(org).get(pk=employee.pk).status == Member.Status.ACTIVE


def test_another_organizations_list_is_404(org, admin, other_org, login):
    foreign = MemberListFactory(organization=other_org)
    client = login(admin)
    url = f"/o/{org.slug}/lists/{foreign.pk}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "rename", "name": "Mine"}).status_code == 404
    assert client.post(f"{url}delete/").status_code == 404
    assert MemberList.objects.for_org(other_org).get().name == foreign.name
