from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "tradepilot.governance"
    label = "governance"
    verbose_name = _("Pilot governance")

    def ready(self):
        from tradepilot.governance import receivers  # noqa: F401  (connects the early-warning scan)
