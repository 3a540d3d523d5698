"""Where each evaluation indicator's value comes from: `SOURCES`, name → function(area, year, context) →
`Explained`.

A source returns the area's raw value for the evaluated year (a `Decimal`, or None when there is no data) together
with the inputs it was computed from and the formula, so that every score can be traced to its numbers.

Quantitative sources read the analytics layer (`analytics.queries` / `analytics.indicators`) for the area's region
subtree (`Filter.region_path`), official figures, the ministry's unprotected view: evaluation is a ministry
function. Only area totals are ever returned, never enterprise-level rows.

- Growth and the change in the balance compare the evaluated year with the previous one over the *comparable
  months*: the months that have trade in the store (nationally) in both years. When both years are complete that
  is the calendar year; when the store starts part-way through the previous year, only the months both years have
  are compared, and the explanation says which.
- Reporting coverage and timeliness count, over the months of the year in which monthly reports were submitted
  anywhere, the area's key-contact enterprises expected, those that submitted and those that submitted by the due
  date (`reporting.completeness`).

Governance sources read the governance records: area tasks due by the end of the year and completed by their due
date, opening measures implemented by the end of the year (`measures.implementation_summary`), and adoptions by
other areas of the area's published experience cases.

Missing data is None (the score is then 0 and the explanation says "no data"); a source never raises for it.

Texts are stored as English with their message id and arguments (`Text`), so a stored run can be shown in the
reader's language later (`Text.render`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Count, F, Q
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_noop

from tradepilot.analytics import indicators, queries
from tradepilot.analytics.queries import Filter
from tradepilot.core.models import PilotArea, PilotRound
from tradepilot.governance.common import Text

HUNDRED = Decimal(100)
TEN_THOUSAND = Decimal(10000)
CENT = Decimal("0.01")


# --- what a source returns -----------------------------------------------------------------------------------------

@dataclass
class Input:
    label: Text
    value: Decimal | int | None
    unit: str = ""
    url: str = ""

    def as_json(self) -> dict:
        value = self.value
        return {"label": self.label.english(), "label_i18n": self.label.as_json(),
                "value": None if value is None else str(value), "unit": self.unit, "url": self.url}


@dataclass
class Explained:
    value: Decimal | None
    inputs: list[Input]
    formula: Text
    note: Text | None = None
    unit: str = "%"

    def as_json(self) -> dict:
        return {
            "formula": self.formula.english(), "formula_i18n": self.formula.as_json(),
            "inputs": [i.as_json() for i in self.inputs],
            "note": self.note.english() if self.note else "", "note_i18n": self.note.as_json() if self.note else None,
            "unit": self.unit,
        }


def no_data(formula: Text, reason: Text, inputs: list[Input] | None = None, unit: str = "%") -> Explained:
    return Explained(None, inputs or [], formula, reason, unit)


# --- the context shared by the sources of one run --------------------------------------------------------------

class SourceContext:
    """The evaluated round and year, and what several sources or areas share, computed once per run."""

    def __init__(self, rnd: PilotRound, year: int, areas: list[PilotArea]):
        self.round = rnd
        self.year = year
        self.areas = areas
        self._cache: dict = {}

    def cached(self, key, compute: Callable):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    @property
    def year_end(self) -> dt.date:
        return dt.date(self.year, 12, 31)

    # trade in the store

    def national_periods(self) -> set[int]:
        return self.cached("periods", lambda: set(queries.periods(
            Filter(start=(self.year - 1) * 100 + 1, end=self.year * 100 + 12))))

    def comparable_months(self) -> list[int]:
        """Months with trade (nationally) in both the year and the previous year."""
        periods = self.national_periods()
        return [m for m in range(1, 13) if self.year * 100 + m in periods and (self.year - 1) * 100 + m in periods]

    def year_months(self) -> list[int]:
        periods = self.national_periods()
        return [m for m in range(1, 13) if self.year * 100 + m in periods]

    def monthly(self, area: PilotArea) -> dict[int, dict[str, Decimal]]:
        """period → {"X": exports, "M": imports} of the area's region subtree, previous year and this one."""
        return self.cached(("monthly", area.pk), lambda: indicators.monthly(
            Filter(region_path=area.region.path), (self.year - 1) * 100 + 1, self.year * 100 + 12))

    def usd_rates(self) -> dict[int, Decimal]:
        from tradepilot.reporting.models import ExchangeRate

        def load():
            rows = ExchangeRate.objects.filter(currency__code="USD", year__in=(self.year - 1, self.year))
            return {y * 100 + m: rate for y, m, rate in rows.values_list("year", "month", "cny_per_unit")}

        return self.cached("usd_rates", load)

    # reporting

    def reporting(self) -> dict[str, dict[str, int]]:
        """Per area region code: enterprise-months expected, submitted and on time, over the reporting months."""
        return self.cached("reporting", self._reporting)

    def reporting_months(self) -> list[int]:
        from tradepilot.reporting.models import Report, ReportForm

        return self.cached("reporting_months", lambda: sorted(set(
            Report.objects.filter(form__code=ReportForm.Code.MONTHLY, year=self.year, month__gt=0,
                                  submitted_at__isnull=False).values_list("month", flat=True))))

    def _reporting(self) -> dict[str, dict[str, int]]:
        from tradepilot.enterprises.models import Enterprise
        from tradepilot.reporting.completeness import completeness
        from tradepilot.reporting.models import ReportForm
        from tradepilot.reporting.periods import Period

        form = ReportForm.objects.filter(code=ReportForm.Code.MONTHLY).first()
        out = {a.region.code: {"expected": 0, "submitted": 0, "on_time": 0} for a in self.areas}
        if form is None:
            return out
        regions = [a.region for a in self.areas]
        for month in self.reporting_months():
            rows, _total = completeness(Enterprise.objects.all(), Period(self.year, month), form, group_by=regions)
            for row in rows:
                if row.region_code in out:
                    entry = out[row.region_code]
                    entry["expected"] += row.expected
                    entry["submitted"] += row.submitted
                    entry["on_time"] += row.on_time
        return out

    # governance

    def tasks(self) -> dict[int, tuple[int, int]]:
        """area id → (tasks due by the year's end, of which completed by their due date)."""
        from tradepilot.governance.models import AreaTask

        def load():
            rows = (AreaTask.objects.filter(area__round=self.round, due_date__lte=self.year_end)
                    .values("area_id").annotate(
                        due=Count("pk"),
                        on_time=Count("pk", filter=Q(completed_on__isnull=False, completed_on__lte=F("due_date")))))
            return {r["area_id"]: (r["due"], r["on_time"]) for r in rows}

        return self.cached("tasks", load)

    def measures(self) -> dict[int, dict]:
        from tradepilot.governance import measures

        return self.cached("measures", lambda: measures.implementation_summary(self.round, self.year))

    def experiences(self) -> dict[int, tuple[int, int]]:
        """area id → (its experience cases published by the year's end, adoptions of them by other areas)."""
        from tradepilot.governance import experiences

        def load():
            published = experiences.published_cases(self.round).filter(published_at__date__lte=self.year_end)
            cases = dict(published.values("area_id").annotate(n=Count("pk")).values_list("area_id", "n"))
            adoptions = experiences.adopted_elsewhere(self.round, self.year_end)
            return {a.pk: (cases.get(a.pk, 0), adoptions.get(a.pk, 0)) for a in self.areas}

        return self.cached("experiences", load)


# --- links ---------------------------------------------------------------------------------------------------------

def url(name: str, *args, **query) -> str:
    """The URL of a named page, or "" when that page does not exist (yet)."""
    try:
        path = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    query = {k: v for k, v in query.items() if v not in (None, "")}
    return f"{path}?{urlencode(query)}" if query else path


def dashboard_url(area: PilotArea, year: int, *, start_year: int | None = None) -> str:
    return url("analytics:dashboard", region=area.region.code, period=f"{year}-12",
               start=f"{start_year or year}-01", end=f"{year}-12")


def months_text(months: list[int]) -> str:
    """[1, 2, 3, 7] → "1–3, 7" (month numbers)."""
    runs: list[list[int]] = []
    for m in months:
        if runs and runs[-1][-1] == m - 1:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(f"{r[0]}–{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


def pct(part: Decimal | int, whole: Decimal | int) -> Decimal | None:
    return indicators.share(Decimal(part), Decimal(whole))


# --- the registry ----------------------------------------------------------------------------------------------

Source = Callable[[PilotArea, int, SourceContext], Explained]
SOURCES: dict[str, Source] = {}


@dataclass(frozen=True)
class SourceInfo:
    name: str
    label: str      # message id
    unit: str
    kind: str       # "quantitative" or "governance"

    @property
    def title(self) -> str:
        return gettext(self.label)


SOURCE_INFO: dict[str, SourceInfo] = {}


def source(name: str, label: str, unit: str, kind: str):
    def register(fn: Source) -> Source:
        SOURCES[name] = fn
        SOURCE_INFO[name] = SourceInfo(name, label, unit, kind)
        return fn

    return register


# --- quantitative ----------------------------------------------------------------------------------------------

def _sum(series: dict[int, dict[str, Decimal]], year: int, months: list[int], directions: str) -> Decimal:
    return sum((series.get(year * 100 + m, {}).get(d, Decimal(0)) for m in months for d in directions), Decimal(0))


def _growth(area: PilotArea, year: int, ctx: SourceContext, directions: str, label: str, formula: str
            ) -> Explained:
    prev = year - 1
    months = ctx.comparable_months()
    formula_text = Text(formula, {"year": year, "prev": prev})
    if not months:
        return no_data(formula_text, no_trade_in_both(year))
    series = ctx.monthly(area)
    current, previous = _sum(series, year, months, directions), _sum(series, prev, months, directions)
    span = months_text(months)
    link = dashboard_url(area, year, start_year=prev)
    inputs = [Input(Text(label, {"year": year, "months": span}), current, "USD", link),
              Input(Text(label, {"year": prev, "months": span}), previous, "USD", link)]
    value = indicators.growth(current, previous)
    note = None
    if value is None:
        note = Text(gettext_noop("No data: the area had no trade in %(prev)s to compare with."), {"prev": prev})
    elif len(months) < 12:
        note = partial_years(span)
    return Explained(value, inputs, formula_text, note, "%")


def no_trade_in_both(year: int) -> Text:
    return Text(gettext_noop("No data: the analytics store has no trade for both %(year)s and %(prev)s."),
                {"year": year, "prev": year - 1})


def partial_years(span: str) -> Text:
    return Text(gettext_noop("Compared over months %(months)s only: the store does not hold both full years."),
                {"months": span})


@source("trade_growth", gettext_noop("Service trade growth (exports + imports, year on year)"), "%", "quantitative")
def trade_growth(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    return _growth(
        area, year, ctx, "XM", gettext_noop("Total trade (exports + imports), %(year)s, months %(months)s"),
        gettext_noop("(total trade %(year)s − total trade %(prev)s) ÷ total trade %(prev)s × 100, over the "
                     "months with trade in both years"))


@source("export_growth", gettext_noop("Export growth (year on year)"), "%", "quantitative")
def export_growth(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    return _growth(
        area, year, ctx, "X", gettext_noop("Exports, %(year)s, months %(months)s"),
        gettext_noop("(exports %(year)s − exports %(prev)s) ÷ exports %(prev)s × 100, over the months with "
                     "trade in both years"))


@source("balance_change", gettext_noop("Change in the balance (exports − imports) on the previous year"), "CNY 10k",
        "quantitative")
def balance_change(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    prev = year - 1
    formula = Text(gettext_noop("Σ (exports − imports) × USD central parity ÷ 10 000 over the months of "
                                "%(year)s − the same over the same months of %(prev)s (CNY 10k; positive: the "
                                "balance improved)"), {"year": year, "prev": prev})
    months = ctx.comparable_months()
    if not months:
        return no_data(formula, no_trade_in_both(year), unit="CNY 10k")
    series, rates = ctx.monthly(area), ctx.usd_rates()
    balances: dict[int, Decimal] = {}
    for y in (year, prev):
        total = Decimal(0)
        for m in months:
            period = y * 100 + m
            rate = rates.get(period)
            if rate is None:
                return no_data(formula, Text(gettext_noop("No data: no USD central parity for %(period)s."),
                                             {"period": f"{y}-{m:02d}"}), unit="CNY 10k")
            flows = series.get(period, {})
            total += (flows.get("X", Decimal(0)) - flows.get("M", Decimal(0))) * rate
        balances[y] = (total / TEN_THOUSAND).quantize(CENT, ROUND_HALF_UP)
    span = months_text(months)
    link = dashboard_url(area, year, start_year=prev)
    inputs = []
    for y in (year, prev):
        inputs += [
            Input(Text(gettext_noop("Exports, %(year)s, months %(months)s"), {"year": y, "months": span}),
                  _sum(series, y, months, "X"), "USD", link),
            Input(Text(gettext_noop("Imports, %(year)s, months %(months)s"), {"year": y, "months": span}),
                  _sum(series, y, months, "M"), "USD", link),
            Input(Text(gettext_noop("Balance at the monthly USD central parity, %(year)s"), {"year": y}), balances[y],
                  "CNY 10k", url("reporting:rates")),
        ]
    note = partial_years(span) if len(months) < 12 else None
    return Explained(balances[year] - balances[prev], inputs, formula, note, "CNY 10k")


@source("ki_share", gettext_noop("Knowledge-intensive services' share of trade"), "%", "quantitative")
def ki_share(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    formula = Text(gettext_noop("Trade in knowledge-intensive services ÷ total trade × 100, %(year)s"),
                   {"year": year})
    months = ctx.year_months()
    if not months:
        return no_data(formula, Text(gettext_noop("No data: the analytics store has no trade for %(year)s."),
                                     {"year": year}))
    cells = queries.cells(Filter(region_path=area.region.path, start=year * 100 + 1, end=year * 100 + 12),
                          ["knowledge_intensive"])
    ki = sum((c.value for c in cells if int(c.key[0]) == 1), Decimal(0))
    total = sum((c.value for c in cells), Decimal(0))
    span = months_text(months)
    link = dashboard_url(area, year)
    inputs = [Input(Text(gettext_noop("Knowledge-intensive services trade, %(year)s, months %(months)s"),
                         {"year": year, "months": span}), ki, "USD", link),
              Input(Text(gettext_noop("Total trade, %(year)s, months %(months)s"), {"year": year, "months": span}),
                    total, "USD", link)]
    value = indicators.share(ki, total)
    note = None if value is not None else Text(gettext_noop("No data: the area had no trade in %(year)s."),
                                               {"year": year})
    return Explained(value, inputs, formula, note, "%")


def _reporting(area: PilotArea, year: int, ctx: SourceContext, key: str, formula: Text, label: Text) -> Explained:
    months = ctx.reporting_months()
    if not months:
        return no_data(formula, Text(gettext_noop("No data: no monthly reports were submitted for %(year)s."),
                                     {"year": year}))
    counts = ctx.reporting()[area.region.code]
    span = months_text(months)
    link = url("reporting:completeness", period=f"{year}-{months[-1]:02d}", region=area.region.code)
    inputs = [Input(Text(gettext_noop("Key-contact enterprise-months expected, %(year)s, months %(months)s"),
                         {"year": year, "months": span}), counts["expected"], "count", link),
              Input(label, counts[key], "count", link)]
    value = pct(counts[key], counts["expected"])
    note = None if value is not None else Text(gettext_noop("No data: the area has no key-contact enterprises."))
    return Explained(value, inputs, formula, note, "%")


@source("reporting_coverage", gettext_noop("Reporting coverage of key-contact enterprises"), "%", "quantitative")
def reporting_coverage(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    return _reporting(area, year, ctx, "submitted",
                      Text(gettext_noop("Reports submitted ÷ key-contact enterprise-months expected × 100, %(year)s"),
                           {"year": year}),
                      Text(gettext_noop("Reports submitted (any version past draft)")))


@source("reporting_timeliness", gettext_noop("Reporting timeliness (submitted by the due date)"), "%", "quantitative")
def reporting_timeliness(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    return _reporting(area, year, ctx, "on_time",
                      Text(gettext_noop("Reports first submitted by the due date ÷ key-contact enterprise-months "
                                        "expected × 100, %(year)s"), {"year": year}),
                      Text(gettext_noop("Reports first submitted by the due date")))


# --- governance ------------------------------------------------------------------------------------------------

@source("tasks_on_time", gettext_noop("Tasks completed on time"), "%", "governance")
def tasks_on_time(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    formula = Text(gettext_noop("Area tasks completed on or before their due date ÷ area tasks due by 31 December "
                                "%(year)s × 100"), {"year": year})
    due, on_time = ctx.tasks().get(area.pk, (0, 0))
    link = url("governance:tracking_area", area.pk)
    inputs = [Input(Text(gettext_noop("Area tasks due by 31 December %(year)s"), {"year": year}), due, "count", link),
              Input(Text(gettext_noop("Of which completed by their due date")), on_time, "count", link)]
    if not due:
        return no_data(formula, Text(gettext_noop("No data: none of the area's tasks was due by the end of %(year)s."),
                                     {"year": year}), inputs)
    return Explained(pct(on_time, due), inputs, formula)


@source("measures_implemented", gettext_noop("Opening measures implemented"), "%", "governance")
def measures_implemented(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    formula = Text(gettext_noop("Opening measures implemented by 31 December %(year)s ÷ measures applicable to the "
                                "area × 100"), {"year": year})
    entry = ctx.measures().get(area.pk, {"implemented": 0, "applicable": 0})
    link = url("governance:measures_area", area.pk)
    inputs = [Input(Text(gettext_noop("Opening measures applicable to the area")), entry["applicable"], "count", link),
              Input(Text(gettext_noop("Implemented by 31 December %(year)s"), {"year": year}), entry["implemented"],
                    "count", link)]
    if not entry["applicable"]:
        return no_data(formula, Text(gettext_noop("No data: no applicable opening measure is recorded for the area.")),
                       inputs)
    return Explained(pct(entry["implemented"], entry["applicable"]), inputs, formula)


@source("experiences_adopted", gettext_noop("Experiences adopted by other areas"), "count", "governance")
def experiences_adopted(area: PilotArea, year: int, ctx: SourceContext) -> Explained:
    formula = Text(gettext_noop("Number of adoptions, by other pilot areas up to 31 December %(year)s, of the "
                                "area's experience cases published by then"), {"year": year})
    cases, adoptions = ctx.experiences().get(area.pk, (0, 0))
    link = url("governance:results_experiences", area=area.region.code)
    inputs = [Input(Text(gettext_noop("Experience cases of the area published by 31 December %(year)s"),
                         {"year": year}), cases, "count", link),
              Input(Text(gettext_noop("Adoptions by other areas")), adoptions, "count", link)]
    return Explained(Decimal(adoptions), inputs, formula, unit="count")
