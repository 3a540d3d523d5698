"""What is overdue (the one definition), and the reminders sent before deadlines.

On a day `on`, these are overdue (`find_overdue`):

- **task**: an area task that is not completed and whose due date is before `on`;
- **work plan**: an area whose work plan has not been submitted (no plan, or a draft, or a returned plan) and `on`
  is after its round's `Programme.work_plan_deadline`;
- **progress**: an area task lacking the progress report of a quarter of the round whose due date (the quarter's
  end + `PROGRESS_GRACE_DAYS`, 15 days) is before `on` — unless the task was completed before that quarter began.
  One item per area task, listing every missing quarter; its due date is the earliest missing quarter's;
- **notice**: a supervision notice still awaiting a reply after its reply date.

Reminders (`send_reminders`) tell each area's bureau users about deadlines within the next `days` days (the same
four kinds, not yet met). A reminder is not sent twice to a user on the same day: a notification with the same
title created today already covers it.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import models
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradepilot.core.models import Notification, PilotArea
from tradepilot.core.notifications import notify
from tradepilot.core.scoping import scope_areas
from tradepilot.governance.common import bureau_users, today
from tradepilot.governance.models import (
    AreaTask,
    Programme,
    ProgressReport,
    SupervisionNotice,
    TaskStatus,
    WorkPlan,
)
from tradepilot.governance.tracking import Quarter, round_quarters
from tradepilot.governance.workplans import is_submitted


class Kind(models.TextChoices):
    TASK = "task", gettext_lazy("Task past its due date")
    WORK_PLAN = "work_plan", gettext_lazy("Work plan not submitted")
    PROGRESS = "progress", gettext_lazy("Quarterly progress missing")
    NOTICE = "notice", gettext_lazy("Notice reply overdue")


@dataclass
class OverdueItem:
    kind: str
    area: PilotArea
    due: dt.date
    days: int  # days past the due date
    area_task: AreaTask | None = None
    notice: SupervisionNotice | None = None
    plan: WorkPlan | None = None
    quarters: list[Quarter] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return Kind(self.kind).label

    @property
    def task(self):
        return self.area_task.task if self.area_task is not None else None

    @property
    def detail(self) -> str:
        if self.kind == Kind.TASK:
            return self.area_task.get_status_display()
        if self.kind == Kind.PROGRESS:
            return _("Missing: %(q)s") % {"q": ", ".join(str(q) for q in self.quarters)}
        if self.kind == Kind.WORK_PLAN:
            return self.plan.get_status_display() if self.plan is not None else _("No work plan")
        return self.notice.message[:80]

    @property
    def url(self) -> str:
        if self.kind == Kind.WORK_PLAN:
            return reverse("governance:tracking_plan", args=[self.area.pk])
        if self.kind == Kind.NOTICE:
            return reverse("governance:tracking_notice", args=[self.notice.pk])
        return reverse("governance:tracking_area_task", args=[self.area_task.pk])


def _deadlines() -> dict[int, dt.date]:
    return dict(Programme.objects.values_list("round_id", "work_plan_deadline"))


def _reported(area_tasks: QuerySet[AreaTask]) -> set[tuple[int, int, int]]:
    return set(ProgressReport.objects.filter(area_task__in=area_tasks.values("pk"))
               .values_list("area_task_id", "year", "quarter"))


def required_quarters(area_task: AreaTask, quarters: list[Quarter]) -> list[Quarter]:
    """The quarters a task must report on: all of the round's, but none that began after it was completed."""
    if area_task.status == TaskStatus.COMPLETED and area_task.completed_on is not None:
        return [q for q in quarters if q.start <= area_task.completed_on]
    return quarters


def find_overdue(user, on: dt.date | None = None, *, area: int | None = None, task_area: int | None = None,
                 kind: str | None = None) -> list[OverdueItem]:
    """Everything overdue on `on` that `user` may read (see the module docstring): by kind (tasks first), then
    oldest due date first."""
    return overdue_in(
        scope_areas(user, PilotArea.objects.all()), scope_areas(user, AreaTask.objects.all()),
        scope_areas(user, SupervisionNotice.objects.all()), on, area=area, task_area=task_area, kind=kind)


def overdue_in(areas: QuerySet[PilotArea], tasks: QuerySet[AreaTask], notices: QuerySet[SupervisionNotice],
               on: dt.date | None = None, *, area: int | None = None, task_area: int | None = None,
               kind: str | None = None) -> list[OverdueItem]:
    """Everything overdue on `on` among these (already scoped) rows: the one definition (module docstring)."""
    on = on or today()
    kinds = {kind} if kind in Kind.values else set(Kind.values)
    areas = areas.select_related("region", "round")
    tasks = tasks.select_related("area__region", "area__round", "task__area")
    notices = notices.select_related("area_task__area__region", "area_task__task__area")
    if area:
        areas, tasks = areas.filter(pk=area), tasks.filter(area_id=area)
        notices = notices.filter(area_task__area_id=area)
    if task_area:
        tasks = tasks.filter(task__area_id=task_area)
        notices = notices.filter(area_task__task__area_id=task_area)
    items: list[OverdueItem] = []

    if Kind.TASK in kinds:
        for t in tasks.exclude(status=TaskStatus.COMPLETED).filter(due_date__lt=on):
            items.append(OverdueItem(Kind.TASK, t.area, t.due_date, (on - t.due_date).days, area_task=t))

    if Kind.WORK_PLAN in kinds and not task_area:  # a plan belongs to no task area
        deadlines = _deadlines()
        plans = {p.area_id: p for p in WorkPlan.objects.filter(area__in=areas.values("pk"))}
        for a in areas:
            deadline = deadlines.get(a.round_id)
            plan = plans.get(a.pk)
            if deadline is not None and on > deadline and not is_submitted(plan):
                items.append(OverdueItem(Kind.WORK_PLAN, a, deadline, (on - deadline).days, plan=plan))

    if Kind.PROGRESS in kinds:
        reported = _reported(tasks)
        by_round: dict[int, list[Quarter]] = {}
        for t in tasks:
            if t.area.round_id not in by_round:
                by_round[t.area.round_id] = [q for q in round_quarters(t.area.round) if q.due < on]
            missing = [q for q in required_quarters(t, by_round[t.area.round_id])
                       if (t.pk, q.year, q.quarter) not in reported]
            if missing:
                due = missing[0].due
                items.append(OverdueItem(Kind.PROGRESS, t.area, due, (on - due).days, area_task=t, quarters=missing))

    if Kind.NOTICE in kinds:
        for n in notices.filter(state=SupervisionNotice.State.OPEN, reply_due__lt=on):
            items.append(OverdueItem(Kind.NOTICE, n.area_task.area, n.reply_due, (on - n.reply_due).days,
                                     area_task=n.area_task, notice=n))

    order = {k: n for n, k in enumerate(Kind.values)}
    items.sort(key=lambda i: (order[i.kind], i.due, i.area.order, i.task.order if i.task else -1))
    return items


# --- reminders -----------------------------------------------------------------------------------------------

@dataclass
class Reminder:
    area: PilotArea
    kind: str
    due: dt.date
    title: str
    body: str
    url: str


def upcoming(on: dt.date, days: int, areas: QuerySet[PilotArea] | None = None) -> list[Reminder]:
    """Deadlines from `on` to `on + days` (inclusive) not yet met, per area."""
    until = on + dt.timedelta(days=days)
    areas = (areas if areas is not None else PilotArea.objects.all()).select_related("round", "region")
    deadlines = _deadlines()
    plans = {p.area_id: p for p in WorkPlan.objects.filter(area__in=areas)}
    tasks = AreaTask.objects.filter(area__in=areas).select_related("area__round", "task")
    out: list[Reminder] = []
    for a in areas:
        deadline = deadlines.get(a.round_id)
        if deadline is not None and on <= deadline <= until and not is_submitted(plans.get(a.pk)):
            out.append(Reminder(a, Kind.WORK_PLAN, deadline,
                                _("Reminder: the work plan is due on %(d)s") % {"d": deadline},
                                _("%(area)s has not yet submitted its work plan.") % {"area": a.name},
                                reverse("governance:tracking_plan", args=[a.pk])))

    due_tasks: dict[tuple[int, dt.date], list[AreaTask]] = defaultdict(list)
    for t in tasks.exclude(status=TaskStatus.COMPLETED).filter(due_date__range=(on, until)):
        due_tasks[(t.area_id, t.due_date)].append(t)
    for (_area_id, due), group in due_tasks.items():
        a = group[0].area
        out.append(Reminder(a, Kind.TASK, due, _("Reminder: tasks due on %(d)s") % {"d": due},
                            _("%(n)d task(s) of %(area)s are due and not completed: %(codes)s")
                            % {"n": len(group), "area": a.name, "codes": ", ".join(t.task.code for t in group)},
                            reverse("governance:tracking_area", args=[a.pk])))

    reported = _reported(tasks)
    missing: dict[tuple[int, Quarter], list[AreaTask]] = defaultdict(list)
    quarters_of: dict[int, list[Quarter]] = {}
    for t in tasks:
        if t.area.round_id not in quarters_of:
            quarters_of[t.area.round_id] = [q for q in round_quarters(t.area.round) if on <= q.due <= until]
        for q in required_quarters(t, quarters_of[t.area.round_id]):
            if (t.pk, q.year, q.quarter) not in reported:
                missing[(t.area_id, q)].append(t)
    for (_area_id, q), group in missing.items():
        a = group[0].area
        out.append(Reminder(a, Kind.PROGRESS, q.due,
                            _("Reminder: quarterly progress for %(q)s is due on %(d)s") % {"q": q, "d": q.due},
                            _("%(n)d task(s) of %(area)s have no progress report for %(q)s yet.")
                            % {"n": len(group), "area": a.name, "q": q},
                            reverse("governance:tracking_area", args=[a.pk])))

    for n in SupervisionNotice.objects.filter(area_task__area__in=areas, state=SupervisionNotice.State.OPEN,
                                              reply_due__range=(on, until)).select_related("area_task__area",
                                                                                           "area_task__task"):
        out.append(Reminder(n.area_task.area, Kind.NOTICE, n.reply_due,
                            _("Reminder: reply to the supervision notice on task %(task)s by %(d)s")
                            % {"task": n.area_task.task.code, "d": n.reply_due}, n.message[:500],
                            reverse("governance:tracking_notice", args=[n.pk])))
    out.sort(key=lambda r: (r.area.order, r.due, r.kind))
    return out


def send_reminders(on: dt.date | None = None, days: int = 14, areas: QuerySet[PilotArea] | None = None) -> int:
    """Notify each area's bureau users of its upcoming deadlines; returns the notifications sent."""
    on = on or today()
    sent_today = timezone.localdate()
    sent = 0
    recipients: dict[int, list] = {}
    for r in upcoming(on, days, areas):
        if r.area.pk not in recipients:
            recipients[r.area.pk] = list(bureau_users(r.area))
        for user in recipients[r.area.pk]:
            if Notification.objects.filter(user=user, title=r.title[:200], created__date=sent_today).exists():
                continue
            notify(user, r.title[:200], r.body, url=r.url)
            sent += 1
    return sent
