"""Area-task status, quarterly progress reports and department confirmations.

Rules:

- The area's own bureau files one progress report per area task and quarter; the quarter lies within the round's
  period and has begun. Filing it again before any department has confirmed it updates it (audited); once a
  department has confirmed or disputed it, it is part of the record and filing that quarter again is refused (409).
- A report carries the status reached (未启动/推进中/已完成/受阻), a narrative, indicators
  (`[{"name", "value", "unit"}]`, values as exact decimal strings) and evidence files (`evidence`).
- Filing the latest reported quarter sets the area task's status: completed sets `completed_on` (given, else the
  quarter's end or today, whichever is earlier; never after the quarter, never in the future), any other status
  clears it; a blocked task needs a note saying what blocks it. Re-filing an earlier quarter leaves the status.
- A department confirms or disputes a report when its agency co-owns the task (a responsibility naming the
  agency, or "all member units"); a dispute needs a note. The area's bureau is notified.
- Evidence can be added later; it can be deleted only while no department has confirmed the report.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.scoping import can_edit_area
from tradepilot.governance import evidence as evidence_service
from tradepilot.governance.common import bureau_users, error, today
from tradepilot.governance.models import (
    AreaTask,
    Confirmation,
    Evidence,
    ProgressReport,
    Responsibility,
    TaskStatus,
)
from tradepilot.governance.tracking import (
    Quarter,
    TrackingError,
    agency_of,
    check_editor,
    fail,
    notify_users,
    round_quarters,
)

LIMITS = {"narrative": 10000, "status_note": 2000, "name": 100, "unit": 30, "note": 2000}
MAX_INDICATORS = 30
MAX_VALUE = Decimal("1e15")
MAX_DECIMALS = 4


# --- input ---------------------------------------------------------------------------------------------------

def clean_indicators(raw) -> tuple[list[dict], list[dict]]:
    """Cleaned indicators (value as a canonical decimal string) and located errors (rows from 1)."""
    errors: list[dict] = []
    if raw in (None, ""):
        return [], errors
    if not isinstance(raw, (list, tuple)):
        return [], [error("indicators", raw, "invalid", _("Indicators are a list of {name, value, unit}."))]
    if len(raw) > MAX_INDICATORS:
        return [], [error("indicators", len(raw), "too_many", _("At most %(n)d indicators.") % {"n": MAX_INDICATORS})]
    out = []
    for row, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors.append(error("indicators", item, "invalid", _("Each indicator has a name, a value and a unit."),
                                row))
            continue
        name = str(item.get("name") or "").strip()
        unit = str(item.get("unit") or "").strip()
        raw_value = item.get("value")
        if not name:
            errors.append(error("indicators.name", name, "required", _("Name the indicator."), row))
        elif len(name) > LIMITS["name"]:
            errors.append(error("indicators.name", name, "too_long", _("At most %(n)d characters.")
                                % {"n": LIMITS["name"]}, row))
        if len(unit) > LIMITS["unit"]:
            errors.append(error("indicators.unit", unit, "too_long", _("At most %(n)d characters.")
                                % {"n": LIMITS["unit"]}, row))
        value = _decimal(raw_value)
        if value is None:
            errors.append(error("indicators.value", raw_value, "invalid_number",
                                _("The value is not a number (use digits and a decimal point)."), row))
        elif abs(value) >= MAX_VALUE:
            errors.append(error("indicators.value", raw_value, "too_large", _("The value is too large."), row))
        elif -value.as_tuple().exponent > MAX_DECIMALS:
            errors.append(error("indicators.value", raw_value, "too_precise",
                                _("At most %(n)d decimal places.") % {"n": MAX_DECIMALS}, row))
        else:
            out.append({"name": name, "value": format(value, "f"), "unit": unit})
    return out, errors


def _decimal(value) -> Decimal | None:
    # Floats are refused on purpose: a JSON number like 0.1 is not the decimal the area typed.
    if isinstance(value, bool) or isinstance(value, float) or value is None:
        return None
    text = str(value).strip().replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _date(value, field: str, errors: list) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(error(field, value, "invalid_date", _("Use the date format YYYY-MM-DD.")))
        return None


def clean_quarter(area_task: AreaTask, year, quarter, on: dt.date, errors: list) -> Quarter | None:
    try:
        q = Quarter(int(year), int(quarter))
        if q.quarter not in (1, 2, 3, 4):
            raise ValueError
    except (TypeError, ValueError):
        errors.append(error("quarter", f"{year}Q{quarter}", "invalid_quarter",
                            _("Give a year and a quarter (1 to 4).")))
        return None
    quarters = round_quarters(area_task.area.round)
    if q not in quarters:
        errors.append(error("quarter", str(q), "outside_round",
                            _("The quarter must lie within the pilot period (%(first)s to %(last)s).")
                            % {"first": quarters[0], "last": quarters[-1]}))
        return None
    if q.start > on:
        errors.append(error("quarter", str(q), "future", _("This quarter has not begun yet.")))
        return None
    return q


def reportable_quarters(area_task: AreaTask, on: dt.date | None = None) -> list[Quarter]:
    """The quarters a report may be filed for: the round's quarters that have begun."""
    on = on or today()
    return [q for q in round_quarters(area_task.area.round) if q.start <= on]


# --- filing --------------------------------------------------------------------------------------------------

def _report_snapshot(report: ProgressReport) -> dict:
    return {"year": report.year, "quarter": report.quarter, "status_reported": report.status_reported,
            "narrative": report.narrative, "indicators": report.indicators}


def _task_snapshot(area_task: AreaTask) -> dict:
    return {"status": area_task.status, "completed_on": area_task.completed_on, "status_note": area_task.status_note}


def is_confirmed(report: ProgressReport) -> bool:
    """A department has confirmed or disputed it: the report is then part of the record."""
    return report.confirmations.exists()


@transaction.atomic
def file_progress(user, area_task: AreaTask, *, year, quarter, status, narrative, indicators=None,
                  status_note: str = "", completed_on=None, files=(), on: dt.date | None = None,
                  reason: str = "") -> tuple[ProgressReport, bool]:
    """File (or, before any confirmation, re-file) the quarter's progress report. Returns (report, created)."""
    on = on or today()
    area_task = AreaTask.objects.select_for_update().select_related("area__round", "area__region", "task").get(
        pk=area_task.pk)
    check_editor(user, area_task.area)
    errors: list[dict] = []
    q = clean_quarter(area_task, year, quarter, on, errors)
    if status not in TaskStatus.values:
        errors.append(error("status", status, "invalid_choice", _("Choose one of: %(v)s.")
                            % {"v": ", ".join(TaskStatus.values)}))
    narrative = str(narrative or "").strip()
    if not narrative:
        errors.append(error("narrative", "", "required", _("Describe the progress made.")))
    elif len(narrative) > LIMITS["narrative"]:
        errors.append(error("narrative", narrative, "too_long", _("At most %(n)d characters.")
                            % {"n": LIMITS["narrative"]}))
    status_note = str(status_note or "").strip()
    if len(status_note) > LIMITS["status_note"]:
        errors.append(error("status_note", status_note, "too_long", _("At most %(n)d characters.")
                            % {"n": LIMITS["status_note"]}))
    elif status == TaskStatus.BLOCKED and not status_note:
        errors.append(error("status_note", "", "required", _("Say what blocks the task.")))
    cleaned_indicators, indicator_errors = clean_indicators(indicators)
    errors += indicator_errors
    completed = _date(completed_on, "completed_on", errors)
    if completed is not None and status != TaskStatus.COMPLETED:
        errors.append(error("completed_on", completed, "not_completed",
                            _("A completion date goes with the status completed.")))
    if completed is not None and q is not None:
        start = area_task.area.round.start_date
        if not (start <= completed <= min(q.end, on)):
            errors.append(error("completed_on", completed, "out_of_range",
                                _("The completion date lies between %(start)s and %(end)s.")
                                % {"start": start, "end": min(q.end, on)}))
    existing = None
    if q is not None:
        existing = ProgressReport.objects.select_for_update().filter(
            area_task=area_task, year=q.year, quarter=q.quarter).first()
    hashes = list(existing.evidence.values_list("sha256", flat=True)) if existing else []
    try:
        checked = evidence_service.check_files(files, existing=hashes)
    except TrackingError as exc:
        errors += exc.errors
    if errors:
        raise TrackingError(errors)
    if existing is not None and is_confirmed(existing):
        raise fail("quarter", str(q), "confirmed",
                   _("The report for %(q)s has been confirmed by a department and cannot be filed again.")
                   % {"q": q}, status=409)

    values = {"status_reported": status, "narrative": narrative, "indicators": cleaned_indicators}
    if existing is None:
        report = ProgressReport.objects.create(area_task=area_task, year=q.year, quarter=q.quarter,
                                               submitted_by=user, submitted_at=timezone.now(), **values)
        audit.record(user, "progress:create", report, changes=audit.diff({}, _report_snapshot(report)),
                     reason=reason)
    else:
        report = existing
        before = _report_snapshot(report)
        for key, value in values.items():
            setattr(report, key, value)
        report.submitted_by, report.submitted_at = user, timezone.now()
        report.save()
        audit.record(user, "progress:update", report, changes=audit.diff(before, _report_snapshot(report)),
                     reason=reason or _("filed again"))
    for item in checked:
        stored = evidence_service.store(report, item, user)
        audit.record(user, "evidence:add", stored, changes={"sha256": [None, item.sha256],
                                                            "original_name": [None, item.name]})
    _update_task_status(user, area_task, report, q, status_note, completed, on)
    return report, existing is None


def _update_task_status(user, area_task: AreaTask, report: ProgressReport, q: Quarter, note: str,
                        completed: dt.date | None, on: dt.date) -> None:
    """The latest reported quarter decides the task's status."""
    latest = area_task.progress_reports.order_by("-year", "-quarter").values_list("year", "quarter").first()
    if latest is not None and Quarter(*latest) > q:
        return
    before = _task_snapshot(area_task)
    area_task.status = report.status_reported
    if report.status_reported == TaskStatus.COMPLETED:
        area_task.completed_on = completed or (area_task.completed_on if before["status"] == TaskStatus.COMPLETED
                                               else None) or min(q.end, on)
    else:
        area_task.completed_on = None
    area_task.status_note = note
    changes = audit.diff(before, _task_snapshot(area_task))
    if changes:
        area_task.save()
        audit.record(user, "task:status", area_task, changes=changes,
                     reason=_("progress report %(q)s") % {"q": q})


# --- evidence added later or removed -------------------------------------------------------------------------

@transaction.atomic
def add_evidence(user, report: ProgressReport, files) -> list[Evidence]:
    report = ProgressReport.objects.select_for_update().select_related("area_task__area").get(pk=report.pk)
    check_editor(user, report.area_task.area)
    files = [f for f in files if f is not None]
    if not files:
        raise fail("files", "", "required", _("Choose at least one file."))
    checked = evidence_service.check_files(files, existing=report.evidence.values_list("sha256", flat=True))
    stored = []
    for item in checked:
        ev = evidence_service.store(report, item, user)
        audit.record(user, "evidence:add", ev, changes={"sha256": [None, item.sha256],
                                                        "original_name": [None, item.name]})
        stored.append(ev)
    return stored


def can_delete_evidence(user, ev: Evidence) -> bool:
    return can_edit_area(user, ev.progress.area_task.area) and not is_confirmed(ev.progress)


@transaction.atomic
def delete_evidence(user, ev: Evidence, reason: str = "") -> None:
    ev = Evidence.objects.select_related("progress__area_task__area").get(pk=ev.pk)
    check_editor(user, ev.progress.area_task.area)
    if is_confirmed(ev.progress):
        raise fail("evidence", ev.original_name, "confirmed",
                   _("Evidence of a confirmed report cannot be deleted."), status=409)
    path, sha = ev.file.name, ev.sha256
    audit.record(user, "evidence:delete", ev, changes={"sha256": [sha, None], "original_name": [ev.original_name, None]},
                 reason=reason)
    ev.delete()
    evidence_service.discard_unreferenced(path, sha)


# --- department confirmations --------------------------------------------------------------------------------

def co_owner_filter(agency, task_path: str = "task") -> Q:
    """Rows whose task (`task_path`, "" for Task itself) the agency co-owns: named as a responsible unit, or
    covered by "all member units"."""
    prefix = f"{task_path}__" if task_path else ""
    return Q(**{f"{prefix}responsibilities__agency": agency}) | Q(
        **{f"{prefix}responsibilities__unit": Responsibility.Unit.MEMBER_UNITS})


def co_owns(agency, task) -> bool:
    if agency is None:
        return False
    return Responsibility.objects.filter(task=task).filter(
        Q(agency=agency) | Q(unit=Responsibility.Unit.MEMBER_UNITS)).exists()


def can_confirm(user, report: ProgressReport) -> bool:
    return co_owns(agency_of(user), report.area_task.task)


@transaction.atomic
def confirm(user, report: ProgressReport, decision: str, note: str = "") -> Confirmation:
    """Confirm or dispute a report for the user's agency (a later decision replaces the earlier one, audited)."""
    report = ProgressReport.objects.select_for_update().select_related(
        "area_task__area__region", "area_task__task").get(pk=report.pk)
    agency = agency_of(user)
    if not co_owns(agency, report.area_task.task):
        raise PermissionDenied(_("Only a department that co-owns the task confirms its progress."))
    note = str(note or "").strip()
    if decision not in Confirmation.Decision.values:
        raise fail("decision", decision, "invalid_choice", _("Choose confirmed or disputed."))
    if decision == Confirmation.Decision.DISPUTED and not note:
        raise fail("note", note, "required", _("Say what the department disputes."))
    if len(note) > LIMITS["note"]:
        raise fail("note", note, "too_long", _("At most %(n)d characters.") % {"n": LIMITS["note"]})
    existing = Confirmation.objects.filter(progress=report, agency=agency).first()
    before = {"decision": existing.decision, "note": existing.note} if existing else {}
    if existing is None:
        conf = Confirmation.objects.create(progress=report, agency=agency, decision=decision, note=note, by=user)
    else:
        conf = existing
        conf.decision, conf.note, conf.by, conf.at = decision, note, user, timezone.now()
        conf.save()
    audit.record(user, f"progress:{decision}", report,
                 changes=audit.diff(before, {"decision": decision, "note": note}) | {"agency": [None, agency.code]},
                 reason=note)
    area_task = report.area_task
    title = (_("%(agency)s confirmed progress %(q)s on task %(task)s") if decision == Confirmation.Decision.CONFIRMED
             else _("%(agency)s disputed progress %(q)s on task %(task)s")) % {
        "agency": agency.name, "q": f"{report.year}Q{report.quarter}", "task": area_task.task.code}
    notify_users(bureau_users(area_task.area), title, note,
                 url=reverse("governance:tracking_area_task", args=[area_task.pk]))
    return conf


def awaiting_confirmation(agency, reports):
    """Of `reports` (already scoped), those on tasks the agency co-owns that it has not yet confirmed or disputed."""
    return reports.filter(pk__in=reports.model.objects.filter(co_owner_filter(agency, "area_task__task"))
                          .values("pk")).exclude(confirmations__agency=agency)
