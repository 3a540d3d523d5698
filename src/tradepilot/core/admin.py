from django.contrib import admin

from tradepilot.core.models import (
    Agency,
    ApiToken,
    AuditLog,
    Country,
    Currency,
    Industry,
    Notification,
    PilotArea,
    PilotRound,
    Profile,
    Region,
    ServiceCategory,
    SupplyMode,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Browse and search only: the rows change through services that validate and audit them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "level", "kind", "parent")
    list_filter = ("level", "kind")
    search_fields = ("code", "name_zh", "name_en")


class PilotAreaInline(admin.TabularInline):
    model = PilotArea
    extra = 0


@admin.register(PilotRound)
class PilotRoundAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "document", "start_date", "end_date")
    inlines = [PilotAreaInline]


@admin.register(ServiceCategory)
class ServiceCategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "parent", "is_leaf", "knowledge_intensive")
    list_filter = ("level", "is_leaf", "knowledge_intensive")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(Country)
class CountryAdmin(admin.ModelAdmin):
    list_display = ("alpha2", "alpha3", "name_zh", "name_en")
    search_fields = ("alpha2", "alpha3", "name_zh", "name_en")


@admin.register(Currency)
class CurrencyAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "minor_units")
    search_fields = ("code", "name_zh", "name_en")


@admin.register(SupplyMode, Agency)
class CodeNameAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en")


@admin.register(Industry)
class IndustryAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "name_en", "parent")
    search_fields = ("code", "name_zh")


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "region", "agency")
    list_filter = ("role",)
    autocomplete_fields = ("enterprises",)
    search_fields = ("user__username",)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    """The log is append-only."""

    list_display = ("timestamp", "actor", "action", "object_repr", "reason")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "reason", "actor__username")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "created", "last_used", "revoked")
    readonly_fields = ("key_hash", "prefix", "created", "last_used")

    def has_add_permission(self, request):
        return False  # tokens are issued with `tradepilot token`, which shows the secret once


admin.site.register(Notification)
admin.site.site_header = "Trade Pilot 服务贸易创新发展试点综合平台"
