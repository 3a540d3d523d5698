"""What a dashboard shows for a user and a set of parameters: the scope, the filters, and each panel's table.

`context_from_params()` turns request parameters into a `DashboardContext`, refusing bad values with a
`ParameterError` that names the parameter (the API and the views turn it into a 400). Scoping is applied here,
once: a bureau's filter is pinned to its region subtree, and a drill-down outside it is refused as not found.
Every panel is a function of the context returning a `Panel` (a table with typed columns, ready for a chart, a
CSV/XLSX download and the JSON API alike); suppressed cells are `None`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import Http404
from django.utils.translation import gettext as _

from tradepilot.analytics import indicators, queries, tables
from tradepilot.analytics.labels import continents, label
from tradepilot.analytics.queries import Filter
from tradepilot.core.models import PilotArea, Region, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import visible_region_paths

DASHBOARD_ROLES = {Role.MINISTRY, Role.BUREAU, Role.AGENCY, Role.AUDITOR}


class ParameterError(ValueError):
    def __init__(self, field_name: str, value, message: str):
        super().__init__(message)
        self.field = field_name
        self.value = "" if value is None else str(value)[:100]
        self.message = message

    def as_error(self) -> dict:
        return {"row": None, "field": self.field, "value": self.value, "code": "invalid", "message": self.message}


def require_dashboard_user(user) -> None:
    from django.core.exceptions import PermissionDenied

    if not user.is_authenticated or role_of(user) not in DASHBOARD_ROLES:
        raise PermissionDenied


def _period(params: Mapping, name: str, default: int | None) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        year, month = raw.split("-")
        value = int(year) * 100 + int(month)
        if not (2000 <= int(year) <= 2100 and 1 <= int(month) <= 12):
            raise ValueError
    except ValueError:
        raise ParameterError(name, raw, _("Give a month as YYYY-MM.")) from None
    return value


def _codes(params: Mapping, name: str, allowed: set[str] | None = None) -> tuple[str, ...]:
    raw = params.getlist(name) if hasattr(params, "getlist") else params.get(name) or []
    if isinstance(raw, str):
        raw = [raw]
    values = tuple(sorted({v.strip() for item in raw for v in str(item).split(",") if v.strip()}))
    if allowed is not None:
        bad = [v for v in values if v not in allowed]
        if bad:
            raise ParameterError(name, bad[0], _("Unknown code: %(code)s.") % {"code": bad[0]})
    return values


@dataclass
class DashboardContext:
    user: object
    filter: Filter
    period: int
    start: int
    end: int
    region: Region | None           # drill-down region (None: national or the bureau's own region)
    pilot_area: PilotArea | None
    protect: bool
    stage: str
    params: dict = field(default_factory=dict)   # the normalised parameters (for links and downloads)

    @property
    def level(self) -> str:
        if self.pilot_area is not None:
            return "pilot_area"
        if self.region is None:
            return "national"
        return "province" if self.region.level == Region.Level.PROVINCE else "city"


def latest_period(flt: Filter) -> int | None:
    """The latest month whose reporting is substantially in: at least 80 % of the busiest month's enterprises."""
    rows = queries.cells(flt, ["period"])
    if not rows:
        return None
    busiest = max(c.contributors for c in rows)
    return max(int(c.key[0]) for c in rows if c.contributors >= 0.8 * busiest)


def context_from_params(user, params: Mapping, *, export: bool = False) -> DashboardContext:
    require_dashboard_user(user)
    from tradepilot.core.models import ServiceCategory, SupplyMode
    from tradepilot.enterprises.models import Enterprise

    scope_path = visible_region_paths(user)
    ministry = role_of(user) == Role.MINISTRY
    stage = (params.get("stage") or "official").strip()
    if stage not in ("official", "preliminary"):
        raise ParameterError("stage", stage, _("Choose official or preliminary."))
    if stage == "preliminary" and not ministry:
        raise ParameterError("stage", stage, _("Preliminary figures are for the ministry only."))
    direction = (params.get("direction") or "").strip() or None
    if direction not in (None, "X", "M"):
        raise ParameterError("direction", direction, _("Choose X (exports) or M (imports)."))

    region = None
    region_code = (params.get("region") or "").strip()
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        if region is None:
            raise ParameterError("region", region_code, _("Unknown region code."))
        if scope_path and not region.path.startswith(scope_path):
            raise Http404
    pilot_area = None
    area_code = (params.get("pilot_area") or "").strip()
    if area_code:
        pilot_area = PilotArea.objects.select_related("region").filter(region__code=area_code).order_by(
            "-round__start_date").first()
        if pilot_area is None:
            raise ParameterError("pilot_area", area_code, _("Unknown pilot area."))
        if scope_path and not pilot_area.region.path.startswith(scope_path) and not scope_path.startswith(
                pilot_area.region.path):
            raise Http404

    if region is None and scope_path:  # a bureau starts at its own region
        region = Region.objects.filter(path=scope_path).first()
    path = scope_path
    if region is not None:
        path = region.path
    flt = Filter(
        stage=stage, direction=direction, region_path=path,
        components=_codes(params, "component", set(ServiceCategory.objects.filter(level=1).values_list(
            "code", flat=True))),
        partners=_codes(params, "partner"),
        modes=_codes(params, "mode", set(SupplyMode.objects.values_list("code", flat=True))),
        registration_types=_codes(params, "registration_type", set(Enterprise.RegistrationType.values)),
        pilot_areas=(pilot_area.region.code,) if pilot_area else (),
    )
    period = _period(params, "period", None)
    if period is None:
        period = latest_period(flt.with_(direction=None)) or _default_month()
    end = _period(params, "end", period)
    start = _period(params, "start", indicators.previous_period(end, 23))
    if start > end:
        raise ParameterError("start", params.get("start"), _("The start month is after the end month."))
    if (end // 100 - start // 100) * 12 + end % 100 - start % 100 >= 120:
        raise ParameterError("start", params.get("start"), _("Show at most ten years at a time."))
    normalised = {k: v for k, v in {
        "period": f"{period // 100}-{period % 100:02d}", "start": f"{start // 100}-{start % 100:02d}",
        "end": f"{end // 100}-{end % 100:02d}", "stage": stage if stage != "official" else "",
        "direction": direction or "",
        "region": region.code if region is not None and region.path != scope_path else "",
        "pilot_area": pilot_area.region.code if pilot_area else "",
        "component": ",".join(flt.components), "partner": ",".join(flt.partners), "mode": ",".join(flt.modes),
        "registration_type": ",".join(flt.registration_types),
    }.items() if v}
    return DashboardContext(user, flt, period, start, end, region, pilot_area,
                            tables.needs_protection(user, export=export), stage, normalised)


def _default_month() -> int:
    from tradepilot.reporting.periods import latest_closed_period

    p = latest_closed_period()
    return p.year * 100 + p.month


# --- panels ---------------------------------------------------------------------------------------------------

@dataclass
class Column:
    key: str
    title: str
    unit: str = "USD"       # "USD", "%", "text", "code"


@dataclass
class Panel:
    name: str
    title: str
    columns: list[Column]
    rows: list[dict]
    note: str = ""
    suppressed: int = 0

    def as_json(self) -> dict:
        def enc(v):
            return str(v) if isinstance(v, Decimal) else v

        return {"name": self.name, "title": self.title, "note": self.note, "suppressed": self.suppressed,
                "columns": [{"key": c.key, "title": c.title, "unit": c.unit} for c in self.columns],
                "rows": [{k: enc(v) for k, v in r.items()} for r in self.rows]}


def _ytd(ctx: DashboardContext) -> Filter:
    return ctx.filter.with_(start=(ctx.period // 100) * 100 + 1, end=ctx.period)


def _direction_table(ctx: DashboardContext, flt: Filter, dim: str, name: str, title: str,
                     limit: int | None = None) -> Panel:
    t = tables.two_way(flt.with_(direction=None), dim, "direction", protect=ctx.protect, limit_rows=limit)
    rows = []
    for r in t.rows:
        x, m = t.value(r, "X"), t.value(r, "M")
        x = Decimal(0) if x is None and ("cell", r, "X") not in t.suppressed else x
        m = Decimal(0) if m is None and ("cell", r, "M") not in t.suppressed else m
        total = t.row_totals.get(r)
        rows.append({"code": r, "label": t.row_label(r), "exports": x, "imports": m, "total": total,
                     "balance": None if x is None or m is None else x - m,
                     "share": indicators.share(total, t.grand_total)})
    columns = [Column("label", _("Item"), "text"), Column("exports", _("Exports")), Column("imports", _("Imports")),
               Column("total", _("Total")), Column("balance", _("Balance")), Column("share", _("Share"), "%")]
    note = _ytd_note(ctx) if flt.start != ctx.start else ""
    return Panel(name, title, columns, rows, note, t.suppressed_count)


def _ytd_note(ctx: DashboardContext) -> str:
    return _("Year to date, January–%(m)s %(y)s") % {"m": ctx.period % 100, "y": ctx.period // 100}


def panel_series(ctx: DashboardContext) -> Panel:
    flt = ctx.filter.with_(start=indicators.previous_period(ctx.start, 12), end=ctx.end, direction=None)
    t = tables.two_way(flt, "period", "direction", protect=ctx.protect)
    rows = []
    p = ctx.start
    while p <= ctx.end:
        def v(period, d):
            if ("cell", period, d) in t.suppressed:
                return None
            return t.value(period, d) or Decimal(0)

        x, m, lx, lm = v(p, "X"), v(p, "M"), v(indicators.previous_period(p, 12), "X"), v(
            indicators.previous_period(p, 12), "M")
        has_last = indicators.previous_period(p, 12) in t.rows
        rows.append({"code": p, "label": label("period", p), "exports": x, "imports": m,
                     "balance": None if x is None or m is None else x - m,
                     "yoy_exports": indicators.growth(x, lx) if has_last else None,
                     "yoy_imports": indicators.growth(m, lm) if has_last else None})
        p = indicators.previous_period(p, -1)
    columns = [Column("label", _("Month"), "text"), Column("exports", _("Exports")), Column("imports", _("Imports")),
               Column("balance", _("Balance")), Column("yoy_exports", _("Exports YoY"), "%"),
               Column("yoy_imports", _("Imports YoY"), "%")]
    return Panel("series", _("Monthly exports, imports and balance"), columns, rows, "", t.suppressed_count)


def panel_components(ctx):
    return _direction_table(ctx, _ytd(ctx), "component", "components", _("By EBOPS component"))


def panel_services(ctx: DashboardContext) -> Panel:
    """EBOPS leaves with their component, for the treemap (one direction or both)."""
    t = tables.one_way(_ytd(ctx), "service", protect=ctx.protect)
    rows = [{"code": r, "label": t.row_label(r), "component": r[:2], "component_label": label("component", r[:2]),
             "value": t.values.get(r)} for r in t.rows]
    columns = [Column("component_label", _("Component"), "text"), Column("label", _("Service"), "text"),
               Column("value", _("Value"))]
    return Panel("services", _("EBOPS treemap"), columns, rows, _ytd_note(ctx), t.suppressed_count)


def panel_partners(ctx):
    return _direction_table(ctx, _ytd(ctx), "partner", "partners", _("Top partners"), limit=15)


def panel_world(ctx: DashboardContext) -> Panel:
    t = tables.one_way(_ytd(ctx), "partner", protect=ctx.protect)
    cont = continents()
    rows = [{"code": r, "label": t.row_label(r), "continent": cont.get(r, ""),
             "continent_label": label("continent", cont.get(r, "")), "value": t.values.get(r)} for r in t.rows]
    columns = [Column("continent_label", _("Continent"), "text"), Column("label", _("Partner"), "text"),
               Column("value", _("Value"))]
    return Panel("world", _("Partners by continent"), columns, rows, _ytd_note(ctx), t.suppressed_count)


def panel_regions(ctx: DashboardContext) -> Panel:
    if ctx.level == "national":
        dim, title = "province", _("By province")
    elif ctx.level == "province":
        dim, title = "city", _("By city or new area")
    else:
        dim, title = "region", _("By district")
    return _direction_table(ctx, _ytd(ctx), dim, "regions", title)


def panel_pilot_areas(ctx):
    return _direction_table(ctx, _ytd(ctx), "pilot_area", "pilot_areas", _("By pilot area"))


def panel_pilot(ctx: DashboardContext) -> Panel:
    flt = ctx.filter.with_(start=ctx.start, end=ctx.end)
    t = tables.two_way(flt, "period", "is_pilot", protect=ctx.protect)
    rows = []
    for p in sorted(t.rows):
        rows.append({"code": p, "label": label("period", p), "pilot": t.value(p, 1), "other": t.value(p, 0),
                     "total": t.row_totals.get(p)})
    columns = [Column("label", _("Month"), "text"), Column("pilot", _("Pilot areas")),
               Column("other", _("Other regions")), Column("total", _("National") if ctx.level == "national"
                                                           else _("Total"))]
    return Panel("pilot", _("Pilot areas and other regions"), columns, rows, "", t.suppressed_count)


def panel_modes(ctx):
    return _direction_table(ctx, _ytd(ctx), "mode", "modes", _("By mode of supply"))


def panel_registration(ctx):
    return _direction_table(ctx, _ytd(ctx), "registration_type", "registration", _("By registration type"))


def fats_year(ctx: DashboardContext, dataset) -> int | None:
    """The latest year with FATS records up to the dashboard's month."""
    rows = queries.cells(ctx.filter.with_(years=()), ["year"], dataset=dataset, measure="employment")
    years = [int(c.key[0]) for c in rows if int(c.key[0]) <= ctx.period // 100]
    return max(years) if years else None


def _fats_panel(ctx: DashboardContext, dataset, dim: str, measures: list[tuple[str, str, str]], name: str,
                title: str) -> Panel:
    year = fats_year(ctx, dataset)
    columns = [Column("label", _("Country or region"), "text")] + [Column(k, t, u) for k, t, u in measures]
    if year is None:
        return Panel(name, title, columns, [], _("No annual FATS data yet."))
    flt = ctx.filter.with_(years=(year,))
    found: dict[str, dict] = {}
    suppressed = 0
    for key, _title, unit in measures:
        measure = "employment" if unit == "count" else f"{key}_cents"
        t = tables.one_way(flt, dim, protect=ctx.protect, dataset=dataset, measure=measure, limit=20)
        suppressed += t.suppressed_count
        for r in t.rows:
            found.setdefault(r, {"code": r, "label": t.row_label(r)})[key] = t.values.get(r)
    rows = sorted(found.values(), key=lambda r: -(r.get(measures[0][0]) or 0))
    return Panel(name, title, columns, rows, _("Year %(y)s; money in CNY 10k") % {"y": year}, suppressed)


def panel_fats_in(ctx: DashboardContext) -> Panel:
    from tradepilot.analytics.schema import FATS_INWARD

    return _fats_panel(ctx, FATS_INWARD, "parent_country", [
        ("services_sales", _("Sales of services"), "CNY 10k"), ("turnover", _("Turnover"), "CNY 10k"),
        ("employment", _("Employment"), "count")], "fats_in",
        _("Foreign affiliates (inward FATS) by ultimate controlling country"))


def panel_fats_out(ctx: DashboardContext) -> Panel:
    from tradepilot.analytics.schema import FATS_OUTWARD

    return _fats_panel(ctx, FATS_OUTWARD, "host_country", [
        ("turnover", _("Turnover"), "CNY 10k"), ("employment", _("Employment"), "count")], "fats_out",
        _("Affiliates abroad (outward FATS) by host country"))


PANELS: dict[str, Callable[[DashboardContext], Panel]] = {
    "series": panel_series, "components": panel_components, "services": panel_services,
    "partners": panel_partners, "world": panel_world, "regions": panel_regions, "pilot_areas": panel_pilot_areas,
    "pilot": panel_pilot, "modes": panel_modes, "registration": panel_registration,
    "fats_in": panel_fats_in, "fats_out": panel_fats_out,
}


def panel(name: str, ctx: DashboardContext) -> Panel:
    try:
        return PANELS[name](ctx)
    except KeyError:
        raise Http404 from None


# --- headline -------------------------------------------------------------------------------------------------

HEADLINE = ["exports", "imports", "balance", "ytd_exports", "ytd_imports", "ytd_balance", "yoy_exports",
            "yoy_imports", "yoy_ytd_total", "balance_change", "ki_share", "pilot_share", "related_party_share",
            "top10_share", "hhi", "enterprises", "completeness", "timeliness", "systemic_coverage"]
#: Indicators computed from few enterprises' data or from enterprise-level figures: shown to protected users only
#: when the month's figures pass the disclosure rules.
SENSITIVE = {"top10_share", "hhi"}


def enterprises_in_view(ctx: DashboardContext):
    """The enterprises the context covers (for counts of reporters; no trade values)."""
    from tradepilot.enterprises.models import Enterprise

    qs = Enterprise.objects.filter(is_active=True)
    if ctx.filter.region_path:
        qs = qs.filter(region__path__startswith=ctx.filter.region_path)
    if ctx.pilot_area is not None:
        qs = qs.filter(region__path__startswith=ctx.pilot_area.region.path)
    if ctx.filter.registration_types:
        qs = qs.filter(registration_type__in=ctx.filter.registration_types)
    return qs


def headline(ctx: DashboardContext) -> list[dict]:
    values = indicators.headline(ctx.filter.with_(direction=None), ctx.period)
    values.update(indicators.coverage(enterprises_in_view(ctx), ctx.period))
    suppress = False
    if ctx.protect:
        from tradepilot.analytics import disclosure

        rules = disclosure.rules_from_settings()
        month = queries.cells(ctx.filter.with_(start=ctx.period, end=ctx.period, direction=None), ["direction"])
        ytd = queries.cells(_ytd(ctx).with_(direction=None), ["direction"])
        suppress = any(disclosure.primary_reason(disclosure.CellStat(c.value, c.contributors, c.largest), rules)
                       for c in month + ytd)
    out = []
    for code in HEADLINE:
        ind = indicators.INDICATORS[code]
        value = values.get(code)
        hidden = suppress and ind.group != "coverage" and (
            ind.unit == "USD" or ind.group in ("growth", "structure") or code in SENSITIVE)
        out.append({"code": code, "name": str(ind.name), "unit": ind.unit, "formula": str(ind.formula),
                    "value": None if hidden else value, "suppressed": hidden})
    return out
