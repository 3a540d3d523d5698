"""Home (role-specific landing), notifications and the audit log page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone

from tradepilot.core.models import AuditLog, Notification, Role
from tradepilot.core.roles import home_url_name, role_of
from tradepilot.core.scoping import scope


def home(request):
    if not request.user.is_authenticated:
        return redirect("login")
    return redirect(home_url_name(request.user))


@login_required
def notifications(request):
    items = Notification.objects.filter(user=request.user)
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    if request.method == "POST":
        items.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("core:notifications")
    return render(request, "core/notifications.html", {"page": page})


@login_required
def audit_log(request):
    if role_of(request.user) not in (Role.AUDITOR, Role.MINISTRY):
        raise PermissionDenied
    qs = scope(request.user, AuditLog.objects.select_related("actor", "report", "enterprise"))
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    if action:
        qs = qs.filter(action__startswith=action)
    if actor:
        qs = qs.filter(actor__username__icontains=actor)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/audit_log.html", {"page": page, "action": action, "actor": actor})
