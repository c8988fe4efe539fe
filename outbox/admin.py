from django.contrib import admin

from outbox.models import OutboundMessage


@admin.register(OutboundMessage)
class OutboundMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "to", "subject", "status", "attempts")
    list_filter = ("channel", "status")
    search_fields = ("to", "subject", "key")
    readonly_fields = [field.name for field in OutboundMessage._meta.fields]

    def has_add_permission(self, request):
        return False
