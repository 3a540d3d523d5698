"""API operations of the performance evaluation (mounted at /api/v1/governance). Thin: `evaluation` decides.

Reading is for the ministry, auditors, departments and bureaus; a run's ranking is shown to all of them in full,
an area's drill-down only within the reader's scope (404 outside it). Editing indicators and running are the
ministry's (403 for others). Refused input answers 400 with errors naming the field.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from tradepilot.core.api_base import ApiError, RowId, page_slice
from tradepilot.core.scoping import get_area_scoped
from tradepilot.governance import evaluation
from tradepilot.governance.evaluation_sources import SOURCE_INFO
from tradepilot.governance.models import EvaluationIndicator, EvaluationResult, EvaluationRun, IndicatorSystem

router = Router(tags=["governance: evaluation"])

Number = str | int | float


# --- schemas ---------------------------------------------------------------------------------------------------

class IndicatorOut(Schema):
    id: int
    code: str
    name_zh: str
    name_en: str
    group: str
    source: str
    weight: Decimal
    method: str
    params: dict
    higher_is_better: bool
    order: int


class SystemOut(Schema):
    id: int
    round: str
    code: str
    name: str
    description: str
    is_default: bool
    weight_sum: Decimal
    indicators: list[IndicatorOut]
    sources: dict[str, dict]


class IndicatorIn(Schema):
    code: str
    name_zh: str
    name_en: str = ""
    group: str = ""
    source: str
    weight: Number
    method: str
    params: dict | None = None
    higher_is_better: bool = True
    order: int | None = None
    # Other indicators' new weights by code, applied in the same change so the sum stays 100.
    weights: dict[str, Number] | None = None
    reason: str = ""


class IndicatorPatch(Schema):
    code: str | None = None
    name_zh: str | None = None
    name_en: str | None = None
    group: str | None = None
    source: str | None = None
    weight: Number | None = None
    method: str | None = None
    params: dict | None = None
    higher_is_better: bool | None = None
    order: int | None = None
    weights: dict[str, Number] | None = None
    reason: str = ""


class DeleteIn(Schema):
    weights: dict[str, Number] | None = None
    reason: str = ""


class RunIn(Schema):
    system_id: int
    year: int


class RunOut(Schema):
    id: int
    system_id: int
    system: str
    round: str
    year: int
    run_at: dt.datetime
    run_by: str | None
    areas: int


class RankOut(Schema):
    area_id: int
    area: str
    region: str
    total: Decimal
    rank: int
    drill_down: bool


class RunDetail(RunOut):
    indicators: list[dict]
    ranking: list[RankOut]


class InputOut(Schema):
    label: str
    value: str | None
    unit: str
    url: str


class ScoreOut(Schema):
    indicator: str
    name: str
    unit: str
    value: Decimal | None
    score: Decimal
    weight: Decimal
    weighted: Decimal
    average_score: Decimal | None
    method: str
    formula: str
    scoring: str
    note: str
    no_data: bool
    inputs: list[InputOut]


class AreaDetail(Schema):
    run_id: int
    year: int
    area_id: int
    area: str
    region: str
    total: Decimal
    rank: int
    areas: int
    scores: list[ScoreOut]


class RunPage(Schema):
    count: int
    items: list[RunOut]


def indicator_out(i: EvaluationIndicator) -> dict:
    return {"id": i.pk, "code": i.code, "name_zh": i.name_zh, "name_en": i.name_en, "group": i.group,
            "source": i.source, "weight": i.weight, "method": i.method, "params": i.params,
            "higher_is_better": i.higher_is_better, "order": i.order}


def system_out(s: IndicatorSystem) -> dict:
    indicators = list(s.indicators.order_by("order", "pk"))
    return {"id": s.pk, "round": s.round.code, "code": s.code, "name": s.name, "description": s.description,
            "is_default": s.is_default, "weight_sum": sum((i.weight for i in indicators), Decimal(0)),
            "indicators": [indicator_out(i) for i in indicators],
            "sources": {k: {"title": v.title, "unit": v.unit, "kind": v.kind} for k, v in SOURCE_INFO.items()}}


def run_out(r: EvaluationRun) -> dict:
    return {"id": r.pk, "system_id": r.system_id, "system": r.system.name, "round": r.system.round.code,
            "year": r.year, "run_at": r.run_at, "run_by": r.run_by.username if r.run_by else None,
            "areas": r.results.count()}


def _system(request, system_id: int) -> IndicatorSystem:
    evaluation.check_reader(request.user)
    return get_object_or_404(IndicatorSystem.objects.select_related("round"), pk=system_id)


def _run(request, run_id: int) -> EvaluationRun:
    evaluation.check_reader(request.user)
    return get_object_or_404(EvaluationRun.objects.select_related("system__round", "run_by"), pk=run_id)


# --- indicator systems -----------------------------------------------------------------------------------------

@router.get("/evaluation/systems", response=list[SystemOut], summary="Indicator systems with their indicators")
def list_systems(request):
    evaluation.check_reader(request.user)
    systems = IndicatorSystem.objects.select_related("round").order_by("round__start_date", "code")
    return [system_out(s) for s in systems]


@router.get("/evaluation/systems/{int:system_id}/indicators", response=list[IndicatorOut])
def list_indicators(request, system_id: int):
    system = _system(request, system_id)
    return [indicator_out(i) for i in system.indicators.order_by("order", "pk")]


@router.post("/evaluation/systems/{int:system_id}/indicators", response={201: IndicatorOut},
             summary="Add an indicator (the ministry); weights must then sum to 100")
def add_indicator(request, system_id: int, payload: IndicatorIn):
    system = _system(request, system_id)
    data = payload.dict()
    weights, reason = data.pop("weights"), data.pop("reason")
    ind = evaluation.save_indicator(request.user, system, data, weights=weights, reason=reason)
    return Status(201, indicator_out(ind))


@router.patch("/evaluation/indicators/{int:indicator_id}", response=IndicatorOut,
              summary="Edit an indicator (the ministry); weights must then sum to 100")
def edit_indicator(request, indicator_id: int, payload: IndicatorPatch):
    evaluation.check_reader(request.user)
    ind = get_object_or_404(EvaluationIndicator.objects.select_related("system"), pk=indicator_id)
    data = payload.dict(exclude_unset=True)
    weights, reason = data.pop("weights", None), data.pop("reason", "")
    ind = evaluation.save_indicator(request.user, ind.system, data, instance=ind, weights=weights,
                                    reason=reason)
    return indicator_out(ind)


@router.delete("/evaluation/indicators/{int:indicator_id}", response={204: None},
               summary="Delete an indicator (the ministry), giving the others' new weights")
def remove_indicator(request, indicator_id: int, payload: DeleteIn | None = None):
    evaluation.check_reader(request.user)
    ind = get_object_or_404(EvaluationIndicator.objects.select_related("system"), pk=indicator_id)
    evaluation.delete_indicator(request.user, ind, weights=payload.weights if payload else None,
                                reason=payload.reason if payload else "")
    return Status(204, None)


# --- runs ------------------------------------------------------------------------------------------------------

@router.post("/evaluation/runs", response={201: RunOut}, summary="Run a system for a year (the ministry)")
def start_run(request, payload: RunIn):
    evaluation.check_reader(request.user)
    system = IndicatorSystem.objects.filter(pk=payload.system_id).first()
    if system is None:
        raise ApiError(400, "Unknown indicator system.", "invalid", [
            evaluation.error("system_id", payload.system_id, "unknown", "No indicator system has this id.")])
    run = evaluation.run_evaluation(system, payload.year, request.user)
    return Status(201, run_out(run))


@router.get("/evaluation/runs", response=RunPage)
def list_runs(request, system_id: RowId | None = None, year: int | None = None, limit: int = 50, offset: int = 0):
    evaluation.check_reader(request.user)
    qs = evaluation.runs(year=year)
    if system_id is not None:
        qs = qs.filter(system_id=system_id)
    return RunPage(count=qs.count(), items=[run_out(r) for r in qs[page_slice(limit, offset, 200)]])


@router.get("/evaluation/runs/{int:run_id}", response=RunDetail, summary="A run's ranking of every area")
def get_run(request, run_id: int):
    run = _run(request, run_id)
    drillable = set(evaluation.drillable_results(request.user, run).values_list("area_id", flat=True))
    ranking = [{"area_id": r.area_id, "area": r.area.name, "region": r.area.region.code, "total": r.total,
                "rank": r.rank, "drill_down": r.area_id in drillable} for r in evaluation.ranking(run)]
    indicators = [{**i, "name": evaluation.indicator_name(i)} for i in run.config.get("indicators", [])]
    return {**run_out(run), "indicators": indicators, "ranking": ranking}


@router.get("/evaluation/runs/{int:run_id}/areas/{int:area_id}", response=AreaDetail,
            summary="An area's scores, values, formulas and inputs (within the reader's scope)")
def get_area(request, run_id: int, area_id: int):
    run = _run(request, run_id)
    result = get_area_scoped(request.user, EvaluationResult.objects.select_related("area__region", "run"),
                             run=run, area_id=area_id)
    rows = evaluation.score_rows(result, evaluation.averages(run))
    return {"run_id": run.pk, "year": run.year, "area_id": result.area_id, "area": result.area.name,
            "region": result.area.region.code, "total": result.total, "rank": result.rank,
            "areas": run.results.count(),
            "scores": [{"indicator": r.indicator["code"], "name": r.name, "unit": r.unit, "value": r.value,
                        "score": r.score, "weight": r.weight, "weighted": r.weighted, "average_score": r.average,
                        "method": r.method, "formula": r.formula, "scoring": r.scoring, "note": r.note,
                        "no_data": r.no_data, "inputs": r.inputs} for r in rows]}
