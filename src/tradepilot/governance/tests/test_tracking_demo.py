"""The tracking demo: historical, deterministic, quick, and showing what issue 4 promises (杭州 files progress with
evidence; the ministry sees overdue tasks and has issued notices; customs sees its co-owned tasks)."""

import datetime as dt
import time

import pytest
from django.db import transaction

from tradepilot.conftest import make_user
from tradepilot.core.models import Notification, PilotArea, PilotRound, Role
from tradepilot.governance import evidence
from tradepilot.governance.demo import DemoContext
from tradepilot.governance.demo import tracking as demo
from tradepilot.governance.models import (
    AreaTask,
    Confirmation,
    Evidence,
    ProgressReport,
    ReviewStatus,
    SupervisionNotice,
    TaskStatus,
    WorkPlan,
)
from tradepilot.governance.overdue import Kind, find_overdue
from tradepilot.governance.tests.tracking_support import *  # noqa: F403
from tradepilot.governance.workplans import is_late

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def demo_users(reference):
    return {
        "ministry": make_user("ministry", Role.MINISTRY),
        "bureau-beijing": make_user("bureau-beijing", Role.BUREAU, region="110000"),
        "bureau-hangzhou": make_user("bureau-hangzhou", Role.BUREAU, region="330100"),
        "bureau-zhejiang": make_user("bureau-zhejiang", Role.BUREAU, region="330000"),
        "agency-customs": make_user("agency-customs", Role.AGENCY, agency="GACC"),
    }


def context() -> DemoContext:
    rnd = PilotRound.objects.get(code="2018")
    ctx = DemoContext(round=rnd, today=TODAY, say=lambda *a: None)
    ctx.areas = {a.region.code: a for a in PilotArea.objects.filter(round=rnd).select_related("region")}
    return ctx


def fingerprint() -> list:
    return list(AreaTask.objects.order_by("pk").values_list("pk", "status", "completed_on")) + list(
        ProgressReport.objects.order_by("area_task_id", "year", "quarter").values_list(
            "area_task_id", "year", "quarter", "status_reported", "indicators"))


def test_the_demo(programme, demo_users, media):
    start = time.monotonic()
    summary = demo.build(context())
    elapsed = time.monotonic() - start
    assert summary.startswith("tracking: 17 work plans")
    assert elapsed < 6, f"the tracking demo took {elapsed:.1f} s"

    plans = WorkPlan.objects.select_related("area__region")
    assert plans.count() == 17 and set(plans.values_list("status", flat=True)) == {ReviewStatus.APPROVED}
    assert sorted(p.area.region.code for p in plans if is_late(p)) == sorted(demo.LATE)
    assert all(dt.date(2018, 11, 1) <= p.submitted_at.date() <= dt.date(2019, 1, 31) for p in plans)

    tasks = AreaTask.objects.all()
    completed = tasks.filter(status=TaskStatus.COMPLETED).count()
    assert completed > tasks.count() / 2
    assert tasks.filter(status=TaskStatus.BLOCKED).exists() and tasks.filter(status=TaskStatus.IN_PROGRESS).exists()
    assert not tasks.filter(completed_on__gt=dt.date(2020, 6, 30)).exists()

    hz_tasks = tasks.filter(area__region__code="330100")
    assert not ProgressReport.objects.filter(area_task__in=hz_tasks).filter(year=2020, quarter__gt=2).exists()
    for t in hz_tasks:  # every quarter reported until completion, the task's status is its last report's
        last = t.progress_reports.order_by("-year", "-quarter").first()
        assert last is not None and last.status_reported == t.status
    files = Evidence.objects.filter(progress__area_task__area__region__code="330100")
    assert files.count() >= 20
    for ev in files[:5]:
        assert evidence.read_verified(ev)  # stored, intact
    assert not Evidence.objects.exclude(progress__area_task__area__region__code="330100").exists()

    gacc = Confirmation.objects.filter(agency__code="GACC", progress__area_task__task__code="5.1",
                                       progress__area_task__area__region__code="330100")
    assert gacc.exists() and Confirmation.objects.filter(decision="disputed").count() == 1

    ministry = demo_users["ministry"]
    overdue = find_overdue(ministry, TODAY, kind=Kind.TASK)
    assert len(overdue) == tasks.exclude(status=TaskStatus.COMPLETED).count() > 0
    open_notice = SupervisionNotice.objects.get(state=SupervisionNotice.State.OPEN)
    assert open_notice.area_task.area.region.code == "330100" and open_notice.area_task.status != "completed"
    assert Notification.objects.filter(user=demo_users["bureau-hangzhou"], url__contains="/notices/").exists()
    assert set(SupervisionNotice.objects.values_list("state", flat=True)) == {"open", "replied", "closed"}

    # The same seed gives the same data.
    first = fingerprint()
    with transaction.atomic():
        sid = transaction.savepoint()
        AreaTask.objects.update(status=TaskStatus.NOT_STARTED, completed_on=None)
        for model in (Confirmation, Evidence, ProgressReport, SupervisionNotice, WorkPlan):
            model.objects.all().delete()
        demo.build(context())
        assert fingerprint() == first
        transaction.savepoint_rollback(sid)


def test_the_demo_does_nothing_twice(programme, demo_users, media):
    assert demo.build(context())
    assert demo.build(context()) == ""
