"""The monthly bulletin: figures equal the database, HTML = XLSX, the PDF renders, nothing sensitive is published."""

from __future__ import annotations

import io
import re
import zlib
from decimal import Decimal
from html import unescape

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from tradepilot.analytics import bulletin, disclosure, indicators, queries
from tradepilot.analytics.queries import Filter
from tradepilot.core.models import Role
from tradepilot.reporting.models import MonthlyLine, Status

URL = "/analytics/bulletin/"
OFFICIAL = [Status.APPROVED, Status.ACCEPTED, Status.LOCKED]
ZJ = "/330000/"


@pytest.fixture
def users(trade):
    from tradepilot.conftest import make_user

    class U:
        ministry = make_user("m", Role.MINISTRY)
        bureau_zj = make_user("bzj", Role.BUREAU, region="330000")
        bureau_hebei = make_user("bhe", Role.BUREAU, region="130000")   # one reporting enterprise in the data
        enterprise = make_user("ent", Role.ENTERPRISE)

    return U


def client_for(user, language: str | None = None) -> Client:
    c = Client()
    c.force_login(user)
    if language:
        c.post("/i18n/setlang/", {"language": language, "next": "/"})
    return c


def html_tables(html: str) -> dict[str, list[list[str]]]:
    """Section name → rows of cell texts (the header row first)."""
    out = {}
    for m in re.finditer(r'<section class="bl-table" id="bl-(\w+)">(.*?)</section>', html, re.S):
        out[m.group(1)] = [
            [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(2), re.S)]
    return out


def xlsx_numbers(content: bytes) -> set[Decimal]:
    wb = load_workbook(io.BytesIO(content))
    return {Decimal(str(v)).quantize(Decimal("0.01")) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
            for v in row if isinstance(v, (int, float)) and not isinstance(v, bool)}


def pdf_objects(pdf: bytes) -> list[bytes]:
    """The file and its compressed streams, unpacked (no PDF library needed)."""
    texts = [pdf]
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            texts.append(zlib.decompress(m.group(1)))
        except zlib.error:
            pass
    return texts


def pdf_pages(pdf: bytes) -> int:
    """Page objects, also inside compressed object streams."""
    return sum(len(re.findall(rb"/Type\s*/Page\b", t)) for t in pdf_objects(pdf))


def orm_month(region_path: str, year: int, month: int, direction: str) -> Decimal:
    return MonthlyLine.objects.filter(
        report__year=year, report__month=month, report__status__in=OFFICIAL, report__is_current=True,
        report__enterprise__region__path__startswith=region_path, direction=direction,
    ).aggregate(v=Sum("usd_amount"))["v"] or Decimal(0)


@pytest.mark.django_db
def test_html_and_xlsx_headline_equal_the_database(users):
    c = client_for(users.bureau_zj, "en")
    response = c.get(URL, {"period": "2026-06"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Service trade bulletin, Zhejiang, June 2026" in html

    expected = indicators.headline(Filter(region_path=ZJ), 202606)
    assert expected["exports"] == orm_month(ZJ, 2026, 6, "X") > 0
    assert expected["imports"] == orm_month(ZJ, 2026, 6, "M") > 0
    assert expected["ytd_exports"] == sum((orm_month(ZJ, 2026, m, "X") for m in range(1, 7)), Decimal(0))

    def text(code):
        value, unit = expected[code], indicators.INDICATORS[code].unit
        return {"USD": f"{value:,.2f}", "%": f"{value:,.1f}"}.get(unit, f"{value:,.0f}")

    shown = html_tables(html)
    assert [row[1:] for row in shown["headline"][1:]] == [
        [text("exports"), text("yoy_exports"), text("ytd_exports"), text("yoy_ytd_exports")],
        [text("imports"), text("yoy_imports"), text("ytd_imports"), text("yoy_ytd_imports")],
        [text("total"), text("yoy_total"), text("ytd_total"), text("yoy_ytd_total")],
        [text("balance"), "—", text("ytd_balance"), "—"]]
    assert [row[1] for row in shown["other"][1:]] == [text(code) for code in bulletin.OTHER_FIGURES]
    # The words say the same as the table.
    assert f"exports of services from Zhejiang were USD {expected['exports'] / 10 ** 6:,.2f} million" in html
    change = expected["yoy_exports"]
    assert f"{'up' if change > 0 else 'down'} {abs(change)}% year on year" in html
    assert "<svg" in html and "<script" not in html.split('class="bl')[1]

    xlsx = c.get(URL, {"period": "2026-06", "format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Disposition"] == 'attachment; filename="bulletin-330000-2026-06.xlsx"'
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert len(wb.sheetnames) == 1 + len(html_tables(html))
    cover = {row[3].value: row[1] for row in wb.worksheets[0].iter_rows(min_row=2) if row[3].value in expected}
    assert set(cover) == set(bulletin.FIGURES)
    html_text = {code: text(code) for code in bulletin.FIGURES}
    for code, cell in cover.items():
        unit = indicators.INDICATORS[code].unit
        assert Decimal(str(cell.value)).quantize(Decimal("0.01")) == expected[code], code
        formatted = {"USD": f"{Decimal(str(cell.value)):,.2f}", "%": f"{Decimal(str(cell.value)):,.1f}"}.get(
            unit, f"{Decimal(str(cell.value)):,.0f}")
        assert formatted == html_text[code], code
        if unit == "USD":
            assert cell.number_format == "#,##0.00"
    # Zhejiang's small components are confidential in the spreadsheet as on the page.
    components = wb.worksheets[1 + list(html_tables(html)).index("components")]
    assert any(v == "C" for row in components.iter_rows(values_only=True) for v in row)
    assert any(row[1] == "C" for row in shown["components"][1:])


@pytest.mark.django_db
def test_pdf(users):
    c = client_for(users.bureau_zj)
    response = c.get(URL, {"period": "2026-06", "format": "pdf"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="bulletin-330000-2026-06.pdf"'
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 15_000
    assert pdf_pages(pdf) >= 2
    if _cjk_font_installed():  # .ci/run installs one; without it the Chinese shows as empty boxes
        fonts = b" ".join(m for t in pdf_objects(pdf) for m in re.findall(rb"/FontName\s*/\S+", t))
        assert re.search(rb"WenQuanYi|Noto|SourceHan|Source", fonts), f"no CJK font embedded: {fonts[:200]!r}"


def _cjk_font_installed() -> bool:
    import shutil
    import subprocess

    if shutil.which("fc-list") is None:
        return False
    return bool(subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip())


def _sensitive(stat: queries.Cell) -> bool:
    rules = disclosure.rules_from_settings()
    return disclosure.primary_reason(disclosure.CellStat(stat.value, stat.contributors, stat.largest), rules) is not None


@pytest.mark.django_db
def test_a_bureau_bulletin_never_shows_a_sensitive_cell(users):
    with translation.override("zh-hans"):   # the page's language
        b = bulletin.build(users.bureau_zj, {"period": "2026-06"})
    html = client_for(users.bureau_zj).get(URL, {"period": "2026-06"}).content.decode()
    xlsx = client_for(users.bureau_zj).get(URL, {"period": "2026-06", "format": "xlsx"}).content
    shown = html_tables(html)
    published_numbers = xlsx_numbers(xlsx)

    ytd = Filter(start=202601, end=202606, region_path=ZJ)
    dims = {"components": "component", "partners": "partner", "regions": "city", "pilot": "is_pilot"}
    checked = sensitive = 0
    for section in b.sections:
        # The page shows exactly the bulletin's tables.
        assert shown[section.name][1:] == [[r.label, *(c.text for c in r.cells)] for r in section.rows]
        dim = dims[section.name]
        inner = {(c.key[0], c.key[1]): c for c in queries.cells(ytd, [dim, "direction"])}
        rows = {c.key[0]: c for c in queries.cells(ytd, [dim])}
        for row in section.rows:
            if row.total:
                continue
            for figure, cell in ((row.cells[0], inner.get((row.code, "X"))), (row.cells[1], inner.get((row.code, "M"))),
                                 (row.cells[2], rows.get(row.code))):
                if figure.confidential:
                    continue
                checked += 1
                if cell is None:
                    assert figure.value == 0
                else:
                    assert figure.value == cell.value
                    assert cell.contributors >= 3, (section.name, row.code)
                    assert not _sensitive(cell), (section.name, row.code)
        # And no sensitive figure appears anywhere on the page or in the spreadsheet.
        for cell in [*inner.values(), *rows.values()]:
            if _sensitive(cell) and cell.value:
                sensitive += 1
                assert f">{cell.value:,.2f}<" not in html, (section.name, cell.key)
                assert cell.value not in published_numbers, (section.name, cell.key)
    months = Filter(start=202506, end=202606, region_path=ZJ)
    for cell in queries.cells(months, ["period", "direction"]) + queries.cells(months, ["period"]):
        if _sensitive(cell) and cell.value:
            sensitive += 1
            assert f">{cell.value:,.2f}<" not in html and cell.value not in published_numbers
    assert checked > 10 and sensitive > 3, "the check must look at published and at sensitive cells"


@pytest.mark.django_db
def test_headline_of_a_region_failing_the_rules_is_withheld_even_for_the_ministry(users):
    hebei = Filter(region_path="/130000/")
    month = queries.cells(hebei.with_(start=202606, end=202606), ["direction"])
    assert month and all(c.contributors < 3 for c in month), "test data: Hebei has one reporting enterprise"
    exports = next(c.value for c in month if c.key == ("X",))
    for user, params in ((users.bureau_hebei, {"period": "2026-06"}),
                         (users.ministry, {"period": "2026-06", "region": "130000"})):
        c = client_for(user, "en")
        html = c.get(URL, params).content.decode()
        headline = html_tables(html)["headline"]
        assert all(cell == "C" for row in headline[1:] for cell in row[1:] if cell != "—"), headline
        assert f"{exports:,.2f}" not in html
        assert f"USD {exports / 10 ** 6:,.2f} million" not in html
        assert "are confidential" in html
        wb = load_workbook(io.BytesIO(c.get(URL, {**params, "format": "xlsx"}).content))
        cover = {row[3]: row[1] for row in wb.worksheets[0].iter_rows(values_only=True) if len(row) > 3}
        assert cover["exports"] == "C" and cover["ytd_imports"] == "C"
        assert exports not in xlsx_numbers(c.get(URL, {**params, "format": "xlsx"}).content)


@pytest.mark.django_db
def test_scope_roles_and_bad_parameters(users):
    bureau = client_for(users.bureau_zj)
    assert bureau.get(URL, {"region": "110000"}).status_code == 404
    assert bureau.get(URL, {"region": "110000", "format": "pdf"}).status_code == 404
    for fmt in ("html", "xlsx"):
        response = bureau.get(URL, {"period": "2026-13", "format": fmt})
        assert response.status_code == 400
        assert "period" in response.content.decode()
    response = bureau.get(URL, {"period": "2026-06", "format": "docx"})
    assert response.status_code == 400 and "format" in response.content.decode()
    response = bureau.get(URL, {"region": "999999"})
    assert response.status_code == 400 and "region" in response.content.decode()
    assert client_for(users.enterprise).get(URL).status_code == 403
    assert Client().get(URL).status_code == 302   # to the login page


def test_svg_charts_scale_values_and_mark_confidential_ones():
    svg = bulletin.column_chart(["2026-05", "<b>"], [("Exports", [Decimal("1000000"), Decimal("2000000")]),
                                                    ("Imports", [None, Decimal("500000")])])
    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)]
    bars = [h for h in heights if h != 10]   # legend swatches are 10 × 10
    assert len(bars) == 3
    assert bars[1] == pytest.approx(2 * bars[0], rel=0.01) and bars[2] == pytest.approx(bars[0] / 2, rel=0.01)
    assert ">C</text>" in svg and "&lt;b&gt;" in svg and "<b>" not in svg
    assert bulletin._axis_top(1.5) == 2.0 and bulletin._axis_top(0.42) == pytest.approx(0.8)
    bars_svg = bulletin.bar_chart(["SC", "SD"], [("Exports", [Decimal("3000000"), None])])
    assert bars_svg.count(">C</text>") == 1


@pytest.mark.django_db
def test_a_figure_withheld_in_one_table_is_withheld_everywhere(users, monkeypatch):
    """Tables share figures (the month in the chart, the year-to-date margins): one withholding hides them all."""
    from tradepilot.analytics import dashboard, tables

    panel_series, two_way = dashboard.panel_series, tables.two_way

    def series_missing_last_year(ctx):
        panel = panel_series(ctx)
        panel.rows[0]["exports"] = None     # as if June 2025's exports had to be suppressed
        return panel

    monkeypatch.setattr(dashboard, "panel_series", series_missing_last_year)
    b = bulletin.build(users.bureau_zj, {"period": "2026-06"})
    assert all(b.figures[code].confidential for code in ("exports", "imports", "balance", "yoy_exports"))
    assert not b.figures["ytd_exports"].confidential
    assert "are confidential" in b.lead[0] and "million" in b.lead[1]
    monkeypatch.setattr(dashboard, "panel_series", panel_series)

    def pilot_table_missing_a_margin(flt, row_dim, col_dim, **kwargs):
        t = two_way(flt, row_dim, col_dim, **kwargs)
        if row_dim == "is_pilot":
            t.suppressed[("col", "X")] = disclosure.SECONDARY
            t.col_totals["X"] = None
        return t

    monkeypatch.setattr(tables, "two_way", pilot_table_missing_a_margin)
    b = bulletin.build(users.bureau_zj, {"period": "2026-06"})
    assert not b.figures["exports"].confidential
    assert all(b.figures[code].confidential for code in ("ytd_exports", "ytd_imports", "ytd_total", "pilot_share"))
    for section in b.sections:
        for row in section.rows:
            if row.total:
                assert all(c.confidential for c in row.cells), section.name
