"""Pages of the programme (国函〔2018〕79号 附件2–3): the task table by task area, one task, the opening measures.

Public: the document is published (此件公开发布), so the pages answer everyone, signed in or not. Queries live in
`governance.programme_catalog`."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.urls import path
from django.utils.http import urlencode

from tradepilot.core.roles import profile_of

from . import programme_catalog as catalog
from .models import Task


def _round_query(request, rnd) -> str:
    return urlencode({"round": rnd.code}) if request.GET.get("round") else ""


def programme_tasks(request):
    rnd = catalog.pick_round(request.GET.get("round"))
    if rnd is None:
        return render(request, "governance/programme/tasks.html", {"round": None})
    areas = list(catalog.task_areas(rnd))
    agencies = list(catalog.agencies_named(rnd))
    area = request.GET.get("area", "")
    area = area if any(a.code == area for a in areas) else ""
    agency = request.GET.get("agency", "")
    agency = agency if any(a.code == agency for a in agencies) else ""
    q = request.GET.get("q", "").strip()[:100]
    names = catalog.area_names(rnd)
    rows = list(catalog.tasks(rnd, area=area, agency=agency, q=q))
    for t in rows:
        t.badges = catalog.badges(catalog.own_responsibilities(t), names)
        t.guarantee_list = list(t.guarantees.all())
        for g in t.guarantee_list:
            g.badges = catalog.badges(g.responsibilities.all(), names)
        t.span = max(len(t.guarantee_list), 1)
    groups = [{"area": a, "tasks": [t for t in rows if t.area_id == a.pk]} for a in areas]
    profile = profile_of(request.user)
    own_agency = profile.agency if profile is not None and profile.agency_id else None
    return render(request, "governance/programme/tasks.html", {
        "round": rnd, "rounds": catalog.rounds_with_programme(), "programme": rnd.programme,
        "groups": [g for g in groups if g["tasks"]], "areas": areas, "agencies": agencies,
        "area": area, "agency": agency, "q": q, "filtered": bool(area or agency or q), "count": len(rows),
        "total": Task.objects.filter(round=rnd).count(),
        "own_agency": own_agency if own_agency in agencies else None,
        "round_query": _round_query(request, rnd),
    })


def programme_task(request, code: str):
    rnd = catalog.pick_round(request.GET.get("round"))
    if rnd is None:
        raise Http404("no programme loaded")
    task = catalog.task(rnd, code)
    names = catalog.area_names(rnd)
    guarantees = list(task.guarantees.all())
    for g in guarantees:
        g.badges = catalog.badges(g.responsibilities.all(), names)
    all_resp = list(task.responsibilities.all())
    agencies = sorted({r.agency for r in all_resp if r.agency_id}, key=lambda a: a.order)
    named_areas = sorted({names.get(r.area_region_code, r.area_region_code) for r in all_resp
                          if r.area_region_code})
    siblings = list(catalog.tasks(rnd, area=task.area.code).values_list("code", flat=True))
    i = siblings.index(task.code)
    return render(request, "governance/programme/task.html", {
        "round": rnd, "task": task, "guarantees": guarantees,
        "badges": catalog.badges(catalog.own_responsibilities(task), names),
        "agencies": agencies, "named_areas": named_areas, "n_areas": len(names),
        "previous": siblings[i - 1] if i > 0 else None, "next": siblings[i + 1] if i + 1 < len(siblings) else None,
        "round_query": _round_query(request, rnd),
    })


def programme_measures(request):
    rnd = catalog.pick_round(request.GET.get("round"))
    if rnd is None:
        return render(request, "governance/programme/measures.html", {"round": None})
    items = list(catalog.measures(rnd))
    return render(request, "governance/programme/measures.html", {
        "round": rnd, "rounds": catalog.rounds_with_programme(), "rows": catalog.measure_rows(items),
        "count": len(items),
    })


urlpatterns = [
    path("programme/", programme_tasks, name="programme_tasks"),
    path("programme/tasks/<str:code>/", programme_task, name="programme_task"),
    path("programme/measures/", programme_measures, name="programme_measures"),
]
