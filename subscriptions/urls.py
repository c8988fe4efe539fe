from django.urls import path  # noqa: F401

app_name = "subscriptions"

# Public: Twilio's webhooks (signed; no session, no CSRF token).
urlpatterns = []

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = []
