"""Anomaly list: anomalies planted in generated trade are found for the right enterprise (and only there), missing
months and gaps, nil returns, scoping and refusal, downloads that parse back, filters, pagination, empty states."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db.models import F, Sum
from django.urls import reverse

from tradepilot.analytics import anomaly_views, queries, store
from tradepilot.analytics.anomalies import (
    CATEGORY_SHIFT,
    GAPS,
    JUMP,
    KINDS,
    MISSING,
    PARTNER_SHIFT,
    SEASONAL,
    Thresholds,
    _jump,
    find_anomalies,
    total_variation,
)
from tradepilot.analytics.engine import DatabaseEngine, DuckDBEngine
from tradepilot.analytics.tests.conftest import END
from tradepilot.core.models import Country, ServiceCategory
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting.models import MonthlyLine, Report, Status
from tradepilot.reporting.periods import Period

pytestmark = pytest.mark.django_db

PERIOD = END.year * 100 + END.month  # 202609


# --- helpers ---------------------------------------------------------------------------------------------------

def counted_report(enterprise_id: int, period: Period) -> Report | None:
    """The version that counts at the preliminary stage (the highest one submitted or better)."""
    return (Report.objects.filter(enterprise_id=enterprise_id, form__code="monthly", year=period.year,
                                  month=period.month, status__in=store.PRELIMINARY_STATUSES)
            .order_by("-version").first())


def orm_total(report: Report) -> Decimal:
    return report.lines.aggregate(v=Sum("usd_amount"))["v"] or Decimal(0)


def steady_enterprises(region_prefix: str = "", minimum: Decimal = Decimal(150_000)) -> list[int]:
    """Enterprises with a counted report in each of the last 13 months, a sizeable current month, and no
    anomaly at all in the generated data: the ones to plant anomalies in, and the controls."""
    flagged = {a.enterprise_id for a in find_anomalies(PERIOD, region_path=None)}
    per = defaultdict(dict)
    flt = queries.Filter(start=END.shift(-12).year * 100 + END.shift(-12).month, end=PERIOD, stage="preliminary")
    for cell in queries.cells(flt, ["enterprise_id", "period"]):
        per[cell.key[0]][cell.key[1]] = cell.value
    paths = dict(Enterprise.objects.values_list("pk", "region__path"))
    return sorted(ent for ent, series in per.items()
                  if len(series) == 13 and series.get(PERIOD, 0) >= minimum and ent not in flagged
                  and paths[ent].startswith(region_prefix))


def kinds_of(anomalies, enterprise_id: int) -> set[str]:
    return {a.kind for a in anomalies if a.enterprise_id == enterprise_id}


def keys(anomalies) -> list[tuple[int, str]]:
    """What identifies a row whatever the language (names of regions and details are translated)."""
    return [(a.enterprise_id, a.kind) for a in anomalies]


def refresh(period: Period) -> None:
    store.refresh("fact_line", period.year, period.month)


@pytest.fixture
def english(client):
    """Requests are answered in Chinese unless the language cookie says otherwise."""
    client.cookies["django_language"] = "en"
    return client


def login(client, user):
    client.force_login(user)
    return client


def url() -> str:
    return reverse("analytics:anomalies")


# --- the rules on planted anomalies ----------------------------------------------------------------------------

def test_tenfold_month_is_an_outlier_and_a_jump_for_that_enterprise_only(trade):
    steady = steady_enterprises()
    assert len(steady) >= 4, "the generated data has steady enterprises"
    spiked, controls = steady[0], steady[1:]
    report = counted_report(spiked, END)
    before = orm_total(report)
    previous = orm_total(counted_report(spiked, END.previous))
    MonthlyLine.objects.filter(report=report).update(usd_amount=F("usd_amount") * 10)
    refresh(END)

    found = find_anomalies(PERIOD, region_path=None)
    assert {SEASONAL, JUMP} <= kinds_of(found, spiked)
    assert not kinds_of(found, spiked) & {PARTNER_SHIFT, CATEGORY_SHIFT, MISSING, GAPS}  # same mix, every month
    for control in controls:
        assert kinds_of(found, control) == set(), control
    jump = next(a for a in found if a.enterprise_id == spiked and a.kind == JUMP)
    assert jump.value == orm_total(report) == before * 10
    assert isinstance(jump.value, Decimal) and isinstance(jump.baseline, Decimal)
    assert jump.baseline == previous
    assert jump.change == pytest.approx(float(before * 10 / previous - 1))
    assert jump.severity == "high"
    assert jump.report_id == report.pk and jump.report_url == f"/reporting/reports/{report.pk}/"
    assert jump.report_status == report.status
    enterprise = Enterprise.objects.get(pk=spiked)
    assert (jump.enterprise_name, jump.uscc) == (enterprise.name, enterprise.uscc)
    outlier = next(a for a in found if a.enterprise_id == spiked and a.kind == SEASONAL)
    assert outlier.statistic > 3.5 and outlier.value == before * 10 and outlier.baseline < before * 2
    # Most severe first.
    assert [a.score for a in found] == sorted((a.score for a in found), reverse=True)
    assert found[0].enterprise_id == spiked


def test_partner_and_category_shifts(trade):
    steady = steady_enterprises()
    partner_ent, category_ent, control = steady[0], steady[1], steady[2]
    window = dict(report__enterprise_id=partner_ent, report__year__gte=END.year - 1)
    used = set(MonthlyLine.objects.filter(**window).values_list("partner__alpha2", flat=True)) | {"CN"}
    new_partner = Country.objects.exclude(alpha2__in=used).order_by("alpha2").first()
    MonthlyLine.objects.filter(report=counted_report(partner_ent, END)).update(partner=new_partner)

    used_components = {code[:2] for code in MonthlyLine.objects.filter(
        report__enterprise_id=category_ent, report__year__gte=END.year - 1).values_list("service__code", flat=True)}
    new_service = next(s for s in ServiceCategory.objects.filter(is_leaf=True).order_by("code")
                       if s.code[:2] not in used_components)
    MonthlyLine.objects.filter(report=counted_report(category_ent, END)).update(service=new_service)
    refresh(END)

    found = find_anomalies(PERIOD, region_path=None)
    assert kinds_of(found, partner_ent) == {PARTNER_SHIFT}  # same amounts: no outlier, no jump
    assert kinds_of(found, category_ent) == {CATEGORY_SHIFT}
    assert kinds_of(found, control) == set()
    shift = next(a for a in found if a.kind == PARTNER_SHIFT and a.enterprise_id == partner_ent)
    assert shift.statistic == pytest.approx(1.0)  # disjoint distributions
    assert shift.figures["code"] == new_partner.alpha2 and shift.figures["share_now"] == pytest.approx(1.0)
    assert shift.value == orm_total(counted_report(partner_ent, END))
    category = next(a for a in found if a.kind == CATEGORY_SHIFT)
    assert category.figures["code"] == new_service.code[:2]


def test_missing_month_gaps_and_nil_returns(trade):
    steady = steady_enterprises()
    missing_ent, gap_ent, nil_ent, inactive_ent, control = steady[:5]
    returned = counted_report(missing_ent, END)
    Report.objects.filter(pk=returned.pk).update(status=Status.RETURNED)
    Report.objects.filter(pk=counted_report(inactive_ent, END).pk).update(status=Status.RETURNED)
    Enterprise.objects.filter(pk=inactive_ent).update(is_active=False)
    gap_month = END.shift(-2)
    Report.objects.filter(pk=counted_report(gap_ent, gap_month).pk).update(status=Status.RETURNED)
    nil = counted_report(nil_ent, END)
    nil.lines.all().delete()
    Report.objects.filter(pk=nil.pk).update(nil_return=True)
    refresh(END)
    refresh(gap_month)

    found = find_anomalies(PERIOD, region_path=None)
    missing = [a for a in found if a.enterprise_id == missing_ent]
    assert [a.kind for a in missing] == [MISSING]
    assert missing[0].report_id == returned.pk and missing[0].report_status == Status.RETURNED  # the current one
    assert missing[0].statistic == 12 and missing[0].value is None and missing[0].baseline > 0
    assert missing[0].severity == "medium"  # a regular reporter
    gaps = [a for a in found if a.enterprise_id == gap_ent]
    assert [a.kind for a in gaps] == [GAPS]
    assert gaps[0].figures["missing_periods"] == [str(gap_month)]
    # A counted nil return is a report: not missing, but a drop to zero.
    assert MISSING not in kinds_of(found, nil_ent)
    drop = next(a for a in found if a.enterprise_id == nil_ent and a.kind == JUMP)
    assert drop.value == 0 and drop.change == pytest.approx(-1.0) and drop.report_id == nil.pk
    assert kinds_of(found, inactive_ent) == set()  # a deactivated enterprise is not expected to report
    assert kinds_of(found, control) == set()


def test_small_enterprises_and_thresholds():
    may, june = 202605, 202606
    tiny = {may: 1_000_00, june: 10_000_00}  # USD 1,000 → 10,000: +900 %, but immaterial
    assert _jump(tiny, Period(2026, 6), Thresholds()) is None
    flagged = _jump(tiny, Period(2026, 6), Thresholds(min_usd=Decimal(5000)))
    assert flagged["change"] == pytest.approx(9.0) and flagged["baseline"] == Decimal("1000.00")
    big = {may: 100_000_00, june: 250_000_00}  # +150 %: within bounds
    assert _jump(big, Period(2026, 6), Thresholds()) is None
    assert _jump({may: 100_000_00, june: 25_000_00}, Period(2026, 6), Thresholds())["change"] == pytest.approx(-0.75)
    assert total_variation({"US": 1.0}, {"HK": 1.0}) == 1.0
    assert total_variation({"US": 0.5, "HK": 0.5}, {"US": 0.5, "HK": 0.5}) == 0.0
    assert total_variation({"US": 0.8, "HK": 0.2}, {"US": 0.2, "HK": 0.8}) == pytest.approx(0.6)
    with pytest.raises(ValueError):
        find_anomalies(PERIOD, region_path=None, stage="draft")


def test_engines_agree(trade, settings):
    steady = steady_enterprises()
    MonthlyLine.objects.filter(report=counted_report(steady[0], END)).update(usd_amount=F("usd_amount") * 5)
    settings.ANALYTICS_ENGINE = "database"
    store.rebuild()  # fills the Parquet store and the database's fact tables
    duck = find_anomalies(PERIOD, region_path=None, engine=DuckDBEngine())
    db = find_anomalies(PERIOD, region_path=None, engine=DatabaseEngine())
    assert duck == db and JUMP in kinds_of(duck, steady[0])


# --- the page --------------------------------------------------------------------------------------------------

def test_scoping_and_refusal(trade, world, client):
    beijing = steady_enterprises("/110000/")[0]
    MonthlyLine.objects.filter(report=counted_report(beijing, END)).update(usd_amount=F("usd_amount") * 10)
    refresh(END)

    ministry = login(client, world.ministry).get(url()).context["page"].paginator.object_list
    assert JUMP in kinds_of(ministry, beijing)
    bj = login(client, world.bureau_bj).get(url()).context["page"].paginator.object_list
    assert JUMP in kinds_of(bj, beijing)
    paths = dict(Enterprise.objects.values_list("pk", "region__path"))
    assert all(paths[a.enterprise_id].startswith("/110000/") for a in bj)
    response = login(client, world.bureau_hz).get(url())
    hz = response.context["page"].paginator.object_list
    assert hz, "Hangzhou has anomalies of its own in the generated data"
    assert all(paths[a.enterprise_id].startswith("/330000/330100/") for a in hz)
    assert not any(paths[a.enterprise_id].startswith("/110000/") for a in hz)
    beijing_name = Enterprise.objects.get(pk=beijing).name
    assert beijing_name not in response.content.decode()
    assert beijing_name not in client.get(url(), {"format": "csv"}).content.decode("utf-8-sig")
    assert login(client, world.auditor).get(url()).status_code == 200

    for user in (world.ent_bj, world.agency):
        assert login(client, user).get(url()).status_code == 403
        assert client.get(url(), {"format": "csv"}).status_code == 403
    client.logout()
    response = client.get(url())
    assert response.status_code == 302 and "login" in response["Location"]


def test_page_links_reports_and_defaults_to_latest_period(trade, world, english):
    page = login(english, world.ministry).get(url())
    assert page.status_code == 200
    assert page.context["period"] == str(END)  # the latest month in the store
    rows = page.context["page"].paginator.object_list
    assert rows == find_anomalies(PERIOD, region_path=None)
    html = page.content.decode()
    linked = next(a for a in rows if a.report_id)
    assert f'href="/reporting/reports/{linked.report_id}/"' in html
    assert "Data quality anomalies" in html
    earlier = english.get(url(), {"period": str(END.shift(-3))})
    assert earlier.context["period"] == str(END.shift(-3))
    assert earlier.context["page"].paginator.object_list == find_anomalies(
        END.shift(-3).year * 100 + END.shift(-3).month, region_path=None)
    bad = english.get(url(), {"period": "2026-13"})
    assert bad.context["period"] == str(END) and "is not a period" in bad.content.decode()


def test_kind_filter_search_and_pagination(trade, world, client, monkeypatch):
    login(client, world.ministry)
    everything = find_anomalies(PERIOD, region_path=None)
    assert len(everything) > 10
    assert anomaly_views.PAGE_SIZE == 50

    missing = client.get(url(), {"kind": MISSING}).context["page"].paginator.object_list
    assert missing and keys(missing) == keys(a for a in everything if a.kind == MISSING)
    assert keys(client.get(url(), {"kind": "bogus"}).context["page"].paginator.object_list) == keys(everything)

    target = everything[3]
    by_code = client.get(url(), {"q": target.uscc.lower()}).context["page"].paginator.object_list
    assert by_code and {a.enterprise_id for a in by_code} == {target.enterprise_id}
    fragment = target.enterprise_name[2:6]
    by_name = client.get(url(), {"q": fragment}).context["page"].paginator.object_list
    assert (target.enterprise_id, target.kind) in keys(by_name)
    assert keys(by_name) == keys(a for a in everything if fragment in a.enterprise_name)

    monkeypatch.setattr(anomaly_views, "PAGE_SIZE", 5)
    second = client.get(url(), {"page": 2}).context["page"]
    assert second.paginator.count == len(everything)
    assert keys(second.object_list) == keys(everything[5:10])
    last = client.get(url(), {"page": 999}).context["page"]
    assert last.number == second.paginator.num_pages


def test_csv_and_xlsx_downloads_round_trip(trade, world, client):
    from openpyxl import load_workbook

    login(client, world.ministry)
    expected = find_anomalies(PERIOD, region_path=None)
    response = client.get(url(), {"format": "csv"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert f'anomalies-{END}.csv' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == anomaly_views.COLUMNS
    assert [(int(r["enterprise_id"]), r["kind"]) for r in rows] == [(a.enterprise_id, a.kind) for a in expected]
    assert [r["enterprise"] for r in rows] == [a.enterprise_name for a in expected]  # Chinese names intact
    assert [Decimal(r["value_usd"]) if r["value_usd"] else None for r in rows] == [a.value for a in expected]
    assert [r["report_id"] for r in rows] == [str(a.report_id or "") for a in expected]

    response = client.get(url(), {"format": "xlsx", "kind": MISSING})
    assert response["Content-Type"] == anomaly_views.XLSX
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0] == anomaly_views.COLUMNS
    missing = [a for a in expected if a.kind == MISSING]
    body = [dict(zip(table[0], r, strict=True)) for r in table[1:]]
    assert [(r["enterprise_id"], r["kind"], r["uscc"]) for r in body] == [
        (a.enterprise_id, a.kind, a.uscc) for a in missing]
    assert [Decimal(str(r["baseline_usd"])) for r in body] == [a.baseline for a in missing]


def test_empty_states(store_root, world, english):
    login(english, world.ministry)
    response = english.get(url())
    assert response.status_code == 200 and response.context["has_data"] is False
    assert "holds no monthly report data yet" in response.content.decode()
    assert english.get(url(), {"format": "csv"}).status_code == 200  # no period: the page, not a file


def test_no_match_state(trade, world, english):
    login(english, world.ministry)
    response = english.get(url(), {"q": "no such enterprise"})
    assert response.context["has_data"] and response.context["total"] > 0 and response.context["matching"] == 0
    assert "No anomalies match these filters." in response.content.decode()


def test_every_kind_has_a_label():
    assert set(KINDS) == {SEASONAL, JUMP, PARTNER_SHIFT, CATEGORY_SHIFT, MISSING, GAPS}
