"""A small world for the evaluation tests, built once per module that imports these fixtures.

Approved monthly reports (USD lines, so the USD value is the amount) of two Beijing enterprises and one Hangzhou
enterprise for every month of 2024 and 2025 (one Beijing enterprise stops after June 2025 and submits late),
Beijing's tasks and measures, a published Beijing experience with adoptions; the Parquet store is built from
them and each test gets a copy. `expected_beijing()` computes Beijing's 2025 values by hand from the same plan.
"""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from tradepilot.conftest import make_enterprise
from tradepilot.core.models import (
    Country,
    Currency,
    PilotArea,
    PilotRound,
    Region,
    ServiceCategory,
    SupplyMode,
)
from tradepilot.enterprises.models import Enterprise
from tradepilot.governance import evaluation
from tradepilot.governance.models import (
    Adoption,
    AreaMeasure,
    AreaTask,
    EvaluationResult,
    EvaluationScore,
    ExperienceCase,
    MeasureStatus,
    ReviewStatus,
)
from tradepilot.reporting.models import ExchangeRate, MonthlyLine, Report, ReportForm, Status

BJ, HZ, SH = "110000", "330100", "310000"
TZ = ZoneInfo("Asia/Shanghai")
USD_RATE = Decimal("7.1")  # the `rates` fixture's USD central parity, every month
D = Decimal

# name → (region, serial)
ENTERPRISES = {"bj_a": (BJ, 71), "bj_b": (BJ, 72), "hz_a": (HZ, 73)}


def trade(name: str, year: int, month: int) -> dict[str, tuple[str, Decimal]] | None:
    """direction → (EBOPS code, USD amount) of an enterprise's month; None: no report. SI2/SJ1 are
    knowledge-intensive, SC1/SD1 are not."""
    if name == "bj_a":
        return {"X": ("SI2", D(1200 + 10 * month) if year == 2025 else D(1000 + 10 * month)),
                "M": ("SC1", D("400.25") if year == 2025 else D("500.50"))}
    if name == "bj_b":
        if year == 2025 and month > 6:
            return None
        return {"X": ("SJ1", D(330) if year == 2025 else D(300)), "M": ("SD1", D(100))}
    return {"X": ("SC1", D(700) if year == 2025 else D(800)), "M": ("SI2", D(1000) if year == 2025 else D(900))}


def submitted_at(name: str, year: int, month: int) -> dt.datetime:
    """On the 5th of the following month (before the due date, the 10th), bj_b on the 20th (late)."""
    y, m = (year + 1, 1) if month == 12 else (year, month + 1)
    return dt.datetime(y, m, 20 if name == "bj_b" else 5, 10, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def _pristine(django_db_setup, django_db_blocker, tmp_path_factory):
    from tradepilot.analytics import store
    from tradepilot.core.reference import load_all
    from tradepilot.governance.programme import load_programme
    from tradepilot.reporting.setup import load_defaults
    from tradepilot.testing.shared_data import module_transaction

    pristine = tmp_path_factory.mktemp("evaluation-store") / "analytics"
    with module_transaction(django_db_blocker):
        load_all()
        load_defaults()
        load_programme()
        usd = Currency.objects.get(code="USD")
        ExchangeRate.objects.bulk_create(ExchangeRate(currency=usd, year=y, month=m, cny_per_unit=USD_RATE)
                                         for y in (2024, 2025) for m in range(1, 13))
        form = ReportForm.objects.get(code=ReportForm.Code.MONTHLY)
        services = {c.code: c for c in ServiceCategory.objects.filter(code__in=["SI2", "SJ1", "SC1", "SD1"])}
        partner, mode = Country.objects.get(alpha2="US"), SupplyMode.objects.get(code="1")
        for name, (region, serial) in ENTERPRISES.items():
            enterprise = make_enterprise(region, serial, f"绩效评价测试企业-{name}")
            for year in (2024, 2025):
                for month in range(1, 13):
                    flows = trade(name, year, month)
                    if flows is None:
                        continue
                    at = submitted_at(name, year, month)
                    report = Report.objects.create(enterprise=enterprise, form=form, year=year, month=month,
                                                   status=Status.APPROVED, submitted_at=at, approved_at=at)
                    MonthlyLine.objects.bulk_create(
                        MonthlyLine(report=report, line_no=i, direction=d, service=services[code], partner=partner,
                                    mode=mode, amount=amount, currency=usd, usd_amount=amount)
                        for i, (d, (code, amount)) in enumerate(sorted(flows.items()), start=1))
        _governance_records()
        with override_settings(ANALYTICS_ROOT=pristine, ANALYTICS_ENGINE="duckdb"):
            store.rebuild()
        yield pristine


def _governance_records() -> None:
    """Beijing: of its tasks, all due mid-2025 but the last (due 2026); three completed on time, one late.
    Two measures implemented in 2025, one in 2026, one not applicable. One experience published in 2025, adopted
    by Hangzhou in 2025 and by Shanghai in 2026 (and "adopted" by Beijing itself, which never counts)."""
    beijing = PilotArea.objects.get(region__code=BJ)
    tasks = list(AreaTask.objects.filter(area=beijing).order_by("task__order"))
    AreaTask.objects.filter(area=beijing).update(due_date=dt.date(2025, 6, 30), completed_on=None)
    AreaTask.objects.filter(pk__in=[t.pk for t in tasks[:3]]).update(completed_on=dt.date(2025, 6, 1))
    AreaTask.objects.filter(pk=tasks[3].pk).update(completed_on=dt.date(2025, 7, 15))
    AreaTask.objects.filter(pk=tasks[-1].pk).update(due_date=dt.date(2026, 3, 31))
    # Hangzhou's tasks all fall due after 2025: no data.
    AreaTask.objects.filter(area__region__code=HZ).update(due_date=dt.date(2026, 6, 30))
    measures = list(AreaMeasure.objects.filter(area=beijing).order_by("measure__order"))
    for am, status, on in ((measures[0], MeasureStatus.IMPLEMENTED, dt.date(2025, 3, 1)),
                           (measures[1], MeasureStatus.IMPLEMENTED, dt.date(2025, 12, 31)),
                           (measures[2], MeasureStatus.IMPLEMENTED, dt.date(2026, 2, 1)),
                           (measures[3], MeasureStatus.NOT_APPLICABLE, None)):
        AreaMeasure.objects.filter(pk=am.pk).update(status=status, implemented_on=on)
    case = ExperienceCase.objects.create(area=beijing, title="跨境数据服务便利化", problem="p", measure="m", effect="e",
                                         status=ReviewStatus.APPROVED,
                                         published_at=dt.datetime(2025, 2, 1, 9, 0, tzinfo=TZ))
    for region, on in ((HZ, dt.date(2025, 5, 1)), (SH, dt.date(2026, 1, 5)), (BJ, dt.date(2025, 3, 1))):
        Adoption.objects.create(case=case, area=PilotArea.objects.get(region__code=region), adopted_on=on)


@pytest.fixture
def reference(_pristine, db):
    """Overrides the conftest fixture (`world` depends on it): loaded once for the module."""


@pytest.fixture
def built(_pristine, world, settings):
    settings.ANALYTICS_ENGINE = "duckdb"
    shutil.copytree(_pristine, settings.ANALYTICS_ROOT)
    return world


@pytest.fixture
def system(built):
    return evaluation.ensure_default_system(PilotRound.objects.get(code="2018"))


@pytest.fixture
def run2025(system, built):
    return evaluation.run_evaluation(system, 2025, built.ministry)


# --- what the test expects, computed from the plan above -----------------------------------------------------

def flows(names, year, direction, *, ki: bool | None = None) -> Decimal:
    total = D(0)
    for name in names:
        for month in range(1, 13):
            f = trade(name, year, month)
            if f is None:
                continue
            code, amount = f[direction]
            if ki is None or (code in ("SI2", "SJ1")) == ki:
                total += amount
    return total


def pct(part: Decimal, whole: Decimal) -> Decimal:
    return (part / whole * 100).quantize(D("0.1"), ROUND_HALF_UP)


def cny10k(usd: Decimal) -> Decimal:
    return (usd * USD_RATE / 10000).quantize(D("0.01"), ROUND_HALF_UP)


def key_contacts(region: str) -> int:
    # The `world` fixture adds key-contact enterprises without reports (two in Beijing, one in Hangzhou).
    path = Region.objects.get(code=region).path
    return Enterprise.objects.filter(region__path__startswith=path, is_key_contact=True, is_active=True).count()


def scores_of(run, region: str) -> dict[str, EvaluationScore]:
    result = EvaluationResult.objects.get(run=run, area__region__code=region)
    return {s.indicator_code: s for s in result.scores.all()}


def expected_beijing() -> dict[str, Decimal | None]:
    bj = ("bj_a", "bj_b")
    x25, m25, x24, m24 = flows(bj, 2025, "X"), flows(bj, 2025, "M"), flows(bj, 2024, "X"), flows(bj, 2024, "M")
    tasks = AreaTask.objects.filter(area__region__code=BJ)
    due = tasks.count() - 1
    applicable = AreaMeasure.objects.filter(area__region__code=BJ).count() - 1
    expected = key_contacts(BJ) * 12
    return {
        "trade_growth": pct((x25 + m25) - (x24 + m24), x24 + m24),
        "export_growth": pct(x25 - x24, x24),
        "balance_change": cny10k(x25 - m25) - cny10k(x24 - m24),
        "ki_share": pct(flows(bj, 2025, "X", ki=True) + flows(bj, 2025, "M", ki=True), x25 + m25),
        "reporting_coverage": pct(D(12 + 6), D(expected)),
        "reporting_timeliness": pct(D(12), D(expected)),
        "tasks_on_time": pct(D(3), D(due)),
        "measures_implemented": pct(D(2), D(applicable)),
        "experiences_adopted": D(1),
    }
