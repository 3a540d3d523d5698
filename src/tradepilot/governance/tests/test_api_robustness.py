"""Bad input never answers 500: every governance API operation that changes data, fed bodies built from its own
OpenAPI schema with wrong types, extreme values, missing fields and non-objects, by the roles that may call it.

Each answer must be a 2xx or a 4xx in the API's error shape (`detail`, `code`, `errors`), and a refused request
must leave the database as it was (the audit log is the witness: a refusal writes no entry)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tradepilot.core.models import PilotArea
from tradepilot.governance import early_warning, evaluation
from tradepilot.governance.models import (
    AreaMeasure,
    AreaTask,
    ExperienceCase,
    MeasureEffect,
    ProgressReport,
    ResultsReport,
    RiskAlert,
    SupervisionNotice,
    TaskStatus,
    WorkPlan,
)
from tradepilot.testing import api_fuzz

pytestmark = pytest.mark.django_db


def operations():
    return api_fuzz.operations("/governance/")


@pytest.fixture
def targets(world, programme):
    """One object of every kind a path names, in Beijing (bureau_bj's own area)."""
    area = PilotArea.objects.get(region__code="110000")
    area_task = AreaTask.objects.filter(area=area).order_by("task__order").first()
    progress = ProgressReport.objects.create(area_task=area_task, year=2019, quarter=1,
                                             status_reported=TaskStatus.IN_PROGRESS, narrative="进展",
                                             submitted_by=world.bureau_bj)
    am = AreaMeasure.objects.filter(area=area).order_by("measure__order").first()
    system = evaluation.ensure_default_system(area.round)
    early_warning.ensure_default_rules(area.round)
    rule = area.round.risk_rules.order_by("code").first()
    return {
        "area_id": area.pk,
        "plan_id": WorkPlan.objects.create(area=area, title="北京方案").pk,
        "area_task_id": area_task.pk,
        "progress_id": progress.pk,
        "notice_id": SupervisionNotice.objects.create(area_task=area_task, message="督办",
                                                      reply_due=dt.date(2019, 6, 30),
                                                      issued_by=world.ministry).pk,
        "am_id": am.pk,
        "effect_id": MeasureEffect.objects.create(area_measure=am, year=2019, quarter=1,
                                                  indicator=MeasureEffect.Indicator.ENTERPRISES,
                                                  value=Decimal(3)).pk,
        "report_id": ResultsReport.objects.create(area=area, year=2019).pk,
        "case_id": ExperienceCase.objects.create(area=area, title="经验", problem="问题", measure="举措",
                                                 effect="成效", created_by=world.bureau_bj).pk,
        "system_id": system.pk,
        "indicator_id": system.indicators.order_by("order").first().pk,
        "rule_id": rule.pk,
        "alert_id": RiskAlert.objects.create(rule=rule, area=area, year=2026, month=9, subject="SG",
                                             level="yellow", value=Decimal("35.0")).pk,
    }


@pytest.mark.parametrize("actor", ["ministry", "bureau_bj", "agency"])
def test_no_governance_operation_answers_500_to_bad_input(world, targets, actor):
    failures = api_fuzz.check(getattr(world, actor), operations(), targets)
    assert not failures, "\n".join(failures)


def test_every_changing_operation_is_exercised():
    """The list above is the schema's: a new operation is covered without editing this module."""
    ops = operations()
    assert len(ops) >= 30
    assert any("multipart/form-data" in op.get("requestBody", {}).get("content", {}) for _m, _p, op in ops)
