"""Platform staff's view of organizations and their members (organizations.middleware lifts the
tenant scope in the admin).

Memberships are read-only here: their organization, account, role, status and profile change
only through the membership services (members.services.membership), which keep the rules (the
last active owner, who may change whom), record an audit event, and never move a member (and
their wallet) from one organization to another. Staff see members; the organization's owners
and admins change them.
"""

from django.contrib import admin

from organizations.models import AuditEvent, Member, Organization


class MemberInline(admin.TabularInline):
    model = Member
    extra = 0
    fields = ("display_name", "email", "role", "status", "joined_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "country", "currency", "verified", "created_at")
    list_filter = ("verified", "currency", "country")
    search_fields = ("name", "slug")
    readonly_fields = ("slug", "currency_locked_at", "created_at", "created_by")
    inlines = [MemberInline]


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = ("display_name", "organization", "role", "status", "email", "joined_at")
    list_filter = ("role", "status")
    search_fields = ("display_name", "email", "username", "organization__name")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "organization", "actor_label", "verb", "target_label")
    list_filter = ("verb",)
    search_fields = ("actor_label", "verb", "target_label", "organization__name")
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
