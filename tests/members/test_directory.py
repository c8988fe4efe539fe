"""The member directory (search, filters, sort, pages, bulk actions) and member details."""

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from members.models import Invitation, ListMembership
from members.services.lists import list_add_members
from members.services.membership import member_remove
from organizations.models import AuditEvent, Member
from organizations.roles import Role
from tests.factories import InvitationFactory, MemberFactory, MemberListFactory
from tests.tenancy import snapshot

Status = Member.Status
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def directory_url(org) -> str:
    return f"/o/{org.slug}/members/"


def bulk_url(org) -> str:
    return f"/o/{org.slug}/members/bulk/"


def detail_url(member) -> str:
    return f"/o/{member.organization.slug}/members/{member.pk}/"


def shown(response) -> list[Member]:
    return list(response.context["page"].object_list)


def names(response) -> list[str]:
    return [member.display_name for member in shown(response)]


def reload(member) -> Member:
    return Member.objects.for_org(member.organization).get(pk=member.pk)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- Reading ------------------------------------------------------------------------------------


def test_120_members_in_pages_of_50(org, owner, login):
    MemberFactory.create_batch(120, organization=org)
    client = login(owner)
    sizes = [len(shown(client.get(directory_url(org), {"page": n}))) for n in (1, 2, 3)]
    assert sizes == [50, 50, 21]
    page = client.get(directory_url(org), {"page": 2, "role": "member"})
    assert page.context["page"].paginator.count == 120
    assert "role=member" in page.content.decode().split('rel="next"')[0].rsplit("href=", 1)[1]


def test_sorted_by_name_role_status_and_date(org, owner, login):
    today = timezone.now()
    MemberFactory(organization=org, display_name="bruno", role=Role.FINANCE, joined_at=today)
    MemberFactory(
        organization=org,
        display_name="Alice",
        role=Role.ADMIN,
        status=Status.SUSPENDED,
        joined_at=today - datetime.timedelta(days=3),
    )
    MemberFactory(
        organization=org, display_name="Chloé", joined_at=today - datetime.timedelta(days=1)
    )
    owner.display_name = "Zed"
    owner.joined_at = today - datetime.timedelta(days=10)
    owner.save()
    client = login(owner)

    def order(sort):
        return names(client.get(directory_url(org), {"sort": sort}))

    assert order("name") == ["Alice", "bruno", "Chloé", "Zed"]
    assert order("-name") == ["Zed", "Chloé", "bruno", "Alice"]
    assert order("role") == ["Zed", "Alice", "bruno", "Chloé"]
    assert order("-role") == ["Chloé", "bruno", "Alice", "Zed"]
    assert order("status")[-1] == "Alice"
    assert order("joined") == ["Zed", "Alice", "Chloé", "bruno"]
    assert order("-joined") == ["bruno", "Chloé", "Alice", "Zed"]
    assert order("; DROP TABLE") == order("name")


def test_invited_people_sort_by_their_address_and_come_last_by_date(org, owner, login):
    invited = InvitationFactory(organization=org, address="0first@example.com").member
    client = login(owner)
    assert shown(client.get(directory_url(org), {"sort": "name"}))[0] == invited
    assert shown(client.get(directory_url(org), {"sort": "-joined"}))[-1] == invited


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("quorv", ["Alice Quorvane"]),
        ("QUORVANE", ["Alice Quorvane"]),
        ("bruno@acme", ["Bruno Xelnaga"]),
        ("xylo", ["Chloé Xylophane"]),
        ("+33 6 12 34 56 78", ["Alice Quorvane"]),
        ("06 12 34 56 78", ["Alice Quorvane"]),
        ("0612", ["Alice Quorvane"]),
        ("12 34", ["Alice Quorvane"]),
        ("dubois_c", ["Chloé Xylophane"]),
        ("nobody", []),
    ],
)
def test_search(org, owner, login, q, found):
    # Names no fake person has, so that the other members never match.
    MemberFactory(organization=org, display_name="Alice Quorvane", phone="+33612345678")
    MemberFactory(organization=org, display_name="Bruno Xelnaga", email="bruno@acme.example")
    MemberFactory(organization=org, display_name="Chloé Xylophane", username="dubois_c")
    assert names(login(owner).get(directory_url(org), {"q": q})) == found


def test_filters(org, owner, login):
    sales = MemberListFactory(organization=org, name="Sales")
    alice = MemberFactory(organization=org, display_name="Alice", department="Sales")
    bruno = MemberFactory(
        organization=org, display_name="Bruno", role=Role.FINANCE, department="finance"
    )
    MemberFactory(organization=org, display_name="Bea", role=Role.FINANCE, department="FINANCE")
    MemberFactory(organization=org, display_name="Chloé", status=Status.SUSPENDED)
    MemberFactory(organization=org, display_name="Gone", status=Status.REMOVED)
    list_add_members(organization=org, actor=owner, member_list=sales, members=[alice, bruno])
    client = login(owner)

    def filtered(**query):
        return sorted(names(client.get(directory_url(org), query)))

    everyone = filtered()
    assert "Gone" not in everyone
    assert {"Alice", "Bruno", "Chloé"} <= set(everyone)
    assert filtered(status="removed") == ["Gone"]
    assert filtered(status="suspended") == ["Chloé"]
    assert filtered(role="finance") == ["Bea", "Bruno"]
    assert filtered(list=str(sales.pk)) == ["Alice", "Bruno"]
    # One choice per department whatever the case, and it finds every spelling.
    departments = client.get(directory_url(org)).context["form"].fields["department"].choices
    assert [value for value, _label in departments] == ["", "FINANCE", "Sales"]
    assert filtered(department="FINANCE") == ["Bea", "Bruno"]
    assert filtered(department="Sales") == ["Alice"]
    assert filtered(list=str(sales.pk), role="finance") == ["Bruno"]


def test_joined_dates_are_days_in_the_organizations_time_zone(org, owner, login):
    def at(day, hour):
        return datetime.datetime(2026, 3, day, hour, tzinfo=PARIS)

    MemberFactory(organization=org, display_name="First", joined_at=at(1, 0))
    MemberFactory(organization=org, display_name="Middle", joined_at=at(10, 12))
    MemberFactory(organization=org, display_name="Last", joined_at=at(20, 23))
    client = login(owner)

    def joined(**query):
        return sorted(names(client.get(directory_url(org), query)))

    assert joined(joined_from="2026-03-01", joined_to="2026-03-20") == ["First", "Last", "Middle"]
    assert joined(joined_from="2026-03-02", joined_to="2026-03-20") == ["Last", "Middle"]
    assert joined(joined_from="2026-03-01", joined_to="2026-03-19") == ["First", "Middle"]


def test_bad_filters_are_shown_and_ignored(org, owner, other_org, login):
    foreign = MemberListFactory(organization=other_org)
    response = login(owner).get(
        directory_url(org),
        {"role": "king", "list": str(foreign.pk), "joined_from": "soon", "page": "x"},
    )
    assert response.status_code == 200
    assert shown(response) == [owner]
    assert set(response.context["form"].errors) == {"role", "list", "joined_from", "page"}


def test_the_page_shows_each_members_details(org, owner, login):
    sales = MemberListFactory(organization=org, name="Sales")
    alice = MemberFactory(
        organization=org,
        display_name="Alice",
        email="alice@example.com",
        phone="+33612345678",
        department="Marketing",
        role=Role.FINANCE,
    )
    list_add_members(organization=org, actor=owner, member_list=sales, members=[alice])
    page = login(owner).get(directory_url(org)).content.decode()
    for text in (
        detail_url(alice),
        "alice@example.com",
        "+33612345678",
        "Finance",
        "Active",
        f"/o/{org.slug}/lists/{sales.pk}/",
        "Marketing",
        f"/o/{org.slug}/members/invite/",
        f"/o/{org.slug}/members/import/",
        f"/o/{org.slug}/lists/",
    ):
        assert text in page


def test_finance_reads_without_bulk_actions_and_members_are_refused(org, finance, login):
    page = login(finance).get(directory_url(org))
    assert page.status_code == 200
    assert 'name="members"' not in page.content.decode()
    assert "bulk_form" not in page.context
    employee = MemberFactory(organization=org, role=Role.MEMBER)
    assert login(employee).get(directory_url(org)).status_code == 403


def test_empty_states(org, owner, login):
    client = login(owner)
    alone = client.get(directory_url(org)).content.decode()
    assert "You are the only member so far" in alone
    none = client.get(directory_url(org), {"q": "nobody"}).content.decode()
    assert "No member matches these filters." in none
    assert "Clear filters" in none


def test_a_former_member_shows_as_such(org, owner, employee, login):
    sales = MemberListFactory(organization=org, name="Sales")
    list_add_members(organization=org, actor=owner, member_list=sales, members=[employee])
    member_remove(organization=org, actor=owner, member=employee)
    client = login(owner)
    assert employee not in shown(client.get(directory_url(org)))
    former = client.get(directory_url(org), {"status": "removed"})
    assert shown(former) == [employee]
    assert "Former member" in former.content.decode()
    assert shown(client.get(directory_url(org), {"list": sales.pk, "status": "removed"})) == []
    details = client.get(detail_url(employee)).content.decode()
    assert "This is a former member" in details
    assert "Left on" in details


# --- Bulk actions -------------------------------------------------------------------------------


def test_destructive_bulk_actions_ask_first(org, admin, login):
    people = MemberFactory.create_batch(2, organization=org)
    client = login(admin)
    before = snapshot(org)
    posted = {"members": [p.pk for p in people], "action": "suspend", "return_query": "q=a"}
    confirm = client.post(bulk_url(org), posted)
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "Suspend 2 members?" in page
    for person in people:
        assert person.display_name in page
    assert snapshot(org) == before

    done = client.post(bulk_url(org), {**posted, "confirm": "1"})
    assert done.status_code == 302
    assert done["Location"] == f"{directory_url(org)}?q=a"
    assert {reload(person).status for person in people} == {Status.SUSPENDED}
    assert "2 members suspended." in messages_of(client.get(done["Location"]))


def test_bulk_change_role_and_remove(org, owner, login):
    people = MemberFactory.create_batch(2, organization=org)
    client = login(owner)
    ids = [p.pk for p in people]
    client.post(bulk_url(org), {"members": ids, "action": "change_role", "role": "finance"})
    assert {reload(p).role for p in people} == {Role.MEMBER}
    client.post(
        bulk_url(org),
        {"members": ids, "action": "change_role", "role": "finance", "confirm": "1"},
    )
    assert {reload(p).role for p in people} == {Role.FINANCE}
    client.post(bulk_url(org), {"members": ids, "action": "remove", "confirm": "1"})
    assert {reload(p).status for p in people} == {Status.REMOVED}


def test_adding_to_a_list_needs_no_confirmation(org, admin, login):
    people = MemberFactory.create_batch(3, organization=org)
    sales = MemberListFactory(organization=org, name="Sales")
    client = login(admin)
    response = client.post(
        bulk_url(org),
        {"members": [p.pk for p in people], "action": "add_to_list", "member_list": sales.pk},
        follow=True,
    )
    assert "3 members added to Sales." in messages_of(response)
    assert ListMembership.objects.for_org(org).filter(member_list=sales).count() == 3
    response = client.post(
        bulk_url(org),
        {"members": [people[0].pk], "action": "remove_from_list", "member_list": sales.pk},
        follow=True,
    )
    assert "1 member taken out of Sales." in messages_of(response)


def test_bulk_refusal_changes_nothing_and_says_who_and_why(org, admin, login):
    people = MemberFactory.create_batch(2, organization=org)
    boss = MemberFactory(organization=org, role=Role.OWNER, display_name="Big Boss")
    client = login(admin)
    before = snapshot(org)
    response = client.post(
        bulk_url(org),
        {"members": [*(p.pk for p in people), boss.pk], "action": "suspend", "confirm": "1"},
        follow=True,
    )
    assert response.status_code == 200
    (message,) = messages_of(response)
    assert message.startswith("Nothing was changed.")
    assert "Big Boss: Only owners suspend" in message
    assert snapshot(org) == before


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({"action": "suspend", "confirm": "1"}, "Select at least one member."),
        ({"members": "SELF", "action": "explode"}, "Choose an action from the list."),
        ({"members": "SELF", "action": ""}, "Choose an action."),
        ({"members": "SELF", "action": "change_role"}, "Choose the new role."),
        ({"members": "SELF", "action": "add_to_list"}, "Choose a list."),
        ({"members": "abc", "action": "suspend"}, "not found"),
        ({"members": "OUTSIDER", "action": "suspend", "confirm": "1"}, "not found"),
        ({"members": "999999", "action": "remove", "confirm": "1"}, "not found"),
        ({"members": "SELF", "action": "add_to_list", "member_list": "FOREIGN"}, "not found"),
    ],
)
def test_bad_bulk_input_is_a_message_not_an_error(
    org, admin, employee, outsider, other_org, login, posted, message
):
    foreign_list = MemberListFactory(organization=other_org)
    fill = {"SELF": employee.pk, "OUTSIDER": outsider.pk, "FOREIGN": foreign_list.pk}
    data = {key: fill.get(value, value) for key, value in posted.items()}
    if "members" in data:
        data["members"] = [employee.pk, data["members"]]
    before, before_other = snapshot(org), snapshot(other_org)
    response = login(admin).post(bulk_url(org), data, follow=True)
    assert response.status_code == 200
    shown = messages_of(response)
    assert any(message in text for text in shown), (shown, response.redirect_chain)
    assert snapshot(org) == before
    assert snapshot(other_org) == before_other


def test_bulk_actions_take_only_posts(org, admin, login):
    assert login(admin).get(bulk_url(org)).status_code == 405


def test_finance_cannot_bulk(org, finance, employee, login):
    before = snapshot(org)
    response = login(finance).post(
        bulk_url(org), {"members": [employee.pk], "action": "suspend", "confirm": "1"}
    )
    assert response.status_code == 403
    assert snapshot(org) == before


# --- Details ------------------------------------------------------------------------------------


def test_details_show_profile_lists_and_invitations(org, admin, login):
    invitation = InvitationFactory(organization=org, address="newbie@example.com")
    member = invitation.member
    older = InvitationFactory(
        organization=org, address="old@example.com", member=member, status="expired"
    )
    Invitation.objects.for_org(org).filter(pk=older.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=40)
    )
    sales = MemberListFactory(organization=org, name="Sales")
    list_add_members(organization=org, actor=admin, member_list=sales, members=[member])
    response = login(admin).get(detail_url(member))
    assert response.status_code == 200
    page = response.content.decode()
    assert list(response.context["invitations"]) == [invitation, older]
    for text in (
        "newbie@example.com",
        "old@example.com",
        "Expired",
        "Pending",
        f"/o/{org.slug}/lists/{sales.pk}/",
        "Edit profile",
        "This person has been invited",
    ):
        assert text in page


def test_finance_reads_details_without_forms(org, finance, employee, login):
    response = login(finance).get(detail_url(employee))
    assert response.status_code == 200
    page = response.content.decode()
    assert employee.display_name in page
    assert "<form" not in page.split('id="main"')[1]
    before = snapshot(org)
    assert login(finance).post(detail_url(employee), {"display_name": "X"}).status_code == 403
    assert snapshot(org) == before


def test_another_organizations_member_is_404(org, admin, outsider, login):
    client = login(admin)
    before = snapshot(outsider.organization)
    for suffix in ("", "role/", "status/", "lists/"):
        assert client.get(f"{detail_url(outsider)}{suffix}").status_code == 404
        assert client.post(f"{detail_url(outsider)}{suffix}", {}).status_code == 404
    assert snapshot(outsider.organization) == before


def test_edit_profile(org, admin, employee, login):
    client = login(admin)
    response = client.post(
        detail_url(employee),
        {
            "display_name": "Chloé Dubois",
            "phone": "06 12 34 56 78",
            "job_title": "Sales lead",
            "department": "Sales",
        },
    )
    assert response.status_code == 302
    member = reload(employee)
    assert (member.display_name, str(member.phone), member.department) == (
        "Chloé Dubois",
        "+33612345678",
        "Sales",
    )
    assert AuditEvent.objects.for_org(org).filter(verb="member.profile_updated").count() == 1


def test_edit_profile_errors_stay_on_the_form(org, admin, employee, login):
    before = snapshot(org)
    response = login(admin).post(
        detail_url(employee), {"display_name": "", "phone": "12", "job_title": "x" * 101}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter the member&#x27;s name." in page
    assert "Enter a valid mobile number" in page
    assert "<details open>" in page
    assert snapshot(org) == before


def test_change_role_from_details(org, owner, admin, employee, login):
    response = login(owner).post(f"{detail_url(employee)}role/", {"role": "admin"}, follow=True)
    assert reload(employee).role == Role.ADMIN
    assert any("is now Admin" in text for text in messages_of(response))
    before = snapshot(org)
    response = login(admin).post(f"{detail_url(owner)}role/", {"role": "member"}, follow=True)
    assert "Only owners make or unmake owners and admins." in messages_of(response)
    response = login(owner).post(f"{detail_url(employee)}role/", {"role": "pope"}, follow=True)
    assert "Choose a role." in messages_of(response)
    assert snapshot(org) == before


def test_lists_from_details(org, admin, employee, login):
    sales = MemberListFactory(organization=org, name="Sales")
    support = MemberListFactory(organization=org, name="Support")
    client = login(admin)
    client.post(f"{detail_url(employee)}lists/", {"lists": [sales.pk, support.pk]})
    in_lists = ListMembership.objects.for_org(org).filter(member=employee)
    assert set(in_lists.values_list("member_list_id", flat=True)) == {sales.pk, support.pk}
    client.post(f"{detail_url(employee)}lists/", {"lists": [support.pk]})
    assert set(in_lists.values_list("member_list_id", flat=True)) == {support.pk}
    client.post(f"{detail_url(employee)}lists/", {})
    assert not in_lists.exists()


def test_status_asks_first_then_applies(org, admin, employee, login):
    client = login(admin)
    confirm = client.get(f"{detail_url(employee)}status/", {"action": "suspend"})
    assert confirm.status_code == 200
    assert f"Suspend {employee.display_name}?" in confirm.content.decode()
    assert reload(employee).status == Status.ACTIVE
    response = client.post(f"{detail_url(employee)}status/", {"action": "suspend"}, follow=True)
    assert reload(employee).status == Status.SUSPENDED
    assert f"{employee.display_name} is suspended." in messages_of(response)
    client.post(f"{detail_url(employee)}status/", {"action": "reactivate"})
    assert reload(employee).status == Status.ACTIVE
    client.post(f"{detail_url(employee)}status/", {"action": "remove"})
    assert reload(employee).status == Status.REMOVED


def test_status_refusals_are_messages(org, owner, admin, login):
    client = login(admin)
    before = snapshot(org)
    response = client.post(f"{detail_url(owner)}status/", {"action": "remove"}, follow=True)
    assert "Only owners suspend, reactivate or remove owners and admins." in messages_of(response)
    response = client.post(f"{detail_url(admin)}status/", {"action": "suspend"}, follow=True)
    assert "You cannot suspend yourself." in messages_of(response)
    response = client.post(f"{detail_url(admin)}status/", {"action": "fly"}, follow=True)
    assert "Choose what to do." in messages_of(response)
    page = client.get(f"{detail_url(admin)}status/").content.decode()
    assert "You cannot suspend or remove yourself" in page
    assert snapshot(org) == before
