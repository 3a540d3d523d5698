"""Downloads of the areas × measures grid: CSV (UTF-8 with BOM, so spreadsheet programs read Chinese) and XLSX
(the grid, plus a sheet with one row per area and measure: date, enabling document, legal basis, note)."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from tradepilot.governance.measures import Grid

DETAIL_COLUMNS = ("region_code", "area", "measure", "domain", "industry", "status", "implemented_on",
                  "enabling_document", "legal_basis", "note")


def _cell(am) -> str:
    if am is None:
        return ""
    text = am.get_status_display()
    return f"{text} {am.implemented_on.isoformat()}" if am.implemented_on else str(text)


def grid_rows(g: Grid) -> list[list]:
    header = [_("Region code"), _("Pilot area"), *[m.code for m in g.measures],
              _("Implemented"), _("Applicable"), _("Share implemented")]
    rows = [header]
    for r in g.rows:
        rows.append([r.area.region.code, r.area.name, *[_cell(c) for c in r.cells], r.implemented, r.applicable,
                     "" if r.share is None else r.share])
    return rows


def detail_rows(g: Grid) -> list[list]:
    rows = [list(DETAIL_COLUMNS)]
    for r in g.rows:
        for m, am in zip(g.measures, r.cells, strict=True):
            if am is None:
                continue
            rows.append([r.area.region.code, r.area.name, m.code, m.domain_zh, m.industry_zh, am.status,
                         am.implemented_on.isoformat() if am.implemented_on else "", am.enabling_document,
                         am.legal_basis, am.note])
    return rows


def legend(g: Grid) -> list[list]:
    return [[m.code, m.domain_zh, m.industry_zh, m.text_zh] for m in g.measures]


def to_csv(g: Grid) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_("Opening measures in the pilot areas — %(round)s") % {"round": g.round.name}])
    writer.writerows(grid_rows(g))
    writer.writerow([])
    writer.writerows(legend(g))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(g: Grid) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "grid"
    ws.append([_("Opening measures in the pilot areas — %(round)s") % {"round": g.round.name}])
    ws["A1"].font = Font(bold=True)
    for row in grid_rows(g):
        ws.append(row)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=3, min_col=ws.max_column, max_col=ws.max_column):
        for cell in row:
            cell.number_format = "0.00%"
    ws.column_dimensions["B"].width = 22
    details = wb.create_sheet("details")
    for row in detail_rows(g):
        details.append(row)
    for cell in details[1]:
        cell.font = Font(bold=True)
    measures_ws = wb.create_sheet("measures")
    measures_ws.append(["code", "domain", "industry", "measure"])
    for row in legend(g):
        measures_ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
