"""The reviewers' anomaly list: enterprise-level data-quality flags of one month, with CSV / XLSX downloads.

Ministry and auditors see every enterprise, a bureau only its region subtree (`visible_region_paths`);
enterprise and agency users are refused with 403, like the other reviewer pages (reporting.views.workbench).
Route (added in the project's urls): ``path("analytics/anomalies/", anomaly_list, name="anomalies")`` under the
``analytics`` namespace.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from tradepilot.analytics import queries
from tradepilot.analytics.anomalies import KINDS, MIN_USD, STAGES, Anomaly, find_anomalies
from tradepilot.core.models import Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import visible_region_paths
from tradepilot.reporting.periods import Period

PAGE_SIZE = 50
REVIEWER_ROLES = (Role.MINISTRY, Role.AUDITOR, Role.BUREAU)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Download columns (machine-readable keys, as the completeness CSV has).
COLUMNS = ["period", "severity", "score", "kind", "kind_label", "enterprise_id", "uscc", "enterprise", "region",
           "value_usd", "baseline_usd", "change_pct", "statistic", "detail", "report_id", "report_status",
           "report_url"]


def _parse_period(text: str) -> int | None:
    """'2026-09' (as elsewhere in the app) or '202609' → 202609; None when it is not a month."""
    text = (text or "").strip()
    if text.isdigit() and len(text) == 6:
        text = f"{text[:4]}-{text[4:]}"
    try:
        p = Period.parse(text)
    except ValueError:
        return None
    return p.year * 100 + p.month if p.month else None


def _label(period: int) -> str:
    return str(Period(period // 100, period % 100))


def _matches(a: Anomaly, q: str) -> bool:
    return q.casefold() in a.enterprise_name.casefold() or q.upper() in a.uscc.upper()


@login_required
def anomaly_list(request):
    if role_of(request.user) not in REVIEWER_ROLES:
        raise PermissionDenied
    region_path = visible_region_paths(request.user)
    stage = request.GET.get("stage", "")
    stage = stage if stage in STAGES else "preliminary"
    kind = request.GET.get("kind", "")
    kind = kind if kind in KINDS else ""
    q = request.GET.get("q", "").strip()

    available = queries.periods(queries.Filter(stage=stage))  # months in the store (no enterprise detail)
    period = None
    if request.GET.get("period"):
        period = _parse_period(request.GET["period"])
        if period is None:
            messages.error(request, _("'%(p)s' is not a period (YYYY-MM).") % {"p": request.GET["period"]})
    if period is None and available:
        period = available[-1]

    found = find_anomalies(period, region_path=region_path, stage=stage) if period else []
    counts = Counter(a.kind for a in found)
    rows = [a for a in found if (not kind or a.kind == kind) and (not q or _matches(a, q))]

    fmt = request.GET.get("format", "")
    if period and fmt in ("csv", "xlsx"):
        return _download(request, rows, period, fmt)

    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = {k: v for k, v in {"period": _label(period) if period else "", "stage": stage, "kind": kind,
                              "q": q}.items() if v}
    periods = [_label(p) for p in reversed(available[-36:])]
    if period and _label(period) not in periods:
        periods.insert(0, _label(period))
    return render(request, "analytics/anomalies.html", {
        "page": page, "rows": page.object_list, "total": len(found), "matching": len(rows),
        "period": _label(period) if period else "", "periods": periods, "has_data": bool(available),
        "stage": stage, "stages": [("preliminary", _("Preliminary (submitted or better)")),
                                   ("official", _("Official (approved)"))],
        "kind": kind, "kinds": [(code, label, counts.get(code, 0)) for code, label in KINDS.items()],
        "q": q, "filtered": bool(kind or q),
        "csv_query": urlencode({**keep, "format": "csv"}), "xlsx_query": urlencode({**keep, "format": "xlsx"}),
        "national": region_path is None, "min_usd": f"{MIN_USD:,.0f}",
    })


# --- downloads -------------------------------------------------------------------------------------------------

def _statistic(value: float | None) -> float | str:
    """Numbers as numbers; an infinite z-score or a jump from zero as text (no spreadsheet number for it)."""
    if value is None:
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return round(value, 4)


def _row(request, a: Anomaly) -> list:
    return [
        a.period_label, a.severity_label, a.score, a.kind, a.kind_label, a.enterprise_id, a.uscc,
        a.enterprise_name, a.region_name, a.value if a.value is not None else "",
        a.baseline if a.baseline is not None else "", a.change_pct if a.change_pct is not None else "",
        _statistic(a.statistic), a.detail, a.report_id or "", a.report_status_label,
        request.build_absolute_uri(a.report_url) if a.report_url else "",
    ]


def _download(request, rows: list[Anomaly], period: int, fmt: str) -> HttpResponse:
    filename = f"anomalies-{_label(period)}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write("\ufeff")  # BOM: Excel opens the file as UTF-8 and shows the Chinese names
        writer = csv.writer(response)
        writer.writerow(COLUMNS)
        for a in rows:
            writer.writerow(_row(request, a))
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(_("Anomalies"))
        ws.append(COLUMNS)
        for a in rows:
            ws.append(_row(request, a))  # Decimal money values are written as numbers
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
