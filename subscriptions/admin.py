"""Platform staff edit the catalog here; organizations' features are read-only."""

from django.contrib import admin

from subscriptions.models import Plan, PlanPrice


class PlanPriceInline(admin.TabularInline):
    model = PlanPrice
    extra = 1


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "minutes", "country", "voicemail_included", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["code", "name", "name_fr"]
    inlines = [PlanPriceInline]
