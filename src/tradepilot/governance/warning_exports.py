"""Downloads of the early-warning alert history: CSV (UTF-8 with BOM, so spreadsheet programs read Chinese) or
XLSX. One row per alert with aggregates only (the indicator's value), as the filtered list shows it."""

from __future__ import annotations

import csv
import io

from django.utils.translation import gettext as _

from tradepilot.governance.models import RiskAlert
from tradepilot.governance.warning_alerts import subject_label, unit_of
from tradepilot.governance.warning_kinds import period_label

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Machine-readable column keys, as the other downloads of the platform have.
COLUMNS = ["id", "period", "area_code", "area", "rule_code", "rule", "subject", "subject_label", "level", "value",
           "unit", "state", "fired_at", "acknowledged_by", "acknowledged_at", "handled_by", "handled_at",
           "handling_note", "url"]


def _when(value) -> str:
    return value.isoformat(timespec="seconds") if value else ""


def row(alert: RiskAlert, absolute_url) -> list:
    from django.urls import reverse

    return [
        alert.pk, period_label(alert.year * 100 + alert.month), alert.area.region.code, alert.area.name,
        alert.rule.code, alert.rule.name, alert.subject, subject_label(alert), alert.get_level_display(),
        alert.value, unit_of(alert.rule), alert.get_state_display(), _when(alert.fired_at),
        alert.acknowledged_by.username if alert.acknowledged_by_id else "", _when(alert.acknowledged_at),
        alert.handled_by.username if alert.handled_by_id else "", _when(alert.handled_at), alert.handling_note,
        absolute_url(reverse("governance:warning_alert", args=[alert.pk])),
    ]


def to_csv(alerts, absolute_url) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)
    for alert in alerts:
        writer.writerow(["" if v is None else str(v) for v in row(alert, absolute_url)])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(alerts, absolute_url) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Early-warning alerts")[:31])
    ws.append(COLUMNS)
    for alert in alerts:
        ws.append(row(alert, absolute_url))  # the Decimal value is written as a number with its digits
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
