"""The invitation pages as people use them: the admin's invite and invitations pages, and the
invitee's pages behind the link."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from members.models import Invitation, InvitationDelivery
from members.services import invitations as service
from members.services.invitations import Invitee
from organizations.models import Member
from tests.factories import PASSWORD, MemberListFactory, UserFactory

LINK = re.compile(r"https?://[^/\s]+(/i/[A-Za-z0-9_-]{43}/)")


@pytest.fixture
def send(owner, django_capture_on_commit_callbacks):
    def _send(*invitees, role="member"):
        with django_capture_on_commit_callbacks(execute=True):
            return service.invitations_create(
                organization=owner.organization, actor=owner, invitees=list(invitees), role=role
            )

    return _send


def link_from(body: str) -> str:
    return LINK.search(body).group(1)


# --- Invite page ---------------------------------------------------------------------------


def test_preview_then_send(org, owner, login, employee, django_capture_on_commit_callbacks):
    sales = MemberListFactory(organization=org, name="Sales")
    client = login(owner)
    data = {
        "channel": "auto",
        "addresses": f"ana@example.com\n+33 6 12 34 56 78\nnot-an-email@\n{employee.email}\n",
        "role": "member",
        "lists": [sales.pk],
    }
    preview = client.post(f"/o/{org.slug}/members/invite/", {**data, "action": "preview"})
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "Send 2 invitations" in page
    assert "Already a member." in page
    assert "not a valid email address" in page
    assert not Invitation.objects.for_org(org).exists()

    with django_capture_on_commit_callbacks(execute=True):
        sent = client.post(f"/o/{org.slug}/members/invite/", {**data, "action": "send"})
    assert sent.status_code == 302
    assert sent["Location"] == f"/o/{org.slug}/members/invitations/"
    invitations = Invitation.objects.for_org(org)
    assert sorted(invitations.values_list("channel", "address")) == [
        ("email", "ana@example.com"),
        ("phone", "+33612345678"),
    ]
    follow = client.get(sent["Location"]).content.decode()
    assert "2 invitations are on their way." in follow
    assert "2 lines were skipped." in follow


def test_the_role_list_follows_the_inviter(org, owner, admin, login):
    admin_page = login(admin).get(f"/o/{org.slug}/members/invite/").content.decode()
    owner_page = login(owner).get(f"/o/{org.slug}/members/invite/").content.decode()
    assert 'value="admin"' not in admin_page
    assert 'value="admin"' in owner_page
    forged = login(admin).post(
        f"/o/{org.slug}/members/invite/",
        {"channel": "email", "addresses": "x@example.com", "role": "owner", "action": "send"},
    )
    assert forged.status_code == 200
    assert "Select a valid choice" in forged.content.decode()
    assert not Invitation.objects.for_org(org).exists()


def test_lists_of_another_organization_cannot_be_chosen(org, other_org, owner, login):
    foreign = MemberListFactory(organization=other_org)
    response = login(owner).post(
        f"/o/{org.slug}/members/invite/",
        {"channel": "email", "addresses": "x@example.com", "role": "member",
         "lists": [foreign.pk], "action": "send"},
    )  # fmt: skip
    assert "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.for_org(org).exists()


def test_empty_and_oversized_batches(org, owner, login):
    client = login(owner)
    url = f"/o/{org.slug}/members/invite/"
    form = {"channel": "auto", "role": "member", "action": "send"}
    empty = client.post(url, {**form, "addresses": " \n "})
    assert "This field is required" in empty.content.decode()
    many = "\n".join(f"p{n}@example.com" for n in range(501))
    big = client.post(url, {**form, "addresses": many})
    assert "Invite up to 500 people at once" in big.content.decode()


# --- Invitations page ----------------------------------------------------------------------


def test_invitations_page_shows_delivery_and_polls_while_queued(
    org, owner, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        service.invitations_create(
            organization=org, actor=owner, invitees=[Invitee("email", "ana@example.com")]
        )
    client = login(owner)
    page = client.get(f"/o/{org.slug}/members/invitations/").content.decode()
    assert "ana@example.com" in page
    assert "Queued" in page
    assert 'hx-trigger="every 3s"' in page

    delivery = InvitationDelivery.objects.for_org(org).get()
    from members.tasks import send_invitations

    send_invitations.delay([delivery.pk])
    rows = client.get(f"/o/{org.slug}/members/invitations/rows/?status=pending")
    assert rows.status_code == 200
    body = rows.content.decode()
    assert body.lstrip().startswith("<tbody")
    assert "Sent" in body
    assert "every 3s" not in body, "polling stops once nothing is queued"


def test_failed_delivery_shows_the_reason(org, owner, login, settings, send):
    settings.SMS_BACKEND = "tests.members.test_invitation_pages.RefusingSms"
    send(Invitee("phone", "+33612345678"))
    page = login(owner).get(f"/o/{org.slug}/members/invitations/").content.decode()
    assert "Failed" in page
    assert "The &#x27;To&#x27; number is not a valid phone number." in page


class RefusingSms:
    def send(self, message):
        from skypemgr.sms import SmsError

        raise SmsError("The 'To' number is not a valid phone number.", permanent=True)


def test_resend_revoke_and_bulk_revoke(org, owner, login, send, django_capture_on_commit_callbacks):
    first, second, third = send(
        Invitee("email", "a@example.com"),
        Invitee("email", "b@example.com"),
        Invitee("email", "c@example.com"),
    )
    client = login(owner)
    base = f"/o/{org.slug}/members/invitations"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{base}/{first.pk}/resend/")["Location"] == f"{base}/"
    assert len(mail.outbox) == 4
    client.post(f"{base}/{first.pk}/revoke/", {"next_query": "status=pending"})
    client.post(f"{base}/revoke/", {"invitation": [second.pk, third.pk, "junk"]})
    statuses = set(Invitation.objects.for_org(org).values_list("status", flat=True))
    assert statuses == {"revoked"}
    assert client.get(f"{base}/{first.pk}/resend/").status_code == 405


def test_managing_another_organizations_invitation_is_404(org, other_org, owner, outsider, login):
    foreign = service.invitations_create(
        organization=other_org, actor=outsider, invitees=[Invitee("email", "x@example.com")]
    )[0]
    client = login(owner)
    assert client.post(f"/o/{org.slug}/members/invitations/{foreign.pk}/revoke/").status_code == 404
    client.post(f"/o/{org.slug}/members/invitations/revoke/", {"invitation": [foreign.pk]})
    foreign.refresh_from_db()
    assert foreign.status == "pending"


# --- The invitee's pages -------------------------------------------------------------------


def test_new_person_accepts_by_email(org, send, client):
    send(Invitee("email", "ana@example.com"), role="finance")
    link = link_from(mail.outbox[0].body)
    page = client.get(link)
    assert page.status_code == 200
    assert org.name in page.content.decode()
    signup = client.get(f"{link}signup/")
    assert 'value="ana@example.com" readonly' in signup.content.decode()
    done = client.post(
        f"{link}signup/",
        {"name": "Ana Lopez", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert done.status_code == 302
    assert done["Location"] == f"/o/{org.slug}/"
    member = Member.objects.for_org(org).get(email="ana@example.com")
    assert (member.status, member.role, member.display_name) == ("active", "finance", "Ana Lopez")
    assert client.get(f"/o/{org.slug}/").status_code == 200
    again = client.get(link)
    assert again.status_code == 410
    assert "already been answered" in again.content.decode()


def test_weak_passwords_are_refused_on_the_invitation_signup(org, send, client):
    send(Invitee("email", "ana@example.com"))
    link = link_from(mail.outbox[0].body)
    response = client.post(f"{link}signup/", {"password1": "123", "password2": "123"})
    assert response.status_code == 200
    assert "too short" in response.content.decode()
    assert Member.objects.for_org(org).get(email="ana@example.com").status == "invited"


def test_existing_user_signs_in_then_accepts(org, send, client):
    person = UserFactory(email="ana@example.com")
    send(Invitee("email", "ana@example.com"))
    link = link_from(mail.outbox[0].body)
    anonymous = client.get(link).content.decode()
    assert "I have an account: sign in" in anonymous
    client.post("/accounts/login/", {"login": person.username, "password": PASSWORD})
    assert "Accept and join" in client.get(link).content.decode()
    accepted = client.post(f"{link}accept/")
    assert accepted["Location"] == f"/o/{org.slug}/"
    assert Member.objects.for_org(org).get(user=person).status == "active"


def test_wrong_account_sees_why_and_nothing_changes(org, send, client):
    stranger = UserFactory(email="someone@example.com")
    send(Invitee("email", "ana@example.com"))
    link = link_from(mail.outbox[0].body)
    client.force_login(stranger)
    page = client.get(link).content.decode()
    assert "which is not an address of your account" in page
    assert "Accept and join" not in page
    response = client.post(f"{link}accept/", follow=True)
    assert "which is not an address of your account" in response.content.decode()
    assert Invitation.objects.for_org(org).get().status == "pending"


def test_phone_invitee_enters_the_code_then_signs_up(org, send, client, sms_outbox):
    send(Invitee("phone", "+33612345678"))
    body = sms_outbox[0].body
    link, code = link_from(body), re.search(r"\b(\d{6})\b", body).group(1)
    page = client.get(link).content.decode()
    assert "code from the text message" in page
    assert client.get(f"{link}signup/")["Location"] == link, "the code comes first"
    wrong = client.post(f"{link}code/", {"code": "12345x"})
    assert "Enter the 6 digits" in wrong.content.decode()
    assert client.post(f"{link}code/", {"code": code})["Location"] == link
    done = client.post(f"{link}signup/", {"password1": PASSWORD, "password2": PASSWORD})
    assert done["Location"] == f"/o/{org.slug}/"
    member = Member.objects.for_org(org).get(phone="+33612345678")
    assert member.status == "active"
    assert member.user.phone_verified


def test_phone_invitee_asks_for_a_new_code(org, send, client, sms_outbox, settings):
    settings.INVITATION_SMS_PER_NUMBER_PER_HOUR = 2
    send(Invitee("phone", "+33612345678"))
    link = link_from(sms_outbox[0].body)
    assert "1 more text message can be sent" in client.get(link).content.decode()
    client.post(f"{link}code/", {"action": "resend"})
    page = client.get(link).content.decode()
    assert "A new code is on its way" in page
    assert "0 more text messages can be sent" in page
    refused = client.post(f"{link}code/", {"action": "resend"}, follow=True)
    assert "text messages in the last hour" in refused.content.decode()


def test_decline_from_the_link(org, send, client):
    [invitation] = send(Invitee("email", "ana@example.com"))
    link = link_from(mail.outbox[0].body)
    response = client.post(f"{link}decline/")
    assert response.status_code == 200
    assert "You declined the invitation" in response.content.decode()
    invitation.refresh_from_db()
    assert invitation.status == "declined"


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/i/short/", 404, "This link is incomplete"),
        ("/i/" + "A" * 43 + "/", 404, "We do not know this invitation"),
    ],
)
@pytest.mark.django_db
def test_broken_links(client, path, status, text):
    response = client.get(path)
    assert response.status_code == status
    assert text in response.content.decode()


def test_revoked_and_expired_links(org, owner, send, client, time_machine):
    time_machine.move_to(timezone.now())
    first, _second = send(Invitee("email", "a@example.com"), Invitee("email", "b@example.com"))
    revoked_link, expired_link = (link_from(message.body) for message in mail.outbox)
    service.invitations_revoke(organization=org, actor=owner, invitations=[first])
    revoked = client.get(revoked_link)
    assert revoked.status_code == 410
    assert "withdrawn" in revoked.content.decode()
    time_machine.shift(timedelta(days=31))
    expired = client.get(expired_link)
    assert expired.status_code == 410
    assert "has expired" in expired.content.decode()
    assert client.post(f"{expired_link}decline/").status_code == 410


def test_in_app_notice_and_answer(org, send, client):
    person = UserFactory(username="bruno")
    [invitation] = send(Invitee("username", "bruno"))
    client.force_login(person)
    page = client.get("/orgs/new/").content.decode()
    assert f"{org.name} invited you to join." in page
    listing = client.get("/invitations/").content.decode()
    assert org.name in listing
    stranger_client = type(client)()
    stranger_client.force_login(UserFactory())
    assert (
        stranger_client.post(
            f"/invitations/{invitation.pk}/respond/", {"answer": "accept"}
        ).status_code
        == 404
    )
    accepted = client.post(f"/invitations/{invitation.pk}/respond/", {"answer": "accept"})
    assert accepted["Location"] == f"/o/{org.slug}/"
    assert "invited you to join" not in client.get("/orgs/").content.decode()
