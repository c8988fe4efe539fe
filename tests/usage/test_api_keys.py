"""API keys: created by owners and admins, shown once, stored hashed, revoked, audited; the
settings pages that list, create and revoke them."""

import hashlib
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from organizations.models import AuditEvent
from skypemgr.errors import ApplicationError, PermissionDeniedError
from tests.factories import ApiKeyFactory
from usage.models import ApiKey
from usage.services.api_keys import api_key_authenticate, api_key_create, api_key_revoke


def url(org, name, **kwargs):
    return reverse(f"usage:{name}", kwargs={"org_slug": org.slug, **kwargs})


def create(org, actor, name="Office PBX"):
    return api_key_create(organization=org, actor=actor, name=name)


# --- Services --------------------------------------------------------------------------------


def test_a_key_is_random_recognizable_and_stored_only_as_its_hash(org, owner):
    key, plaintext = create(org, owner)
    other_key, other = create(org, owner, "Carrier")
    assert plaintext.startswith("smk_")
    assert len(plaintext) == 47
    assert plaintext != other
    assert key.key_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert key.prefix == plaintext[:12]
    # Nothing stored holds the key itself.
    stored = ApiKey.objects.for_org(org).filter(pk=key.pk).values().get()
    assert not any(plaintext in str(value) for value in stored.values())
    assert (key.name, key.created_by, key.revoked_at) == ("Office PBX", owner, None)
    assert api_key_authenticate(plaintext) == key
    assert api_key_authenticate(other) == other_key


def test_owners_and_admins_create_keys_and_nobody_else(org, admin, finance, employee):
    key, _plaintext = create(org, admin)
    assert key.created_by == admin
    for someone in (finance, employee):
        with pytest.raises(PermissionDeniedError):
            create(org, someone)
    assert ApiKey.objects.for_org(org).count() == 1


def test_an_admin_of_another_organization_cannot_create_keys_here(org, outsider):
    with pytest.raises(PermissionDeniedError):
        create(org, outsider)
    assert not ApiKey.objects.for_org(org).exists()


@pytest.mark.parametrize(
    ("name", "kept"),
    [
        ("  Office \t PBX  ", "Office PBX"),
        ("Office\x00PBX", "Office PBX"),
        ("\u202eevil\u202c مرحبا", "evil مرحبا"),
        ("🙂 PBX", "🙂 PBX"),
        ("N" * 100, "N" * 100),
    ],
)
def test_names_are_cleaned(org, owner, name, kept):
    key, _plaintext = create(org, owner, name)
    assert key.name == kept


@pytest.mark.parametrize(
    ("name", "code"), [("", "required"), (" \x00 ", "required"), ("x" * 101, "too_long")]
)
def test_bad_names_are_refused_with_a_message(org, owner, name, code):
    with pytest.raises(ApplicationError) as error:
        create(org, owner, name)
    assert error.value.code == code
    assert error.value.message
    assert not ApiKey.objects.for_org(org).exists()


@pytest.mark.parametrize(
    "presented",
    ["", "smk_", "smk_" + "A" * 43, "Bearer smk_x", "smk_" + "\x00" * 43, "x" * 10_000, None, 42],
)
def test_unknown_or_malformed_keys_are_refused(org, owner, presented):
    create(org, owner)
    assert api_key_authenticate(presented) is None


def test_a_revoked_key_is_refused_at_once_and_revoking_twice_changes_nothing(org, owner, admin):
    key, plaintext = create(org, owner)
    revoked = api_key_revoke(organization=org, actor=admin, key=key)
    assert revoked.revoked_at is not None
    assert api_key_authenticate(plaintext) is None
    again = api_key_revoke(organization=org, actor=owner, key=key)
    assert again.revoked_at == revoked.revoked_at
    events = AuditEvent.objects.for_org(org).filter(verb="api_key.revoked")
    assert [(event.actor, event.data["prefix"]) for event in events] == [(admin, key.prefix)]


def test_only_owners_and_admins_revoke(org, owner, finance):
    key, plaintext = create(org, owner)
    with pytest.raises(PermissionDeniedError):
        api_key_revoke(organization=org, actor=finance, key=key)
    assert api_key_authenticate(plaintext) == key


def test_a_key_of_another_organization_cannot_be_revoked_from_here(org, owner, other_org, outsider):
    theirs, plaintext = create(other_org, outsider)
    with pytest.raises(ApplicationError):
        api_key_revoke(organization=org, actor=owner, key=theirs)
    assert api_key_authenticate(plaintext) == theirs


def test_last_used_moves_at_most_once_a_minute(org, owner, time_machine):
    start = timezone.now()
    time_machine.move_to(start, tick=False)
    key, plaintext = create(org, owner)
    assert key.last_used_at is None
    api_key_authenticate(plaintext)
    key.refresh_from_db()
    assert key.last_used_at == start
    time_machine.move_to(start + timedelta(seconds=59), tick=False)
    api_key_authenticate(plaintext)
    key.refresh_from_db()
    assert key.last_used_at == start
    later = start + timedelta(seconds=61)
    time_machine.move_to(later, tick=False)
    api_key_authenticate(plaintext)
    key.refresh_from_db()
    assert key.last_used_at == later


def test_creating_and_revoking_are_audited(org, owner, login):
    key, _plaintext = create(org, owner)
    api_key_revoke(organization=org, actor=owner, key=key)
    verbs = list(
        AuditEvent.objects.for_org(org)
        .filter(verb__startswith="api_key.")
        .order_by("pk")
        .values_list("verb", "actor", "target_id", "data__name")
    )
    assert verbs == [
        ("api_key.created", owner.pk, str(key.pk), "Office PBX"),
        ("api_key.revoked", owner.pk, str(key.pk), "Office PBX"),
    ]
    page = login(owner).get(reverse("organizations:audit-log", kwargs={"org_slug": org.slug}))
    text = page.content.decode()
    assert "created the API key “Office PBX”" in text
    assert "revoked the API key “Office PBX”" in text


# --- Pages -----------------------------------------------------------------------------------


def test_the_settings_page_links_to_the_keys(org, owner, admin, login):
    for someone in (owner, admin):
        page = login(someone).get(reverse("organizations:settings", kwargs={"org_slug": org.slug}))
        assert url(org, "api-key-list") in page.content.decode()


def test_an_admin_creates_a_key_and_sees_it_once(org, admin, login):
    client = login(admin)
    form = client.get(url(org, "api-key-create"))
    assert form.status_code == 200
    response = client.post(url(org, "api-key-create"), {"name": "Office PBX"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = ApiKey.objects.for_org(org).get()
    page = response.content.decode()
    [plaintext] = [word for word in page.replace('"', " ").split() if word.startswith("smk_")
                   and len(word) == 47]  # fmt: skip
    assert api_key_authenticate(plaintext) == key
    assert "will not be shown again" in page
    assert 'data-copy="api-key-value"' in page
    # Never again: the list shows its first characters only.
    listing = client.get(url(org, "api-key-list")).content.decode()
    assert "Office PBX" in listing
    assert key.prefix in listing
    assert plaintext not in listing
    assert client.get(url(org, "api-key-create")).content.decode().count("smk_") == 0


def test_the_list_shows_each_key_with_its_status(org, owner, admin, login, time_machine):
    live, plaintext = create(org, admin, "Office PBX")
    api_key_authenticate(plaintext)
    gone, _ = create(org, owner, "Old carrier")
    api_key_revoke(organization=org, actor=owner, key=gone)
    page = login(owner).get(url(org, "api-key-list")).content.decode()
    live_row = page[page.index(f'id="api-key-{live.pk}"') :]
    live_row = live_row[: live_row.index("</li>")]
    assert "Active" in live_row
    assert str(admin) in live_row
    assert "never" not in live_row
    assert url(org, "api-key-revoke", key_id=live.pk) in live_row
    gone_row = page[page.index(f'id="api-key-{gone.pk}"') :]
    gone_row = gone_row[: gone_row.index("</li>")]
    assert "Revoked" in gone_row
    assert "never" in gone_row
    assert url(org, "api-key-revoke", key_id=gone.pk) not in gone_row


@pytest.mark.parametrize("name", ["", "a\x00b", "x" * 10_000, "   "])
def test_odd_names_on_the_page_give_a_message_and_create_nothing(org, owner, login, name):
    response = login(owner).post(url(org, "api-key-create"), {"name": name})
    assert response.status_code == 200
    assert 'class="invalid-feedback' in response.content.decode()
    assert not ApiKey.objects.for_org(org).exists()


def test_revoking_asks_first_then_revokes(org, owner, admin, login):
    key, plaintext = create(org, owner)
    client = login(admin)
    confirm = client.get(url(org, "api-key-revoke", key_id=key.pk))
    assert confirm.status_code == 200
    assert "Revoke the API key “Office PBX”?" in confirm.content.decode()
    assert api_key_authenticate(plaintext) == key
    response = client.post(url(org, "api-key-revoke", key_id=key.pk))
    assert response.status_code == 302
    assert api_key_authenticate(plaintext) is None
    page = client.get(response["Location"]).content.decode()
    assert "no longer works" in page
    # Revoked already: the page says so and a second post changes nothing.
    assert (
        "already revoked" in client.get(url(org, "api-key-revoke", key_id=key.pk)).content.decode()
    )
    client.post(url(org, "api-key-revoke", key_id=key.pk))
    assert AuditEvent.objects.for_org(org).filter(verb="api_key.revoked").count() == 1


def test_finance_and_members_cannot_open_the_pages(org, owner, finance, employee, login):
    key = ApiKeyFactory(organization=org)
    for someone in (finance, employee):
        client = login(someone)
        for name, kwargs in (
            ("api-key-list", {}),
            ("api-key-create", {}),
            ("api-key-revoke", {"key_id": key.pk}),
        ):
            assert client.get(url(org, name, **kwargs)).status_code == 403
        assert client.post(url(org, "api-key-create"), {"name": "x"}).status_code == 403
        assert client.post(url(org, "api-key-revoke", key_id=key.pk)).status_code == 403
    key.refresh_from_db()
    assert key.revoked_at is None
    assert ApiKey.objects.for_org(org).count() == 1


def test_another_organizations_key_is_not_found(org, owner, other_org, login):
    theirs = ApiKeyFactory(organization=other_org)
    client = login(owner)
    assert client.get(url(org, "api-key-revoke", key_id=theirs.pk)).status_code == 404
    assert client.post(url(org, "api-key-revoke", key_id=theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    assert theirs.name not in client.get(url(org, "api-key-list")).content.decode()
