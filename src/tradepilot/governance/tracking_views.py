"""Pages of the governance tracking part: the governance home, an area's task board, one task across the areas, a
department's co-owned tasks, work plans, progress filing with evidence, the overdue list and supervision notices.

Views are thin: a role check for the governance readers (403), objects through `core.scoping` (404 outside the
scope), then a service (`workplans`, `progress`, `notices`, `overdue`). A refused change raises `PermissionDenied`
(403); invalid input re-renders the form with the located errors (400), or, for one-button actions, returns to
the page with the message.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter, defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from tradepilot.core.api_base import ApiError
from tradepilot.core.models import Agency, PilotArea, PilotRound, Role
from tradepilot.core.params import row_id
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import can_edit_area, get_area_scoped, scope_areas
from tradepilot.governance import notices, progress, workplans
from tradepilot.governance.common import today
from tradepilot.governance.models import (
    AreaTask,
    Evidence,
    ProgressReport,
    ReviewStatus,
    SupervisionNotice,
    Task,
    TaskArea,
    TaskStatus,
    WorkPlan,
)
from tradepilot.governance.overdue import Kind, find_overdue, required_quarters, send_reminders
from tradepilot.governance.tracking import (
    Quarter,
    TrackingError,
    agency_of,
    check_ministry,
    check_reader,
    is_ministry,
)
from tradepilot.governance.tracking_api import evidence_response

PAGE_SIZE = 50
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INDICATOR_ROWS = 3
PLAN_BLANK_ROWS = 3


def _reader(request):
    check_reader(request.user)
    return request.user


def _round(request) -> PilotRound | None:
    """The round named by ?round=, else the newest round that has a programme."""
    rounds = PilotRound.objects.filter(programme__isnull=False).order_by("-start_date")
    code = request.GET.get("round")
    return (rounds.filter(code=code).first() if code else None) or rounds.first()


def _area(request, area_id: int) -> PilotArea:
    return get_area_scoped(_reader(request), PilotArea.objects.select_related("region", "round"), pk=area_id)


def _area_task(request, pk: int) -> AreaTask:
    return get_area_scoped(_reader(request), AreaTask.objects.select_related(
        "area__region", "area__round", "task__area"), pk=pk)


def _report(request, pk: int) -> ProgressReport:
    return get_area_scoped(_reader(request), ProgressReport.objects.select_related(
        "area_task__area__region", "area_task__area__round", "area_task__task"), pk=pk)


def _notice(request, pk: int) -> SupervisionNotice:
    return get_area_scoped(_reader(request), SupervisionNotice.objects.select_related(
        "area_task__area__region", "area_task__task", "issued_by", "replied_by", "closed_by"), pk=pk)


def _error_lines(exc: TrackingError) -> list[str]:
    out = []
    for e in exc.errors:
        where = _("row %(n)s") % {"n": e["row"]} if e.get("row") else ""
        out.append(f"{where} {e['message']}".strip() if where else e["message"])
    return out


def _flash(request, exc: TrackingError) -> None:
    for line in _error_lines(exc):
        messages.error(request, line)


def _status_counts(area_tasks) -> list[tuple[str, str, int]]:
    """(status, label, count) for each status, in the statuses' order."""
    counts = Counter(area_tasks.values_list("status", flat=True))
    return [(s, label, counts.get(s, 0)) for s, label in TaskStatus.choices]


# --- home and overview ---------------------------------------------------------------------------------------

@login_required
def home(request):
    """The governance entry per role: a bureau goes to its area, a department to its co-owned tasks, the ministry
    and auditors see every area's status counts."""
    user = _reader(request)
    role = role_of(user)
    if role == Role.AGENCY:
        return redirect("governance:tracking_department")
    rnd = _round(request)
    areas = scope_areas(user, PilotArea.objects.select_related("region")).filter(round=rnd)
    if role == Role.BUREAU:
        own = [a for a in areas if can_edit_area(user, a)]
        if own or areas.count() == 1:
            return redirect("governance:tracking_area", (own or list(areas))[0].pk)
    on = today()
    tasks = scope_areas(user, AreaTask.objects.filter(area__round=rnd))
    counts: dict[int, Counter] = defaultdict(Counter)
    for area_id, status in tasks.values_list("area_id", "status"):
        counts[area_id][status] += 1
    overdue = Counter(tasks.exclude(status=TaskStatus.COMPLETED).filter(due_date__lt=on)
                      .values_list("area_id", flat=True))
    open_notices = Counter(scope_areas(user, SupervisionNotice.objects.filter(area_task__area__round=rnd))
                           .exclude(state=SupervisionNotice.State.CLOSED).values_list("area_task__area_id", flat=True))
    plans = {p.area_id: p for p in WorkPlan.objects.filter(area__in=areas)}
    deadline = rnd.programme.work_plan_deadline if rnd is not None else None
    rows = []
    for a in areas:
        c = counts[a.pk]
        rows.append({"area": a, "counts": [c.get(s, 0) for s in TaskStatus.values], "total": sum(c.values()),
                     "overdue": overdue.get(a.pk, 0), "notices": open_notices.get(a.pk, 0),
                     "plan": workplans.plan_state(a, plans.get(a.pk), on, deadline)})
    totals = [sum(r["counts"][i] for r in rows) for i in range(len(TaskStatus.values))]
    chart = {"categories": [r["area"].name for r in rows],
             "series": [{"key": s, "name": str(label), "data": [r["counts"][i] for r in rows]}
                        for i, (s, label) in enumerate(TaskStatus.choices)]}
    return render(request, "governance/tracking/home.html", {
        "round": rnd, "rows": rows, "statuses": TaskStatus.choices, "deadline": deadline,
        "status_totals": [(s, label, totals[i]) for i, (s, label) in enumerate(TaskStatus.choices)],
        "chart": chart, "is_ministry": is_ministry(user),
        "overdue_total": sum(overdue.values()), "notices_total": sum(open_notices.values()),
    })


# --- one area's task board -----------------------------------------------------------------------------------

def _last_reports(area_tasks) -> dict[int, ProgressReport]:
    last: dict[int, ProgressReport] = {}
    for r in ProgressReport.objects.filter(area_task__in=area_tasks).order_by("year", "quarter").prefetch_related(
            "confirmations"):
        last[r.area_task_id] = r
    return last


@login_required
def area_board(request, area_id: int):
    area = _area(request, area_id)
    user = request.user
    on = today()
    tasks = scope_areas(user, AreaTask.objects.filter(area=area).select_related("task__area"))
    last = _last_reports(tasks)
    open_notices = Counter(SupervisionNotice.objects.filter(area_task__in=tasks).exclude(
        state=SupervisionNotice.State.CLOSED).values_list("area_task_id", flat=True))
    groups: dict[int, dict] = {}
    for t in tasks:
        g = groups.setdefault(t.task.area_id, {"task_area": t.task.area, "rows": [], "counts": Counter()})
        g["rows"].append({"t": t, "last": last.get(t.pk), "notices": open_notices.get(t.pk, 0),
                          "overdue": t.status != TaskStatus.COMPLETED and t.due_date < on})
        g["counts"][t.status] += 1
    group_list = sorted(groups.values(), key=lambda g: g["task_area"].order)
    chart = {"categories": [f"{g['task_area'].code} {g['task_area'].name}" for g in group_list],
             "series": [{"key": s, "name": str(label), "data": [g["counts"].get(s, 0) for g in group_list]}
                        for s, label in TaskStatus.choices]}
    plan = WorkPlan.objects.filter(area=area).first()
    return render(request, "governance/tracking/area.html", {
        "area": area, "groups": group_list, "counts": _status_counts(tasks), "statuses": TaskStatus.choices,
        "chart": chart, "plan": workplans.plan_state(area, plan, on), "can_edit": can_edit_area(user, area),
        "is_ministry": is_ministry(user), "today": on,
        "overdue_count": sum(1 for g in group_list for r in g["rows"] if r["overdue"]),
    })


# --- one task across the areas -------------------------------------------------------------------------------

@login_required
def task_page(request, task_id: int):
    user = _reader(request)
    task = Task.objects.select_related("area", "round").filter(pk=task_id).first()
    if task is None:
        raise Http404
    tracked = AreaTask.objects.filter(task=task)
    rows_qs = scope_areas(user, tracked.select_related("area__region"))
    if tracked.exists() and not rows_qs.exists():
        raise Http404  # e.g. a department that does not co-own the task
    last = _last_reports(rows_qs)
    on = today()
    rows = [{"t": t, "last": last.get(t.pk), "overdue": t.status != TaskStatus.COMPLETED and t.due_date < on}
            for t in rows_qs]
    responsibilities = task.responsibilities.select_related("agency", "guarantee")
    return render(request, "governance/tracking/task.html", {
        "task": task, "rows": rows, "counts": _status_counts(rows_qs), "statuses": TaskStatus.choices,
        "responsibilities": responsibilities, "tracked": tracked.exists(),
    })


# --- one area task: progress, evidence, confirmations, notices -----------------------------------------------

@login_required
def area_task_page(request, pk: int):
    t = _area_task(request, pk)
    user = request.user
    reports = list(t.progress_reports.select_related("submitted_by").prefetch_related(
        "evidence", "confirmations__agency"))
    editor = can_edit_area(user, t.area)
    may_confirm = progress.co_owns(agency_of(user), t.task)
    agency = agency_of(user)
    for r in reports:
        r.confirmed = bool(r.confirmations.all())
        r.mine = next((c for c in r.confirmations.all() if agency is not None and c.agency_id == agency.pk), None)
    return render(request, "governance/tracking/area_task.html", {
        "t": t, "task": t.task, "area": t.area, "reports": reports, "notices": t.notices.all(),
        "actions": t.task.plan_actions.filter(plan__area=t.area),
        "co_owners": Agency.objects.filter(responsibilities__task=t.task).distinct().order_by("order"),
        "can_file": editor, "can_notice": is_ministry(user), "can_confirm": may_confirm,
        "decisions": [(v, label) for v, label in progress.Confirmation.Decision.choices],
        "overdue": t.status != TaskStatus.COMPLETED and t.due_date < today(),
        "max_mb": progress.evidence_service.max_bytes() // (1024 * 1024),
    })


def _indicators_from_post(post) -> list[dict]:
    names, values, units = post.getlist("ind_name"), post.getlist("ind_value"), post.getlist("ind_unit")
    rows = []
    for i in range(max(len(names), len(values), len(units))):
        row = {"name": (names[i] if i < len(names) else "").strip(),
               "value": (values[i] if i < len(values) else "").strip(),
               "unit": (units[i] if i < len(units) else "").strip()}
        if any(row.values()):
            rows.append(row)
    return rows


@login_required
def progress_form(request, pk: int):
    """File the quarterly progress report of an area task, with evidence files (the area's own bureau)."""
    t = _area_task(request, pk)
    if not can_edit_area(request.user, t.area):
        raise PermissionDenied(_("Only the pilot area's own bureau files its progress."))
    on = today()
    quarters = progress.reportable_quarters(t, on)
    source = request.POST if request.method == "POST" else request.GET
    try:
        chosen = Quarter.parse(source.get("quarter", ""))
    except ValueError:
        reported = set(t.progress_reports.values_list("year", "quarter"))
        missing = [q for q in required_quarters(t, quarters) if (q.year, q.quarter) not in reported]
        chosen = missing[0] if missing else (quarters[-1] if quarters else None)
    existing = t.progress_reports.filter(year=chosen.year, quarter=chosen.quarter).first() if chosen else None
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        data = {"status": request.POST.get("status", ""), "narrative": request.POST.get("narrative", ""),
                "status_note": request.POST.get("status_note", ""),
                "completed_on": request.POST.get("completed_on", "") or None,
                "indicators": _indicators_from_post(request.POST)}
        try:
            if chosen is None:
                raise TrackingError([{"row": None, "field": "quarter", "value": source.get("quarter", ""),
                                      "code": "invalid_quarter", "message": _("Choose a quarter.")}])
            report, created = progress.file_progress(
                request.user, t, year=chosen.year, quarter=chosen.quarter, files=request.FILES.getlist("files"),
                on=on, **data)
        except TrackingError as exc:
            errors, status = _error_lines(exc), exc.status
        else:
            messages.success(request, (_("Progress report %(q)s filed.") if created
                                       else _("Progress report %(q)s updated.")) % {"q": chosen})
            return redirect(reverse("governance:tracking_area_task", args=[t.pk]) + f"#q-{chosen}")
        values = data
    elif existing is not None:
        values = {"status": existing.status_reported, "narrative": existing.narrative,
                  "status_note": t.status_note, "completed_on": t.completed_on, "indicators": existing.indicators}
    else:
        values = {"status": t.status if t.status != TaskStatus.NOT_STARTED else TaskStatus.IN_PROGRESS,
                  "narrative": "", "status_note": t.status_note, "completed_on": None, "indicators": []}
    indicators = list(values["indicators"]) + [{"name": "", "value": "", "unit": ""}] * INDICATOR_ROWS
    return render(request, "governance/tracking/progress_form.html", {
        "t": t, "area": t.area, "task": t.task, "quarters": quarters, "chosen": chosen, "existing": existing,
        "confirmed": existing is not None and progress.is_confirmed(existing), "values": values,
        "indicators": indicators, "statuses": TaskStatus.choices, "errors": errors,
        "max_mb": progress.evidence_service.max_bytes() // (1024 * 1024),
        "accept": ",".join(progress.evidence_service.CONTENT_TYPES),
    }, status=status)


@login_required
@require_POST
def evidence_add(request, pk: int):
    report = _report(request, pk)
    try:
        stored = progress.add_evidence(request.user, report, request.FILES.getlist("files"))
    except TrackingError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("%(n)d file(s) attached.") % {"n": len(stored)})
    return redirect(reverse("governance:tracking_area_task", args=[report.area_task_id])
                    + f"#q-{report.year}Q{report.quarter}")


@login_required
def evidence_download(request, pk: int):
    ev = get_area_scoped(_reader(request), Evidence.objects.all(), pk=pk)
    try:
        return evidence_response(ev)
    except ApiError as exc:
        return render(request, "governance/tracking/evidence_problem.html", {"ev": ev, "detail": exc.detail},
                      status=exc.status)


@login_required
def evidence_delete(request, pk: int):
    """Deleting evidence asks first (GET shows what will go); only before any department has confirmed."""
    ev = get_area_scoped(_reader(request), Evidence.objects.select_related(
        "progress__area_task__area__region", "progress__area_task__task"), pk=pk)
    report = ev.progress
    back = reverse("governance:tracking_area_task", args=[report.area_task_id]) + f"#q-{report.year}Q{report.quarter}"
    if not can_edit_area(request.user, report.area_task.area):
        raise PermissionDenied(_("Only the pilot area's own bureau removes its evidence."))
    if request.method == "POST":
        try:
            progress.delete_evidence(request.user, ev, reason=request.POST.get("reason", ""))
        except TrackingError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("%(name)s deleted.") % {"name": ev.original_name})
        return redirect(back)
    return render(request, "governance/tracking/evidence_delete.html", {
        "ev": ev, "report": report, "back": back, "confirmed": progress.is_confirmed(report)})


@login_required
@require_POST
def confirm_progress(request, pk: int):
    report = _report(request, pk)
    try:
        progress.confirm(request.user, report, request.POST.get("decision", ""), request.POST.get("note", ""))
    except TrackingError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Your decision on %(q)s is recorded.") % {"q": f"{report.year}Q{report.quarter}"})
    nxt = request.POST.get("next", "")
    if nxt.startswith("/governance/"):
        return redirect(nxt)
    return redirect(reverse("governance:tracking_area_task", args=[report.area_task_id])
                    + f"#q-{report.year}Q{report.quarter}")


# --- a department's co-owned tasks ---------------------------------------------------------------------------

@login_required
def department(request):
    """A member department's tasks across the areas, and the progress awaiting its confirmation. The ministry and
    auditors choose the department (?agency=code)."""
    user = _reader(request)
    own = agency_of(user)
    if own is None and role_of(user) not in (Role.MINISTRY, Role.AUDITOR):
        raise PermissionDenied(_("The department view is for member departments and the ministry."))
    named = Agency.objects.filter(responsibilities__isnull=False).distinct().order_by("order")
    agency = own or named.filter(code=request.GET.get("agency", "")).first() or named.first()
    rnd = _round(request)
    area_tasks = scope_areas(user, AreaTask.objects.filter(area__round=rnd)).filter(
        pk__in=AreaTask.objects.filter(progress.co_owner_filter(agency)).values("pk"))
    counts: dict[int, Counter] = defaultdict(Counter)
    for task_id, status in area_tasks.values_list("task_id", "status"):
        counts[task_id][status] += 1
    tasks = Task.objects.filter(round=rnd).filter(progress.co_owner_filter(agency, "")).distinct().select_related("area").order_by("order")
    task_rows = [{"task": task, "counts": [counts[task.pk].get(s, 0) for s in TaskStatus.values],
                  "areas": sum(counts[task.pk].values())} for task in tasks]
    reports = scope_areas(user, ProgressReport.objects.filter(area_task__area__round=rnd).select_related(
        "area_task__area", "area_task__task"))
    waiting = progress.awaiting_confirmation(agency, reports).order_by("-year", "-quarter", "area_task__area__order")
    page = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "governance/tracking/department.html", {
        "agency": agency, "agencies": named if own is None else [], "round": rnd, "task_rows": task_rows,
        "statuses": TaskStatus.choices, "page": page, "can_confirm": own is not None and own == agency,
        "decisions": progress.Confirmation.Decision.choices,
    })


# --- overdue and reminders -----------------------------------------------------------------------------------

EXPORT_COLUMNS = ["kind", "kind_label", "area", "region", "task_code", "task", "due", "days_overdue", "quarters",
                  "detail", "url"]


def _export_row(request, i) -> list:
    return [i.kind, str(i.kind_label), i.area.name, i.area.region.code, i.task.code if i.task else "",
            i.task.text_zh if i.task else "", i.due.isoformat(), i.days, " ".join(str(q) for q in i.quarters),
            i.detail, request.build_absolute_uri(i.url)]


def _int(value) -> int | None:
    """A count from a form or link (days ahead, blank rows); callers clamp it."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
def overdue_list(request):
    user = _reader(request)
    on = today()
    area_id, task_area_id = row_id(request.GET.get("area")), row_id(request.GET.get("task_area"))
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else ""
    every = find_overdue(user, on, area=area_id, task_area=task_area_id)
    counts = Counter(i.kind for i in every)
    rows = [i for i in every if not kind or i.kind == kind]
    fmt = request.GET.get("format", "")
    if fmt in ("csv", "xlsx"):
        return _download(request, rows, fmt, on)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    rnd = _round(request)
    keep = {k: v for k, v in {"area": area_id or "", "task_area": task_area_id or "", "kind": kind}.items() if v}
    return render(request, "governance/tracking/overdue.html", {
        "page": page, "total": len(every), "matching": len(rows), "today": on,
        "kinds": [(k, label, counts.get(k, 0)) for k, label in Kind.choices], "kind": kind,
        "areas": scope_areas(user, PilotArea.objects.filter(round=rnd)), "area_id": area_id,
        "task_areas": TaskArea.objects.filter(round=rnd), "task_area_id": task_area_id,
        "csv_query": urlencode({**keep, "format": "csv"}), "xlsx_query": urlencode({**keep, "format": "xlsx"}),
        "is_ministry": is_ministry(user), "remind_days": 14,
    })


def _download(request, rows, fmt: str, on: dt.date) -> HttpResponse:
    filename = f"overdue-{on.isoformat()}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write("\ufeff")  # BOM: spreadsheet programs then read the Chinese names as UTF-8
        writer = csv.writer(response)
        writer.writerow(EXPORT_COLUMNS)
        for i in rows:
            writer.writerow(_export_row(request, i))
    else:
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet(_("Overdue"))
        ws.append(EXPORT_COLUMNS)
        for i in rows:
            ws.append(_export_row(request, i))
        out = io.BytesIO()
        wb.save(out)
        response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_POST
def remind(request):
    """The ministry's button: remind every area's bureau of deadlines in the next days (once a day each)."""
    check_ministry(request.user, _("Only the ministry sends governance reminders."))
    days = _int(request.POST.get("days")) or 14
    days = max(1, min(days, 90))
    sent = send_reminders(today(), days, scope_areas(request.user, PilotArea.objects.all()))
    messages.success(request, _("%(n)d reminder(s) sent (deadlines in the next %(d)d days).") % {"n": sent, "d": days})
    return redirect("governance:tracking_overdue")


# --- supervision notices -------------------------------------------------------------------------------------

@login_required
def notice_list(request):
    user = _reader(request)
    qs = scope_areas(user, SupervisionNotice.objects.select_related("area_task__area", "area_task__task"))
    state = request.GET.get("state", "")
    if state in SupervisionNotice.State.values:
        qs = qs.filter(state=state)
    counts = dict(scope_areas(user, SupervisionNotice.objects.all()).values_list("state").annotate(n=Count("pk")))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "governance/tracking/notices.html", {
        "page": page, "state": state, "states": [(s, label, counts.get(s, 0)) for s, label in
                                                 SupervisionNotice.State.choices], "today": today()})


@login_required
def notice_new(request, pk: int):
    t = _area_task(request, pk)
    check_ministry(request.user, _("Only the ministry issues supervision notices."))
    on = today()
    values = {"message": "", "reply_due": (on + dt.timedelta(days=notices.DEFAULT_REPLY_DAYS)).isoformat()}
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        values = {"message": request.POST.get("message", ""), "reply_due": request.POST.get("reply_due", "")}
        try:
            n = notices.issue(request.user, t, values["message"], values["reply_due"], on=on)
        except TrackingError as exc:
            errors, status = _error_lines(exc), exc.status
        else:
            messages.success(request, _("Supervision notice issued to %(area)s.") % {"area": t.area.name})
            return redirect("governance:tracking_notice", n.pk)
    return render(request, "governance/tracking/notice_new.html", {
        "t": t, "values": values, "errors": errors, "today": on}, status=status)


@login_required
def notice_page(request, pk: int):
    n = _notice(request, pk)
    return render(request, "governance/tracking/notice.html", {
        "n": n, "t": n.area_task, "can_reply": notices.can_reply(request.user, n),
        "can_close": is_ministry(request.user) and n.state != SupervisionNotice.State.CLOSED,
        "overdue": n.state == SupervisionNotice.State.OPEN and n.reply_due < today()})


@login_required
@require_POST
def notice_reply(request, pk: int):
    n = _notice(request, pk)
    try:
        notices.reply(request.user, n, request.POST.get("reply", ""))
    except TrackingError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Reply sent to the ministry."))
    return redirect("governance:tracking_notice", n.pk)


@login_required
@require_POST
def notice_close(request, pk: int):
    n = _notice(request, pk)
    try:
        notices.close(request.user, n, request.POST.get("note", ""))
    except TrackingError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Supervision notice closed."))
    return redirect("governance:tracking_notice", n.pk)


# --- work plans ----------------------------------------------------------------------------------------------

@login_required
def plan_page(request, area_id: int):
    area = _area(request, area_id)
    user = request.user
    plan = WorkPlan.objects.filter(area=area).select_related("submitted_by", "reviewed_by").first()
    actions = plan.actions.select_related("task__area") if plan else []
    return render(request, "governance/tracking/plan.html", {
        "area": area, "plan": plan, "state": workplans.plan_state(area, plan), "actions": actions,
        "can_edit": workplans.can_edit(user, area, plan),
        "can_review": is_ministry(user) and plan is not None and plan.status == ReviewStatus.SUBMITTED,
    })


def _actions_from_post(post) -> list[dict]:
    columns = {f: post.getlist(f"action_{f}") for f in ("task", "text", "lead_unit", "deadline", "target")}
    count = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(count):
        row = {f: (columns[f][i] if i < len(columns[f]) else "").strip() for f in columns}
        if any(row[f] for f in ("text", "lead_unit", "deadline", "target")):  # a task alone is an untouched row
            rows.append({"task_id": row["task"], **{f: row[f] for f in ("text", "lead_unit", "deadline", "target")}})
    return rows


@login_required
def plan_edit(request, area_id: int):
    area = _area(request, area_id)
    plan = WorkPlan.objects.filter(area=area).first()
    if not can_edit_area(request.user, area):
        raise PermissionDenied(_("Only the pilot area's own bureau edits its work plan."))
    if plan is not None and plan.status not in workplans.EDITABLE:
        messages.error(request, _("A submitted or approved work plan cannot be edited."))
        return redirect("governance:tracking_plan", area.pk)
    errors: list[str] = []
    status = 200
    if request.method == "POST":
        header = {f: request.POST.get(f, "") for f in ("title", "document_no", "summary")}
        rows = _actions_from_post(request.POST)
        try:
            workplans.save_plan(request.user, area, actions=rows, reason=request.POST.get("reason", ""), **header)
        except TrackingError as exc:
            errors, status = _error_lines(exc), exc.status
        else:
            messages.success(request, _("Work plan saved."))
            return redirect("governance:tracking_plan", area.pk)
    elif plan is not None:
        header = {"title": plan.title, "document_no": plan.document_no, "summary": plan.summary}
        rows = [{"task_id": str(a.task_id), "text": a.text, "lead_unit": a.lead_unit,
                 "deadline": a.deadline.isoformat() if a.deadline else "", "target": a.target}
                for a in plan.actions.all()]
    else:
        header = {"title": _("%(area)s work plan for the deepened service trade innovation pilot")
                  % {"area": area.name}, "document_no": "", "summary": ""}
        rows = []
    blank = max(PLAN_BLANK_ROWS, min(_int(request.GET.get("rows")) or 0, 100))
    rows = rows + [{"task_id": "", "text": "", "lead_unit": "", "deadline": "", "target": ""}] * blank
    tasks = Task.objects.filter(round=area.round).select_related("area").order_by("order")
    tracked = set(AreaTask.objects.filter(area=area).values_list("task_id", flat=True))
    return render(request, "governance/tracking/plan_edit.html", {
        "area": area, "plan": plan, "header": header, "rows": rows, "tasks": tasks, "tracked": tracked,
        "errors": errors, "state": workplans.plan_state(area, plan), "more_rows": blank + 5,
    }, status=status)


@login_required
@require_POST
def plan_submit(request, area_id: int):
    area = _area(request, area_id)
    plan = WorkPlan.objects.filter(area=area).first()
    if not can_edit_area(request.user, area):
        raise PermissionDenied(_("Only the pilot area's own bureau submits its work plan."))
    if plan is None:
        messages.error(request, _("Write the work plan before submitting it."))
        return redirect("governance:tracking_plan_edit", area.pk)
    try:
        plan = workplans.submit_plan(request.user, plan)
    except TrackingError as exc:
        _flash(request, exc)
    else:
        state = workplans.plan_state(area, plan)
        messages.success(request, _("Work plan submitted to the ministry.") + (
            " " + _("It was submitted after the deadline (%(d)s).") % {"d": state.deadline} if state.late else ""))
    return redirect("governance:tracking_plan", area.pk)


@login_required
@require_POST
def plan_review(request, area_id: int):
    area = _area(request, area_id)
    check_ministry(request.user, _("Only the ministry reviews work plans."))
    plan = WorkPlan.objects.filter(area=area).first()
    if plan is None:
        raise Http404
    try:
        workplans.review_plan(request.user, plan, request.POST.get("decision", ""), request.POST.get("note", ""))
    except TrackingError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Review recorded."))
    return redirect("governance:tracking_plan", area.pk)


urlpatterns = [
    path("", home, name="tracking_home"),
    path("tracking/areas/<int:area_id>/", area_board, name="tracking_area"),
    path("tracking/areas/<int:area_id>/work-plan/", plan_page, name="tracking_plan"),
    path("tracking/areas/<int:area_id>/work-plan/edit/", plan_edit, name="tracking_plan_edit"),
    path("tracking/areas/<int:area_id>/work-plan/submit/", plan_submit, name="tracking_plan_submit"),
    path("tracking/areas/<int:area_id>/work-plan/review/", plan_review, name="tracking_plan_review"),
    path("tracking/tasks/<int:task_id>/", task_page, name="tracking_task"),
    path("tracking/area-tasks/<int:pk>/", area_task_page, name="tracking_area_task"),
    path("tracking/area-tasks/<int:pk>/progress/", progress_form, name="tracking_progress"),
    path("tracking/area-tasks/<int:pk>/notices/new/", notice_new, name="tracking_notice_new"),
    path("tracking/progress/<int:pk>/evidence/", evidence_add, name="tracking_evidence_add"),
    path("tracking/progress/<int:pk>/confirm/", confirm_progress, name="tracking_confirm"),
    path("tracking/evidence/<int:pk>/", evidence_download, name="tracking_evidence"),
    path("tracking/evidence/<int:pk>/delete/", evidence_delete, name="tracking_evidence_delete"),
    path("tracking/departments/", department, name="tracking_department"),
    path("tracking/overdue/", overdue_list, name="tracking_overdue"),
    path("tracking/overdue/remind/", remind, name="tracking_remind"),
    path("tracking/notices/", notice_list, name="tracking_notices"),
    path("tracking/notices/<int:pk>/", notice_page, name="tracking_notice"),
    path("tracking/notices/<int:pk>/reply/", notice_reply, name="tracking_notice_reply"),
    path("tracking/notices/<int:pk>/close/", notice_close, name="tracking_notice_close"),
]
