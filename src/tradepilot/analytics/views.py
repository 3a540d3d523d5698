"""Dashboard pages. The page is a frame; its panels load from the analytics API (same session), so a slow panel
never holds up the others."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from tradepilot.analytics import dashboard
from tradepilot.analytics.api import download_response
from tradepilot.analytics.indicators import INDICATORS
from tradepilot.core.models import PilotArea, Role, ServiceCategory, SupplyMode
from tradepilot.core.roles import role_of
from tradepilot.enterprises.models import Enterprise


def _context_or_error(request, *, export=False):
    try:
        return dashboard.context_from_params(request.user, request.GET, export=export), None
    except dashboard.ParameterError as exc:
        return None, exc


@login_required
def dashboard_page(request):
    dashboard.require_dashboard_user(request.user)
    ctx, error = _context_or_error(request)
    status = 200
    if error is not None:
        status = 400
        ctx = dashboard.context_from_params(request.user, {})
    crumbs = [("", _("National"))]
    scope_region = None
    if role_of(request.user) == Role.BUREAU:
        scope_region = request.user.profile.region
        crumbs = []
        for r in scope_region.ancestors():
            if r.path.startswith(scope_region.path):
                crumbs.append((r.code, r.name))
    # The pilot area's province comes before the area itself (national › province › pilot area).
    places = [ctx.region] if ctx.region is not None else []
    if ctx.pilot_area is not None:
        places += ctx.pilot_area.region.ancestors(include_self=False)
    for place in places:
        for r in place.ancestors():
            if (scope_region is None or r.path.startswith(scope_region.path)) and r.code not in [c[0] for c in crumbs]:
                crumbs.append((r.code, r.name))
    return render(request, "analytics/dashboard.html", {
        "ctx": ctx, "error": error, "crumbs": crumbs,
        "components": ServiceCategory.objects.filter(level=1).order_by("order"),
        "modes": SupplyMode.objects.all(), "registration_types": Enterprise.RegistrationType.choices,
        "pilot_areas": PilotArea.objects.select_related("region").order_by("round__start_date", "order"),
        "is_ministry": role_of(request.user) == Role.MINISTRY,
        "i18n": {"loading": _("Loading…"), "empty": _("No approved data for this selection."),
                 "failed": _("Could not load this panel."), "exports": _("Exports"), "imports": _("Imports"),
                 "balance": _("Balance"), "yoy_exports": _("Exports YoY %"), "yoy_imports": _("Imports YoY %"),
                 "drill": _("Click a bar to drill down"), "suppressed": _("confidential cells"),
                 "all_confidential": _("Every figure of this table is confidential (C): no chart."),
                 "usd_m": _("USD million"), "pilot": _("Pilot areas"), "other": _("Other regions"),
                 "total": _("Total")},
        "config": {"params": ctx.params, "level": ctx.level, "protected": ctx.protect,
                   "panels": list(dashboard.PANELS)},
    }, status=status)


@login_required
def download(request, name: str, fmt: str):
    dashboard.require_dashboard_user(request.user)
    if name not in dashboard.PANELS or fmt not in ("csv", "xlsx"):
        raise Http404
    ctx, error = _context_or_error(request, export=True)
    if error is not None:
        from django.http import HttpResponseBadRequest

        return HttpResponseBadRequest(f"{error.field}: {error.message}")
    return download_response(dashboard.panel(name, ctx), ctx, fmt)


@login_required
def indicator_definitions(request):
    if role_of(request.user) not in dashboard.DASHBOARD_ROLES:
        raise PermissionDenied
    groups: dict[str, list] = {}
    for ind in INDICATORS.values():
        groups.setdefault(ind.group, []).append(ind)
    return render(request, "analytics/indicators.html", {"groups": groups})
