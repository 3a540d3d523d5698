from django.contrib.auth import views as auth_views
from django.urls import path

from tradepilot.core import views

app_name = "core"
urlpatterns = [
    path("notifications/", views.notifications, name="notifications"),
    path("audit/", views.audit_log, name="audit_log"),
]

# Top-level names (login, logout, home) are included without a namespace from tradepilot.urls.
auth_urlpatterns = [
    path("", views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(template_name="core/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
