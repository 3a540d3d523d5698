"""The kinds of early-warning indicator (see `early_warning.KINDS`): what each computes for one pilot area and
month, from aggregates of the analytics layer only (`analytics.queries.cells`, on DuckDB or the database engine).

Each kind returns candidate `Signal`s (subject, value, explanation) and, for the alert page's chart, the same
indicator month by month (`series`). Money is USD `Decimal` from integer cents; percentages are computed exactly
and rounded once, half up, to 0.1 — the rounded figure is the one compared with the thresholds and shown.
Explanation labels are English message ids (`gettext_noop`), translated when shown.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tradepilot.analytics import disclosure, queries
from tradepilot.analytics.indicators import previous_period
from tradepilot.analytics.queries import Cell, Filter
from tradepilot.core.models import PilotArea
from tradepilot.governance.common import LocatedError, error
from tradepilot.governance.models import AreaMeasure, MeasureStatus, RiskRule

log = logging.getLogger(__name__)

ONE_DECIMAL = Decimal("0.1")
HUNDRED = Decimal(100)
FOREIGN_TYPES = ("foreign", "hmt")  # Enterprise.RegistrationType: foreign-invested and HMT-invested


class WarningError(LocatedError):
    """Early warning's refusals (422 unless a state conflict says otherwise)."""

    default_status = 422


def period_label(period: int) -> str:
    return f"{period // 100}-{period % 100:02d}"


def pct(part: Decimal, whole: Decimal) -> Decimal:
    """part ÷ whole × 100, unrounded (callers round the figure they compare)."""
    return part / whole * HUNDRED


def round1(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, ROUND_HALF_UP)


def confidential(cell: Cell | None) -> bool:
    """Whether a money aggregate fails the disclosure rules (few contributors, one dominant enterprise)."""
    if cell is None:
        return False
    stat = disclosure.CellStat(cell.value, cell.contributors, cell.largest)
    return disclosure.primary_reason(stat, disclosure.rules_from_settings()) is not None


def money_input(label: str, period: int, cell: Cell | None) -> dict:
    value = cell.value if cell is not None else Decimal(0)
    return {"label": label, "period": period_label(period), "value": str(value), "unit": "USD",
            "confidential": confidential(cell)}


def plain_input(label: str, value, unit: str, period: int | None = None) -> dict:
    return {"label": label, "period": period_label(period) if period else "", "value": str(value), "unit": unit,
            "confidential": False}


def area_filter(area: PilotArea, start: int, end: int, **more) -> Filter:
    # The area's region subtree, not the fact rows' `pilot_area` column: that holds only the latest round's area.
    return Filter(stage="official", region_path=area.region.path, start=start, end=end, **more)


# --- parameters --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Param:
    """One configurable parameter of a kind; values are stored in JSON as text (decimals), int or a code."""

    name: str
    label: Promise
    type: str                       # "decimal", "int", "choice"
    default: object
    minimum: Decimal | int | None = None
    maximum: Decimal | int | None = None
    choices: tuple[tuple[str, Promise], ...] = ()

    def clean(self, raw) -> object:
        """The stored form of `raw`, or WarningError naming `params.<name>`."""
        field = f"params.{self.name}"
        if self.type == "choice":
            codes = [c for c, _label in self.choices]
            if raw not in codes:
                raise WarningError([error(field, raw, "invalid_choice",
                                          _("Choose one of: %(codes)s.") % {"codes": ", ".join(codes)})])
            return raw
        if isinstance(raw, bool) or raw is None or isinstance(raw, float):
            # floats are refused: a threshold-like figure must be given exactly (as text or an integer)
            raise WarningError([error(field, raw, "invalid", _("Give a number, e.g. \"10000\"."))])
        try:
            number = Decimal(str(raw).strip())
        except InvalidOperation:
            raise WarningError([error(field, raw, "invalid", _("Give a number, e.g. \"10000\"."))]) from None
        if not number.is_finite():
            raise WarningError([error(field, raw, "invalid", _("Give a number, e.g. \"10000\"."))])
        if self.type == "int":
            if number != number.to_integral_value():
                raise WarningError([error(field, raw, "not_whole", _("Give a whole number."))])
            number = Decimal(int(number))
        if self.minimum is not None and number < self.minimum:
            raise WarningError([error(field, raw, "too_small",
                                      _("At least %(n)s.") % {"n": self.minimum})])
        if self.maximum is not None and number > self.maximum:
            raise WarningError([error(field, raw, "too_large",
                                      _("At most %(n)s.") % {"n": self.maximum})])
        return int(number) if self.type == "int" else str(number)

    def value(self, params: dict):
        """The parameter's working value (Decimal, int or code) from a rule's params, the default when unset."""
        raw = params.get(self.name, self.default) if params else self.default
        if self.type == "decimal":
            return Decimal(str(raw))
        if self.type == "int":
            return int(raw)
        return raw


# --- kinds -------------------------------------------------------------------------------------------------------

@dataclass
class Signal:
    """A candidate: the indicator's value for one subject (component, partner, or "" for the area as a whole)."""

    subject: str
    value: Decimal
    explanation: dict


class Kind:
    """An early-warning indicator computed for one area and month. Subclasses define the code, name, unit,
    formula (a message id), parameters, `evaluate` and `series`."""

    code: str = ""
    name: Promise
    unit: str = "%"
    formula: str = ""
    params: tuple[Param, ...] = ()
    subject_dim: str = ""   # the analytics dimension the subject is a code of ("" for none)

    def param(self, rule: RiskRule, name: str):
        return next(p for p in self.params if p.name == name).value(rule.params)

    def evaluate(self, rule: RiskRule, area: PilotArea, period: int) -> list[Signal]:
        raise NotImplementedError

    def series(self, rule: RiskRule, area: PilotArea, subject: str, start: int, end: int
               ) -> dict[int, Decimal | None]:
        """The indicator for `subject` in every month from start to end (None where it is not defined)."""
        raise NotImplementedError

    def explanation(self, inputs: list[dict], baseline: dict | None, **extra) -> dict:
        return {"kind": self.code, "formula": self.formula, "unit": self.unit, "inputs": inputs,
                "baseline": baseline, **extra}


def months(start: int, end: int) -> list[int]:
    out, p = [], start
    while p <= end:
        out.append(p)
        p = previous_period(p, -1)
    return out


def month_end(period: int) -> dt.date:
    year, month = divmod(period, 100)
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def cny_per_usd(period: int) -> tuple[Decimal, int] | None:
    """The USD central parity of the month, else of the latest month before it: (CNY per USD, its period)."""
    from tradepilot.reporting.models import ExchangeRate

    year, month = divmod(period, 100)
    row = (ExchangeRate.objects.filter(currency__code="USD")
           .filter(Q(year__lt=year) | Q(year=year, month__lte=month))
           .order_by("-year", "-month").values_list("cny_per_unit", "year", "month").first())
    if row is None:
        return None
    return row[0], row[1] * 100 + row[2]


def opened_components(area: PilotArea, period: int) -> dict[str, dict]:
    """EBOPS components opened in `area` by the end of the month: component → {"since", "measures"}.

    `measures.implemented_measures_by_component` decides the date (earliest implemented measure touching it);
    the measure codes are listed for the explanation."""
    from tradepilot.governance.measures import implemented_measures_by_component

    last_day = month_end(period)
    opened = {c: since for c, since in implemented_measures_by_component(area).items() if since <= last_day}
    if not opened:
        return {}
    out = {c: {"since": since.isoformat(), "measures": []} for c, since in opened.items()}
    rows = (AreaMeasure.objects.filter(area=area, status=MeasureStatus.IMPLEMENTED, implemented_on__lte=last_day)
            .order_by("measure__order").values_list("measure__code", "measure__industry_zh",
                                                     "measure__ebops_components", "implemented_on"))
    for code, industry, components, when in rows:
        for component in components or []:
            if component in out:
                out[component]["measures"].append({"code": code, "industry": industry,
                                                   "implemented_on": when.isoformat()})
    return out


class ImportSurge(Kind):
    """Imports of an opened EBOPS component in the area, year on year."""

    code = "import_surge"
    name = gettext_lazy("Import surge in an opened sector")
    unit = "%"
    formula = gettext_noop(
        "(imports of the component in the month − imports in the same month of the previous year) ÷ imports in the "
        "same month of the previous year × 100; only components opened by a measure implemented in the area by the "
        "end of the month, and only when the previous year's imports reach the minimum base and come from at least "
        "the minimum number of enterprises")
    params = (Param("min_base_cny", gettext_lazy("Minimum base (CNY)"), "decimal", "10000", minimum=Decimal(0),
                    maximum=Decimal("1e15")),
              # 1 by default: an area's financial-services imports often come from two or three institutions;
              # raise it to ignore swings in one or two enterprises' business.
              Param("min_enterprises", gettext_lazy("Minimum enterprises importing in the base month"), "int", 1,
                    minimum=1, maximum=1000))
    subject_dim = "component"

    def _imports(self, area: PilotArea, component: str, start: int, end: int) -> dict[int, Cell]:
        # A component ("SG") or, when a measure names one, a leaf service ("SI1").
        key = {"components": (component,)} if len(component) == 2 else {"services": (component,)}
        return {int(c.key[0]): c for c in queries.cells(area_filter(area, start, end, direction="M", **key),
                                                        ["period"])}

    def _guard(self, rule: RiskRule, base: Cell | None, base_period: int) -> tuple[bool, Decimal | None, tuple | None]:
        """Whether the base month is broad and large enough (enterprises, amount in CNY at that month's USD
        central parity): (passes, base in CNY, (rate, rate period))."""
        if base is None or base.value <= 0 or base.contributors < self.param(rule, "min_enterprises"):
            return False, None, None  # no base, or too few enterprises behind it
        rate = cny_per_usd(base_period)
        if rate is None:
            log.warning("early warning: no USD rate up to %s, import surge not evaluated", base_period)
            return False, None, None
        base_cny = (base.value * rate[0]).quantize(Decimal("0.01"), ROUND_HALF_UP)
        return base_cny >= self.param(rule, "min_base_cny"), base_cny, rate

    def evaluate(self, rule, area, period):
        opened = opened_components(area, period)
        base_period = previous_period(period, 12)
        signals = []
        for component in sorted(opened):
            found = self._imports(area, component, base_period, period)
            now, base = found.get(period), found.get(base_period)
            passes, base_cny, rate = self._guard(rule, base, base_period)
            if not passes:
                continue
            current = now.value if now is not None else Decimal(0)
            value = round1(pct(current - base.value, base.value))
            inputs = [
                money_input(gettext_noop("Imports of the component in the month"), period, now),
                money_input(gettext_noop("Imports in the same month of the previous year"), base_period, base),
                plain_input(gettext_noop("CNY per USD (central parity)"), rate[0], "CNY", rate[1]),
                {**plain_input(gettext_noop("Previous year's imports in CNY"), base_cny, "CNY", base_period),
                 "confidential": confidential(base)},
                plain_input(gettext_noop("Minimum base"), self.param(rule, "min_base_cny"), "CNY"),
            ]
            baseline = {"label": gettext_noop("Imports in the same month of the previous year"),
                        "period": period_label(base_period), "value": str(base.value), "unit": "USD",
                        "confidential": confidential(base)}
            signals.append(Signal(component, value, self.explanation(
                inputs, baseline, opened_since=opened[component]["since"], measures=opened[component]["measures"])))
        return signals

    def series(self, rule, area, subject, start, end):
        found = self._imports(area, subject, previous_period(start, 12), end)
        out: dict[int, Decimal | None] = {}
        for p in months(start, end):
            base_period = previous_period(p, 12)
            base = found.get(base_period)
            passes, _cny, _rate = self._guard(rule, base, base_period)
            now = found.get(p)
            out[p] = round1(pct((now.value if now else Decimal(0)) - base.value, base.value)) if passes else None
        return out


@dataclass
class ShareMonth:
    foreign: Decimal
    total: Decimal
    foreign_cell: Cell | None
    total_cell: Cell | None

    @property
    def share(self) -> Decimal:
        return pct(self.foreign, self.total)


def _combine(cells: list[Cell]) -> Cell | None:
    """Cells of disjoint enterprise groups (registration types) as one: sums, and the largest single figure."""
    if not cells:
        return None
    return Cell((), sum((c.value for c in cells), Decimal(0)), sum(c.contributors for c in cells),
                max(c.largest for c in cells))


class ForeignShareJump(Kind):
    """The foreign- and HMT-invested enterprises' share of the area's service trade, against its recent average."""

    code = "foreign_share_jump"
    name = gettext_lazy("Jump in the foreign-invested enterprises' share")
    unit = "pp"
    formula = gettext_noop(
        "share of foreign-invested and Hong Kong, Macao or Taiwan-invested enterprises in the area's service trade "
        "(exports + imports) in the month − the average of that share over the previous N months, in percentage "
        "points; the average needs data in at least half of those months, and the month at least the minimum "
        "number of enterprises")
    params = (Param("window", gettext_lazy("Previous months averaged (N)"), "int", 6, minimum=1, maximum=24),
              Param("min_enterprises", gettext_lazy("Minimum reporting enterprises in the month"), "int", 3,
                    minimum=1, maximum=1000))

    def _shares(self, area: PilotArea, start: int, end: int) -> dict[int, ShareMonth]:
        by: dict[int, list[Cell]] = {}
        for c in queries.cells(area_filter(area, start, end), ["period", "registration_type"]):
            by.setdefault(int(c.key[0]), []).append(c)
        out = {}
        for p, cells in by.items():
            total = _combine(cells)
            foreign = _combine([c for c in cells if c.key[1] in FOREIGN_TYPES])
            if total is not None and total.value > 0:
                out[p] = ShareMonth(foreign.value if foreign else Decimal(0), total.value, foreign, total)
        return out

    def _jump(self, shares: dict[int, ShareMonth], period: int, window: int
              ) -> tuple[Decimal, Decimal, list[int]] | None:
        """(change in pp, baseline share, months averaged) or None when not defined."""
        now = shares.get(period)
        previous = [p for p in months(previous_period(period, window), previous_period(period, 1)) if p in shares]
        if now is None or len(previous) * 2 < window:
            return None
        baseline = sum((shares[p].share for p in previous), Decimal(0)) / len(previous)
        return round1(now.share - baseline), baseline, previous

    def evaluate(self, rule, area, period):
        window = self.param(rule, "window")
        shares = self._shares(area, previous_period(period, window), period)
        jump = self._jump(shares, period, window)
        if jump is None or shares[period].total_cell.contributors < self.param(rule, "min_enterprises"):
            return []  # too few enterprises: the share is one or two enterprises' business mix
        value, baseline, previous = jump
        now = shares[period]
        inputs = [
            money_input(gettext_noop("Trade of foreign- and HMT-invested enterprises in the month"), period,
                        now.foreign_cell),
            money_input(gettext_noop("Service trade of the area in the month"), period, now.total_cell),
            plain_input(gettext_noop("Share in the month"), round1(now.share), "%", period),
        ] + [plain_input(gettext_noop("Share in a previous month"), round1(shares[p].share), "%", p) for p in previous]
        baseline_input = {"label": gettext_noop("Average share of the previous months"),
                          "period": f"{period_label(previous[0])} – {period_label(previous[-1])}",
                          "value": str(round1(baseline)), "unit": "%", "confidential": False}
        return [Signal("", value, self.explanation(inputs, baseline_input, window=window))]

    def series(self, rule, area, subject, start, end):
        window, minimum = self.param(rule, "window"), self.param(rule, "min_enterprises")
        shares = self._shares(area, previous_period(start, window), end)
        out: dict[int, Decimal | None] = {}
        for p in months(start, end):
            jump = self._jump(shares, p, window)
            out[p] = jump[0] if jump and shares[p].total_cell.contributors >= minimum else None
        return out


class PartnerConcentration(Kind):
    """The largest partner's share of the area's service imports (or exports) in the month."""

    code = "partner_concentration"
    name = gettext_lazy("Concentration on one partner")
    unit = "%"
    formula = gettext_noop(
        "trade with the largest partner country or region in the month ÷ the area's trade in that direction in the "
        "month × 100; only when at least the minimum number of enterprises traded in that direction")
    params = (Param("direction", gettext_lazy("Direction"), "choice", "M",
                    choices=(("M", gettext_lazy("Imports")), ("X", gettext_lazy("Exports")))),
              Param("min_enterprises", gettext_lazy("Minimum reporting enterprises in the month"), "int", 3,
                    minimum=1, maximum=1000))
    subject_dim = "partner"

    def evaluate(self, rule, area, period):
        direction = self.param(rule, "direction")
        flt = area_filter(area, period, period, direction=direction)
        found = queries.cells(flt)
        total = found[0] if found else None  # distinct enterprises and the largest one, over all partners
        if total is None or total.value <= 0 or total.contributors < self.param(rule, "min_enterprises"):
            return []
        by_partner = queries.cells(flt, ["partner"])
        # The largest partner; equal values go to the first code, so a re-scan picks the same subject.
        top = min(by_partner, key=lambda c: (-c.value, c.key[0]))
        partner = top.key[0]
        value = round1(pct(top.value, total.value))
        base_period = previous_period(period, 12)
        base_flt = area_filter(area, base_period, base_period, direction=direction)
        last_total = queries.total(base_flt)
        last_partner = queries.total(base_flt.with_(partners=(partner,)))
        inputs = [money_input(gettext_noop("Trade with the largest partner in the month"), period, top),
                  money_input(gettext_noop("Trade with all partners in the month"), period, total),
                  plain_input(gettext_noop("Partners traded with in the month"), len(by_partner), "count", period),
                  plain_input(gettext_noop("Reporting enterprises in the month"), total.contributors, "count", period)]
        baseline = None
        if last_total > 0:
            baseline = {"label": gettext_noop("The same partner's share in the same month of the previous year"),
                        "period": period_label(base_period), "value": str(round1(pct(last_partner, last_total))),
                        "unit": "%", "confidential": False}
        return [Signal(partner, value, self.explanation(inputs, baseline, direction=direction))]

    def series(self, rule, area, subject, start, end):
        direction = self.param(rule, "direction")
        minimum = self.param(rule, "min_enterprises")
        totals = {int(c.key[0]): c for c in queries.cells(
            area_filter(area, start, end, direction=direction), ["period"])}
        partner = {int(c.key[0]): c.value for c in queries.cells(
            area_filter(area, start, end, direction=direction, partners=(subject,)), ["period"])}
        out: dict[int, Decimal | None] = {}
        for p in months(start, end):
            total = totals.get(p)
            ok = total is not None and total.value > 0 and total.contributors >= minimum
            out[p] = round1(pct(partner.get(p, Decimal(0)), total.value)) if ok else None
        return out
