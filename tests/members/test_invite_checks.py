"""What the invite preview promises, sending keeps: over-long addresses are refused at preview,
limits are told before sending, numbers may be typed as dialled in the organization's country,
and nothing tells an inviter whether an account has a username."""

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from members.models import Invitation, InvitationDelivery, MemberImport
from members.services import invitations as service
from members.services.invitations import Invitee
from organizations.models import Member
from tests.factories import MemberFactory, OrganizationFactory, UserFactory
from tests.tenancy import snapshot


def invite_url(org) -> str:
    return f"/o/{org.slug}/members/invite/"


def post_invite(client, org, addresses: str, action: str, channel: str = "auto"):
    data = {"channel": channel, "addresses": addresses, "role": "member", "action": action}
    return client.post(invite_url(org), data)


def preview_rows(response) -> list[str]:
    """The preview table's rows, as HTML."""
    body = re.search(r"<tbody[^>]*>(.*?)</tbody>", response.content.decode(), flags=re.S)
    return re.findall(r"<tr>.*?</tr>", body.group(1), flags=re.S)


# --- Over-long addresses and limits: refused at preview, not at sending -------------------


def test_an_email_over_254_characters_is_refused_at_preview_and_never_sent(org, owner, login):
    long_address = "a" * 250 + "@example.com"
    client = login(owner)
    before = snapshot(org)
    preview = post_invite(client, org, f"ana@example.com\n{long_address}", "preview")
    assert preview.status_code == 200
    [fine, long_row] = preview_rows(preview)
    assert "Ready" in fine
    assert "Ready" not in long_row
    assert "This email address is too long (254 characters at most)." in long_row
    assert "Send 1 invitation" in preview.content.decode()

    sent = post_invite(client, org, f"ana@example.com\n{long_address}", "send")
    assert sent.status_code == 302
    addresses = Invitation.objects.for_org(org).values_list("address", flat=True)
    assert list(addresses) == ["ana@example.com"]
    assert snapshot(org)["members.Invitation"] != before["members.Invitation"]


def test_a_batch_of_only_over_long_addresses_changes_nothing(org, owner, login):
    client = login(owner)
    before = snapshot(org)
    lines = "\n".join(["b" * 300 + "@example.com", "c" * 151])
    for action in ("preview", "send"):
        response = post_invite(client, org, lines, action)
        assert response.status_code == 200
    page = response.content.decode()
    assert "Nobody on the list can be invited" in page
    assert "A username has at most 150 characters." in page
    assert snapshot(org) == before


def test_the_preview_says_when_the_daily_limit_would_refuse_the_batch(org, owner, login):
    org.invitation_daily_limit = 1
    org.save(update_fields=["invitation_daily_limit"])
    preview = post_invite(login(owner), org, "ana@example.com\nbo@example.com", "preview")
    page = preview.content.decode()
    assert "may send 1 invitations a day" in page
    assert re.search(r'value="send"[^>]*disabled', page)
    assert not Invitation.objects.for_org(org).exists()


# --- National phone formats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "typed", "stored"),
    [
        ("FR", "06 12 34 56 79", "+33612345679"),
        ("FR", "+33 6 12 34 56 79", "+33612345679"),
        ("DE", "0151 23456789", "+4915123456789"),
        ("GB", "07400 123456", "+447400123456"),
    ],
)
def test_a_number_typed_as_dialled_in_the_organizations_country_is_invited(
    country, typed, stored, db, login, django_capture_on_commit_callbacks, sms_outbox
):
    org = OrganizationFactory(country=country)
    owner = MemberFactory(organization=org, role="owner")
    client = login(owner)
    preview = post_invite(client, org, typed, "preview")
    assert "Ready" in preview_rows(preview)[0]
    with django_capture_on_commit_callbacks(execute=True):
        assert post_invite(client, org, typed, "send").status_code == 302
    invitation = Invitation.objects.for_org(org).get()
    assert (invitation.channel, invitation.address) == ("phone", stored)
    assert [sms.to for sms in sms_outbox] == [stored]


def test_a_national_number_of_another_country_is_refused(org, owner, login):
    # "0151 23456789" is German: dialled in France it is no mobile number.
    preview = post_invite(login(owner), org, "0151 23456789", "preview", channel="phone")
    assert "is not a valid mobile number" in preview_rows(preview)[0]


def test_import_rows_take_national_numbers_too(org, admin, login):
    content = b"phone,display name\n06 12 34 56 79,Bo Berg\n612345680,Cy Dum\n"
    response = login(admin).post(
        f"/o/{org.slug}/members/import/",
        {"file": SimpleUploadedFile("people.csv", content)},
    )
    assert response.status_code == 302
    rows = MemberImport.objects.for_org(org).get().rows
    assert [(row["address"], row["errors"]) for row in rows] == [
        ("+33612345679", []),
        ("+33612345680", []),
    ]


# --- Usernames: whether one exists is never told ---------------------------------------------


def _same_but_address(rows_html: list[str], addresses: list[str]) -> set[str]:
    """The rows with their address and their numbers (line, ids) blanked out."""
    return {
        re.sub(r"\d+", "N", row.replace(address, "ADDRESS"))
        for row, address in zip(rows_html, addresses, strict=True)
    }


def test_the_preview_answers_the_same_for_an_existing_and_a_missing_username(org, owner, login):
    UserFactory(username="bruno")
    preview = post_invite(login(owner), org, "bruno\nnobody-has-this", "preview", "username")
    rows = preview_rows(preview)
    assert len(rows) == 2
    assert "Ready" in rows[0]
    assert "Invited if an account has this username." in rows[0]
    assert len(_same_but_address(rows, ["bruno", "nobody-has-this"])) == 1
    assert "Send 2 invitations" in preview.content.decode()


def test_sending_to_an_existing_and_a_missing_username_looks_the_same(
    org, owner, login, django_capture_on_commit_callbacks
):
    bruno = UserFactory(username="Bruno", first_name="Bruno", last_name="Lefèvre")
    client = login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        sent = post_invite(client, org, "bruno\nnobody-has-this", "send", "username")
    assert sent.status_code == 302
    follow = client.get(sent["Location"]).content.decode()
    assert "2 invitations are on their way." in follow
    assert "skipped" not in follow

    invitations = {i.address: i for i in Invitation.objects.for_org(org)}
    assert set(invitations) == {"bruno", "nobody-has-this"}
    # The account gets its invitation, by email and in the product ...
    assert invitations["bruno"].invited_user == bruno
    assert [message.to for message in mail.outbox] == [[bruno.email]]
    assert [i.address for i in service.invitations_for_user(bruno)] == ["bruno"]
    # ... while nobody can ever see the other one.
    assert invitations["nobody-has-this"].invited_user is None

    # The invitations page and the directory show both alike.
    listing = client.get(f"/o/{org.slug}/members/invitations/")
    rows = preview_rows(listing)
    by_address = sorted(rows, key=lambda row: "nobody" in row)
    assert len(_same_but_address(by_address, ["bruno", "nobody-has-this"])) == 1
    assert "Shown at sign-in" in rows[0]
    directory = client.get(f"/o/{org.slug}/members/", {"status": "invited"}).content.decode()
    assert "Lefèvre" not in directory
    assert bruno.email not in directory
    placeholders = Member.objects.for_org(org).filter(status=Member.Status.INVITED)
    assert sorted(placeholders.values_list("username", "display_name", "email")) == [
        ("bruno", "", ""),
        ("nobody-has-this", "", ""),
    ]


def test_a_later_account_with_that_username_cannot_take_the_invitation(
    org, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        service.invitations_create(
            organization=org, actor=owner, invitees=[Invitee("username", "newcomer")]
        )
    latecomer = UserFactory(username="newcomer")
    assert service.invitations_for_user(latecomer) == []
    assert mail.outbox == []


def test_inviting_a_username_again_is_already_invited_whether_or_not_it_exists(
    org, owner, django_capture_on_commit_callbacks
):
    UserFactory(username="bruno")
    invitees = [Invitee("username", "Bruno"), Invitee("username", "Nobody-Has-This")]
    with django_capture_on_commit_callbacks(execute=True):
        service.invitations_create(organization=org, actor=owner, invitees=invitees)
    again = service.invitees_check(
        organization=org,
        invitees=[Invitee("username", "bruno"), Invitee("username", "nobody-has-this")],
    )
    assert [item.errors for item in again] == [
        ["Already invited: resend the invitation instead."],
        ["Already invited: resend the invitation instead."],
    ]


def test_an_expired_invitation_to_either_username_reuses_its_place(
    org, owner, time_machine, django_capture_on_commit_callbacks
):
    UserFactory(username="bruno")
    invitees = [Invitee("username", "bruno"), Invitee("username", "nobody-has-this")]
    with django_capture_on_commit_callbacks(execute=True):
        service.invitations_create(organization=org, actor=owner, invitees=invitees)
    time_machine.move_to(timezone.now() + timezone.timedelta(days=31))
    service.invitations_expire_due()
    with django_capture_on_commit_callbacks(execute=True):
        service.invitations_create(organization=org, actor=owner, invitees=invitees)
    placeholders = Member.objects.for_org(org).filter(status=Member.Status.INVITED)
    assert sorted(placeholders.values_list("username", flat=True)) == ["bruno", "nobody-has-this"]
    assert InvitationDelivery.objects.for_org(org).count() == 4
