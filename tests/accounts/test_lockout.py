"""Failed sign-ins count against the account, whatever identifier was typed; the per-address
limits and the audit log read the client's address by one rule, behind a proxy or not."""

import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core import mail
from django.utils import timezone

from organizations.models import AuditEvent, Organization
from tests.factories import PASSWORD, UserFactory

LOCKED = "Too many failed login attempts"

pytestmark = pytest.mark.django_db


def sign_in(client, login, password=PASSWORD, **headers):
    return client.post("/accounts/login/", {"login": login, "password": password}, **headers)


@pytest.fixture
def ana(db):
    return UserFactory(
        username="ana", email="ana@example.com", phone="+33612345678", phone_verified=True
    )


def test_five_failures_lock_every_identifier_of_the_account(client, ana):
    for login in ("ana", "ana", "ana@example.com", "+33 6 12 34 56 78", "ana"):
        assert sign_in(client, login, "wrong-password").status_code == 200
    # The email and the mobile number were each tried fewer than five times, yet both are shut.
    for login in ("ana@example.com", "+33612345678", "ANA@example.com", "ana"):
        response = sign_in(client, login)
        assert response.status_code == 200, login
        assert LOCKED in response.content.decode(), login
    assert "_auth_user_id" not in client.session


def test_failures_by_username_then_the_email_form_is_refused(client, ana):
    for _attempt in range(5):
        sign_in(client, "ana", "wrong-password")
    response = sign_in(client, "ana@example.com")
    assert LOCKED in response.content.decode()


def test_the_lock_lifts_when_the_window_passes(client, ana):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _attempt in range(5):
            sign_in(client, "ana@example.com", "wrong-password")
        assert LOCKED in sign_in(client, "+33612345678").content.decode()
        clock.shift(timedelta(minutes=5, seconds=1))
        assert sign_in(client, "+33612345678").status_code == 302


def test_other_accounts_are_not_locked(client, ana):
    UserFactory(username="bruno", email="bruno@example.com")
    for _attempt in range(5):
        sign_in(client, "ana", "wrong-password")
    assert sign_in(client, "bruno@example.com").status_code == 302


def test_a_successful_sign_in_clears_the_account_count(client, ana):
    for login in ("ana", "ana@example.com", "+33612345678", "ana"):
        sign_in(client, login, "wrong-password")
    assert sign_in(client, "ana@example.com").status_code == 302
    client.post("/accounts/logout/")
    for login in ("+33612345678", "ana@example.com"):
        sign_in(client, login, "wrong-password")
    assert sign_in(client, "+33612345678").status_code == 302


# --- The client's address behind a proxy --------------------------------------------------


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_ip_limit(client):
    # allauth allows ten failures a minute from one address: each under another forged name.
    for attempt in range(10):
        sign_in(client, f"nobody{attempt}", "wrong", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
    response = sign_in(client, "nobody-else", "wrong", HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert LOCKED in response.content.decode()


def test_behind_a_trusted_proxy_each_client_has_its_own_ip_limit(client, settings, ana):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # Everyone arrives from the proxy (REMOTE_ADDR 127.0.0.1); the proxy appends the client.
    for attempt in range(10):
        sign_in(client, f"nobody{attempt}", "wrong", HTTP_X_FORWARDED_FOR="203.0.113.7")
    blocked = sign_in(client, "nobody-else", "wrong", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7")
    assert LOCKED in blocked.content.decode(), "a forged first entry changes nothing"
    assert sign_in(client, "ana", HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 302


def create_organization(client, **headers):
    return client.post(
        "/orgs/new/",
        {"name": "Acme SARL", "country": "FR", "currency": "EUR", "time_zone": "Europe/Paris"},
        **headers,
    )


@pytest.mark.parametrize(
    ("proxy_settings", "headers", "recorded"),
    [
        ({}, {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}, "127.0.0.1"),
        (
            {"ALLAUTH_TRUSTED_PROXY_COUNT": 1},
            {"HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"},
            "203.0.113.7",
        ),
        (
            {"ALLAUTH_TRUSTED_PROXY_COUNT": 2},
            {"HTTP_X_FORWARDED_FOR": "203.0.113.7, 10.0.0.2"},
            "203.0.113.7",
        ),
        (
            {"ALLAUTH_TRUSTED_CLIENT_IP_HEADER": "X-Real-IP"},
            {"HTTP_X_REAL_IP": "203.0.113.9"},
            "203.0.113.9",
        ),
        # Fewer entries than proxies: the request went around them; the connecting address.
        ({"ALLAUTH_TRUSTED_PROXY_COUNT": 2}, {"HTTP_X_FORWARDED_FOR": "203.0.113.7"}, "127.0.0.1"),
    ],
)
def test_the_audit_log_records_the_address_by_the_same_rule(
    login, settings, ana, proxy_settings, headers, recorded
):
    for name, value in proxy_settings.items():
        setattr(settings, name, value)
    response = create_organization(login(ana), **headers)
    assert response.status_code == 302
    organization = Organization.objects.get()
    events = AuditEvent.objects.for_org(organization)
    assert {event.ip_address for event in events} == {recorded}


@pytest.mark.parametrize(
    ("environment", "count", "header"),
    [
        ({}, 0, None),
        ({"TRUSTED_PROXY_COUNT": "1"}, 1, None),
        ({"TRUSTED_CLIENT_IP_HEADER": "X-Real-IP"}, 0, "X-Real-IP"),
    ],
)
@pytest.mark.django_db(databases=[])
def test_the_proxy_settings_come_from_the_environment(environment, count, header):
    script = (
        "from skypemgr import settings; "
        "print(settings.ALLAUTH_TRUSTED_PROXY_COUNT, settings.ALLAUTH_TRUSTED_CLIENT_IP_HEADER)"
    )
    env = {"PATH": "/usr/bin:/bin", "DEBUG": "true", **environment}
    out = subprocess.run(  # noqa: S603 (this interpreter, a fixed script)
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out == [str(count), str(header)]


def test_a_password_reset_lifts_the_account_lock(client, ana, django_capture_on_commit_callbacks):
    for _attempt in range(5):
        sign_in(client, "ana", "wrong-password")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password/reset/", {"email": "ana@example.com"})
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    form = client.get(link, follow=True).redirect_chain[-1][0]
    client.post(form, {"password1": "n3w-Passw0rd!", "password2": "n3w-Passw0rd!"})
    assert sign_in(client, "+33612345678", "n3w-Passw0rd!").status_code == 302
