"""Work plans: drafted and edited by the area's own bureau, submitted, approved or returned by the ministry;
validation names the field and row; lateness against the programme's deadline; audit and notifications."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tradepilot.core.models import AuditLog, Notification
from tradepilot.governance import workplans
from tradepilot.governance.models import ReviewStatus, WorkPlan
from tradepilot.governance.tests.tracking_support import *  # noqa: F403
from tradepilot.governance.tests.tracking_support import HANGZHOU, area, task
from tradepilot.governance.tracking import TrackingError

pytestmark = pytest.mark.django_db


def actions(*rows):
    return [{"task_id": task(code).pk, "text": text, "lead_unit": "市商务局", "deadline": deadline, "target": ""}
            for code, text, deadline in rows]


def draft(world, **overrides):
    values = {"title": "杭州市深化服务贸易创新发展试点实施方案", "document_no": "杭政函〔2018〕120号",
              "summary": "…", "actions": actions(("1.2", "建立市服务贸易发展联席会议制度", "2019-03-31"))}
    values.update(overrides)
    return workplans.save_plan(world.bureau_hz, area(HANGZHOU), **values)


def test_the_areas_own_bureau_drafts_and_edits_the_plan(world, programme):
    plan = draft(world)
    assert plan.status == ReviewStatus.DRAFT and plan.actions.count() == 1
    plan = draft(world, actions=actions(("1.2", "联席会议", "2019-03-31"), ("5.1", "通关便利", "2020-06-30")))
    assert [a.task.code for a in plan.actions.all()] == ["1.2", "5.1"]
    entries = AuditLog.objects.filter(object_type="governance.workplan", object_id=str(plan.pk)).order_by("id")
    assert [e.action for e in entries] == ["plan:create", "plan:update"]
    assert "actions" in entries[1].changes


@pytest.mark.parametrize("who", ["bureau_zj", "bureau_bj", "ministry", "agency", "auditor", "ent_hz"])
def test_nobody_else_edits_the_plan(world, programme, who):
    with pytest.raises(PermissionDenied):
        workplans.save_plan(getattr(world, who), area(HANGZHOU), title="x", actions=[])
    assert not WorkPlan.objects.exists()


def test_validation_names_the_field_and_row_and_saves_nothing(world, programme):
    with pytest.raises(TrackingError) as exc:
        draft(world, title=" ", actions=[
            {"task_id": task("1.2").pk, "text": "ok", "deadline": "2019-01-31"},
            {"task_id": task("1.2").pk, "text": "too late", "deadline": "2020-07-01"},
            {"task_id": 999999, "text": "", "deadline": "31/12/2019"},
        ])
    got = {(e["field"], e["row"], e["code"]) for e in exc.value.errors}
    assert got == {("title", None, "required"), ("deadline", 2, "outside_round"), ("task", 3, "unknown_task"),
                   ("text", 3, "required"), ("deadline", 3, "invalid_date")}
    assert exc.value.status == 400
    assert not WorkPlan.objects.exists() and not AuditLog.objects.filter(action__startswith="plan:").exists()


def test_deadline_on_the_rounds_first_and_last_day_is_accepted(world, programme):
    plan = draft(world, actions=actions(("1.2", "a", "2018-07-01"), ("1.2", "b", "2020-06-30"), ("1.2", "c", None)))
    assert [a.deadline for a in plan.actions.order_by("pk")] == [dt.date(2018, 7, 1), dt.date(2020, 6, 30), None]


def test_submit_review_return_and_resubmit(world, programme):
    plan = draft(world)
    plan = workplans.submit_plan(world.bureau_hz, plan)
    assert plan.status == ReviewStatus.SUBMITTED and plan.submitted_at is not None
    first_submitted = plan.submitted_at
    assert Notification.objects.filter(user=world.ministry, title__contains="Work plan submitted").exists()
    with pytest.raises(TrackingError) as exc:
        draft(world)
    assert exc.value.status == 409  # not editable while submitted

    with pytest.raises(TrackingError) as exc:
        workplans.review_plan(world.ministry, plan, "return", "")
    assert exc.value.errors[0]["field"] == "note"
    plan = workplans.review_plan(world.ministry, plan, "return", "请补充通关便利化措施的完成时限")
    assert plan.status == ReviewStatus.RETURNED
    assert Notification.objects.filter(user=world.bureau_hz, title__contains="returned").exists()

    plan = draft(world, summary="补充后")  # returned → editable again
    plan = workplans.submit_plan(world.bureau_hz, plan)
    assert plan.submitted_at == first_submitted  # lateness counts from the first submission
    plan = workplans.review_plan(world.ministry, plan, "approve")
    assert plan.status == ReviewStatus.APPROVED
    actions_logged = list(AuditLog.objects.filter(object_type="governance.workplan").order_by("id")
                          .values_list("action", flat=True))
    assert actions_logged == ["plan:create", "plan:submit", "plan:return", "plan:update", "plan:submit",
                              "plan:approve"]
    with pytest.raises(TrackingError) as exc:
        workplans.review_plan(world.ministry, plan, "approve")
    assert exc.value.status == 409


def test_only_the_ministry_reviews_and_only_the_bureau_submits(world, programme):
    plan = draft(world)
    with pytest.raises(PermissionDenied):
        workplans.submit_plan(world.bureau_zj, plan)
    plan = workplans.submit_plan(world.bureau_hz, plan)
    for who in ("bureau_hz", "agency", "auditor"):
        with pytest.raises(PermissionDenied):
            workplans.review_plan(getattr(world, who), plan, "approve")


def test_a_plan_without_actions_cannot_be_submitted(world, programme):
    plan = draft(world, actions=[])
    with pytest.raises(TrackingError) as exc:
        workplans.submit_plan(world.bureau_hz, plan)
    assert exc.value.errors[0]["field"] == "actions"
    assert WorkPlan.objects.get(pk=plan.pk).status == ReviewStatus.DRAFT


def test_deadline_days_left_and_lateness(world, programme):
    hz = area(HANGZHOU)
    assert workplans.deadline_of(hz) == dt.date(2018, 12, 31)
    state = workplans.plan_state(hz, None, on=dt.date(2018, 12, 20))
    assert (state.days_left, state.overdue, state.late) == (11, False, False)
    state = workplans.plan_state(hz, None, on=dt.date(2019, 1, 3))
    assert (state.days_left, state.days_overdue, state.overdue) == (-3, 3, True)
    plan = workplans.submit_plan(world.bureau_hz, draft(world))
    # Submitted today (years after 2018-12-31): late.
    assert workplans.is_late(plan) and workplans.plan_state(hz, plan).late
    on_time = timezone.make_aware(dt.datetime(2018, 12, 31, 23, 30))
    WorkPlan.objects.filter(pk=plan.pk).update(submitted_at=on_time)
    plan.refresh_from_db()
    assert not workplans.is_late(plan)
    assert not workplans.plan_state(hz, plan, on=dt.date(2019, 3, 1)).overdue  # submitted: not overdue
