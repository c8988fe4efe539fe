from django.urls import path

from usage.views import pages

app_name = "usage"

# Public: Twilio's webhooks for members' calls and messages (signed; no session, no CSRF token).
urlpatterns = []

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("me/usage/", pages.my_usage, name="my-usage"),
    path("members/<int:member_id>/usage/", pages.member_usage_view, name="member-usage"),
    path("usage/settings/", pages.usage_settings_view, name="settings"),
]
