"""API operations of the programme: task areas, tasks (with guarantees and responsible units), opening measures.

Public (`auth=None`): the programme is a published document. `round` defaults to the latest round with a
programme; an unknown round or filter value answers 400 naming the parameter."""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Router, Schema

from tradepilot.core.api_base import ApiError
from tradepilot.core.models import Agency, PilotRound

from . import programme_catalog as catalog
from .models import PolicyGuarantee, Responsibility, Task

router = Router(tags=["governance: programme"])


class TaskAreaOut(Schema):
    round: str
    code: str
    name_zh: str
    name_en: str
    order: int
    plan_text_zh: str
    tasks: int


class ResponsibilityOut(Schema):
    unit: str
    agency: str | None
    area: str | None
    duties: list[str]
    is_lead: bool


class GuaranteeOut(Schema):
    code: str
    text_zh: str
    text_en: str
    responsible_zh: str
    responsibilities: list[ResponsibilityOut]


class TaskOut(Schema):
    round: str
    code: str
    area: str
    text_zh: str
    text_en: str
    responsible_zh: str
    for_all_areas: bool
    responsibilities: list[ResponsibilityOut]
    guarantees: list[GuaranteeOut]


class RegulationOut(Schema):
    instrument_zh: str
    text_zh: str


class MeasureOut(Schema):
    round: str
    code: str
    domain_zh: str
    domain_en: str
    industry_zh: str
    industry_en: str
    text_zh: str
    text_en: str
    ebops_components: list[str]
    regulations: list[RegulationOut]


def _bad(field: str, value: str, message: str) -> ApiError:
    return ApiError(400, message, "invalid", errors=[{"row": None, "field": field, "value": value, "code": "unknown",
                                                      "message": message}])


def _round(code: str | None) -> PilotRound:
    try:
        rnd = catalog.pick_round(code)
    except Http404:
        raise _bad("round", code or "", _("No programme for this pilot round.")) from None
    if rnd is None:
        raise ApiError(404, _("No programme has been loaded."), "not_found")
    return rnd


def _responsibility(r: Responsibility) -> ResponsibilityOut:
    return ResponsibilityOut(unit=r.unit, agency=r.agency.code if r.agency_id else None,
                             area=r.area_region_code or None, duties=list(r.duties), is_lead=r.is_lead)


def _guarantee(g: PolicyGuarantee) -> GuaranteeOut:
    return GuaranteeOut(code=g.code, text_zh=g.text_zh, text_en=g.text_en, responsible_zh=g.responsible_zh,
                        responsibilities=[_responsibility(r) for r in g.responsibilities.all()])


def _task(rnd: PilotRound, t: Task) -> TaskOut:
    return TaskOut(round=rnd.code, code=t.code, area=t.area.code, text_zh=t.text_zh, text_en=t.text_en,
                   responsible_zh=t.responsible_zh, for_all_areas=t.for_all_areas,
                   responsibilities=[_responsibility(r) for r in catalog.own_responsibilities(t)],
                   guarantees=[_guarantee(g) for g in t.guarantees.all()])


@router.get("/programme/task-areas", response=list[TaskAreaOut], auth=None)
def list_task_areas(request, round: str | None = None):
    rnd = _round(round)
    return [TaskAreaOut(round=rnd.code, code=a.code, name_zh=a.name_zh, name_en=a.name_en, order=a.order,
                        plan_text_zh=a.plan_text_zh, tasks=a.n)
            for a in catalog.task_areas(rnd).annotate(n=Count("tasks"))]


@router.get("/programme/tasks", response=list[TaskOut], auth=None)
def list_tasks(request, round: str | None = None, area: str | None = None, agency: str | None = None,
               q: str | None = None):
    """The round's tasks in printed order (a programme has a few dozen: not paginated). `area`: a task-area code;
    `agency`: a department code (tasks it is named on, on the task or one of its guarantees); `q`: words."""
    rnd = _round(round)
    if area and not catalog.task_areas(rnd).filter(code=area).exists():
        raise _bad("area", area, _("Unknown task area."))
    if agency and not Agency.objects.filter(code=agency).exists():
        raise _bad("agency", agency, _("Unknown department code."))
    return [_task(rnd, t) for t in catalog.tasks(rnd, area=area or "", agency=agency or "", q=(q or "")[:100])]


@router.get("/programme/tasks/{code}", response=TaskOut, auth=None)
def get_task(request, code: str, round: str | None = None):
    rnd = _round(round)
    return _task(rnd, catalog.task(rnd, code))


@router.get("/programme/measures", response=list[MeasureOut], auth=None)
def list_measures(request, round: str | None = None):
    rnd = _round(round)
    return [MeasureOut(round=rnd.code, code=m.code, domain_zh=m.domain_zh, domain_en=m.domain_en,
                       industry_zh=m.industry_zh, industry_en=m.industry_en, text_zh=m.text_zh, text_en=m.text_en,
                       ebops_components=list(m.ebops_components),
                       regulations=[RegulationOut(instrument_zh=r.instrument_zh, text_zh=r.text_zh)
                                    for r in m.regulations.all()])
            for m in catalog.measures(rnd)]
