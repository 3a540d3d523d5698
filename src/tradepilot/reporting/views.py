"""Pages of the reporting system: enterprise portal, report form, bureau workbench, ministry overview, rates.

Views fetch through `scoping` and call services; a failed save re-renders the form with the user's input and the
located errors, so nothing typed is lost.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradepilot.core.models import AuditLog, Country, Currency, Role, ServiceCategory, SupplyMode
from tradepilot.core.params import row_id
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import get_scoped, scope
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting import completeness as completeness_service
from tradepilot.reporting import services, workflow
from tradepilot.reporting.api import completeness_enterprises, completeness_groups
from tradepilot.reporting.lines import FIELDS
from tradepilot.reporting.models import ExchangeRate, Report, ReportForm, Status
from tradepilot.reporting.periods import (
    Period,
    due_date,
    is_locked,
    latest_closed_period,
    lock_date,
    recent_periods,
)
from tradepilot.reporting.validation import validate_report


def _roles(*roles):
    def check(request):
        if role_of(request.user) not in roles:
            raise PermissionDenied

    return check


def _period_param(request, default: Period | None = None) -> Period:
    try:
        return Period.parse(request.GET.get("period", ""))
    except ValueError:
        return default or latest_closed_period()


def _reports(user):
    return scope(user, Report.objects.select_related("enterprise__region", "form"))


# --- enterprise portal -----------------------------------------------------------------------------------------

@login_required
def my_reports(request):
    _roles(Role.ENTERPRISE)(request)
    form = services.monthly_form()
    enterprises = list(scope(request.user, Enterprise.objects.select_related("region")).filter(is_active=True))
    periods = recent_periods(12)
    reports = {
        (r.enterprise_id, r.year, r.month): r
        for r in _reports(request.user).filter(form=form, is_current=True, year__gte=periods[-1].year)
    }
    rows = []
    for enterprise in enterprises:
        for p in periods:
            report = reports.get((enterprise.id, p.year, p.month))
            rows.append({
                "enterprise": enterprise, "period": p, "report": report, "due": due_date(form, p),
                "locked": is_locked(form, p, enterprise),
                "overdue": report is None or report.status in (Status.DRAFT, Status.RETURNED),
            })
    annual_rows = []
    annual_forms = list(ReportForm.objects.filter(periodicity=ReportForm.Periodicity.ANNUAL, is_active=True))
    annual_reports = {
        (r.enterprise_id, r.form_id, r.year): r
        for r in _reports(request.user).filter(form__in=annual_forms, is_current=True)
    }
    last_year = periods[0].year - 1 if periods[0].month < 12 else periods[0].year
    for enterprise in enterprises:
        for year in (last_year, last_year - 1):
            for f in annual_forms:
                p = Period(year, 0)
                annual_rows.append({"enterprise": enterprise, "form": f, "period": p, "due": due_date(f, p),
                                    "report": annual_reports.get((enterprise.id, f.id, year)),
                                    "locked": is_locked(f, p, enterprise)})
    return render(request, "reporting/my_reports.html", {"rows": rows, "enterprises": enterprises,
                                                         "annual_rows": annual_rows})


@login_required
@require_POST
def open_report(request):
    _roles(Role.ENTERPRISE)(request)
    enterprise = get_scoped(request.user, Enterprise.objects.all(), pk=request.POST.get("enterprise"))
    try:
        period = Period.parse(request.POST.get("period", ""))
        form = ReportForm.objects.get(code=request.POST.get("form") or ReportForm.Code.MONTHLY, is_active=True)
        if (form.periodicity == ReportForm.Periodicity.MONTHLY) != bool(period.month):
            raise ValueError(_("The period does not match the form."))
        report, _created = services.get_or_create_report(enterprise, form, period, request.user)
    except (ValueError, ReportForm.DoesNotExist, services.ReportError) as exc:
        messages.error(request, str(exc))
        return redirect("reporting:my_reports")
    return redirect("reporting:report", report.pk)


def _raw_lines_from_post(post) -> list[dict]:
    columns = {f: post.getlist(f) for f in FIELDS if f != "related_party"}
    related = set(post.getlist("related_party_row"))
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {f: (columns[f][i] if i < len(columns[f]) else "") for f in columns}
        if not any((row.get(f) or "").strip() for f in ("service", "partner", "amount")):
            continue  # an untouched blank row is not a line
        row["related_party"] = "Y" if str(i) in related else "N"
        rows.append(row)
    return rows


def _lines_as_raw(report: Report) -> list[dict]:
    return [
        {"direction": x.direction, "service": x.service.code, "partner": x.partner.alpha2, "mode": x.mode.code,
         "related_party": "Y" if x.related_party else "N", "amount": f"{x.amount}", "currency": x.currency.code,
         "note": x.note, "usd_amount": x.usd_amount}
        for x in report.lines.select_related("service", "partner", "mode", "currency")
    ]


def _pickers() -> dict:
    return {
        "services": ServiceCategory.objects.filter(is_leaf=True),
        "countries": Country.objects.exclude(alpha2="CN"),
        "modes": SupplyMode.objects.filter(in_direct_report=True),
        "currencies": Currency.objects.filter(code__in=ExchangeRate.objects.values("currency__code")).order_by("code")
        or Currency.objects.filter(code__in=["USD", "CNY", "EUR", "HKD", "JPY"]),
    }


def after_save(request, report: Report, action: str):
    """After a report page saved its content: submit when asked, then show the report again."""
    if action == "submit":
        workflow.submit(report, request.user)
        messages.success(request, _("Submitted. Your bureau will review it."))
    else:
        messages.success(request, _("Saved."))
    return redirect("reporting:report", report.pk)


def review_action(request, report: Report, action: str) -> Report:
    """Approve, accept, return or revise from a report page (monthly or annual); returns the report to show next."""
    post, user = request.POST, request.user
    if action == "approve":
        workflow.approve(report, user, post.get("note", ""))
        messages.success(request, _("Approved."))
    elif action == "accept":
        workflow.accept(report, user, post.get("note", ""))
        messages.success(request, _("Accepted."))
    elif action == "return":
        workflow.return_report(report, user, post.get("reason", ""))
        messages.success(request, _("Returned to the enterprise."))
    elif action == "revise":
        report = workflow.revise(report, user, post.get("reason", ""))
        messages.success(request, _("Revision opened as version %(v)s.") % {"v": report.version})
    else:
        raise PermissionDenied
    return report


@login_required
def report_detail(request, pk: int):
    report = get_scoped(request.user, Report.objects.select_related("enterprise__region", "form"), pk=pk)
    if report.form.code != ReportForm.Code.MONTHLY:
        from tradepilot.reporting.annual_views import annual_report_detail

        return annual_report_detail(request, report)
    actions = workflow.allowed_actions(request.user, report)
    raw_lines, line_errors, nil_return = None, [], report.nil_return

    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action in ("save", "submit"):
                if "edit" not in actions:
                    raise PermissionDenied
                raw_lines = _raw_lines_from_post(request.POST)
                nil_return = request.POST.get("nil_return") == "on"
                parsed = services.parse_lines(raw_lines)
                services.replace_lines(report, parsed, request.user, nil_return=nil_return, source="form")
                explanations = {k[12:]: v for k, v in request.POST.items() if k.startswith("explanation:")}
                if explanations:
                    services.set_explanations(report, explanations, request.user)
                return after_save(request, report, action)
            return redirect("reporting:report", review_action(request, report, action).pk)
        except services.ReportError as exc:
            messages.error(request, exc.message)
            line_errors = exc.errors
            report.refresh_from_db()
            actions = workflow.allowed_actions(request.user, report)

    if raw_lines is None:
        raw_lines = _lines_as_raw(report)
        validation = validate_report(report, line_errors=line_errors)
    else:
        # A rejected save: the stored report is not what is on screen, so show only the located errors.
        from tradepilot.reporting.validation import ValidationReport

        validation = ValidationReport([], [], line_errors)
    per_line = validation.by_line()
    for index, row in enumerate(raw_lines, start=1):
        row["messages"] = per_line.get(index, [])
        row["index"] = index - 1
    versions = _reports(request.user).filter(enterprise=report.enterprise, form=report.form, year=report.year,
                                             month=report.month).order_by("version")
    audit = AuditLog.objects.filter(report__in=versions).select_related("actor").order_by("-timestamp", "-id")
    period = Period(report.year, report.month)
    context = {
        "report": report, "lines": raw_lines, "nil_return": nil_return, "actions": actions,
        "editable": "edit" in actions, "validation": validation, "general_errors": [e for e in validation.line_errors
                                                                                     if not e.get("row")],
        "versions": versions, "audit": audit[:200], "changes": workflow.changes_since_approval(report),
        "due": due_date(report.form, period), "lock": lock_date(report.form, period),
        "exports": sum((Decimal(x["usd_amount"] or 0) for x in raw_lines if x.get("usd_amount") is not None
                        and x["direction"] == "X"), Decimal(0)),
        "imports": sum((Decimal(x["usd_amount"] or 0) for x in raw_lines if x.get("usd_amount") is not None
                        and x["direction"] == "M"), Decimal(0)),
        **_pickers(),
    }
    return render(request, "reporting/report.html", context)


# --- bureau workbench ------------------------------------------------------------------------------------------

@login_required
def workbench(request):
    _roles(Role.BUREAU, Role.MINISTRY, Role.AUDITOR)(request)
    period = request.GET.get("period", "")
    status = request.GET.get("status", "submitted" if role_of(request.user) == Role.BUREAU else "")
    q = request.GET.get("q", "").strip()
    qs = _reports(request.user).filter(is_current=True, form__code="monthly")
    if period:
        try:
            p = Period.parse(period)
            qs = qs.filter(year=p.year, month=p.month)
        except ValueError:
            messages.error(request, _("'%(p)s' is not a period (YYYY-MM).") % {"p": period})
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(enterprise__name__icontains=q) | qs.filter(enterprise__uscc__icontains=q.upper())
    page = Paginator(qs.order_by("-year", "-month", "enterprise__name"), 50).get_page(request.GET.get("page"))
    for r in page:
        r.user_actions = workflow.allowed_actions(request.user, r)
    return render(request, "reporting/workbench.html", {
        "page": page, "period": period, "status": status, "q": q, "statuses": Status.choices,
    })


@login_required
@require_POST
def bulk_approve(request):
    _roles(Role.BUREAU, Role.MINISTRY)(request)
    ids = [i for i in map(row_id, request.POST.getlist("report")) if i is not None]
    results = workflow.bulk_approve(ids, request.user, _reports(request.user))
    ok = sum(r.ok for r in results)
    if ok:
        messages.success(request, _("%(n)d reports approved.") % {"n": ok})
    for r in results:
        if not r.ok:
            messages.error(request, _("Report %(id)s: %(msg)s") % {"id": r.report_id, "msg": r.message})
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("reporting:workbench")
    return redirect(target)


@login_required
def completeness(request):
    _roles(Role.BUREAU, Role.MINISTRY, Role.AGENCY, Role.AUDITOR)(request)
    period = _period_param(request)
    region_code = request.GET.get("region") or None
    enterprises = completeness_enterprises(request.user)
    if region_code:
        enterprises = enterprises.filter(region__path__contains=f"/{region_code}/")
    form = services.monthly_form()
    rows, total = completeness_service.completeness(enterprises, period, form,
                                                    completeness_groups(request.user, region_code))
    can_list = role_of(request.user) != Role.AGENCY
    missing = (completeness_service.non_reporters(scope(request.user, enterprises), period, form)
               if can_list else Enterprise.objects.none())
    if request.GET.get("format") == "csv":
        return _completeness_csv(rows, total, period)
    trend = []
    if role_of(request.user) in (Role.MINISTRY, Role.AGENCY, Role.AUDITOR) and not region_code:
        # The national picture over the last twelve months, newest first.
        for p in recent_periods(12):
            _rows, t = completeness_service.completeness(enterprises, p, form, group_by=[])
            trend.append({"period": p, "total": t})
    return render(request, "reporting/completeness.html", {
        "trend": trend,
        "period": period, "periods": recent_periods(24), "rows": rows, "total": total, "missing": missing[:200],
        "missing_count": missing.count(), "can_remind": role_of(request.user) in (Role.BUREAU, Role.MINISTRY),
        "due": due_date(form, period), "lock": lock_date(form, period), "region": region_code,
        "chart": [{"name": r.region_name, "submitted": r.submitted_pct or 0, "on_time": r.on_time_pct or 0}
                  for r in rows if r.expected],
    })


def _completeness_csv(rows, total, period) -> HttpResponse:
    import csv

    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="completeness-{period}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(["region_code", "region", "expected", "submitted", "on_time", "approved", "accepted",
                     "submitted_pct", "on_time_pct", "systemic_expected", "systemic_submitted", "systemic_coverage_pct"])
    for r in [*rows, total]:
        writer.writerow([r.region_code, r.region_name, r.expected, r.submitted, r.on_time, r.approved, r.accepted,
                         r.submitted_pct, r.on_time_pct, r.systemic_expected, r.systemic_submitted,
                         r.systemic_coverage_pct])
    return response


@login_required
@require_POST
def remind(request):
    _roles(Role.BUREAU, Role.MINISTRY)(request)
    try:
        period = Period.parse(request.POST.get("period", ""))
    except ValueError:
        messages.error(request, _("Choose a period."))
        return redirect("reporting:completeness")
    enterprises = scope(request.user, Enterprise.objects.all())
    region_code = request.POST.get("region")
    if region_code:
        enterprises = enterprises.filter(region__path__contains=f"/{region_code}/")
    n = completeness_service.remind(enterprises, period, request.user)
    messages.success(request, _("Reminders sent to %(n)d users.") % {"n": n})
    return redirect(f"{reverse('reporting:completeness')}?period={period}")


@login_required
def ministry_overview(request):
    _roles(Role.MINISTRY, Role.AGENCY, Role.AUDITOR)(request)
    return completeness(request)


# --- exchange rates --------------------------------------------------------------------------------------------

@login_required
def rates(request):
    is_ministry = role_of(request.user) == Role.MINISTRY
    if request.method == "POST":
        if not is_ministry:
            raise PermissionDenied
        from tradepilot.reporting.rate_upload import RateUploadError, upload_rates

        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file."))
        else:
            try:
                rows, changed = upload_rates(upload, request.user)
                messages.success(request, _("%(rows)d rates read, %(changed)d new or changed.") %
                                 {"rows": rows, "changed": changed})
            except RateUploadError as exc:
                request.rate_errors = exc.errors
                messages.error(request, exc.message)
    period = _period_param(request, latest_closed_period())
    items = ExchangeRate.objects.select_related("currency").filter(year=period.year, month=period.month)
    return render(request, "reporting/rates.html", {
        "items": items, "period": period, "periods": recent_periods(36), "is_ministry": is_ministry,
        "errors": getattr(request, "rate_errors", []),
    })


