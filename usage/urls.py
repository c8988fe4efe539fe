from django.urls import path  # noqa: F401 (the pages add their paths here)

app_name = "usage"

# Public: Twilio's webhooks for members' calls and messages (signed; no session, no CSRF token).
urlpatterns = []

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = []
