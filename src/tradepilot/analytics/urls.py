from django.urls import path

from tradepilot.analytics import anomaly_views, bulletin_views, views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard_page, name="dashboard"),
    path("download/<str:name>.<str:fmt>", views.download, name="download"),
    path("indicators/", views.indicator_definitions, name="indicators"),
    path("anomalies/", anomaly_views.anomaly_list, name="anomalies"),
    path("bulletin/", bulletin_views.bulletin, name="bulletin"),
]
