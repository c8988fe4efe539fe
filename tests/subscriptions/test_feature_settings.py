"""The feature settings page: owners change the renewal policy (amounts typed the page's way,
blank for "no limit"), admins and finance read it; odd input gets a message and changes
nothing; each change is one audit event that says what changed."""

import re
from decimal import Decimal

import pytest
from django.utils.html import strip_tags

from organizations.models import AuditEvent
from organizations.scoping import tenant_scope
from skypemgr.errors import ApplicationError
from subscriptions.models import FeatureSettings
from subscriptions.services.settings import feature_settings_update

pytestmark = pytest.mark.django_db

VALID = {
    "grace_days": "10",
    "number_hold_days": "45",
    "renew_min_balance": "",
    "notice_days": "5",
    "notice_threshold": "250",
}


def url(org) -> str:
    return f"/o/{org.slug}/features/settings/"


def row(org) -> FeatureSettings:
    with tenant_scope(org):
        return FeatureSettings.objects.get()


def values(org) -> dict:
    current = row(org)
    return {
        "grace_days": current.grace_days,
        "number_hold_days": current.number_hold_days,
        "renew_min_balance": current.renew_min_balance,
        "notice_days": current.notice_days,
        "notice_threshold": current.notice_threshold,
    }


def text_of(response) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", " ", strip_tags(response.content.decode()))


def events(org):
    with tenant_scope(org):
        return list(AuditEvent.objects.filter(verb="feature_settings.updated"))


def test_an_owner_saves_the_policy_and_the_audit_says_what_changed(org, owner, login):
    client = login(owner)
    response = client.post(url(org), {**VALID, "renew_min_balance": "1,500.50"})
    assert response.status_code == 302
    assert values(org) == {
        "grace_days": 10,
        "number_hold_days": 45,
        "renew_min_balance": Decimal("1500.5"),
        "notice_days": 5,
        "notice_threshold": Decimal("250"),
    }
    [event] = events(org)
    assert event.actor == owner
    assert event.data["changes"]["grace_days"] == {"from": 7, "to": 10}
    assert event.data["changes"]["renew_min_balance"] == {"from": None, "to": "1500.5"}
    assert "notice_threshold" in event.data["changes"]
    log = text_of(client.get(f"/o/{org.slug}/settings/audit/"))
    assert (
        f"{owner} changed the feature settings: grace period 7 days → 10 days, numbers kept "
        "for 30 days → 45 days, renew only above none → €1,500.50, large renewal days "
        "announced 3 days → 5 days, and large renewal days from €100.00 → €250.00." in log
    )


def test_saving_the_same_values_again_records_nothing_new(org, owner, login):
    client = login(owner)
    client.post(url(org), VALID)
    client.post(url(org), VALID)
    assert len(events(org)) == 1


def test_french_amounts_are_read_the_french_way(org, owner, login):
    client = login(owner)
    client.cookies["django_language"] = "fr"
    response = client.post(
        url(org), {**VALID, "renew_min_balance": "1 500,50", "notice_threshold": "2 000"}
    )
    assert response.status_code == 302
    assert row(org).renew_min_balance == Decimal("1500.50")
    assert row(org).notice_threshold == Decimal("2000")
    page = client.get(url(org)).content.decode()
    assert 'value="1\u00a0500,50"' in page or 'value="1\u202f500,50"' in page


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("renew_min_balance", "-5", "Enter 0 or more."),
        ("notice_threshold", "-0.01", "Enter 0 or more."),
        ("notice_threshold", "", "Enter an amount, 0 to hear of every renewal day."),
        ("renew_min_balance", "1.500", "Use at most 2 decimal places"),
        ("renew_min_balance", "12.345", "Use at most 2 decimal places"),
        ("renew_min_balance", "10 USD", "Amounts are in EUR here"),
        ("renew_min_balance", "1e9999", "Write the amount like 1,500.50."),
        ("notice_threshold", "9" * 39, "This amount is too large."),
        ("notice_threshold", "=1+1", "Write the amount like 1,500.50."),
        ("grace_days", "-1", "Enter a whole number of days from 0 to 60."),
        ("grace_days", "61", "Enter a whole number of days from 0 to 60."),
        ("grace_days", "7.5", "Enter a whole number of days from 0 to 60."),
        ("grace_days", "", "Enter a whole number of days from 0 to 60."),
        ("number_hold_days", "366", "Enter a whole number of days from 0 to 365."),
        ("notice_days", "0", "Enter a whole number of days from 1 to 30."),
        ("notice_days", "3\x00", "Enter a whole number of days from 1 to 30."),
        ("notice_days", "twelve", "Enter a whole number of days from 1 to 30."),
    ],
)
def test_odd_input_gets_a_message_and_changes_nothing(org, owner, login, field, typed, message):
    before = values(org)
    response = login(owner).post(url(org), {**VALID, field: typed})
    assert response.status_code == 200
    assert message in text_of(response)
    assert values(org) == before
    assert events(org) == []


def test_a_french_negative_amount_is_refused(org, owner, login):
    client = login(owner)
    client.cookies["django_language"] = "fr"
    before = values(org)
    response = client.post(url(org), {**VALID, "renew_min_balance": "-1 500,50"})
    assert response.status_code == 200
    assert values(org) == before


@pytest.mark.parametrize("role", ["admin", "finance"])
def test_admins_and_finance_read_the_settings_but_cannot_change_them(
    org, owner, admin, finance, login, role
):
    member = {"admin": admin, "finance": finance}[role]
    client = login(member)
    page = client.get(url(org))
    assert page.status_code == 200
    assert "Only owners change these settings." in text_of(page)
    assert "disabled" in page.content.decode()
    assert client.post(url(org), VALID).status_code == 403
    assert row(org).grace_days == 7


def test_employees_cannot_open_the_settings(org, employee, login):
    assert login(employee).get(url(org)).status_code == 403


def test_the_service_refuses_what_the_form_would_not_send(org, owner):
    with tenant_scope(org), pytest.raises(ApplicationError) as refused:
        feature_settings_update(
            organization=org,
            actor=owner,
            grace_days=True,
            number_hold_days=30,
            renew_min_balance=None,
            notice_days=3,
            notice_threshold=Decimal("100"),
        )
    assert refused.value.field == "grace_days"
    with tenant_scope(org), pytest.raises(ApplicationError) as refused:
        feature_settings_update(
            organization=org,
            actor=owner,
            grace_days=7,
            number_hold_days=30,
            renew_min_balance=Decimal("NaN"),
            notice_days=3,
            notice_threshold=Decimal("100"),
        )
    assert refused.value.field == "renew_min_balance"
    assert events(org) == []


def test_the_settings_page_and_the_calendar_link_to_each_other(org, owner, admin, login):
    settings_page = login(admin).get(f"/o/{org.slug}/settings/").content.decode()
    assert f'href="/o/{org.slug}/features/settings/"' in settings_page
    feature_page = login(owner).get(url(org)).content.decode()
    assert f'href="/o/{org.slug}/features/calendar/"' in feature_page
    calendar = login(owner).get(f"/o/{org.slug}/features/calendar/").content.decode()
    assert f'href="/o/{org.slug}/features/settings/"' in calendar
