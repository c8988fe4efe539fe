"""Deleting a seeded organization and everything it owns, for `seed_scale --replace`.

Deleting an organization through the ORM would load its million rows into memory, and its
transfers cannot be deleted at all: a trigger (credit_transfer_immutable) refuses it, because
the ledger is append-only. So this deletes in SQL, in one transaction:

1. foreign keys are checked at commit (Django makes them DEFERRABLE INITIALLY DEFERRED), so the
   tables can be emptied in any order;
2. the transfers' trigger is disabled for this transaction only (ALTER TABLE is
   transactional: it is enabled again before commit, once the foreign keys are checked, and
   a failure rolls the change back).
   ALTER TABLE takes an exclusive lock on credit_transfer: every posting in the database waits
   until the deletion commits (seconds for a million transfers);
3. rows of other models that point at the organization's rows are emptied first (nullable
   references) or deleted (many-to-many rows, non-nullable references); then every tenant
   table's rows of the organization, then the organization itself;
4. the seeded people's user accounts (`seed-<slug>-…`) that belong to no other organization
   are deleted, through the ORM (a thousand rows, with allauth's rows).
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction

from dashboard.services.seed_scale.people import seed_username_prefix
from organizations.models import Member, Organization, TenantModel
from organizations.scoping import all_tenants

_TRIGGER = "credit_transfer_immutable"


def _tenant_models() -> list:
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if issubclass(model, TenantModel) and not model._meta.proxy
    ]


def _references_into(tenant: set) -> list[tuple]:
    """(model, field) of every non-tenant model's foreign key to the organization or to a
    tenant model."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model in tenant or model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            target = field.related_model if field.is_relation else None
            if target is Organization or target in tenant:
                found.append((model, field))
    return found


def scale_organization_remove(*, organization: Organization) -> dict[str, int]:
    """Delete `organization` with every row it owns (see the module's docstring); returns the
    rows deleted per table. Only for organizations made by the seed: it is not the product's
    way of closing a company."""
    tenant = _tenant_models()
    deleted: dict[str, int] = {}
    quote = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        # Checks pending from earlier in an enclosing transaction (a test's) first: the table
        # cannot be altered while they are.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute(f"ALTER TABLE credit_transfer DISABLE TRIGGER {_TRIGGER}")
        for model, field in _references_into(set(tenant)):
            table, column = quote(model._meta.db_table), quote(field.column)
            target = field.related_model
            # Names come from the models, never from input.
            owned = "%s"
            if target is not Organization:
                owned = "SELECT id FROM " + quote(target._meta.db_table)  # noqa: S608
                owned += " WHERE organization_id = %s"
            if field.null and not model._meta.auto_created:
                sql = f"UPDATE {table} SET {column} = NULL WHERE {column} IN ({owned})"  # noqa: S608
            else:
                sql = f"DELETE FROM {table} WHERE {column} IN ({owned})"  # noqa: S608
            cursor.execute(sql, [organization.pk])
            if cursor.rowcount:
                deleted[model._meta.db_table] = cursor.rowcount
        for model in tenant:
            table = quote(model._meta.db_table)
            cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])  # noqa: S608
            if cursor.rowcount:
                deleted[model._meta.db_table] = cursor.rowcount
        cursor.execute("DELETE FROM organizations_organization WHERE id = %s", [organization.pk])
        users = seed_people_remove(organization.slug)
        if users:
            deleted["users"] = users
        # The deferred foreign keys are checked now (the table cannot be altered while their
        # checks are pending), then the trigger is back.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE credit_transfer ENABLE TRIGGER {_TRIGGER}")
    return deleted


def seed_users_orphaned(slug: str) -> list[int]:
    """The seeded people of `slug` who belong to no organization (any more)."""
    User = get_user_model()
    with all_tenants("the seed's people are found across organizations by their username"):
        members = Member.objects.filter(user__isnull=False).values("user_id")
        return list(
            User.objects.filter(username__startswith=seed_username_prefix(slug))
            .exclude(pk__in=members)
            .values_list("pk", flat=True)
        )


def seed_people_remove(slug: str) -> int:
    """Delete the seeded people of `slug` who belong to no organization; returns how many."""
    users = seed_users_orphaned(slug)
    if users:
        with all_tenants("deleting users clears their references in every organization"):
            get_user_model().objects.filter(pk__in=users).delete()
    return len(users)
