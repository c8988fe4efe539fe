"""Signing up by email or mobile number, verifying, signing in, and the limits around it."""

import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from outbox.models import OutboundMessage
from tests.factories import PASSWORD, UserFactory

User = get_user_model()
LINK = re.compile(r"https?://\S+")


def signup(client, **fields):
    via = fields.get("via", "email")
    data = {"via": via, "password1": PASSWORD, "password2": PASSWORD, **fields}
    return client.post(f"/accounts/signup/?via={via}", data)


@pytest.mark.django_db
def test_signup_by_email_then_verify_then_create_an_organization(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signup(client, email="Ana.Lopez@Example.com", name="Ana Lopez")
    # Not signed in until the address is verified: "check your inbox".
    assert (response.status_code, response["Location"]) == (302, "/accounts/confirm-email/")
    assert "_auth_user_id" not in client.session
    user = User.objects.get()
    assert (user.email, user.first_name, user.last_name) == (
        "ana.lopez@example.com",
        "Ana",
        "Lopez",
    )
    assert not user.has_verified_contact()

    message = OutboundMessage.objects.get()
    assert (message.channel, message.to, message.status) == ("email", user.email, "sent")
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ana.lopez@example.com"]
    assert email.alternatives, "the verification email has an HTML part"
    link = LINK.search(email.body).group(0)

    confirm_page = client.get(link)
    assert confirm_page.status_code == 200
    client.post(link)
    assert EmailAddress.objects.get(user=user).verified
    # Confirmed in the browser that signed up: signed in.
    assert client.session["_auth_user_id"] == str(user.pk)

    created = client.post(
        "/orgs/new/",
        {"name": "Acme SARL", "country": "FR", "currency": "EUR", "time_zone": "Europe/Paris"},
    )
    assert created["Location"] == "/o/acme-sarl/"


@pytest.mark.django_db
def test_signup_by_phone_activates_with_the_sms_code(
    client, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = signup(
            client, via="phone", phone="+33 6 12 34 56 78", email="ignored@example.com"
        )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/phone/verify/"
    user = User.objects.get()
    assert (str(user.phone), user.phone_verified, user.email) == ("+33612345678", False, "")

    assert len(sms_outbox) == 1
    assert sms_outbox[0].to == "+33612345678"
    code = re.search(r"\b(\d{6})\b", sms_outbox[0].body).group(1)

    wrong = client.post("/accounts/phone/verify/", {"code": "000000" if code != "000000" else "1"})
    assert wrong.status_code == 200
    done = client.post("/accounts/phone/verify/", {"code": code})
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.phone_verified
    assert client.get("/orgs/new/").status_code == 200
    assert user.has_verified_contact()


@pytest.mark.django_db
def test_signup_needs_the_chosen_contact(client):
    response = signup(client, via="phone", email="someone@example.com")
    assert response.status_code == 200
    assert "Enter your mobile number." in response.content.decode()
    response = signup(client, via="email", phone="+33612345678")
    assert "Enter your email address." in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_refuses_a_bad_phone_number(client):
    response = signup(client, via="phone", phone="12")
    assert response.status_code == 200
    assert "valid mobile number" in response.content.decode()
    assert not User.objects.exists()


@pytest.mark.parametrize("login_value", ["person0", "person0@example.com", "PERSON0@example.com"])
@pytest.mark.django_db
def test_login_by_username_or_email(client, login_value):
    UserFactory(username="person0", email="person0@example.com")
    response = client.post("/accounts/login/", {"login": login_value, "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/orgs/new/").status_code == 200


@pytest.mark.django_db
def test_login_by_phone(client):
    UserFactory(email="", phone="+41791234567", phone_verified=True)
    response = client.post("/accounts/login/", {"login": "+41 79 123 45 67", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] != "/accounts/login/"


@pytest.mark.django_db
def test_failed_logins_are_rate_limited(client):
    UserFactory(username="target")
    for _attempt in range(5):
        client.post("/accounts/login/", {"login": "target", "password": "wrong-password"})
    response = client.post("/accounts/login/", {"login": "target", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()


@pytest.mark.django_db
def test_password_reset_sends_a_link(client, django_capture_on_commit_callbacks):
    UserFactory(username="forgetful", email="forgetful@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "forgetful@example.com"})
    assert [message.to for message in mail.outbox] == [["forgetful@example.com"]]
    link = LINK.search(mail.outbox[0].body).group(0)
    follow = client.get(link, follow=True)
    assert follow.status_code == 200
    client.post(
        follow.redirect_chain[-1][0], {"password1": "n3w-Passw0rd!", "password2": "n3w-Passw0rd!"}
    )
    assert (
        client.post(
            "/accounts/login/", {"login": "forgetful", "password": "n3w-Passw0rd!"}
        ).status_code
        == 302
    )


def current_totp(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.mark.django_db
def test_totp_two_factor_with_recovery_codes(client):
    user = UserFactory(username="careful")
    client.post("/accounts/login/", {"login": "careful", "password": PASSWORD})
    # Sensitive changes ask for the password again.
    assert client.get("/accounts/2fa/totp/activate/")["Location"].startswith(
        "/accounts/reauthenticate/"
    )
    client.post("/accounts/reauthenticate/", {"password": PASSWORD})
    assert client.get("/accounts/2fa/totp/activate/").status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    client.post("/accounts/2fa/totp/activate/", {"code": current_totp(secret)})
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
    codes = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    recovery_code = codes.wrap().get_unused_codes()[0]

    client.post("/accounts/logout/")
    response = client.post("/accounts/login/", {"login": "careful", "password": PASSWORD})
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert client.get("/orgs/new/").status_code == 302, "not signed in before the second factor"
    client.post("/accounts/2fa/authenticate/", {"code": current_totp(secret)})
    assert client.get("/orgs/new/").status_code == 200

    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"login": "careful", "password": PASSWORD})
    client.post("/accounts/2fa/authenticate/", {"code": recovery_code})
    assert client.get("/orgs/new/").status_code == 200


@pytest.mark.django_db
def test_emails_and_sms_speak_the_signup_language(
    client, sms_outbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/accounts/signup/?via=email",
            {
                "via": "email",
                "email": "lea@example.fr",
                "password1": PASSWORD,
                "password2": PASSWORD,
            },
            HTTP_ACCEPT_LANGUAGE="fr",
        )
    assert mail.outbox[0].subject == "[SkypeMgr] Activez votre compte"
    assert "Confirmer mon adresse e-mail" in mail.outbox[0].alternatives[0].content
    assert User.objects.get().language == "fr"

    with django_capture_on_commit_callbacks(execute=True):
        type(client)().post(
            "/accounts/signup/?via=phone",
            {"via": "phone", "phone": "+33611111111", "password1": PASSWORD, "password2": PASSWORD},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
    assert sms_outbox[0].body.startswith("Votre code de vérification SkypeMgr est ")


def signed_in_message(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


@pytest.mark.django_db
def test_the_signed_in_message_names_the_person_not_the_generated_username(client):
    UserFactory(username="user-4f9a2c", first_name="Ana", last_name="Lopez")
    response = client.post(
        "/accounts/login/", {"login": "user-4f9a2c", "password": PASSWORD}, follow=True
    )
    assert signed_in_message(response) == "Successfully signed in as Ana Lopez."


@pytest.mark.django_db
def test_without_a_name_the_signed_in_message_shows_the_phone_number(client):
    UserFactory(
        username="user-77d0e1",
        first_name="",
        last_name="",
        email="",
        phone="+41791234567",
        phone_verified=True,
    )
    response = client.post(
        "/accounts/login/", {"login": "+41791234567", "password": PASSWORD}, follow=True
    )
    assert signed_in_message(response) == "Successfully signed in as +41791234567."


def signup_answer(email: str, django_capture_on_commit_callbacks) -> tuple:
    """What a visitor sees after signing up with `email`, the address itself left out."""
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = signup(browser, email=email, name="Ana Lopez")
    page = browser.get(response["Location"])
    return (
        response.status_code,
        response["Location"],
        page.status_code,
        [template.name for template in page.templates],
        [str(message).replace(email, "…") for message in page.context["messages"]],
        "_auth_user_id" in browser.session,
    )


@pytest.mark.django_db
def test_signup_answers_the_same_for_a_new_and_a_registered_address(
    django_capture_on_commit_callbacks,
):
    UserFactory(username="lea", email="lea@example.fr", language="fr")

    new = signup_answer("newcomer@example.com", django_capture_on_commit_callbacks)
    registered = signup_answer("lea@example.fr", django_capture_on_commit_callbacks)

    assert new == registered
    assert new[:3] == (302, "/accounts/confirm-email/", 200)
    assert new[-1] is False, "nobody is signed in before the address is verified"
    assert sorted(User.objects.values_list("email", flat=True)) == [
        "lea@example.fr",
        "newcomer@example.com",
    ]
    assert [message.to for message in mail.outbox] == [["newcomer@example.com"], ["lea@example.fr"]]


@pytest.mark.django_db
def test_the_owner_of_a_registered_address_is_told_in_their_language(
    django_capture_on_commit_callbacks,
):
    UserFactory(username="lea", email="lea@example.fr", language="fr")
    signup_answer("LEA@example.fr", django_capture_on_commit_callbacks)

    [email] = mail.outbox
    assert email.to == ["lea@example.fr"]
    assert email.subject == "[SkypeMgr] Vous avez déjà un compte"
    assert "Quelqu'un, probablement vous, a essayé de créer un compte SkypeMgr" in email.body
    assert "/accounts/password/reset/" in email.body
    message = OutboundMessage.objects.get()
    assert (message.channel, message.language, message.status) == ("email", "fr", "sent")


@pytest.mark.django_db
def test_signup_by_a_registered_number_answers_like_a_new_one_and_texts_the_owner(
    sms_outbox, django_capture_on_commit_callbacks
):
    UserFactory(username="lea", phone="+33611111111", phone_verified=True, language="fr")
    answers = []
    for phone in ("+33622222222", "+33611111111"):
        browser = Client()
        with django_capture_on_commit_callbacks(execute=True):
            response = signup(browser, via="phone", phone=phone)
        answers.append((response.status_code, response["Location"]))
    assert answers == [(302, "/accounts/phone/verify/")] * 2
    assert User.objects.count() == 2
    new, registered = sms_outbox
    assert new.to == "+33622222222"
    assert registered.to == "+33611111111"
    assert registered.body.startswith("SkypeMgr : quelqu'un a essayé de créer un compte")


@pytest.mark.django_db
def test_a_registered_email_left_in_the_hidden_tab_does_not_spoil_a_phone_signup(
    sms_outbox, django_capture_on_commit_callbacks
):
    UserFactory(username="lea", email="lea@example.fr")
    with django_capture_on_commit_callbacks(execute=True):
        response = signup(Client(), via="phone", phone="+33633333333", email="lea@example.fr")
    assert response["Location"] == "/accounts/phone/verify/"
    assert User.objects.filter(phone="+33633333333").exists()
    assert "verification code" in sms_outbox[0].body
