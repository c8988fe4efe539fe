"""The Reports overview is live: a finance member watches it while an admin gives a member
credit in another browser; the figures change within seconds, without a reload. And on a phone
(375 pixels) as on a desktop, long names in any script keep it within the window.

With E2E_SCREENSHOTS=<folder> the pages are also saved as PNG files there, to look at."""

import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect

from credit.services.allocation import credit_allocate
from credit.services.caps import member_spending_cap_set
from organizations.roles import Role
from tests.credit.rules_support import bought
from tests.factories import MemberFactory
from tests.usage.support import call
from usage.services.ingest import usage_records_ingest

LONG_NAMES = (
    "Ōtsuka-Montmorency-Laval 🚀🚀🚀 " + "x" * 40 + " Maximilienne-Alexandrine-Bérénice",
    "عبد الرحمن بن محمد بن عبد الله آل سعود الفيصل الهاشمي القرشي " + "ـ" * 30 + " 📞",
    "averyveryverylongunbrokennamewithoutanyspaceatall" * 2,
)


def signed_in(new_context, live_server, user, **options):
    """A browser context where `user` is signed in (the session made by Django's client)."""
    client = Client()
    client.force_login(user)
    context = new_context(locale="en-GB", **options)
    name = settings.SESSION_COOKIE_NAME
    context.add_cookies(
        [{"name": name, "value": client.cookies[name].value, "url": live_server.url}]
    )
    return context


def console_errors_of(page) -> list[str]:
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return errors


@pytest.mark.e2e
def test_the_overview_follows_an_allocation_without_reloading(live_server, new_context):
    owner = MemberFactory(role=Role.OWNER)
    org = owner.organization
    finance = MemberFactory(organization=org, role=Role.FINANCE)
    admin = MemberFactory(organization=org, role=Role.ADMIN)
    bob = MemberFactory(organization=org, display_name="Bob Seller")
    bought(org, owner, 100)

    watcher = signed_in(new_context, live_server, finance.user).new_page()
    errors = console_errors_of(watcher)
    watcher.goto(f"{live_server.url}/o/{org.slug}/reports/")
    company = watcher.locator('[data-figure="company"]')
    members = watcher.locator('[data-figure="members"]')
    expect(company).to_have_text("€100.00")
    expect(members).to_have_text("€0.00")
    # Marks this very page: a reload would lose it.
    watcher.evaluate("window.sameVisit = true")

    giver = signed_in(new_context, live_server, admin.user).new_page()
    giver.goto(f"{live_server.url}/o/{org.slug}/members/{bob.pk}/credit/")
    giver.get_by_label(re.compile("Amount to give")).fill("25")
    giver.locator("button[value=allocate]").click()
    expect(giver.locator(".alert-success").first).to_be_visible()

    # Polled every 5 seconds: the new figures arrive within 7.
    expect(members).to_have_text("€25.00", timeout=7_000)
    expect(company).to_have_text("€75.00")
    activity = watcher.locator('[data-section="activity"]')
    expect(activity).to_contain_text(re.compile("Credit allocated to \u2068?Bob Seller"))
    expect(activity).to_contain_text(f"by {admin}")
    assert watcher.evaluate("window.sameVisit") is True, "the page was not reloaded"
    assert errors == []


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", [375, 1280])
def test_long_names_on_a_phone_and_a_desktop(live_server, new_context, language, width):
    owner = MemberFactory(role=Role.OWNER)
    org = owner.organization
    org.name = "Compagnie des Télécommunications 🌍 شركة الاتصالات الدولية " + "y" * 40
    org.save(update_fields=["name"])
    bought(org, owner, 300)
    people = [MemberFactory(organization=org, display_name=name) for name in LONG_NAMES]
    credit_allocate(organization=org, actor=owner, members=people, amount=50, idempotency_key="all")
    for person in people:
        member_spending_cap_set(organization=org, actor=owner, member=person, cap=10)
    usage_records_ingest(
        organization=org,
        records=[call(person, cost="9.5") for person in people]
        + [call(people[0], cost="120", seconds=3600)],
    )

    context = signed_in(
        new_context, live_server, owner.user, viewport={"width": width, "height": 800}
    )
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    errors = console_errors_of(page)
    page.goto(f"{live_server.url}/o/{org.slug}/reports/")
    expect(page.locator('[data-section="near-cap"] li')).to_have_count(3)
    expect(page.locator('[data-activity="call"]')).to_have_count(1)
    scrolled, window = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scrolled <= window, "nothing is wider than the window"
    # The Reports tabs scroll sideways inside their own bar rather than widening the page.
    tabs = page.get_by_role("navigation", name=re.compile("Reports|Rapports"))
    expect(tabs).to_be_visible()
    assert errors == []
    if shots := os.environ.get("E2E_SCREENSHOTS"):
        page.screenshot(path=Path(shots) / f"overview-{language}-{width}.png", full_page=True)
