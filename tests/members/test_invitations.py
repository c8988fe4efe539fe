"""Invitation services: invite by each channel, answer, resend, revoke, expire, limits."""

import re
import threading
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.db import connection
from django.utils import timezone

from members import tokens
from members.models import Invitation, InvitationDelivery, ListMembership, MemberList
from members.services import invitations as service
from members.services.invitations import Invitee
from members.tasks import send_invitations
from organizations.models import AuditEvent, Member
from organizations.roles import Role
from outbox.models import OutboundMessage
from skypemgr.errors import ApplicationError
from tests.factories import MemberFactory, MemberListFactory, UserFactory

LINK = re.compile(r"https?://\S+/i/([A-Za-z0-9_-]{43})/")


@pytest.fixture
def sales(org):
    return MemberListFactory(organization=org, name="Sales")


@pytest.fixture
def invite(owner, django_capture_on_commit_callbacks):
    """Invite and run the sending as the worker would, after commit."""

    def _invite(*invitees, role=Role.MEMBER, lists=(), actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            return service.invitations_create(
                organization=owner.organization,
                actor=actor or owner,
                invitees=list(invitees),
                role=role,
                lists=lists,
            )

    return _invite


def email_token(index=-1) -> str:
    return LINK.search(mail.outbox[index].body).group(1)


def sms_token_and_code(sms) -> tuple[str, str]:
    token = LINK.search(sms.body).group(1)
    code = re.search(r"\b(\d{6})\b", sms.body).group(1)
    return token, code


# --- Inviting ----------------------------------------------------------------------------


def test_invite_by_email_reserves_a_place_and_sends_a_link(org, owner, sales, invite):
    [invitation] = invite(Invitee("email", " Ana@Example.COM "), lists=[sales])
    assert (invitation.address, invitation.status, invitation.role) == (
        "ana@example.com",
        "pending",
        "member",
    )
    member = invitation.member
    assert (member.status, member.user, member.email) == ("invited", None, "ana@example.com")
    assert ListMembership.objects.for_org(org).filter(member=member, member_list=sales).exists()
    assert invitation.expires_at.date() == (timezone.now() + timedelta(days=30)).date()

    [email] = mail.outbox
    assert email.to == ["ana@example.com"]
    assert org.name in email.subject
    assert email.alternatives, "text and HTML"
    assert service.invitation_from_token(email_token()).pk == invitation.pk
    delivery = InvitationDelivery.objects.for_org(org).get()
    assert delivery.message.status == "sent"
    assert AuditEvent.objects.for_org(org).filter(verb="invitation.sent").count() == 1
    assert invitation.token_nonce not in email.body, "the nonce is not the secret"
    assert tokens.link_token(invitation.token_nonce) == email_token()


def test_invite_by_username_emails_the_account_and_shows_in_app(org, invite):
    person = UserFactory(username="Bruno.L", email="bruno@example.com")
    [invitation] = invite(Invitee("username", "bruno.l"))
    assert (invitation.address, invitation.invited_user) == ("bruno.l", person)
    assert [email.to for email in mail.outbox] == [["bruno@example.com"]]
    assert [i.pk for i in service.invitations_for_user(person)] == [invitation.pk]


def test_invite_by_username_without_verified_email_is_in_app_only(org, invite):
    person = UserFactory(username="quiet", email="quiet@example.com", verified=False)
    [invitation] = invite(Invitee("username", "quiet"))
    assert mail.outbox == []
    delivery = InvitationDelivery.objects.for_org(org).get()
    assert delivery.message is None
    assert [i.pk for i in service.invitations_for_user(person)] == [invitation.pk]


def test_invite_by_phone_texts_a_link_and_a_code(org, invite, sms_outbox):
    [invitation] = invite(Invitee("phone", "+33 6 12 34 56 78"))
    assert invitation.address == "+33612345678"
    [sms] = sms_outbox
    assert sms.to == "+33612345678"
    token, code = sms_token_and_code(sms)
    assert service.invitation_check_code(token=token, code=code).pk == invitation.pk


@pytest.mark.parametrize(
    ("invitee", "message"),
    [
        (Invitee("email", "not-an-email"), "not a valid email address"),
        (Invitee("phone", "12"), "not a valid mobile number"),
        (Invitee("username", "two words"), "cannot be a username"),
        (Invitee("email", "a" * 250 + "@example.com"), "too long"),
        (Invitee("fax", "123"), "Choose how to invite"),
    ],
)
def test_bad_invitees_are_refused_and_nothing_is_created(org, owner, invitee, message, invite):
    with pytest.raises(ApplicationError, match=message):
        invite(Invitee("email", "fine@example.com"), invitee)
    assert not Invitation.objects.for_org(org).exists()
    assert list(Member.objects.for_org(org)) == [owner]
    assert mail.outbox == []


def test_check_reports_every_problem_row_by_row(org, owner, employee):
    MemberFactory(organization=org, email="gone@example.com", status=Member.Status.REMOVED)
    checked = service.invitees_check(
        organization=org,
        invitees=[
            Invitee("email", "new@example.com"),
            Invitee("email", "NEW@example.com"),
            Invitee("email", employee.email),
            Invitee("email", "gone@example.com"),
            Invitee("username", employee.user.username),
        ],
    )
    assert [item.errors for item in checked] == [
        [],
        ["Listed twice."],
        ["Already a member."],
        [],
        ["Already a member."],
    ]
    assert checked[3].member.status == Member.Status.REMOVED


def test_already_invited_is_refused(org, invite):
    invite(Invitee("email", "ana@example.com"))
    with pytest.raises(ApplicationError, match="Already invited"):
        invite(Invitee("email", "ana@example.com"))
    assert Invitation.objects.for_org(org).count() == 1


def test_a_member_by_verified_email_is_already_a_member(org, employee):
    EmailAddress.objects.create(user=employee.user, email="second@example.com", verified=True)
    [checked] = service.invitees_check(
        organization=org, invitees=[Invitee("email", "second@example.com")]
    )
    assert checked.errors == ["Already a member."]


def test_only_owners_invite_owners_and_admins(org, admin, invite):
    with pytest.raises(ApplicationError, match="Only owners"):
        invite(Invitee("email", "boss@example.com"), role=Role.ADMIN, actor=admin)
    [invitation] = invite(Invitee("email", "clerk@example.com"), role=Role.FINANCE, actor=admin)
    assert invitation.role == Role.FINANCE


def test_finance_and_members_cannot_invite(org, finance, employee, invite):
    for actor in (finance, employee):
        with pytest.raises(ApplicationError, match="Only owners and admins"):
            invite(Invitee("email", "x@example.com"), actor=actor)


def test_lists_of_another_organization_are_refused(org, other_org, invite):
    foreign = MemberListFactory(organization=other_org, name="Theirs")
    with pytest.raises(ApplicationError, match="lists of this organization"):
        invite(Invitee("email", "x@example.com"), lists=[foreign])


def test_daily_limit(org, invite):
    org.invitation_daily_limit = 2
    org.save()
    invite(Invitee("email", "a@example.com"), Invitee("email", "b@example.com"))
    with pytest.raises(ApplicationError, match="2 invitations a day"):
        invite(Invitee("email", "c@example.com"))
    assert Invitation.objects.for_org(org).count() == 2


def test_sms_limit_per_number(org, other_org, invite, settings, sms_outbox):
    settings.INVITATION_SMS_PER_NUMBER_PER_HOUR = 2
    invite(Invitee("phone", "+33612345678"))
    token, _code = sms_token_and_code(sms_outbox[0])
    service.invitation_send_code(token=token)
    with pytest.raises(ApplicationError, match="received 2 text messages in the last hour"):
        service.invitation_send_code(token=token)
    assert InvitationDelivery.objects.for_org(org).count() == 2


# --- Codes -------------------------------------------------------------------------------


def test_wrong_codes_are_counted_then_refused(org, invite, sms_outbox):
    invite(Invitee("phone", "+33612345678"))
    token, code = sms_token_and_code(sms_outbox[0])
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(ApplicationError, match=f"{left} attempt"):
            service.invitation_check_code(token=token, code=wrong)
    with pytest.raises(ApplicationError, match="Too many wrong codes"):
        service.invitation_check_code(token=token, code=wrong)
    with pytest.raises(ApplicationError, match="Too many wrong codes"):
        service.invitation_check_code(token=token, code=code)


def test_codes_expire_after_15_minutes_and_a_new_one_works(
    org, invite, sms_outbox, time_machine, django_capture_on_commit_callbacks
):
    time_machine.move_to(timezone.now())
    invite(Invitee("phone", "+33612345678"))
    token, code = sms_token_and_code(sms_outbox[0])
    time_machine.shift(timedelta(minutes=16))
    with pytest.raises(ApplicationError, match="expired"):
        service.invitation_check_code(token=token, code=code)
    with django_capture_on_commit_callbacks(execute=True):
        service.invitation_send_code(token=token)
    new_code = re.search(r"\b(\d{6})\b", sms_outbox[1].body).group(1)
    assert LINK.search(sms_outbox[1].body) is None, "a new code comes without the link"
    service.invitation_check_code(token=token, code=new_code)


# --- Answers -----------------------------------------------------------------------------


def test_new_person_signs_up_with_the_email_link(org, sales, invite):
    [invitation] = invite(Invitee("email", "ana@example.com"), lists=[sales], role=Role.FINANCE)
    user, member = service.invitation_signup(
        token=email_token(), password="a-long-pass-phrase-9", name="Ana Lopez"
    )
    assert (user.email, user.first_name, user.last_name) == ("ana@example.com", "Ana", "Lopez")
    assert EmailAddress.objects.get(user=user).verified
    assert member.pk == invitation.member.pk
    assert (member.user, member.status, member.role) == (user, "active", "finance")
    assert member.joined_at is not None
    assert list(MemberList.objects.for_org(org).filter(members=member)) == [sales]
    invitation.refresh_from_db()
    assert (invitation.status, invitation.accepted_by) == ("accepted", user)


def test_new_person_signs_up_with_the_phone_code(org, invite, sms_outbox):
    invite(Invitee("phone", "+33612345678"))
    token, code = sms_token_and_code(sms_outbox[0])
    with pytest.raises(ApplicationError, match="code"):
        service.invitation_signup(token=token, password="a-long-pass-phrase-9")
    service.invitation_check_code(token=token, code=code)
    user, member = service.invitation_signup(
        token=token, password="a-long-pass-phrase-9", phone_proven=True
    )
    assert (str(user.phone), user.phone_verified, user.email) == ("+33612345678", True, "")
    assert member.status == "active"


def test_signup_is_refused_when_an_account_has_the_address(org, invite):
    UserFactory(email="ana@example.com")
    invite(Invitee("email", "ana@example.com"))
    with pytest.raises(ApplicationError, match="sign in to accept"):
        service.invitation_signup(token=email_token(), password="a-long-pass-phrase-9")


def test_existing_user_accepts_with_a_matching_address(org, invite):
    person = UserFactory(email="ana@example.com")
    invite(Invitee("email", "ana@example.com"))
    member = service.invitation_accept(token=email_token(), user=person)
    assert (member.user, member.status) == (person, "active")


def test_the_link_verifies_an_unverified_matching_address(org, invite):
    person = UserFactory(email="ana@example.com", verified=False)
    invite(Invitee("email", "ana@example.com"))
    service.invitation_accept(token=email_token(), user=person)
    assert EmailAddress.objects.get(user=person).verified


def test_wrong_account_is_explained_and_nothing_changes(org, owner, invite):
    stranger = UserFactory(email="someone.else@example.com")
    [invitation] = invite(Invitee("email", "ana@example.com"))
    with pytest.raises(ApplicationError, match="not an address of your account"):
        service.invitation_accept(token=email_token(), user=stranger)
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert not Member.objects.for_org(org).filter(user=stranger).exists()


def test_phone_invitation_needs_the_accounts_number(org, invite, sms_outbox):
    mismatched = UserFactory(phone="+33700000000", phone_verified=True)
    matching = UserFactory(phone="+33612345678", phone_verified=False)
    invite(Invitee("phone", "+33612345678"))
    token, code = sms_token_and_code(sms_outbox[0])
    with pytest.raises(ApplicationError, match="not the mobile number of your account"):
        service.invitation_accept(token=token, user=mismatched, phone_proven=True)
    with pytest.raises(ApplicationError, match="Enter the code"):
        service.invitation_accept(token=token, user=matching)
    service.invitation_check_code(token=token, code=code)
    member = service.invitation_accept(token=token, user=matching, phone_proven=True)
    matching.refresh_from_db()
    assert (member.status, matching.phone_verified) == ("active", True)


def test_username_invitation_is_for_that_account_only(org, invite):
    invited = UserFactory(username="bruno")
    other = UserFactory(username="brunette")
    invite(Invitee("username", "bruno"))
    token = email_token()
    with pytest.raises(ApplicationError, match="for the account"):
        service.invitation_accept(token=token, user=other)
    assert service.invitation_accept(token=token, user=invited).user == invited


def test_a_link_works_once(org, invite):
    person = UserFactory(email="ana@example.com")
    invite(Invitee("email", "ana@example.com"))
    token = email_token()
    service.invitation_accept(token=token, user=person)
    with pytest.raises(service.InvitationUsed):
        service.invitation_accept(token=token, user=person)
    with pytest.raises(service.InvitationUsed):
        service.invitation_decline(token=token)


def test_decline_releases_the_place(org, sales, invite):
    [invitation] = invite(Invitee("email", "ana@example.com"), lists=[sales])
    placeholder = invitation.member
    service.invitation_decline(token=email_token())
    invitation.refresh_from_db()
    assert (invitation.status, invitation.member) == ("declined", None)
    assert not Member.objects.for_org(org).filter(pk=placeholder.pk).exists()
    assert not ListMembership.objects.for_org(org).exists()


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("", service.InvitationMalformed),
        ("short", service.InvitationMalformed),
        ("x" * 43 + "!", service.InvitationMalformed),
        ("A" * 43, service.InvitationUnknown),
    ],
)
@pytest.mark.django_db
def test_malformed_and_unknown_links(token, error):
    with pytest.raises(error):
        service.invitation_from_token(token)


def test_expired_links_and_the_daily_sweep(org, invite, time_machine):
    time_machine.move_to(timezone.now())
    [invitation] = invite(Invitee("email", "ana@example.com"))
    token = email_token()
    time_machine.shift(timedelta(days=30, minutes=1))
    with pytest.raises(service.InvitationExpired):
        service.invitation_from_token(token)
    assert service.invitations_expire_due() == 1
    assert service.invitations_expire_due() == 0
    invitation.refresh_from_db()
    assert invitation.status == "expired"
    assert invitation.member.status == "invited", "the place is kept for a resend"


def test_expiry_follows_the_organizations_setting(org, invite):
    org.invitation_expiry_days = 7
    org.save()
    [invitation] = invite(Invitee("email", "ana@example.com"))
    assert abs(invitation.expires_at - invitation.created_at - timedelta(days=7)) < timedelta(
        seconds=5
    )


def test_resend_rotates_the_link(org, owner, invite, django_capture_on_commit_callbacks):
    [invitation] = invite(Invitee("email", "ana@example.com"))
    old = email_token()
    with django_capture_on_commit_callbacks(execute=True):
        service.invitation_resend(organization=org, actor=owner, invitation=invitation)
    new = email_token()
    assert new != old
    with pytest.raises(service.InvitationUnknown):
        service.invitation_from_token(old)
    assert service.invitation_from_token(new).pk == invitation.pk
    assert InvitationDelivery.objects.for_org(org).filter(invitation=invitation).count() == 2


def test_resend_reopens_an_expired_invitation(org, owner, invite, time_machine):
    time_machine.move_to(timezone.now())
    [invitation] = invite(Invitee("email", "ana@example.com"))
    time_machine.shift(timedelta(days=31))
    service.invitations_expire_due()
    service.invitation_resend(organization=org, actor=owner, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.status == "pending"
    assert invitation.expires_at > timezone.now() + timedelta(days=29)


def test_revoke_kills_the_link_and_releases_the_place(org, owner, invite):
    [first, second] = invite(Invitee("email", "ana@example.com"), Invitee("phone", "+33611111111"))
    token = email_token()
    count = service.invitations_revoke(organization=org, actor=owner, invitations=[first, second])
    assert count == 2
    with pytest.raises(service.InvitationRevoked):
        service.invitation_from_token(token)
    assert list(Member.objects.for_org(org)) == [owner]
    assert service.invitations_revoke(organization=org, actor=owner, invitations=[first]) == 0


def test_a_removed_member_invited_again_comes_back_with_their_history(org, owner, invite):
    person = UserFactory(email="ana@example.com")
    former = MemberFactory(
        organization=org,
        user=person,
        status=Member.Status.REMOVED,
        removed_at=timezone.now(),
        job_title="Buyer",
    )
    [invitation] = invite(Invitee("email", "ana@example.com"), role=Role.FINANCE)
    assert invitation.member.pk == former.pk
    member = service.invitation_accept(token=email_token(), user=person)
    assert member.pk == former.pk
    assert (member.status, member.role, member.job_title, member.removed_at) == (
        "active",
        "finance",
        "Buyer",
        None,
    )


def test_revoking_a_former_members_invitation_leaves_them_former(org, owner, invite):
    former = MemberFactory(
        organization=org, status=Member.Status.REMOVED, joined_at=timezone.now(), email="f@x.com"
    )
    [invitation] = invite(Invitee("email", "f@x.com"))
    service.invitations_revoke(organization=org, actor=owner, invitations=[invitation])
    former.refresh_from_db()
    assert former.status == Member.Status.REMOVED


def test_in_app_answer(org, invite):
    person = UserFactory(username="bruno")
    [invitation] = invite(Invitee("username", "bruno"))
    stranger = UserFactory()
    with pytest.raises(service.InvitationUnknown):
        service.invitation_respond_in_app(invitation_id=invitation.pk, user=stranger, accept=True)
    member = service.invitation_respond_in_app(
        invitation_id=invitation.pk, user=person, accept=True
    )
    assert member.status == "active"
    assert service.invitations_for_user(person) == []


# --- Sending once --------------------------------------------------------------------------


def test_a_delivery_task_run_twice_sends_once(org, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        service.invitations_create(
            organization=org, actor=owner, invitees=[Invitee("email", "ana@example.com")]
        )
    delivery = InvitationDelivery.objects.for_org(org).get()
    for _run in range(2):
        for callback in callbacks:
            callback()
    send_invitations.delay([delivery.pk])
    assert len(mail.outbox) == 1
    assert OutboundMessage.objects.count() == 1


def test_a_revoked_invitation_is_not_sent(org, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [invitation] = service.invitations_create(
            organization=org, actor=owner, invitees=[Invitee("email", "ana@example.com")]
        )
    service.invitations_revoke(organization=org, actor=owner, invitations=[invitation])
    for callback in callbacks:
        callback()
    assert mail.outbox == []


def test_messages_speak_the_inviters_language(org, owner, invite):
    owner.user.language = "fr"
    owner.user.save()
    invite(Invitee("email", "ana@example.com"))
    assert "vous invite à rejoindre" in mail.outbox[0].subject


# --- Concurrency ---------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_accepts_make_one_membership():
    owner = MemberFactory(role=Role.OWNER)
    org = owner.organization
    person = UserFactory(email="ana@example.com")
    service.invitations_create(
        organization=org, actor=owner, invitees=[Invitee("email", "ana@example.com")]
    )
    token = email_token()
    barrier = threading.Barrier(2)
    results = []

    def accept():
        try:
            barrier.wait()
            results.append(service.invitation_accept(token=token, user=person).pk)
        except service.InvitationUsed:
            results.append("used")
        finally:
            connection.close()

    threads = [threading.Thread(target=accept) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(map(str, results))[1] == "used"
    assert Member.objects.for_org(org).filter(user=person, status="active").count() == 1
