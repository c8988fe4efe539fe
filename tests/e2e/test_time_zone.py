"""Creating an organization, the time zone list follows the country as it is picked (a static
script: the page's CSP allows no inline code)."""

import re

import pytest
from playwright.sync_api import expect

from organizations.models import Organization
from tests.factories import PASSWORD, UserFactory


@pytest.mark.e2e
def test_the_time_zone_follows_the_country(live_server, page, transactional_db, console_errors):
    UserFactory(username="founder")
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill("founder")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(r"/orgs/"))
    page.goto(f"{base}/orgs/new/")

    zone = page.get_by_label("Time zone")
    page.get_by_label("Country").select_option("FR")
    expect(zone).to_have_value("Europe/Paris")
    page.get_by_label("Country").select_option("US")
    expect(zone).to_have_value("")
    first_group = zone.locator("optgroup").first
    expect(first_group).to_have_attribute("label", re.compile("United States"))
    expect(first_group.locator("option").first).to_have_attribute("value", "America/New_York")
    page.get_by_label("Country").select_option("DE")
    expect(zone).to_have_value("Europe/Berlin")
    page.get_by_label("Country").select_option("CA")
    zone.select_option("America/Toronto")

    page.get_by_label("Company name").fill("Maple Calls")
    page.get_by_role("button", name="Create organization").click()
    expect(page).to_have_url(re.compile(r"/o/maple-calls/"))
    assert Organization.objects.get().time_zone == "America/Toronto"
    assert console_errors == []
