"""Spending safety: the low-balance warning, the company auto-recharge asked when the company
balance drops, and members' spending this month against their cap."""

from decimal import Decimal

import pytest
from djmoney.money import Money

from credit.models import Account, CreditSettings
from credit.selectors.settings import credit_settings
from credit.selectors.spending import member_may_spend, member_spend_this_month
from credit.services import alerts, auto_recharge, ledger
from credit.tasks.rules import check_auto_recharges
from organizations.models import AuditEvent
from tests.credit.rules_support import emails, fund, give, money, spend, utc


def warn_below(organization, value):
    CreditSettings.objects.for_org(organization).filter(pk=credit_settings(organization).pk).update(
        low_balance_warning=money(organization, value)
    )


def warned_at(organization):
    return credit_settings(organization).low_balance_warned_at


def test_the_low_balance_warning_is_sent_once_and_rearmed(
    org, owner, admin, finance, employee, django_capture_on_commit_callbacks
):
    warn_below(org, 50)
    fund(org, 100)
    with django_capture_on_commit_callbacks(execute=True):
        give(org, employee, 40)
    assert emails("low-balance") == [], "60 is above 50"

    with django_capture_on_commit_callbacks(execute=True):
        give(org, employee, 20)
    mails = emails("low-balance")
    assert {m.to for m in mails} == {owner.email, admin.email}, "owners and admins, not finance"
    assert "€40.00" in mails[0].body
    assert "€50.00" in mails[0].body
    assert warned_at(org) is not None
    assert AuditEvent.objects.for_org(org).filter(verb="credit.low_balance_warned").count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        give(org, employee, 5)
    check_auto_recharges()
    assert len(emails("low-balance")) == 2, "warned once while below"

    fund(org, 100)  # a purchase: the balance is back above the level
    check_auto_recharges()
    assert warned_at(org) is None, "re-armed by the next check"

    with django_capture_on_commit_callbacks(execute=True):
        give(org, employee, 100)
    assert len(emails("low-balance")) == 4, "below again: warned again"


def test_no_warning_when_none_is_set(org, owner, employee, django_capture_on_commit_callbacks):
    fund(org, 10)
    with django_capture_on_commit_callbacks(execute=True):
        give(org, employee, 10)
    assert alerts.low_balance_check(organization=org) is None
    assert emails("low-balance") == []


def test_the_periodic_check_warns_about_a_drop_it_did_not_see(org, owner):
    warn_below(org, 20)
    fund(org, 10)  # no after-commit callbacks here
    assert emails("low-balance") == []
    check_auto_recharges()
    check_auto_recharges()
    assert [m.to for m in emails("low-balance")] == [owner.email]


def test_a_drop_of_the_company_balance_asks_the_company_auto_recharge(
    org, owner, employee, monkeypatch, django_capture_on_commit_callbacks
):
    settings_row = credit_settings(org)
    settings_row.auto_recharge_enabled = True
    settings_row.save()
    asked = []
    monkeypatch.setattr(
        auto_recharge, "auto_recharge_start_if_needed", lambda **kw: asked.append(kw)
    )
    fund(org, 100)
    with django_capture_on_commit_callbacks(execute=True):
        give(org, employee, 30)
    assert asked == [{"organization": org}]

    with django_capture_on_commit_callbacks(execute=True):
        spend(org, employee, 5)  # only the member's wallet went down
    assert len(asked) == 1


def test_the_company_auto_recharge_is_not_asked_when_it_is_off(
    org, owner, employee, monkeypatch, django_capture_on_commit_callbacks
):
    asked = []
    monkeypatch.setattr(
        auto_recharge, "auto_recharge_start_if_needed", lambda **kw: asked.append(kw)
    )
    fund(org, 100)
    with django_capture_on_commit_callbacks(execute=True):
        give(org, employee, 30)
    assert asked == []


# --- Spending this month and the cap -------------------------------------------------------------


def set_cap(organization, member, value):
    wallet = ledger.member_wallet(organization, member)
    Account.objects.for_org(organization).filter(pk=wallet.pk).update(
        monthly_spending_cap=None if value is None else money(organization, value)
    )


def test_spend_this_month_counts_usage_and_charges_in_the_organizations_month(
    org, employee, time_machine
):
    org.time_zone = "Pacific/Auckland"
    org.save()
    fund(org, 500)
    give(org, employee, 200)
    time_machine.move_to(utc(2026, 3, 31, 10, 30), tick=False)  # Auckland: 31 March, 23:30
    spend(org, employee, "7.25")
    time_machine.move_to(utc(2026, 3, 31, 11, 30), tick=False)  # Auckland: 1 April, 00:30
    spend(org, employee, "1.2345")
    spend(org, employee, 10, kind="subscription_charge")
    give(org, employee, 5)  # receiving credit is not spending
    assert member_spend_this_month(organization=org, member=employee) == Money(
        Decimal("11.2345"), "EUR"
    )


def test_spend_of_a_member_without_a_wallet_is_zero(org, employee):
    assert member_spend_this_month(organization=org, member=employee) == money(org, 0)
    assert member_may_spend(organization=org, member=employee, amount=1000)


@pytest.mark.parametrize(
    ("cap", "amount", "allowed"),
    [(None, "500", True), ("20", "4.9999", True), ("20", "5", True), ("20", "5.0001", False)],
)
def test_the_cap_bounds_what_a_member_may_spend(org, employee, cap, amount, allowed):
    fund(org, 100)
    give(org, employee, 50)
    spend(org, employee, 15)
    set_cap(org, employee, cap)
    assert member_may_spend(organization=org, member=employee, amount=amount) is allowed
    assert member_may_spend(organization=org, member=employee, amount=money(org, amount)) is (
        allowed
    )


def test_last_months_spend_does_not_count_against_this_months_cap(org, employee, time_machine):
    fund(org, 100)
    give(org, employee, 50)
    time_machine.move_to(utc(2026, 4, 30, 12), tick=False)
    spend(org, employee, 20)
    set_cap(org, employee, 20)
    assert not member_may_spend(organization=org, member=employee, amount="0.01")
    time_machine.move_to(utc(2026, 4, 30, 22, 1), tick=False)  # Paris: 1 May, 00:01
    assert member_may_spend(organization=org, member=employee, amount=20)
