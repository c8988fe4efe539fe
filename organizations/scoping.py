"""Fail-closed tenant scoping, on top of django-scopes.

A query on a tenant model with no organization in scope raises `ScopeError` instead of
returning every tenant's rows. Scope is entered in exactly these ways:

- `tenant_scope(org)`: the tenancy wrapper does it for every view under /o/<slug>/; tasks and
  services called outside a request do it themselves.
- `Model.objects.for_org(org)`: an explicit query for one organization.
- `all_tenants(reason)`: the named escape hatch, for admin, migrations, sweeps and tests.

Unlike a bare `django_scopes.scope(organization=None)`, which would mean "no filter", nothing
here accepts a missing organization.
"""

from contextlib import contextmanager

from django.db import models
from django_scopes import ScopedManager, scope, scopes_disabled
from django_scopes.exceptions import ScopeError

__all__ = ["ScopeError", "TenantManager", "all_tenants", "tenant_scope"]


def _require_org(organization) -> None:
    if organization is None or getattr(organization, "pk", None) is None:
        raise ScopeError("A saved organization is required; None never means 'all'.")


@contextmanager
def tenant_scope(organization):
    _require_org(organization)
    with scope(organization=organization.pk):
        yield


@contextmanager
def all_tenants(reason: str):
    """Lift scoping. `reason` is required so that every use says why, in the code."""
    if not reason:
        raise ValueError("all_tenants() needs a reason.")
    with scopes_disabled():
        yield


_ScopedBase = ScopedManager(organization="organization_id").__class__


class TenantManager(_ScopedBase):
    def for_org(self, organization) -> models.QuerySet:
        _require_org(organization)
        return self.with_scope(organization=organization.pk).all()
