from django.urls import path

from subscriptions.views import calendar, settings

app_name = "subscriptions"

# Public: Twilio's webhooks (signed; no session, no CSRF token).
urlpatterns = []

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("features/calendar/", calendar.calendar, name="calendar"),
    path("features/calendar/export/", calendar.calendar_export, name="calendar-export"),
    path("features/settings/", settings.feature_settings_view, name="settings"),
]
