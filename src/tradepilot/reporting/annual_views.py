"""The annual forms' page: basic registration, inward FATS, outward FATS — same workflow as the monthly report."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render

from tradepilot.core.models import AuditLog, Country, Industry, ServiceCategory
from tradepilot.core.scoping import scope
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting import annual, workflow
from tradepilot.reporting.models import Report, ReportForm
from tradepilot.reporting.periods import Period, due_date, lock_date
from tradepilot.reporting.services import ReportError
from tradepilot.reporting.validation import validate_report

AFFILIATE_FIELDS = ("name", "host_country", "activity", "turnover", "employment", "total_assets", "net_profit",
                    "ownership_share")


def _posted_content(report: Report, post) -> tuple[dict | list, bool]:
    code = report.form.code
    if code == ReportForm.Code.BASIC:
        return {k: post.get(k, "") for k in ("name", "industry", "registration_type", "foreign_share", "employees",
                                             "registered_capital", "main_services", "contact_name", "contact_phone",
                                             "contact_email")}, False
    if code == ReportForm.Code.FATS_IN:
        data = {k: post.get(k, "") for k in ("ultimate_parent_country", "activity", "employment", *annual.FATS_IN_MONEY)}
        data["services_sales_by_component"] = {
            k[len("component:"):]: v for k, v in post.items() if k.startswith("component:") and v.strip()}
        return data, False
    columns = {f: post.getlist(f) for f in AFFILIATE_FIELDS}
    rows = []
    for i in range(max((len(v) for v in columns.values()), default=0)):
        row = {f: (columns[f][i] if i < len(columns[f]) else "") for f in AFFILIATE_FIELDS}
        if any(str(v).strip() for v in row.values()):
            rows.append(row)
    return rows, post.get("nil_return") == "on"


def _save(report: Report, content, nil: bool, user, reason: str) -> None:
    code = report.form.code
    if code == ReportForm.Code.BASIC:
        annual.save_basic(report, content, user, reason)
    elif code == ReportForm.Code.FATS_IN:
        annual.save_fats_in(report, content, user, reason)
    else:
        annual.save_fats_out(report, content, user, nil_return=nil, reason=reason)


def annual_report_detail(request, report: Report):
    actions = workflow.allowed_actions(request.user, report)
    errors, content, nil = [], None, report.nil_return
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action in ("save", "submit"):
                if "edit" not in actions:
                    raise PermissionDenied
                content, nil = _posted_content(report, request.POST)
                _save(report, content, nil, request.user, request.POST.get("reason", ""))
                from tradepilot.reporting.views import after_save

                return after_save(request, report, action)
            from tradepilot.reporting.views import review_action

            return redirect("reporting:report", review_action(request, report, action).pk)
        except ReportError as exc:
            messages.error(request, exc.message)
            errors = exc.errors
            report.refresh_from_db()
            actions = workflow.allowed_actions(request.user, report)
    if content is None:
        content = annual.content(report)
        if report.form.code == ReportForm.Code.FATS_OUT:
            content = content["affiliates"]
        elif content is None:
            content = {}
    versions = scope(request.user, Report.objects.filter(enterprise=report.enterprise, form=report.form,
                                                         year=report.year, month=report.month)).order_by("version")
    period = Period(report.year, report.month)
    return render(request, "reporting/annual_report.html", {
        "report": report, "content": content, "nil_return": nil, "actions": actions, "editable": "edit" in actions,
        "errors": {e["field"]: e["message"] for e in errors if e.get("field")},
        "general_errors": [e for e in (errors or validate_report(report).line_errors)],
        "versions": versions, "audit": AuditLog.objects.filter(report__in=versions).select_related("actor")[:200],
        "due": due_date(report.form, period), "lock": lock_date(report.form, period),
        "countries": Country.objects.all(), "industries": Industry.objects.filter(parent__isnull=False),
        "components": ServiceCategory.objects.filter(level=1),
        "types": Enterprise.RegistrationType.choices,
        "affiliate_rows": (content if isinstance(content, list) else []) + [{}],
    })
