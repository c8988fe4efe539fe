"""Masked destinations (UsageSettings.mask_destinations): admins and members read numbers with
their last four digits hidden, owners and finance read them whole; and the usage settings
page where owners switch it (and the unusual-spend factor), audited."""

import pytest

from organizations.models import AuditEvent
from organizations.roles import Role
from skypemgr.errors import ApplicationError
from tests.factories import MemberFactory
from tests.usage.support import call
from usage.models import UsageSettings
from usage.selectors.usage import destination_shown, destinations_masked
from usage.services.ingest import usage_records_ingest
from usage.services.settings import usage_settings, usage_settings_update

# As the ingestion stores a number (E.164), and as a masked reader sees it.
WHOLE = "+33123456789"
MASKED = "+3312345••••"


def called(org, member) -> None:
    """`member` called WHOLE (recorded through the ingestion)."""
    [outcome] = usage_records_ingest(organization=org, records=[call(member, "+33 1 23 45 67 89")])
    assert outcome.record.destination == WHOLE


@pytest.mark.parametrize(
    ("destination", "shown"),
    [
        ("+33 1 23 45 67 89", "+33 1 23 45 •• ••"),
        ("+33123456789", "+3312345••••"),
        ("112", "•••"),
        ("", ""),
        ("anonymous", "anonymous"),
        ("+1 (555) 010-9999", "+1 (555) 010-••••"),
    ],
)
def test_the_last_four_digits_are_hidden(destination, shown):
    assert destination_shown(destination, masked=True) == shown
    assert destination_shown(destination, masked=False) == destination


def mask(org, on=True):
    UsageSettings.objects.for_org(org).update(mask_destinations=on)


def pages_of(org, reader, subject) -> list[str]:
    """The pages where `reader` sees `subject`'s calls."""
    base = f"/o/{org.slug}"
    if reader == subject:
        return [f"{base}/me/", f"{base}/me/usage/"]
    return [f"{base}/members/{subject.pk}/", f"{base}/members/{subject.pk}/usage/"]


@pytest.mark.parametrize(
    ("role", "masked"),
    [(Role.OWNER, False), (Role.FINANCE, False), (Role.ADMIN, True), (Role.MEMBER, True)],
)
def test_who_sees_whole_numbers_when_masking_is_on(org, login, role, masked):
    mask(org)
    reader = MemberFactory(organization=org, role=role)
    subject = reader if role == Role.MEMBER else MemberFactory(organization=org)
    called(org, subject)
    assert destinations_masked(organization=org, viewer=reader) is masked
    for url in pages_of(org, reader, subject):
        page = login(reader).get(url).content.decode()
        assert (MASKED if masked else WHOLE) in page, url
        if masked:
            assert WHOLE not in page, url


@pytest.mark.parametrize("role", list(Role))
def test_everyone_sees_whole_numbers_when_masking_is_off(org, login, role):
    reader = MemberFactory(organization=org, role=role)
    subject = reader if role == Role.MEMBER else MemberFactory(organization=org)
    called(org, subject)
    assert not destinations_masked(organization=org, viewer=reader)
    for url in pages_of(org, reader, subject):
        assert WHOLE in login(reader).get(url).content.decode(), url


def test_an_admin_reading_their_own_calls_sees_them_masked(org, admin, login):
    mask(org)
    called(org, admin)
    page = login(admin).get(f"/o/{org.slug}/me/usage/").content.decode()
    assert MASKED in page
    assert "The last digits of numbers are hidden" in page


def test_masking_is_per_organization(org, other_org, login):
    mask(other_org)
    admin = MemberFactory(organization=org, role=Role.ADMIN)
    assert not destinations_masked(organization=org, viewer=admin)


# --- The settings page -----------------------------------------------------------------------


def settings_url(org) -> str:
    return f"/o/{org.slug}/usage/settings/"


def events(org) -> list[AuditEvent]:
    return list(AuditEvent.objects.for_org(org).filter(verb="usage_settings.updated"))


def test_an_owner_turns_masking_on_and_changes_the_factor(org, owner, login):
    client = login(owner)
    form = client.get(settings_url(org))
    assert form.status_code == 200
    assert 'name="unusual_spend_factor"' in form.content.decode()

    response = client.post(
        settings_url(org), {"mask_destinations": "on", "unusual_spend_factor": "7"}
    )

    assert response.status_code == 302
    row = usage_settings(org)
    assert (row.mask_destinations, row.unusual_spend_factor) == (True, 7)
    [event] = events(org)
    assert event.data == {
        "changes": {
            "mask_destinations": {"from": False, "to": True},
            "unusual_spend_factor": {"from": 5, "to": 7},
        }
    }
    client.post(settings_url(org), {"mask_destinations": "on", "unusual_spend_factor": "7"})
    assert len(events(org)) == 1, "the same values again record nothing"
    log = client.get(f"/o/{org.slug}/settings/audit/").content.decode()
    assert "changed the usage settings" in log
    assert "unusual spend factor from “5” to “7”" in log


@pytest.mark.parametrize("factor", ["1", "101", "", "2.5", "x" * 1000, "a\x00b", "9" * 40, "🙂"])
def test_a_factor_out_of_range_is_refused_and_changes_nothing(org, owner, login, factor):
    response = login(owner).post(
        settings_url(org), {"mask_destinations": "on", "unusual_spend_factor": factor}
    )
    assert response.status_code == 200
    assert "Enter a whole number from 2 to 100." in response.content.decode()
    row = usage_settings(org)
    assert (row.mask_destinations, row.unusual_spend_factor) == (False, 5)
    assert events(org) == []


@pytest.mark.parametrize("role", [Role.ADMIN, Role.FINANCE])
def test_admins_and_finance_read_the_settings_and_cannot_change_them(org, login, role):
    reader = MemberFactory(organization=org, role=role)
    page = login(reader).get(settings_url(org)).content.decode()
    assert "Only owners change these settings." in page
    assert "disabled" in page.split('name="unusual_spend_factor"')[1].split(">")[0]
    response = login(reader).post(
        settings_url(org), {"mask_destinations": "on", "unusual_spend_factor": "9"}
    )
    assert response.status_code == 403
    assert usage_settings(org).unusual_spend_factor == 5


def test_the_service_refuses_anyone_but_an_owner(org, admin, outsider):
    for actor in (admin, outsider):
        with pytest.raises(ApplicationError):
            usage_settings_update(
                organization=org, actor=actor, mask_destinations=True, unusual_spend_factor=3
            )
    assert usage_settings(org).mask_destinations is False


def test_the_settings_page_is_linked_from_the_organization_settings(org, owner, admin, login):
    for reader in (owner, admin):
        page = login(reader).get(f"/o/{org.slug}/settings/").content.decode()
        assert settings_url(org) in page
        assert "Usage settings" in page
