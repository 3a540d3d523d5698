from django.contrib import admin

from tradepilot.core.admin import ReadOnlyAdmin
from tradepilot.enterprises.models import Enterprise


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    """Reading and searching only; changes go through the registry pages so they are validated and audited."""

    list_display = ("uscc", "name", "region", "registration_type", "is_key_contact", "is_systemic", "is_active")
    list_filter = ("is_key_contact", "is_systemic", "is_active", "registration_type")
    search_fields = ("uscc", "name", "name_en")
