"""Finance narrows the credit history to one member by typing part of a name (the member
picker, htmx), pages back through older movements, and downloads what the filters keep."""

import re

import pytest
from playwright.sync_api import expect

from credit.services.allocation import credit_allocate
from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.factories import PASSWORD, MemberFactory


@pytest.mark.e2e
def test_pick_a_member_by_typing_then_page_back(live_server, page, console_errors):
    finance = MemberFactory(role=Role.FINANCE, user__username="finance-fanny")
    org = finance.organization
    owner = MemberFactory(organization=org, role=Role.OWNER)
    bob = MemberFactory(organization=org, display_name="Bob Seller")
    bobby = MemberFactory(organization=org, display_name="Bobby Tables")
    others = MemberFactory.create_batch(3, organization=org)
    bought(org, owner, 500)
    credit_allocate(organization=org, actor=owner, members=[bobby], amount=1, idempotency_key="b")
    for number in range(30):
        credit_allocate(organization=org, actor=owner, members=[bob, *others], amount=1,
                        idempotency_key=f"k{number}")  # fmt: skip

    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("Email, mobile number or username")).fill("finance-fanny")
    page.get_by_label(re.compile(r"Password\W*$")).fill(PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.goto(f"{base}/o/{org.slug}/credit/history/")
    expect(page.locator("tbody tr")).to_have_count(50)

    page.get_by_label("Member", exact=True).fill("bob")
    choice = page.get_by_label(re.compile("Bob Seller"))
    expect(choice).to_be_visible()
    expect(page.get_by_label(re.compile("Bobby Tables"))).to_be_visible()
    choice.check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(30)
    expect(page.get_by_label("Member", exact=True)).to_have_value("Bob Seller")
    assert f"member={bob.pk}" in page.url

    page.get_by_label("Type").select_option("allocation")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(30)
    download_link = page.get_by_role("link", name="Download CSV")
    assert f"member={bob.pk}" in download_link.get_attribute("href")
    assert "kind=allocation" in download_link.get_attribute("href")

    page.get_by_label("Member", exact=True).fill("")
    page.get_by_label("Everyone").check()
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tbody tr")).to_have_count(50)
    page.get_by_role("link", name="Older").click()
    expect(page.locator("tbody tr")).to_have_count(50)
    assert "kind=allocation" in page.url
    page.get_by_role("link", name="Newer").click()
    expect(page.locator("tbody tr")).to_have_count(50)
    assert console_errors == []
