"""URL map. Organization pages are mounted by organizations.tenancy.app_urls, which puts every
one of them behind the tenancy and role check; Django admin's site (accounts.admin_site) lets
in only staff signed in through allauth with two-factor."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from organizations.tenancy import app_urls
from skypemgr.health import healthz
from usage.api.v1 import api as usage_api_v1

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("account/", include("accounts.urls")),
    path("dev/outbox/", include("outbox.urls")),
    # The call-record API (django-ninja): API keys, not sessions; its schema and docs.
    path("api/v1/", usage_api_v1.urls),
    app_urls("organizations.urls"),
    app_urls("members.urls"),
    app_urls("credit.urls"),
    app_urls("subscriptions.urls"),
    app_urls("usage.urls"),
    app_urls("dashboard.urls"),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
