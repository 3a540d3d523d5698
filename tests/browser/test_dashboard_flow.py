"""Issue 3's first promise, in a real browser: a report approved by a bureau appears in the national dashboard,
through the real task queue (django-tasks' database backend) and the worker's own task runner.

The worker runs in the test's thread between page loads: the test database is SQLite's shared-cache memory
database, whose table locks fail instead of waiting, so a worker thread writing while the live server reads
would make the test flaky. How fast the change shows with a worker process polling the queue is measured in
benchmarks/analytics_bench.py (commit → visible), not here."""

from __future__ import annotations

from decimal import Decimal

import pytest
from conftest import login

from tradepilot.analytics.tests.conftest import run_queued_tasks
from tradepilot.conftest import make_user
from tradepilot.core.models import Role
from tradepilot.reporting.models import MonthlyLine, Report, Status
from tradepilot.reporting.periods import Period

pytestmark = pytest.mark.browser


@pytest.fixture
def analytics_world(transactional_db, reference, settings, tmp_path, fixed_today):
    from tradepilot.analytics import store
    from tradepilot.core.demo_data import generate

    settings.ANALYTICS_ROOT = tmp_path / "analytics"
    generate(40, 14, seed=5, end_period=Period(2026, 9))
    store.rebuild()
    make_user("ministry", Role.MINISTRY)
    make_user("bureau-beijing", Role.BUREAU, region="110000")


def kpi(page, code: str) -> str:
    box = page.locator(f"#headline .kpi[data-code={code}] b")
    box.wait_for()
    return box.inner_text().strip()


def test_approved_report_reaches_the_national_dashboard(live_server, analytics_world, new_page, shots):
    report = (Report.objects.filter(status=Status.SUBMITTED, year=2026, month=9, is_current=True,
                                    enterprise__region__code="110000").first())
    assert report is not None
    added = sum(MonthlyLine.objects.filter(report=report, direction="X").values_list("usd_amount", flat=True),
                Decimal(0))
    assert added > 0

    ministry = new_page()
    login(ministry, live_server, "ministry")
    url = f"{live_server.url}/analytics/?period=2026-09"
    ministry.goto(url)
    before = kpi(ministry, "exports")
    ministry.locator("#panel-components table").first.wait_for(state="attached")
    ministry.screenshot(path=str(shots / "dashboard-national.png"), full_page=True)

    bureau = new_page()
    login(bureau, live_server, "bureau-beijing")
    bureau.goto(f"{live_server.url}/reporting/reports/{report.pk}/")
    with bureau.expect_navigation():
        bureau.click("#approve")
    report.refresh_from_db()
    assert report.status == Status.ACCEPTED

    # Until the worker has run, the dashboard shows the figure as it was; then it shows the approved report.
    ministry.goto(url)
    assert kpi(ministry, "exports") == before
    assert run_queued_tasks() >= 1
    ministry.goto(url)
    after = kpi(ministry, "exports")
    assert after != before, "the approval did not reach the dashboard"
    from tradepilot.analytics import queries
    from tradepilot.analytics.queries import Filter

    exports = queries.total(Filter(start=202609, end=202609, direction="X"))
    assert after.replace(",", "") == f"{exports / Decimal(1_000_000):.2f}"


def test_bureau_drills_down_and_downloads(live_server, analytics_world, new_page, shots):
    page = new_page()
    login(page, live_server, "bureau-beijing")
    page.goto(f"{live_server.url}/analytics/?period=2026-06")
    assert "北京" in page.locator(".crumbs").inner_text()
    page.locator("#panel-components details summary").click()
    table = page.locator("#panel-components table")
    table.wait_for()
    assert table.locator("tbody tr").count() > 0
    assert page.locator("#panel-components canvas").count() == 1
    with page.expect_download() as info:
        page.locator("#panel-components .downloads a", has_text="XLSX").click()
    assert info.value.suggested_filename == "components-2026-06.xlsx"
    page.screenshot(path=str(shots / "dashboard-bureau.png"), full_page=True)
    # Another province is out of the bureau's scope.
    response = page.goto(f"{live_server.url}/analytics/?region=330000")
    assert response.status == 404
    # English on request.
    page.goto(f"{live_server.url}/analytics/?period=2026-06")
    page.locator("form.lang button").click()
    page.wait_for_load_state()
    assert "Service trade dashboard" in page.locator("h1").inner_text()


def test_ministry_drills_down_through_the_tables(live_server, analytics_world, new_page):
    """National → province → pilot area by the tables' links (the charts' bars lead to the same pages)."""
    from tradepilot.analytics import queries
    from tradepilot.analytics.queries import Filter
    from tradepilot.core.models import PilotArea, Region

    def exports_of(**where) -> str:
        value = queries.total(Filter(start=202606, end=202606, direction="X", **where))
        return f"{value / Decimal(1_000_000):.2f}"

    def follow_link(panel: str, *, below_province: bool = False) -> str:
        """Follows the first row link of a panel's table (of a place below province level if asked)."""
        page.locator(f"#panel-{panel} details summary").click()
        page.locator(f"#panel-{panel} table a").first.wait_for()
        for link in page.locator(f"#panel-{panel} table a").all():
            code = link.get_attribute("href").rsplit("=", 1)[1]
            if not below_province or not code.endswith("0000"):
                with page.expect_navigation():
                    link.click()
                return code
        raise AssertionError(f"no suitable link in the {panel} panel")

    page = new_page()
    login(page, live_server, "ministry")
    national = f"{live_server.url}/analytics/?period=2026-06"
    page.goto(national)
    province = Region.objects.get(code=follow_link("regions"))
    assert province.level == Region.Level.PROVINCE
    assert page.locator(".crumbs").inner_text().split(" › ") == ["全国", province.name]
    assert kpi(page, "exports").replace(",", "") == exports_of(region_path=province.path)

    page.goto(national)
    area = PilotArea.objects.select_related("region").get(region__code=follow_link("pilot_areas", below_province=True))
    assert page.locator(".crumbs").inner_text().split(" › ") == ["全国", area.region.province.name, area.name]
    assert kpi(page, "exports").replace(",", "") == exports_of(pilot_areas=(area.region.code,))


BAR_PANELS = ("components", "partners", "regions", "pilot_areas", "modes", "registration", "fats_in", "fats_out")


def test_protected_charts_say_which_figures_are_withheld(live_server, analytics_world, new_page):
    """A withheld figure is no bar; its category says "(C)", and a table with nothing but "C" draws no chart."""
    page = new_page()
    login(page, live_server, "bureau-beijing")
    page.goto(f"{live_server.url}/analytics/?period=2026-06")
    marked = empty = 0
    for panel in BAR_PANELS:
        section = page.locator(f"#panel-{panel}")
        section.locator(".table-wrap > *").first.wait_for(state="attached")
        rows = section.locator(".table-wrap tbody tr")
        expected = []
        for i in range(rows.count()):
            row = rows.nth(i)
            label = row.locator("td").first.text_content()
            # The bars are the exports and imports columns (the first measure for the FATS tables).
            drawn = (1,) if panel.startswith("fats") else (1, 2)
            withheld = any("confidential" in (row.locator("td").nth(i).get_attribute("class") or "") for i in drawn)
            expected.append(f"{label} (C)" if withheld else label)
        labels = page.evaluate("""(name) => {
            const chart = echarts.getInstanceByDom(document.querySelector(`#panel-${name} .chart`));
            return chart ? chart.getOption().yAxis[0].data : null; }""", panel)
        if labels is None:  # no chart: the table is empty or every figure in it is withheld
            figures = section.locator(".table-wrap td.num")
            assert figures.count() == section.locator(".table-wrap td.confidential").count()
            if figures.count():
                assert section.locator(".chart .empty").text_content() == "本表所有数字均保密（C），不绘制图表。"
                empty += 1
            continue
        assert sorted(labels) == sorted(expected), panel
        marked += sum(label.endswith(" (C)") for label in labels)
    assert marked > 0 and empty > 0, "the test data (seed 5) withholds some figures and some whole tables"
