"""Django admin for platform staff, who see every organization: it is entered only through
allauth's sign-in (its rate limits and per-account lockout) and only with two-factor.

Django's own admin login form is gone: /admin/login/ authenticates nobody; it sends a visitor
to the next step they need:

- not signed in: allauth's sign-in, then back (`next`);
- signed in but not active staff: the usual 403;
- staff without an authenticator app: TOTP set-up, with a message saying why;
- staff whose session did not pass the second factor (signed in before setting it up, or
  through a path without it): allauth's two-factor re-authentication, then back.

`has_permission` asks for the same, so no admin page opens for a session without it.
"""

from urllib.parse import urlencode

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.defaults import permission_denied


def has_totp(user) -> bool:
    return is_mfa_enabled(user, [Authenticator.Type.TOTP])


def passed_second_factor(request) -> bool:
    """True when this session's sign-in (or a re-authentication) included a two-factor code."""
    records = get_authentication_records(request, request.user)
    return any(record.get("method") == "mfa" for record in records)


class PlatformAdminSite(admin.AdminSite):
    site_header = "SkypeMgr platform administration"

    def has_permission(self, request) -> bool:
        return (
            super().has_permission(request)
            and has_totp(request.user)
            and passed_second_factor(request)
        )

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        next_url = self._next_url(request)
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(next_url, resolve_url(settings.LOGIN_URL))
        if not (user.is_active and user.is_staff):
            return permission_denied(request, PermissionDenied())
        if not has_totp(user):
            messages.warning(
                request,
                _(
                    "Platform administration needs two-factor authentication. Set up an "
                    "authenticator app, then open the administration again."
                ),
            )
            return redirect("mfa_activate_totp")
        if not passed_second_factor(request):
            return redirect(f"{reverse('mfa_reauthenticate')}?{urlencode({'next': next_url})}")
        return redirect(next_url)

    def _next_url(self, request) -> str:
        """Where to go once through: the requested admin page, else the admin's index."""
        index = reverse("admin:index", current_app=self.name)
        candidate = request.GET.get("next", "")
        if (
            candidate
            and url_has_allowed_host_and_scheme(
                candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            and not candidate.startswith(reverse("admin:login", current_app=self.name))
        ):
            return candidate
        return index
