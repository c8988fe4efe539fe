from django.urls import path

from members.views import directory, imports, invitations, lists, picker

app_name = "members"

# Public: the pages an invitation link leads to, and a signed-in person's own invitations.
urlpatterns = [
    path("i/<str:token>/", invitations.invitation_open, name="invitation-open"),
    path("i/<str:token>/code/", invitations.invitation_code, name="invitation-code"),
    path("i/<str:token>/signup/", invitations.invitation_signup, name="invitation-signup"),
    path("i/<str:token>/accept/", invitations.invitation_accept, name="invitation-accept"),
    path("i/<str:token>/decline/", invitations.invitation_decline, name="invitation-decline"),
    path("invitations/", invitations.my_invitations, name="my-invitations"),
    path(
        "invitations/<int:invitation_id>/respond/",
        invitations.my_invitation_respond,
        name="my-invitation-respond",
    ),
]

# Mounted under /o/<org_slug>/ by organizations.tenancy; roles in organizations.roles.
org_urlpatterns = [
    path("members/", directory.member_list, name="member-list"),
    path("members/bulk/", directory.member_bulk, name="member-bulk"),
    path("members/picker/", picker.member_picker, name="member-picker"),
    path("members/<int:member_id>/", directory.member_detail, name="member-detail"),
    path("members/<int:member_id>/role/", directory.member_role, name="member-role"),
    path("members/<int:member_id>/status/", directory.member_status, name="member-status"),
    path("members/<int:member_id>/lists/", directory.member_lists, name="member-lists"),
    path("members/invite/", invitations.invite, name="invite"),
    path("members/invitations/", invitations.invitation_list, name="invitation-list"),
    path("members/invitations/rows/", invitations.invitation_rows, name="invitation-rows"),
    path(
        "members/invitations/revoke/",
        invitations.invitation_bulk_revoke,
        name="invitation-bulk-revoke",
    ),
    path(
        "members/invitations/<int:invitation_id>/resend/",
        invitations.invitation_resend,
        name="invitation-resend",
    ),
    path(
        "members/invitations/<int:invitation_id>/revoke/",
        invitations.invitation_revoke,
        name="invitation-revoke",
    ),
    path("members/import/", imports.member_import, name="import"),
    path("members/import/template.csv", imports.import_template, name="import-template"),
    path("members/import/<int:import_id>/", imports.import_detail, name="import-detail"),
    path("members/import/<int:import_id>/errors.csv", imports.import_errors, name="import-errors"),
    path("lists/", lists.list_list, name="list-list"),
    path("lists/<int:list_id>/", lists.list_detail, name="list-detail"),
    path("lists/<int:list_id>/delete/", lists.list_delete, name="list-delete"),
]
