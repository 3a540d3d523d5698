from __future__ import annotations

from decimal import Decimal

import pytest
from django.db.models import Sum

from tradepilot.analytics import checks, queries, store
from tradepilot.analytics.engine import DatabaseEngine, DuckDBEngine
from tradepilot.analytics.queries import Filter
from tradepilot.analytics.refresh import refresh_partition, refresh_stale
from tradepilot.analytics.schema import ENTERPRISE_COMPONENT, ENTERPRISE_MONTH, LINES
from tradepilot.analytics.tests.conftest import run_queued_tasks
from tradepilot.reporting import workflow
from tradepilot.reporting.models import MonthlyLine, Report, Status

pytestmark = pytest.mark.django_db


def _orm_total(**filters) -> Decimal:
    return MonthlyLine.objects.filter(**filters).aggregate(v=Sum("usd_amount"))["v"] or Decimal(0)


def test_choose_versions_official_and_preliminary():
    # enterprise 1: v1 superseded (was accepted), v2 submitted → official v1, preliminary v2
    # enterprise 2: v1 submitted only → preliminary only; enterprise 3: v1 approved → both
    chosen = store.choose_versions([(10, 1, 1, Status.SUPERSEDED), (11, 1, 2, Status.SUBMITTED),
                                    (20, 2, 1, Status.SUBMITTED), (30, 3, 1, Status.APPROVED)])
    assert chosen == {10: (1, 0), 11: (0, 1), 20: (0, 1), 30: (1, 1)}


def test_rebuild_matches_database(trade):
    results = checks.compare()
    assert all(c.ok for c in results), [c for c in results if not c.ok]
    n, _v = queries.count_rows(LINES, stage="official")
    assert n > 1000
    # The partition layout is Hive-style, one file per month.
    lines_dir = store.root() / "fact_line"
    files = sorted(p.relative_to(lines_dir).as_posix() for p in lines_dir.rglob("*.parquet"))
    assert files[0] == "year=2025/month=1/data.parquet"
    assert len(files) == 21


def test_totals_by_dimension_equal_orm(trade):
    official = [Status.APPROVED, Status.ACCEPTED, Status.LOCKED]
    flt = Filter(start=202601, end=202606, direction="X")
    got = {c.key[0]: c.value for c in queries.cells(flt, ["component"])}
    lines = MonthlyLine.objects.filter(report__status__in=official, report__year=2026, report__month__lte=6,
                                       direction="X")
    expected = {}
    for code, v in lines.values_list("service__code", "usd_amount"):
        expected[code[:2]] = expected.get(code[:2], Decimal(0)) + v
    assert got == expected
    assert all(isinstance(v, Decimal) for v in got.values())


def test_contributors_and_largest(trade):
    flt = Filter(start=202609, end=202609)
    cells = queries.cells(flt, ["province"])
    for cell in cells:
        per_enterprise = (MonthlyLine.objects
                          .filter(report__year=2026, report__month=9, report__enterprise__region__path__startswith=
                                  f"/{cell.key[0]}/", report__status__in=store.OFFICIAL_STATUSES, report__is_current=True)
                          .values("report__enterprise").annotate(v=Sum("usd_amount")))
        values = [r["v"] for r in per_enterprise]
        assert cell.contributors == len(values)
        assert cell.largest == max(values)


def test_region_subtree_filter(trade):
    zhejiang = Filter(start=202501, end=202609, region_path="/330000/")
    assert queries.total(zhejiang) == sum(
        (c.value for c in queries.cells(Filter(start=202501, end=202609), ["province"]) if c.key[0] == "330000"),
        Decimal(0))


def test_unknown_dimension_is_refused(trade):
    with pytest.raises(ValueError, match="unknown dimension"):
        queries.cells(Filter(), ["usd_cents; DROP TABLE x"])


def test_engines_agree(trade, settings):
    """The same SQL on DuckDB over Parquet and on the database's fact tables (SQLite or PostgreSQL)."""
    settings.ANALYTICS_ENGINE = "database"
    store.rebuild()
    duck, db = DuckDBEngine(), DatabaseEngine()
    for by in ([], ["component"], ["province", "direction"], ["period", "partner"], ["is_pilot", "mode"]):
        flt = Filter(start=202502, end=202608)
        assert queries.cells(flt, by, engine=duck) == queries.cells(flt, by, engine=db), by
    assert checks.compare(db) and all(c.ok for c in checks.compare(db))


def test_approval_refreshes_partition_in_background(trade, world, django_capture_on_commit_callbacks):
    report = (Report.objects.filter(status=Status.SUBMITTED, month__gt=0, enterprise__region__code="110000",
                                    is_current=True).select_related("enterprise").first())
    assert report is not None, "the generator leaves submitted reports in the latest months"
    flt = Filter(start=report.year * 100 + report.month, end=report.year * 100 + report.month,
                 enterprise_ids=(report.enterprise_id,))
    before = queries.total(flt)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.approve(report, world.bureau_bj)
    # Queued, not yet run: the store still shows the old figure.
    assert queries.total(flt) == before
    assert run_queued_tasks() >= 1
    after = queries.total(flt)
    assert after == _orm_total(report=report) != before


def test_refresh_task_debounces(trade):
    from tradepilot.analytics.models import Partition
    from tradepilot.analytics.refresh import mark_stale

    mark_stale(LINES.name, 2026, 9)
    assert Partition.objects.get(dataset=LINES.name, year=2026, month=9).is_stale
    assert refresh_partition.call(LINES.name, 2026, 9) >= 0
    assert refresh_partition.call(LINES.name, 2026, 9) == -1  # nothing changed since
    assert refresh_stale() == 0


def test_emptied_partition_disappears(trade):
    Report.objects.filter(year=2025, month=1).update(status=Status.RETURNED)
    assert store.refresh(LINES.name, 2025, 1) == 0
    assert not (store.root() / "fact_line" / "year=2025" / "month=1").exists()
    assert queries.total(Filter(start=202501, end=202501)) == 0


def test_enterprise_attribute_change_refreshes_its_partitions(trade, django_capture_on_commit_callbacks):
    from tradepilot.conftest import make_user
    from tradepilot.core.models import Role
    from tradepilot.enterprises import services as enterprise_services
    from tradepilot.enterprises.models import Enterprise

    ministry = make_user("m", Role.MINISTRY)
    enterprise = Enterprise.objects.filter(is_systemic=False, reports__status__in=store.OFFICIAL_STATUSES).distinct().first()
    flt = Filter(start=202501, end=202609, systemic=True)
    before = queries.total(flt)
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_services.update(ministry, enterprise, {"is_systemic": True, "systemic_year": 2026}, "designated")
    assert run_queued_tasks() >= 1
    official = MonthlyLine.objects.filter(report__enterprise=enterprise, report__status__in=store.OFFICIAL_STATUSES,
                                          report__year__gte=2025)
    assert queries.total(flt) == before + (official.aggregate(v=Sum("usd_amount"))["v"] or Decimal(0))


def test_result_cache_answers_repeats_and_sees_every_refresh(trade):
    engine = DuckDBEngine(cache_entries=16)
    flt = Filter(start=202609, end=202609)
    first = queries.cells(flt, ["component"], engine=engine)
    assert queries.cells(flt, ["component"], engine=engine) == first
    assert (engine.cache.hits, engine.cache.misses) == (1, 1)
    # A refresh rewrites the partition: the next query reads it, not the cached answer.
    september = list(Report.objects.filter(year=2026, month=9).values_list("pk", flat=True))
    MonthlyLine.objects.filter(report_id__in=september).update(usd_amount=Decimal("1.00"))
    store.refresh(LINES.name, 2026, 9)
    changed = queries.cells(flt, ["component"], engine=engine)
    assert changed != first
    assert queries.total(flt, engine=engine) == queries.total(flt, engine=DuckDBEngine(cache_entries=0))
    uncached = DuckDBEngine(cache_entries=0)
    queries.cells(flt, ["component"], engine=uncached)
    queries.cells(flt, ["component"], engine=uncached)
    assert uncached.cache.hits == 0


def test_rollup_answers_exactly_what_the_lines_answer(trade):
    """Queries without line-level detail go to the enterprise-month rollup; the answer is the lines' answer."""
    from tradepilot.analytics.engine import get_engine

    engine = get_engine()
    for by, flt in ((["period", "direction"], Filter(start=202501, end=202609)),
                    (["province", "is_pilot"], Filter(start=202601, end=202606, direction="M")),
                    (["registration_type"], Filter(stage="preliminary", region_path="/330000/")),
                    ([], Filter(start=202609, end=202609, systemic=True))):
        sql, params = queries.cells_sql(flt, by)  # over the lines, as written
        assert "analytics_fact_line " in sql
        n = len(by)
        from_lines = [queries.Cell(tuple(r[:n]), queries.money(r[n]), int(r[n + 1]), queries.money(r[n + 2]))
                      for r in engine.fetch(sql, params) if r[n] is not None]
        assert queries.source(flt, by) is ENTERPRISE_MONTH
        assert queries.cells(flt, by) == from_lines, by
    # Components go to the component rollup, other line-level detail keeps the query on the lines.
    assert queries.source(Filter(), ["province", "component"]) is ENTERPRISE_COMPONENT
    assert queries.source(Filter(knowledge_intensive=True), ["period"]) is ENTERPRISE_COMPONENT
    assert queries.source(Filter(partners=("US",)), ["province"]) is LINES
    assert queries.source(Filter(), ["component", "mode"]) is LINES
    for by, flt in ((["component", "direction"], Filter(start=202601, end=202606)),
                    (["period"], Filter(knowledge_intensive=True, region_path="/110000/"))):
        sql, params = queries.cells_sql(flt, by)
        n = len(by)
        from_lines = [queries.Cell(tuple(r[:n]), queries.money(r[n]), int(r[n + 1]), queries.money(r[n + 2]))
                      for r in engine.fetch(sql, params) if r[n] is not None]
        assert queries.cells(flt, by) == from_lines, by
