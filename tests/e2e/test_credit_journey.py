"""An owner buys 100 EUR by card against the fake Stripe, sees the balance change on another
page without reloading, allocates 10 to each member of "Sales", takes 5 back from one member,
and finds it all in the history."""

import re

import pytest
from playwright.sync_api import expect

from credit.models import Account, Transfer
from members.models import ListMembership
from organizations.models import Member
from organizations.roles import Role
from tests.credit.stripe_fake import stripe_fake_server  # noqa: F401 (the fixture)
from tests.factories import PASSWORD, MemberFactory, MemberListFactory


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("Email, mobile number or username")).fill(username)
    page.get_by_label(re.compile(r"Password\W*$")).fill(PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("Sign in", re.I)).click()


@pytest.mark.e2e
def test_buy_allocate_take_back_history(live_server, new_context, stripe_fake, console_errors):
    base = live_server.url
    stripe_fake.webhook_url = f"{base}/webhooks/stripe/"
    stripe_fake.webhook_delay = 1.0
    owner = MemberFactory(role=Role.OWNER, user__username="owner-olga")
    org = owner.organization
    sales = MemberListFactory(organization=org, name="Sales")
    bob = MemberFactory(organization=org, display_name="Bob Seller")
    cat = MemberFactory(organization=org, display_name="Cat Seller")
    MemberFactory(organization=org, display_name="Dan Support")
    for member in (bob, cat):
        ListMembership.objects.create(organization=org, member_list=sales, member=member)

    context = new_context(locale="en-GB")
    watcher = context.new_page()
    watcher.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(watcher, base, "owner-olga")
    watcher.goto(f"{base}/o/{org.slug}/credit/")
    live = watcher.locator("[hx-trigger*='every']").first
    expect(live).to_contain_text("€0.00")

    buyer = context.new_page()
    buyer.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    buyer.goto(f"{base}/o/{org.slug}/credit/buy/")
    buyer.locator("label[for='method-card']").click()
    buyer.get_by_text("€100.00", exact=True).first.click()
    buyer.get_by_role("button", name="Continue").click()
    expect(buyer.locator("#summary")).to_contain_text("100")
    buyer.locator("#pay").click()
    expect(buyer.get_by_text(re.compile("processing", re.I)).first).to_be_visible()
    expect(buyer.get_by_text(re.compile("€100.00")).first).to_be_visible(timeout=15_000)

    # The overview opened before the purchase shows it, without a reload.
    expect(live).to_contain_text("€100.00", timeout=12_000)

    buyer.goto(f"{base}/o/{org.slug}/credit/allocate/")
    buyer.get_by_label("The members of a list").check()
    buyer.get_by_label("List", exact=True).select_option(label="Sales")
    buyer.get_by_label(re.compile("Amount for each member")).fill("10")
    buyer.get_by_role("button", name="Preview").click()
    expect(buyer.get_by_text("Bob Seller").first).to_be_visible()
    buyer.locator("button[name=step][value=confirm]").click()
    expect(buyer.locator(".alert-success").first).to_be_visible()

    buyer.goto(f"{base}/o/{org.slug}/members/{bob.pk}/credit/")
    buyer.get_by_label(re.compile("Amount to take back")).fill("5")
    buyer.once("dialog", lambda dialog: dialog.accept())
    buyer.locator("button[value=take_back]").click()
    expect(buyer.locator(".alert-success").first).to_be_visible()

    buyer.goto(f"{base}/o/{org.slug}/credit/history/")
    rows = buyer.locator("tbody tr")
    expect(rows).to_have_count(4)
    for kind in ("Purchase", "Allocation", "Take back"):
        expect(buyer.locator("tbody").get_by_text(kind).first).to_be_visible()

    wallets = {
        account.member_id: account.balance.amount
        for account in Account.objects.for_org(org).filter(kind=Account.Kind.MEMBER)
    }
    assert (wallets[bob.pk], wallets[cat.pk]) == (5, 10)
    assert Transfer.objects.for_org(org).count() == 4
    assert Member.objects.for_org(org).count() == 4
    assert [error for error in console_errors if "Content Security Policy" in error] == []
