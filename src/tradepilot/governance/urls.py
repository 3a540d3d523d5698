"""Governance pages, mounted at /governance/. Each part of the app keeps its own `urlpatterns`."""

from tradepilot.governance import (
    evaluation_views,
    measures_views,
    programme_views,
    results_views,
    tracking_views,
    warning_views,
)

app_name = "governance"

urlpatterns = [
    *programme_views.urlpatterns,
    *tracking_views.urlpatterns,
    *measures_views.urlpatterns,
    *results_views.urlpatterns,
    *evaluation_views.urlpatterns,
    *warning_views.urlpatterns,
]
