from django.urls import path

from usage.views import rates

app_name = "usage"

# Public: Twilio's webhooks for members' calls and messages (signed; no session, no CSRF token).
urlpatterns = []

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("rates/", rates.rate_list, name="rates"),
]
