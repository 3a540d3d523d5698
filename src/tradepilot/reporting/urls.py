from django.urls import path

from tradepilot.reporting import import_views, views

app_name = "reporting"
urlpatterns = [
    path("my/", views.my_reports, name="my_reports"),
    path("open/", views.open_report, name="open_report"),
    path("reports/<int:pk>/", views.report_detail, name="report"),
    path("reports/<int:pk>/export.<str:kind>", import_views.report_export, name="report_export"),
    path("workbench/", views.workbench, name="workbench"),
    path("workbench/bulk-approve/", views.bulk_approve, name="bulk_approve"),
    path("completeness/", views.completeness, name="completeness"),
    path("completeness/remind/", views.remind, name="remind"),
    path("overview/", views.ministry_overview, name="ministry_overview"),
    path("rates/", views.rates, name="rates"),
    path("imports/", import_views.upload, name="import_upload"),
    path("imports/<int:pk>/", import_views.preview, name="import_preview"),
    path("templates/monthly.<str:kind>", import_views.template, name="template"),
    path("templates/<str:form>/template.<str:kind>", import_views.form_template, name="form_template"),
]
