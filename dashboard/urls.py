from django.urls import path

from dashboard import views

app_name = "dashboard"

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("me/", views.my_account, name="my-account"),
    path("me/leave/", views.leave, name="leave"),
]
