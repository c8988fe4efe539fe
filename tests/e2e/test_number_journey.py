"""An owner buys a number for a member against the local Twilio: searches France in area 1,
picks a number found, checks the total, confirms, and sees the number active; the member
finds it on My account."""

import re

import pytest
from playwright.sync_api import expect

from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.e2e.test_credit_journey import sign_in
from tests.factories import MemberFactory


@pytest.mark.e2e
def test_buy_a_number(live_server, new_context, twilio_numbers, console_errors):
    base = live_server.url
    owner = MemberFactory(role=Role.OWNER, user__username="owner-nadia")
    org = owner.organization
    bought(org, owner, 50)
    MemberFactory(organization=org, display_name="Bob Caller", user__username="bob-caller")

    page = new_context(locale="en-GB").new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, "owner-nadia")
    page.goto(f"{base}/o/{org.slug}/features/numbers/buy/")
    page.get_by_label("Member", exact=True).fill("bob")
    choice = page.get_by_label(re.compile("Bob Caller"))
    expect(choice).to_be_visible()
    choice.check()
    page.locator("#id_country").select_option("FR")
    page.locator("#id_area").fill("1")
    page.get_by_role("button", name="Search numbers").click()
    found = page.get_by_label(re.compile(r"\+33159000002"))
    expect(found).to_be_visible()
    found.check()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("[data-number]")).to_contain_text("+33159000002")
    expect(page.locator("[data-total]")).to_be_visible()
    page.get_by_role("button", name=re.compile("Confirm")).click()

    row = page.locator("tr[data-status]").first
    expect(row).to_have_attribute("data-status", "active", timeout=10_000)
    expect(row).to_contain_text("+33159000002")
    expect(row).to_contain_text("Bob Caller")
    assert len(twilio_numbers.purchases) == 1
    assert console_errors == []

    member_page = new_context(locale="en-GB").new_page()
    sign_in(member_page, base, "bob-caller")
    member_page.goto(f"{base}/o/{org.slug}/me/")
    expect(member_page.get_by_test_id("my-numbers")).to_contain_text("+33159000002")
