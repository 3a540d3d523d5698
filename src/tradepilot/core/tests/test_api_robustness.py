"""Bad input never answers 500: every API operation outside governance that changes data (enterprises, reports,
imports, rates, reminders, lock exceptions), fed bodies built from its own OpenAPI schema by the roles that call it.

Each answer must be a 2xx or a 4xx in the API's error shape, and a refusal must write no audit entry
(`tradepilot.testing.api_fuzz`; governance has its own module, with its own objects)."""

from __future__ import annotations

import datetime as dt

import pytest

from tradepilot.reporting.models import Report, ReportForm
from tradepilot.testing import api_fuzz

pytestmark = pytest.mark.django_db


def operations():
    return api_fuzz.operations("/", exclude="/governance/")


@pytest.fixture
def targets(world, rates, monkeypatch):
    """The Beijing enterprise and a draft monthly report of an open period."""
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 10, 25))
    report = Report.objects.create(enterprise=world.bj, form=ReportForm.objects.get(code=ReportForm.Code.MONTHLY),
                                   year=2026, month=9)
    return {"enterprise_id": world.bj.pk, "report_id": report.pk, "batch_id": 999999}


@pytest.mark.parametrize("actor", ["ministry", "bureau_bj", "ent_bj"])
def test_no_operation_answers_500_to_bad_input(world, targets, actor):
    failures = api_fuzz.check(getattr(world, actor), operations(), targets)
    assert not failures, "\n".join(failures)


def test_every_changing_operation_is_exercised():
    ops = operations()
    assert len(ops) >= 20
    assert not any(path.startswith("/governance/") for _m, path, _op in ops)
