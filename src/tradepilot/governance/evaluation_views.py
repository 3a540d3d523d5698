"""Pages of the performance evaluation: runs and the run button, indicator systems and their editing, a run's
ranking (with a bar chart), an area's drill-down (with a radar chart), the comparison of two runs, and XLSX/PDF
exports.

Who sees what is decided in `evaluation` (module docstring): every reader sees rankings in full; drill-downs only
for the areas in the reader's scope (404 otherwise); editing and running are the ministry's (403 otherwise).
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from tradepilot.core.models import PilotRound
from tradepilot.core.scoping import get_area_scoped
from tradepilot.governance import evaluation, evaluation_exports
from tradepilot.governance.evaluation_sources import SOURCE_INFO
from tradepilot.governance.models import EvaluationIndicator, EvaluationResult, EvaluationRun, IndicatorSystem

PAGE_SIZE = 25


def _reader(request) -> None:
    evaluation.check_reader(request.user)


def _manager(request) -> None:
    evaluation.check_manager(request.user)


def _field_errors(exc: evaluation.EvaluationError) -> dict[str, str]:
    """Errors by form field (params.low → low, params.steps.bound → steps, weights.x → weight__x)."""
    out: dict[str, str] = {}
    for e in exc.errors:
        name = e["field"]
        if name.startswith("params.steps"):
            name = "steps"
        elif name.startswith("params."):
            name = name.split(".", 1)[1]
        elif name.startswith("weights."):
            name = "weight__" + name.split(".", 1)[1]
        text = e["message"] if e.get("row") is None else _("Step %(row)s: %(message)s") % {
            "row": e["row"], "message": e["message"]}
        out[name] = f"{out[name]} {text}" if name in out else text
    return out


# --- runs ------------------------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def runs_page(request):
    """The runs, newest first; the ministry starts a run here."""
    _reader(request)
    systems = list(IndicatorSystem.objects.select_related("round").order_by("round__start_date", "code"))
    status, form = 200, {"system": "", "year": str(evaluation.latest_full_year())}
    errors: dict[str, str] = {}
    if request.method == "POST":
        _manager(request)
        form = {"system": request.POST.get("system", ""), "year": request.POST.get("year", "")}
        system = next((s for s in systems if str(s.pk) == form["system"]), None)
        if system is None:
            errors["system"] = _("Choose an indicator system.")
        else:
            try:
                run = evaluation.run_evaluation(system, form["year"], request.user)
            except evaluation.EvaluationError as exc:
                errors = {e["field"]: e["message"] for e in exc.errors} or {"system": exc.message}
            else:
                messages.success(request, _("Evaluation of %(year)s run: %(n)s areas ranked.") % {
                    "year": run.year, "n": run.results.count()})
                return redirect("governance:evaluation_run", pk=run.pk)
        status = 400
    qs = evaluation.runs()
    year = request.GET.get("year", "").strip()
    if year.isdigit():
        qs = qs.filter(year=int(year))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "governance/evaluation/runs.html", {
        "page": page, "systems": systems, "form": form, "errors": errors, "year": year,
        "can_manage": evaluation.is_manager(request.user)}, status=status)


# --- indicator systems -----------------------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def systems_page(request):
    """Every round's indicator systems; the ministry creates a round's default system from the data file."""
    _reader(request)
    status = 200
    if request.method == "POST":
        _manager(request)
        rnd = PilotRound.objects.filter(code=request.POST.get("round", "")).first()
        if rnd is None:
            messages.error(request, _("round: choose a pilot round."))
            status = 400
        else:
            system = evaluation.ensure_default_system(rnd, request.user)
            messages.success(request, _("The default indicator system of %(round)s is ready.") % {"round": rnd})
            return redirect("governance:evaluation_system", pk=system.pk)
    systems = IndicatorSystem.objects.select_related("round").prefetch_related("indicators").order_by(
        "round__start_date", "code")
    with_default = set(IndicatorSystem.objects.filter(code=evaluation.load_default_definition()["code"])
                       .values_list("round_id", flat=True))
    return render(request, "governance/evaluation/systems.html", {
        "systems": [(s, evaluation.plain(sum((i.weight for i in s.indicators.all()), Decimal(0))))
                    for s in systems],
        "rounds_without_default": PilotRound.objects.exclude(pk__in=with_default),
        "can_manage": evaluation.is_manager(request.user)}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def system_page(request, pk: int):
    """A system's indicators; the ministry changes all weights at once here (they must sum to 100)."""
    _reader(request)
    system = get_object_or_404(IndicatorSystem.objects.select_related("round"), pk=pk)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        _manager(request)
        weights = {k[len("weight__"):]: v for k, v in request.POST.items() if k.startswith("weight__")}
        try:
            evaluation.set_weights(request.user, system, weights, reason=request.POST.get("reason", ""))
        except evaluation.EvaluationError as exc:
            errors = _field_errors(exc)
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(request, _("Weights saved."))
            return redirect("governance:evaluation_system", pk=system.pk)
    indicators = list(system.indicators.order_by("order", "pk"))
    posted = request.POST if status == 400 else {}
    rows = [{"ind": i, "name": evaluation.indicator_name(evaluation.snapshot(i)),
             "method": evaluation.method_text(evaluation.snapshot(i)),
             "source": SOURCE_INFO[i.source].title if i.source in SOURCE_INFO else i.source,
             "weight_input": posted.get(f"weight__{i.code}", evaluation.plain(i.weight)),
             "error": errors.get(f"weight__{i.code}", "")} for i in indicators]
    return render(request, "governance/evaluation/system.html", {
        "system": system, "rows": rows, "weight_sum": evaluation.weight_sum(system),
        "weight_sum_text": evaluation.plain(evaluation.weight_sum(system)), "errors": errors,
        "can_manage": evaluation.is_manager(request.user),
        "runs": evaluation.runs(system=system)[:10]}, status=status)


def _steps_from_text(text: str) -> list:
    """One step a line, "bound score" (separated by spaces, a comma, ':' or '→'); a line that is not a pair is
    passed on as is, so the service names its row."""
    steps = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p for p in re.split(r"[\s,;:→]+", line.strip()) if p]
        steps.append(parts if len(parts) == 2 else [line.strip()])
    return steps


def _indicator_data(post) -> dict:
    method = post.get("method", "")
    params: dict = {}
    if method == EvaluationIndicator.Method.LINEAR:
        params = {"low": post.get("low", ""), "high": post.get("high", "")}
    elif method == EvaluationIndicator.Method.THRESHOLD:
        params = {"steps": _steps_from_text(post.get("steps", ""))}
    return {"code": post.get("code", ""), "name_zh": post.get("name_zh", ""), "name_en": post.get("name_en", ""),
            "group": post.get("group", ""), "source": post.get("source", ""), "weight": post.get("weight", ""),
            "method": method, "params": params, "higher_is_better": post.get("higher_is_better") == "on",
            "order": post.get("order", "")}


def _form_values(ind: EvaluationIndicator | None, post=None) -> dict:
    if post is not None:
        values = {k: post.get(k, "") for k in ("code", "name_zh", "name_en", "group", "source", "weight",
                                              "method", "low", "high", "steps", "order", "reason")}
        values["higher_is_better"] = post.get("higher_is_better") == "on"
        return values
    if ind is None:
        return {"method": "linear", "higher_is_better": True, "low": "0", "high": "100"}
    params = ind.params or {}
    return {"code": ind.code, "name_zh": ind.name_zh, "name_en": ind.name_en, "group": ind.group,
            "source": ind.source, "weight": evaluation.plain(ind.weight), "method": ind.method,
            "low": params.get("low", ""), "high": params.get("high", ""),
            "steps": "\n".join(f"{b} {s}" for b, s in params.get("steps", [])),
            "higher_is_better": ind.higher_is_better, "order": ind.order}


def _other_weights(system: IndicatorSystem, ind: EvaluationIndicator | None, post, errors) -> list[dict]:
    others = system.indicators.order_by("order", "pk")
    if ind is not None:
        others = others.exclude(pk=ind.pk)
    return [{"code": o.code, "name": evaluation.indicator_name(evaluation.snapshot(o)),
             "value": (post.get(f"weight__{o.code}") if post is not None else None) or evaluation.plain(o.weight),
             "error": errors.get(f"weight__{o.code}", "")} for o in others]


def _posted_weights(post, system: IndicatorSystem, ind: EvaluationIndicator | None) -> dict:
    return {k[len("weight__"):]: v for k, v in post.items()
            if k.startswith("weight__") and (ind is None or k[len("weight__"):] != ind.code)}


def _indicator_form(request, system: IndicatorSystem, ind: EvaluationIndicator | None):
    _reader(request)
    _manager(request)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            saved = evaluation.save_indicator(
                request.user, system, _indicator_data(request.POST), instance=ind,
                weights=_posted_weights(request.POST, system, ind), reason=request.POST.get("reason", ""))
        except evaluation.EvaluationError as exc:
            errors = _field_errors(exc)
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(request, _("Indicator %(code)s saved.") % {"code": saved.code})
            return redirect("governance:evaluation_system", pk=system.pk)
    post = request.POST if request.method == "POST" else None
    return render(request, "governance/evaluation/indicator_form.html", {
        "system": system, "ind": ind, "values": _form_values(ind, post), "errors": errors,
        "others": _other_weights(system, ind, post, errors),
        "sources": [(k, v.title, v.unit) for k, v in SOURCE_INFO.items()],
        "methods": EvaluationIndicator.Method.choices}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_new(request, pk: int):
    _reader(request)
    system = get_object_or_404(IndicatorSystem.objects.select_related("round"), pk=pk)
    return _indicator_form(request, system, None)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_edit(request, pk: int):
    _reader(request)
    ind = get_object_or_404(EvaluationIndicator.objects.select_related("system__round"), pk=pk)
    return _indicator_form(request, ind.system, ind)


@login_required
@require_http_methods(["GET", "POST"])
def indicator_delete(request, pk: int):
    """Confirm, giving the remaining indicators' new weights (the sum must stay 100)."""
    _reader(request)
    ind = get_object_or_404(EvaluationIndicator.objects.select_related("system__round"), pk=pk)
    _manager(request)
    system = ind.system
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        try:
            evaluation.delete_indicator(request.user, ind, weights=_posted_weights(request.POST, system, ind),
                                        reason=request.POST.get("reason", ""))
        except evaluation.EvaluationError as exc:
            errors = _field_errors(exc)
            messages.error(request, exc.message)
            status = 400
        else:
            messages.success(request, _("Indicator %(code)s deleted.") % {"code": ind.code})
            return redirect("governance:evaluation_system", pk=system.pk)
    post = request.POST if request.method == "POST" else None
    return render(request, "governance/evaluation/indicator_delete.html", {
        "system": system, "ind": ind, "name": evaluation.indicator_name(evaluation.snapshot(ind)),
        "others": _other_weights(system, ind, post, errors), "errors": errors}, status=status)


# --- a run -----------------------------------------------------------------------------------------------------

def _run(request, pk: int) -> EvaluationRun:
    _reader(request)
    return get_object_or_404(EvaluationRun.objects.select_related("system__round", "run_by"), pk=pk)


@login_required
def run_page(request, pk: int):
    """The ranking of every area (to every reader), with drill-down links to the areas in the reader's scope."""
    run = _run(request, pk)
    ranking = evaluation.ranking(run)
    drillable = set(evaluation.drillable_results(request.user, run).values_list("area_id", flat=True))
    top = max((r.total for r in ranking), default=0) or 1
    others = evaluation.runs().exclude(pk=run.pk)[:50]
    chart = {"areas": [r.area.name for r in ranking], "totals": [str(r.total) for r in ranking],
             "title": _("Total score")}
    return render(request, "governance/evaluation/run.html", {
        "run": run, "rows": [{"r": r, "bar": float(r.total / top * 100), "drill": r.area_id in drillable}
                             for r in ranking],
        "indicators": [(evaluation.indicator_name(i), i["weight"], evaluation.method_text(i))
                       for i in run.config.get("indicators", [])],
        "others": others, "chart": chart})


@login_required
def area_page(request, pk: int, area_id: int):
    """One area's scores, each with its raw value, weight, formula and inputs; a radar of its scores against the
    average of all areas. Only within the reader's scope (404 otherwise)."""
    run = _run(request, pk)
    result = get_area_scoped(request.user, EvaluationResult.objects.select_related("area__region", "run"),
                             run=run, area_id=area_id)
    rows = evaluation.score_rows(result, evaluation.averages(run))
    radar = {"indicators": [r.name for r in rows], "area": [str(r.score) for r in rows],
             "average": [str(r.average) if r.average is not None else "0" for r in rows],
             "area_name": result.area.name, "average_name": _("Average of all areas")}
    return render(request, "governance/evaluation/area.html", {
        "run": run, "result": result, "rows": rows, "areas": run.results.count(), "radar": radar,
        "task_board": _task_board(result)})


def _task_board(result: EvaluationResult) -> str:
    from tradepilot.governance.evaluation_sources import url

    return url("governance:tracking_area", result.area_id)


@login_required
def compare_page(request):
    """Two runs side by side: each area's total and rank in both, and the change."""
    _reader(request)
    runs = list(evaluation.runs()[:100])
    a_id, b_id = request.GET.get("a", ""), request.GET.get("b", "")
    if not a_id and not b_id and len(runs) >= 2:
        # Opened without a choice: the latest run against the one before it.
        a_id, b_id = str(runs[1].pk), str(runs[0].pk)
    run_a = next((r for r in runs if str(r.pk) == a_id), None) if a_id else None
    run_b = next((r for r in runs if str(r.pk) == b_id), None) if b_id else None
    status = 200
    if (a_id and run_a is None) or (b_id and run_b is None):
        messages.error(request, _("Choose two runs from the lists."))
        status = 400
    rows = evaluation.compare(run_a, run_b) if run_a and run_b else []
    return render(request, "governance/evaluation/compare.html", {
        "runs": runs, "run_a": run_a, "run_b": run_b, "rows": rows}, status=status)


@login_required
def export(request, pk: int, fmt: str):
    run = _run(request, pk)
    if fmt == "xlsx":
        response = HttpResponse(evaluation_exports.to_xlsx(run, request.user),
                                content_type=evaluation_exports.XLSX_TYPE)
    elif fmt == "pdf":
        response = HttpResponse(evaluation_exports.to_pdf(run, request.user, request), content_type="application/pdf")
    else:
        return HttpResponse(_("format: choose xlsx or pdf."), status=400, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{evaluation_exports.filename(run, fmt)}"'
    return response


urlpatterns = [
    path("evaluation/", runs_page, name="evaluation_runs"),
    path("evaluation/systems/", systems_page, name="evaluation_systems"),
    path("evaluation/systems/<int:pk>/", system_page, name="evaluation_system"),
    path("evaluation/systems/<int:pk>/indicators/new/", indicator_new, name="evaluation_indicator_new"),
    path("evaluation/indicators/<int:pk>/", indicator_edit, name="evaluation_indicator_edit"),
    path("evaluation/indicators/<int:pk>/delete/", indicator_delete, name="evaluation_indicator_delete"),
    path("evaluation/runs/<int:pk>/", run_page, name="evaluation_run"),
    path("evaluation/runs/<int:pk>/areas/<int:area_id>/", area_page, name="evaluation_area"),
    path("evaluation/runs/<int:pk>/export.<str:fmt>", export, name="evaluation_export"),
    path("evaluation/compare/", compare_page, name="evaluation_compare"),
]
