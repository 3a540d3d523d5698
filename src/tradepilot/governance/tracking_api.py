"""API operations of the governance tracking part: work plans, area tasks, progress, evidence, confirmations,
overdue items and supervision notices (mounted at /api/v1/governance).

Handlers are thin: a role check for the governance readers (403), the object through `core.scoping` (404 outside
the scope), then a service from `workplans`, `progress`, `notices` or `overdue`. Services raise `TrackingError`
(an `ApiError`: 400/409 with located errors) or `PermissionDenied` (403), and write all or nothing.
"""

from __future__ import annotations

import datetime as dt
import json

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from ninja import File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from tradepilot.core.api_base import ApiError, RowId, page_slice
from tradepilot.core.models import PilotArea
from tradepilot.core.scoping import get_area_scoped, scope_areas
from tradepilot.governance import evidence as evidence_service
from tradepilot.governance import notices, progress, workplans
from tradepilot.governance.common import today
from tradepilot.governance.models import (
    AreaTask,
    Evidence,
    ProgressReport,
    ReviewStatus,
    SupervisionNotice,
    TaskStatus,
    WorkPlan,
)
from tradepilot.governance.overdue import Kind, find_overdue
from tradepilot.governance.tracking import check_reader, fail

router = Router(tags=["governance: tracking"])


# --- schemas -------------------------------------------------------------------------------------------------

class ActionIn(Schema):
    task_id: int | str
    text: str
    lead_unit: str = ""
    deadline: str | None = None
    target: str = ""


class PlanIn(Schema):
    title: str
    document_no: str = ""
    summary: str = ""
    actions: list[ActionIn] = []
    reason: str = ""


class ReviewIn(Schema):
    decision: str
    note: str = ""


class ActionOut(Schema):
    id: int
    task_id: int
    task_code: str
    text: str
    lead_unit: str
    deadline: dt.date | None
    target: str


class PlanSummary(Schema):
    id: int
    area_id: int
    area: str
    region: str
    title: str
    document_no: str
    status: str
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    review_note: str
    deadline: dt.date | None
    days_left: int | None
    late: bool
    overdue: bool
    actions_count: int


class PlanOut(PlanSummary):
    summary: str
    actions: list[ActionOut]


class PlanPage(Schema):
    count: int
    items: list[PlanSummary]


class IndicatorIn(Schema):
    name: str = ""
    value: str | int | None = None
    unit: str = ""


class ProgressIn(Schema):
    year: int
    quarter: int
    status: str
    narrative: str
    indicators: list[IndicatorIn] = []
    status_note: str = ""
    completed_on: str | None = None
    reason: str = ""


class EvidenceOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    url: str


class ConfirmationIn(Schema):
    decision: str
    note: str = ""


class ConfirmationOut(Schema):
    agency: str
    agency_name: str
    decision: str
    note: str
    at: dt.datetime


class ProgressOut(Schema):
    id: int
    area_task_id: int
    year: int
    quarter: int
    label: str
    status_reported: str
    narrative: str
    indicators: list[dict]
    submitted_at: dt.datetime
    submitted_by: str | None
    evidence: list[EvidenceOut]
    confirmations: list[ConfirmationOut]


class NoticeIn(Schema):
    message: str
    reply_due: str


class ReplyIn(Schema):
    reply: str


class CloseIn(Schema):
    note: str = ""


class NoticeOut(Schema):
    id: int
    area_task_id: int
    message: str
    reply_due: dt.date
    state: str
    issued_at: dt.datetime
    reply: str
    replied_at: dt.datetime | None
    closed_at: dt.datetime | None


class AreaTaskOut(Schema):
    id: int
    area_id: int
    area: str
    region: str
    task_id: int
    task_code: str
    task: str
    task_area: str
    status: str
    due_date: dt.date
    completed_on: dt.date | None
    status_note: str
    last_progress: str | None
    overdue: bool


class AreaTaskDetail(AreaTaskOut):
    progress: list[ProgressOut]
    notices: list[NoticeOut]


class AreaTaskPage(Schema):
    count: int
    items: list[AreaTaskOut]


class OverdueOut(Schema):
    kind: str
    kind_label: str
    area_id: int
    area: str
    region: str
    area_task_id: int | None
    task_code: str | None
    notice_id: int | None
    due: dt.date
    days_overdue: int
    quarters: list[str]
    detail: str


class OverduePage(Schema):
    count: int
    items: list[OverdueOut]


# --- conversions ---------------------------------------------------------------------------------------------

def plan_summary(plan: WorkPlan) -> dict:
    state = workplans.plan_state(plan.area, plan)
    return dict(id=plan.pk, area_id=plan.area_id, area=plan.area.name, region=plan.area.region.code,
                title=plan.title, document_no=plan.document_no, status=plan.status, submitted_at=plan.submitted_at,
                reviewed_at=plan.reviewed_at, review_note=plan.review_note, deadline=state.deadline,
                days_left=state.days_left, late=state.late, overdue=state.overdue,
                actions_count=plan.actions.count())


def plan_out(plan: WorkPlan) -> PlanOut:
    actions = [ActionOut(id=a.pk, task_id=a.task_id, task_code=a.task.code, text=a.text, lead_unit=a.lead_unit,
                         deadline=a.deadline, target=a.target) for a in plan.actions.select_related("task")]
    return PlanOut(**plan_summary(plan), summary=plan.summary, actions=actions)


def evidence_out(ev: Evidence) -> EvidenceOut:
    return EvidenceOut(id=ev.pk, name=ev.original_name, content_type=ev.content_type, size=ev.size, sha256=ev.sha256,
                       uploaded_at=ev.uploaded_at, url=f"/api/v1/governance/evidence/{ev.pk}")


def progress_out(report: ProgressReport) -> ProgressOut:
    return ProgressOut(
        id=report.pk, area_task_id=report.area_task_id, year=report.year, quarter=report.quarter,
        label=f"{report.year}Q{report.quarter}", status_reported=report.status_reported, narrative=report.narrative,
        indicators=report.indicators, submitted_at=report.submitted_at,
        submitted_by=report.submitted_by.username if report.submitted_by_id else None,
        evidence=[evidence_out(e) for e in report.evidence.all()],
        confirmations=[ConfirmationOut(agency=c.agency.code, agency_name=c.agency.name, decision=c.decision,
                                       note=c.note, at=c.at) for c in report.confirmations.select_related("agency")],
    )


def notice_out(n: SupervisionNotice) -> NoticeOut:
    return NoticeOut(id=n.pk, area_task_id=n.area_task_id, message=n.message, reply_due=n.reply_due, state=n.state,
                     issued_at=n.issued_at, reply=n.reply, replied_at=n.replied_at, closed_at=n.closed_at)


def area_task_out(t: AreaTask, on: dt.date) -> dict:
    last = t.progress_reports.order_by("-year", "-quarter").first()
    return dict(id=t.pk, area_id=t.area_id, area=t.area.name, region=t.area.region.code, task_id=t.task_id,
                task_code=t.task.code, task=t.task.text_zh, task_area=t.task.area.code, status=t.status,
                due_date=t.due_date, completed_on=t.completed_on, status_note=t.status_note,
                last_progress=f"{last.year}Q{last.quarter}" if last else None,
                overdue=t.status != TaskStatus.COMPLETED and t.due_date < on)


# --- helpers -------------------------------------------------------------------------------------------------

def _reader(request):
    check_reader(request.user)
    return request.user


def _area_tasks(user):
    return scope_areas(user, AreaTask.objects.select_related("area__region", "area__round", "task__area"))


def _choice(value: str | None, field: str, allowed) -> str | None:
    if value and value not in allowed:
        raise fail(field, value, "invalid_choice", _("Use one of: %(v)s.") % {"v": ", ".join(allowed)})
    return value or None


# --- work plans ----------------------------------------------------------------------------------------------

@router.get("/work-plans", response=PlanPage)
def list_plans(request, area_id: RowId | None = None, region: str | None = None, status: str | None = None,
               limit: int = 100, offset: int = 0):
    user = _reader(request)
    qs = scope_areas(user, WorkPlan.objects.select_related("area__region", "area__round")).order_by("area__order")
    if area_id:
        qs = qs.filter(area_id=area_id)
    if region:
        qs = qs.filter(area__region__code=region)
    if _choice(status, "status", ReviewStatus.values):
        qs = qs.filter(status=status)
    return PlanPage(count=qs.count(), items=[plan_summary(p) for p in qs[page_slice(limit, offset)]])


def _plan(request, plan_id: int) -> WorkPlan:
    return get_area_scoped(_reader(request), WorkPlan.objects.select_related("area__region", "area__round"),
                           pk=plan_id)


@router.get("/work-plans/{int:plan_id}", response=PlanOut)
def get_plan(request, plan_id: int):
    return plan_out(_plan(request, plan_id))


@router.put("/areas/{int:area_id}/work-plan", response={200: PlanOut, 201: PlanOut})
def put_plan(request, area_id: int, payload: PlanIn):
    """Create or replace the area's work plan with all its actions (its own bureau, while draft or returned)."""
    area = get_area_scoped(_reader(request), PilotArea.objects.select_related("round", "region"), pk=area_id)
    existed = WorkPlan.objects.filter(area=area).exists()
    plan = workplans.save_plan(request.user, area, title=payload.title, document_no=payload.document_no,
                               summary=payload.summary, actions=[a.dict() for a in payload.actions],
                               reason=payload.reason)
    return Status(200 if existed else 201, plan_out(plan))


@router.post("/work-plans/{int:plan_id}/submit", response=PlanOut)
def submit_plan(request, plan_id: int):
    return plan_out(workplans.submit_plan(request.user, _plan(request, plan_id)))


@router.post("/work-plans/{int:plan_id}/review", response=PlanOut)
def review_plan(request, plan_id: int, payload: ReviewIn):
    """The ministry approves (`approve`) or returns (`return`, with a note) a submitted plan."""
    return plan_out(workplans.review_plan(request.user, _plan(request, plan_id), payload.decision, payload.note))


# --- area tasks and progress ---------------------------------------------------------------------------------

@router.get("/area-tasks", response=AreaTaskPage)
def list_area_tasks(request, area_id: RowId | None = None, region: str | None = None, task: str | None = None,
                    task_area: str | None = None, status: str | None = None, overdue: bool | None = None,
                    limit: int = 100, offset: int = 0):
    user = _reader(request)
    on = today()
    qs = _area_tasks(user)
    if area_id:
        qs = qs.filter(area_id=area_id)
    if region:
        qs = qs.filter(area__region__code=region)
    if task:
        qs = qs.filter(task__code=task)
    if task_area:
        qs = qs.filter(task__area__code=task_area)
    if _choice(status, "status", TaskStatus.values):
        qs = qs.filter(status=status)
    if overdue is True:
        qs = qs.exclude(status=TaskStatus.COMPLETED).filter(due_date__lt=on)
    elif overdue is False:
        qs = qs.exclude(pk__in=qs.exclude(status=TaskStatus.COMPLETED).filter(due_date__lt=on).values("pk"))
    return AreaTaskPage(count=qs.count(),
                        items=[area_task_out(t, on) for t in qs[page_slice(limit, offset)]])


def _area_task(request, area_task_id: int) -> AreaTask:
    return get_area_scoped(_reader(request), AreaTask.objects.select_related("area__region", "area__round",
                                                                             "task__area"), pk=area_task_id)


@router.get("/area-tasks/{int:area_task_id}", response=AreaTaskDetail)
def get_area_task(request, area_task_id: int):
    t = _area_task(request, area_task_id)
    reports = t.progress_reports.select_related("submitted_by").prefetch_related("evidence")
    return AreaTaskDetail(**area_task_out(t, today()), progress=[progress_out(r) for r in reports],
                          notices=[notice_out(n) for n in t.notices.all()])


@router.post("/area-tasks/{int:area_task_id}/progress", response={200: ProgressOut, 201: ProgressOut})
def post_progress(request, area_task_id: int, payload: ProgressIn):
    """File the quarter's progress report (201), or file it again before any confirmation (200)."""
    t = _area_task(request, area_task_id)
    report, created = progress.file_progress(
        request.user, t, year=payload.year, quarter=payload.quarter, status=payload.status,
        narrative=payload.narrative, indicators=[i.dict() for i in payload.indicators],
        status_note=payload.status_note, completed_on=payload.completed_on, reason=payload.reason)
    return Status(201 if created else 200, progress_out(report))


class ProgressForm(Schema):
    year: int
    quarter: int
    status: str
    narrative: str
    indicators: str = "[]"  # JSON: [{"name", "value", "unit"}]
    status_note: str = ""
    completed_on: str = ""
    reason: str = ""


@router.post("/area-tasks/{int:area_task_id}/progress/with-evidence", response={200: ProgressOut, 201: ProgressOut})
def post_progress_with_evidence(request, area_task_id: int, payload: Form[ProgressForm],
                                files: File[list[UploadedFile]] = None):
    """The same as POST …/progress, as multipart form data with evidence files: one bad file saves nothing."""
    t = _area_task(request, area_task_id)
    try:
        indicators = json.loads(payload.indicators or "[]")
    except ValueError:
        raise fail("indicators", payload.indicators, "invalid_json", _("Indicators must be a JSON list.")) from None
    report, created = progress.file_progress(
        request.user, t, year=payload.year, quarter=payload.quarter, status=payload.status,
        narrative=payload.narrative, indicators=indicators, status_note=payload.status_note,
        completed_on=payload.completed_on or None, files=files or [], reason=payload.reason)
    return Status(201 if created else 200, progress_out(report))


def _report(request, progress_id: int) -> ProgressReport:
    return get_area_scoped(_reader(request), ProgressReport.objects.select_related(
        "area_task__area__region", "area_task__task"), pk=progress_id)


@router.post("/progress/{int:progress_id}/evidence", response={201: list[EvidenceOut]})
def post_evidence(request, progress_id: int, files: File[list[UploadedFile]]):
    """Add evidence files to a report (multipart, field `files`); all are checked before any is stored."""
    stored = progress.add_evidence(request.user, _report(request, progress_id), files)
    return Status(201, [evidence_out(e) for e in stored])


@router.get("/evidence/{int:evidence_id}")
def download_evidence(request, evidence_id: int):
    """The evidence file, served only if it still matches its SHA-256 (409 otherwise)."""
    ev = get_area_scoped(_reader(request), Evidence.objects.all(), pk=evidence_id)
    return evidence_response(ev)


def evidence_response(ev: Evidence) -> HttpResponse:
    try:
        content = evidence_service.read_verified(ev)
    except FileNotFoundError:
        raise ApiError(404, _("The stored file is missing."), "file_missing") from None
    except evidence_service.ChecksumMismatch:
        raise ApiError(409, _("The stored file no longer matches its checksum; it is not served."),
                       "checksum_mismatch") from None
    response = HttpResponse(content, content_type=ev.content_type)
    response["Content-Disposition"] = content_disposition_header(True, ev.original_name)
    response["X-Checksum-SHA256"] = ev.sha256
    return response


@router.post("/progress/{int:progress_id}/confirmations", response=ConfirmationOut)
def post_confirmation(request, progress_id: int, payload: ConfirmationIn):
    """A department co-owning the task confirms (`confirmed`) or disputes (`disputed`, with a note) the report."""
    c = progress.confirm(request.user, _report(request, progress_id), payload.decision, payload.note)
    return ConfirmationOut(agency=c.agency.code, agency_name=c.agency.name, decision=c.decision, note=c.note, at=c.at)


# --- overdue and supervision ---------------------------------------------------------------------------------

@router.get("/overdue", response=OverduePage)
def list_overdue(request, area_id: RowId | None = None, task_area_id: RowId | None = None, kind: str | None = None,
                 limit: int = 100, offset: int = 0):
    """Overdue tasks, work plans, quarterly progress and notice replies (definition: governance.overdue)."""
    user = _reader(request)
    items = find_overdue(user, area=area_id, task_area=task_area_id, kind=_choice(kind, "kind", Kind.values))
    return OverduePage(count=len(items), items=[OverdueOut(
        kind=i.kind, kind_label=str(i.kind_label), area_id=i.area.pk, area=i.area.name, region=i.area.region.code,
        area_task_id=i.area_task.pk if i.area_task else None, task_code=i.task.code if i.task else None,
        notice_id=i.notice.pk if i.notice else None, due=i.due, days_overdue=i.days,
        quarters=[str(q) for q in i.quarters], detail=i.detail) for i in items[page_slice(limit, offset)]])


def _notice(request, notice_id: int) -> SupervisionNotice:
    return get_area_scoped(_reader(request), SupervisionNotice.objects.select_related(
        "area_task__area__region", "area_task__task"), pk=notice_id)


@router.post("/area-tasks/{int:area_task_id}/notices", response={201: NoticeOut})
def post_notice(request, area_task_id: int, payload: NoticeIn):
    """The ministry issues a supervision notice (督办) on an area task; the area's bureau is notified."""
    n = notices.issue(request.user, _area_task(request, area_task_id), payload.message, payload.reply_due)
    return Status(201, notice_out(n))


@router.post("/notices/{int:notice_id}/reply", response=NoticeOut)
def post_notice_reply(request, notice_id: int, payload: ReplyIn):
    return notice_out(notices.reply(request.user, _notice(request, notice_id), payload.reply))


@router.post("/notices/{int:notice_id}/close", response=NoticeOut)
def post_notice_close(request, notice_id: int, payload: CloseIn | None = None):
    return notice_out(notices.close(request.user, _notice(request, notice_id), payload.note if payload else ""))

