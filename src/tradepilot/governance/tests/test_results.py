"""Annual results reports: figures pulled from live data match figures computed here from the reports we made,
the draft → submitted → approved / returned life, the API's located errors, the XLSX export and the overview.

Trade is built once per module: approved monthly reports (USD lines, so the USD value is the amount) of two
Hangzhou enterprises and one Beijing enterprise, plus a submitted-only Hangzhou report that official figures must
leave out; the Parquet store is built from them and each test gets a copy (as analytics/tests/conftest.py does).
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from tradepilot.conftest import make_enterprise
from tradepilot.core.models import (
    AuditLog,
    Country,
    Currency,
    Notification,
    PilotArea,
    ServiceCategory,
    SupplyMode,
)
from tradepilot.core.tokens import issue_token
from tradepilot.enterprises.models import Enterprise
from tradepilot.governance import experiences, results
from tradepilot.governance.models import (
    Adoption,
    AreaMeasure,
    AreaTask,
    ExperienceCase,
    MeasureStatus,
    ResultsReport,
    ReviewStatus,
    TaskStatus,
)
from tradepilot.reporting.models import MonthlyLine, Report, ReportForm, Status

HZ, BJ = "330100", "110000"
API = "/api/v1/governance"


def x_amount(serial: int, year: int, month: int) -> Decimal:
    """Exports of enterprise `serial` in a month: distinct, with cents, so a wrong sum cannot pass by accident."""
    return Decimal(1000 * serial + 37 * month + (year - 2017) * 211) + Decimal("0.25") * serial


def m_amount(serial: int, year: int, month: int) -> Decimal:
    return Decimal(400 * serial + 11 * month + (year - 2017) * 53) + Decimal("0.10")


# enterprise serial → (region, months with an approved report)
MONTHS = {
    11: (HZ, [(2018, m) for m in range(1, 13)] + [(2019, m) for m in range(1, 13)] + [(2020, m) for m in (1, 2, 3)]),
    12: (HZ, [(2019, m) for m in range(1, 7)] + [(2020, m) for m in (1, 2, 3)]),
    13: (BJ, [(2019, m) for m in range(1, 13)]),
}
SUBMITTED_ONLY = (12, 2019, 12)  # counts for reporting coverage, not for official trade


def _report(enterprise: Enterprise, year: int, month: int, status: str, form, lookups) -> None:
    service, partner, mode, usd = lookups
    serial = int(enterprise.name.rsplit("-", 1)[1])
    at = timezone.make_aware(dt.datetime(year, month, 28) + dt.timedelta(days=5))
    report = Report.objects.create(enterprise=enterprise, form=form, year=year, month=month, status=status,
                                   submitted_at=at, approved_at=at if status != Status.SUBMITTED else None)
    MonthlyLine.objects.bulk_create([
        MonthlyLine(report=report, line_no=1, direction="X", service=service, partner=partner, mode=mode,
                    amount=x_amount(serial, year, month), currency=usd, usd_amount=x_amount(serial, year, month)),
        MonthlyLine(report=report, line_no=2, direction="M", service=service, partner=partner, mode=mode,
                    amount=m_amount(serial, year, month), currency=usd, usd_amount=m_amount(serial, year, month)),
    ])


@pytest.fixture(scope="module")
def _pristine_store(django_db_setup, django_db_blocker, tmp_path_factory):
    from tradepilot.analytics import store
    from tradepilot.core.reference import load_all
    from tradepilot.governance.programme import load_programme
    from tradepilot.reporting.setup import load_defaults
    from tradepilot.testing.shared_data import module_transaction

    pristine = tmp_path_factory.mktemp("results-store") / "analytics"
    with module_transaction(django_db_blocker):
        load_all()
        load_defaults()
        load_programme()
        form = ReportForm.objects.get(code=ReportForm.Code.MONTHLY)
        lookups = (ServiceCategory.objects.get(code="SI2"), Country.objects.get(alpha2="US"),
                   SupplyMode.objects.get(code="1"), Currency.objects.get(code="USD"))
        for serial, (region, months) in MONTHS.items():
            enterprise = make_enterprise(region, serial, f"试点成效测试企业-{serial}")
            for year, month in months:
                _report(enterprise, year, month, Status.ACCEPTED, form, lookups)
        serial, year, month = SUBMITTED_ONLY
        _report(Enterprise.objects.get(name=f"试点成效测试企业-{serial}"), year, month, Status.SUBMITTED, form, lookups)
        with override_settings(ANALYTICS_ROOT=pristine, ANALYTICS_ENGINE="duckdb"):
            store.rebuild()
        yield pristine


@pytest.fixture
def trade(_pristine_store, world, settings):
    settings.ANALYTICS_ENGINE = "duckdb"
    shutil.copytree(_pristine_store, settings.ANALYTICS_ROOT)
    return world


@pytest.fixture
def hz(trade) -> PilotArea:
    return PilotArea.objects.select_related("region", "round").get(region__code=HZ)


@pytest.fixture
def bj(trade) -> PilotArea:
    return PilotArea.objects.select_related("region", "round").get(region__code=BJ)


def figures(items: list[dict]) -> dict[str, dict]:
    return {f["code"]: f for f in items}


def expected_sum(fn, region: str, year: int, months) -> Decimal:
    return sum((fn(serial, year, m) for serial, (r, reported) in MONTHS.items() if r == region
                for m in months if (year, m) in reported), Decimal(0))


def growth(now: Decimal, before: Decimal) -> str:
    return str(((now - before) / before * 100).quantize(Decimal("0.1"), ROUND_HALF_UP))


# --- figures -----------------------------------------------------------------------------------------------------

def test_trade_figures_of_a_full_year_match_the_approved_reports(hz):
    got = figures(results.compute_figures(hz, 2019))
    x19, m19 = (expected_sum(f, HZ, 2019, range(1, 13)) for f in (x_amount, m_amount))
    x18, m18 = (expected_sum(f, HZ, 2018, range(1, 13)) for f in (x_amount, m_amount))
    assert got["exports"]["value"] == str(x19)
    assert got["imports"]["value"] == str(m19)
    assert got["total"]["value"] == str(x19 + m19)
    assert got["exports_growth"]["value"] == growth(x19, x18)
    assert got["total_growth"]["value"] == growth(x19 + m19, x18 + m18)
    assert got["exports"]["unit"] == "USD" and got["total_growth"]["unit"] == "%"
    assert got["exports"]["source"] == "analytics: exports, 2019, region 330100"
    # Beijing's trade and the submitted-only December report of enterprise 12 are not Hangzhou's official trade.
    assert Decimal(got["exports"]["value"]) != expected_sum(x_amount, HZ, 2019, range(1, 13)) + x_amount(12, 2019, 12)


def test_a_running_year_counts_its_months_so_far_and_compares_the_same_months(hz):
    got = figures(results.compute_figures(hz, 2020))
    x20, x19 = expected_sum(x_amount, HZ, 2020, (1, 2, 3)), expected_sum(x_amount, HZ, 2019, (1, 2, 3))
    assert got["exports"]["value"] == str(x20)
    assert got["exports_growth"]["value"] == growth(x20, x19)
    assert "2020-01..2020-03" in got["exports"]["source"]


def test_growth_is_empty_when_the_year_before_is_not_in_the_store(hz):
    got = figures(results.compute_figures(hz, 2018))
    assert got["exports"]["value"] == str(expected_sum(x_amount, HZ, 2018, range(1, 13)))
    assert got["exports_growth"]["value"] is None and got["total_growth"]["value"] is None
    assert "incomplete" in got["total_growth"]["source"]


def test_a_year_without_trade_has_empty_trade_figures(hz):
    got = figures(results.compute_figures(hz, 2021))
    assert all(got[c]["value"] is None for c in ("exports", "imports", "total", "exports_growth", "total_growth"))
    assert got["exports"]["source"] == "analytics: no data for 2021, region 330100"
    assert got["reporting_coverage"]["value"] is None


def test_sources_are_stored_in_english_and_shown_in_the_readers_language(hz):
    from django.utils import translation

    computed = results.compute_figures(hz, 2019)
    report = ResultsReport(area=hz, year=2019, figures=computed)
    with translation.override("zh-hans"):
        shown = {f["code"]: f["source"] for f in results.display_figures(report)}
    assert shown["exports"] == "分析库：exports，2019，地区 330100"
    assert "（应报 36 企业月，已报 19）" in shown["reporting_coverage"]
    # Every stored source has a Chinese translation (none falls back to its English text).
    assert all(shown[f["code"]] != f["source"] for f in computed)
    # A snapshot stored before sources had message ids still shows its English text.
    old = ResultsReport(area=hz, year=2019, figures=[{**f, "source_i18n": None} for f in computed])
    with translation.override("zh-hans"):
        assert results.display_figures(old)[0]["source"] == "analytics: exports, 2019, region 330100"


def test_reporting_coverage_counts_report_months_of_the_key_contacts(hz):
    got = figures(results.compute_figures(hz, 2019))
    key_contacts = Enterprise.objects.filter(region__path__startswith=hz.region.path, is_key_contact=True,
                                             is_active=True).count()
    assert key_contacts == 3  # enterprises 11 and 12, and the world's Hangzhou enterprise
    submitted = 12 + 6 + 1  # enterprise 11 every month; 12 six months approved plus December submitted
    assert got["key_contacts"]["value"] == "3"
    assert got["reporting_coverage"]["value"] == str(
        (Decimal(submitted) / Decimal(key_contacts * 12) * 100).quantize(Decimal("0.1"), ROUND_HALF_UP))
    assert "19 of 36" in got["reporting_coverage"]["source"]


def test_governance_figures_count_what_was_recorded_by_the_years_end(hz, bj, trade):
    tasks = list(AreaTask.objects.filter(area=hz).order_by("pk"))
    AreaTask.objects.filter(pk__in=[t.pk for t in tasks[:3]]).update(status=TaskStatus.COMPLETED,
                                                                     completed_on=dt.date(2019, 6, 30))
    AreaTask.objects.filter(pk=tasks[3].pk).update(status=TaskStatus.COMPLETED, completed_on=dt.date(2020, 2, 1))
    measures = list(AreaMeasure.objects.filter(area=hz).order_by("pk"))
    AreaMeasure.objects.filter(pk=measures[0].pk).update(status=MeasureStatus.IMPLEMENTED,
                                                         implemented_on=dt.date(2019, 3, 1))
    AreaMeasure.objects.filter(pk=measures[1].pk).update(status=MeasureStatus.NOT_APPLICABLE)
    published = _case(hz, "杭州经验", published=dt.datetime(2019, 5, 1, 10))
    _case(hz, "杭州草稿")
    Adoption.objects.create(case=published, area=bj, adopted_on=dt.date(2019, 9, 1))
    late = _case(hz, "杭州经验二", published=dt.datetime(2020, 1, 10, 10))
    Adoption.objects.create(case=late, area=bj, adopted_on=dt.date(2020, 2, 1))

    got = figures(results.compute_figures(hz, 2019))
    assert got["tasks_completed"]["value"] == "3"
    assert got["tasks_total"]["value"] == str(len(tasks))
    assert got["measures_implemented"]["value"] == "1"
    assert got["measures_applicable"]["value"] == str(len(measures) - 1)
    assert got["experiences_published"]["value"] == "1"
    assert got["experiences_adopted_elsewhere"]["value"] == "1"
    later = figures(results.compute_figures(hz, 2020))
    assert later["tasks_completed"]["value"] == "4"
    assert later["experiences_published"]["value"] == "2"
    assert later["experiences_adopted_elsewhere"]["value"] == "2"


def _case(area, title, published: dt.datetime | None = None) -> ExperienceCase:
    return ExperienceCase.objects.create(
        area=area, title=title, problem="问题", measure="举措", effect="成效",
        status=ReviewStatus.APPROVED if published else ReviewStatus.DRAFT,
        published_at=timezone.make_aware(published) if published else None)


# --- the report's life -------------------------------------------------------------------------------------------

def test_bureau_creates_pulls_writes_and_submits_the_ministry_accepts(hz, trade):
    w = trade
    report = results.create_report(hz, 2019, w.bureau_hz)
    assert report.status == ReviewStatus.DRAFT and report.figures == []
    with pytest.raises(results.ResultsError) as missing:
        results.submit(report, w.bureau_hz)
    assert missing.value.errors[0]["field"] == "narrative"
    results.update_narrative(report, "2019年杭州服务贸易稳步增长。", w.bureau_hz)
    with pytest.raises(results.ResultsError) as not_pulled:
        results.submit(report, w.bureau_hz)
    assert not_pulled.value.errors[0]["field"] == "figures"
    report = results.pull_figures(report, w.bureau_hz)
    assert report.figures_at is not None
    assert figures(report.figures)["exports"]["value"] == str(expected_sum(x_amount, HZ, 2019, range(1, 13)))
    report = results.submit(report, w.bureau_hz)
    assert report.status == ReviewStatus.SUBMITTED
    assert Notification.objects.filter(user=w.ministry, url__contains=f"/{report.pk}/").exists()
    with pytest.raises(results.ResultsError) as frozen:
        results.pull_figures(report, w.bureau_hz)
    assert frozen.value.status == 409
    report = results.review(report, w.ministry, "approve")
    assert report.status == ReviewStatus.APPROVED and report.reviewed_by == w.ministry
    assert Notification.objects.filter(user=w.bureau_hz, title__contains="accepted").exists()
    actions = list(AuditLog.objects.filter(object_type="governance.resultsreport", object_id=str(report.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["results.create", "results.narrative", "results.pull_figures", "results.submit",
                       "results.approve"]


def test_a_returned_report_needs_a_note_and_can_be_edited_and_re_pulled(hz, trade):
    w = trade
    report = results.create_report(hz, 2019, w.bureau_hz, narrative="初稿")
    results.pull_figures(report, w.bureau_hz)
    results.submit(report, w.bureau_hz)
    with pytest.raises(results.ResultsError) as no_note:
        results.review(report, w.ministry, "return")
    assert no_note.value.errors[0]["field"] == "note"
    report = results.review(report, w.ministry, "return", "请补充服务外包数据。")
    assert report.status == ReviewStatus.RETURNED and report.review_note == "请补充服务外包数据。"
    first = report.figures_at
    report = results.pull_figures(report, w.bureau_hz)
    assert report.figures_at > first
    results.update_narrative(report, "修改稿", w.bureau_hz)
    assert results.submit(report, w.bureau_hz).status == ReviewStatus.SUBMITTED
    with pytest.raises(results.ResultsError) as twice:
        results.review(results.review(report, w.ministry, "approve"), w.ministry, "approve")
    assert twice.value.status == 409


def test_only_the_areas_bureau_writes_and_only_the_ministry_reviews(hz, trade):
    w = trade
    for user in (w.ministry, w.bureau_zj, w.bureau_bj, w.agency):
        with pytest.raises(PermissionDenied):
            results.create_report(hz, 2019, user)
    report = results.create_report(hz, 2019, w.bureau_hz, narrative="x")
    results.pull_figures(report, w.bureau_hz)
    results.submit(report, w.bureau_hz)
    for user in (w.bureau_hz, w.bureau_zj, w.auditor):
        with pytest.raises(PermissionDenied):
            results.review(report, user, "approve")


def test_one_report_per_area_and_year_within_the_rounds_years(hz, trade):
    w = trade
    results.create_report(hz, 2019, w.bureau_hz)
    with pytest.raises(results.ResultsError) as dup:
        results.create_report(hz, 2019, w.bureau_hz)
    assert (dup.value.status, dup.value.errors[0]["field"]) == (409, "year")
    for year in (2017, timezone.localdate().year + 1):
        with pytest.raises(results.ResultsError) as bad:
            results.create_report(hz, year, w.bureau_hz)
        assert (bad.value.status, bad.value.errors[0]["field"]) == (400, "year")
    assert ResultsReport.objects.filter(area=hz).count() == 1


# --- API ---------------------------------------------------------------------------------------------------------

def api(user, method: str, path: str, data=None):
    client = Client()
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    if method == "get":
        return client.get(API + path, data or {}, headers=headers)
    return getattr(client, method)(API + path, data or {}, content_type="application/json", headers=headers)


def test_api_round_trip(hz, trade):
    w = trade
    created = api(w.bureau_hz, "post", "/results-reports", {"area": HZ, "year": 2019})
    assert created.status_code == 201, created.content
    rid = created.json()["id"]
    assert api(w.bureau_hz, "post", "/results-reports", {"area": HZ, "year": 2019}).status_code == 409
    pulled = api(w.bureau_hz, "post", f"/results-reports/{rid}/pull-figures").json()
    exports = next(f for f in pulled["figures"] if f["code"] == "exports")
    assert Decimal(exports["value"]) == expected_sum(x_amount, HZ, 2019, range(1, 13))
    refused = api(w.bureau_hz, "post", f"/results-reports/{rid}/submit")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "narrative"
    assert api(w.bureau_hz, "patch", f"/results-reports/{rid}", {"narrative": "成效显著"}).status_code == 200
    assert api(w.bureau_hz, "post", f"/results-reports/{rid}/submit").json()["status"] == "submitted"
    bad = api(w.ministry, "post", f"/results-reports/{rid}/review", {"decision": "maybe"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "decision"
    assert api(w.ministry, "post", f"/results-reports/{rid}/review",
               {"decision": "approve"}).json()["status"] == "approved"
    listed = api(w.bureau_zj, "get", "/results-reports", {"year": 2019}).json()
    assert [r["id"] for r in listed["items"]] == [rid]  # Zhejiang reads Hangzhou's
    assert api(w.bureau_bj, "get", "/results-reports").json()["count"] == 0
    assert api(w.bureau_bj, "get", f"/results-reports/{rid}").status_code == 404


def test_api_errors_name_the_field(hz, trade):
    w = trade
    unknown = api(w.bureau_hz, "post", "/results-reports", {"area": "999999", "year": 2019})
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "area"
    missing = api(w.bureau_hz, "post", "/results-reports", {"area": HZ})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "year"


# --- pages and export --------------------------------------------------------------------------------------------

def test_report_page_and_xlsx_show_the_figures_and_narrative(hz, trade):
    from openpyxl import load_workbook

    w = trade
    report = results.create_report(hz, 2019, w.bureau_hz, narrative="数字贸易发展迅速。")
    results.pull_figures(report, w.bureau_hz)
    client = Client()
    client.force_login(w.ministry)
    page = client.get(reverse("governance:results_report", args=[report.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "数字贸易发展迅速。" in html and "分析库：exports，2019，地区 330100" in html
    response = client.get(reverse("governance:results_report_export", args=[report.pk]))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(response.content))
    rows = {r[0]: r for r in wb.worksheets[0].iter_rows(values_only=True) if r and r[0]}
    assert Decimal(str(rows["exports"][2])) == expected_sum(x_amount, HZ, 2019, range(1, 13))
    assert wb.worksheets[1]["A2"].value == "数字贸易发展迅速。"


def test_overview_shows_areas_by_year_within_the_scope(hz, bj, trade):
    w = trade
    report = results.create_report(hz, 2019, w.bureau_hz)
    client = Client()
    client.force_login(w.ministry)
    page = client.get(reverse("governance:results_reports"))
    assert page.status_code == 200
    html = page.content.decode()
    assert reverse("governance:results_report", args=[report.pk]) in html
    years, rows = results.overview(w.ministry, hz.round)
    assert years[:3] == [2018, 2019, 2020]
    assert len(rows) == PilotArea.objects.filter(round=hz.round).count()
    _years, mine = results.overview(w.bureau_bj, hz.round)
    assert [r.area for r in mine] == [bj]
    client.force_login(w.bureau_hz)
    opened = client.post(reverse("governance:results_report_create"), {"area": hz.pk, "year": 2020})
    assert opened.status_code == 302
    assert ResultsReport.objects.filter(area=hz, year=2020).exists()
    client.force_login(w.ent_hz)
    assert client.get(reverse("governance:results_reports")).status_code == 403


def test_adopted_elsewhere_is_shared_with_the_evaluation(hz, bj, trade):
    """The figure in the results report and `adopted_elsewhere` (read by the evaluation) are the same count."""
    case = _case(hz, "杭州经验", published=dt.datetime(2019, 5, 1, 10))
    Adoption.objects.create(case=case, area=bj, adopted_on=dt.date(2019, 9, 1))
    counts = experiences.adopted_elsewhere(hz.round, dt.date(2019, 12, 31))
    got = figures(results.compute_figures(hz, 2019))
    assert got["experiences_adopted_elsewhere"]["value"] == str(counts[hz.pk]) == "1"


def test_demo_opens_hangzhous_draft_for_the_latest_year_with_trade(hz, trade):
    """With trade in the store (2018–2020 here), the demo's live report is Hangzhou's draft for the latest year
    with trade and no report yet, its figures pulled through the service."""
    from tradepilot.governance.demo import DemoContext
    from tradepilot.governance.demo import results as demo

    ctx = DemoContext(round=hz.round, today=dt.date(2026, 11, 27))
    ctx.areas = {a.region.code: a for a in PilotArea.objects.filter(round=hz.round).select_related("region")}
    summary = demo.build(ctx)
    assert "杭州 2020 draft" in summary
    draft = ResultsReport.objects.get(area=hz, year=2020)
    assert draft.status == ReviewStatus.DRAFT and draft.figures_at is not None
    assert figures(draft.figures)["exports"]["value"] == str(expected_sum(x_amount, HZ, 2020, (1, 2, 3)))
    assert "同比" in draft.narrative
