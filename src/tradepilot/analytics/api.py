"""Analytics API: headline indicators, dashboard panels, indicator definitions. Thin: dashboard.py decides."""

from __future__ import annotations

from django.http import HttpResponse
from ninja import Query, Router, Schema

from tradepilot.analytics import dashboard, exports
from tradepilot.analytics.indicators import INDICATORS
from tradepilot.core.api_base import ApiError

router = Router(tags=["analytics"])


class DashboardQuery(Schema):
    period: str = ""
    start: str = ""
    end: str = ""
    stage: str = ""
    direction: str = ""
    region: str = ""
    pilot_area: str = ""
    component: str = ""
    partner: str = ""
    mode: str = ""
    registration_type: str = ""


def _context(request, q: DashboardQuery, *, export: bool = False):
    params = {k: v for k, v in q.dict().items() if v}
    try:
        return dashboard.context_from_params(request.auth, params, export=export)
    except dashboard.ParameterError as exc:
        raise ApiError(400, exc.message, "invalid_parameter", [exc.as_error()]) from None


@router.get("/analytics/indicators", summary="Indicator definitions: code, name, unit, formula")
def indicator_list(request):
    dashboard.require_dashboard_user(request.auth)
    return [{"code": i.code, "name": str(i.name), "unit": i.unit, "formula": str(i.formula), "group": i.group}
            for i in INDICATORS.values()]


@router.get("/analytics/headline", summary="Headline indicators for a month, in the caller's scope")
def headline(request, q: Query[DashboardQuery]):
    ctx = _context(request, q)
    return {"period": ctx.params["period"], "params": ctx.params, "protected": ctx.protect, "level": ctx.level,
            "indicators": [{**h, "value": None if h["value"] is None else str(h["value"])}
                           for h in dashboard.headline(ctx)]}


@router.get("/analytics/panels/{name}", summary="One dashboard panel (table behind a chart); format=csv|xlsx to "
                                                "download (downloads are always protected)")
def panel(request, name: str, q: Query[DashboardQuery], format: str = "json"):
    if format not in ("json", "csv", "xlsx"):
        raise ApiError(400, "Unknown format.", "invalid_parameter",
                       [{"row": None, "field": "format", "value": format[:20], "code": "invalid",
                         "message": "Choose json, csv or xlsx."}])
    ctx = _context(request, q, export=format != "json")
    p = dashboard.panel(name, ctx)
    if format == "json":
        return {"params": ctx.params, "protected": ctx.protect, **p.as_json()}
    return download_response(p, ctx, format)


def context_line(ctx) -> str:
    parts = [f"{k}={v}" for k, v in ctx.params.items()]
    return "; ".join(parts)


def download_response(p, ctx, fmt: str) -> HttpResponse:
    filename = f"{p.name}-{ctx.params['period']}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(exports.to_csv(p, context_line(ctx)), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(
            exports.to_xlsx(p, context_line(ctx)),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
