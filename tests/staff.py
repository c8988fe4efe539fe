"""Platform staff in Django admin, signed in the only way the admin accepts: through allauth,
with their authenticator app's code (accounts.admin_site)."""

import time

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.test import Client

from tests.factories import PASSWORD


def admin_client(user) -> Client:
    """A client signed in as `user` (staff) with password and TOTP code, ready for /admin/."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = Client()
    client.post("/accounts/login/", {"login": user.username, "password": PASSWORD})
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    client.post("/accounts/2fa/authenticate/", {"code": code})
    return client
