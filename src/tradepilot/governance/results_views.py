"""Pages of the results part: annual results reports (overview, report, XLSX) and the experience library (public
list and case pages, the bureau's form, review, adoption, the adoption table and map).

Views are thin: they fetch through `core.scoping` (or `experiences.visible_cases` for the public library) and call
the services; a refused action (`ResultsError`) comes back as a message on the page it came from.
"""

from __future__ import annotations

import datetime as dt
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradepilot.core.models import PilotArea, PilotRound, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import can_edit_area, get_area_scoped
from tradepilot.governance import experiences, results
from tradepilot.governance.models import Adoption, ExperienceCase, ReviewStatus, Task, TaskArea

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_SIZE = 20


def _round(request) -> PilotRound | None:
    code = request.GET.get("round", "")
    rounds = PilotRound.objects.order_by("-start_date")
    return (rounds.filter(code=code).first() if code else None) or rounds.first()


def _formatted(value, unit: str) -> str:
    """Grouped by thousands in every language (the zh-Hans number format has no separator; 5283399.76 is hard to
    read), as the dashboards' charts show money."""
    if value is None:
        return "—"
    places = {"USD": 2, "%": 1}.get(unit, 0)
    return f"{value:,.{places}f}"


# --- annual results reports --------------------------------------------------------------------------------------

@login_required
def report_overview(request):
    results.require_reader(request.user)
    rnd = _round(request)
    years, rows = results.overview(request.user, rnd) if rnd else ([], [])
    editable = {a.pk for a in results.editable_areas(request.user, rnd)}
    waiting = sum(1 for row in rows for cell in row.cells if cell is not None and cell.status == ReviewStatus.SUBMITTED)
    return render(request, "governance/results/overview.html", {
        "round": rnd, "rounds": PilotRound.objects.order_by("-start_date"), "years": years,
        "rows": [{"area": r.area, "cells": list(zip(years, r.cells, strict=True)), "editable": r.area.pk in editable}
                 for r in rows],
        "waiting": waiting, "is_ministry": role_of(request.user) == Role.MINISTRY,
    })


@login_required
@require_POST
def report_create(request):
    results.require_reader(request.user)
    area = get_area_scoped(request.user, PilotArea.objects.select_related("round", "region"),
                           pk=request.POST.get("area"))
    try:
        year = int(request.POST.get("year", ""))
    except ValueError:
        messages.error(request, _("Choose a year."))
        return redirect("governance:results_reports")
    try:
        report = results.create_report(area, year, request.user)
    except results.ResultsError as exc:
        messages.error(request, exc.detail)
        return redirect("governance:results_reports")
    messages.success(request, _("Results report opened. Pull the figures and write the narrative."))
    return redirect("governance:results_report", report.pk)


def _report(request, pk: int):
    return get_area_scoped(request.user, results.reports_for(request.user), pk=pk)


@login_required
def report_detail(request, pk: int):
    report = _report(request, pk)
    if request.method == "POST":  # the narrative
        try:
            results.update_narrative(report, request.POST.get("narrative", ""), request.user)
            messages.success(request, _("Narrative saved."))
        except results.ResultsError as exc:
            messages.error(request, exc.detail)
        return redirect("governance:results_report", report.pk)
    figures = [{**f, "display": _formatted(f["value"], f["unit"])} for f in results.display_figures(report)]
    return render(request, "governance/results/report.html", {
        "report": report, "figures": figures, "actions": results.allowed_actions(request.user, report),
    })


def _report_action(request, pk: int, action, done: str):
    report = _report(request, pk)
    try:
        action(report)
        messages.success(request, done)
    except results.ResultsError as exc:
        messages.error(request, exc.detail)
    return redirect("governance:results_report", report.pk)


@login_required
@require_POST
def report_pull(request, pk: int):
    return _report_action(request, pk, lambda r: results.pull_figures(r, request.user),
                          _("Figures pulled from live data."))


@login_required
@require_POST
def report_submit(request, pk: int):
    return _report_action(request, pk, lambda r: results.submit(r, request.user),
                          _("Submitted to the ministry."))


@login_required
@require_POST
def report_review(request, pk: int):
    decision = request.POST.get("decision", "")
    return _report_action(request, pk, lambda r: results.review(r, request.user, decision,
                                                                request.POST.get("note", "")),
                          _("Report accepted.") if decision == "approve" else _("Report returned."))


@login_required
def report_export(request, pk: int):
    report = _report(request, pk)
    response = HttpResponse(results.workbook(report), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="results-{report.area.region.code}-{report.year}.xlsx"'
    return response


# --- the experience library --------------------------------------------------------------------------------------

def _filters(request) -> experiences.CaseFilters:
    g = request.GET
    return experiences.CaseFilters(q=g.get("q", "").strip(), round=g.get("round", ""), area=g.get("area", ""),
                                   task_area=g.get("task_area", ""), task=g.get("task", ""),
                                   status=g.get("status", "") if request.user.is_authenticated else "")


def case_list(request):
    """Public: published cases for everyone, plus the unpublished cases of the signed-in user's scope."""
    f = _filters(request)
    qs = experiences.search(experiences.visible_cases(request.user), f)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = experiences.adoption_counts(page.object_list)
    rnd = PilotRound.objects.filter(code=f.round).first() if f.round else PilotRound.objects.order_by(
        "-start_date").first()
    return render(request, "governance/results/experiences.html", {
        "page": page, "cases": [(c, counts.get(c.pk, 0)) for c in page.object_list], "f": f,
        "areas": PilotArea.objects.filter(round=rnd).select_related("region") if rnd else [],
        "task_areas": TaskArea.objects.filter(round=rnd) if rnd else [],
        "tasks": Task.objects.filter(round=rnd).select_related("area") if rnd else [],
        "statuses": ReviewStatus.choices, "can_write": bool(results.editable_areas(request.user)),
        "filtered": any((f.q, f.area, f.task_area, f.task, f.status)),
    })


def case_detail(request, pk: int):
    case = experiences.get_visible(request.user, pk)
    adoptions = list(case.adoptions.select_related("area__region").order_by("adopted_on", "pk"))
    user = request.user
    return render(request, "governance/results/experience.html", {
        "case": case, "adoptions": adoptions, "tasks": case.tasks.select_related("area"),
        "can_edit": user.is_authenticated and can_edit_area(user, case.area) and case.status in results.EDITABLE,
        "can_review": role_of(user) == Role.MINISTRY and case.status == ReviewStatus.SUBMITTED,
        "can_adopt": user.is_authenticated and experiences.can_adopt(user, case),
        "today": dt.date.today().isoformat(),
    })


def _form_context(request, rnd_areas, values: dict, error=None, case=None) -> dict:
    rnd = case.area.round if case else (rnd_areas[0].round if rnd_areas else None)
    chosen = {str(t) for t in values.get("tasks", [])}
    return {"areas": rnd_areas, "values": values, "error": error, "case": case,
            "task_areas": [(ta, [(t, str(t.pk) in chosen) for t in ta.tasks.all()])
                           for ta in TaskArea.objects.filter(round=rnd).prefetch_related("tasks")] if rnd else []}


def _posted(request) -> dict:
    p = request.POST
    return {"area": p.get("area", ""), "title": p.get("title", ""), "problem": p.get("problem", ""),
            "measure": p.get("measure", ""), "effect": p.get("effect", ""), "tasks": p.getlist("tasks")}


@login_required
def case_new(request):
    results.require_reader(request.user)
    areas = results.editable_areas(request.user)
    if request.method == "GET":
        if not areas:
            raise PermissionDenied(_("Experiences are written by a pilot area's own bureau."))
        return render(request, "governance/results/experience_form.html",
                      _form_context(request, areas, {"area": str(areas[0].pk), "tasks": []}))
    values = _posted(request)
    area = get_area_scoped(request.user, PilotArea.objects.select_related("round", "region"), pk=values["area"])
    results.require_editor(request.user, area)
    try:
        tasks = experiences.resolve_tasks(area.round, ids=values["tasks"])
        case = experiences.create_case(area, request.user, values, tasks)
    except results.ResultsError as exc:
        return render(request, "governance/results/experience_form.html",
                      _form_context(request, areas, values, error=exc), status=400)
    messages.success(request, _("Experience saved as a draft. Submit it for review when it is ready."))
    return redirect("governance:results_experience", case.pk)


def _own_case(request, pk: int) -> ExperienceCase:
    results.require_reader(request.user)
    case = get_area_scoped(request.user, ExperienceCase.objects.select_related("area__round", "area__region"), pk=pk)
    return case


@login_required
def case_edit(request, pk: int):
    case = _own_case(request, pk)
    results.require_editor(request.user, case.area)
    if request.method == "GET":
        values = {name: getattr(case, name) for name in experiences.TEXT_FIELDS}
        values.update(area=str(case.area_id), tasks=[str(t.pk) for t in case.tasks.all()])
        return render(request, "governance/results/experience_form.html",
                      _form_context(request, [case.area], values, case=case))
    values = _posted(request)
    try:
        tasks = experiences.resolve_tasks(case.area.round, ids=values["tasks"])
        experiences.update_case(case, request.user, values, tasks)
    except results.ResultsError as exc:
        return render(request, "governance/results/experience_form.html",
                      _form_context(request, [case.area], values, error=exc, case=case), status=400)
    messages.success(request, _("Experience saved."))
    return redirect("governance:results_experience", case.pk)


def _case_action(request, case: ExperienceCase, action, done: str):
    try:
        action(case)
        messages.success(request, done)
    except results.ResultsError as exc:
        messages.error(request, exc.detail)
    return redirect("governance:results_experience", case.pk)


@login_required
@require_POST
def case_submit(request, pk: int):
    case = _own_case(request, pk)
    return _case_action(request, case, lambda c: experiences.submit_case(c, request.user),
                        _("Submitted to the ministry for review."))


@login_required
@require_POST
def case_review(request, pk: int):
    case = _own_case(request, pk)
    decision = request.POST.get("decision", "")
    return _case_action(request, case, lambda c: experiences.review_case(c, request.user, decision,
                                                                         request.POST.get("note", "")),
                        _("Experience published.") if decision == "approve" else _("Experience returned."))


@login_required
@require_POST
def case_adopt(request, pk: int):
    case = experiences.get_visible(request.user, pk)
    try:
        adopted_on = dt.date.fromisoformat(request.POST.get("adopted_on", ""))
    except ValueError:
        messages.error(request, _("Give the adoption date as YYYY-MM-DD."))
        return redirect("governance:results_experience", case.pk)
    return _case_action(request, case, lambda c: experiences.record_adoption(c, request.user, adopted_on,
                                                                             request.POST.get("note", "")),
                        _("Adoption recorded."))


def adoptions(request):
    """Public: published cases × adopting areas, and the adoption map."""
    rnd = _round(request)
    if rnd is None:
        return render(request, "governance/results/adoptions.html", {"round": None})
    table = experiences.adoption_table(rnd)
    if request.GET.get("format") == "xlsx":
        return _adoptions_xlsx(rnd, table)
    areas = {a.pk: a for a in table.areas}
    return render(request, "governance/results/adoptions.html", {
        "round": rnd, "rounds": PilotRound.objects.order_by("-start_date"), "table": table,
        "totals": [(a, table.elsewhere[a.pk], table.adopted_by[a.pk]) for a in table.areas],
        "map": experiences.adoption_map(rnd), "origin_names": {pk: a.name for pk, a in areas.items()},
        "xlsx_query": urlencode({"round": rnd.code, "format": "xlsx"}),
        "map_i18n": {"published": _("Published"), "adopted_elsewhere": _("Adopted elsewhere"),
                     "adopted": _("Adopted from others"), "lon": _("Longitude"), "lat": _("Latitude")},
    })


def _adoptions_xlsx(rnd: PilotRound, table: experiences.AdoptionTable) -> HttpResponse:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Adoptions")[:31])
    ws.append(["case_id", _("Experience"), _("Area"), *[a.name for a in table.areas], _("Adopted by")])
    names = {a.pk: a.name for a in table.areas}
    for row in table.rows:
        case = row["case"]
        cells = [_("origin") if c == "origin" else (c.adopted_on if isinstance(c, Adoption) else "")
                 for c in row["cells"]]
        ws.append([case.pk, case.title, names[case.area_id], *cells, row["count"]])
    ws.append([])
    ws.append(["", _("Adopted elsewhere"), "", *[table.elsewhere[a.pk] for a in table.areas]])
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="adoptions-{rnd.code}.xlsx"'
    return response


urlpatterns = [
    path("results/", report_overview, name="results_reports"),
    path("results/new/", report_create, name="results_report_create"),
    path("results/<int:pk>/", report_detail, name="results_report"),
    path("results/<int:pk>/pull/", report_pull, name="results_report_pull"),
    path("results/<int:pk>/submit/", report_submit, name="results_report_submit"),
    path("results/<int:pk>/review/", report_review, name="results_report_review"),
    path("results/<int:pk>/export/", report_export, name="results_report_export"),
    path("experiences/", case_list, name="results_experiences"),
    path("experiences/new/", case_new, name="results_experience_new"),
    path("experiences/adoptions/", adoptions, name="results_adoptions"),
    path("experiences/<int:pk>/", case_detail, name="results_experience"),
    path("experiences/<int:pk>/edit/", case_edit, name="results_experience_edit"),
    path("experiences/<int:pk>/submit/", case_submit, name="results_experience_submit"),
    path("experiences/<int:pk>/review/", case_review, name="results_experience_review"),
    path("experiences/<int:pk>/adopt/", case_adopt, name="results_experience_adopt"),
]
