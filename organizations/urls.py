from django.urls import path

from organizations import views

app_name = "organizations"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("orgs/", views.organization_choose, name="choose"),
    path("orgs/new/", views.organization_create, name="create"),
]

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("", views.organization_home, name="home"),
    path("settings/", views.organization_settings, name="settings"),
    path("settings/audit/", views.audit_log, name="audit-log"),
]
