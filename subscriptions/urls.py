from django.urls import path

from subscriptions.views import assign, features

app_name = "subscriptions"

# Public: Twilio's webhooks (signed; no session, no CSRF token).
urlpatterns = []

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
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
