"""Every organization URL, swept with outsiders, anonymous visitors and every role."""

import logging

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import path

from organizations.models import Member
from organizations.roles import ROLE_MATRIX, Role
from organizations.tenancy import _wrap
from tests.factories import MemberFactory
from tests.tenancy import all_patterns, snapshot, tenant_url, tenant_url_names

TENANT_URLS = tenant_url_names()
METHODS = ["get", "post"]


def test_the_sweep_sees_the_foundation_pages():
    assert {"organizations:home", "organizations:settings"} <= set(TENANT_URLS)


def test_every_route_under_the_organization_prefix_is_behind_the_check():
    unguarded = [
        route
        for route, pattern in all_patterns()
        if "<slug:org_slug>" in route and not hasattr(pattern.callback, "tenant_url_name")
    ]
    assert unguarded == []


def test_every_matrix_entry_is_a_mounted_page():
    assert set(ROLE_MATRIX) == set(TENANT_URLS)


@pytest.mark.parametrize("url_name", TENANT_URLS)
@pytest.mark.parametrize("method", METHODS)
def test_outsider_gets_404_and_changes_nothing(url_name, method, org, owner, outsider, login):
    url = tenant_url(url_name, org, objects_of=org)
    before = snapshot(org)
    response = getattr(login(outsider), method)(url, {"name": "Hijacked", "currency": "USD"})
    assert response.status_code == 404
    assert snapshot(org) == before


@pytest.mark.parametrize("url_name", TENANT_URLS)
@pytest.mark.parametrize("method", METHODS)
def test_other_organizations_objects_answer_404(
    url_name, method, org, owner, other_org, outsider, login
):
    """A member of one organization naming another's objects in their own URLs."""
    url = tenant_url(url_name, other_org, objects_of=org)
    if url == tenant_url(url_name, other_org, objects_of=other_org):
        pytest.skip("this page names no object")
    before = snapshot(org)
    response = getattr(login(outsider), method)(url)
    if ROLE_MATRIX[url_name].required_for(method.upper()) is None:
        assert response.status_code == 405, "nobody may use this method here"
    else:
        assert response.status_code == 404
    assert snapshot(org) == before


@pytest.mark.parametrize("url_name", TENANT_URLS)
@pytest.mark.parametrize("method", METHODS)
def test_anonymous_visitor_is_sent_to_login(url_name, method, org, owner, client):
    url = tenant_url(url_name, org, objects_of=org)
    before = snapshot(org)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert snapshot(org) == before


@pytest.mark.parametrize("url_name", TENANT_URLS)
@pytest.mark.parametrize("status", [Member.Status.SUSPENDED, Member.Status.REMOVED])
def test_suspended_and_former_members_get_404(url_name, status, org, owner, login):
    member = MemberFactory(organization=org, role=Role.OWNER, status=status)
    response = login(member).get(tenant_url(url_name, org, objects_of=org))
    assert response.status_code == 404


def test_unknown_organization_is_404_like_a_forbidden_one(owner, login):
    response = login(owner).get("/o/no-such-company/")
    assert response.status_code == 404


@pytest.mark.parametrize("url_name", TENANT_URLS)
@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("method", METHODS)
def test_role_matrix(url_name, role, method, org, owner, login):
    member = owner if role == Role.OWNER else MemberFactory(organization=org, role=role)
    response = getattr(login(member), method)(tenant_url(url_name, org, objects_of=org))
    access = ROLE_MATRIX[url_name]
    if access.required_for(method.upper()) is None:
        assert response.status_code == 405
    elif access.allows(role, method.upper()):
        assert response.status_code not in (403, 404, 405, 500)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(
    ("role", "url_name", "status"),
    [
        (Role.FINANCE, "organizations:settings", 403),
        (Role.MEMBER, "organizations:settings", 403),
        (Role.MEMBER, "organizations:audit-log", 403),
        (Role.FINANCE, "organizations:audit-log", 403),
        (Role.ADMIN, "organizations:settings", 200),
        (Role.ADMIN, "organizations:audit-log", 200),
        (Role.FINANCE, "organizations:home", 200),
        (Role.MEMBER, "dashboard:my-account", 200),
    ],
)
def test_roles_as_the_design_states_them(role, url_name, status, org, login):
    member = MemberFactory(organization=org, role=role)
    assert login(member).get(tenant_url(url_name, org, objects_of=org)).status_code == status


def test_a_role_too_low_is_logged_as_one_line_without_a_traceback(org, employee, login, caplog):
    caplog.set_level(logging.INFO)
    response = login(employee).get(f"/o/{org.slug}/settings/")
    assert response.status_code == 403
    assert "Your role does not allow it" in response.content.decode()
    logged = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage() for record in logged] == [f"Forbidden: /o/{org.slug}/settings/"]
    assert logged[0].exc_info is None


def test_django_warnings_are_printed_once():
    """Django's default logging gives its logger a console handler of its own (in DEBUG):
    with ours on the root, every warning and its traceback came out twice."""
    printers, logger = [], logging.getLogger("django.request")
    while logger is not None:
        printers += [
            handler
            for handler in logger.handlers
            if isinstance(handler, logging.StreamHandler) and type(handler).__module__ == "logging"
        ]
        logger = logger.parent if logger.propagate else None
    assert len(printers) == 1


def test_employees_land_on_their_own_page(org, employee, login):
    response = login(employee).get(f"/o/{org.slug}/")
    assert response.status_code == 302
    assert response["Location"] == f"/o/{org.slug}/me/"


def test_a_view_without_a_name_cannot_be_mounted():
    with pytest.raises(ImproperlyConfigured, match="needs a name"):
        _wrap([path("x/", lambda request: None)], "organizations")


def test_a_view_missing_from_the_matrix_cannot_be_mounted():
    with pytest.raises(ImproperlyConfigured, match="ROLE_MATRIX"):
        _wrap([path("x/", lambda request: None, name="not-in-matrix")], "organizations")
