"""Enterprise-level data-quality anomalies for reviewers, computed from the analytics fact table.

For one month, every enterprise's figures are compared with its own history in the store:

* ``seasonal_outlier``: the month's total (exports + imports, USD) against the enterprise's previous
  `HISTORY_MONTHS` months, as a seasonal median/MAD robust z-score (`reporting.validation.robust_z`, the rule
  the report form's outlier warnings use), flagged when |z| > `Z_THRESHOLD`;
* ``sudden_jump``: the month-on-month change above `JUMP_UP` (+200 %) or below `JUMP_DOWN` (−70 %);
* ``partner_shift`` / ``category_shift``: the total-variation distance between the month's distribution over
  partner countries (resp. EBOPS main components) and the pooled distribution of the previous
  `SHIFT_BASELINE_MONTHS` months, flagged above `SHIFT_THRESHOLD`;
* ``missing_month``: the enterprise has counted reports in the previous `MISSING_LOOKBACK_MONTHS` months but
  none for this month;
* ``reporting_gaps``: it reported this month, but months are missing in the previous `MISSING_LOOKBACK_MONTHS`
  (only months after its first report in the store, and only months the store has any data for).

The value-based rules (the first three) ignore enterprises below `MIN_USD` on both sides of the comparison, so
that tiny enterprises whose figures swing by a few thousand dollars do not flood the list.

SQL pulls per enterprise × period totals and per enterprise × period × partner / component sums (portable SQL
with `%s` parameters, built with `queries.Filter.where` like every other analytics query); the statistics are
computed here in Python: floats for scores, `Decimal` for every money figure shown. A counted nil return (no
transactions) has no fact rows; it is read from the reports and counts as a month with value 0.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradepilot.analytics.engine import Engine, get_engine
from tradepilot.analytics.queries import Filter, money
from tradepilot.analytics.schema import LINES
from tradepilot.reporting.periods import Period
from tradepilot.reporting.validation import robust_z

# --- thresholds (module constants; override per call with `Thresholds`) -----------------------------------------

#: Robust z-score (seasonal median/MAD on the log scale) above which a month's total is an outlier.
Z_THRESHOLD = 3.5
#: Months of history the seasonal z-score looks back over (covers the same month of the previous years).
HISTORY_MONTHS = 36
#: Fewer months of history than this and the z-score says nothing.
MIN_HISTORY_MONTHS = 6
#: Month-on-month relative change flagged as a sudden jump: above +200 % …
JUMP_UP = 2.0
#: … or below −70 %.
JUMP_DOWN = -0.7
#: Materiality: value-based rules ignore a comparison where both the month's value and its baseline (previous
#: month, typical value, or the month itself for shifts) are below this many US dollars.
MIN_USD = Decimal("50000")
#: Total-variation distance (½ Σ |p − q|, 0 … 1) between the month's partner or component distribution and the
#: previous months' pooled distribution above which the mix has shifted.
SHIFT_THRESHOLD = 0.5
#: Months pooled into the baseline distribution of the shift rules …
SHIFT_BASELINE_MONTHS = 12
#: … of which at least this many must have been reported.
SHIFT_MIN_MONTHS = 3
#: Look-back of the missing-month rules: an enterprise with a counted report in these months is expected to
#: report this month, and missing months inside it are gaps.
MISSING_LOOKBACK_MONTHS = 12

#: Score (a multiple of the rule's threshold, ≥ 1 when flagged) from which an anomaly is high / medium severity.
HIGH_SCORE = 2.0
MEDIUM_SCORE = 1.5
#: Upper bound of a score (an infinite z-score or a jump from zero would otherwise not sort).
MAX_SCORE = 10.0


@dataclass(frozen=True)
class Thresholds:
    z: float = Z_THRESHOLD
    history_months: int = HISTORY_MONTHS
    min_history_months: int = MIN_HISTORY_MONTHS
    jump_up: float = JUMP_UP
    jump_down: float = JUMP_DOWN
    min_usd: Decimal = MIN_USD
    shift: float = SHIFT_THRESHOLD
    shift_baseline_months: int = SHIFT_BASELINE_MONTHS
    shift_min_months: int = SHIFT_MIN_MONTHS
    missing_lookback_months: int = MISSING_LOOKBACK_MONTHS


DEFAULT_THRESHOLDS = Thresholds()

# --- kinds -----------------------------------------------------------------------------------------------------

SEASONAL = "seasonal_outlier"
JUMP = "sudden_jump"
PARTNER_SHIFT = "partner_shift"
CATEGORY_SHIFT = "category_shift"
MISSING = "missing_month"
GAPS = "reporting_gaps"

KINDS = {
    SEASONAL: gettext_lazy("Seasonal outlier"),
    JUMP: gettext_lazy("Sudden jump"),
    PARTNER_SHIFT: gettext_lazy("Partner shift"),
    CATEGORY_SHIFT: gettext_lazy("Category shift"),
    MISSING: gettext_lazy("Missing this month"),
    GAPS: gettext_lazy("Gaps in the last 12 months"),
}
SEVERITIES = {
    "high": gettext_lazy("High"),
    "medium": gettext_lazy("Medium"),
    "low": gettext_lazy("Low"),
}
STAGES = ("preliminary", "official")


@dataclass(frozen=True)
class Anomaly:
    enterprise_id: int
    enterprise_name: str
    uscc: str
    region_name: str
    period: int                      # yyyymm
    kind: str                        # a key of KINDS
    score: float                     # multiple of the rule's threshold (≥ 1), capped at MAX_SCORE
    value: Decimal | None = None     # the month's total, USD
    baseline: Decimal | None = None  # what it is compared with, USD (previous month, typical value, average)
    change: float | None = None      # value / baseline − 1
    statistic: float | None = None   # z-score, distance, or number of months, depending on the kind
    detail: str = ""
    report_id: int | None = None     # the period's report (the counted version, else the current one)
    report_status: str = ""
    figures: dict = field(default_factory=dict, compare=False)

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])

    @property
    def severity(self) -> str:
        return "high" if self.score >= HIGH_SCORE else "medium" if self.score >= MEDIUM_SCORE else "low"

    @property
    def severity_label(self) -> str:
        return str(SEVERITIES[self.severity])

    @property
    def period_label(self) -> str:
        return f"{self.period // 100}-{self.period % 100:02d}"

    @property
    def change_pct(self) -> float | None:
        return None if self.change is None or math.isinf(self.change) else round(self.change * 100, 1)

    @property
    def report_url(self) -> str:
        return reverse("reporting:report", args=[self.report_id]) if self.report_id else ""

    @property
    def report_status_label(self) -> str:
        from tradepilot.reporting.models import Status

        return str(Status(self.report_status).label) if self.report_status in Status.values else ""


# --- data ------------------------------------------------------------------------------------------------------

def _to_period(value: int) -> Period:
    return Period(value // 100, value % 100)


def _yyyymm(p: Period) -> int:
    return p.year * 100 + p.month


@dataclass
class _History:
    """Per enterprise: period → total cents and period → counted report id (fact rows), plus nil returns."""

    totals: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    reports: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))
    periods: set[int] = field(default_factory=set)   # periods with any counted line in scope

    def value(self, enterprise_id: int, period: int) -> int | None:
        """Total cents of a counted report, 0 for a counted nil return, None when nothing counts."""
        return self.totals.get(enterprise_id, {}).get(period)


def _where(stage: str, start: int, end: int, region_path: str | None) -> tuple[str, list]:
    return Filter(start=start, end=end, stage=stage, region_path=region_path).where(LINES)


def _fetch_totals(engine: Engine, stage: str, start: int, end: int, region_path: str | None) -> _History:
    where, params = _where(stage, start, end, region_path)
    rows = engine.fetch(
        f"SELECT enterprise_id, period, SUM(usd_cents), MAX(report_id) FROM {LINES.table} WHERE {where} "
        f"GROUP BY enterprise_id, period", params)
    history = _History()
    for ent, period, cents, report_id in rows:
        ent, period = int(ent), int(period)
        history.totals[ent][period] = int(cents or 0)
        history.reports[ent][period] = int(report_id)
        history.periods.add(period)
    return history


_SHARE_DIMENSIONS = frozenset({"partner", "component"})


def _fetch_shares(engine: Engine, dimension: str, stage: str, start: int, end: int, period: int,
                  region_path: str | None) -> dict[int, dict[int, dict[str, int]]]:
    """enterprise → period → code → cents over [start, end], for the enterprises with lines in `period`."""
    if dimension not in _SHARE_DIMENSIONS:
        raise ValueError(f"unknown dimension: {dimension}")
    where, params = _where(stage, start, end, region_path)
    current, current_params = _where(stage, period, period, region_path)
    rows = engine.fetch(
        f"SELECT enterprise_id, period, {dimension}, SUM(usd_cents) FROM {LINES.table} WHERE {where} "
        f"AND enterprise_id IN (SELECT enterprise_id FROM {LINES.table} WHERE {current}) "
        f"GROUP BY enterprise_id, period, {dimension}", params + current_params)
    out: dict[int, dict[int, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for ent, p, code, cents in rows:
        out[int(ent)][int(p)][code] = int(cents or 0)
    return out


def _statuses(stage: str):
    from tradepilot.analytics.store import OFFICIAL_STATUSES, PRELIMINARY_STATUSES

    return OFFICIAL_STATUSES if stage == "official" else PRELIMINARY_STATUSES


def _add_nil_returns(history: _History, stage: str, start: int, end: int, region_path: str | None) -> None:
    """Counted nil returns (the version that counts at `stage` has no transactions) become months worth 0."""
    from tradepilot.reporting.models import Report, ReportForm

    statuses = _statuses(stage)
    base = Report.objects.filter(form__code=ReportForm.Code.MONTHLY, status__in=statuses,
                                 year__gte=start // 100, year__lte=end // 100, month__gt=0)
    if region_path:
        base = base.filter(enterprise__region__path__startswith=region_path)
    candidates = set(base.filter(nil_return=True).values_list("enterprise_id", flat=True))
    if not candidates:
        return
    latest: dict[tuple[int, int], tuple[int, bool, int]] = {}
    for rid, ent, y, m, version, nil in base.filter(enterprise_id__in=candidates).values_list(
            "pk", "enterprise_id", "year", "month", "version", "nil_return"):
        p = y * 100 + m
        if start <= p <= end and version > latest.get((ent, p), (0, False, 0))[0]:
            latest[(ent, p)] = (version, nil, rid)
    for (ent, p), (_version, nil, rid) in latest.items():
        if nil and p not in history.totals.get(ent, {}):
            history.totals[ent][p] = 0
            history.reports[ent][p] = rid


# --- rules -----------------------------------------------------------------------------------------------------

def _capped(score: float) -> float:
    return MAX_SCORE if math.isnan(score) or score > MAX_SCORE else score


def _fmt(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _seasonal(series: dict[int, int], period: Period, t: Thresholds) -> dict | None:
    value = money(series[_yyyymm(period)])
    history = [(p, money(series[_yyyymm(p)])) for p in (period.shift(-i) for i in range(1, t.history_months + 1))
               if _yyyymm(p) in series]
    if len(history) < t.min_history_months:
        return None
    scored = robust_z(value, history, period.month)
    if scored is None:
        return None
    z, typical_f = scored
    typical = Decimal(f"{max(typical_f, 0.0):.2f}")
    if abs(z) <= t.z or max(value, typical) < t.min_usd:
        return None
    z_text = "∞" if math.isinf(z) else f"{z:.1f}"
    return {
        "score": _capped(abs(z) / t.z), "value": value, "baseline": typical,
        "change": float(value / typical - 1) if typical else math.inf, "statistic": z,
        "detail": _("%(value)s against a typical %(typical)s for this month (robust z = %(z)s, %(n)d months of "
                    "history).") % {"value": _fmt(value), "typical": _fmt(typical), "z": z_text, "n": len(history)},
        "figures": {"z": z, "history_months": len(history)},
    }


def _jump(series: dict[int, int], period: Period, t: Thresholds) -> dict | None:
    previous = series.get(_yyyymm(period.previous))
    if previous is None:
        return None
    value, before = money(series[_yyyymm(period)]), money(previous)
    if max(value, before) < t.min_usd:
        return None
    if before == 0:
        change = math.inf
        score = MAX_SCORE
    else:
        change = float(value / before - 1)
        if t.jump_down <= change <= t.jump_up:
            return None
        ratio = float(value / before)
        if change > 0:
            score = math.log(ratio) / math.log1p(t.jump_up)
        else:
            score = MAX_SCORE if ratio == 0 else math.log(ratio) / math.log1p(t.jump_down)
    change_text = "∞" if math.isinf(change) else f"{change * 100:+.0f}%"
    return {
        "score": _capped(score), "value": value, "baseline": before, "change": change, "statistic": change,
        "detail": _("%(value)s after %(before)s in %(previous)s (%(change)s month on month).") % {
            "value": _fmt(value), "before": _fmt(before), "previous": str(period.previous), "change": change_text},
        "figures": {"previous_period": str(period.previous)},
    }


def _distribution(sums: Iterable[dict[str, int]]) -> tuple[dict[str, float], int]:
    pooled: dict[str, int] = defaultdict(int)
    for by_code in sums:
        for code, cents in by_code.items():
            pooled[code] += cents
    total = sum(v for v in pooled.values() if v > 0)
    if total <= 0:
        return {}, 0
    return {code: max(v, 0) / total for code, v in pooled.items()}, total


def total_variation(p: dict[str, float], q: dict[str, float]) -> float:
    """½ Σ |p − q| over the union of the categories: 0 for equal distributions, 1 for disjoint ones."""
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))


def _shift(by_period: dict[int, dict[str, int]], period: Period, t: Thresholds, kind: str) -> dict | None:
    current, current_total = _distribution([by_period.get(_yyyymm(period), {})])
    months = [by_period[_yyyymm(p)] for p in (period.shift(-i) for i in range(1, t.shift_baseline_months + 1))
              if _yyyymm(p) in by_period]
    if not current or len(months) < t.shift_min_months:
        return None
    baseline, baseline_total = _distribution(months)
    if not baseline:
        return None
    value = money(current_total)
    average = (money(baseline_total) / len(months)).quantize(Decimal("0.01"))
    if max(value, average) < t.min_usd:
        return None
    distance = total_variation(current, baseline)
    if distance <= t.shift:
        return None
    # The category whose share moved most, to say what changed.
    code = max(set(current) | set(baseline), key=lambda k: (abs(current.get(k, 0) - baseline.get(k, 0)), k))
    before, now = baseline.get(code, 0.0), current.get(code, 0.0)
    what = _("partner") if kind == PARTNER_SHIFT else _("service component")
    return {
        "score": _capped(distance / t.shift), "value": value, "baseline": average,
        "change": float(value / average - 1) if average else None, "statistic": distance,
        "detail": _("Distribution distance %(d).2f against the previous %(n)d months; largest move: %(what)s "
                    "%(code)s %(before).0f%% → %(now).0f%%.") % {
            "d": distance, "n": len(months), "what": what, "code": code, "before": before * 100, "now": now * 100},
        "figures": {"distance": distance, "code": code, "share_before": before, "share_now": now,
                    "baseline_months": len(months)},
    }


def _missing_months(series: dict[int, int], period: Period, t: Thresholds, store_periods: set[int],
                    first_seen: int) -> list[Period]:
    """Months of the look-back window without a counted report, after the enterprise's first report in the store
    and among the months the store has data for (a month nobody reported is not one enterprise's gap)."""
    window = [period.shift(-i) for i in range(t.missing_lookback_months, 0, -1)]
    return [p for p in window if _yyyymm(p) >= first_seen and _yyyymm(p) in store_periods
            and _yyyymm(p) not in series]


def _missing(series: dict[int, int], period: Period, t: Thresholds) -> dict | None:
    window = [period.shift(-i) for i in range(1, t.missing_lookback_months + 1)]
    reported = [p for p in window if _yyyymm(p) in series]
    if not reported:
        return None
    average = (sum((money(series[_yyyymm(p)]) for p in reported), Decimal(0)) / len(reported)
               ).quantize(Decimal("0.01"))
    last = max(reported)
    regularity = len(reported) / t.missing_lookback_months
    return {
        "score": 1.0 + 0.5 * regularity, "value": None, "baseline": average, "change": None,
        "statistic": float(len(reported)),
        "detail": _("No report counted for %(period)s; reported %(n)d of the previous %(m)d months, last in "
                    "%(last)s (average %(avg)s).") % {"period": str(period), "n": len(reported),
                                                     "m": t.missing_lookback_months, "last": str(last),
                                                     "avg": _fmt(average)},
        "figures": {"months_reported": len(reported), "last_reported": str(last)},
    }


def _gaps(series: dict[int, int], period: Period, t: Thresholds, store_periods: set[int]) -> dict | None:
    first_seen = min(series)
    gaps = _missing_months(series, period, t, store_periods, first_seen)
    if not gaps:
        return None
    return {
        "score": min(1.0 + 0.25 * (len(gaps) - 1), MAX_SCORE), "value": money(series[_yyyymm(period)]),
        "baseline": None, "change": None, "statistic": float(len(gaps)),
        "detail": _("%(n)d month(s) without a counted report in the previous %(m)d: %(months)s.") % {
            "n": len(gaps), "m": t.missing_lookback_months, "months": ", ".join(str(p) for p in gaps)},
        "figures": {"missing_periods": [str(p) for p in gaps]},
    }


# --- the list --------------------------------------------------------------------------------------------------

def find_anomalies(period: int, *, region_path: str | None, stage: str = "preliminary", engine: Engine | None = None,
                   thresholds: Thresholds = DEFAULT_THRESHOLDS) -> list[Anomaly]:
    """Anomalies of the month `period` (yyyymm) for the enterprises in `region_path` (None = national), from
    the report versions that count at `stage`; most severe first."""
    from tradepilot.enterprises.models import Enterprise
    from tradepilot.reporting.models import Report, ReportForm

    if stage not in STAGES:
        raise ValueError(f"unknown stage: {stage}")
    target = _to_period(int(period))
    if not 1 <= target.month <= 12:
        raise ValueError(f"not a month: {period}")
    t = thresholds
    engine = engine or get_engine()
    month = _yyyymm(target)
    lookback = max(t.history_months, t.shift_baseline_months, t.missing_lookback_months)
    start = _yyyymm(target.shift(-lookback))

    history = _fetch_totals(engine, stage, start, month, region_path)
    _add_nil_returns(history, stage, start, month, region_path)
    found: list[tuple[int, str, dict]] = []
    for ent, series in history.totals.items():
        if month in series:
            checks = ((SEASONAL, _seasonal(series, target, t)), (JUMP, _jump(series, target, t)),
                      (GAPS, _gaps(series, target, t, history.periods)))
        else:
            checks = ((MISSING, _missing(series, target, t)),)
        found.extend((ent, kind, result) for kind, result in checks if result)

    shift_start = _yyyymm(target.shift(-t.shift_baseline_months))
    for kind, dimension in ((PARTNER_SHIFT, "partner"), (CATEGORY_SHIFT, "component")):
        shares = _fetch_shares(engine, dimension, stage, shift_start, month, month, region_path)
        for ent, by_period in shares.items():
            result = _shift(by_period, target, t, kind)
            if result:
                found.append((ent, kind, result))

    ids = {ent for ent, _k, _r in found}
    enterprises = {e.pk: e for e in Enterprise.objects.filter(pk__in=ids).select_related("region")}
    # An inactive enterprise is not expected to report.
    found = [(ent, kind, r) for ent, kind, r in found
             if ent in enterprises and (kind != MISSING or enterprises[ent].is_active)]
    # The period's report: the version counted in the store, else the current one (a draft, a returned one).
    report_ids = {ent: history.reports[ent][month] for ent, _k, _r in found if month in history.reports.get(ent, {})}
    current = dict(Report.objects.filter(enterprise_id__in=ids - set(report_ids), form__code=ReportForm.Code.MONTHLY,
                                         year=target.year, month=target.month, is_current=True)
                   .values_list("enterprise_id", "pk"))
    report_ids.update(current)
    statuses = dict(Report.objects.filter(pk__in=list(report_ids.values())).values_list("pk", "status"))

    out = []
    for ent, kind, r in found:
        e = enterprises[ent]
        rid = report_ids.get(ent)
        out.append(Anomaly(
            enterprise_id=ent, enterprise_name=e.name, uscc=e.uscc, region_name=e.region.name, period=month,
            kind=kind, score=round(float(r["score"]), 4), value=r["value"], baseline=r["baseline"],
            change=r["change"], statistic=r["statistic"], detail=r["detail"], report_id=rid,
            report_status=statuses.get(rid, "") if rid else "", figures=r["figures"],
        ))
    kind_order = list(KINDS)
    out.sort(key=lambda a: (-a.score, a.enterprise_name, a.enterprise_id, kind_order.index(a.kind)))
    return out
