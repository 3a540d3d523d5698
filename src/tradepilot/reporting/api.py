"""Report operations: create, lines, validate, workflow, history; exchange rates; completeness; lock exceptions.

Handlers are thin: they fetch through `scoping` and call the services; `ReportError` becomes a JSON 4xx.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from tradepilot.core.api import AuditOut, audit_out
from tradepilot.core.api_base import ApiError, RowId, page_slice
from tradepilot.core.models import AuditLog, Region, Role
from tradepilot.core.roles import profile_of, role_of
from tradepilot.core.scoping import get_scoped, scope, visible_region_paths
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting import annual, services, workflow
from tradepilot.reporting import completeness as completeness_service
from tradepilot.reporting.models import ExchangeRate, ImportBatch, Report, ReportForm
from tradepilot.reporting.periods import Period, due_date, lock_date
from tradepilot.reporting.validation import validate_report

router = Router(tags=["reports"])

STATUS_FOR_CODE = {"forbidden": 403, "bad_state": 409, "not_editable": 409, "locked": 409, "inactive": 409,
                   "too_large": 413, "already_committed": 409}


def register_error_handlers(api) -> None:
    @api.exception_handler(services.ReportError)
    def on_report_error(request, exc: services.ReportError):
        from tradepilot.core.api_base import error_body

        return api.create_response(request, error_body(exc.message, exc.code, exc.errors),
                                   status=STATUS_FOR_CODE.get(exc.code, 400))


# --- schemas ---------------------------------------------------------------------------------------------------

class LineIn(Schema):
    direction: str
    service: str
    partner: str
    mode: str
    related_party: bool = False
    amount: str
    currency: str
    note: str = ""


class LineOut(Schema):
    line_no: int
    direction: str
    service: str
    partner: str
    mode: str
    related_party: bool
    amount: Decimal
    currency: str
    usd_amount: Decimal | None
    note: str


class ReportSummary(Schema):
    id: int
    enterprise_id: int
    enterprise: str
    uscc: str
    region: str
    form: str
    period: str
    version: int
    is_current: bool
    status: str
    nil_return: bool
    submitted_at: dt.datetime | None
    approved_at: dt.datetime | None
    accepted_at: dt.datetime | None
    due_date: dt.date
    actions: list[str]


class ReportDetail(ReportSummary):
    lines: list[LineOut]
    content: dict | None = None
    explanations: dict
    revision_reason: str
    return_reason: str
    previous_id: int | None
    exports_usd: Decimal
    imports_usd: Decimal


class ReportPage(Schema):
    count: int
    items: list[ReportSummary]


class CreateReportIn(Schema):
    enterprise_id: int
    period: str
    form: str = "monthly"


class LinesIn(Schema):
    lines: list[LineIn] = []
    nil_return: bool = False
    reason: str = ""


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


class ExplanationsIn(Schema):
    explanations: dict[str, str]


class BulkIn(Schema):
    report_ids: list[int]


class BulkOut(Schema):
    report_id: int
    ok: bool
    message: str


class ChangeOut(Schema):
    direction: str
    service: str
    partner: str
    mode: str
    related_party: bool
    currency: str
    old: Decimal | None
    new: Decimal | None
    change: str


class HistoryOut(Schema):
    versions: list[ReportSummary]
    audit: list[AuditOut]


def summary(r: Report, user) -> dict:
    return dict(
        id=r.id, enterprise_id=r.enterprise_id, enterprise=r.enterprise.name, uscc=r.enterprise.uscc,
        region=r.enterprise.region.code, form=r.form.code, period=r.period_label, version=r.version,
        is_current=r.is_current, status=r.status, nil_return=r.nil_return, submitted_at=r.submitted_at,
        approved_at=r.approved_at, accepted_at=r.accepted_at, due_date=due_date(r.form, Period(r.year, r.month)),
        actions=workflow.allowed_actions(user, r),
    )


def detail(r: Report, user) -> ReportDetail:
    lines = list(r.lines.select_related("service", "partner", "mode", "currency"))
    return ReportDetail(
        **summary(r, user),
        lines=[LineOut(line_no=x.line_no, direction=x.direction, service=x.service.code, partner=x.partner.alpha2,
                       mode=x.mode.code, related_party=x.related_party, amount=x.amount, currency=x.currency.code,
                       usd_amount=x.usd_amount, note=x.note) for x in lines],
        explanations=r.explanations, revision_reason=r.revision_reason, return_reason=r.return_reason,
        previous_id=r.previous_id, content=annual.content(r),
        exports_usd=sum((x.usd_amount or 0 for x in lines if x.direction == "X"), Decimal(0)),
        imports_usd=sum((x.usd_amount or 0 for x in lines if x.direction == "M"), Decimal(0)),
    )


def reports_qs(user):
    return scope(user, Report.objects.select_related("enterprise__region", "form"))


def _report(request, report_id: int) -> Report:
    return get_scoped(request.user, Report.objects.select_related("enterprise__region", "form"), pk=report_id)


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as exc:
        raise ApiError(400, str(exc), "invalid_period",
                       [{"row": None, "field": "period", "value": text, "code": "invalid_period", "message": str(exc)}]
                       ) from None


# --- reports ---------------------------------------------------------------------------------------------------

@router.get("/reports", response=ReportPage)
def list_reports(request, period: str | None = None, status: str | None = None, enterprise_id: RowId | None = None,
                 region: str | None = None, form: str = "monthly", q: str | None = None, all_versions: bool = False,
                 limit: int = 50, offset: int = 0):
    qs = reports_qs(request.user).filter(form__code=form)
    if not all_versions:
        qs = qs.filter(is_current=True)
    if period:
        p = _period(period)
        qs = qs.filter(year=p.year, month=p.month)
    if status:
        qs = qs.filter(status__in=status.split(","))
    if enterprise_id:
        qs = qs.filter(enterprise_id=enterprise_id)
    if region:
        qs = qs.filter(enterprise__region__path__contains=f"/{region}/")
    if q:
        qs = qs.filter(enterprise__name__icontains=q)
    return ReportPage(count=qs.count(), items=[summary(r, request.user) for r in qs[page_slice(limit, offset)]])


@router.post("/reports", response={200: ReportDetail, 201: ReportDetail})
def create_report(request, payload: CreateReportIn):
    """Open (or return the existing) current report of an enterprise for a period."""
    enterprise = get_scoped(request.user, Enterprise.objects.all(), pk=payload.enterprise_id)
    if role_of(request.user) != Role.ENTERPRISE:
        raise PermissionDenied("Reports are opened by the enterprise's own users.")
    form = get_object_or_404(ReportForm, code=payload.form)
    period = _period(payload.period)
    if (form.periodicity == "M") != bool(period.month):
        raise ApiError(400, "Period does not match the form's periodicity.", "invalid_period",
                       [{"row": None, "field": "period", "value": payload.period, "code": "invalid_period",
                         "message": "Use YYYY-MM for monthly forms and YYYY for annual forms."}])
    with transaction.atomic():
        report, created = services.get_or_create_report(enterprise, form, period, request.user)
    return Status(201 if created else 200, detail(report, request.user))


@router.get("/reports/{int:report_id}", response=ReportDetail)
def get_report(request, report_id: int):
    return detail(_report(request, report_id), request.user)


@router.put("/reports/{int:report_id}/lines", response=ReportDetail)
def put_lines(request, report_id: int, payload: LinesIn):
    """Replace the lines (or declare a nil return). Every line is checked; any error rejects the whole request."""
    report = _report(request, report_id)
    if not workflow.can_edit(request.user, report):
        raise services.ReportError("You are not allowed to edit this report.", code="forbidden")
    parsed = services.parse_lines([line.dict() for line in payload.lines])
    services.replace_lines(report, parsed, request.user, nil_return=payload.nil_return, reason=payload.reason,
                           source="api")
    return detail(Report.objects.get(pk=report.pk), request.user)


@router.post("/reports/{int:report_id}/validate")
def validate(request, report_id: int):
    """Run the rules without submitting. Missing exchange rates are reported as line errors."""
    report = _report(request, report_id)
    # Only the enterprise that edits the draft refreshes its stored USD values; reviewers just read.
    missing = services.refresh_usd_values(report) if workflow.can_edit(request.user, report) and report.is_editable else []
    return validate_report(report, line_errors=missing).as_dict()


@router.post("/reports/{int:report_id}/explanations", response=ReportDetail)
def explain(request, report_id: int, payload: ExplanationsIn):
    report = _report(request, report_id)
    if not workflow.can_edit(request.user, report):
        raise services.ReportError("You are not allowed to edit this report.", code="forbidden")
    services.set_explanations(report, payload.explanations, request.user)
    return detail(Report.objects.get(pk=report.pk), request.user)


@router.post("/reports/{int:report_id}/submit", response=ReportDetail)
def submit(request, report_id: int):
    return detail(workflow.submit(_report(request, report_id), request.user), request.user)


@router.post("/reports/{int:report_id}/approve", response=ReportDetail)
def approve(request, report_id: int, payload: NoteIn | None = None):
    note = payload.note if payload else ""
    return detail(workflow.approve(_report(request, report_id), request.user, note), request.user)


@router.post("/reports/{int:report_id}/accept", response=ReportDetail)
def accept(request, report_id: int, payload: NoteIn | None = None):
    note = payload.note if payload else ""
    return detail(workflow.accept(_report(request, report_id), request.user, note), request.user)


@router.post("/reports/{int:report_id}/return", response=ReportDetail)
def return_report(request, report_id: int, payload: ReasonIn):
    return detail(workflow.return_report(_report(request, report_id), request.user, payload.reason), request.user)


@router.post("/reports/{int:report_id}/revise", response={201: ReportDetail})
def revise(request, report_id: int, payload: ReasonIn):
    new = workflow.revise(_report(request, report_id), request.user, payload.reason)
    return Status(201, detail(new, request.user))


@router.post("/reports/bulk-approve", response=list[BulkOut])
def bulk_approve(request, payload: BulkIn):
    results = workflow.bulk_approve(payload.report_ids, request.user, reports_qs(request.user))
    return [BulkOut(report_id=r.report_id, ok=r.ok, message=r.message) for r in results]


@router.get("/reports/{int:report_id}/history", response=HistoryOut)
def history(request, report_id: int):
    """All versions of this report's enterprise × form × period, and their audit trail."""
    report = _report(request, report_id)
    versions = reports_qs(request.user).filter(enterprise=report.enterprise, form=report.form, year=report.year,
                                               month=report.month).order_by("version")
    entries = AuditLog.objects.filter(report__in=versions).select_related("actor").order_by("timestamp", "id")
    return HistoryOut(versions=[summary(v, request.user) for v in versions], audit=[audit_out(e) for e in entries])


@router.get("/reports/{int:report_id}/changes", response=list[ChangeOut])
def changes(request, report_id: int):
    """What changed since the last approved version (empty for a first version)."""
    return workflow.changes_since_approval(_report(request, report_id))


# --- annual forms ----------------------------------------------------------------------------------------------

class BasicIn(Schema):
    name: str
    industry: str | None = None
    registration_type: str
    foreign_share: str | None = None
    employees: int | None = None
    registered_capital: str | None = None
    main_services: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    reason: str = ""


class FatsInwardIn(Schema):
    ultimate_parent_country: str
    activity: str
    turnover: str
    services_sales: str
    services_sales_by_component: dict[str, str] = {}
    employment: int
    compensation: str
    value_added: str
    exports: str
    imports: str
    total_assets: str
    rd_expenditure: str
    reason: str = ""


class AffiliateIn(Schema):
    name: str
    host_country: str
    activity: str
    turnover: str
    employment: int
    total_assets: str
    net_profit: str
    ownership_share: str


class FatsOutwardIn(Schema):
    affiliates: list[AffiliateIn] = []
    nil_return: bool = False
    reason: str = ""


def _editable_by(request, report_id: int) -> Report:
    report = _report(request, report_id)
    if not workflow.can_edit(request.user, report):
        raise services.ReportError("You are not allowed to edit this report.", code="forbidden")
    return report


@router.put("/reports/{int:report_id}/basic", response=ReportDetail, tags=["annual forms"])
def put_basic(request, report_id: int, payload: BasicIn):
    """Annual basic-situation registration: the enterprise confirms its attributes."""
    data = payload.dict()
    reason = data.pop("reason")
    annual.save_basic(_editable_by(request, report_id), data, request.user, reason)
    return detail(Report.objects.get(pk=report_id), request.user)


@router.put("/reports/{int:report_id}/fats-inward", response=ReportDetail, tags=["annual forms"])
def put_fats_inward(request, report_id: int, payload: FatsInwardIn):
    """Inward FATS of a foreign-controlled affiliate in China (CNY 10k)."""
    data = payload.dict()
    reason = data.pop("reason")
    annual.save_fats_in(_editable_by(request, report_id), data, request.user, reason)
    return detail(Report.objects.get(pk=report_id), request.user)


@router.put("/reports/{int:report_id}/fats-outward", response=ReportDetail, tags=["annual forms"])
def put_fats_outward(request, report_id: int, payload: FatsOutwardIn):
    """Outward FATS: the enterprise's majority-owned overseas affiliates (CNY 10k)."""
    annual.save_fats_out(_editable_by(request, report_id), [a.dict() for a in payload.affiliates], request.user,
                         nil_return=payload.nil_return, reason=payload.reason)
    return detail(Report.objects.get(pk=report_id), request.user)


# --- imports ---------------------------------------------------------------------------------------------------

@router.post("/imports", tags=["imports"], response={200: dict, 400: dict})
def import_dry_run(request, file: UploadedFile = File(...), form: str = "monthly"):
    """Store the file and check every row (dry run). Nothing is imported until `/imports/{id}/commit`."""
    from tradepilot.reporting import imports

    batch = imports.store_upload(file, request.user, form)
    preview = imports.dry_run(batch, request.user)
    body = {"id": batch.id, "state": ImportBatch.objects.get(pk=batch.pk).state, **preview.as_dict()}
    if not preview.ok:
        # A file with errors is bad input: 400, with every located error and the batch id for reference.
        body.update(detail=f"The file has {preview.error_count} problem(s); nothing was saved.", code="invalid_file")
        return Status(400, body)
    return body


@router.get("/imports/{int:batch_id}", tags=["imports"])
def import_status(request, batch_id: int):
    from tradepilot.reporting import imports

    batch = get_object_or_404(ImportBatch, pk=batch_id, user=request.user)
    return {"id": batch.id, "state": batch.state, "filename": batch.filename, "rows": batch.row_count,
            "errors": batch.errors, "summary": imports.public_summary(batch)}


@router.post("/imports/{int:batch_id}/commit", tags=["imports"])
def import_commit(request, batch_id: int):
    """Import all rows of a checked file, or none (the file is checked again against the current state)."""
    from tradepilot.reporting import imports

    batch = get_object_or_404(ImportBatch, pk=batch_id, user=request.user)
    return {"id": batch.id, "state": "committed", **imports.commit(batch, request.user).as_dict()}


# --- exchange rates --------------------------------------------------------------------------------------------

class RateOut(Schema):
    currency: str
    period: str
    cny_per_unit: Decimal
    source: str


class RateUploadOut(Schema):
    rows: int
    changed: int


@router.get("/exchange-rates", response=list[RateOut], tags=["exchange rates"])
def list_rates(request, period: str | None = None, currency: str | None = None):
    qs = ExchangeRate.objects.select_related("currency")
    if period:
        p = _period(period)
        qs = qs.filter(year=p.year, month=p.month)
    if currency:
        qs = qs.filter(currency__code=currency.upper())
    return [RateOut(currency=r.currency.code, period=f"{r.year}-{r.month:02d}", cny_per_unit=r.cny_per_unit,
                    source=r.source) for r in qs[:2000]]


@router.post("/exchange-rates/upload", response=RateUploadOut, tags=["exchange rates"])
def upload_rates(request, file: UploadedFile = File(...)):
    """CSV or XLSX with columns period (YYYY-MM), currency, rate (CNY per `units`), units (default 1). All or nothing."""
    if role_of(request.user) != Role.MINISTRY:
        raise PermissionDenied("Only the ministry publishes exchange rates.")
    from tradepilot.reporting.rate_upload import RateUploadError
    from tradepilot.reporting.rate_upload import upload_rates as do_upload

    try:
        rows, changed = do_upload(file, request.user)
    except RateUploadError as exc:
        raise ApiError(400, exc.message, "invalid_file", exc.errors) from None
    return RateUploadOut(rows=rows, changed=changed)


# --- completeness ----------------------------------------------------------------------------------------------

class CompletenessRow(Schema):
    region_code: str
    region_name: str
    expected: int
    submitted: int
    on_time: int
    approved: int
    accepted: int
    systemic_expected: int
    systemic_submitted: int
    submitted_pct: float | None
    on_time_pct: float | None
    accepted_pct: float | None
    systemic_coverage_pct: float | None


class CompletenessOut(Schema):
    period: str
    due_date: dt.date
    lock_date: dt.date
    rows: list[CompletenessRow]
    total: CompletenessRow


class NonReporterOut(Schema):
    id: int
    uscc: str
    name: str
    region: str
    is_systemic: bool


def completeness_enterprises(user):
    """Enterprises whose counts a user may see: agencies see national figures, like the ministry."""
    path = visible_region_paths(user)
    qs = Enterprise.objects.all()
    return qs if path is None else qs.filter(region__path__startswith=path)


def completeness_groups(user, region: str | None) -> list[Region] | None:
    base = None
    if region:
        base = get_object_or_404(Region, code=region)
    else:
        profile = profile_of(user)
        if role_of(user) == Role.BUREAU and profile is not None:
            base = profile.region
    if base is None:
        return None
    children = list(base.children.all())
    return children + [base] if children else [base]


@router.get("/completeness", response=CompletenessOut, tags=["completeness"])
def completeness(request, period: str, region: str | None = None, form: str = "monthly"):
    p = _period(period)
    f = get_object_or_404(ReportForm, code=form)
    enterprises = completeness_enterprises(request.user)
    if region:
        enterprises = enterprises.filter(region__path__contains=f"/{region}/")
    rows, total = completeness_service.completeness(enterprises, p, f, completeness_groups(request.user, region))
    return CompletenessOut(period=str(p), due_date=due_date(f, p), lock_date=lock_date(f, p),
                           rows=[r.as_dict() for r in rows], total=total.as_dict())


@router.get("/completeness/non-reporters", response=list[NonReporterOut], tags=["completeness"])
def non_reporters(request, period: str, region: str | None = None):
    if role_of(request.user) == Role.AGENCY:
        raise PermissionDenied("Agencies see national figures only.")
    enterprises = scope(request.user, Enterprise.objects.all())
    if region:
        enterprises = enterprises.filter(region__path__contains=f"/{region}/")
    return [NonReporterOut(id=e.id, uscc=e.uscc, name=e.name, region=e.region.code, is_systemic=e.is_systemic)
            for e in completeness_service.non_reporters(enterprises, _period(period))]


class RemindOut(Schema):
    reminded: int


@router.post("/completeness/remind", response=RemindOut, tags=["completeness"])
def remind(request, period: str, region: str | None = None):
    if role_of(request.user) not in (Role.MINISTRY, Role.BUREAU):
        raise PermissionDenied("Only the ministry and bureaus send reminders.")
    enterprises = scope(request.user, Enterprise.objects.all())
    if region:
        enterprises = enterprises.filter(region__path__contains=f"/{region}/")
    return RemindOut(reminded=completeness_service.remind(enterprises, _period(period), request.user))


# --- lock exceptions -------------------------------------------------------------------------------------------

class LockExceptionIn(Schema):
    enterprise_id: int
    period: str
    until: dt.date
    reason: str
    form: str = "monthly"


class LockExceptionOut(Schema):
    id: int
    enterprise_id: int
    period: str
    until: dt.date
    reason: str


@router.post("/lock-exceptions", response={201: LockExceptionOut}, tags=["reports"])
def grant_lock_exception(request, payload: LockExceptionIn):
    if role_of(request.user) not in (Role.BUREAU, Role.MINISTRY):
        raise PermissionDenied("Only bureaus grant lock exceptions.")
    enterprise = get_scoped(request.user, Enterprise.objects.all(), pk=payload.enterprise_id)
    from tradepilot.reporting.locks import grant

    exc = grant(request.user, enterprise, get_object_or_404(ReportForm, code=payload.form), _period(payload.period),
                payload.until, payload.reason)
    return Status(201, LockExceptionOut(id=exc.id, enterprise_id=enterprise.id, period=str(_period(payload.period)),
                                        until=exc.until, reason=exc.reason))


