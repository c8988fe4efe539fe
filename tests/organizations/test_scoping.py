"""Tenant data cannot be read without an organization in scope."""

import pytest

from organizations.models import AuditEvent, Member
from organizations.scoping import ScopeError, all_tenants, tenant_scope
from tests.factories import MemberFactory


def test_query_without_scope_raises(org, owner):
    with pytest.raises(ScopeError):
        list(Member.objects.all())
    with pytest.raises(ScopeError):
        Member.objects.filter(pk=owner.pk).exists()
    with pytest.raises(ScopeError):
        AuditEvent.objects.count()


def test_reverse_relations_are_scoped_too(owner):
    with pytest.raises(ScopeError):
        list(owner.user.memberships.all())


def test_scope_shows_only_its_organization(org, other_org, owner, outsider):
    with tenant_scope(org):
        assert list(Member.objects.all()) == [owner]
        assert not Member.objects.filter(pk=outsider.pk).exists()


def test_for_org_reads_one_organization(org, other_org, owner, outsider):
    assert list(Member.objects.for_org(other_org)) == [outsider]


@pytest.mark.django_db
def test_none_never_means_all_organizations():
    with pytest.raises(ScopeError), tenant_scope(None):
        pass
    with pytest.raises(ScopeError):
        Member.objects.for_org(None)


def test_the_escape_hatch_needs_a_reason(org, other_org, owner, outsider):
    with pytest.raises(ValueError, match="reason"), all_tenants(""):
        pass
    with all_tenants("a test counting everyone"):
        assert Member.objects.count() == 2


def test_create_needs_no_scope_but_names_its_organization(org):
    member = MemberFactory(organization=org)
    assert Member.objects.for_org(org).get() == member
