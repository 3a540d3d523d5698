from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.test import Client
from openpyxl import load_workbook

from tradepilot.analytics import disclosure, queries, tables
from tradepilot.analytics.dashboard import context_from_params, panel
from tradepilot.analytics.queries import Filter
from tradepilot.core.models import Role
from tradepilot.reporting.models import MonthlyLine, Status

pytestmark = pytest.mark.django_db

OFFICIAL = [Status.APPROVED, Status.ACCEPTED, Status.LOCKED]


@pytest.fixture
def users(trade):
    from tradepilot.conftest import make_user

    class U:
        ministry = make_user("m", Role.MINISTRY)
        bureau_zj = make_user("bzj", Role.BUREAU, region="330000")
        bureau_bj = make_user("bbj", Role.BUREAU, region="110000")
        agency = make_user("ag", Role.AGENCY)
        enterprise = make_user("ent", Role.ENTERPRISE)

    return U


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_headline_equals_orm(users):
    data = client_for(users.ministry).get("/api/v1/analytics/headline", {"period": "2026-06"}).json()
    values = {i["code"]: i["value"] for i in data["indicators"]}
    orm = MonthlyLine.objects.filter(report__year=2026, report__month=6, report__status__in=OFFICIAL,
                                     report__is_current=True)
    exports = orm.filter(direction="X").aggregate(v=Sum("usd_amount"))["v"]
    imports = orm.filter(direction="M").aggregate(v=Sum("usd_amount"))["v"]
    assert Decimal(values["exports"]) == exports
    assert Decimal(values["imports"]) == imports
    assert Decimal(values["balance"]) == exports - imports
    assert data["protected"] is False


def test_concentration_indicators_equal_a_computation_from_the_reports(users):
    """Top-10 share and HHI of Jan–Jun 2026 from the report lines, per enterprise, in Decimal."""
    data = client_for(users.ministry).get("/api/v1/analytics/headline", {"period": "2026-06"}).json()
    values = {i["code"]: i["value"] for i in data["indicators"]}
    per_enterprise = MonthlyLine.objects.filter(
        report__year=2026, report__month__lte=6, report__status__in=OFFICIAL, report__is_current=True,
    ).values("report__enterprise").annotate(v=Sum("usd_amount")).values_list("v", flat=True)
    amounts = sorted(per_enterprise, reverse=True)
    whole = sum(amounts, Decimal(0))
    assert len(amounts) > 10
    assert Decimal(values["top10_share"]) == (sum(amounts[:10], Decimal(0)) / whole * 100).quantize(Decimal("0.1"))
    hhi = sum(((a / whole * 100) ** 2 for a in amounts), Decimal(0))
    assert Decimal(values["hhi"]) == hhi.quantize(Decimal(1))


@pytest.mark.parametrize("cents, top10, hhi", [
    ([50, 30, 20], "100.0", "3800"),
    ([7], "100.0", "10000"),
    ([1] * 20, "50.0", "500"),
    ([], None, None),
    ([5, -5], None, None),
])
def test_concentration_of_known_shares(cents, top10, hhi):
    from tradepilot.analytics.indicators import concentration

    got = concentration(cents)
    assert got == {"top10_share": top10 and Decimal(top10), "hhi": hhi and Decimal(hhi)}


def test_bureau_sees_protected_tables_of_its_region_only(users):
    c = client_for(users.bureau_zj)
    data = c.get("/api/v1/analytics/panels/partners", {"period": "2026-06"}).json()
    assert data["protected"] is True
    # The bureau's figures are Zhejiang's: the table equals the query restricted to its subtree.
    zj = {cell.key: cell for cell in queries.cells(
        Filter(start=202601, end=202606, region_path="/330000/"), ["partner", "direction"])}
    for row in data["rows"]:
        for d, key in (("X", "exports"), ("M", "imports")):
            cell = zj.get((row["code"], d))
            if row[key] is not None and cell is not None:
                assert Decimal(row[key]) == cell.value
                assert cell.contributors >= 3, "a published cell has fewer than 3 contributors"
    assert c.get("/api/v1/analytics/panels/partners", {"region": "110000"}).status_code == 404
    assert c.get("/analytics/", {"region": "110000"}).status_code == 404


def test_no_published_cell_is_sensitive_or_recoverable(users):
    """Item 4 of the issue: a bureau's export never shows a cell with < 3 contributors nor a recoverable one."""
    ctx = context_from_params(users.bureau_zj, {"period": "2026-06"}, export=True)
    flt = ctx.filter.with_(start=202601, end=202606, direction=None)
    t = tables.two_way(flt, "component", "direction", protect=True)
    cells = {(c.key[0], c.key[1]): c for c in queries.cells(flt, ["component", "direction"])}
    stats = {k: disclosure.CellStat(c.value, c.contributors, c.largest) for k, c in cells.items()}
    rules = disclosure.rules_from_settings()
    for key, value in t.values.items():
        if value is not None:
            assert disclosure.primary_reason(stats[key], rules) is None, key
    rows = {c.key[0]: disclosure.CellStat(c.value, c.contributors, c.largest) for c in queries.cells(flt, ["component"])}
    cols = {c.key[0]: disclosure.CellStat(c.value, c.contributors, c.largest) for c in queries.cells(flt, ["direction"])}
    grand = queries.cells(flt, [])[0]
    assert t.suppressed, "Zhejiang has components with few enterprises: something must be suppressed"
    assert disclosure.recoverable(t.suppressed, stats, rows, cols,
                                  disclosure.CellStat(grand.value, grand.contributors, grand.largest)) == set()


def test_ministry_sees_values_but_downloads_are_protected(users):
    c = client_for(users.ministry)
    params = {"period": "2026-06", "region": "330000"}
    shown = c.get("/api/v1/analytics/panels/components", params).json()
    assert shown["protected"] is False and shown["suppressed"] == 0
    response = c.get("/analytics/download/components.csv", params)
    assert response.status_code == 200
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert any("C" in r[1:] for r in rows[2:] if r), "the download hides what the ministry's screen shows"
    xlsx = c.get("/analytics/download/components.xlsx", params)
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [row for row in sheet.iter_rows(min_row=3, values_only=True) if row and row[0]]
    assert any("C" in row[1:] for row in values)


def test_drill_down_national_province_city_and_pilot_area(users):
    c = client_for(users.ministry)
    national = c.get("/api/v1/analytics/panels/regions", {"period": "2026-06"}).json()
    assert {r["code"] for r in national["rows"]} >= {"110000", "330000"}
    province = c.get("/api/v1/analytics/panels/regions", {"period": "2026-06", "region": "330000"}).json()
    assert province["title"] == "分城市（新区）"  # the API speaks Chinese unless the user switched
    assert all(r["code"].startswith("33") for r in province["rows"])
    area = c.get("/api/v1/analytics/headline", {"period": "2026-06", "pilot_area": "330100"}).json()
    assert area["level"] == "pilot_area"
    hz = queries.total(Filter(start=202606, end=202606, pilot_areas=("330100",), direction="X"))
    assert Decimal(next(i["value"] for i in area["indicators"] if i["code"] == "exports")) == hz


def test_filters_change_the_figures(users):
    c = client_for(users.ministry)
    base = c.get("/api/v1/analytics/panels/components", {"period": "2026-06"}).json()
    only_sj = c.get("/api/v1/analytics/panels/components", {"period": "2026-06", "component": "SJ"}).json()
    assert [r["code"] for r in only_sj["rows"]] == ["SJ"]
    assert next(r for r in base["rows"] if r["code"] == "SJ")["exports"] == only_sj["rows"][0]["exports"]
    exports_only = c.get("/api/v1/analytics/panels/series", {"period": "2026-06", "mode": "1"}).json()
    assert exports_only["rows"][-1]["label"] == "2026-06"


@pytest.mark.parametrize(("params", "field"), [
    ({"period": "2026-13"}, "period"), ({"direction": "Q"}, "direction"), ({"component": "ZZ"}, "component"),
    ({"region": "999999"}, "region"), ({"start": "2026-06", "end": "2025-01"}, "start"),
    ({"stage": "preliminary"}, "stage"),
])
def test_bad_parameters_are_named(users, params, field):
    response = client_for(users.bureau_zj).get("/api/v1/analytics/headline", params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    page = client_for(users.bureau_zj).get("/analytics/", params)
    assert page.status_code == 400
    assert field in page.content.decode()


def test_preliminary_stage_for_the_ministry_counts_submitted_reports(users):
    c = client_for(users.ministry)
    official = c.get("/api/v1/analytics/headline", {"period": "2026-09"}).json()
    prelim = c.get("/api/v1/analytics/headline", {"period": "2026-09", "stage": "preliminary"}).json()

    def count(d):
        return Decimal(next(i["value"] for i in d["indicators"] if i["code"] == "enterprises"))

    assert count(prelim) > count(official)


def test_roles_without_dashboards(users):
    assert client_for(users.enterprise).get("/analytics/").status_code == 403
    assert client_for(users.enterprise).get("/api/v1/analytics/headline").status_code == 403
    assert client_for(users.agency).get("/api/v1/analytics/headline").json()["protected"] is True


def test_page_speaks_chinese_first_and_english_on_request(users):
    c = client_for(users.ministry)
    assert "服务贸易" in c.get("/analytics/").content.decode()
    c.post("/i18n/setlang/", {"language": "en", "next": "/analytics/"})
    assert "Service trade dashboard" in c.get("/analytics/").content.decode()


def test_every_panel_answers(users):
    ctx = context_from_params(users.ministry, {"period": "2026-06"})
    for name in ("series", "components", "services", "partners", "world", "regions", "pilot_areas", "pilot",
                 "modes", "registration"):
        p = panel(name, ctx)
        assert p.rows, name
        assert all(isinstance(v, (Decimal, int, str, type(None))) for r in p.rows for v in r.values()), name


def test_fats_panels_equal_the_annual_reports(users):
    from tradepilot.reporting.models import FatsInward, FatsOutwardAffiliate

    ctx = context_from_params(users.ministry, {"period": "2026-06"})
    inward = panel("fats_in", ctx)
    assert inward.note.startswith("Year 2025")
    records = FatsInward.objects.filter(report__year=2025, report__status__in=OFFICIAL, report__is_current=True)
    assert records.exists(), "the generator files inward FATS for foreign-invested enterprises"
    by_country: dict[str, Decimal] = {}
    for country, sales in records.values_list("ultimate_parent_country__alpha2", "services_sales"):
        by_country[country] = by_country.get(country, Decimal(0)) + sales
    top = sorted(by_country.items(), key=lambda kv: -kv[1])[:20]
    assert {r["code"]: r["services_sales"] for r in inward.rows} == dict(top)
    outward = panel("fats_out", ctx)
    employment = sum(FatsOutwardAffiliate.objects.filter(
        report__year=2025, report__status__in=OFFICIAL, report__is_current=True).values_list("employment", flat=True))
    assert sum(r["employment"] for r in outward.rows) <= employment
    assert outward.rows
