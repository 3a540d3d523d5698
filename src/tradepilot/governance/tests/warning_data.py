"""Trade data for the early-warning tests, built once per test module (inside an outer transaction rolled back at
its end) on the `database` analytics engine, so each test reads the fact tables of the module's database state.

Hangzhou (330100) has four enterprises (two domestic, one foreign-invested, one HMT-invested) and Beijing one;
the lines below are the whole of their approved monthly reports, in USD. Expected values in the tests are
computed from `LINES` with Decimal arithmetic, never through the analytics layer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from django.test import override_settings

from tradepilot.conftest import RATES, make_enterprise, make_user

HANGZHOU, BEIJING = "330100", "110000"
#: key → (region, serial, registration type)
ENTERPRISES = {"a": (HANGZHOU, 11, "domestic"), "b": (HANGZHOU, 12, "foreign"), "c": (HANGZHOU, 13, "hmt"),
               "d": (HANGZHOU, 14, "domestic"), "x": (BEIJING, 15, "foreign")}
#: (yyyymm, enterprise key, direction, EBOPS leaf, partner, USD)
LINES = [
    (202503, "a", "M", "SG1", "HK", "6000.00"),
    (202503, "b", "M", "SG1", "US", "4000.00"),
    (202503, "a", "M", "SJ2", "US", "1000.00"),     # SJ opened, but a tiny base
    (202503, "c", "M", "SI2", "HK", "1000.00"),     # SI not opened
    (202503, "x", "M", "SG1", "HK", "50000.00"),    # Beijing: another area
    (202601, "a", "X", "SI2", "US", "8000.00"),
    (202601, "b", "X", "SI2", "US", "2000.00"),
    (202602, "a", "X", "SI2", "US", "7000.00"),
    (202602, "b", "X", "SI2", "US", "3000.00"),
    (202603, "a", "M", "SG1", "HK", "9000.00"),
    (202603, "b", "M", "SG1", "US", "6000.00"),
    (202603, "a", "M", "SJ2", "US", "5000.00"),
    (202603, "c", "M", "SI2", "HK", "20000.00"),
    (202603, "d", "X", "SI2", "US", "5000.00"),
    (202603, "x", "M", "SG1", "HK", "50000.00"),
]
MONTHS = sorted({p for p, *_rest in LINES})
USD_RATE = Decimal(RATES["USD"])


def total(period: int, *, enterprises=None, direction=None, component=None, partner=None, region=HANGZHOU
          ) -> Decimal:
    """The sum of `LINES` matching the arguments (the tests' independent arithmetic)."""
    out = Decimal(0)
    for p, ent, d, service, part, usd in LINES:
        if p != period or ENTERPRISES[ent][0] != region:
            continue
        if (enterprises is not None and ent not in enterprises) or (direction and d != direction) or (
                component and service[:2] != component) or (partner and part != partner):
            continue
        out += Decimal(usd)
    return out


def build(store_root) -> SimpleNamespace:
    from tradepilot.analytics import store
    from tradepilot.analytics.schema import LINES as FACT_LINES
    from tradepilot.core.models import Country, Currency, PilotArea, Role, ServiceCategory, SupplyMode
    from tradepilot.core.reference import load_all
    from tradepilot.governance.models import AreaMeasure, MeasureStatus, OpeningMeasure
    from tradepilot.reporting import services
    from tradepilot.reporting.models import ExchangeRate, MonthlyLine, Report, Status
    from tradepilot.reporting.setup import load_defaults

    load_all()
    load_defaults()
    currencies = {c.code: c for c in Currency.objects.filter(code__in=RATES)}
    ExchangeRate.objects.bulk_create(
        ExchangeRate(currency=currencies[code], year=y, month=m, cny_per_unit=Decimal(v))
        for code, v in RATES.items() for y in (2024, 2025, 2026) for m in range(1, 13))
    w = SimpleNamespace()
    w.ent = {key: make_enterprise(region, serial, f"预警测试企业{serial}", registration_type=reg)
             for key, (region, serial, reg) in ENTERPRISES.items()}
    w.ministry = make_user("w-ministry", Role.MINISTRY)
    w.auditor = make_user("w-auditor", Role.AUDITOR)
    w.agency = make_user("w-customs", Role.AGENCY, agency="GACC")
    w.bureau_hz = make_user("w-bureau-hz", Role.BUREAU, region=HANGZHOU)
    w.bureau_zj = make_user("w-bureau-zj", Role.BUREAU, region="330000")
    w.bureau_bj = make_user("w-bureau-bj", Role.BUREAU, region=BEIJING)
    w.ent_hz = make_user("w-ent-hz", Role.ENTERPRISE, enterprises=[w.ent["a"]])
    w.area_hz = PilotArea.objects.select_related("region", "round").get(region__code=HANGZHOU)
    w.area_bj = PilotArea.objects.select_related("region", "round").get(region__code=BEIJING)
    w.round = w.area_hz.round

    # Opening measures: banking opens SG (in effect in Hangzhou since 2025-06), consulting SJ (since 2019); the
    # call-centre measure (SI) is still in progress, so SI is not an opened sector.
    measures = {code: OpeningMeasure.objects.create(round=w.round, code=code, order=i, domain_zh="测试",
                                                    industry_zh=industry, text_zh="测试举措",
                                                    ebops_components=components)
                for i, (code, industry, components) in enumerate(
                    [("T1", "银行业", ["SG"]), ("T2", "工程咨询服务", ["SJ"]), ("T3", "离岸呼叫中心业务", ["SI"])])}
    w.am_sg = AreaMeasure.objects.create(area=w.area_hz, measure=measures["T1"], status=MeasureStatus.IMPLEMENTED,
                                         implemented_on=dt.date(2025, 6, 1))
    AreaMeasure.objects.create(area=w.area_hz, measure=measures["T2"], status=MeasureStatus.IMPLEMENTED,
                               implemented_on=dt.date(2019, 1, 1))
    AreaMeasure.objects.create(area=w.area_hz, measure=measures["T3"], status=MeasureStatus.IN_PROGRESS)
    AreaMeasure.objects.create(area=w.area_bj, measure=measures["T1"], status=MeasureStatus.IMPLEMENTED,
                               implemented_on=dt.date(2019, 1, 1))

    form = services.monthly_form()
    services_by_code = {s.code: s for s in ServiceCategory.objects.all()}
    countries = {c.alpha2: c for c in Country.objects.filter(alpha2__in={line[4] for line in LINES})}
    mode = SupplyMode.objects.get(code="1")
    for period in MONTHS:
        for key, enterprise in w.ent.items():
            mine = [line for line in LINES if line[0] == period and line[1] == key]
            if not mine:
                continue
            report = Report.objects.create(enterprise=enterprise, form=form, year=period // 100,
                                           month=period % 100, status=Status.ACCEPTED)
            MonthlyLine.objects.bulk_create(
                MonthlyLine(report=report, line_no=i, direction=d, service=services_by_code[s],
                            partner=countries[partner], mode=mode, amount=Decimal(usd), currency=currencies["USD"],
                            usd_amount=Decimal(usd))
                for i, (_p, _k, d, s, partner, usd) in enumerate(mine, 1))
    with override_settings(ANALYTICS_ENGINE="database", ANALYTICS_ROOT=store_root):
        for period in MONTHS:
            store.refresh(FACT_LINES.name, period // 100, period % 100)
    w.store_root = store_root
    return w


def module_world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Body of a module-scoped fixture: yields the world built once for the module."""
    from tradepilot.testing.shared_data import module_transaction

    with module_transaction(django_db_blocker):
        yield build(tmp_path_factory.mktemp("warning-store") / "analytics")


def rules_at_test_scale(rnd):
    """The default rules, with the import surge's minimum base lowered to this module's scale (its months hold
    thousands of USD, the default minimum is CNY 5 million)."""
    from tradepilot.governance import early_warning
    from tradepilot.governance.models import RiskRule

    early_warning.ensure_default_rules(rnd)
    rule = RiskRule.objects.get(round=rnd, code="IMPORT_SURGE")
    rule.params = {**rule.params, "min_base_cny": "10000"}
    rule.save(update_fields=["params"])
    return {r.code: r for r in RiskRule.objects.filter(round=rnd)}
