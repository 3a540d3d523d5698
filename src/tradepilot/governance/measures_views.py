"""Pages of the opening measures (附件2) in the pilot areas: the areas × measures grid (with CSV / XLSX download),
one area's measures, one area measure (implementation record, effects, history), one measure across areas (with
a chart of its effects by quarter), and the bulk upload of effects.

Reading: ministry, auditor, departments and bureaus (rows scoped by `core.scoping.scope_areas`); editing: the
area's own bureau only (`measures.can_edit`). Domain rules live in `governance.measures` and
`governance.measure_imports`."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from tradepilot.core.models import AuditLog, PilotArea
from tradepilot.core.params import row_id
from tradepilot.core.scoping import get_area_scoped, scope_areas
from tradepilot.governance import measure_exports, measure_imports, measures
from tradepilot.governance.models import AreaMeasure, MeasureEffect, MeasureStatus, OpeningMeasure

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ACTION_LABELS = {
    "measure:update": gettext_lazy("implementation changed"),
    "measure_effect:create": gettext_lazy("effect added"),
    "measure_effect:update": gettext_lazy("effect changed"),
    "measure_effect:delete": gettext_lazy("effect deleted"),
}


def _download(content: bytes, filename: str, kind: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX if kind == "xlsx" else "text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _chart_data(effects) -> dict:
    labels, series = measures.effects_by_quarter(effects)
    return {"quarters": labels,
            "series": [{"code": code, "name": str(label), "values": [str(v) for v in series[code]]}
                       for code, label in MeasureEffect.Indicator.choices]}


def _table(effects) -> list[dict]:
    labels, series = measures.effects_by_quarter(effects)
    return [{"quarter": q, **{code: series[code][i] for code in series}} for i, q in enumerate(labels)]


# --- the grid ----------------------------------------------------------------------------------------------------

@login_required
def matrix(request):
    measures.check_reader(request.user)
    rnd = measures.pick_round(request.GET.get("round"))
    domain = request.GET.get("domain", "")
    status = request.GET.get("status", "")
    status = status if status in MeasureStatus.values else ""
    if rnd is None:
        return render(request, "governance/measures/matrix.html", {"round": None})
    domain = domain if domain in measures.domains(rnd) else ""
    g = measures.grid(request.user, rnd, domain=domain, status=status)
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        content = measure_exports.to_csv(g) if fmt == "csv" else measure_exports.to_xlsx(g)
        return _download(content, f"opening-measures-{rnd.code}.{fmt}", fmt)
    counts = measures.status_counts(measures.area_measures(request.user).filter(
        area__round=rnd, **({"measure__domain_zh": domain} if domain else {})))
    keep = {k: v for k, v in {"round": rnd.code, "domain": domain, "status": status}.items() if v}
    return render(request, "governance/measures/matrix.html", {
        "round": rnd, "rounds": measures.rounds_with_measures(), "grid": g, "domain": domain, "status": status,
        "domains": measures.domains(rnd), "statuses": MeasureStatus.choices, "filtered": bool(domain or status),
        "counts": [(v, label, counts[v]) for v, label in MeasureStatus.choices],
        "areas_visible": scope_areas(request.user, PilotArea.objects.filter(round=rnd)).exists(),
        "csv_query": urlencode({**keep, "format": "csv"}), "xlsx_query": urlencode({**keep, "format": "xlsx"}),
        "can_import": measure_imports.may_import(request.user),
    })


# --- one area ----------------------------------------------------------------------------------------------------

@login_required
def area_page(request, area_id: int):
    measures.check_reader(request.user)
    area = get_area_scoped(request.user, PilotArea.objects.select_related("region", "round"), pk=area_id)
    rows = list(measures.area_measures(request.user).filter(area=area).prefetch_related("measure__regulations",
                                                                                      "effects"))
    summary = measures.implementation_summary(area.round).get(area.pk)
    return render(request, "governance/measures/area.html", {
        "area": area, "rows": rows, "summary": summary, "statuses": MeasureStatus.choices,
        "not_applicable": sum(1 for r in rows if r.status == MeasureStatus.NOT_APPLICABLE),
        "can_edit": rows and measures.can_edit(request.user, rows[0]),
        "today": measures.today(),
    })


# --- one area measure --------------------------------------------------------------------------------------------

def _implementation_context(request, am: AreaMeasure, *, form: dict | None = None, errors: list | None = None,
                            effect_form: dict | None = None, effect_errors: list | None = None) -> dict:
    effects = list(am.effects.all())
    history = list(AuditLog.objects.filter(object_type=AreaMeasure._meta.label_lower,
                                           object_id=str(am.pk)).select_related("actor")[:100])
    for entry in history:
        entry.label = ACTION_LABELS.get(entry.action, entry.action)
    return {
        "am": am, "measure": am.measure, "area": am.area, "effects": effects, "table": _table(effects),
        "chart": _chart_data(effects), "history": history, "statuses": MeasureStatus.choices,
        "indicators": MeasureEffect.Indicator.choices,
        "quarters": [measures.quarter_label(*q) for q in reversed(measures.round_quarters(am.area.round,
                                                                                          measures.today()))],
        "can_edit": measures.can_edit(request.user, am),
        "form": form or measures.snapshot(am), "errors": {e["field"]: e["message"] for e in errors or []},
        "effect_form": effect_form or {}, "effect_errors": {e["field"]: e["message"] for e in effect_errors or []},
        "today": measures.today(),
    }


def _next(request, am: AreaMeasure) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("governance:measures_implementation", args=[am.pk])


@login_required
def implementation(request, pk: int):
    measures.check_reader(request.user)
    am = get_area_scoped(request.user, AreaMeasure.objects.select_related("area__region", "area__round", "measure"),
                         pk=pk)
    if request.method != "POST":
        return render(request, "governance/measures/implementation.html", _implementation_context(request, am))
    action = request.POST.get("action", "save")
    reason = request.POST.get("reason", "").strip()
    if action == "save":
        data = {f: request.POST.get(f, "") for f in measures.IMPLEMENTATION_FIELDS}
        try:
            measures.update_implementation(request.user, am, data, reason=reason)
        except measures.MeasureError as exc:
            context = _implementation_context(request, am, form=data, errors=exc.errors)
            return render(request, "governance/measures/implementation.html", context, status=exc.status)
        messages.success(request, _("Saved."))
    elif action == "effect":
        data = {k: request.POST.get(k, "") for k in ("year", "quarter", "indicator", "value")}
        period = request.POST.get("period", "")
        if "Q" in period:  # the quarter picker sends "2019Q1"
            data["year"], data["quarter"] = period.split("Q", 1)
        try:
            _effect, outcome = measures.put_effect(request.user, am, reason=reason, **data)
        except measures.MeasureError as exc:
            context = _implementation_context(request, am, effect_form={**data, "period": period},
                                              effect_errors=exc.errors)
            return render(request, "governance/measures/implementation.html", context, status=exc.status)
        messages.success(request, {"created": _("Effect added."), "updated": _("Effect updated."),
                                   "unchanged": _("Nothing changed.")}[outcome])
    elif action == "delete_effect":
        effect_id = row_id(request.POST.get("effect"))
        effect = am.effects.filter(pk=effect_id).first() if effect_id else None
        if effect is None:
            raise Http404
        measures.delete_effect(request.user, effect, reason=reason)
        messages.success(request, _("Effect deleted."))
    else:
        messages.error(request, _("Unknown action."))
        return redirect("governance:measures_implementation", am.pk)
    return redirect(_next(request, am))


# --- one measure across areas ------------------------------------------------------------------------------------

@login_required
def measure_page(request, measure_id: int):
    measures.check_reader(request.user)
    try:
        measure = OpeningMeasure.objects.select_related("round").prefetch_related("regulations").get(pk=measure_id)
    except OpeningMeasure.DoesNotExist:
        raise Http404 from None
    rows = list(measures.area_measures(request.user).filter(measure=measure).prefetch_related("effects"))
    area_id = request.GET.get("area", "")
    chosen = next((r for r in rows if str(r.area_id) == area_id), None)
    effects = [e for r in rows if chosen is None or r is chosen for e in r.effects.all()]
    latest = {}
    for r in rows:
        quarters = sorted({(e.year, e.quarter) for e in r.effects.all()})
        if quarters:
            last = quarters[-1]
            latest[r.pk] = {"quarter": measures.quarter_label(*last),
                            **{e.indicator: e.value for e in r.effects.all() if (e.year, e.quarter) == last}}
    for r in rows:
        r.latest = latest.get(r.pk)
    return render(request, "governance/measures/measure.html", {
        "measure": measure, "rows": rows, "chosen": chosen, "table": _table(effects), "chart": _chart_data(effects),
        "counts": [(v, label, sum(1 for r in rows if r.status == v)) for v, label in MeasureStatus.choices],
        "indicators": MeasureEffect.Indicator.choices,
    })


# --- bulk upload of effects --------------------------------------------------------------------------------------

@login_required
def import_upload(request):
    measure_imports.check_importer(request.user)
    if request.method != "POST":
        return render(request, "governance/measures/import.html", {"spec": measure_imports.EFFECTS_SPEC})
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("Choose a file to upload."))
        return render(request, "governance/measures/import.html", {"spec": measure_imports.EFFECTS_SPEC},
                      status=400)
    try:
        token, stored = measure_imports.store_upload(upload, request.user)
    except measures.MeasureError as exc:
        messages.error(request, exc.message)
        return render(request, "governance/measures/import.html", {"spec": measure_imports.EFFECTS_SPEC},
                      status=exc.status)
    result = measure_imports.dry_run(stored, request.user, upload.name)
    return render(request, "governance/measures/import.html", {
        "spec": measure_imports.EFFECTS_SPEC, "result": result, "token": token, "filename": upload.name,
        "shown": result.planned[:measure_imports.MAX_SHOWN],
    }, status=200 if result.ok else 400)


@login_required
@require_POST
def import_commit(request):
    measure_imports.check_importer(request.user)
    stored = measure_imports.stored_path(request.user, request.POST.get("token", ""))
    if stored is None:
        raise Http404
    filename = request.POST.get("filename", "")[:200] or stored.name
    try:
        result = measure_imports.commit(stored, request.user, filename)
    except measure_imports.ImportFailed as exc:
        return render(request, "governance/measures/import.html", {
            "spec": measure_imports.EFFECTS_SPEC, "result": exc.result, "token": "", "filename": filename,
            "shown": exc.result.planned[:measure_imports.MAX_SHOWN]}, status=400)
    stored.unlink(missing_ok=True)
    messages.success(request, _("Imported %(n)d rows: %(c)d added, %(u)d updated, %(s)d unchanged.") % {
        "n": result.rows, "c": result.count("create"), "u": result.count("update"), "s": result.count("unchanged")})
    return redirect("governance:measures_matrix")


@login_required
def import_template(request, kind: str):
    measure_imports.check_importer(request.user)
    if kind == "csv":
        return _download(measure_imports.template_csv(request.user), "measure-effects-template.csv", kind)
    if kind == "xlsx":
        return _download(measure_imports.template_xlsx(request.user), "measure-effects-template.xlsx", kind)
    raise Http404


urlpatterns = [
    path("measures/", matrix, name="measures_matrix"),
    path("measures/areas/<int:area_id>/", area_page, name="measures_area"),
    path("measures/implementation/<int:pk>/", implementation, name="measures_implementation"),
    path("measures/<int:measure_id>/", measure_page, name="measures_measure"),
    path("measures/effects/import/", import_upload, name="measures_import"),
    path("measures/effects/import/commit/", import_commit, name="measures_import_commit"),
    path("measures/effects/template.<str:kind>", import_template, name="measures_import_template"),
]
