"""Pages of opening-risk early warning: the overview (ministry: every area; a bureau: its areas), the alert
history with filters and downloads, an alert with its explanation, chart and steps (acknowledge / handle), the
rules (read by every governance role, edited by the ministry) and the ministry's scan button.

Rows are scoped by `core.scoping` (via `warning_alerts.alerts_for`); the services decide who may act."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tradepilot.core.models import PilotArea, PilotRound, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import get_area_scoped, scope_areas
from tradepilot.governance import early_warning, warning_alerts, warning_exports
from tradepilot.governance.models import AlertLevel, RiskAlert, RiskRule
from tradepilot.governance.warning_kinds import WarningError, period_label

PAGE_SIZE = 50


def plain(value) -> str:
    """30.0000 → "30" (a threshold as typed, without the column's trailing zeros)."""
    return f"{value.normalize():f}"


def _require_ministry(user) -> None:
    if role_of(user) != Role.MINISTRY:
        raise PermissionDenied(_("Only the ministry does this."))


def _error_text(exc: WarningError) -> str:
    return "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)


@login_required
@require_GET
def overview(request):
    qs = warning_alerts.alerts_for(request.user)
    unhandled = warning_alerts.unhandled_first(qs.exclude(state=RiskAlert.State.HANDLED))
    latest = early_warning.latest_month()
    return render(request, "governance/warning/overview.html", {
        "counts": warning_alerts.counts_by_area(qs), "levels": AlertLevel.choices,
        "alerts": _rows(unhandled[:PAGE_SIZE]), "unhandled_total": unhandled.count(),
        "is_ministry": role_of(request.user) == Role.MINISTRY,
        "national": role_of(request.user) != Role.BUREAU,
        "latest": period_label(latest) if latest else "",
        "round": early_warning.pick_round(None),
    })


def _rows(alerts) -> list[dict]:
    return [{"alert": a, "subject": warning_alerts.subject_label(a),
             "value": warning_alerts.value_text(a.value, warning_alerts.unit_of(a.rule)),
             "period": period_label(a.year * 100 + a.month)} for a in alerts]


@login_required
@require_GET
def alert_list(request):
    qs = warning_alerts.alerts_for(request.user)
    error = None
    try:
        filters = warning_alerts.parse_filters(request.GET)
    except WarningError as exc:
        error, filters = _error_text(exc), warning_alerts.AlertFilters()
    rows = warning_alerts.filter_alerts(qs, filters)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx") and error is None:
        return _download(request, rows, fmt)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = filters.as_params()
    areas = scope_areas(request.user, PilotArea.objects.select_related("region", "round")).order_by(
        "round__start_date", "order")
    return render(request, "governance/warning/alerts.html", {
        "page": page, "rows": _rows(page.object_list), "filters": filters, "error": error,
        "areas": areas, "rules": {r.code: r.name for r in RiskRule.objects.order_by("-round__start_date", "code")},
        "levels": AlertLevel.choices, "states": RiskAlert.State.choices,
        "csv_query": urlencode({**keep, "format": "csv"}), "xlsx_query": urlencode({**keep, "format": "xlsx"}),
    }, status=400 if error else 200)


def _download(request, alerts, fmt: str) -> HttpResponse:
    alerts = list(alerts)
    if fmt == "csv":
        response = HttpResponse(warning_exports.to_csv(alerts, request.build_absolute_uri),
                                content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(warning_exports.to_xlsx(alerts, request.build_absolute_uri),
                                content_type=warning_exports.XLSX)
    response["Content-Disposition"] = f'attachment; filename="early-warning-alerts.{fmt}"'
    return response


@login_required
@require_GET
def alert_detail(request, pk: int):
    alert = get_area_scoped(request.user, warning_alerts.alerts_for(request.user), pk=pk)
    return render(request, "governance/warning/alert.html", {
        "alert": alert, "subject": warning_alerts.subject_label(alert),
        "value": warning_alerts.value_text(alert.value, warning_alerts.unit_of(alert.rule)),
        "period": period_label(alert.year * 100 + alert.month),
        "explanation": warning_alerts.explanation_for(request.user, alert),
        "chart": warning_alerts.chart_data(alert),
        "steps": [{**s, "rows": warning_alerts.change_rows(s["changes"])} for s in warning_alerts.steps(alert)],
        "can_act": warning_alerts.can_act(request.user, alert),
        "i18n": {"value": _("Value"), "no_data": _("No value"), "month": _("Month")},
    })


def _act(request, pk: int, action) -> HttpResponse:
    alert = get_area_scoped(request.user, warning_alerts.alerts_for(request.user), pk=pk)
    try:
        action(alert, request.user, request.POST.get("note", ""))
    except WarningError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Saved."))
    return redirect("governance:warning_alert", pk=alert.pk)


@login_required
@require_POST
def alert_acknowledge(request, pk: int):
    return _act(request, pk, warning_alerts.acknowledge)


@login_required
@require_POST
def alert_handle(request, pk: int):
    return _act(request, pk, warning_alerts.handle)


@login_required
@require_GET
def rules(request):
    warning_alerts.check_reader(request.user)
    rnd = early_warning.pick_round(request.GET.get("round"))
    if rnd is not None:
        early_warning.ensure_default_rules(rnd)  # idempotent: the defaults of a round appear on first use
    rows = []
    for rule in RiskRule.objects.filter(round=rnd).order_by("code") if rnd else []:
        kind = early_warning.KINDS.get(rule.kind)
        thresholds = [plain(getattr(rule, lv)) for lv in early_warning.LEVELS]
        rows.append({"rule": rule, "kind": kind, "thresholds": thresholds,
                     "params": [{"label": p.label, "value": dict(p.choices).get(p.value(rule.params),
                                                                            p.value(rule.params))}
                                for p in (kind.params if kind else ())]})
    return render(request, "governance/warning/rules.html", {
        "rows": rows, "round": rnd, "is_ministry": role_of(request.user) == Role.MINISTRY,
        "rounds": PilotRound.objects.filter(areas__isnull=False).distinct().order_by("-start_date"),
    })


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    _require_ministry(request.user)
    rule = get_object_or_404(RiskRule.objects.select_related("round"), pk=pk)
    kind = early_warning.KINDS.get(rule.kind)
    errors: dict[str, str] = {}
    data = {"yellow": plain(rule.yellow), "orange": plain(rule.orange), "red": plain(rule.red), "active": rule.active,
            "params": {p.name: p.value(rule.params) for p in (kind.params if kind else ())}, "reason": ""}
    if request.method == "POST":
        posted = {
            "yellow": request.POST.get("yellow", ""), "orange": request.POST.get("orange", ""),
            "red": request.POST.get("red", ""), "active": request.POST.get("active") == "on",
            "params": {p.name: request.POST.get(f"params.{p.name}", "") for p in (kind.params if kind else ())},
        }
        try:
            early_warning.update_rule(request.user, rule, posted, reason=request.POST.get("reason", ""))
        except WarningError as exc:
            errors = {e["field"]: e["message"] for e in exc.errors}
            data = {**posted, "reason": request.POST.get("reason", "")}
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{reverse('governance:warning_rules')}?round={rule.round.code}")
    return render(request, "governance/warning/rule_edit.html", {
        "rule": rule, "kind": kind, "data": data, "errors": errors,
        "params": [{"param": p, "value": data["params"].get(p.name, ""), "error": errors.get(f"params.{p.name}")}
                   for p in (kind.params if kind else ())],
        "levels": AlertLevel.choices,
    }, status=400 if errors else 200)


@login_required
@require_POST
def scan(request):
    _require_ministry(request.user)
    rnd = early_warning.pick_round(request.POST.get("round"))
    if rnd is None:
        messages.error(request, _("There is no pilot round to scan."))
        return redirect("governance:warning_overview")
    try:
        month = warning_alerts.parse_month("period", request.POST.get("period"))
        month = month or early_warning.latest_month()
        if month is None:
            messages.error(request, _("The analytics store holds no official monthly data yet."))
            return redirect("governance:warning_overview")
        found = early_warning.scan(rnd, month // 100, month % 100, request.user)
    except WarningError as exc:
        messages.error(request, _error_text(exc))
        return redirect("governance:warning_overview")
    messages.success(request, _("Scanned %(period)s: %(n)d signals reached a threshold.") % {
        "period": period_label(month), "n": len(found)})
    return redirect(f"{reverse('governance:warning_alerts')}?start={period_label(month)}&end={period_label(month)}")


urlpatterns = [
    path("warning/", overview, name="warning_overview"),
    path("warning/alerts/", alert_list, name="warning_alerts"),
    path("warning/alerts/<int:pk>/", alert_detail, name="warning_alert"),
    path("warning/alerts/<int:pk>/acknowledge/", alert_acknowledge, name="warning_alert_acknowledge"),
    path("warning/alerts/<int:pk>/handle/", alert_handle, name="warning_alert_handle"),
    path("warning/rules/", rules, name="warning_rules"),
    path("warning/rules/<int:pk>/", rule_edit, name="warning_rule_edit"),
    path("warning/scan/", scan, name="warning_scan"),
]
