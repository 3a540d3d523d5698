"""The overdue definition with fixed days, supervision notices, and reminders (no duplicates on the same day)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command

from tradepilot.core.models import AuditLog, Notification
from tradepilot.governance import notices, overdue, progress, workplans
from tradepilot.governance.models import AreaTask, SupervisionNotice, TaskStatus
from tradepilot.governance.overdue import Kind, find_overdue, send_reminders, upcoming
from tradepilot.governance.tests.tracking_support import *  # noqa: F403
from tradepilot.governance.tests.tracking_support import (
    BEIJING,
    CUSTOMS_TASK,
    HANGZHOU,
    area,
    area_task,
    task,
)
from tradepilot.governance.tracking import TrackingError

pytestmark = pytest.mark.django_db


def items(user, on, **kw):
    return find_overdue(user, on, **kw)


def of_kind(found, kind, region=HANGZHOU):
    return [i for i in found if i.kind == kind and i.area.region.code == region]


def report(world, t, year, quarter, status=TaskStatus.IN_PROGRESS, on=dt.date(2020, 12, 1), **kw):
    return progress.file_progress(world.bureau_hz, t, year=year, quarter=quarter, status=status,
                                  narrative="进展", on=on, **kw)[0]


# --- the definition ------------------------------------------------------------------------------------------

def test_an_unfinished_task_is_overdue_the_day_after_its_due_date(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    assert t.due_date == dt.date(2020, 6, 30)
    assert not [i for i in of_kind(items(world.ministry, dt.date(2020, 6, 30)), Kind.TASK) if i.area_task == t]
    found = [i for i in of_kind(items(world.ministry, dt.date(2020, 7, 1)), Kind.TASK) if i.area_task == t]
    assert len(found) == 1 and found[0].days == 1
    AreaTask.objects.filter(pk=t.pk).update(status=TaskStatus.COMPLETED, completed_on=dt.date(2020, 5, 1))
    assert not [i for i in of_kind(items(world.ministry, dt.date(2020, 7, 1)), Kind.TASK) if i.area_task == t]


def test_a_work_plan_is_overdue_until_submitted(world, programme):
    hz = area(HANGZHOU)
    assert not of_kind(items(world.ministry, dt.date(2018, 12, 31)), Kind.WORK_PLAN)
    (item,) = of_kind(items(world.ministry, dt.date(2019, 1, 2)), Kind.WORK_PLAN)
    assert (item.due, item.days, item.plan) == (dt.date(2018, 12, 31), 2, None)
    plan = workplans.save_plan(world.bureau_hz, hz, title="方案", actions=[{"task_id": task("1.2").pk, "text": "a"}])
    assert of_kind(items(world.ministry, dt.date(2019, 1, 2)), Kind.WORK_PLAN)[0].plan == plan  # a draft
    workplans.submit_plan(world.bureau_hz, plan)
    assert not of_kind(items(world.ministry, dt.date(2019, 1, 2)), Kind.WORK_PLAN)
    workplans.review_plan(world.ministry, plan, "return", "补充")
    assert of_kind(items(world.ministry, dt.date(2019, 1, 2)), Kind.WORK_PLAN)  # returned: to be sent in again


def test_quarterly_progress_is_overdue_fifteen_days_after_the_quarter(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)

    def missing(on):
        found = [i for i in of_kind(items(world.ministry, on), Kind.PROGRESS) if i.area_task == t]
        return [str(q) for q in found[0].quarters] if found else []

    assert missing(dt.date(2018, 10, 15)) == []  # 2018Q3 ended 09-30, due 10-15
    assert missing(dt.date(2018, 10, 16)) == ["2018Q3"]
    report(world, t, 2018, 3, on=dt.date(2018, 10, 16))
    assert missing(dt.date(2018, 10, 16)) == []
    assert missing(dt.date(2019, 7, 16)) == ["2018Q4", "2019Q1", "2019Q2"]
    # Completed in 2019Q1: no report needed for the quarters that began after.
    report(world, t, 2019, 1, status=TaskStatus.COMPLETED, completed_on="2019-02-20")
    assert missing(dt.date(2020, 12, 1)) == ["2018Q4"]
    # Quarters after the round are never due.
    AreaTask.objects.filter(pk=t.pk).update(status=TaskStatus.IN_PROGRESS, completed_on=None)
    assert missing(dt.date(2026, 1, 1))[-1] == "2020Q2"


def test_a_notice_reply_is_overdue_after_its_reply_date(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    n = notices.issue(world.ministry, t, "请说明进度", "2020-07-15", on=dt.date(2020, 7, 1))
    assert not of_kind(items(world.ministry, dt.date(2020, 7, 15)), Kind.NOTICE)
    (item,) = of_kind(items(world.ministry, dt.date(2020, 7, 16)), Kind.NOTICE)
    assert item.notice == n and item.days == 1
    notices.reply(world.bureau_hz, n, "已完成")
    assert not of_kind(items(world.ministry, dt.date(2020, 7, 16)), Kind.NOTICE)


def test_filters_and_scoping(world, programme):
    on = dt.date(2020, 7, 1)
    every = items(world.ministry, on)
    assert {i.area.region.code for i in every} >= {HANGZHOU, BEIJING}
    assert {i.area.region.code for i in items(world.bureau_zj, on)} == {HANGZHOU}
    assert items(world.ent_hz, on) == []
    by_task_area = items(world.ministry, on, task_area=task(CUSTOMS_TASK).area_id)
    assert by_task_area and {i.task.area_id for i in by_task_area} == {task(CUSTOMS_TASK).area_id}
    assert {i.kind for i in items(world.ministry, on, kind=Kind.TASK)} == {Kind.TASK}
    only_hz = items(world.ministry, on, area=area(HANGZHOU).pk)
    assert only_hz and {i.area.region.code for i in only_hz} == {HANGZHOU}
    # Customs: task-bound items of the tasks it co-owns, and the areas' work plans.
    customs = items(world.agency, on)
    co_owned = {"2.1", "4.2", "5.1", "8.5", "7.3", "8.2", "8.3"}
    assert {i.task.code for i in customs if i.task} <= co_owned
    assert any(i.kind == Kind.WORK_PLAN for i in customs)


# --- notices -------------------------------------------------------------------------------------------------

def test_notice_lifecycle_with_audit_and_notifications(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    with pytest.raises(PermissionDenied):
        notices.issue(world.bureau_hz, t, "x", "2030-01-01")
    with pytest.raises(TrackingError) as exc:
        notices.issue(world.ministry, t, "", "2020-06-30", on=dt.date(2020, 7, 1))
    assert {(e["field"], e["code"]) for e in exc.value.errors} == {("message", "required"), ("reply_due", "past")}
    n = notices.issue(world.ministry, t, "任务已逾期，请于两周内报告进展", "2020-07-15", on=dt.date(2020, 7, 1))
    assert Notification.objects.filter(user=world.bureau_hz, url__endswith=f"/notices/{n.pk}/").exists()
    assert not Notification.objects.filter(user=world.bureau_zj).exists()  # the area's own bureau only
    with pytest.raises(PermissionDenied):
        notices.reply(world.bureau_zj, n, "x")
    with pytest.raises(TrackingError):
        notices.reply(world.bureau_hz, n, " ")
    n = notices.reply(world.bureau_hz, n, "已完成口岸改造，预计下季度完成")
    assert n.state == SupervisionNotice.State.REPLIED
    assert Notification.objects.filter(user=world.ministry, title__contains="replied").exists()
    with pytest.raises(PermissionDenied):
        notices.close(world.bureau_hz, n)
    n = notices.close(world.ministry, n, "同意")
    assert n.state == SupervisionNotice.State.CLOSED
    with pytest.raises(TrackingError) as exc:
        notices.close(world.ministry, n)
    assert exc.value.status == 409
    with pytest.raises(TrackingError) as exc:
        notices.reply(world.bureau_hz, n, "补充")
    assert exc.value.status == 409
    assert list(AuditLog.objects.filter(object_type="governance.supervisionnotice").order_by("id")
                .values_list("action", flat=True)) == ["notice:issue", "notice:reply", "notice:close"]


# --- reminders -----------------------------------------------------------------------------------------------

def test_upcoming_deadlines_of_every_kind(world, programme):
    hz = area(HANGZHOU)
    found = [r for r in upcoming(dt.date(2018, 12, 20), 14) if r.area == hz]
    assert {r.kind for r in found} == {Kind.WORK_PLAN}  # 12-31; 2018Q4 progress is due 2019-01-15
    found = [r for r in upcoming(dt.date(2019, 1, 5), 14) if r.area == hz]
    assert {(r.kind, r.due) for r in found} == {(Kind.PROGRESS, dt.date(2019, 1, 15))}
    found = [r for r in upcoming(dt.date(2020, 6, 20), 14) if r.area == hz]
    assert {(r.kind, r.due) for r in found} == {(Kind.TASK, dt.date(2020, 6, 30))}
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    notices.issue(world.ministry, t, "请报告", "2019-04-10", on=dt.date(2019, 4, 1))
    found = [r for r in upcoming(dt.date(2019, 4, 1), 14) if r.area == hz]
    assert {r.kind for r in found} == {Kind.PROGRESS, Kind.NOTICE}


def test_reminders_reach_the_bureau_once_a_day(world, programme):
    on = dt.date(2018, 12, 20)
    sent = send_reminders(on, 14)
    assert sent == 2  # the two bureaus of pilot areas in the world: Beijing and Hangzhou (a work plan each)
    hz_notes = Notification.objects.filter(user=world.bureau_hz)
    assert hz_notes.count() == 1 and "2018-12-31" in hz_notes.get().title
    assert not Notification.objects.filter(user=world.bureau_zj).exists()
    assert send_reminders(on, 14) == 0  # the same reminders again today: none
    assert Notification.objects.filter(user=world.bureau_hz).count() == 1
    assert send_reminders(dt.date(2019, 1, 5), 14) == 2  # another deadline: reminded


def test_the_command(world, programme):
    out = StringIO()
    call_command("governance", "remind", "--today", "2018-12-20", "--days", "14", stdout=out)
    assert "2 reminder(s) sent" in out.getvalue()
    out = StringIO()
    call_command("governance", "remind", "--today", "2018-12-20", stdout=out)
    assert "0 reminder(s) sent" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("governance", "remind", "--today", "20/12/2018")
    out = StringIO()
    call_command("governance", "overdue", "--today", "2019-01-02", "--area", HANGZHOU, "--kind", "work_plan",
                 stdout=out)
    assert "work_plan  330100" in out.getvalue() and "1 overdue item(s) on 2019-01-02" in out.getvalue()


def test_required_quarters_stop_after_completion(programme, world):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    t.status, t.completed_on = TaskStatus.COMPLETED, dt.date(2019, 4, 1)
    quarters = overdue.round_quarters(t.area.round)
    assert [str(q) for q in overdue.required_quarters(t, quarters)] == ["2018Q3", "2018Q4", "2019Q1", "2019Q2"]
