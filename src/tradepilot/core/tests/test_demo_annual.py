"""Annual forms in the synthetic data (`core.demo_data`): basic registration, inward and outward FATS."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from tradepilot.core import demo_data
from tradepilot.core.models import AuditLog, Region
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting import annual
from tradepilot.reporting.models import (
    BasicRegistration,
    FatsInward,
    FatsInwardServiceSales,
    FatsOutwardAffiliate,
    MonthlyLine,
    Report,
    ReportForm,
    Status,
)
from tradepilot.reporting.periods import Period, lock_date
from tradepilot.reporting.rates import RateTable
from tradepilot.reporting.validation import REPORTED, validate_report

TODAY = dt.date(2026, 11, 20)  # latest closed month 2026-10; the forms of 2024 and 2025 have all locked
CENT = Decimal("0.01")
HMT = {"HK", "MO", "TW"}


def _pin(monkeypatch, day: dt.date) -> None:
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: day)


@pytest.fixture
def generated(reference, monkeypatch):
    _pin(monkeypatch, TODAY)
    return demo_data.generate(40, 24, 5)  # 2024-11 … 2026-10: the forms of 2024 and 2025


def annual_reports():
    return Report.objects.filter(month=0).select_related("form", "enterprise__region")


def fingerprint() -> list:
    return sorted(
        (r.enterprise.uscc, r.form.code, r.year, r.status, str(r.submitted_at), str(r.accepted_at),
         repr(annual.content(r)))
        for r in annual_reports()
    )


def check_workflow(report: Report, today: dt.date) -> None:
    """The same invariants the monthly reports keep (see test_demo_data)."""
    two_level = report.enterprise.region.level > Region.Level.PROVINCE
    lock = lock_date(report.form, Period(report.year))
    assert report.is_current and report.version == 1 and report.created <= timezone.now()
    assert report.created >= dt.datetime(report.year + 1, 1, 1, tzinfo=demo_data.CHINA_TZ)  # the year had ended
    if report.status == Status.DRAFT:
        assert report.submitted_at is None and report.approved_at is None and report.accepted_at is None
        return
    assert report.created <= report.submitted_at
    assert report.submitted_at <= dt.datetime.combine(lock, dt.time(23, 59), tzinfo=demo_data.CHINA_TZ)
    if report.status == Status.SUBMITTED:
        assert report.approved_at is None and report.accepted_at is None
    elif report.status == Status.RETURNED:
        assert report.return_reason and report.approved_at is None
    elif report.status == Status.APPROVED:
        assert two_level and report.submitted_at <= report.approved_at and report.accepted_at is None
    else:
        assert report.status in (Status.ACCEPTED, Status.LOCKED)
        assert report.submitted_at <= report.approved_at <= report.accepted_at
        assert report.approved_by_id is not None or not report.accepted_by_id
        if not two_level:
            assert report.approved_at == report.accepted_at
    if report.status == Status.LOCKED:
        assert today > lock
    if report.status == Status.ACCEPTED:
        assert today <= lock


def monthly_trade(enterprise_id: int, year: int) -> tuple[Decimal, Decimal]:
    """Services exports and imports of the enterprise's reported months of `year`, CNY 10k."""
    x = m = Decimal(0)
    rates: dict[int, Decimal] = {}
    lines = MonthlyLine.objects.filter(report__enterprise_id=enterprise_id, report__year=year,
                                       report__month__gt=0, report__status__in=REPORTED)
    for month, direction, usd in lines.values_list("report__month", "direction", "usd_amount"):
        rate = rates.setdefault(month, RateTable.for_month(year, month).rates["USD"])
        if direction == "X":
            x += usd * rate / 10_000
        else:
            m += usd * rate / 10_000
    return x, m


# --- which forms, for whom --------------------------------------------------------------------------------------


def test_annual_reports_exist_for_the_completed_years(generated):
    reports = list(annual_reports())
    assert {r.year for r in reports} == {2024, 2025}
    by_form = Counter(r.form.code for r in reports)
    assert generated["annual_reports"] == len(reports) == sum(by_form.values())
    assert generated["fats_outward"] == by_form["fats_out"] > 0
    assert generated["basic_registrations"] == BasicRegistration.objects.count()
    assert generated["fats_inward"] == FatsInward.objects.count() > 0
    assert generated["fats_outward_affiliates"] == FatsOutwardAffiliate.objects.count() >= by_form["fats_out"]
    # One report per enterprise, form and year, all from key-contact enterprises; nearly all of them file the
    # basic registration every year.
    assert len({(r.enterprise_id, r.form_id, r.year) for r in reports}) == len(reports)
    key = set(Enterprise.objects.key_contacts().values_list("pk", flat=True))
    assert {r.enterprise_id for r in reports} <= key
    for year in (2024, 2025):
        basic = {r.enterprise_id for r in reports if r.form.code == "basic" and r.year == year}
        assert len(basic) >= 0.85 * len(key)
    # One audit entry each, summarising the history.
    seeded = AuditLog.objects.filter(action="seed", report__month=0)
    assert seeded.count() == len(reports)
    assert {e.changes["form"] for e in seeded} == {"basic", "fats_in", "fats_out"}


def test_fats_inward_only_for_enterprises_controlled_from_abroad(generated):
    fats_in = annual_reports().filter(form__code=ReportForm.Code.FATS_IN)
    types = set(fats_in.values_list("enterprise__registration_type", flat=True))
    assert types and types <= {Enterprise.RegistrationType.FOREIGN, Enterprise.RegistrationType.HMT}
    outward = annual_reports().filter(form__code=ReportForm.Code.FATS_OUT)
    assert set(outward.values_list("enterprise__registration_type", flat=True)) == {"domestic"}
    # Most foreign-invested key-contact enterprises file it.
    foreign = Enterprise.objects.key_contacts().exclude(registration_type="domestic")
    assert fats_in.filter(year=2025).count() >= 0.8 * foreign.count()


def test_statuses_are_realistic_and_consistent(generated):
    reports = list(annual_reports())
    statuses = Counter(r.status for r in reports)
    assert statuses[Status.LOCKED] >= 0.8 * len(reports)  # both years have locked by TODAY
    assert set(statuses) <= {Status.LOCKED, Status.SUBMITTED, Status.DRAFT}
    for r in reports:
        check_workflow(r, TODAY)


def test_the_current_annual_cycle(reference, monkeypatch):
    """In May 2026 the basic registration of 2025 has locked; inward and outward FATS are due on 30 June."""
    today = dt.date(2026, 5, 15)
    _pin(monkeypatch, today)
    counts = demo_data.generate(60, 6, 4)  # 2025-11 … 2026-04
    assert counts["annual_reports"] > 0
    reports = list(annual_reports())
    assert {r.year for r in reports} == {2025}
    for r in reports:
        check_workflow(r, today)
        assert r.created.date() <= today and (r.submitted_at is None or r.submitted_at.date() <= today)
    basic = Counter(r.status for r in reports if r.form.code == "basic")
    fats = Counter(r.status for r in reports if r.form.code != "basic")
    assert basic[Status.LOCKED] >= 0.8 * sum(basic.values())
    assert not fats[Status.LOCKED] and fats[Status.ACCEPTED] + fats[Status.APPROVED] > 0
    assert fats[Status.SUBMITTED] + fats[Status.DRAFT] > 0
    # Not everyone has started the FATS forms yet.
    foreign = Enterprise.objects.key_contacts().exclude(registration_type="domestic").count()
    assert sum(1 for r in reports if r.form.code == "fats_in") < foreign


# --- content ----------------------------------------------------------------------------------------------------


def _money_values(report: Report) -> list[Decimal]:
    content = annual.content(report)
    if report.form.code == "basic":
        return [v for v in (content["registered_capital"], content["foreign_share"]) if v is not None]
    if report.form.code == "fats_in":
        if content is None:
            return []
        return [content[k] for k in annual.FATS_IN_MONEY] + list(content["services_sales_by_component"].values())
    return [a[k] for a in content["affiliates"] for k in ("turnover", "total_assets", "net_profit", "ownership_share")]


def test_values_are_decimals_with_two_places(generated):
    values = [v for r in annual_reports() for v in _money_values(r)]
    assert len(values) > 100
    for value in values:
        assert isinstance(value, Decimal) and value == value.quantize(CENT)
    # The plan itself (before the database rounds anything) already has exactly two places.
    regions, pilots = demo_data.region_infos(), demo_data.pilot_area_codes()
    plans = demo_data.plan_enterprises(40, 5, regions, pilots)
    for ent in plans:
        if not ent.is_key_contact:
            continue
        profile = demo_data.annual_profile(ent, 5)
        scale = demo_data.annual_scale(ent, 2025, profile, None, 5)
        planned = [demo_data.plan_basic(ent, profile, scale)]
        if ent.registration_type != "domestic":
            fats = demo_data.plan_fats_in(ent, 2025, profile, scale, 5)
            planned += [fats, fats["services_sales_by_component"]]
        planned += demo_data.plan_fats_out(ent, 2025, profile, scale, 5)
        for content in planned:
            for value in content.values():
                if isinstance(value, Decimal):
                    assert value.as_tuple().exponent == -2, (ent.name, content)
                assert not isinstance(value, float)


def test_content_passes_the_forms_validation(generated):
    checked = Counter()
    for report in annual_reports():
        content = annual.content(report)
        code = report.form.code
        if code == "basic" and hasattr(report, "basic"):
            annual._clean_basic(content)  # raises ReportError on any problem
        elif code == "fats_in" and content is not None:
            annual._clean_fats_in(content)
            assert sum(content["services_sales_by_component"].values()) == content["services_sales"]
            assert content["services_sales"] <= content["turnover"]
        elif code == "fats_out" and content["affiliates"]:
            annual._clean_affiliates(content["affiliates"])
        else:
            assert report.status == Status.DRAFT  # opened, nothing entered yet
            continue
        checked[code] += 1
        if report.status != Status.DRAFT:
            result = validate_report(report)
            assert not result.blocking, (report, result.as_dict())
    assert set(checked) == {"basic", "fats_in", "fats_out"}


def test_figures_agree_with_the_monthly_trade_and_each_other(generated):
    basics = {(b.report.enterprise_id, b.report.year): b for b in BasicRegistration.objects.select_related("report")}
    exporters = 0
    for fats in FatsInward.objects.select_related("report__enterprise", "ultimate_parent_country", "activity"):
        ent, year = fats.report.enterprise, fats.report.year
        exports, imports = monthly_trade(ent.pk, year)
        exporters += exports > 0
        assert fats.services_sales >= exports.quantize(CENT)  # services sold abroad are services sold
        assert fats.exports >= exports.quantize(CENT) and fats.imports >= imports.quantize(CENT)
        assert fats.exports <= fats.turnover
        assert 0 < fats.compensation <= fats.value_added * Decimal("1.2") and fats.value_added <= fats.turnover
        assert fats.activity_id == ent.industry_id
        # Turnover per employee (CNY 10k): from a few tens of thousands of yuan to a few million.
        assert Decimal(3) <= fats.turnover / fats.employment <= Decimal(3000)
        basic = basics.get((ent.pk, year))
        if basic is not None:  # the two forms of the same year agree
            assert basic.employees == fats.employment
            assert basic.foreign_share is not None and basic.foreign_share >= 50
        # The ultimate parent is abroad, of the right kind, and a related party the enterprise trades with.
        parent = fats.ultimate_parent_country.alpha2
        assert parent != "CN" and (parent in HMT) == (ent.registration_type == "hmt")
        related = set(MonthlyLine.objects.filter(report__enterprise=ent, related_party=True)
                      .values_list("partner__alpha2", flat=True))
        assert not related or parent in related
    assert exporters > 10
    for basic in basics.values():
        ent = basic.report.enterprise
        assert basic.name == ent.name and basic.registration_type == ent.registration_type
        assert basic.industry_id == ent.industry_id and basic.main_services and basic.employees >= 3
        assert basic.registered_capital > 0
    # Employment grows with size.
    sizes = sorted((f.turnover, f.employment) for f in FatsInward.objects.all())
    half = len(sizes) // 2
    assert sum(e for _t, e in sizes[half:]) > 2 * sum(e for _t, e in sizes[:half])


def test_outward_affiliates_are_plausible(generated):
    hosts = Counter()
    per_report = defaultdict(list)
    for a in FatsOutwardAffiliate.objects.select_related("report__enterprise", "host_country"):
        per_report[a.report_id].append(a)
        hosts[a.host_country.alpha2] += 1
        assert a.host_country.alpha2 != "CN" and a.ownership_share > 50
        assert a.name.endswith("有限公司") and a.report.enterprise.registration_type == "domestic"
        assert a.total_assets > 0 and a.turnover >= 0
        assert abs(a.net_profit) <= a.turnover or a.employment <= 3  # holding companies live on dividends
    assert hosts and set(hosts) <= set(demo_data.OUTWARD_HOSTS)
    assert hosts.most_common(1)[0][0] in {"HK", "US", "SG"}
    for report_id, affiliates in per_report.items():
        assert len({a.name for a in affiliates}) == len(affiliates)
        # The first (oldest) affiliate is where the parent's related-party trade goes.
        ent = affiliates[0].report.enterprise
        related = set(MonthlyLine.objects.filter(report__enterprise=ent, related_party=True)
                      .values_list("partner__alpha2", flat=True))
        assert not related or related & {a.host_country.alpha2 for a in affiliates}, report_id


def test_components_are_standard_components(generated):
    codes = set(FatsInwardServiceSales.objects.values_list("service__code", flat=True))
    assert codes and all(len(c) == 2 for c in codes)
    assert set(FatsInwardServiceSales.objects.values_list("service__level", flat=True)) == {1}


# --- determinism and speed ----------------------------------------------------------------------------------------


def test_annual_data_is_deterministic_per_seed(reference, monkeypatch):
    _pin(monkeypatch, TODAY)
    with transaction.atomic():
        demo_data.generate(25, 14, 9)
        first = fingerprint()
        transaction.set_rollback(True)
    assert first and not Report.objects.exists()
    demo_data.generate(25, 14, 9)
    assert fingerprint() == first


def test_annual_plan_needs_no_database(reference, django_assert_num_queries):
    regions, pilots = demo_data.region_infos(), demo_data.pilot_area_codes()
    as_of = dt.datetime(2026, 11, 20, 18, tzinfo=demo_data.CHINA_TZ)

    class Form:
        code, due_day, due_month_offset, lock_after_days = "fats_in", 30, 6, 30

    with django_assert_num_queries(0):
        plans = demo_data.plan_enterprises(30, 3, regions, pilots)
        a = [demo_data.annual_profile(p, 3) for p in plans if p.is_key_contact]
        b = [demo_data.annual_profile(p, 3) for p in plans if p.is_key_contact]
        history = [demo_data.plan_annual_report(p, Form, 2025, seed=3, as_of=as_of) for p in plans]
    assert a == b
    assert any(h is not None and h.status == Status.LOCKED for h in history)
    assert all(h is None for p, h in zip(plans, history, strict=True) if not p.is_key_contact)


def test_one_month_window_and_inactive_forms(reference, monkeypatch):
    """Only December generated: its year still gets its forms (the trade scaled up to the year); a form that is
    not active is left out."""
    _pin(monkeypatch, TODAY)
    ReportForm.objects.filter(code=ReportForm.Code.FATS_OUT).update(is_active=False)
    counts = demo_data.generate(30, 1, 2, end_period=Period(2025, 12))
    reports = list(annual_reports())
    assert {r.year for r in reports} == {2025} and counts["annual_reports"] == len(reports)
    assert {r.form.code for r in reports} == {"basic", "fats_in"} and counts["fats_outward"] == 0
    for fats in FatsInward.objects.select_related("report"):
        exports, _imports = monthly_trade(fats.report.enterprise_id, 2025)
        assert fats.services_sales >= 5 * exports  # eleven months more than December alone
        annual._clean_fats_in(annual.fats_in_content(fats.report))
