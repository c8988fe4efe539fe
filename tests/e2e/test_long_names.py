"""Long names (a 97-character company, a 100-character list, a long unbroken email) keep every
key page within the window at 1280 and 768 pixels, in English and in French: the navigation
cuts them with the full name on hover, table cells wrap.

With E2E_SCREENSHOTS=<folder> the pages are also saved as PNG files there, to look at."""

import os
import re
from pathlib import Path

import pytest

from credit.services.allocation import credit_allocate
from members.services.lists import list_add_members, list_create
from organizations.models import Member
from organizations.roles import Role
from organizations.services import member_add, organization_create
from tests.credit.rules_support import bought
from tests.factories import PASSWORD, UserFactory
from tests.usage.support import call
from usage.services.ingest import usage_records_ingest

COMPANY = (
    "Compagnie Internationale des Télécommunications et des Services Numériques Avancés "
    "de Lorraine SA"
)
LIST = (
    "Équipe commerciale internationale des grands comptes stratégiques et des partenaires "
    "distributeurs 2"
)
PAGES = (
    "",
    "members/",
    "members/{member}/",
    "members/{member}/credit/",
    "lists/",
    "lists/{list}/",
    "credit/",
    "credit/history/",
    "credit/rules/",
    "settings/",
    "settings/audit/",
    "me/",
    "me/usage/",
    "members/{member}/usage/",
    "usage/settings/",
    "rates/",
    "rates/?q=%2B44+7911+123456",
    "reports/",
    "reports/month/",
    "reports/year/",
    "reports/exports/",
    "reports/scheduled/",
    "me/spend/",
)


@pytest.fixture
def company(transactional_db):
    owner = UserFactory(
        username="owner-long",
        first_name="Maximilienne-Alexandrine-Bérénice",
        last_name="de La Rochefoucauld-Montmorency-Laval",
    )
    organization = organization_create(
        user=owner, name=COMPANY, country="FR", currency="EUR", time_zone="Europe/Paris"
    )
    founder = Member.objects.for_org(organization).get(user=owner)
    seller = member_add(
        organization=organization,
        actor=founder,
        user=UserFactory(
            first_name="Jean-Baptiste-Emmanuel",
            last_name="Saint-Exupéry-Montgolfier",
            email=f"{'averyveryverylongmailboxnamewithoutanybreak' * 2}@sub.long-company.example",
        ),
        role=Role.MEMBER,
        job_title="Responsable du développement commercial international et des partenariats",
    )
    team = list_create(organization=organization, actor=founder, name=LIST)
    list_add_members(organization=organization, actor=founder, member_list=team, members=[seller])
    bought(organization, founder, amount=100)
    credit_allocate(
        organization=organization, actor=founder, members=[seller], amount=10, idempotency_key="x"
    )
    usage_records_ingest(
        organization=organization, records=[call(founder), call(seller, "+33 6 12 34 56 78")]
    )
    return organization, seller, team


def sign_in(page, base):
    page.goto(f"{base}/accounts/login/")
    page.locator("input[name=login]").fill("owner-long")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("input[name=password]").press("Enter")
    page.wait_for_url(re.compile(r"/o/"))


@pytest.mark.e2e
@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("width", [1280, 768, 375])
def test_long_names_stay_within_the_window(live_server, new_context, company, width, language):
    organization, seller, team = company
    assert len(organization.name) == 97
    assert len(team.name) == 100
    context = new_context(locale="en-GB", viewport={"width": width, "height": 900})
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    page = context.new_page()
    sign_in(page, live_server.url)
    shots = os.environ.get("E2E_SCREENSHOTS")
    overflowing = {}
    for path in PAGES:
        page.goto(
            f"{live_server.url}/o/{organization.slug}/"
            + path.format(member=seller.pk, list=team.pk)
        )
        sizes = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if sizes[0] > sizes[1]:
            overflowing[path] = sizes
        if shots:
            name = re.sub(r"\W+", "-", path.format(member="m", list="l")).strip("-") or "home"
            page.screenshot(path=Path(shots) / f"{language}-{width}-{name}.png", full_page=True)
    assert overflowing == {}
    # The navigation shows the name cut short, and all of it on hover.
    assert page.locator(".org-bar [title]").first.get_attribute("title") == COMPANY
