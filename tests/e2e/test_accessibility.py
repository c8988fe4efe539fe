"""axe-core (bundled by axe-playwright-python, nothing downloaded) finds no serious or critical
problem on the key pages of the demo company, menus open or closed, on a desk and on a phone;
scrolling tables take the keyboard's focus."""

import re
from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from members.services.lists import list_add_members, list_create
from organizations.management.commands.demo_data import DEMO_PASSWORD
from organizations.models import Member, Organization
from organizations.roles import Role

KEY_PAGES = (
    "",
    "members/",
    "members/{member}/",
    "members/invite/",
    "lists/",
    "credit/",
    "credit/buy/",
    "credit/history/",
    "credit/rules/",
    "settings/",
    "me/",
    "me/usage/",
    "members/{member}/usage/",
    "usage/settings/",
    "rates/",
    "rates/?q=%2B33+6+12+34+56+78",
    "reports/",
    "reports/month/",
    "reports/year/",
    "reports/exports/",
    "reports/scheduled/",
    "me/spend/",
)
BLOCKING = ("serious", "critical")


@pytest.fixture
def demo(settings, transactional_db):
    """The demo company (`manage.py demo_data`), with a list of its two employees."""
    settings.DEBUG = True  # demo data refuses to load in production
    call_command("demo_data", stdout=StringIO())
    settings.DEBUG = False
    organization = Organization.objects.get(name="Demo SARL")
    members = Member.objects.for_org(organization)
    owner = members.get(role=Role.OWNER)
    sales = list_create(organization=organization, actor=owner, name="Sales")
    list_add_members(
        organization=organization,
        actor=owner,
        member_list=sales,
        members=members.exclude(role=Role.OWNER),
    )
    return organization


def sign_in(page, base, login):
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form").get_by_role("button", name=re.compile("Sign in", re.I)).click()
    page.wait_for_url(re.compile(r"/o/"))


def problems(page) -> list[tuple[str, list]]:
    results = Axe().run(page)
    return [
        (violation["id"], [node["target"] for node in violation["nodes"]])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING
    ]


def key_pages(base, organization) -> list[str]:
    employee = Member.objects.for_org(organization).get(role=Role.MEMBER)
    root = f"{base}/o/{organization.slug}/"
    return [root + path.format(member=employee.pk) for path in KEY_PAGES]


@pytest.mark.e2e
@pytest.mark.parametrize("width", [1280, 375])
def test_key_pages_have_no_serious_accessibility_problem(live_server, new_context, demo, width):
    context = new_context(locale="en-GB", viewport={"width": width, "height": 900})
    page = context.new_page()
    sign_in(page, live_server.url, "alice")
    found = {}
    for url in key_pages(live_server.url, demo):
        page.goto(url)
        found[url] = problems(page)
        # Every scrolling table is reachable with the keyboard, and says what it holds.
        regions = page.locator(".table-responsive").evaluate_all(
            """tables => tables.map(t => [t.tabIndex, t.getAttribute('role'),
                                         t.getAttribute('aria-label')])"""
        )
        assert all(index == 0 and role == "region" and label for index, role, label in regions)
    if width == 1280:
        page.goto(f"{live_server.url}/o/{demo.slug}/")
        for menu in ("#org-switcher", "#user-menu"):
            page.locator(menu).click()
            found[menu] = problems(page)
            page.keyboard.press("Escape")
    assert {url: issues for url, issues in found.items() if issues} == {}


@pytest.mark.e2e
def test_an_employees_pages_have_no_serious_accessibility_problem(live_server, page, demo):
    sign_in(page, live_server.url, "chloe")
    page.goto(f"{live_server.url}/o/{demo.slug}/me/")
    assert problems(page) == []


@pytest.mark.e2e
def test_a_scrolling_table_scrolls_from_the_keyboard(live_server, new_context, demo):
    context = new_context(locale="en-GB", viewport={"width": 375, "height": 800})
    page = context.new_page()
    sign_in(page, live_server.url, "alice")
    page.goto(f"{live_server.url}/o/{demo.slug}/members/")
    table = page.locator(".table-responsive").first
    assert table.evaluate("t => t.scrollWidth > t.clientWidth")
    table.focus()
    assert table.evaluate("t => document.activeElement === t")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('.table-responsive').scrollLeft > 0")
