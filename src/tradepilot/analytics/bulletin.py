"""The monthly bulletin: a statistical release for a region (or pilot area) and a month, as HTML, PDF and XLSX.

`build()` assembles everything a release shows — title, headline figures in words and in a table, key tables,
charts (server-side SVG, since WeasyPrint runs no JavaScript) and methodological notes — from the same
`dashboard` context, `indicators` and `tables` the dashboards use. A bulletin is a publication, so every figure
in it is protected (`context_from_params(..., export=True)`), whoever asks for it; suppressed figures are "C".

Tables of one bulletin share figures: every year-to-date table by direction has the region's year-to-date
exports, imports and total as its margins, and the monthly chart holds the month's exports and imports. The
disclosure rules protect each table on its own (see disclosure.py: linked tables are the caller's business), so
here a shared figure is published only when no table of the bulletin had to withhold it: a margin suppressed in
one table is withheld in all of them and in the headline, and the headline's month (or year-to-date) figures are
withheld as a group when the chart (or a table) withholds one of them. Withholding more never reveals anything.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from tradepilot.analytics import dashboard, disclosure, indicators, tables
from tradepilot.analytics.dashboard import DashboardContext
from tradepilot.analytics.indicators import INDICATORS, previous_period

CONFIDENTIAL = "C"
NOT_AVAILABLE = "—"
MILLION = Decimal(1_000_000)
#: The bulletin's parameters; anything else a dashboard understands (filters, stage…) is not part of a release.
PARAMS = ("period", "region", "pilot_area")
#: Headline indicators a bulletin publishes (cover sheet, headline table and "other indicators"), in order.
FIGURES = ["exports", "imports", "total", "balance", "yoy_exports", "yoy_imports", "yoy_total",
           "ytd_exports", "ytd_imports", "ytd_total", "ytd_balance", "yoy_ytd_exports", "yoy_ytd_imports",
           "yoy_ytd_total", "balance_change", "ki_share", "pilot_share", "related_party_share", "enterprises"]
MONTH_FIGURES = {"exports", "imports", "total", "balance", "yoy_exports", "yoy_imports", "yoy_total",
                 "mom_exports", "mom_imports"}
OTHER_FIGURES = ["balance_change", "ki_share", "pilot_share", "related_party_share", "enterprises"]


# --- figures and tables -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One published number: its value (None: confidential or not available), unit and whether it is withheld."""

    value: Decimal | None
    unit: str = "USD"              # "USD", "%", "count", "points"
    confidential: bool = False

    @property
    def text(self) -> str:
        if self.confidential:
            return CONFIDENTIAL
        if self.value is None:
            return NOT_AVAILABLE
        if self.unit == "USD":
            return f"{self.value:,.2f}"
        if self.unit == "%":
            return f"{self.value:,.1f}"
        return f"{self.value:,.0f}"


def _money(value: Decimal | None) -> Figure:
    """A money cell of a protected table: None there means suppressed."""
    return Figure(value, "USD", value is None)


@dataclass
class Row:
    label: str
    cells: list[Figure]
    code: object = None
    total: bool = False


@dataclass
class Section:
    name: str
    title: str
    columns: list[tuple[str, str]]     # (title, unit) of the value columns; the first column is the row label
    rows: list[Row] = field(default_factory=list)
    note: str = ""
    suppressed: int = 0
    margins: dict = field(default_factory=dict)   # shared margins: "X", "M", "total" → suppressed here?


@dataclass
class Chart:
    title: str
    svg: SafeString


@dataclass
class Bulletin:
    ctx: DashboardContext
    title: str
    place: str
    month: str                    # "June 2026" / "2026年6月"
    ytd_label: str                # "January–June 2026"
    release_date: date
    lead: list[str]               # the headline paragraph, sentence by sentence
    figures: dict[str, Figure]    # indicator code → figure (all of FIGURES)
    headline: Section             # month, YoY, year to date, YoY
    other: Section                # further indicators
    monthly: Section              # the data behind the monthly chart
    sections: list[Section]       # key tables
    charts: list[Chart]
    notes: list[str]

    @property
    def period(self) -> int:
        return self.ctx.period

    @property
    def tables(self) -> list[Section]:
        """The tables in the order of the release (the charts follow the first)."""
        return [self.headline, *self.sections, self.monthly, self.other]

    @property
    def params(self) -> dict:
        return {k: v for k, v in self.ctx.params.items() if k in PARAMS}

    def filename(self, ext: str) -> str:
        code = (self.ctx.pilot_area.region.code if self.ctx.pilot_area else
                self.ctx.region.code if self.ctx.region else "national")
        return f"bulletin-{code}-{self.ctx.params['period']}.{ext}"


# --- building ---------------------------------------------------------------------------------------------------

def _ytd_filter(ctx: DashboardContext):
    return ctx.filter.with_(start=(ctx.period // 100) * 100 + 1, end=ctx.period, direction=None)


def _direction_section(ctx: DashboardContext, dim: str, name: str, title: str, *, limit: int | None = None,
                       order: Sequence | str = "code", note: str = "") -> Section:
    """A year-to-date table of `dim` by exports, imports, total and balance, with a total line (when complete).

    `order`: "code", "rank" (by total trade, but confidential rows last, by code: a suppressed row placed between
    two published ones would give away bounds for its value) or a list of codes.
    """
    t = tables.two_way(_ytd_filter(ctx), dim, "direction", protect=True, limit_rows=limit)
    columns = [(_("Exports"), "USD"), (_("Imports"), "USD"), (_("Total"), "USD"), (_("Balance"), "USD")]
    section = Section(name, title, columns, note=note, suppressed=t.suppressed_count)

    def part(row, d):
        value = t.value(row, d)
        if value is None and ("cell", row, d) not in t.suppressed:
            value = Decimal(0)     # an empty cell is a true zero
        return value

    if order == "code":
        rows = sorted(t.rows, key=str)
    elif order == "rank":
        rows = ([r for r in t.rows if t.row_totals.get(r) is not None]
                + sorted((r for r in t.rows if t.row_totals.get(r) is None), key=str))
    else:
        rows = [r for r in order if r in t.rows] + sorted((r for r in t.rows if r not in order), key=str)
    for r in rows:
        x, m = part(r, "X"), part(r, "M")
        section.rows.append(Row(t.row_label(r), [_money(x), _money(m), _money(t.row_totals.get(r)),
                                                 _money(None if x is None or m is None else x - m)], code=r))
    if limit is None or t.col_totals:  # a top-N cut publishes no margins (they would not add up)
        def margin(d):
            return None if ("col", d) in t.suppressed else t.col_totals.get(d, Decimal(0))

        section.margins = {"X": ("col", "X") in t.suppressed, "M": ("col", "M") in t.suppressed,
                           "total": ("total",) in t.suppressed}
        x, m = margin("X"), margin("M")
        section.rows.append(Row(_("Total"), [_money(x), _money(m), _money(t.grand_total),
                                             _money(None if x is None or m is None else x - m)],
                                code="__total__", total=True))
    return section


def _regions_section(ctx: DashboardContext, note: str) -> Section:
    if ctx.level == "national":
        dim, title = "province", _("By province")
    elif ctx.level == "province":
        dim, title = "city", _("By city or new area")
    else:
        dim, title = "region", _("By district")
    return _direction_section(ctx, dim, "regions", title, note=note)


def _monthly_section(ctx: DashboardContext) -> Section:
    """The last 13 months (the chart's data), from the dashboard's protected series panel."""
    series = dashboard.panel_series(replace(ctx, start=previous_period(ctx.period, 12), end=ctx.period))
    section = Section("monthly", _("Exports and imports, last 13 months"),
                      [(_("Exports"), "USD"), (_("Imports"), "USD"), (_("Balance"), "USD")],
                      suppressed=series.suppressed)
    for r in series.rows:
        section.rows.append(Row(r["label"], [_money(r["exports"]), _money(r["imports"]), _money(r["balance"])],
                                code=r["code"]))
    return section


def _place(ctx: DashboardContext) -> str:
    if ctx.pilot_area is not None:
        return ctx.pilot_area.name
    if ctx.region is not None:
        return ctx.region.name
    return _("China")


def build(user, params) -> Bulletin:
    """The bulletin for `params` (period, region, pilot_area) as `user` may see it; always protected.

    Raises `dashboard.ParameterError` for a bad parameter, `Http404` for a region outside the user's scope and
    `PermissionDenied` for a role without dashboards (all from `dashboard.context_from_params`).
    """
    ctx = dashboard.context_from_params(user, {k: params.get(k) or "" for k in PARAMS}, export=True)
    assert ctx.protect, "a bulletin is a publication: always protected"
    period = ctx.period
    first = date(period // 100, period % 100, 1)
    place, month = _place(ctx), date_format(first, "YEAR_MONTH_FORMAT")
    names = {"month": month, "month_name": date_format(first, "F"), "month_number": first.month,
             "year": first.year, "place": place}
    # Chinese writes the month as a number (1—6月): its translation uses month_number, not month_name.
    # xgettext:no-python-format
    ytd_label = month if first.month == 1 else _("January–%(month_name)s %(year)s") % names
    ytd_note = _("Year to date: %(ytd)s.") % {"ytd": ytd_label}

    # Key tables (year to date) and the monthly series behind the chart.
    sections = [_direction_section(ctx, "component", "components", _("By EBOPS component"),
                                   note=ytd_note),
                _direction_section(ctx, "partner", "partners", _("Top 10 partners"), limit=10, order="rank",
                                   note=ytd_note + " " + _("Partners ranked by total trade; confidential ones "
                                                           "follow, by ISO code."))]
    sections.append(_regions_section(ctx, ytd_note))
    if ctx.level != "pilot_area":
        sections.append(_direction_section(ctx, "is_pilot", "pilot", _("Pilot areas and other regions"),
                                           order=[1, 0], note=ytd_note))
    monthly = _monthly_section(ctx)

    # Headline figures, protected as the dashboard protects them, then withheld where a table withholds them.
    listed = dashboard.headline(ctx)
    suppress = any(h["suppressed"] for h in listed)
    values = indicators.headline(ctx.filter.with_(direction=None), period)
    linked_months = {period, previous_period(period), previous_period(period, 12)}
    month_hidden = suppress or any(c.confidential for r in monthly.rows if r.code in linked_months
                                   for c in r.cells)
    ytd_hidden = suppress or any(any(s.margins.values()) for s in sections)
    figures: dict[str, Figure] = {}
    for code in FIGURES:
        ind = INDICATORS[code]
        if code in MONTH_FIGURES:
            hidden = month_hidden
        else:
            hidden = ytd_hidden and (ind.unit == "USD" or ind.group in ("growth", "structure"))
        figures[code] = Figure(None if hidden else values.get(code), ind.unit, hidden)
    if ytd_hidden:  # one margin withheld: the total lines of every table too
        for s in sections:
            for r in s.rows:
                if r.total:
                    r.cells = [Figure(None, c.unit, True) for c in r.cells]

    headline = Section("headline", _("Headline figures"),
                       [(month, "USD"), (_("Year on year, %"), "%"), (ytd_label, "USD"), (_("Year on year, %"), "%")])
    for title, codes in ((_("Exports"), ("exports", "yoy_exports", "ytd_exports", "yoy_ytd_exports")),
                         (_("Imports"), ("imports", "yoy_imports", "ytd_imports", "yoy_ytd_imports")),
                         (_("Total"), ("total", "yoy_total", "ytd_total", "yoy_ytd_total")),
                         (_("Balance"), ("balance", None, "ytd_balance", None))):
        headline.rows.append(Row(title, [figures[c] if c else Figure(None, "%") for c in codes], code=codes[0]))
    other = Section("other", _("Other indicators"), [(pgettext("bulletin table column", "Value"), "")],
                    note=_("Shares and the change in the balance: %(ytd)s; reporting enterprises: %(month)s.") % {
                        "ytd": ytd_label, "month": month})
    for code in OTHER_FIGURES:
        ind = INDICATORS[code]
        unit = f" ({ind.unit})" if ind.unit in ("USD", "%") else ""
        other.rows.append(Row(f"{ind.name}{unit}", [figures[code]], code=code))

    components = sections[0]
    charts = [
        Chart(_("Exports and imports, last 13 months (USD million)"), column_chart(
            [r.label for r in monthly.rows],
            [(_("Exports"), [r.cells[0].value for r in monthly.rows]),
             (_("Imports"), [r.cells[1].value for r in monthly.rows])])),
        Chart(_("Trade by EBOPS component, %(ytd)s (USD million)") % {"ytd": ytd_label}, bar_chart(
            [r.label for r in components.rows if not r.total],
            [(_("Exports"), [r.cells[0].value for r in components.rows if not r.total]),
             (_("Imports"), [r.cells[1].value for r in components.rows if not r.total])])),
    ]
    return Bulletin(
        ctx=ctx, title=_("Service trade bulletin, %(place)s, %(month)s") % names, place=place, month=month,
        ytd_label=ytd_label, release_date=timezone.localdate(), lead=_lead(figures, names, month_hidden,
                                                                           ytd_hidden),
        figures=figures, headline=headline, other=other, monthly=monthly, sections=sections, charts=charts,
        notes=_notes())


# --- words ------------------------------------------------------------------------------------------------------

def _amount(value: Decimal) -> str:
    return _("USD %(amount)s million") % {"amount": f"{abs(value) / MILLION:,.2f}"}


def _change(pct: Decimal | None) -> str:
    if pct is None:
        return _("with no figure a year earlier to compare")
    if pct > 0:
        return _("up %(pct)s%% year on year") % {"pct": pct}
    if pct < 0:
        return _("down %(pct)s%% year on year") % {"pct": -pct}
    return _("unchanged year on year")


def _balance(value: Decimal) -> str:
    if value > 0:
        return _("a surplus of %(amount)s") % {"amount": _amount(value)}
    if value < 0:
        return _("a deficit of %(amount)s") % {"amount": _amount(value)}
    return _("nil")


def _lead(f: dict[str, Figure], names: dict, month_hidden: bool, ytd_hidden: bool) -> list[str]:
    v = {code: fig.value for code, fig in f.items()}
    out = []
    if month_hidden:
        out.append(_("The figures for %(place)s in %(month)s are confidential: publishing them would disclose "
                     "the data of individual enterprises.") % names)
    else:
        out.append(_("In %(month)s, exports of services from %(place)s were %(exports)s, %(exports_change)s; "
                     "imports were %(imports)s, %(imports_change)s; the balance was %(balance)s.") % {
            **names, "exports": _amount(v["exports"]), "exports_change": _change(v["yoy_exports"]),
            "imports": _amount(v["imports"]), "imports_change": _change(v["yoy_imports"]),
            "balance": _balance(v["balance"])})
    if names["month_number"] > 1:
        if ytd_hidden:
            # Chinese writes the month as a number (1—6月): its translation uses month_number, not month_name.
            # xgettext:no-python-format
            out.append(_("The figures from January to %(month_name)s are confidential.") % names)
        else:
            # Chinese writes the month as a number (1—6月): its translation uses month_number, not month_name.
            # xgettext:no-python-format
            out.append(_("From January to %(month_name)s, exports totalled %(exports)s, %(exports_change)s, and "
                         "imports %(imports)s, %(imports_change)s; total service trade was %(total)s, "
                         "%(total_change)s, and the balance %(balance)s.") % {
                **names, "exports": _amount(v["ytd_exports"]), "exports_change": _change(v["yoy_ytd_exports"]),
                "imports": _amount(v["ytd_imports"]), "imports_change": _change(v["yoy_ytd_imports"]),
                "total": _amount(v["ytd_total"]), "total_change": _change(v["yoy_ytd_total"]),
                "balance": _balance(v["ytd_balance"])})
    count = int(v["enterprises"] or 0)
    out.append(ngettext("The month's figures come from %(count)s reporting enterprise.",
                        "The month's figures come from %(count)s reporting enterprises.", count) % {"count": count})
    return out


def _plain(number: Decimal) -> str:
    """85.00 → "85", 87.50 → "87.5"."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _notes() -> list[str]:
    rules = disclosure.rules_from_settings()
    return [
        _("Source: monthly direct reports of enterprises, approved by the commerce bureaus (official figures "
          "only). Figures may be revised when enterprises correct their reports."),
        _("Amounts are in US dollars; amounts reported in other currencies are converted at the central parity of "
          "the reporting month. Percentages are rounded half up to one decimal."),
        _("“C” = confidential: a figure from fewer than %(n)s enterprises, or more than %(share)s%% of which comes "
          "from one enterprise, is withheld, together with the figures that would reveal it.") % {
            "n": rules.min_contributors, "share": _plain(rules.dominance * 100)},
        _("Year-on-year growth compares with the same month (or months) of the previous year; “—” means that "
          "there is nothing to compare with."),
    ]


# --- charts (inline SVG, drawn on the server) --------------------------------------------------------------------

COLOURS = ("#12325b", "#84adea")
FONT = "Noto Sans CJK SC, Source Han Sans SC, WenQuanYi Micro Hei, PingFang SC, Microsoft YaHei, sans-serif"


TICKS = 4


def _axis_top(value: float) -> float:
    """The top of an axis of TICKS equal steps of 1, 2, 2.5 or 5 × 10ⁿ that reaches `value`."""
    if value <= 0:
        return 1.0
    rough = value / TICKS
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= rough)
    return step * TICKS


def _millions(values: Iterable[Decimal | None]) -> list[float | None]:
    # Floats only for drawing: the figures themselves stay Decimal everywhere else.
    return [None if v is None else max(float(v / MILLION), 0.0) for v in values]


def _tick(value: float) -> str:
    return f"{value:,g}"


def _svg(width: int, height: int, body: list[str], title: str) -> SafeString:
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="{FONT}" font-size="10" class="bl-chart">'
        f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _legend(series: Sequence[tuple[str, list]], x: float, y: float) -> list[str]:
    out = []
    for i, (name, _values) in enumerate(series):
        out.append(f'<rect x="{x:.1f}" y="{y - 8:.1f}" width="10" height="10" fill="{COLOURS[i % 2]}"/>'
                   f'<text x="{x + 14:.1f}" y="{y:.1f}">{escape(name)}</text>')
        x += 24 + sum(10 if ord(ch) > 0x2E80 else 6 for ch in name)  # CJK characters are about 1 em wide
    return out


def column_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal | None]]], *,
                 width: int = 680, height: int = 250) -> SafeString:
    """Grouped vertical bars (values in USD, drawn in millions); None is a confidential "C" at the baseline."""
    left, right, top, bottom = 52, 8, 26, 30
    pw, ph = width - left - right, height - top - bottom
    scaled = [(name, _millions(values)) for name, values in series]
    vmax = _axis_top(max((v for _n, vs in scaled for v in vs if v is not None), default=0.0))
    base = top + ph
    body = []
    for i in range(TICKS + 1):
        y = base - ph * i / TICKS
        body.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dfe3ea"/>'
                    f'<text x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">{_tick(vmax * i / TICKS)}</text>')
    slot = pw / max(len(categories), 1)
    bar = slot * 0.8 / max(len(scaled), 1)
    for j, category in enumerate(categories):
        x0 = left + slot * j + slot * 0.1
        for i, (_name, values) in enumerate(scaled):
            v, x = values[j], x0 + bar * i
            if v is None:
                body.append(f'<text x="{x + bar / 2:.1f}" y="{base - 3:.1f}" text-anchor="middle">C</text>')
            else:
                h = ph * v / vmax
                body.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                            f'fill="{COLOURS[i % 2]}"/>')
        body.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{base + 14}" text-anchor="middle" font-size="9">'
                    f'{escape(category)}</text>')
    body.extend(_legend(series, left, 14))
    return _svg(width, height, body, ", ".join(name for name, _v in series))


def bar_chart(categories: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal | None]]], *,
              width: int = 680, bar: int = 7, label_width: int = 210) -> SafeString:
    """Grouped horizontal bars, one group per category (values in USD, drawn in millions); None is "C"."""
    top, right, gap = 40, 40, 6
    group = bar * len(series) + gap
    height = top + group * len(categories) + 8
    pw = width - label_width - right
    scaled = [(name, _millions(values)) for name, values in series]
    vmax = _axis_top(max((v for _n, vs in scaled for v in vs if v is not None), default=0.0))
    body = []
    for i in range(TICKS + 1):
        x = label_width + pw * i / TICKS
        body.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{height - 8}" stroke="#dfe3ea"/>'
                    f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle">{_tick(vmax * i / TICKS)}</text>')
    for j, category in enumerate(categories):
        y0 = top + group * j
        short = category if len(category) <= 34 else category[:33] + "…"
        body.append(f'<text x="{label_width - 6}" y="{y0 + bar * len(series) / 2 + 3:.1f}" text-anchor="end">'
                    f'{escape(short)}</text>')
        for i, (_name, values) in enumerate(scaled):
            v, y = values[j], y0 + bar * i
            if v is None:
                body.append(f'<text x="{label_width + 3}" y="{y + bar - 1:.1f}" font-size="8">C</text>')
            else:
                w = pw * v / vmax
                body.append(f'<rect x="{label_width}" y="{y:.1f}" width="{w:.1f}" height="{bar - 1}" '
                            f'fill="{COLOURS[i % 2]}"/>')
    body.extend(_legend(series, label_width, 12))
    return _svg(width, height, body, ", ".join(name for name, _v in series))


# --- XLSX -------------------------------------------------------------------------------------------------------

NUMBER_FORMATS = {"USD": "#,##0.00", "%": "0.0", "count": "#,##0", "points": "#,##0", "CNY 10k": "#,##0.00"}


def _sheet_title(text: str, used: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", " ", text)[:31].strip() or "Sheet"
    base, n = title, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _put(ws, row: int, col: int, figure: Figure):
    cell = ws.cell(row=row, column=col)
    if figure.confidential:
        cell.value = CONFIDENTIAL
    elif figure.value is None:
        cell.value = NOT_AVAILABLE
    else:
        cell.value = figure.value   # exact: openpyxl writes a Decimal's digits
        cell.number_format = NUMBER_FORMATS.get(figure.unit, "General")
    if isinstance(cell.value, str):
        cell.alignment = Alignment(horizontal="right")
    return cell


def to_xlsx(b: Bulletin) -> bytes:
    """A cover sheet (title, headline in words and figures, notes) and one sheet per table."""
    wb = Workbook()
    used: set[str] = set()
    cover = wb.active
    cover.title = _sheet_title(_("Cover"), used)
    cover.append([b.title])
    cover["A1"].font = Font(bold=True, size=14)
    cover.append([_("Released"), b.release_date.isoformat()])
    cover.append([_("Region"), b.place])
    cover.append([_("Month"), b.month])
    cover.append([])
    cover.append([" ".join(b.lead)])
    cover.merge_cells(start_row=6, start_column=1, end_row=6, end_column=4)
    cover["A6"].alignment = Alignment(wrap_text=True, vertical="top")
    cover.row_dimensions[6].height = 90
    cover.append([])
    cover.append([_("Indicator"), pgettext("bulletin table column", "Value"), _("Unit"), _("Code")])
    for cell in cover[cover.max_row]:
        cell.font = Font(bold=True)
    for code in FIGURES:
        ind = INDICATORS[code]
        r = cover.max_row + 1
        cover.cell(row=r, column=1, value=str(ind.name))
        _put(cover, r, 2, b.figures[code])
        cover.cell(row=r, column=3, value=ind.unit)
        cover.cell(row=r, column=4, value=code)
    cover.append([])
    for note in b.notes:
        cover.append([note])
    cover.column_dimensions["A"].width = 44
    cover.column_dimensions["B"].width = 20
    cover.column_dimensions["C"].width = 10
    cover.column_dimensions["D"].width = 18

    for section in b.tables:
        ws = wb.create_sheet(_sheet_title(section.title, used))
        ws.append([f"{section.title} — {b.place}, {b.month}"])
        ws["A1"].font = Font(bold=True)
        ws.append([""] + [f"{t} ({u})" if u and u != "%" and not t.endswith("%") else t for t, u in section.columns])
        for cell in ws[2]:
            cell.font = Font(bold=True)
        for row in section.rows:
            r = ws.max_row + 1
            ws.cell(row=r, column=1, value=row.label).font = Font(bold=row.total)
            for i, figure in enumerate(row.cells, start=2):
                _put(ws, r, i, figure).font = Font(bold=row.total)
        ws.append([])
        if section.note:
            ws.append([section.note])
        ws.append([_("C = confidential (suppressed to protect respondents); values in USD unless stated.")])
        ws.column_dimensions["A"].width = 36
        for letter in "BCDE":
            ws.column_dimensions[letter].width = 18
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
