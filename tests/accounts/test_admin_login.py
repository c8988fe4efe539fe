"""Django admin, where platform staff see every organization: entered only through allauth's
sign-in (rate limits, lockout) and only with two-factor."""

import time

import pytest
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.test import Client

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def current_totp(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def platform_staff():
    return UserFactory(
        username="staffer", email="staffer@skypemgr.example", is_staff=True, is_superuser=True
    )


@pytest.fixture
def totp_secret(platform_staff) -> str:
    secret = generate_totp_secret()
    TOTP.activate(platform_staff, secret)
    return secret


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_admin_login_form_authenticates_nobody(client, platform_staff, totp_secret):
    for _attempt in range(25):
        client.post("/admin/login/", {"username": "staffer", "password": "wrong-password"})
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "staffer", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    assert not signed_in(client)
    assert client.get("/admin/").status_code == 302


def test_the_admin_sends_visitors_to_allauth_sign_in_and_back(client):
    response = client.get("/admin/accounts/user/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/login/?next=/admin/accounts/user/"


def test_admin_sign_in_is_limited_like_every_sign_in(client, platform_staff, totp_secret):
    for _attempt in range(5):
        client.post("/accounts/login/?next=/admin/", {"login": "staffer", "password": "wrong"})
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": "staffer@skypemgr.example", "password": PASSWORD}
    )
    assert "Too many failed login attempts" in response.content.decode()
    assert not signed_in(client)


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, platform_staff):
    client.post("/accounts/login/", {"login": "staffer", "password": PASSWORD})
    assert signed_in(client)
    response = client.get("/admin/", follow=True)
    # To the set-up page (which first asks for the password again, as for any security change).
    assert ("/accounts/2fa/totp/activate/", 302) in response.redirect_chain
    messages = [str(message) for message in response.context["messages"]]
    assert any("Platform administration needs two-factor authentication" in m for m in messages)
    assert client.get("/admin/accounts/user/").status_code == 302


def test_staff_who_signed_in_with_their_code_enter_the_admin(client, platform_staff, totp_secret):
    response = client.post(
        "/accounts/login/?next=/admin/", {"login": "staffer", "password": PASSWORD}
    )
    assert response["Location"] == "/accounts/2fa/authenticate/"
    response = client.post("/accounts/2fa/authenticate/", {"code": current_totp(totp_secret)})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 200


def test_a_session_without_the_second_factor_cannot_open_the_admin(platform_staff, totp_secret):
    # Signed in some other way than allauth's two-factor sign-in (here: directly).
    client = Client()
    client.force_login(platform_staff)
    assert client.get("/admin/accounts/user/").status_code == 302
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/2fa/reauthenticate/?next=%2Fadmin%2F"
    response = client.post(
        "/accounts/2fa/reauthenticate/?next=%2Fadmin%2F", {"code": current_totp(totp_secret)}
    )
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_people_who_are_not_staff_are_refused(client):
    UserFactory(username="ana")
    client.post("/accounts/login/", {"login": "ana", "password": PASSWORD})
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert response.redirect_chain == [("/admin/login/?next=/admin/", 302)]
