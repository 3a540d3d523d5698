"""The early-warning demo: on generated trade, a Hangzhou enterprise's revised report (through the reporting
workflow) fires an import-surge alert that bureau-hangzhou handles; other alerts stay open; a second run does
nothing."""

from __future__ import annotations

import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tradepilot.core.models import AuditLog, PilotArea, PilotRound
from tradepilot.governance import early_warning
from tradepilot.governance.demo import DemoContext
from tradepilot.governance.demo import warning as demo
from tradepilot.governance.models import AreaMeasure, MeasureStatus, RiskAlert
from tradepilot.reporting.lines import clean_text
from tradepilot.reporting.periods import Period


@pytest.fixture
def ctx(world, programme):
    from tradepilot.analytics import store
    from tradepilot.core.demo_data import generate

    generate(40, 14, seed=7, end_period=Period(2026, 9))
    store.rebuild()
    rnd = PilotRound.objects.get(code="2018")
    # Hangzhou's measures in effect, as the measures part's demo has most of them.
    AreaMeasure.objects.filter(area__region__code="330100").update(
        status=MeasureStatus.IMPLEMENTED, implemented_on=dt.date(2019, 1, 10), legal_basis="演示")
    c = DemoContext(round=rnd, today=dt.date.today())
    c.areas = {a.region.code: a for a in PilotArea.objects.filter(round=rnd).select_related("region")}
    return c


def official_imports(region_path: str, period: int, component: str) -> Decimal:
    """Imports of a component in the region's official reports (the latest approved version per enterprise),
    summed from the report lines."""
    from tradepilot.analytics.store import OFFICIAL_STATUSES
    from tradepilot.reporting.models import MonthlyLine, Report

    latest: dict[int, Report] = {}
    for r in Report.objects.filter(year=period // 100, month=period % 100, form__code="monthly",
                                   status__in=OFFICIAL_STATUSES, enterprise__region__path__startswith=region_path):
        if r.enterprise_id not in latest or r.version > latest[r.enterprise_id].version:
            latest[r.enterprise_id] = r
    lines = MonthlyLine.objects.filter(report__in=latest.values(), direction="M", service__parent__code=component)
    return sum((line.usd_amount for line in lines), Decimal(0))


def test_demo_fires_a_hangzhou_surge_that_bureau_hangzhou_handles(ctx):
    summary = demo.build(ctx)
    found = re.search(r"Hangzhou (S[A-L]) surge filed by", summary)
    assert found and "one handled by bureau-hangzhou" in summary, summary
    component = found.group(1)
    period = early_warning.latest_month()
    hz = ctx.areas["330100"]
    alert = RiskAlert.objects.get(rule__code="IMPORT_SURGE", area=hz, subject=component, year=period // 100,
                                  month=period % 100)
    now = official_imports(hz.region.path, period, component)
    base = official_imports(hz.region.path, period - 100, component)
    assert alert.value == ((now - base) / base * 100).quantize(Decimal("0.1"), ROUND_HALF_UP)
    assert alert.level in ("orange", "red")
    assert alert.state == RiskAlert.State.HANDLED and alert.handled_by.username == "bureau-hangzhou"
    assert alert.handling_note == demo.story(component)["handling"]
    steps = list(AuditLog.objects.filter(object_type="governance.riskalert", object_id=str(alert.pk))
                 .order_by("timestamp", "pk").values_list("action", "actor__username"))
    assert steps == [("warning:fire", "ministry"), ("warning:acknowledge", "bureau-hangzhou"),
                     ("warning:handle", "bureau-hangzhou")]
    # The surge came through the workflow: a revision approved by the Hangzhou bureau.
    revision = AuditLog.objects.get(action="approve", actor__username="bureau-hangzhou").report
    note = clean_text(demo.story(component)["line_note"])  # as the report form stores it (NFKC)
    assert revision.version == 2 and revision.lines.filter(note=note, direction="M").exists()
    assert RiskAlert.objects.filter(state=RiskAlert.State.OPEN).exists()

    count = RiskAlert.objects.count()
    assert demo.build(ctx) == "" and RiskAlert.objects.count() == count
