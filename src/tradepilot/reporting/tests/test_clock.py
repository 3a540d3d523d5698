"""The reporting clock has one patch point: every module reads `periods.today()` when it runs.

A module that imported `today` by name would keep the real date when a test (or the demo) pins the clock, and
its tests would start failing on the day the real date passes the dates they use."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

import pytest

import tradepilot
from tradepilot.reporting import periods


def test_no_module_holds_its_own_reference_to_the_clock():
    holders = []
    for info in pkgutil.walk_packages(tradepilot.__path__, "tradepilot."):
        if ".tests" in info.name or ".migrations" in info.name or info.name.endswith("conftest"):
            continue
        module = importlib.import_module(info.name)
        if info.name != "tradepilot.reporting.periods" and getattr(module, "today", None) is periods.today:
            holders.append(info.name)
    assert holders == []


@pytest.mark.django_db
def test_a_lock_exception_follows_the_pinned_clock(world, monkeypatch):
    from tradepilot.reporting.locks import grant
    from tradepilot.reporting.models import ReportForm
    from tradepilot.reporting.services import ReportError

    form = ReportForm.objects.get(code=ReportForm.Code.MONTHLY)
    monkeypatch.setattr(periods, "today", lambda: dt.date(2030, 1, 1))
    with pytest.raises(ReportError) as refused:
        grant(world.bureau_bj, world.bj, form, periods.Period(2029, 11), dt.date(2029, 12, 31), "late filing")
    assert refused.value.code == "invalid_date"
    monkeypatch.setattr(periods, "today", lambda: dt.date(2029, 12, 1))
    assert grant(world.bureau_bj, world.bj, form, periods.Period(2029, 11), dt.date(2029, 12, 31), "late filing")
