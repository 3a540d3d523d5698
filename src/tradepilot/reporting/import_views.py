"""Upload → dry-run preview with located errors → commit; template downloads and report exports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tradepilot.core.scoping import get_scoped
from tradepilot.reporting import imports, spreadsheets
from tradepilot.reporting.models import ImportBatch, Report, ReportForm
from tradepilot.reporting.services import ReportError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, filename: str, kind: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX if kind == "xlsx" else "text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def form_template(request, form: str, kind: str):
    if form not in ReportForm.Code.values:
        raise Http404
    if kind == "xlsx":
        return _download(spreadsheets.form_template_xlsx(form), f"tradepilot-{form}-template.xlsx", kind)
    if kind == "csv":
        return _download(spreadsheets.form_template_csv(form), f"tradepilot-{form}-template.csv", kind)
    raise Http404


@login_required
def template(request, kind: str):
    if kind == "xlsx":
        return _download(spreadsheets.monthly_template_xlsx(), "tradepilot-monthly-template.xlsx", kind)
    if kind == "csv":
        return _download(spreadsheets.monthly_template_csv(), "tradepilot-monthly-template.csv", kind)
    raise Http404


@login_required
def report_export(request, pk: int, kind: str):
    report = get_scoped(request.user, Report.objects.select_related("enterprise"), pk=pk)
    name = f"{report.enterprise.uscc}-{report.period_label}-v{report.version}.{kind}"
    if kind == "xlsx":
        return _download(spreadsheets.export_report_xlsx(report), name, kind)
    if kind == "csv":
        return _download(spreadsheets.export_report_csv(report), name, kind)
    raise Http404


@login_required
def upload(request):
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        if upload_file is None:
            messages.error(request, _("Choose a file to upload."))
        else:
            try:
                form = request.POST.get("form") or ReportForm.Code.MONTHLY
                if form not in ReportForm.Code.values:
                    form = ReportForm.Code.MONTHLY
                batch = imports.store_upload(upload_file, request.user, form)
                imports.dry_run(batch, request.user)
                return redirect("reporting:import_preview", batch.pk)
            except ReportError as exc:
                messages.error(request, exc.message)
    recent = ImportBatch.objects.filter(user=request.user).select_related("form")[:10]
    return render(request, "reporting/import_upload.html", {"recent": recent, "forms": ReportForm.Code.choices})


@login_required
def preview(request, pk: int):
    batch = ImportBatch.objects.filter(pk=pk, user=request.user).first()
    if batch is None:
        raise Http404
    if request.method == "POST":
        try:
            summary = imports.commit(batch, request.user)
            messages.success(request, _("Imported: %(c)d reports created, %(r)d replaced, %(u)d unchanged.") % {
                "c": summary.reports_created, "r": summary.reports_replaced, "u": summary.reports_unchanged})
        except ReportError as exc:
            messages.error(request, exc.message)
        return redirect("reporting:import_preview", batch.pk)
    return render(request, "reporting/import_preview.html", {"batch": batch, "summary": imports.public_summary(batch)})
