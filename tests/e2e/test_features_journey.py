"""An owner assigns "France landlines unlimited, 1 month" to the list "Sales", finds the charge
in the credit history and the feature on a member's page, then cancels one at the period end."""

import re

import pytest
from playwright.sync_api import expect

from credit.models import Transfer
from members.models import ListMembership
from organizations.roles import Role
from subscriptions.models import Subscription
from tests.credit.rules_support import bought
from tests.factories import PASSWORD, MemberFactory, MemberListFactory


def sign_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("Email, mobile number or username")).fill(username)
    page.get_by_label(re.compile(r"Password\W*$")).fill(PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("Sign in", re.I)).click()


@pytest.mark.e2e
def test_assign_to_a_list_see_it_and_cancel_at_period_end(live_server, new_context):
    base = live_server.url
    owner = MemberFactory(role=Role.OWNER, user__username="owner-fabienne")
    org = owner.organization
    bought(org, owner, 50)
    sales = MemberListFactory(organization=org, name="Sales")
    bob = MemberFactory(organization=org, display_name="Bob Seller")
    cat = MemberFactory(organization=org, display_name="Cat Seller")
    MemberFactory(organization=org, display_name="Dan Support")
    for member in (bob, cat):
        ListMembership.objects.create(organization=org, member_list=sales, member=member)

    page = new_context(locale="en-GB").new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, "owner-fabienne")
    page.goto(f"{base}/o/{org.slug}/")
    page.get_by_role("link", name="Features", exact=True).first.click()
    page.get_by_role("link", name="Assign a feature").first.click()
    page.get_by_label("The members of a list").check()
    page.get_by_label("List", exact=True).select_option(label="Sales")
    page.locator("select[name=plan]").select_option(label="France landlines unlimited")
    page.get_by_label("1 month").check()
    page.get_by_role("button", name="Preview").click()
    expect(page.get_by_text("Cat Seller").first).to_be_visible()
    expect(page.locator("[data-total]")).to_have_text("€5.98")
    expect(page.locator("[data-after]")).to_have_text("€44.02")
    page.locator("button[name=step][value=confirm]").click()
    expect(page.locator(".alert-success").first).to_contain_text("assigned to 2 members")

    page.goto(f"{base}/o/{org.slug}/credit/history/")
    expect(page.locator("tbody").get_by_text("Subscription charge").first).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("France landlines unlimited for Bob Seller")

    page.goto(f"{base}/o/{org.slug}/members/{bob.pk}/")
    panel = page.locator("#features")
    expect(panel).to_contain_text("France landlines unlimited")
    expect(panel).to_contain_text("Unlimited minutes")
    panel.get_by_role("link", name="France landlines unlimited").click()
    page.get_by_role("link", name="Cancel this feature").click()
    page.get_by_label(re.compile("At the end of the period")).check()
    page.get_by_role("button", name="Cancel the feature").click()
    expect(page.locator(".alert-success").first).to_contain_text("ends at the end of its period")

    subscriptions = Subscription.objects.for_org(org)
    assert subscriptions.filter(member=bob, cancel_at_period_end=True).count() == 1
    assert subscriptions.filter(member=cat, cancel_at_period_end=False).count() == 1
    assert Transfer.objects.for_org(org).filter(kind="subscription_charge").count() == 2
    assert [error for error in errors if "Content Security Policy" in error] == []
