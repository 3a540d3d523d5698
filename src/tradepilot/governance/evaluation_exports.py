"""A run as XLSX (a ranking sheet and a detail sheet of every score with its inputs) and as PDF (WeasyPrint, the
bulletin's page frame and CJK fonts). The ranking lists every area; the details cover only the areas the reader
may drill into (`evaluation.drillable_results`), as on the pages."""

from __future__ import annotations

import io

from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from tradepilot.governance import evaluation
from tradepilot.governance.models import EvaluationRun

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NUMBER_FORMATS = {"%": "0.0", "count": "#,##0", "CNY 10k": "#,##0.00", "USD": "#,##0.00"}


def filename(run: EvaluationRun, ext: str) -> str:
    return f"evaluation-{run.system.code}-{run.year}-run{run.pk}.{ext}"


def detail_results(user, run: EvaluationRun):
    averages = evaluation.averages(run)
    results = (evaluation.drillable_results(user, run).select_related("area__region", "run")
               .prefetch_related("scores").order_by("rank", "area__order"))
    return [(r, evaluation.score_rows(r, averages)) for r in results]


def _bold(ws, row: int) -> None:
    for cell in ws[row]:
        cell.font = Font(bold=True)


def to_xlsx(run: EvaluationRun, user) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = _("Ranking")[:31]
    ws.append([f"{run.system.name} — {run.year}"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([_("Run at"), run.run_at.strftime("%Y-%m-%d %H:%M"), _("Run"), run.pk])
    ws.append([])
    ws.append([_("Rank"), _("Pilot area"), _("Region code"), _("Total score")])
    _bold(ws, ws.max_row)
    for r in evaluation.ranking(run):
        ws.append([r.rank, r.area.name, r.area.region.code, r.total])
        ws.cell(row=ws.max_row, column=4).number_format = "0.00"
    ws.append([])
    ws.append([_("Indicator"), _("Weight"), _("Scoring method")])
    _bold(ws, ws.max_row)
    for ind in run.config.get("indicators", []):
        ws.append([evaluation.indicator_name(ind), ind["weight"], evaluation.method_text(ind)])
    for letter, width in zip("ABCD", (34, 22, 14, 14), strict=True):
        ws.column_dimensions[letter].width = width

    detail = wb.create_sheet(_("Scores and inputs")[:31])
    detail.append([_("Pilot area"), _("Rank"), _("Indicator code"), _("Indicator"), _("Value"), _("Unit"),
                   _("Score"), _("Weight"), _("Weighted score"), _("Formula"), _("How the score was reached"),
                   _("Note"), _("Inputs")])
    _bold(detail, 1)
    for result, rows in detail_results(user, run):
        for row in rows:
            inputs = "; ".join(f"{i['label']}: {i['value'] if i['value'] is not None else '—'} {i['unit']}".strip()
                               for i in row.inputs)
            detail.append([result.area.name, result.rank, row.indicator["code"], row.name, row.value, row.unit,
                           row.score, row.weight, row.weighted, row.formula, row.scoring, row.note, inputs])
            r = detail.max_row
            if row.value is not None:
                detail.cell(row=r, column=5).number_format = NUMBER_FORMATS.get(row.unit, "General")
            for col in (7, 8, 9):
                detail.cell(row=r, column=col).number_format = "0.00"
            for col in (10, 11, 13):
                detail.cell(row=r, column=col).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFGHIJKLM", (14, 6, 20, 24, 14, 9, 8, 8, 10, 50, 40, 30, 70), strict=True):
        detail.column_dimensions[letter].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_pdf(run: EvaluationRun, user, request) -> bytes:
    from tradepilot.analytics.bulletin_views import render_pdf

    ranking = evaluation.ranking(run)
    top = max((r.total for r in ranking), default=0) or 1
    html = render_to_string("governance/evaluation/export_pdf.html", {
        "run": run, "ranking": [(r, float(r.total / top * 100)) for r in ranking],
        "indicators": [(evaluation.indicator_name(i), i["weight"], evaluation.method_text(i))
                       for i in run.config.get("indicators", [])],
        "details": detail_results(user, run),
    }, request=request)
    return render_pdf(html, request.build_absolute_uri("/"))
