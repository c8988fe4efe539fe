"""A new person signs up, verifies from the dev outbox, creates Acme SARL and goes French."""

import re

import pytest
from playwright.sync_api import expect

from organizations.models import Organization

PASSWORD = "a-long-pass-phrase-9"


@pytest.mark.e2e
def test_sign_up_verify_create_organization_switch_to_french(
    live_server, page, settings, console_errors
):
    settings.DEV_OUTBOX = True
    base = live_server.url

    page.goto(f"{base}/")
    page.get_by_role("link", name=re.compile("Create your company account", re.I)).first.click()
    page.get_by_label("Email").fill("founder@acme.example")
    page.get_by_label(re.compile(r"Password\W*$")).fill(PASSWORD)
    page.get_by_label(re.compile(r"Password \(again\)")).fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()

    # Nobody is signed in before the address is verified (a registered address would get the
    # same page): check the inbox.
    expect(page).to_have_url(f"{base}/accounts/confirm-email/")
    expect(page.get_by_text(re.compile("Verify your email address", re.I)).first).to_be_visible()
    page.goto(f"{base}/orgs/new/")
    expect(page.get_by_label("Company name")).to_have_count(0)

    page.goto(f"{base}/dev/outbox/")
    page.locator("a[href*='/accounts/confirm-email/']").first.click()
    page.get_by_role("button", name=re.compile("Confirm", re.I)).click()

    page.goto(f"{base}/orgs/new/")
    page.get_by_label("Company name").fill("Acme SARL")
    page.get_by_label("Country").select_option("FR")
    page.get_by_label("Currency").select_option("EUR")
    page.get_by_label("Time zone").select_option("Europe/Paris")
    page.get_by_role("button", name="Create organization").click()

    expect(page).to_have_url(f"{base}/o/acme-sarl/")
    expect(page.get_by_role("heading", name=re.compile("Acme SARL"))).to_be_visible()
    assert Organization.objects.get().currency == "EUR"

    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_url(f"{base}/o/acme-sarl/")
    expect(page.get_by_role("link", name="Accueil").first).to_be_visible()

    assert [error for error in console_errors if "Content Security Policy" in error] == []
