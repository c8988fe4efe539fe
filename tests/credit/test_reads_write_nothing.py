"""Reads that write (issue 8, item 5): an organization's credit settings and accounts are made
with it, pages only read them, the purchase rule is one selector, and the allocation pages ask
the service for its keys."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from djmoney.money import Money

from credit.models import Account, CreditSettings, Purchase
from credit.selectors.balances import may_buy
from credit.services.allocation import (
    ALLOCATE,
    credit_allocate,
    form_already_posted,
    form_idempotency_key,
)
from credit.services.purchases import purchase_create
from organizations.models import Organization
from organizations.roles import Role
from organizations.scoping import all_tenants
from organizations.services import organization_create
from skypemgr.errors import ApplicationError
from tests.credit.rules_support import bought
from tests.factories import MemberFactory, PurchaseFactory, UserFactory

WRITES = ("INSERT", "UPDATE", "DELETE")


def credit_pages(org, purchase, member) -> list[str]:
    base = f"/o/{org.slug}"
    return [
        f"{base}/",
        f"{base}/credit/",
        f"{base}/credit/balances/",
        f"{base}/credit/history/",
        f"{base}/credit/buy/",
        f"{base}/credit/purchases/",
        f"{base}/credit/purchases/{purchase.pk}/",
        f"{base}/credit/purchases/{purchase.pk}/return/",
        f"{base}/credit/purchases/{purchase.pk}/status/",
        f"{base}/credit/purchases/{purchase.pk}/receipt.pdf",
        f"{base}/credit/auto-recharge/",
        f"{base}/credit/payment-method/",
        f"{base}/credit/settings/",
        f"{base}/credit/allocate/",
        f"{base}/credit/take-back/",
        f"{base}/credit/rules/",
        f"{base}/members/{member.pk}/credit/",
        f"{base}/members/{member.pk}/",
        f"{base}/members/",
    ]


def writes_of(client, url) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code in (200, 302, 403), url
    return [query["sql"] for query in queries if query["sql"].lstrip().upper().startswith(WRITES)]


@pytest.mark.parametrize("made_before", [False, True], ids=["made-with-it", "made-before"])
@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.FINANCE])
def test_credit_pages_write_nothing(org, owner, employee, login, role, made_before):
    purchase = bought(org, owner, 100)
    if made_before:
        # An organization made before its settings came with it.
        CreditSettings.objects.for_org(org).delete()
    viewer = owner if role == Role.OWNER else MemberFactory(organization=org, role=role)
    client = login(viewer)

    for url in credit_pages(org, purchase, employee):
        assert writes_of(client, url) == [], url

    assert CreditSettings.objects.for_org(org).exists() is not made_before


def test_a_new_organization_comes_with_its_credit_settings_and_accounts(db):
    user = UserFactory()

    organization = organization_create(
        user=user, name="Initech", country="FR", currency="EUR", time_zone="Europe/Paris"
    )

    assert CreditSettings.objects.for_org(organization).count() == 1
    kinds = set(Account.objects.for_org(organization).values_list("kind", flat=True))
    assert kinds == {"organization", "payments", "usage", "subscriptions", "receivable"}


def test_the_migration_gives_existing_organizations_their_rows(org, owner):
    """Organizations made before: settings and accounts made, and a currency fixed where a
    purchase exists (the purchase made without the services, as the old code left it)."""
    migration = importlib.import_module(
        "credit.migrations.0005_settings_and_accounts_with_every_organization"
    )
    CreditSettings.objects.for_org(org).delete()
    Account.objects.for_org(org).delete()
    purchase = PurchaseFactory(organization=org, created_by=owner)
    assert Organization.objects.get(pk=org.pk).currency_locked_at is None

    with all_tenants("a migration reads every organization"):
        migration.settings_and_fixed_currencies(apps, None)
        migration.settings_and_fixed_currencies(apps, None)

    row = CreditSettings.objects.for_org(org).get()
    assert row.low_balance_warning == Money(0, "EUR")
    assert Account.objects.for_org(org).count() == 5
    assert Organization.objects.get(pk=org.pk).currency_locked_at == purchase.created_at


@pytest.mark.parametrize(
    ("role", "allowed", "may"),
    [
        (Role.OWNER, False, True),
        (Role.FINANCE, True, True),
        (Role.FINANCE, False, False),
        (Role.ADMIN, False, False),
        (Role.MEMBER, False, False),
    ],
)
def test_one_rule_says_who_buys_for_the_pages_and_the_service(org, owner, role, allowed, may):
    member = owner if role == Role.OWNER else MemberFactory(organization=org, role=role)
    if allowed:
        CreditSettings.objects.for_org(org).get().purchasers.add(member)

    assert may_buy(organization=org, member=member) is may
    if may:
        purchase = purchase_create(
            organization=org, actor=member, method="bank_transfer", amount=50
        )
        assert purchase.status == Purchase.Status.PENDING
    else:
        with pytest.raises(ApplicationError, match="buy credit"):
            purchase_create(organization=org, actor=member, method="bank_transfer", amount=50)


def test_the_allocation_service_names_its_form_keys(org, owner, admin, employee):
    bought(org, owner, 100)
    key = form_idempotency_key(action=ALLOCATE, form_key="f1")
    assert not form_already_posted(
        organization=org, action=ALLOCATE, form_key="f1", members=[employee]
    )

    credit_allocate(
        organization=org, actor=admin, members=[employee], amount=10, idempotency_key=key
    )

    assert form_already_posted(organization=org, action=ALLOCATE, form_key="f1", members=[employee])
    assert not form_already_posted(
        organization=org, action=ALLOCATE, form_key="f2", members=[employee]
    )
