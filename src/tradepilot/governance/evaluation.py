"""Performance evaluation of the pilot areas (绩效评价与考核, 附件1 三(一)): indicator systems, scoring, annual
runs.

An `IndicatorSystem` holds `EvaluationIndicator`s: where the value comes from (`source`, a name in
`evaluation_sources.SOURCES`), a weight (Decimal; a system's weights sum to 100, checked whenever indicators are
saved and before a run) and a scoring method:

- threshold: `{"steps": [[bound, score], ...]}`, bounds ascending. Higher is better: the score of the highest bound
  the value reaches (0 below the first). Lower is better: the score of the lowest bound the value stays within
  (0 above the last).
- linear: `{"low": x0, "high": x1}`, x0 < x1: 0 at x0 and 100 at x1 (reversed when lower is better), clamped to
  0–100.
- rank: among the areas with a value, the best scores 100 and the worst 0, linear in the rank; tied areas share
  the better rank and its score; a lone area scores 100.

No value (no data) scores 0 and says so. Scores and weighted scores (score × weight ÷ 100) are rounded half-up to
two places; an area's total is the sum of its weighted scores; areas are ranked by total, ties sharing the rank.

`run_evaluation(system, year, user)` computes every area of the system's round and stores the run (with a
snapshot of the system, so later edits do not rewrite it), each area's result and each score with its
explanation (value, inputs, formula, how the score was reached). Editing indicators and running are the
ministry's; the changes are audited.

Reading (`check_reader`): the ministry, auditors, member departments (agencies) and bureaus read runs and
rankings. The ranking table (area, total, rank) of a run is shown to every reader in full, so a bureau sees where
its area stands among all areas; the drill-down to an area's scores, values and inputs (page, API, and the detail
sheet of the exports) is limited to the areas in the reader's scope (`core.scoping.scope_areas` on
`EvaluationResult`): everything for the ministry, auditors and agencies, the areas of its region subtree for a
bureau. Enterprise users and anonymous users read nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tradepilot.core import audit
from tradepilot.core.models import PilotArea, PilotRound, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import scope_areas
from tradepilot.governance import common
from tradepilot.governance.common import LocatedError, Text, error, render_stored
from tradepilot.governance.evaluation_sources import (
    SOURCE_INFO,
    SOURCES,
    Explained,
    SourceContext,
)
from tradepilot.governance.models import (
    EvaluationIndicator,
    EvaluationResult,
    EvaluationRun,
    EvaluationScore,
    IndicatorSystem,
)

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
VALUE_PLACES = Decimal("0.0001")
DATA_DIR = Path(__file__).resolve().parent / "data" / "evaluation"
Method = EvaluationIndicator.Method


class EvaluationError(LocatedError):
    """A refused change or run (400): `errors` name the field (and row) and the reason."""

    def __init__(self, message: str, code: str = "invalid", errors: list | None = None):
        super().__init__(errors or [], message=message, code=code)


# --- who may do what -------------------------------------------------------------------------------------------

def is_manager(user) -> bool:
    return role_of(user) == Role.MINISTRY


def check_manager(user) -> None:
    if not is_manager(user):
        raise PermissionDenied(_("Only the ministry edits indicator systems and runs evaluations."))


def check_reader(user) -> None:
    common.check_reader(user, _("Evaluation results are for the ministry, departments, bureaus and auditors."))


def drillable_results(user, run: EvaluationRun) -> QuerySet[EvaluationResult]:
    """The results of `run` whose scores the user may open (see the module docstring)."""
    return scope_areas(user, EvaluationResult.objects.filter(run=run))


# --- numbers ---------------------------------------------------------------------------------------------------

def q2(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def plain(value: Decimal | None) -> str:
    """A Decimal without exponent or trailing zeros: 60.00 → "60", 0.50 → "0.5"."""
    if value is None:
        return "—"
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def parse_decimal(raw, field: str, *, row: int | None = None) -> Decimal:
    if isinstance(raw, bool) or raw is None or (isinstance(raw, str) and not raw.strip()):
        raise EvaluationError(_("Invalid value."), errors=[error(field, raw, "required", _("Give a number."), row)])
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, float) else Decimal(repr(raw))
    except (InvalidOperation, ValueError):
        raise EvaluationError(_("Invalid value."), errors=[
            error(field, raw, "invalid", _("Not a number."), row)]) from None
    if not value.is_finite():
        raise EvaluationError(_("Invalid value."), errors=[error(field, raw, "invalid", _("Not a number."), row)])
    return value


# --- scoring methods -------------------------------------------------------------------------------------------

@dataclass
class Scored:
    score: Decimal
    how: Text


def score_threshold(value: Decimal, params: dict, higher_is_better: bool = True) -> Scored:
    steps = [(Decimal(str(b)), Decimal(str(s))) for b, s in params["steps"]]
    if higher_is_better:
        reached = [(b, s) for b, s in steps if value >= b]
        if not reached:
            return Scored(Decimal(0), Text(gettext_noop("%(value)s is below the first threshold %(bound)s: score 0"),
                                           {"value": plain(value), "bound": plain(steps[0][0])}))
        bound, score = reached[-1]
        return Scored(q2(score), Text(gettext_noop("%(value)s reaches the threshold %(bound)s: score %(score)s"),
                                      {"value": plain(value), "bound": plain(bound), "score": plain(score)}))
    within = [(b, s) for b, s in steps if value <= b]
    if not within:
        return Scored(Decimal(0), Text(gettext_noop("%(value)s is above the last threshold %(bound)s: score 0"),
                                       {"value": plain(value), "bound": plain(steps[-1][0])}))
    bound, score = within[0]
    return Scored(q2(score), Text(gettext_noop("%(value)s is within the threshold %(bound)s: score %(score)s"),
                                  {"value": plain(value), "bound": plain(bound), "score": plain(score)}))


def score_linear(value: Decimal, params: dict, higher_is_better: bool = True) -> Scored:
    low, high = Decimal(str(params["low"])), Decimal(str(params["high"]))
    raw = (value - low) / (high - low) * HUNDRED if higher_is_better else (high - value) / (high - low) * HUNDRED
    score = q2(min(max(raw, Decimal(0)), HUNDRED))
    args = {"value": plain(value), "low": plain(low), "high": plain(high), "score": plain(score)}
    if higher_is_better:
        how = gettext_noop("(%(value)s − %(low)s) ÷ (%(high)s − %(low)s) × 100, within 0–100: score %(score)s")
    else:
        how = gettext_noop("(%(high)s − %(value)s) ÷ (%(high)s − %(low)s) × 100, within 0–100: score %(score)s")
    return Scored(score, Text(how, args))


def score_ranks(values: dict, higher_is_better: bool = True) -> dict:
    """key → Scored for every key with a value (keys without one are left out: they score 0 as "no data")."""
    present = {k: v for k, v in values.items() if v is not None}
    ordered = sorted(present.values(), reverse=higher_is_better)
    n = len(ordered)
    out = {}
    for key, value in present.items():
        rank = ordered.index(value) + 1  # ties share the better rank
        score = HUNDRED if n == 1 else q2(Decimal(n - rank) / Decimal(n - 1) * HUNDRED)
        how = gettext_noop("Rank %(rank)s of %(n)s areas with data: (%(n)s − %(rank)s) ÷ (%(n)s − 1) × 100 = "
                           "score %(score)s")
        out[key] = Scored(score, Text(how, {"rank": rank, "n": n, "score": plain(score)}))
    return out


def competition_ranks(totals: dict) -> dict:
    """key → rank by total, highest first; equal totals share the rank (1, 1, 3)."""
    ordered = sorted(totals.values(), reverse=True)
    return {key: ordered.index(total) + 1 for key, total in totals.items()}


# --- validating an indicator -----------------------------------------------------------------------------------

MAX_STEPS = 20


def clean_params(method: str, params) -> dict:
    """The method's parameters, checked and normalised (numbers as strings of exact decimals)."""
    if params in (None, ""):
        params = {}
    if not isinstance(params, dict):
        raise EvaluationError(_("Invalid parameters."), errors=[
            error("params", params, "invalid", _("Give the parameters as an object."))])
    if method == Method.RANK:
        return {}
    if method == Method.LINEAR:
        errors, bounds = [], {}
        for key in ("low", "high"):
            try:
                bounds[key] = parse_decimal(params.get(key), f"params.{key}")
            except EvaluationError as exc:
                errors += exc.errors
        if not errors and bounds["low"] >= bounds["high"]:
            errors.append(error("params.high", params.get("high"), "order",
                                _("The upper bound must be greater than the lower bound.")))
        if errors:
            raise EvaluationError(_("Invalid parameters."), errors=errors)
        return {"low": plain(bounds["low"]), "high": plain(bounds["high"])}
    if method == Method.THRESHOLD:
        steps = params.get("steps")
        if not isinstance(steps, list) or not steps:
            raise EvaluationError(_("Invalid parameters."), errors=[
                error("params.steps", steps, "required", _("Give at least one step [bound, score]."))])
        if len(steps) > MAX_STEPS:
            raise EvaluationError(_("Invalid parameters."), errors=[
                error("params.steps", len(steps), "too_many", _("At most %(n)s steps.") % {"n": MAX_STEPS})])
        errors, out, previous = [], [], None
        for i, step in enumerate(steps, start=1):
            if not isinstance(step, (list, tuple)) or len(step) != 2:
                errors.append(error("params.steps", step, "invalid", _("Each step is a pair [bound, score]."), i))
                continue
            try:
                bound = parse_decimal(step[0], "params.steps.bound", row=i)
                score = parse_decimal(step[1], "params.steps.score", row=i)
            except EvaluationError as exc:
                errors += exc.errors
                continue
            if not Decimal(0) <= score <= HUNDRED:
                errors.append(error("params.steps.score", step[1], "range", _("A score lies between 0 and 100."), i))
            if previous is not None and bound <= previous:
                errors.append(error("params.steps.bound", step[0], "order",
                                    _("Bounds must be in ascending order."), i))
            previous = bound
            out.append([plain(bound), plain(score)])
        if errors:
            raise EvaluationError(_("Invalid parameters."), errors=errors)
        return {"steps": out}
    raise EvaluationError(_("Invalid method."), errors=[
        error("method", method, "invalid", _("Choose threshold, linear or rank."))])


FIELDS = ("code", "name_zh", "name_en", "group", "source", "weight", "method", "params", "higher_is_better", "order")


def snapshot(ind: EvaluationIndicator) -> dict:
    return {"code": ind.code, "name_zh": ind.name_zh, "name_en": ind.name_en, "group": ind.group,
            "source": ind.source, "weight": plain(ind.weight), "method": ind.method, "params": ind.params,
            "higher_is_better": ind.higher_is_better, "order": ind.order}


def clean_indicator(system: IndicatorSystem, data: dict, instance: EvaluationIndicator | None = None) -> dict:
    """The indicator's fields from `data` (for an edit: the fields present, over the current ones), checked.
    Raises EvaluationError listing every bad field."""
    current = snapshot(instance) if instance is not None else {
        "code": "", "name_zh": "", "name_en": "", "group": "", "source": "", "weight": None, "method": "",
        "params": {}, "higher_is_better": True, "order": None}
    merged = {**current, **{k: v for k, v in data.items() if k in FIELDS}}
    errors: list[dict] = []
    out: dict = {}

    code = str(merged["code"] or "").strip()
    if not code:
        errors.append(error("code", code, "required", _("Give a code.")))
    elif len(code) > 32 or not all(c.isalnum() or c in "_-" for c in code) or not code.isascii():
        errors.append(error("code", code, "invalid", _("At most 32 letters, digits, '-' or '_'.")))
    elif system.indicators.filter(code=code).exclude(pk=getattr(instance, "pk", None)).exists():
        errors.append(error("code", code, "duplicate", _("The system already has an indicator with this code.")))
    out["code"] = code

    for name, limit, required in (("name_zh", 100, True), ("name_en", 100, False), ("group", 32, False)):
        text = str(merged[name] or "").strip()
        if required and not text:
            errors.append(error(name, text, "required", _("This field is required.")))
        elif len(text) > limit:
            errors.append(error(name, text, "too_long", _("At most %(n)s characters.") % {"n": limit}))
        out[name] = text

    src = str(merged["source"] or "").strip()
    if src not in SOURCES:
        errors.append(error("source", src, "invalid", _("Unknown source; choose one of: %(names)s.")
                            % {"names": ", ".join(SOURCES)}))
    out["source"] = src

    try:
        weight = parse_decimal(merged["weight"], "weight")
        if weight <= 0 or weight > HUNDRED:
            errors.append(error("weight", merged["weight"], "range", _("A weight lies above 0 and at most 100.")))
        elif weight != weight.quantize(CENT):
            errors.append(error("weight", merged["weight"], "precision", _("At most two decimal places.")))
        out["weight"] = weight
    except EvaluationError as exc:
        errors += exc.errors

    method = str(merged["method"] or "").strip()
    hib = merged["higher_is_better"]
    if not isinstance(hib, bool):
        hib = str(hib).strip().lower() in ("1", "true", "on", "yes")
    out["higher_is_better"] = hib
    if method not in Method.values:
        errors.append(error("method", method, "invalid", _("Choose threshold, linear or rank.")))
    else:
        try:
            out["params"] = clean_params(method, merged["params"])
        except EvaluationError as exc:
            errors += exc.errors
    out["method"] = method

    order = merged["order"]
    if order in (None, ""):
        order = (max(system.indicators.values_list("order", flat=True), default=0) + 1) if instance is None else 0
    try:
        order = int(order)
        if not 0 <= order <= 32767:
            raise ValueError
    except (TypeError, ValueError):
        errors.append(error("order", merged["order"], "invalid", _("Give a whole number from 0.")))
    out["order"] = order
    if errors:
        raise EvaluationError(_("The indicator was not saved."), errors=errors)
    return out


def clean_weights(system: IndicatorSystem, weights: dict | None, *, exclude: str | None = None) -> dict:
    """Other indicators' new weights, by code: {code: Decimal}."""
    out = {}
    errors = []
    codes = set(system.indicators.values_list("code", flat=True))
    for code, raw in (weights or {}).items():
        field = f"weights.{code}"
        if code not in codes or code == exclude:
            errors.append(error(field, code, "unknown", _("No other indicator of the system has this code.")))
            continue
        try:
            value = parse_decimal(raw, field)
        except EvaluationError as exc:
            errors += exc.errors
            continue
        if value <= 0 or value > HUNDRED:
            errors.append(error(field, raw, "range", _("A weight lies above 0 and at most 100.")))
        elif value != value.quantize(CENT):
            errors.append(error(field, raw, "precision", _("At most two decimal places.")))
        out[code] = value
    if errors:
        raise EvaluationError(_("The weights were not saved."), errors=errors)
    return out


def weight_sum(system: IndicatorSystem) -> Decimal:
    return sum((i.weight for i in system.indicators.all()), Decimal(0))


def check_weights(system: IndicatorSystem) -> None:
    total = weight_sum(system)
    if total != HUNDRED:
        raise EvaluationError(
            _("The weights of the system sum to %(sum)s; they must sum to 100.") % {"sum": plain(total)},
            code="weights",
            errors=[error("weight", plain(total), "sum", _("The weights must sum to 100 (now %(sum)s).")
                          % {"sum": plain(total)})])


def _apply_weights(user, system: IndicatorSystem, weights: dict, reason: str) -> None:
    for ind in system.indicators.filter(code__in=list(weights)):
        if ind.weight != weights[ind.code]:
            old = snapshot(ind)
            ind.weight = weights[ind.code]
            ind.save(update_fields=["weight"])
            audit.record(user, "evaluation_indicator:update", ind, changes=audit.diff(old, snapshot(ind)),
                         reason=reason)


# --- editing (the ministry) ------------------------------------------------------------------------------------

def save_indicator(user, system: IndicatorSystem, data: dict, *, instance: EvaluationIndicator | None = None,
                   weights: dict | None = None, reason: str = "") -> EvaluationIndicator:
    """Create (instance None) or edit an indicator, with the other indicators' new `weights` by code if the sum
    needs them; all or nothing: the system's weights must then sum to 100."""
    check_manager(user)
    with transaction.atomic():
        cleaned = clean_indicator(system, data, instance)
        others = clean_weights(system, weights, exclude=instance.code if instance else None)
        old = snapshot(instance) if instance is not None else {}
        ind = instance or EvaluationIndicator(system=system)
        for key, value in cleaned.items():
            setattr(ind, key, value)
        ind.save()
        audit.record(user, "evaluation_indicator:update" if instance else "evaluation_indicator:create", ind,
                     changes=audit.diff(old, snapshot(ind)), reason=reason)
        _apply_weights(user, system, others, reason)
        check_weights(system)
    return ind


def delete_indicator(user, ind: EvaluationIndicator, *, weights: dict | None = None, reason: str = "") -> None:
    check_manager(user)
    system = ind.system
    with transaction.atomic():
        others = clean_weights(system, weights, exclude=ind.code)
        audit.record(user, "evaluation_indicator:delete", ind, changes=audit.diff(snapshot(ind), {}), reason=reason)
        ind.delete()
        _apply_weights(user, system, others, reason)
        check_weights(system)


def set_weights(user, system: IndicatorSystem, weights: dict, *, reason: str = "") -> None:
    check_manager(user)
    with transaction.atomic():
        _apply_weights(user, system, clean_weights(system, weights), reason)
        check_weights(system)


# --- the default system ----------------------------------------------------------------------------------------

def load_default_definition(name: str = "default") -> dict:
    return json.loads((DATA_DIR / f"{name}.json").read_text(encoding="utf-8"))


def ensure_default_system(rnd: PilotRound, user=None) -> IndicatorSystem:
    """The round's default indicator system, created from `data/evaluation/default.json` when the round has none
    (an existing one is left as the ministry edited it)."""
    definition = load_default_definition()
    existing = IndicatorSystem.objects.filter(round=rnd, code=definition["code"]).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        system = IndicatorSystem.objects.create(
            round=rnd, code=definition["code"], name=definition["name"],
            description=definition.get("description", ""),
            is_default=not IndicatorSystem.objects.filter(round=rnd, is_default=True).exists())
        for order, item in enumerate(definition["indicators"], start=1):
            cleaned = clean_indicator(system, {**item, "order": item.get("order", order)})
            EvaluationIndicator.objects.create(system=system, **cleaned)
        check_weights(system)
        audit.record(user, "evaluation_system:create", system,
                     changes={"indicators": [None, [i["code"] for i in definition["indicators"]]]},
                     reason=_("Default indicator system"))
    return system


# --- running ---------------------------------------------------------------------------------------------------

def system_config(system: IndicatorSystem) -> dict:
    return {"system": {"id": system.pk, "code": system.code, "name": system.name, "round": system.round.code},
            "indicators": [snapshot(i) for i in system.indicators.order_by("order", "pk")]}


def check_year(system: IndicatorSystem, year) -> int:
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = None
    this_year = timezone.localdate().year
    if year is None or not 2000 <= year <= this_year:
        raise EvaluationError(_("Invalid year."), errors=[
            error("year", year, "invalid", _("Give a year from 2000 to %(y)s.") % {"y": this_year})])
    return year


@dataclass
class AreaScore:
    indicator: dict
    explained: Explained
    scored: Scored | None = None

    @property
    def score(self) -> Decimal:
        return self.scored.score if self.scored else Decimal(0)

    @property
    def weighted(self) -> Decimal:
        return q2(self.score * Decimal(self.indicator["weight"]) / HUNDRED)

    def explanation(self) -> dict:
        data = self.explained.as_json()
        if self.scored is None:
            how = Text(gettext_noop("No data: score 0."))
        else:
            how = self.scored.how
        data.update(scoring=how.english(), scoring_i18n=how.as_json(), no_data=self.explained.value is None,
                    method=self.indicator["method"], params=self.indicator["params"],
                    higher_is_better=self.indicator["higher_is_better"], source=self.indicator["source"])
        return data


def score_indicator(indicator: dict, explained: dict) -> dict:
    """area key → Scored for one indicator over the areas' explained values (areas without a value omitted)."""
    method, hib, params = indicator["method"], indicator["higher_is_better"], indicator["params"]
    if method == Method.RANK:
        return score_ranks({k: e.value for k, e in explained.items()}, hib)
    scorer = score_threshold if method == Method.THRESHOLD else score_linear
    return {k: scorer(e.value, params, hib) for k, e in explained.items() if e.value is not None}


def compute(config: dict, areas: list[PilotArea], rnd: PilotRound, year: int) -> dict[int, list[AreaScore]]:
    """area id → its AreaScore per indicator (in the system's order). Nothing is stored."""
    ctx = SourceContext(rnd, year, areas)
    out: dict[int, list[AreaScore]] = {a.pk: [] for a in areas}
    for indicator in config["indicators"]:
        explained = {a.pk: SOURCES[indicator["source"]](a, year, ctx) for a in areas}
        scored = score_indicator(indicator, explained)
        for a in areas:
            out[a.pk].append(AreaScore(indicator, explained[a.pk], scored.get(a.pk)))
    return out


def run_evaluation(system: IndicatorSystem, year, user) -> EvaluationRun:
    """Score and rank every area of the system's round for `year`, and store the run. The ministry's."""
    check_manager(user)
    year = check_year(system, year)
    with transaction.atomic():
        system = IndicatorSystem.objects.select_for_update().select_related("round").get(pk=system.pk)
        if not system.indicators.exists():
            raise EvaluationError(_("The system has no indicators."), errors=[
                error("system", system.pk, "empty", _("Add indicators before running."))])
        check_weights(system)
        for ind in system.indicators.all():
            if ind.source not in SOURCES:  # a source removed from the code after the indicator was saved
                raise EvaluationError(_("Unknown source."), errors=[
                    error("source", ind.source, "invalid", _("Indicator %(code)s has an unknown source.")
                          % {"code": ind.code})])
        config = system_config(system)
        areas = list(PilotArea.objects.filter(round=system.round).select_related("region").order_by("order"))
        computed = compute(config, areas, system.round, year)
        run = EvaluationRun.objects.create(system=system, year=year, run_by=user, config=config)
        totals = {a.pk: sum((s.weighted for s in computed[a.pk]), Decimal(0)) for a in areas}
        ranks = competition_ranks(totals)
        for a in areas:
            result = EvaluationResult.objects.create(run=run, area=a, total=totals[a.pk], rank=ranks[a.pk])
            EvaluationScore.objects.bulk_create(
                EvaluationScore(result=result, indicator_code=s.indicator["code"],
                                value=None if s.explained.value is None else s.explained.value.quantize(
                                    VALUE_PLACES, ROUND_HALF_UP),
                                score=s.score, weighted=s.weighted, explanation=s.explanation())
                for s in computed[a.pk])
        audit.record(user, "evaluation:run", run, changes={
            "system": [None, system.code], "year": [None, year], "areas": [None, len(areas)],
            "indicators": [None, [i["code"] for i in config["indicators"]]]})
    return run


# --- reading ---------------------------------------------------------------------------------------------------

def indicator_name(indicator: dict) -> str:
    from django.utils.translation import get_language

    if (get_language() or "").startswith("en") and indicator.get("name_en"):
        return indicator["name_en"]
    return indicator.get("name_zh") or indicator["code"]


def method_text(indicator: dict) -> str:
    method, params = indicator["method"], indicator.get("params") or {}
    direction = _("higher is better") if indicator.get("higher_is_better", True) else _("lower is better")
    if method == Method.THRESHOLD:
        steps = "; ".join(f"{b} → {s}" for b, s in params.get("steps", []))
        return _("Thresholds (%(direction)s): %(steps)s") % {"direction": direction, "steps": steps}
    if method == Method.LINEAR:
        return _("Linear from %(low)s to %(high)s (%(direction)s)") % {
            "low": params.get("low"), "high": params.get("high"), "direction": direction}
    return _("Rank among the areas (%(direction)s)") % {"direction": direction}


UNIT_LABELS = {"%": "%", "USD": gettext_noop("USD"), "CNY 10k": gettext_noop("CNY 10k"), "count": ""}


def unit_label(unit: str) -> str:
    """How a unit is shown after a value (counts need none)."""
    label = UNIT_LABELS.get(unit, unit)
    return _(label) if label else ""


@dataclass
class ScoreRow:
    indicator: dict
    name: str
    unit: str
    value: Decimal | None
    score: Decimal
    weight: Decimal
    weighted: Decimal
    formula: str
    scoring: str
    note: str
    no_data: bool
    inputs: list[dict] = field(default_factory=list)
    average: Decimal | None = None
    method: str = ""

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)


def localized_inputs(explanation: dict) -> list[dict]:
    return [{"label": render_stored(i.get("label", ""), i.get("label_i18n")), "value": i.get("value"),
             "unit": i.get("unit", ""), "unit_label": unit_label(i.get("unit", "")), "url": i.get("url", "")}
            for i in explanation.get("inputs", [])]


def score_rows(result: EvaluationResult, averages: dict[str, Decimal] | None = None) -> list[ScoreRow]:
    """An area's scores in the run's indicator order, with every text in the reader's language."""
    by_code = {s.indicator_code: s for s in result.scores.all()}
    rows = []
    for ind in result.run.config.get("indicators", []):
        s = by_code.get(ind["code"])
        if s is None:
            continue
        e = s.explanation or {}
        unit = e.get("unit", SOURCE_INFO[ind["source"]].unit if ind["source"] in SOURCE_INFO else "")
        rows.append(ScoreRow(
            indicator=ind, name=indicator_name(ind), unit=unit,
            value=None if s.value is None else Decimal(plain(s.value)),
            score=s.score, weight=Decimal(ind["weight"]), weighted=s.weighted,
            formula=render_stored(e.get("formula", ""), e.get("formula_i18n")),
            scoring=render_stored(e.get("scoring", ""), e.get("scoring_i18n")),
            note=render_stored(e.get("note", ""), e.get("note_i18n")), no_data=bool(e.get("no_data")),
            inputs=localized_inputs(e), average=(averages or {}).get(ind["code"]), method=method_text(ind)))
    return rows


def averages(run: EvaluationRun) -> dict[str, Decimal]:
    """Per indicator code, the mean score over all areas of the run (for the radar chart)."""
    sums: dict[str, list[Decimal]] = {}
    for code, score in EvaluationScore.objects.filter(result__run=run).values_list("indicator_code", "score"):
        sums.setdefault(code, []).append(score)
    return {code: q2(sum(v, Decimal(0)) / len(v)) for code, v in sums.items()}


def ranking(run: EvaluationRun) -> list[EvaluationResult]:
    return list(run.results.select_related("area__region").order_by("rank", "area__order"))


@dataclass
class CompareRow:
    area: PilotArea
    a: EvaluationResult | None
    b: EvaluationResult | None

    @property
    def change(self) -> Decimal | None:
        return None if self.a is None or self.b is None else self.b.total - self.a.total

    @property
    def rank_change(self) -> int | None:
        # Positive: the area moved up (a smaller rank number) from run A to run B.
        return None if self.a is None or self.b is None else self.a.rank - self.b.rank


def compare(run_a: EvaluationRun, run_b: EvaluationRun) -> list[CompareRow]:
    a = {r.area_id: r for r in ranking(run_a)}
    b = {r.area_id: r for r in ranking(run_b)}
    areas = {r.area_id: r.area for r in [*a.values(), *b.values()]}
    rows = [CompareRow(area, a.get(pk), b.get(pk)) for pk, area in areas.items()]
    return sorted(rows, key=lambda r: (r.b.rank if r.b else 10**6, r.a.rank if r.a else 10**6, r.area.order))


def runs(system: IndicatorSystem | None = None, year: int | None = None) -> QuerySet[EvaluationRun]:
    qs = EvaluationRun.objects.select_related("system__round", "run_by")
    if system is not None:
        qs = qs.filter(system=system)
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-run_at", "-pk")


def latest_full_year(today: dt.date | None = None) -> int:
    return (today or timezone.localdate()).year - 1
