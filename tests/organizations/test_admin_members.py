"""Django admin: platform staff see memberships but cannot change them around the services
(no role, status, organization or account edited without the rules and an audit event)."""

import pytest
from django.test import Client

from organizations.models import AuditEvent, Member
from organizations.roles import Role
from tests.factories import MemberFactory
from tests.tenancy import snapshot

MEMBERS = "/admin/organizations/member/"


@pytest.fixture
def staff(platform_staff) -> Client:
    return platform_staff


def test_the_member_admin_shows_a_member_without_a_field_to_change(org, owner, staff):
    response = staff.get(f"{MEMBERS}{owner.pk}/change/")
    assert response.status_code == 200
    page = response.content.decode()
    assert owner.display_name in page
    for field in ("organization", "user", "role", "status", "display_name", "email", "phone"):
        assert f'name="{field}"' not in page
    assert staff.get(MEMBERS).status_code == 200


def test_posting_a_change_to_a_member_changes_nothing(org, owner, other_org, staff):
    """The last owner, moved to another organization as a member and suspended, by hand."""
    before, before_other = snapshot(org), snapshot(other_org)
    response = staff.post(
        f"{MEMBERS}{owner.pk}/change/",
        {
            "organization": other_org.pk,
            "user": owner.user_id,
            "role": Role.MEMBER,
            "status": Member.Status.SUSPENDED,
            "display_name": "Someone else",
        },
    )
    assert response.status_code == 403
    assert snapshot(org) == before
    assert snapshot(other_org) == before_other
    owner.refresh_from_db()
    assert (owner.organization_id, owner.role, owner.status) == (org.pk, "owner", "active")


def test_members_are_neither_added_nor_deleted_in_the_admin(org, owner, staff):
    assert staff.get(f"{MEMBERS}add/").status_code == 403
    assert staff.post(f"{MEMBERS}{owner.pk}/delete/", {"post": "yes"}).status_code == 403
    bulk = staff.post(
        MEMBERS, {"action": "delete_selected", "_selected_action": [owner.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)
    assert Member.objects.for_org(org).filter(pk=owner.pk).exists()
    assert not AuditEvent.objects.for_org(org).exists()


def test_the_organization_page_lists_members_read_only(org, owner, staff):
    employee = MemberFactory(organization=org, role=Role.MEMBER)
    url = f"/admin/organizations/organization/{org.pk}/change/"
    response = staff.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert employee.display_name in page
    [inline] = response.context["inline_admin_formsets"]
    assert not inline.has_change_permission
    assert not inline.has_add_permission
    assert "member_set-0-role" not in page

    # Saving the organization with the members' rows edited by hand changes no member.
    form = response.context["adminform"].form
    data = {
        name: value
        for name, value in (
            (name, form[name].value()) for name in form.fields if name not in form.errors
        )
        if value is not None
    }
    management = inline.formset.management_form
    data.update(
        {management[name].html_name: management[name].value() for name in management.fields}
    )
    members = Member.objects.for_org(org).order_by("pk")
    for index, member in enumerate(members):
        data.update(
            {
                f"member_set-{index}-id": member.pk,
                f"member_set-{index}-organization": org.pk,
                f"member_set-{index}-role": Role.OWNER,
                f"member_set-{index}-status": Member.Status.REMOVED,
                f"member_set-{index}-DELETE": "on",
            }
        )
    before = list(members.values("pk", "role", "status", "organization_id"))
    staff.post(url, data)
    assert list(members.values("pk", "role", "status", "organization_id")) == before
