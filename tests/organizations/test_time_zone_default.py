"""An organization's time zone follows its country: chosen when the country has one clock,
asked (the country's zones listed first) when it has several; dates follow the language."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from organizations.forms import OrganizationForm
from organizations.models import Organization
from organizations.time_zones import country_time_zone, country_time_zones
from tests.factories import UserFactory

CREATE = "/orgs/new/"


def form(**values):
    return {"name": "Acme", "currency": "EUR", "time_zone": "", **values}


@pytest.fixture
def person(db, login):
    return login(UserFactory())


def created() -> Organization | None:
    return Organization.objects.filter(name="Acme").first()


@pytest.mark.parametrize(
    ("country", "zone"),
    [
        ("FR", "Europe/Paris"),
        ("GB", "Europe/London"),
        ("DE", "Europe/Berlin"),
        ("JP", "Asia/Tokyo"),
    ],
)
def test_a_country_with_one_clock_gives_its_time_zone(person, country, zone):
    response = person.post(CREATE, form(country=country))
    assert response.status_code == 302
    assert created().time_zone == zone


def test_a_country_with_several_time_zones_asks(person):
    response = person.post(CREATE, form(country="US"))
    assert response.status_code == 200
    assert created() is None
    page = response.content.decode()
    assert "has several time zones" in page
    # The country's zones come first, the way the tz database lists them.
    group = re.search(
        r'<optgroup label="Time zones of United States[^"]*">(.*?)</optgroup>', page, re.S
    )
    assert group is not None
    assert re.findall(r'value="([^"]+)"', group.group(1))[:2] == [
        "America/New_York",
        "America/Detroit",
    ]
    assert 'name="zone_country" value="US"' in page

    response = person.post(
        CREATE, form(country="US", time_zone="America/Chicago", zone_country="US")
    )
    assert response.status_code == 302
    assert created().time_zone == "America/Chicago"


def test_changing_the_country_on_submit_moves_the_time_zone(person):
    """Without the script: the list was shown for France (Paris chosen), then the person
    picked Belgium and sent the form."""
    person.post(CREATE, form(country="BE", time_zone="Europe/Paris", zone_country="FR"))
    assert created().time_zone == "Europe/Brussels"


def test_a_time_zone_chosen_for_the_country_stays(person):
    person.post(CREATE, form(country="FR", time_zone="UTC", zone_country="FR"))
    assert created().time_zone == "UTC"


def test_the_create_page_does_not_assume_london(person):
    page = person.get(CREATE).content.decode()
    assert re.search(r'<option value="Europe/London"[^>]*selected', page) is None
    assert re.search(r'<option value=""[^>]*selected[^>]*>The country', page)


def test_the_french_page_starts_from_france(person):
    person.cookies["django_language"] = "fr"
    page = person.get(CREATE).content.decode()
    assert re.search(r'<option value="FR" selected>', page)
    response = person.post(CREATE, form(country="FR"))
    assert response.status_code == 302
    assert created().time_zone == "Europe/Paris"


def test_settings_follow_a_new_country(org, owner, login):
    client = login(owner)
    values = {"name": org.name, "currency": "EUR", "invitation_expiry_days": 30}
    client.post(
        f"/o/{org.slug}/settings/",
        {**values, "country": "BE", "time_zone": "Europe/Paris", "zone_country": "FR"},
    )
    org.refresh_from_db()
    assert (org.country.code, org.time_zone) == ("BE", "Europe/Brussels")
    response = client.post(
        f"/o/{org.slug}/settings/",
        {**values, "country": "CA", "time_zone": "Europe/Brussels", "zone_country": "BE"},
    )
    assert "has several time zones" in response.content.decode()
    org.refresh_from_db()
    assert (org.country.code, org.time_zone) == ("BE", "Europe/Brussels")


def test_country_time_zones():
    assert country_time_zone("FR") == "Europe/Paris"
    assert country_time_zone("US") is None
    assert country_time_zones("AU")[0].startswith(("Australia/", "Antarctica/"))
    assert country_time_zone("BV") is None
    with translation.override("en"):
        form_ = OrganizationForm(initial={"country": "ES"})
        groups = [label for label, _choices in form_.fields["time_zone"].choices[1:3]]
    assert groups == ["Time zones of Spain", "Other time zones"]


NAMED_FORMATS = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "TIME_FORMAT",
    "c",
}


def test_templates_use_the_languages_date_formats():
    """An explicit format ("F Y", "d/m/Y") would show English conventions on French pages."""
    explicit = []
    for template in Path(settings.BASE_DIR, "templates").rglob("*.*"):
        for found in re.findall(r"""\|date:["']([^"']+)["']""", template.read_text()):
            if found not in NAMED_FORMATS:
                explicit.append((template.name, found))
    assert explicit == []
