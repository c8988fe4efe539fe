from django.urls import path

from subscriptions.views import assign, calendar, features, numbers, phone, settings, webhooks

app_name = "subscriptions"

# Public: Twilio's webhooks (signed; no session, no CSRF token), and the greeting Twilio plays
# (a signed, expiring token).
urlpatterns = [
    path("twilio/voice/", webhooks.voice_webhook, name="twilio-voice"),
    path("twilio/recording/", webhooks.recording_webhook, name="twilio-recording"),
    path("twilio/call-status/", webhooks.call_status_webhook, name="twilio-call-status"),
    path("twilio/greeting/<str:token>/", webhooks.greeting_audio, name="twilio-greeting"),
]

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("features/calendar/", calendar.calendar, name="calendar"),
    path("features/calendar/export/", calendar.calendar_export, name="calendar-export"),
    path("features/settings/", settings.feature_settings_view, name="settings"),
    path("features/numbers/", numbers.number_list, name="number-list"),
    path("features/numbers/buy/", numbers.number_buy, name="number-buy"),
    path("features/numbers/search/", numbers.number_search, name="number-search"),
    path("me/phone/forwarding/", phone.forwarding, name="my-forwarding"),
    path("me/phone/greeting/", phone.greeting, name="my-greeting"),
    path("me/phone/caller-id/", phone.caller_id, name="my-caller-id"),
    path(
        "me/voicemails/<int:voicemail_id>/audio/", phone.voicemail_audio, name="my-voicemail-audio"
    ),
    path(
        "me/voicemails/<int:voicemail_id>/listened/",
        phone.voicemail_listened,
        name="my-voicemail-listened",
    ),
    path(
        "me/voicemails/<int:voicemail_id>/delete/",
        phone.voicemail_delete,
        name="my-voicemail-delete",
    ),
    path("features/", features.overview, name="overview"),
    path("features/catalog/", features.catalog, name="catalog"),
    path("features/assign/", assign.assign, name="assign"),
    path(
        "features/<int:subscription_id>/",
        features.subscription_detail,
        name="subscription-detail",
    ),
    path(
        "features/<int:subscription_id>/cancel/",
        features.subscription_cancel_view,
        name="subscription-cancel",
    ),
    path("members/<int:member_id>/access/", features.member_access_view, name="member-access"),
]
