"""The indicators, each defined once: code, name, unit, formula; and how they are computed.

All money is USD `Decimal` from integer cents; ratios are computed in Decimal and rounded explicitly
(ROUND_HALF_UP): percentages to 0.1, HHI to whole points. An indicator whose denominator is zero is `None`
("—" on screen), never 0 or infinity.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tradepilot.analytics import queries
from tradepilot.analytics.queries import Filter

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Indicator:
    code: str
    name: Promise
    unit: str            # "USD", "%", "pp" (percentage points), "points", "count"
    formula: Promise
    group: str


def _i(code, name, unit, formula, group) -> Indicator:
    return Indicator(code, name, unit, formula, group)


INDICATORS: dict[str, Indicator] = {i.code: i for i in [
    _i("exports", _("Exports of services"), "USD", _("Sum of export (credit) lines of the month"), "trade"),
    _i("imports", _("Imports of services"), "USD", _("Sum of import (debit) lines of the month"), "trade"),
    _i("total", _("Total service trade"), "USD", _("exports + imports"), "trade"),
    _i("balance", _("Balance"), "USD", _("exports − imports (negative: deficit)"), "trade"),
    _i("ytd_exports", _("Exports, year to date"), "USD", _("Sum of exports from January to the month"), "trade"),
    _i("ytd_imports", _("Imports, year to date"), "USD", _("Sum of imports from January to the month"), "trade"),
    _i("ytd_total", _("Total trade, year to date"), "USD", _("ytd_exports + ytd_imports"), "trade"),
    _i("ytd_balance", _("Balance, year to date"), "USD", _("ytd_exports − ytd_imports"), "trade"),
    _i("yoy_exports", _("Exports, year-on-year growth"), "%",
       _("(month − same month last year) ÷ same month last year × 100"), "growth"),
    _i("yoy_imports", _("Imports, year-on-year growth"), "%",
       _("(month − same month last year) ÷ same month last year × 100"), "growth"),
    _i("yoy_total", _("Total trade, year-on-year growth"), "%",
       _("(month − same month last year) ÷ same month last year × 100"), "growth"),
    _i("mom_exports", _("Exports, month-on-month growth"), "%",
       _("(month − previous month) ÷ previous month × 100"), "growth"),
    _i("mom_imports", _("Imports, month-on-month growth"), "%",
       _("(month − previous month) ÷ previous month × 100"), "growth"),
    _i("yoy_ytd_exports", _("Exports year to date, year-on-year growth"), "%",
       _("(year to date − same months last year) ÷ same months last year × 100"), "growth"),
    _i("yoy_ytd_imports", _("Imports year to date, year-on-year growth"), "%",
       _("(year to date − same months last year) ÷ same months last year × 100"), "growth"),
    _i("yoy_ytd_total", _("Total trade year to date, year-on-year growth"), "%",
       _("(year to date − same months last year) ÷ same months last year × 100"), "growth"),
    _i("balance_change", _("Change in the balance, year to date"), "USD",
       _("ytd_balance − ytd_balance of the same months last year (positive: the deficit narrowed)"), "growth"),
    _i("ki_share", _("Knowledge-intensive services share"), "%",
       _("Trade in insurance, financial, IP charges, telecom/computer/information, other business, personal/"
         "cultural/recreational services ÷ total trade × 100, year to date"), "structure"),
    _i("related_party_share", _("Related-party share"), "%",
       _("Trade with related parties ÷ total trade × 100, year to date"), "structure"),
    _i("pilot_share", _("Pilot areas' share"), "%",
       _("Trade of enterprises in pilot areas ÷ total trade × 100, year to date"), "structure"),
    _i("top10_share", _("Top-10 enterprises' share"), "%",
       _("Trade of the 10 largest enterprises ÷ total trade × 100, year to date"), "concentration"),
    _i("hhi", _("Herfindahl–Hirschman index"), "points",
       _("Σ (enterprise share of total trade in %)², year to date; 10 000 = one enterprise"), "concentration"),
    _i("enterprises", _("Reporting enterprises"), "count",
       _("Enterprises with counted lines in the month"), "coverage"),
    _i("systemic_coverage", _("Coverage of systemically important enterprises"), "%",
       _("Systemically important enterprises that submitted ÷ those expected × 100"), "coverage"),
    _i("completeness", _("Reporting completeness"), "%",
       _("Key-contact enterprises that submitted ÷ expected × 100"), "coverage"),
    _i("timeliness", _("Reporting timeliness"), "%",
       _("Key-contact enterprises that submitted by the deadline ÷ expected × 100"), "coverage"),
    _i("fats_in_sales", _("Foreign affiliates' sales of services"), "CNY 10k",
       _("Sum of services sales of foreign-controlled affiliates (inward FATS), year"), "fats"),
    _i("fats_in_employment", _("Foreign affiliates' employment"), "count",
       _("Sum of persons employed by foreign-controlled affiliates (inward FATS), year"), "fats"),
    _i("fats_out_turnover", _("Outward affiliates' turnover"), "CNY 10k",
       _("Sum of turnover of majority-owned affiliates abroad (outward FATS), year"), "fats"),
    _i("fats_out_employment", _("Outward affiliates' employment"), "count",
       _("Sum of persons employed by majority-owned affiliates abroad (outward FATS), year"), "fats"),
]}


def growth(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    if current is None or previous is None or previous == 0:
        return None
    return ((current - previous) / previous * HUNDRED).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def share(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    if part is None or whole is None or whole == 0:
        return None
    return (part / whole * HUNDRED).quantize(ONE_DECIMAL, ROUND_HALF_UP)


def previous_period(period: int, months: int = 1) -> int:
    index = (period // 100) * 12 + (period % 100 - 1) - months
    return (index // 12) * 100 + index % 12 + 1


def _sum(values) -> Decimal:
    return sum(values, Decimal(0))


def monthly(flt: Filter, start: int, end: int, *, engine=None) -> dict[int, dict[str, Decimal]]:
    """period → {"X": exports, "M": imports} (missing directions are absent)."""
    out: dict[int, dict[str, Decimal]] = {}
    for c in queries.cells(flt.with_(start=start, end=end), ["period", "direction"], engine=engine):
        out.setdefault(int(c.key[0]), {})[c.key[1]] = c.value
    return out


def headline(flt: Filter, period: int, *, engine=None) -> dict[str, Decimal | None]:
    """The headline indicators for one month under a filter (scope, drill-down, categories…)."""
    year, month = divmod(period, 100)
    series = monthly(flt, (year - 1) * 100 + 1, period, engine=engine)

    def val(p: int, d: str) -> Decimal:
        return series.get(p, {}).get(d, Decimal(0))

    def ytd(y: int, d: str) -> Decimal:
        return _sum(val(y * 100 + m, d) for m in range(1, month + 1))

    has_last_year = any(p // 100 == year - 1 for p in series)
    out: dict[str, Decimal | None] = {}
    x, m = val(period, "X"), val(period, "M")
    out.update(exports=x, imports=m, total=x + m, balance=x - m)
    yx, ym = ytd(year, "X"), ytd(year, "M")
    out.update(ytd_exports=yx, ytd_imports=ym, ytd_total=yx + ym, ytd_balance=yx - ym)
    ly = previous_period(period, 12)
    lx, lm = (val(ly, "X"), val(ly, "M")) if has_last_year else (None, None)
    out.update(yoy_exports=growth(x, lx), yoy_imports=growth(m, lm),
               yoy_total=growth(x + m, None if lx is None else lx + lm))
    pm = previous_period(period)
    out.update(mom_exports=growth(x, val(pm, "X") if pm in series else None),
               mom_imports=growth(m, val(pm, "M") if pm in series else None))
    lyx, lym = (ytd(year - 1, "X"), ytd(year - 1, "M")) if has_last_year else (None, None)
    out.update(yoy_ytd_exports=growth(yx, lyx), yoy_ytd_imports=growth(ym, lym),
               yoy_ytd_total=growth(yx + ym, None if lyx is None else lyx + lym),
               balance_change=None if lyx is None else (yx - ym) - (lyx - lym))

    ytd_filter = flt.with_(start=year * 100 + 1, end=period)
    total = yx + ym
    structure = queries.cells(ytd_filter, ["knowledge_intensive", "related_party", "is_pilot"], engine=engine)
    out["ki_share"] = share(_sum(c.value for c in structure if c.key[0] == 1), total)
    out["related_party_share"] = share(_sum(c.value for c in structure if c.key[1] == 1), total)
    out["pilot_share"] = share(_sum(c.value for c in structure if c.key[2] == 1), total)
    out.update(concentration(queries.enterprise_totals(ytd_filter, engine=engine)))
    month_cells = queries.cells(flt.with_(start=period, end=period), [], engine=engine)
    out["enterprises"] = Decimal(month_cells[0].contributors) if month_cells else Decimal(0)
    return out


def concentration(cents: list[int]) -> dict[str, Decimal | None]:
    """Top-10 share and HHI from the enterprises' totals in cents (largest first), in exact integer arithmetic
    up to the final division: HHI = Σ vᵢ² ÷ (Σ vᵢ)² × 10 000."""
    whole = sum(cents)
    if not whole:
        return {"top10_share": None, "hhi": None}
    squares = Decimal(sum(v * v for v in cents))
    return {"top10_share": share(Decimal(sum(cents[:10])), Decimal(whole)),
            "hhi": (squares * 10_000 / (Decimal(whole) ** 2)).quantize(Decimal(1), ROUND_HALF_UP)}


def coverage(user_enterprises, period: int) -> dict[str, Decimal | None]:
    """Completeness, timeliness and systemic coverage (from the reporting system) for the user's enterprises."""
    from tradepilot.reporting.completeness import completeness
    from tradepilot.reporting.periods import Period

    _rows, total = completeness(user_enterprises, Period(period // 100, period % 100))

    def pct(part: int, whole: int) -> Decimal | None:
        return share(Decimal(part), Decimal(whole)) if whole else None

    return {"completeness": pct(total.submitted, total.expected), "timeliness": pct(total.on_time, total.expected),
            "systemic_coverage": pct(total.systemic_submitted, total.systemic_expected)}
