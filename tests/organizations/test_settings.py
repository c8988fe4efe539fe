"""Owners and admins edit the organization; the currency freezes once money moved."""

import pytest
from django.db import InternalError, transaction
from django.utils import timezone

from organizations.models import AuditEvent, Organization
from organizations.services import organization_update
from skypemgr.errors import ApplicationError

CHANGES = {"name": "Acme Group", "country": "BE", "currency": "EUR", "time_zone": "Europe/Brussels"}
FORM = {**CHANGES, "invitation_expiry_days": 30}


def url(org):
    return f"/o/{org.slug}/settings/"


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_owner_and_admin_change_settings(who, org, owner, admin, login):
    member = {"owner": owner, "admin": admin}[who]
    response = login(member).post(url(org), {**FORM, "invitation_expiry_days": 14})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.country.code, org.time_zone) == (
        "Acme Group",
        "BE",
        "Europe/Brussels",
    )
    assert org.slug == "acme-sarl"
    assert org.invitation_expiry_days == 14
    event = AuditEvent.objects.for_org(org).get(verb="organization.updated")
    assert event.actor == member
    assert event.data["name"] == {"from": "Acme SARL", "to": "Acme Group"}


def test_finance_cannot_change_settings(org, finance, login):
    response = login(finance).post(url(org), FORM)
    assert response.status_code == 403
    org.refresh_from_db()
    assert org.name == "Acme SARL"


def test_currency_changes_until_money_moves(org, owner, login):
    login(owner).post(url(org), {**FORM, "currency": "CHF"})
    org.refresh_from_db()
    assert org.currency == "CHF"


def test_currency_is_fixed_once_money_moved(org, owner, login):
    Organization.objects.filter(pk=org.pk).update(currency_locked_at=timezone.now())
    org.refresh_from_db()
    page = login(owner).get(url(org)).content.decode()
    assert "The currency is fixed now that credit has been bought" in page
    # A browser leaves the disabled currency out: the rest is saved.
    response = login(owner).post(url(org), {key: FORM[key] for key in FORM if key != "currency"})
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.currency, org.name) == ("EUR", "Acme Group")
    with pytest.raises(ApplicationError, match="currency is fixed"):
        organization_update(organization=org, actor=owner, **{**CHANGES, "currency": "USD"})


def test_a_form_sent_after_the_currency_was_fixed_says_so(org, owner, login):
    """The page was opened before the first purchase and sent after it."""
    Organization.objects.filter(pk=org.pk).update(currency_locked_at=timezone.now())

    response = login(owner).post(url(org), {**FORM, "name": "Acme Group", "currency": "USD"})

    assert response.status_code == 200
    assert "The currency is fixed now that credit has been bought" in str(
        response.context["form"].errors["currency"]
    )
    org.refresh_from_db()
    assert (org.currency, org.name) == ("EUR", "Acme SARL")


def test_bad_settings_change_nothing(org, owner, login):
    response = login(owner).post(url(org), {**FORM, "name": "", "time_zone": "Nowhere"})
    assert response.status_code == 200
    assert "Enter the company name." in response.content.decode()
    org.refresh_from_db()
    assert org.name == "Acme SARL"
    assert not AuditEvent.objects.for_org(org).exists()


def test_unchanged_settings_write_no_event(org, owner):
    organization_update(
        organization=org,
        actor=owner,
        name=org.name,
        country="FR",
        time_zone=org.time_zone,
        currency=org.currency,
    )
    assert not AuditEvent.objects.for_org(org).exists()


def test_audit_events_cannot_be_rewritten(org, owner):
    organization_update(organization=org, actor=owner, **CHANGES)
    event = AuditEvent.objects.for_org(org).get()
    with pytest.raises(InternalError, match="append-only"), transaction.atomic():
        AuditEvent.objects.for_org(org).filter(pk=event.pk).update(verb="nothing.happened")


def test_audit_log_lists_events_and_filters(org, owner, login):
    organization_update(organization=org, actor=owner, **CHANGES)
    row = "changed the organization&#x27;s settings: company name from “Acme SARL” to “Acme Group”"
    page = login(owner).get(f"/o/{org.slug}/settings/audit/").content.decode()
    assert row in page
    filtered = login(owner).get(f"/o/{org.slug}/settings/audit/?verb=member.joined")
    assert row not in filtered.content.decode()
    unknown = login(owner).get(f"/o/{org.slug}/settings/audit/?verb=<script>")
    assert row in unknown.content.decode()


def test_deleting_an_organization_takes_its_trail_along(org, owner):
    organization_update(organization=org, actor=owner, **CHANGES)
    org.delete()
    assert not Organization.objects.filter(pk=org.pk).exists()


@pytest.mark.parametrize("days", ["0", "366", "x"])
def test_invitation_expiry_must_be_reasonable(days, org, owner, login):
    response = login(owner).post(url(org), {**FORM, "invitation_expiry_days": days})
    assert response.status_code == 200
    org.refresh_from_db()
    assert org.invitation_expiry_days == 30
