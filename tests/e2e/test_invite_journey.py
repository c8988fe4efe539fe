"""An admin invites two people by email into "Sales"; the second signs up from the link in
the dev outbox and lands in the organization; the admin finds both in the directory, filters
by "Sales", opens a member's details and edits the job title."""

import re

import pytest
from playwright.sync_api import expect

from organizations.models import Member
from organizations.roles import Role
from tests.factories import PASSWORD, MemberFactory, MemberListFactory

NEW_PASSWORD = "a-long-pass-phrase-9"


def sign_in(page, base, login):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label(re.compile("Email, mobile number or username")).fill(login)
    page.get_by_label(re.compile(r"Password\W*$")).fill(PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("Sign in", re.I)).click()


@pytest.mark.e2e
def test_invite_two_into_sales_then_one_signs_up(
    live_server, new_context, settings, console_errors
):
    settings.DEV_OUTBOX = True
    base = live_server.url
    admin = MemberFactory(role=Role.ADMIN, user__username="admin-ada")
    org = admin.organization
    MemberListFactory(organization=org, name="Sales")
    MemberListFactory(organization=org, name="Support")

    page = new_context(locale="en-GB").new_page()
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    sign_in(page, base, "admin-ada")
    page.goto(f"{base}/o/{org.slug}/members/invite/")
    page.get_by_label("People to invite").fill("first@example.com\nsecond@example.com")
    page.get_by_label("Sales").check()
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("button", name="Send 2 invitations").click()
    expect(page.get_by_text("2 invitations are on their way.")).to_be_visible()
    expect(page.locator("#invitation-rows").get_by_text("Sent")).to_have_count(2)

    # The second person, in another browser, follows the link from the dev outbox.
    invitee = new_context(locale="en-GB").new_page()
    invitee.goto(f"{base}/dev/outbox/")
    card = invitee.locator(".card", has_text="second@example.com").first
    link = card.locator("a[href*='/i/']").first.get_attribute("href")
    invitee.goto(link.replace(settings.SITE_URL, base))
    expect(invitee.get_by_text(re.compile(f"join {org.name}"))).to_be_visible()
    invitee.get_by_role("link", name=re.compile("create my account", re.I)).click()
    invitee.get_by_label("Your name").fill("Sam Second")
    invitee.get_by_label(re.compile(r"Password\W*$")).fill(NEW_PASSWORD)
    invitee.get_by_label(re.compile(r"Password \(again\)")).fill(NEW_PASSWORD)
    invitee.get_by_role("button", name="Create my account and join").click()
    expect(invitee).to_have_url(f"{base}/o/{org.slug}/me/")
    expect(invitee.get_by_text("Sales").first).to_be_visible()
    joined = Member.objects.for_org(org).get(email="second@example.com")
    assert (joined.status, joined.role) == ("active", "member")

    # The admin sees both, filters by Sales, opens details and edits the job title.
    page.goto(f"{base}/o/{org.slug}/members/")
    expect(page.get_by_role("link", name="first@example.com")).to_be_visible()
    expect(page.get_by_role("link", name="Sam Second")).to_be_visible()
    page.get_by_label("List", exact=True).select_option(label="Sales")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Sam Second").click()
    page.get_by_text("Edit profile").click()
    page.get_by_label("Job title").fill("Account manager")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_text("Account manager").first).to_be_visible()
    joined.refresh_from_db()
    assert joined.job_title == "Account manager"
    assert [error for error in console_errors if "Content Security Policy" in error] == []
