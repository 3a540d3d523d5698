from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "tradepilot.analytics"
    label = "analytics"
    verbose_name = _("Statistics and analysis")

    def ready(self):
        from tradepilot.analytics import refresh  # noqa: F401  (connects the report-change receiver)
