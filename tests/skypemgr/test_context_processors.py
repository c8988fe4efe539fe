"""The base layout's menus and notices cost queries; htmx polls, which draw a fragment, skip
them (organizations.context_processors, members.context_processors)."""

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import InvitationFactory, PurchaseFactory

# The queries the layout needs, by what each says: the person's memberships in every
# organization (the switcher), their verified addresses and the invitations waiting for them
# (the notice). A page's own queries always start from its organization.
LAYOUT_QUERIES = (
    ('FROM "organizations_member"', 'ORDER BY "organizations_organization"."name"'),
    ('FROM "account_emailaddress"',),
    ('FROM "members_invitation"', '"members_invitation"."invited_user_id" ='),
)


def polled_urls(org) -> list[str]:
    purchase = PurchaseFactory(organization=org, method="card", reference="")
    return [
        reverse("credit:balances", kwargs={"org_slug": org.slug}),
        reverse(
            "credit:purchase-status", kwargs={"org_slug": org.slug, "purchase_id": purchase.pk}
        ),
        reverse("members:invitation-rows", kwargs={"org_slug": org.slug}),
    ]


def queries(client, url: str, **headers) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def layout_queries(sql: list[str]) -> list[str]:
    return [
        query
        for query in sql
        if any(all(part in query for part in parts) for parts in LAYOUT_QUERIES)
    ]


@pytest.fixture
def invited_owner(owner, other_org):
    """An owner (with a verified address, as the factory makes them) invited to another
    organization: every layout query runs and finds something."""
    assert EmailAddress.objects.filter(user=owner.user, verified=True).exists()
    InvitationFactory(organization=other_org, address=owner.user.email.lower())
    return owner


@pytest.mark.django_db
def test_htmx_polls_skip_the_layout_queries(org, invited_owner, login):
    client = login(invited_owner)
    for url in polled_urls(org):
        page = queries(client, url)
        poll = queries(client, url, HTTP_HX_REQUEST="true")

        assert len(layout_queries(page)) == 3, url
        assert layout_queries(poll) == [], url
        assert len(poll) == len(page) - 3, url


@pytest.mark.django_db
@pytest.mark.parametrize("header", ["HTTP_HX_BOOSTED", "HTTP_HX_HISTORY_RESTORE_REQUEST"])
def test_htmx_requests_for_a_whole_page_keep_the_menus(org, invited_owner, login, header):
    client = login(invited_owner)
    url = reverse("credit:overview", kwargs={"org_slug": org.slug})

    response = client.get(url, HTTP_HX_REQUEST="true", **{header: "true"})

    page = response.content.decode()
    assert "Switch organization" in page
    assert "Globex GmbH invited you to join." in page


@pytest.mark.django_db
def test_a_page_shows_the_switcher_and_the_invitation_notice(org, invited_owner, login):
    page = login(invited_owner).get(reverse("credit:overview", kwargs={"org_slug": org.slug}))

    assert "Switch organization" in page.content.decode()
    assert "Globex GmbH invited you to join." in page.content.decode()
