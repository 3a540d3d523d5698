from django.contrib import admin

from tradepilot.enterprises.models import Enterprise


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    """Reading and searching only; changes go through the registry pages so they are validated and audited."""

    list_display = ("uscc", "name", "region", "registration_type", "is_key_contact", "is_systemic", "is_active")
    list_filter = ("is_key_contact", "is_systemic", "is_active", "registration_type")
    search_fields = ("uscc", "name", "name_en")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
