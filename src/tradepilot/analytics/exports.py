"""Downloads of a panel as CSV (UTF-8 with BOM, so spreadsheet programs read Chinese) or XLSX."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from tradepilot.analytics.dashboard import Panel

CONFIDENTIAL = "C"


def _cell(value, unit: str):
    if value is None and unit not in ("text", "code"):
        return CONFIDENTIAL
    return value


def to_csv(panel: Panel, context_line: str) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([f"{panel.title} — {context_line}"])
    writer.writerow([c.title + (f" ({c.unit})" if c.unit not in ("text", "code") else "") for c in panel.columns])
    for row in panel.rows:
        writer.writerow(["" if (v := _cell(row.get(c.key), c.unit)) is None else str(v) for c in panel.columns])
    writer.writerow([])
    writer.writerow([_("C = confidential (suppressed to protect respondents); values in USD unless stated.")])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(panel: Panel, context_line: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = panel.name[:31]
    ws.append([f"{panel.title} — {context_line}"])
    ws["A1"].font = Font(bold=True)
    ws.append([c.title + (f" ({c.unit})" if c.unit not in ("text", "code") else "") for c in panel.columns])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in panel.rows:
        values = []
        for c in panel.columns:
            v = _cell(row.get(c.key), c.unit)
            # Money stays exact: openpyxl writes Decimal as a number with its digits.
            values.append(v if isinstance(v, (Decimal, int, str)) or v is None else str(v))
        ws.append(values)
        for cell, col in zip(ws[ws.max_row], panel.columns, strict=True):
            if col.unit == "USD":
                cell.number_format = "#,##0.00"
            elif col.unit == "%":
                cell.number_format = "0.0"
    ws.append([])
    ws.append([_("C = confidential (suppressed to protect respondents); values in USD unless stated.")])
    ws.column_dimensions["A"].width = 28
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
