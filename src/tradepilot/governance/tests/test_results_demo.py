"""The results part's demo data: experience cases in every state, adoptions that obey the rules, accepted annual
reports with narratives, and the same data from the same seed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tradepilot.core.models import PilotArea
from tradepilot.governance import experiences
from tradepilot.governance.demo import DemoContext
from tradepilot.governance.demo import results as demo
from tradepilot.governance.models import Adoption, ExperienceCase, ResultsReport, ReviewStatus

TODAY = dt.date(2026, 11, 27)


@pytest.fixture
def ctx(world, programme):
    from tradepilot.core.models import PilotRound

    rnd = PilotRound.objects.get(code="2018")
    c = DemoContext(round=rnd, today=TODAY)
    c.areas = {a.region.code: a for a in PilotArea.objects.filter(round=rnd).select_related("region")}
    return c


def snapshot() -> tuple:
    cases = tuple(ExperienceCase.objects.order_by("title").values_list("title", "area__region__code", "status",
                                                                      "published_at"))
    adoptions = tuple(Adoption.objects.order_by("case__title", "area__region__code").values_list(
        "case__title", "area__region__code", "adopted_on", "note"))
    reports = tuple(ResultsReport.objects.order_by("area__order", "year").values_list(
        "area__region__code", "year", "status", "narrative"))
    return cases, adoptions, reports


def test_demo_builds_a_library_with_flows_and_accepted_reports(ctx):
    summary = demo.build(ctx)
    assert summary.startswith("results: 12 experience cases (10 published)")
    cases = ExperienceCase.objects.all()
    assert cases.count() == 12 and cases.values("area").distinct().count() == 12
    assert cases.filter(status=ReviewStatus.SUBMITTED).count() == 1
    returned = cases.get(status=ReviewStatus.RETURNED)
    assert returned.review_note and returned.published_at is None
    assert all(c.tasks.exists() for c in cases)
    adoptions = list(Adoption.objects.select_related("case"))
    assert len(adoptions) >= 10
    for a in adoptions:
        assert a.area_id != a.case.area_id
        assert timezone.localtime(a.case.published_at).date() <= a.adopted_on <= TODAY
    counts = experiences.adopted_elsewhere(ctx.round, TODAY)
    assert sum(counts.values()) == len(adoptions)
    assert sum(1 for n in counts.values() if n) >= 8  # flows from many areas, not one
    hz = ctx.areas["330100"]
    assert Adoption.objects.filter(area=hz).exists()
    assert experiences.published_cases(ctx.round).exclude(area=hz).exclude(adoptions__area=hz).exists()
    reports = ResultsReport.objects.all()
    assert reports.count() == 2 * len(ctx.areas)  # 2018 and 2019; the empty store has no year with trade
    assert set(reports.values_list("status", flat=True)) == {ReviewStatus.APPROVED}
    assert all(r.narrative and r.figures and r.reviewed_by is not None for r in reports)


def test_demo_is_deterministic_and_runs_once(ctx):
    demo.build(ctx)
    first = snapshot()
    assert demo.build(ctx) == ""  # already there: nothing added
    Adoption.objects.all().delete()
    ExperienceCase.objects.all().delete()
    ResultsReport.objects.all().delete()
    demo.build(ctx)
    assert snapshot() == first
