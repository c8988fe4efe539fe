from django.urls import path

from usage.views import api_keys, pages, phone, rates, twilio

app_name = "usage"

# Public: Twilio's webhooks for members' calls and messages (signed; no session, no CSRF token).
# The call-record API is mounted at /api/v1/ by skypemgr.urls (usage.api).
urlpatterns = [
    path("twilio/outgoing/", twilio.outgoing_call, name="twilio-outgoing"),
    path("twilio/outgoing/done/", twilio.outgoing_call_done, name="twilio-outgoing-done"),
    path("twilio/usage/call/", twilio.call_status, name="twilio-call-status"),
    path("twilio/usage/sms/", twilio.sms_status, name="twilio-sms-status"),
]

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("phone/", phone.phone, name="phone"),
    path("phone/price/", phone.phone_price, name="phone-price"),
    path("phone/token/", phone.phone_token, name="phone-token"),
    path("rates/", rates.rate_list, name="rates"),
    path("me/usage/", pages.my_usage, name="my-usage"),
    path("members/<int:member_id>/usage/", pages.member_usage_view, name="member-usage"),
    path("usage/settings/", pages.usage_settings_view, name="settings"),
    path("settings/api-keys/", api_keys.api_key_list, name="api-key-list"),
    path("settings/api-keys/new/", api_keys.api_key_create, name="api-key-create"),
    path("settings/api-keys/<int:key_id>/revoke/", api_keys.api_key_revoke, name="api-key-revoke"),
]
