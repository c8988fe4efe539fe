from django.urls import path

from usage.views import phone

app_name = "usage"

# Public: Twilio's webhooks for members' calls and messages (signed; no session, no CSRF token).
urlpatterns = []

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("phone/", phone.phone, name="phone"),
    path("phone/price/", phone.phone_price, name="phone-price"),
    path("phone/token/", phone.phone_token, name="phone-token"),
]
