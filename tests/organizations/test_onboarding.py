"""Creating an organization: who may, what the form accepts, what the slug becomes."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from organizations.models import AuditEvent, Member, Organization
from organizations.roles import Role
from organizations.services import organization_create
from skypemgr.errors import ApplicationError
from tests.factories import OrganizationFactory, UserFactory

VALID = {"name": "Acme SARL", "country": "FR", "currency": "EUR", "time_zone": "Europe/Paris"}
CREATE_URL = "/orgs/new/"


def test_verified_user_creates_an_organization_and_owns_it(user, login):
    response = login(user).post(CREATE_URL, VALID)
    organization = Organization.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/o/{organization.slug}/"
    assert organization.slug == "acme-sarl"
    assert (organization.currency, organization.country.code) == ("EUR", "FR")
    assert organization.time_zone == "Europe/Paris"
    member = Member.objects.for_org(organization).get()
    assert (member.user, member.role, member.status) == (user, Role.OWNER, Member.Status.ACTIVE)
    verbs = set(AuditEvent.objects.for_org(organization).values_list("verb", flat=True))
    assert verbs == {"organization.created", "member.joined"}
    home = login(user).get(response["Location"])
    assert home.status_code == 200
    assert "Acme SARL" in home.content.decode()


@pytest.mark.django_db
def test_unverified_user_cannot_create_an_organization(login):
    user = UserFactory(verified=False)
    page = login(user).get(CREATE_URL)
    assert page.status_code == 200
    assert 'name="name"' not in page.content.decode()
    response = login(user).post(CREATE_URL, VALID)
    assert response.status_code == 200
    assert not Organization.objects.exists()
    with pytest.raises(ApplicationError, match="Verify"):
        organization_create(user=user, **VALID)
    assert not Organization.objects.exists()


@pytest.mark.django_db
def test_a_verified_phone_is_enough():
    user = UserFactory(email="", phone="+33612345678", phone_verified=True)
    organization = organization_create(user=user, **VALID)
    assert organization.slug == "acme-sarl"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the company name."),
        ("name", "   ", "Enter the company name."),
        ("name", "x" * 300, "at most 100 characters"),
        ("currency", "XYZ", "Select a valid choice"),
        ("currency", "", "This field is required"),
        ("country", "ZZ", "Select a valid choice"),
        ("time_zone", "Mars/Olympus", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_and_creates_nothing(field, value, message, user, login):
    response = login(user).post(CREATE_URL, {**VALID, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Organization.objects.exists()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Admin", "admin-2"),
        ("O", "o-2"),
        ("Accounts", "accounts-2"),
        ("Société Générale & Fils", "societe-generale-fils"),
        ("!!!", "company"),
        ("東京商事", "company"),
    ],
)
def test_reserved_and_unusual_names_get_a_usable_slug(name, slug, user):
    assert organization_create(user=user, **{**VALID, "name": name}).slug == slug


def test_same_name_gets_a_distinct_slug(user):
    OrganizationFactory(name="Acme SARL", slug="acme-sarl")
    second = organization_create(user=user, **VALID)
    third = organization_create(user=user, **VALID)
    assert (second.slug, third.slug) == ("acme-sarl-2", "acme-sarl-3")
    assert second.name == third.name == "Acme SARL"


def test_long_names_make_slugs_within_the_limit(user):
    first = organization_create(user=user, **{**VALID, "name": "a" * 100})
    second = organization_create(user=user, **{**VALID, "name": "a" * 100})
    assert len(first.slug) == 50
    assert second.slug == "a" * 48 + "-2"


@pytest.mark.django_db(transaction=True)
def test_simultaneous_signups_with_one_name_get_distinct_slugs():
    users = [UserFactory() for _ in range(4)]
    barrier = threading.Barrier(len(users))
    slugs, errors = [], []

    def create(person):
        try:
            barrier.wait()
            slugs.append(organization_create(user=person, **VALID).slug)
        except Exception as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(person,)) for person in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(slugs) == ["acme-sarl", "acme-sarl-2", "acme-sarl-3", "acme-sarl-4"]


def test_a_person_with_several_organizations_chooses(user, login):
    first = organization_create(user=user, **VALID)
    client = login(user)
    assert client.get("/orgs/")["Location"] == f"/o/{first.slug}/"
    second = organization_create(user=user, **{**VALID, "name": "Beta SAS"})
    page = client.get("/orgs/")
    assert page.status_code == 200
    for organization in (first, second):
        assert reverse("organizations:home", args=[organization.slug]) in page.content.decode()


def test_a_person_without_organization_is_sent_to_create_one(user, login):
    assert login(user).get("/orgs/")["Location"] == CREATE_URL


def test_the_switcher_lists_only_my_organizations(user, login, other_org):
    mine = organization_create(user=user, **VALID)
    page = login(user).get(f"/o/{mine.slug}/").content.decode()
    assert f"/o/{mine.slug}/" in page
    assert other_org.name not in page
