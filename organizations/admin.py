"""Platform staff's view of organizations and their members (organizations.middleware lifts the
tenant scope in the admin).

Memberships are read-only here: their organization, account, role, status and profile change
only through the membership services (members.services.membership), which keep the rules (the
last active owner, who may change whom), record an audit event, and never move a member (and
their wallet) from one organization to another. Staff see members; the organization's owners
and admins change them.
"""

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _

from organizations import extensions
from organizations.models import AuditEvent, Member, Organization


class ReadOnly:
    """For an admin or an inline that platform staff only read: what it shows is written by
    the services, with their rules and audit events."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MemberInline(ReadOnly, admin.TabularInline):
    model = Member
    extra = 0
    fields = ("display_name", "email", "role", "status", "joined_at")
    readonly_fields = fields
    show_change_link = True
    can_delete = False


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "country", "currency", "verified", "created_at")
    list_filter = ("verified", "currency", "country")
    search_fields = ("name", "slug")
    readonly_fields = ("slug", "currency_locked_at", "created_at", "created_by")
    inlines = [MemberInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.currency_locked:
            fields.append("currency")
        return fields

    def save_model(self, request, obj, form, change):
        """Under the organization row's lock, as organizations.services writes it: a currency
        fixed since the page was opened stays as it is; other apps hear of a new organization
        or a new currency, as they do from the services."""
        with transaction.atomic():
            if not change:
                super().save_model(request, obj, form, change)
                extensions.organization_created(obj)
                return
            locked = Organization.objects.select_for_update(no_key=True).get(pk=obj.pk)
            if locked.currency_locked and obj.currency != locked.currency:
                obj.currency = locked.currency
                self.message_user(
                    request,
                    _("The currency was fixed meanwhile by a first purchase: it was not changed."),
                    messages.WARNING,
                )
            obj.currency_locked_at = locked.currency_locked_at
            super().save_model(request, obj, form, change)
            if obj.currency != locked.currency:
                extensions.currency_changed(obj, locked.currency)


@admin.register(Member)
class MemberAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("display_name", "organization", "role", "status", "email", "joined_at")
    list_filter = ("role", "status")
    search_fields = ("display_name", "email", "username", "organization__name")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ("created_at", "organization", "actor_label", "verb", "target_label")
    list_filter = ("verb",)
    search_fields = ("actor_label", "verb", "target_label", "organization__name")
    readonly_fields = [field.name for field in AuditEvent._meta.fields]
