"""Managing memberships: roles, suspension, removal, leaving, profiles and bulk actions.

Every refusal checks that nothing changed: the members' rows, their lists and the audit trail.
"""

import threading

import pytest
from django.db import connection

from members.models import ListMembership
from members.services.lists import list_add_members
from members.services.membership import (
    BulkAction,
    member_change_role,
    member_leave,
    member_reactivate,
    member_remove,
    member_set_lists,
    member_suspend,
    member_update_profile,
    members_bulk_apply,
)
from organizations.models import AuditEvent, Member
from organizations.roles import Role
from skypemgr.errors import ApplicationError, NotFoundError, PermissionDeniedError
from tests.factories import InvitationFactory, MemberFactory, MemberListFactory
from tests.tenancy import snapshot

Status = Member.Status


def reload(member: Member) -> Member:
    return Member.objects.for_org(member.organization).get(pk=member.pk)


def events(org, verb: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.for_org(org).order_by("id")
    return list(found.filter(verb=verb) if verb else found)


def refused(org, match: str, service, **kwargs) -> ApplicationError:
    """Call a service that must refuse, and check that it changed nothing."""
    before = snapshot(org)
    with pytest.raises(ApplicationError, match=match) as info:
        service(organization=org, **kwargs)
    assert snapshot(org) == before
    return info.value


# --- Roles --------------------------------------------------------------------------------------


def test_owner_makes_a_member_admin_and_it_is_recorded(org, owner, employee):
    member = member_change_role(organization=org, actor=owner, member=employee, role=Role.ADMIN)
    assert member.role == reload(employee).role == Role.ADMIN
    (event,) = events(org, "member.role_changed")
    assert (event.actor, event.target_id) == (owner, str(employee.pk))
    assert event.data == {"from": "member", "to": "admin"}


def test_admin_changes_roles_below_admin(org, admin, employee):
    member_change_role(organization=org, actor=admin, member=employee, role=Role.FINANCE)
    assert reload(employee).role == Role.FINANCE


@pytest.mark.parametrize(
    ("target_role", "new_role"),
    [
        (Role.MEMBER, Role.ADMIN),
        (Role.MEMBER, Role.OWNER),
        (Role.ADMIN, Role.MEMBER),
        (Role.OWNER, Role.ADMIN),
    ],
)
def test_only_owners_make_or_unmake_owners_and_admins(org, owner, admin, target_role, new_role):
    target = MemberFactory(organization=org, role=target_role)
    refused(
        org,
        "Only owners make or unmake owners and admins",
        member_change_role,
        actor=admin,
        member=target,
        role=new_role,
    )


def test_admin_cannot_promote_themself(org, owner, admin):
    refused(org, "Only owners", member_change_role, actor=admin, member=admin, role=Role.OWNER)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE, Role.MEMBER])
def test_the_last_owner_cannot_step_down(org, owner, role):
    error = refused(
        org, "last active owner", member_change_role, actor=owner, member=owner, role=role
    )
    assert error.code == "last_owner"


def test_an_owner_steps_down_when_another_owner_stays(org, owner):
    second = MemberFactory(organization=org, role=Role.OWNER)
    member_change_role(organization=org, actor=owner, member=owner, role=Role.ADMIN)
    assert (reload(owner).role, reload(second).role) == (Role.ADMIN, Role.OWNER)


def test_a_suspended_owner_does_not_count_as_the_one_that_stays(org, owner):
    MemberFactory(organization=org, role=Role.OWNER, status=Status.SUSPENDED)
    refused(org, "last active owner", member_change_role, actor=owner, member=owner, role="admin")


def test_the_same_role_again_changes_and_records_nothing(org, owner, employee):
    member_change_role(organization=org, actor=owner, member=employee, role=Role.MEMBER)
    assert events(org) == []


def test_an_unknown_role_is_refused(org, owner, employee):
    refused(org, "Choose a role", member_change_role, actor=owner, member=employee, role="boss")


@pytest.mark.parametrize("role", [Role.FINANCE, Role.MEMBER])
def test_finance_and_members_manage_nobody(org, owner, employee, role):
    actor = MemberFactory(organization=org, role=role)
    error = refused(
        org,
        "Only owners and admins",
        member_change_role,
        actor=actor,
        member=employee,
        role="finance",
    )
    assert isinstance(error, PermissionDeniedError)
    refused(org, "Only owners and admins", member_suspend, actor=actor, member=employee)


def test_a_suspended_admin_manages_nobody(org, owner, employee):
    admin = MemberFactory(organization=org, role=Role.ADMIN, status=Status.SUSPENDED)
    refused(org, "Only owners and admins", member_suspend, actor=admin, member=employee)


def test_another_organizations_people_are_out_of_reach(org, owner, other_org, outsider):
    refused(org, "not found", member_suspend, actor=owner, member=outsider)
    before = snapshot(other_org)
    with pytest.raises(ApplicationError):
        member_suspend(organization=org, actor=outsider, member=owner)
    with pytest.raises(NotFoundError):
        member_change_role(organization=other_org, actor=outsider, member=owner, role="admin")
    assert snapshot(other_org) == before
    assert reload(owner).status == Status.ACTIVE


# --- Suspension and reactivation ----------------------------------------------------------------


def test_admin_suspends_and_reactivates_a_member(org, admin, employee):
    member_suspend(organization=org, actor=admin, member=employee)
    assert reload(employee).status == Status.SUSPENDED
    member_reactivate(organization=org, actor=admin, member=employee)
    assert reload(employee).status == Status.ACTIVE
    suspended, reactivated = events(org)
    assert (suspended.verb, suspended.data) == (
        "member.suspended",
        {"from": "active", "to": "suspended"},
    )
    assert (reactivated.verb, reactivated.data) == (
        "member.reactivated",
        {"from": "suspended", "to": "active"},
    )


def test_suspension_keeps_role_and_lists(org, admin, employee):
    sales = MemberListFactory(organization=org, name="Sales")
    list_add_members(organization=org, actor=admin, member_list=sales, members=[employee])
    member_suspend(organization=org, actor=admin, member=employee)
    assert ListMembership.objects.for_org(org).filter(member=employee).count() == 1
    assert reload(employee).role == Role.MEMBER


def test_suspending_twice_records_once(org, admin, employee):
    member_suspend(organization=org, actor=admin, member=employee)
    member_suspend(organization=org, actor=admin, member=employee)
    assert len(events(org, "member.suspended")) == 1


def test_nobody_suspends_or_removes_themself(org, owner, admin):
    refused(org, "cannot suspend yourself", member_suspend, actor=admin, member=admin)
    refused(org, "cannot remove yourself", member_remove, actor=owner, member=owner)


def test_invited_people_are_not_suspended_or_removed(org, admin):
    invited = InvitationFactory(organization=org).member
    refused(org, "revoke their invitation", member_suspend, actor=admin, member=invited)
    refused(org, "revoke their invitation", member_remove, actor=admin, member=invited)


@pytest.mark.parametrize("service", [member_suspend, member_remove])
@pytest.mark.parametrize("role", [Role.ADMIN, Role.OWNER])
def test_only_owners_suspend_or_remove_owners_and_admins(org, owner, admin, service, role):
    target = MemberFactory(organization=org, role=role)
    refused(org, "Only owners suspend", service, actor=admin, member=target)
    service(organization=org, actor=owner, member=target)
    assert reload(target).status != Status.ACTIVE


def test_only_owners_reactivate_owners_and_admins(org, owner, admin):
    target = MemberFactory(organization=org, role=Role.ADMIN, status=Status.SUSPENDED)
    refused(org, "Only owners", member_reactivate, actor=admin, member=target)
    member_reactivate(organization=org, actor=owner, member=target)
    assert reload(target).status == Status.ACTIVE


def test_former_members_are_not_suspended_or_reactivated(org, admin):
    former = MemberFactory(organization=org, status=Status.REMOVED)
    refused(org, "former member", member_suspend, actor=admin, member=former)
    refused(org, "former member", member_reactivate, actor=admin, member=former)
    refused(org, "former member", member_change_role, actor=admin, member=former, role="finance")


def test_a_suspended_member_loses_access_on_the_next_request(org, admin, employee, login):
    client = login(employee)
    assert client.get(f"/o/{org.slug}/me/").status_code == 200
    member_suspend(organization=org, actor=admin, member=employee)
    assert client.get(f"/o/{org.slug}/me/").status_code == 404
    member_reactivate(organization=org, actor=admin, member=employee)
    assert client.get(f"/o/{org.slug}/me/").status_code == 200


def test_a_suspended_admin_loses_access_on_the_next_request(org, owner, admin, login):
    client = login(admin)
    assert client.get(f"/o/{org.slug}/members/").status_code == 200
    member_suspend(organization=org, actor=owner, member=admin)
    assert client.get(f"/o/{org.slug}/members/").status_code == 404


# --- Removal ------------------------------------------------------------------------------------


def test_removal_keeps_the_row_and_leaves_every_list(org, admin, employee, login):
    sales = MemberListFactory(organization=org, name="Sales")
    support = MemberListFactory(organization=org, name="Support")
    for member_list in (sales, support):
        list_add_members(organization=org, actor=admin, member_list=member_list, members=[employee])
    client = login(employee)
    member_remove(organization=org, actor=admin, member=employee)
    former = reload(employee)
    assert former.status == Status.REMOVED
    assert former.removed_at is not None
    assert (former.display_name, former.email, former.user) == (
        employee.display_name,
        employee.email,
        employee.user,
    )
    assert not ListMembership.objects.for_org(org).filter(member=employee).exists()
    (event,) = events(org, "member.removed")
    assert event.data == {"from": "active", "to": "removed", "lists": ["Sales", "Support"]}
    assert client.get(f"/o/{org.slug}/me/").status_code == 404


def test_a_suspended_member_can_be_removed(org, admin, employee):
    member_suspend(organization=org, actor=admin, member=employee)
    member_remove(organization=org, actor=admin, member=employee)
    assert reload(employee).status == Status.REMOVED


def test_removing_a_former_member_again_changes_nothing(org, admin):
    former = MemberFactory(organization=org, status=Status.REMOVED)
    member_remove(organization=org, actor=admin, member=former)
    assert events(org) == []


# --- Leaving ------------------------------------------------------------------------------------


def test_a_member_leaves(org, owner, employee):
    sales = MemberListFactory(organization=org, name="Sales")
    list_add_members(organization=org, actor=owner, member_list=sales, members=[employee])
    member_leave(organization=org, member=employee)
    assert reload(employee).status == Status.REMOVED
    assert not ListMembership.objects.for_org(org).filter(member=employee).exists()
    (event,) = events(org, "member.left")
    assert (event.actor, event.data) == (employee, {"role": "member", "lists": ["Sales"]})


def test_the_last_owner_cannot_leave(org, owner, admin):
    error = refused(org, "last owner", member_leave, member=owner)
    assert error.code == "last_owner"


def test_an_owner_leaves_when_another_owner_stays(org, owner):
    MemberFactory(organization=org, role=Role.OWNER)
    member_leave(organization=org, member=owner)
    assert reload(owner).status == Status.REMOVED


def test_a_former_member_cannot_leave_again(org, owner):
    former = MemberFactory(organization=org, status=Status.REMOVED)
    refused(org, "no longer a member", member_leave, member=former)


# --- Last owner under concurrency ---------------------------------------------------------------


def race(*calls) -> tuple[list, list]:
    """Run the calls at the same moment in threads: (results, errors)."""
    barrier = threading.Barrier(len(calls))
    results, errors = [], []

    def run(call):
        try:
            barrier.wait()
            results.append(call())
        except ApplicationError as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def active_owners(org) -> int:
    return Member.objects.for_org(org).filter(role=Role.OWNER, status=Status.ACTIVE).count()


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(org):
    first, second = (MemberFactory(organization=org, role=Role.OWNER) for _ in range(2))
    results, errors = race(
        lambda: member_change_role(organization=org, actor=first, member=second, role="admin"),
        lambda: member_change_role(organization=org, actor=second, member=first, role="admin"),
    )
    assert (len(results), len(errors)) == (1, 1)
    assert active_owners(org) == 1
    assert len(events(org, "member.role_changed")) == 1


@pytest.mark.django_db(transaction=True)
def test_two_owners_stepping_down_at_once_leave_one_owner(org):
    first, second = (MemberFactory(organization=org, role=Role.OWNER) for _ in range(2))
    results, errors = race(
        lambda: member_change_role(organization=org, actor=first, member=first, role="member"),
        lambda: member_change_role(organization=org, actor=second, member=second, role="member"),
    )
    assert (len(results), len(errors)) == (1, 1)
    assert errors[0].code == "last_owner"
    assert active_owners(org) == 1


@pytest.mark.django_db(transaction=True)
def test_two_owners_leaving_at_once_leave_one_owner(org):
    first, second = (MemberFactory(organization=org, role=Role.OWNER) for _ in range(2))
    results, errors = race(
        lambda: member_leave(organization=org, member=first),
        lambda: member_leave(organization=org, member=second),
    )
    assert (len(results), len(errors)) == (1, 1)
    assert errors[0].code == "last_owner"
    assert active_owners(org) == 1


@pytest.mark.django_db(transaction=True)
def test_an_owner_leaving_while_removing_the_other_leaves_one_owner(org):
    first, second = (MemberFactory(organization=org, role=Role.OWNER) for _ in range(2))
    results, errors = race(
        lambda: member_leave(organization=org, member=first),
        lambda: member_remove(organization=org, actor=first, member=second),
    )
    assert (len(results), len(errors)) == (1, 1)
    assert active_owners(org) == 1


# --- Profile ------------------------------------------------------------------------------------


def test_admin_updates_a_profile_and_the_change_is_recorded(org, admin, employee):
    member = member_update_profile(
        organization=org,
        actor=admin,
        member=employee,
        display_name="  Chloé   Dubois ",
        phone="+33612345678",
        job_title="Sales lead",
        department="Sales",
    )
    assert (member.display_name, str(member.phone), member.job_title, member.department) == (
        "Chloé Dubois",
        "+33612345678",
        "Sales lead",
        "Sales",
    )
    assert str(reload(employee).phone) == "+33612345678"
    (event,) = events(org, "member.profile_updated")
    assert event.data["display_name"] == {"from": employee.display_name, "to": "Chloé Dubois"}
    assert event.data["phone"] == {"from": "", "to": "+33612345678"}
    assert set(event.data) == {"display_name", "phone", "job_title", "department"}


def test_an_unchanged_profile_records_nothing(org, admin, employee):
    member_update_profile(
        organization=org,
        actor=admin,
        member=employee,
        display_name=employee.display_name,
        phone="",
        job_title="",
        department="",
    )
    assert events(org) == []


def test_profile_refusals_change_nothing(org, admin, finance, employee):
    values = {"phone": "", "job_title": "", "department": ""}
    refused(
        org,
        "Only owners and admins",
        member_update_profile,
        actor=finance,
        member=employee,
        display_name="X",
        **values,
    )
    refused(
        org,
        "Enter the member's name",
        member_update_profile,
        actor=admin,
        member=employee,
        display_name="  ",
        **values,
    )
    former = MemberFactory(organization=org, status=Status.REMOVED)
    refused(
        org,
        "former member",
        member_update_profile,
        actor=admin,
        member=former,
        display_name="X",
        **values,
    )


# --- A member's lists ---------------------------------------------------------------------------


def test_set_lists_adds_and_takes_out(org, admin, employee):
    sales, support, travel = (
        MemberListFactory(organization=org, name=name) for name in ("Sales", "Support", "Travel")
    )
    list_add_members(organization=org, actor=admin, member_list=sales, members=[employee])
    joined, left = member_set_lists(
        organization=org, actor=admin, member=employee, member_lists=[support, travel]
    )
    assert (joined, left) == ([support, travel], [sales])
    in_lists = set(
        ListMembership.objects.for_org(org)
        .filter(member=employee)
        .values_list("member_list__name", flat=True)
    )
    assert in_lists == {"Support", "Travel"}


def test_set_lists_refuses_another_organizations_list(org, admin, employee, other_org):
    foreign = MemberListFactory(organization=other_org)
    refused(
        org, "not found", member_set_lists, actor=admin, member=employee, member_lists=[foreign]
    )


def test_a_former_member_is_put_in_no_list(org, admin):
    former = MemberFactory(organization=org, status=Status.REMOVED)
    sales = MemberListFactory(organization=org)
    refused(
        org, "Former members", member_set_lists, actor=admin, member=former, member_lists=[sales]
    )


# --- Bulk actions -------------------------------------------------------------------------------


def test_bulk_change_role(org, owner):
    people = MemberFactory.create_batch(3, organization=org)
    changed = members_bulk_apply(
        organization=org, actor=owner, members=people, action="change_role", role=Role.FINANCE
    )
    assert changed == 3
    assert {reload(member).role for member in people} == {Role.FINANCE}
    assert len(events(org, "member.role_changed")) == 3


def test_bulk_suspend_and_remove(org, admin):
    people = MemberFactory.create_batch(2, organization=org)
    assert members_bulk_apply(organization=org, actor=admin, members=people, action="suspend") == 2
    assert {reload(member).status for member in people} == {Status.SUSPENDED}
    ids = [member.pk for member in people]
    assert members_bulk_apply(organization=org, actor=admin, members=ids, action="remove") == 2
    assert {reload(member).status for member in people} == {Status.REMOVED}


def test_bulk_lists(org, admin):
    people = MemberFactory.create_batch(3, organization=org)
    sales = MemberListFactory(organization=org, name="Sales")
    added = members_bulk_apply(
        organization=org, actor=admin, members=people, action="add_to_list", member_list=sales
    )
    assert added == 3
    again = members_bulk_apply(
        organization=org, actor=admin, members=people, action="add_to_list", member_list=sales
    )
    assert again == 0
    taken_out = members_bulk_apply(
        organization=org,
        actor=admin,
        members=people[:2],
        action=BulkAction.REMOVE_FROM_LIST,
        member_list=sales,
    )
    assert taken_out == 2
    assert list(
        ListMembership.objects.for_org(org).filter(member_list=sales).values_list("member_id")
    ) == [(people[2].pk,)]
    assert [event.verb for event in events(org)] == ["list.member_added", "list.member_removed"]


def test_bulk_is_all_or_nothing_and_names_who_and_why(org, owner, admin):
    people = MemberFactory.create_batch(3, organization=org)
    other_admin = MemberFactory(organization=org, role=Role.ADMIN, display_name="Zoé Admin")
    invited = InvitationFactory(organization=org, address="new@example.com").member
    error = refused(
        org,
        "Nothing was changed",
        members_bulk_apply,
        actor=admin,
        members=[*people, other_admin, invited],
        action="suspend",
    )
    assert "Zoé Admin: Only owners suspend" in error.message
    assert "new@example.com: This person has not joined yet" in error.message


def test_bulk_refuses_the_whole_selection_for_a_member_of_another_organization(
    org, admin, outsider
):
    people = MemberFactory.create_batch(2, organization=org)
    sales = MemberListFactory(organization=org)
    for action in ("suspend", "remove", "add_to_list"):
        refused(
            org,
            "not found",
            members_bulk_apply,
            actor=admin,
            members=[*people, outsider],
            action=action,
            member_list=sales,
        )
    assert reload(outsider).status == Status.ACTIVE


def test_bulk_keeps_the_last_owner(org, owner):
    second = MemberFactory(organization=org, role=Role.OWNER)
    error = refused(
        org,
        "at least one active owner",
        members_bulk_apply,
        actor=owner,
        members=[owner, second],
        action="change_role",
        role=Role.ADMIN,
    )
    assert error.code == "last_owner"


def test_bulk_add_to_list_refuses_former_members(org, admin):
    former = MemberFactory(organization=org, status=Status.REMOVED, display_name="Old Timer")
    current = MemberFactory(organization=org)
    sales = MemberListFactory(organization=org)
    refused(
        org,
        "Former members cannot be put in a list: Old Timer",
        members_bulk_apply,
        actor=admin,
        members=[current, former],
        action="add_to_list",
        member_list=sales,
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "delete_everyone"}, "Choose an action"),
        ({"action": "change_role"}, "Choose a role"),
        ({"action": "add_to_list"}, "Choose a list"),
        ({"action": "suspend", "members": []}, "Select at least one member"),
    ],
)
def test_bulk_bad_input_is_refused(org, admin, employee, kwargs, message):
    refused(org, message, members_bulk_apply, actor=admin, **{"members": [employee], **kwargs})
