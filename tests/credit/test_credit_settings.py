"""The credit settings page, the company auto-recharge page and the payment method page."""

import pytest
from django.urls import reverse
from djmoney.money import Money

from credit.selectors.balances import may_buy
from credit.selectors.settings import credit_settings
from organizations.models import AuditEvent, Member
from organizations.roles import Role
from organizations.scoping import tenant_scope
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the stripe_fake fixture)
from tests.factories import MemberFactory, OrganizationFactory


def settings_url(org):
    return reverse("credit:settings", kwargs={"org_slug": org.slug})


def recharge_url(org):
    return reverse("credit:auto-recharge", kwargs={"org_slug": org.slug})


def method_url(org):
    return reverse("credit:payment-method", kwargs={"org_slug": org.slug})


def settings_data(**changes):
    return {
        "billing_name": "Acme SARL",
        "billing_address": "1 rue Exemple\n75001 Paris",
        "vat_number": "fr 123 456 789 01",
        "low_balance_warning": "50",
        **changes,
    }


# --- Credit settings -------------------------------------------------------------------------


def test_the_owner_saves_the_billing_details_and_the_purchasers(org, owner, finance, login):
    response = login(owner).post(settings_url(org), settings_data(purchasers=[finance.pk]))

    assert response.status_code == 302
    row = credit_settings(org)
    assert row.billing_name == "Acme SARL"
    assert row.billing_address == "1 rue Exemple\n75001 Paris"
    assert row.vat_number == "FR12345678901"
    assert row.low_balance_warning == Money(50, "EUR")
    with tenant_scope(org):
        assert list(row.purchasers.all()) == [finance]
        assert may_buy(organization=org, member=finance)
    event = AuditEvent.objects.for_org(org).get(verb="credit_settings.updated")
    assert event.data["purchasers"] == [finance.pk]


def test_taking_a_purchaser_off(org, owner, finance, login):
    credit_settings(org).purchasers.add(finance)

    login(owner).post(settings_url(org), settings_data())

    with tenant_scope(org):
        assert not may_buy(organization=org, member=finance)


@pytest.mark.parametrize("who", ["admin", "employee", "other_finance", "suspended", "unknown"])
def test_only_active_finance_members_can_be_purchasers(org, owner, admin, employee, login, who):
    candidates = {
        "admin": admin.pk,
        "employee": employee.pk,
        "other_finance": MemberFactory(organization=OrganizationFactory(), role=Role.FINANCE).pk,
        "suspended": MemberFactory(
            organization=org, role=Role.FINANCE, status=Member.Status.SUSPENDED
        ).pk,
        "unknown": "abc",
    }
    before = credit_settings(org)

    response = login(owner).post(settings_url(org), settings_data(purchasers=[candidates[who]]))

    assert response.status_code == 200
    assert response.context["form"].errors["purchasers"]
    after = credit_settings(org)
    with tenant_scope(org):
        assert (after.billing_name, list(after.purchasers.all())) == (before.billing_name, [])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("low_balance_warning", "-5"),
        ("low_balance_warning", "abc"),
        ("low_balance_warning", "1.123456"),
        ("low_balance_warning", "1" * 30),
        ("vat_number", "FR<script>"),
        ("billing_name", "x" * 201),
    ],
)
def test_bad_settings_change_nothing(org, owner, login, field, value):
    response = login(owner).post(settings_url(org), settings_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert credit_settings(org).billing_name == ""


def test_finance_reads_the_settings_and_cannot_change_them(org, owner, finance, login):
    client = login(finance)

    page = client.get(settings_url(org))

    assert page.status_code == 200
    assert "Only owners change these settings." in page.content.decode()
    assert all(field.disabled for field in page.context["form"].fields.values())
    assert client.post(settings_url(org), settings_data()).status_code == 403
    assert credit_settings(org).billing_name == ""


# --- Auto-recharge ---------------------------------------------------------------------------


def with_payment_method(org):
    row = credit_settings(org)
    row.stripe_customer_id = "cus_1"
    row.stripe_payment_method_id = "pm_1"
    row.payment_method_label = "Visa •••• 4242"
    row.auto_recharge_disabled_reason = "The card was declined (card_declined)."
    row.save()
    return row


def recharge_data(**changes):
    return {"enabled": "on", "threshold": "20", "amount": "100", "monthly_max": "300", **changes}


def test_the_owner_turns_auto_recharge_on(org, owner, login):
    with_payment_method(org)
    client = login(owner)
    page = client.get(recharge_url(org)).content.decode()
    assert "Visa •••• 4242" in page

    response = client.post(recharge_url(org), recharge_data())

    assert response.status_code == 302
    row = credit_settings(org)
    assert row.auto_recharge_enabled is True
    assert row.auto_recharge_threshold == Money(20, "EUR")
    assert row.auto_recharge_amount == Money(100, "EUR")
    assert row.auto_recharge_monthly_max == Money(300, "EUR")
    assert row.auto_recharge_disabled_reason == ""
    assert AuditEvent.objects.for_org(org).filter(verb="auto_recharge.updated").count() == 1


def test_auto_recharge_needs_a_payment_method(org, owner, login):
    response = login(owner).post(recharge_url(org), recharge_data())

    assert response.status_code == 200
    assert "Save a payment method first" in response.context["form"].errors["enabled"][0]
    assert credit_settings(org).auto_recharge_enabled is False


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"amount": "600"}, "amount"),
        ({"amount": "1"}, "amount"),
        ({"amount": "10.555"}, "amount"),
        ({"monthly_max": "50"}, "monthly_max"),
        ({"threshold": "0"}, "threshold"),
        ({"threshold": "-1"}, "threshold"),
        ({"threshold": "lots"}, "threshold"),
        ({"amount": "9" * 20}, "amount"),
    ],
)
def test_bad_auto_recharge_settings_change_nothing(org, owner, login, changes, field):
    with_payment_method(org)

    response = login(owner).post(recharge_url(org), recharge_data(**changes))

    assert response.status_code == 200
    assert response.context["form"].errors[field]
    assert credit_settings(org).auto_recharge_enabled is False


def test_turning_auto_recharge_off_keeps_the_amounts(org, owner, login):
    with_payment_method(org)
    client = login(owner)
    client.post(recharge_url(org), recharge_data())

    client.post(recharge_url(org), recharge_data(enabled=""))

    row = credit_settings(org)
    assert row.auto_recharge_enabled is False
    assert row.auto_recharge_amount == Money(100, "EUR")


def test_finance_reads_auto_recharge(org, owner, finance, login):
    client = login(finance)

    assert client.get(recharge_url(org)).status_code == 200
    assert client.post(recharge_url(org), recharge_data()).status_code == 403
    assert client.get(method_url(org)).status_code == 403


# --- Payment method --------------------------------------------------------------------------


def test_replacing_the_payment_method_opens_stripe_in_setup_mode(org, owner, login, stripe_fake):
    client = login(owner)
    page = client.get(method_url(org))
    key = page.context["form"]["idempotency_key"].value()

    response = client.post(method_url(org), {"idempotency_key": key})
    again = client.post(method_url(org), {"idempotency_key": key})

    [session] = stripe_fake.sessions.values()
    assert response.status_code == again.status_code == 303
    assert response["Location"] == again["Location"] == session["url"]
    customer, setup = stripe_fake.posts[:2]
    assert customer["path"] == "/v1/customers"
    assert customer["idempotency_key"] == f"organization-{org.pk}-customer"
    assert setup["idempotency_key"] == f"organization-{org.pk}-setup-{key}"
    assert setup["params"]["mode"] == "setup"
    assert setup["params"]["customer"] == credit_settings(org).stripe_customer_id
    assert setup["params"]["metadata"]["organization_id"] == str(org.pk)
    assert setup["params"]["success_url"].endswith(method_url(org) + "?saved=1")
    assert len(stripe_fake.customers) == 1


def test_without_stripe_no_payment_method_can_be_saved(org, owner, login, settings):
    settings.STRIPE_SECRET_KEY = ""
    client = login(owner)

    page = client.get(method_url(org)).content.decode()
    response = client.post(method_url(org), {"idempotency_key": "k"})

    assert "Card payments are not set up on this server" in page
    assert response.status_code == 200
    assert credit_settings(org).stripe_customer_id == ""


def test_a_payment_method_post_without_its_key_does_nothing(org, owner, login, stripe_fake):
    response = login(owner).post(method_url(org), {})

    assert response.status_code == 200
    assert stripe_fake.requests == []
