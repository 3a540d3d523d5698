from django import forms
from django.contrib import admin

from tradepilot.core.admin import ReadOnlyAdmin
from tradepilot.reporting.models import ExchangeRate, ImportBatch, ReportForm, ValidationRule
from tradepilot.reporting.validation import ExpressionError, parse_expression


class ValidationRuleForm(forms.ModelForm):
    class Meta:
        model = ValidationRule
        fields = ["code", "form", "kind", "name_zh", "name_en", "instruction", "left_expression", "operator",
                  "right_expression", "importance", "missing_value_strategy", "threshold", "min_history", "is_active"]

    def clean(self):
        data = super().clean()
        for name in ("left_expression", "right_expression"):
            text = data.get(name)
            if text:
                try:
                    parse_expression(text)
                except ExpressionError as exc:
                    self.add_error(name, str(exc))
        return data


@admin.register(ValidationRule)
class ValidationRuleAdmin(admin.ModelAdmin):
    """The ministry edits rules here; expressions are checked against the rule grammar before saving."""

    form = ValidationRuleForm
    list_display = ("code", "name_zh", "kind", "importance", "left_expression", "operator", "right_expression",
                    "is_active")
    list_filter = ("form", "kind", "importance", "is_active")
    list_editable = ("is_active",)


@admin.register(ReportForm)
class ReportFormAdmin(admin.ModelAdmin):
    list_display = ("code", "periodicity", "due_day", "due_month_offset", "lock_after_days", "is_active")
    list_editable = ("due_day", "due_month_offset", "lock_after_days", "is_active")


@admin.register(ExchangeRate)
class ExchangeRateAdmin(ReadOnlyAdmin):
    """Read-only here: rates are published by upload, which validates and audits them."""

    list_display = ("year", "month", "currency", "cny_per_unit", "source")
    list_filter = ("year", "month")
    search_fields = ("currency__code",)


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = ("created", "user", "filename", "state", "row_count", "report_count")
    list_filter = ("state",)
