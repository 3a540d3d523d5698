"""An area's work plan (工作方案, 附件3 注: due by the programme's `work_plan_deadline`).

Rules:

- only the area's own bureau drafts and edits the plan, and only while it is a draft or was returned;
- saving replaces the header (title, document number, summary) and all actions at once; every action maps to a
  task of the area's round and, when it has a deadline, the deadline lies within the round's period;
- the bureau submits (a plan needs a title and at least one action); a submission after the deadline is flagged
  late (`is_late`);
- the ministry approves a submitted plan, or returns it with a note, which makes it editable again.

Every change is audited on the plan; submission and review notify the other side.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.models import PilotArea
from tradepilot.core.scoping import can_edit_area
from tradepilot.governance.common import bureau_users, error, ministry_users, today
from tradepilot.governance.models import Programme, ReviewStatus, Task, WorkPlan, WorkPlanAction
from tradepilot.governance.tracking import TrackingError, check_editor, check_ministry, fail, notify_users

EDITABLE = {ReviewStatus.DRAFT, ReviewStatus.RETURNED}
LIMITS = {"title": 200, "document_no": 100, "summary": 10000, "text": 4000, "lead_unit": 200, "target": 300}
MAX_ACTIONS = 500


def deadline_of(area: PilotArea) -> dt.date | None:
    programme = Programme.objects.filter(round_id=area.round_id).first()
    return programme.work_plan_deadline if programme is not None else None


def is_late(plan: WorkPlan, deadline: dt.date | None = None) -> bool:
    """Submitted (the first time it was sent in, as recorded) after the deadline."""
    deadline = deadline if deadline is not None else deadline_of(plan.area)
    if deadline is None or plan.submitted_at is None:
        return False
    return timezone.localdate(plan.submitted_at) > deadline


def is_submitted(plan: WorkPlan | None) -> bool:
    return plan is not None and plan.status in (ReviewStatus.SUBMITTED, ReviewStatus.APPROVED)


@dataclass
class PlanState:
    """What the pages show about an area's plan and its deadline."""

    plan: WorkPlan | None
    deadline: dt.date | None
    days_left: int | None  # negative once the deadline has passed
    late: bool  # submitted after the deadline
    overdue: bool  # not submitted and the deadline has passed

    @property
    def status(self) -> str:
        return self.plan.status if self.plan is not None else ""

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0

    @property
    def open(self) -> bool:
        """Still to be sent in (no plan, a draft, or a returned plan)."""
        return not is_submitted(self.plan)


def plan_state(area: PilotArea, plan: WorkPlan | None = None, on: dt.date | None = None,
               deadline: dt.date | None = None) -> PlanState:
    on = on or today()
    deadline = deadline if deadline is not None else deadline_of(area)
    days_left = (deadline - on).days if deadline else None
    return PlanState(plan=plan, deadline=deadline, days_left=days_left,
                     late=plan is not None and is_late(plan, deadline),
                     overdue=deadline is not None and on > deadline and not is_submitted(plan))


def can_edit(user, area: PilotArea, plan: WorkPlan | None) -> bool:
    return can_edit_area(user, area) and (plan is None or plan.status in EDITABLE)


# --- input ---------------------------------------------------------------------------------------------------

def _text(data: dict, field: str, errors: list, row: int | None = None, required: bool = False) -> str:
    value = data.get(field)
    text = "" if value is None else str(value).strip()
    if required and not text:
        errors.append(error(field, value, "required", _("This field is required."), row))
    elif len(text) > LIMITS[field]:
        errors.append(error(field, text, "too_long",
                            _("At most %(n)d characters.") % {"n": LIMITS[field]}, row))
    return text


def _date(value, field: str, errors: list, row: int | None) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append(error(field, value, "invalid_date", _("Use the date format YYYY-MM-DD."), row))
        return None


def _task(value, area: PilotArea, tasks: dict, errors: list, row: int) -> Task | None:
    """A task of the area's round, by id (or by its code)."""
    if value in (None, ""):
        errors.append(error("task", value, "required", _("Choose the programme task this action serves."), row))
        return None
    task = tasks["id"].get(str(value).strip()) or tasks["code"].get(str(value).strip())
    if task is None:
        errors.append(error("task", value, "unknown_task",
                            _("Not a task of this pilot round's programme."), row))
    return task


def clean_actions(area: PilotArea, actions: list[dict]) -> tuple[list[dict], list[dict]]:
    """The cleaned actions and the located errors (rows numbered from 1)."""
    errors: list[dict] = []
    rnd = area.round
    known = list(Task.objects.filter(round_id=area.round_id))
    tasks = {"id": {str(t.pk): t for t in known}, "code": {t.code: t for t in known}}
    if len(actions) > MAX_ACTIONS:
        errors.append(error("actions", len(actions), "too_many",
                            _("At most %(n)d actions.") % {"n": MAX_ACTIONS}))
        return [], errors
    cleaned = []
    for row, data in enumerate(actions, start=1):
        task = _task(data.get("task_id", data.get("task")), area, tasks, errors, row)
        text = _text(data, "text", errors, row, required=True)
        lead_unit = _text(data, "lead_unit", errors, row)
        target = _text(data, "target", errors, row)
        deadline = _date(data.get("deadline"), "deadline", errors, row)
        if deadline is not None and not (rnd.start_date <= deadline <= rnd.end_date):
            errors.append(error("deadline", deadline, "outside_round",
                                _("The deadline must lie within the pilot period (%(start)s to %(end)s).")
                                % {"start": rnd.start_date, "end": rnd.end_date}, row))
        cleaned.append({"task": task, "text": text, "lead_unit": lead_unit, "deadline": deadline, "target": target})
    return cleaned, errors


def _snapshot(plan: WorkPlan) -> dict:
    return {
        "title": plan.title, "document_no": plan.document_no, "summary": plan.summary, "status": plan.status,
        "actions": [{"task": a.task.code, "text": a.text, "lead_unit": a.lead_unit,
                     "deadline": a.deadline.isoformat() if a.deadline else None, "target": a.target}
                    for a in plan.actions.select_related("task")] if plan.pk else [],
    }


# --- operations ----------------------------------------------------------------------------------------------

@transaction.atomic
def save_plan(user, area: PilotArea, *, title, document_no="", summary="", actions: list[dict],
              reason: str = "") -> WorkPlan:
    """Create or replace the area's plan (header and every action). All or nothing."""
    check_editor(user, area)
    plan = WorkPlan.objects.select_for_update().filter(area=area).first()
    if plan is not None and plan.status not in EDITABLE:
        raise fail("status", plan.status, "not_editable",
                   _("A submitted or approved work plan cannot be edited."), status=409)
    errors: list[dict] = []
    header = {"title": title, "document_no": document_no, "summary": summary}
    values = {
        "title": _text(header, "title", errors, required=True),
        "document_no": _text(header, "document_no", errors),
        "summary": _text(header, "summary", errors),
    }
    cleaned, action_errors = clean_actions(area, list(actions or []))
    errors += action_errors
    if errors:
        raise TrackingError(errors)
    created = plan is None
    before = _snapshot(plan) if plan is not None else {}
    if created:
        plan = WorkPlan(area=area)
    for key, value in values.items():
        setattr(plan, key, value)
    plan.save()
    plan.actions.all().delete()
    WorkPlanAction.objects.bulk_create(WorkPlanAction(plan=plan, **a) for a in cleaned)
    after = _snapshot(plan)
    audit.record(user, "plan:create" if created else "plan:update", plan, changes=audit.diff(before, after),
                 reason=reason)
    return plan


@transaction.atomic
def submit_plan(user, plan: WorkPlan) -> WorkPlan:
    plan = WorkPlan.objects.select_for_update().select_related("area__round", "area__region").get(pk=plan.pk)
    check_editor(user, plan.area)
    if plan.status not in EDITABLE:
        raise fail("status", plan.status, "bad_state", _("Only a draft or returned work plan can be submitted."),
                   status=409)
    errors = []
    if not plan.title.strip():
        errors.append(error("title", "", "required", _("This field is required.")))
    if not plan.actions.exists():
        errors.append(error("actions", 0, "required", _("A work plan needs at least one action.")))
    if errors:
        raise TrackingError(errors)
    old = plan.status
    now = timezone.now()
    # The first submission counts for lateness: a plan returned and sent in again keeps its original date.
    first = plan.submitted_at is None
    plan.status = ReviewStatus.SUBMITTED
    if first:
        plan.submitted_at = now
    plan.submitted_by = user
    plan.save()
    state = plan_state(plan.area, plan)
    audit.record(user, "plan:submit", plan, changes={"status": [old, plan.status]},
                 reason=_("late: deadline %(d)s") % {"d": state.deadline} if state.late else "")
    notify_users(ministry_users(), _("Work plan submitted: %(area)s") % {"area": plan.area.name},
                 (_("Submitted after the deadline (%(d)s).") % {"d": state.deadline}) if state.late else "",
                 url=reverse("governance:tracking_plan", args=[plan.area_id]))
    return plan


@transaction.atomic
def review_plan(user, plan: WorkPlan, decision: str, note: str = "") -> WorkPlan:
    """`decision` is "approve" or "return" (a return needs a note saying what to change)."""
    check_ministry(user, _("Only the ministry reviews work plans."))
    plan = WorkPlan.objects.select_for_update().select_related("area__region").get(pk=plan.pk)
    note = (note or "").strip()
    if decision not in ("approve", "return"):
        raise fail("decision", decision, "invalid_choice", _("Choose approve or return."))
    if decision == "return" and not note:
        raise fail("note", note, "required", _("Say what the area should change."))
    if plan.status != ReviewStatus.SUBMITTED:
        raise fail("status", plan.status, "bad_state", _("Only a submitted work plan can be reviewed."),
                   status=409)
    old = plan.status
    plan.status = ReviewStatus.APPROVED if decision == "approve" else ReviewStatus.RETURNED
    plan.reviewed_at, plan.reviewed_by, plan.review_note = timezone.now(), user, note
    plan.save()
    audit.record(user, f"plan:{decision}", plan, changes={"status": [old, plan.status]}, reason=note)
    title = (_("Work plan approved: %(area)s") if decision == "approve"
             else _("Work plan returned: %(area)s")) % {"area": plan.area.name}
    notify_users(bureau_users(plan.area), title, note, url=reverse("governance:tracking_plan", args=[plan.area_id]))
    return plan
