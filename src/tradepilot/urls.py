from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from tradepilot.api import api
from tradepilot.core.urls import auth_urlpatterns

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include(auth_urlpatterns)),
    path("", include("tradepilot.core.urls")),
    path("enterprises/", include("tradepilot.enterprises.urls")),
    path("reporting/", include("tradepilot.reporting.urls")),
    path("analytics/", include("tradepilot.analytics.urls")),
    path("governance/", include("tradepilot.governance.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.STATIC_URL, document_root=settings.STATIC_ROOT)
