"""The enterprise registry and the bulk upload in a real browser."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

import pytest
from conftest import OPEN_PERIOD, login
from openpyxl import load_workbook

from tradepilot.enterprises.models import Enterprise
from tradepilot.enterprises.uscc import ALPHABET, make_uscc
from tradepilot.reporting.imports import MONTHLY_SPEC
from tradepilot.reporting.models import ImportBatch, MonthlyLine, Report, Status

pytestmark = pytest.mark.browser


def full_width(text: str) -> str:
    """ASCII letters and digits as their full-width forms (what a Chinese IME types)."""
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def messy(code: str) -> str:
    """The code as a person might paste it: groups separated by spaces, lower case, partly full-width."""
    groups = [code[:2], code[2:8], code[8:17], code[17:]]
    return "  " + " ".join([groups[0], full_width(groups[1]), groups[2].lower(), full_width(groups[3].lower())]) + " "


def register(page, live_server, uscc: str, name: str, region: str = "110000"):
    page.goto(f"{live_server.url}/enterprises/new/")
    form = page.locator("#enterprise-form")
    form.locator("input[name=uscc]").fill(uscc)
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=region]").select_option(region)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_ministry_registers_enterprise_with_messy_code(transactional_db, live_server, world, page):
    code = make_uscc("110000", 4242)
    typed = messy(code)
    assert typed != code and typed.strip().upper() != code  # really messy (spaces, full-width, lower case)
    login(page, live_server, "ministry")

    register(page, live_server, typed, "北京测试登记有限公司")
    enterprise = Enterprise.objects.get(name="北京测试登记有限公司")
    assert enterprise.uscc == code
    assert page.url.endswith(f"/enterprises/{enterprise.pk}/")
    assert page.locator("dl.props dd code").first.inner_text().strip() == code

    # A typo in the check character: the specific reason is shown, the input kept, and nothing saved.
    wrong = code[:17] + next(c for c in ALPHABET if c != code[17])
    register(page, live_server, wrong, "北京校验位错误有限公司")
    assert page.url.endswith("/enterprises/new/")
    error = page.locator("#uscc-error")
    assert re.search(r"check character \(the 18th\)|校验", error.inner_text())
    assert page.locator("input[name=uscc]").input_value() == wrong
    assert page.locator("input[name=name]").input_value() == "北京校验位错误有限公司"
    assert not Enterprise.objects.filter(name="北京校验位错误有限公司").exists()
    assert not Enterprise.objects.filter(uscc=wrong).exists()

    # Another failing rule reports its own reason: the same code one character short.
    register(page, live_server, code[:17], "北京长度错误有限公司")
    assert re.search(r"18 characters; it has 17|17", page.locator("#uscc-error").inner_text())
    assert not Enterprise.objects.filter(name="北京长度错误有限公司").exists()


def csv_bytes(rows: list[list[str]]) -> bytes:
    header = ",".join(c.header for c in MONTHLY_SPEC.columns)
    lines = [header] + [",".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("gb18030")


def upload(page, live_server, name: str, content: bytes):
    page.goto(f"{live_server.url}/reporting/imports/")
    page.locator("#upload-form input[type=file]").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": content})
    with page.expect_navigation():
        page.locator("#upload-form button[type=submit]").click()
    assert re.search(r"/reporting/imports/\d+/$", page.url), page.url


def test_enterprise_downloads_template_and_uploads_gb18030_csv(transactional_db, live_server, world, rates,
                                                               fixed_today, page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    login(page, live_server, "enterprise-bj")

    with page.expect_download() as info:
        page.locator("a[href$='/reporting/templates/monthly.xlsx']").first.click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    workbook = load_workbook(saved, read_only=True)
    assert workbook.sheetnames  # a real workbook

    uscc = world.bj.uscc
    note = "北京—东京 软件外包（第一期）"
    good = csv_bytes([
        [uscc, OPEN_PERIOD, "X", "SI2", "US", "1", "N", "120000.50", "USD", note],
        [uscc, OPEN_PERIOD, "出口", "SJ2", "JPN", "4", "Y", "3000000", "JPY", ""],
        [uscc, OPEN_PERIOD, "M", "SC1", "HK", "1", "N", "88000", "HKD", "海运费"],
    ])
    assert good.decode("gb18030") and not good.startswith(b"\xef\xbb\xbf")
    try:
        good.decode("utf-8")
        pytest.fail("the file must not be valid UTF-8, or the GB18030 path is not exercised")
    except UnicodeDecodeError:
        pass

    upload(page, live_server, "月报-北京.csv", good)
    assert page.locator("#error-count").inner_text().strip() == "0"
    assert page.locator("#import-errors").count() == 0
    assert page.locator(".kpi", has_text=re.compile("Rows|行")).locator("b").inner_text().strip() == "3"
    assert not Report.objects.filter(enterprise=world.bj).exists()  # the preview writes nothing

    page.on("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#commit")
    assert page.locator("#commit").count() == 0
    assert page.locator(".callout.ok").count() == 1
    batch = ImportBatch.objects.get(user=world.ent_bj)
    assert batch.state == "committed"

    report = Report.objects.get(enterprise=world.bj, year=2026, month=9, is_current=True)
    assert report.status == Status.DRAFT
    lines = list(report.lines.order_by("line_no").select_related("service", "partner", "currency"))
    assert [(x.direction, x.service.code, x.partner.alpha2, x.mode.code, x.related_party, x.amount,
             x.currency.code, x.note) for x in lines] == [
        # Free text is NFKC-normalised like every other cell (full-width brackets become ASCII ones).
        ("X", "SI2", "US", "1", False, Decimal("120000.50"), "USD", unicodedata.normalize("NFKC", note)),
        ("X", "SJ2", "JP", "4", True, Decimal("3000000.00"), "JPY", ""),
        ("M", "SC1", "HK", "1", False, Decimal("88000.00"), "HKD", "海运费"),
    ]
    assert all(x.usd_amount is not None for x in lines)
    before = sorted(MonthlyLine.objects.values_list("pk", "amount", "service__code"))
    report_count = Report.objects.count()

    # A malformed file: an unknown EBOPS code on spreadsheet row 3 (the header is row 1).
    bad = csv_bytes([
        [uscc, OPEN_PERIOD, "X", "SI2", "US", "1", "N", "999999", "USD", "改过的金额"],
        [uscc, OPEN_PERIOD, "X", "SZ9", "US", "1", "N", "5000", "USD", "错误代码"],
    ])
    upload(page, live_server, "月报-错误.csv", bad)
    assert page.locator("#commit").count() == 0
    assert page.locator("#error-count").inner_text().strip() == "1"
    errors = page.locator("#import-errors tbody tr")
    assert errors.count() == 1
    cells = [c.strip() for c in errors.first.locator("td").all_inner_texts()]
    assert cells[0] == "3"
    assert cells[1] == "service"
    assert cells[2] == "SZ9"
    assert "SZ9" in cells[3]
    assert ImportBatch.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1])).state == "invalid"
    assert sorted(MonthlyLine.objects.values_list("pk", "amount", "service__code")) == before
    assert Report.objects.count() == report_count
