"""Bulk import of monthly lines from real CSV and XLSX files: dry run, commit all-or-nothing, idempotent re-upload."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import override_settings
from openpyxl import load_workbook

from tradepilot.core.models import AuditLog, Currency
from tradepilot.enterprises.uscc import make_uscc
from tradepilot.reporting import imports
from tradepilot.reporting.imports import FileError, commit, dry_run, read_rows, store_upload
from tradepilot.reporting.lines import ReferenceCache, parse_line
from tradepilot.reporting.models import ExchangeRate, ImportBatch, MonthlyLine, Report, ReportForm, Status
from tradepilot.reporting.periods import Period, today
from tradepilot.reporting.services import ReportError, content_hash, replace_lines
from tradepilot.reporting.spreadsheets import (
    export_report_csv,
    export_report_xlsx,
    monthly_template_csv,
    monthly_template_xlsx,
)

KEYS = ["uscc", "period", "direction", "service", "partner", "mode", "related_party", "amount", "currency", "note"]
ZH = ["统一社会信用代码", "报告期", "方向", "EBOPS代码", "伙伴国家/地区", "供应模式", "关联交易", "金额", "币种", "备注"]
TEMPLATE = [f"{zh} ({key})" for zh, key in zip(ZH, KEYS, strict=True)]


def current_period() -> Period:
    d = today()
    return Period(d.year, d.month)


@pytest.fixture(autouse=True)
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def env(world, rates):
    """The world plus exchange rates for the current month (the fixture only covers 2024–2026)."""
    p = current_period()
    if not ExchangeRate.objects.filter(year=p.year, month=p.month).exists():
        for code, v in {"USD": "7.1", "EUR": "7.7", "JPY": "0.048", "HKD": "0.91", "GBP": "9.0"}.items():
            ExchangeRate.objects.create(currency=Currency.objects.get(code=code), year=p.year, month=p.month,
                                        cny_per_unit=Decimal(v))
    world.period = str(p)
    world.form = ReportForm.objects.get(code="monthly")
    return world


def rows_for(w, period=None):
    period = period or w.period
    return [
        [w.bj.uscc, period, "X", "SI2", "US", "1", "N", "125000.50", "USD", ""],
        [w.bj.uscc, period, "X", "SJ1", "DEU", "1", "Y", "1,000.25", "EUR", "研发服务"],
        [w.bj.uscc, period, "M", "SI3", "JP", "4", "N", "2500000", "JPY", ""],
        [w.bj2.uscc, period, "M", "SF2", "HK", "2", "N", "88.80", "CNY", "保险"],
    ]


def write_csv(path: Path, header, rows, encoding="utf-8", bom=False) -> Path:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows([header, *rows])
    data = out.getvalue().encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def counts():
    return Report.objects.count(), MonthlyLine.objects.count(), AuditLog.objects.count()


def import_file(path, user, form="monthly"):
    batch = store_upload(path, user, form)
    preview = dry_run(batch, user)
    return batch, preview


def assert_committed(w):
    bj = Report.objects.get(enterprise=w.bj, year=int(w.period[:4]), month=int(w.period[5:]))
    lines = list(bj.lines.order_by("line_no").select_related("service", "partner", "currency"))
    assert [ln.line_no for ln in lines] == [1, 2, 3]
    assert [(ln.direction, ln.service.code, ln.partner.alpha2, ln.mode_id is not None) for ln in lines] == [
        ("X", "SI2", "US", True), ("X", "SJ1", "DE", True), ("M", "SI3", "JP", True)]
    assert lines[0].amount == Decimal("125000.50") and lines[0].usd_amount == Decimal("125000.50")
    assert lines[1].amount == Decimal("1000.25") and lines[1].related_party is True
    assert lines[1].usd_amount == (Decimal("1000.25") * Decimal("7.7") / Decimal("7.1")).quantize(Decimal("0.01"))
    assert lines[2].amount == Decimal("2500000.00")
    assert lines[2].usd_amount == (Decimal("2500000") * Decimal("0.048") / Decimal("7.1")).quantize(Decimal("0.01"))
    assert lines[1].note == "研发服务"
    assert bj.status == Status.DRAFT and bj.nil_return is False and bj.content_hash
    bj2 = Report.objects.get(enterprise=w.bj2)
    line = bj2.lines.get()
    assert line.amount == Decimal("88.80") and line.usd_amount == (Decimal("88.80") / Decimal("7.1")).quantize(
        Decimal("0.01"))
    assert line.note == "保险"
    return bj, bj2


# --- valid files ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("header,encoding,bom", [
    (KEYS, "utf-8", False),
    (TEMPLATE, "utf-8", True),
    (ZH, "gb18030", False),
    (list(reversed(TEMPLATE)), "utf-8", False),  # any column order
])
def test_valid_csv_dry_run_then_commit(env, tmp_path, header, encoding, bom):
    w = env
    rows = rows_for(w)
    if header[0] == TEMPLATE[-1]:
        rows = [list(reversed(r)) for r in rows]
    path = write_csv(tmp_path / "lines.csv", header, rows, encoding, bom)
    before = counts()
    batch, preview = import_file(path, w.bureau_bj)
    assert preview.errors == [] and preview.ok, preview.errors
    assert preview.rows == 4 and preview.reports_touched == 2 and preview.reports_unchanged == 0
    assert {(r.uscc, r.action, r.lines) for r in preview.reports} == {(w.bj.uscc, "create", 3),
                                                                      (w.bj2.uscc, "create", 1)}
    assert preview.totals["X"]["lines"] == 2 and preview.totals["M"]["lines"] == 2
    assert counts() == before  # a dry run writes no report data
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.PREVIEWED and batch.row_count == 4 and batch.report_count == 2

    summary = commit(batch, w.bureau_bj)
    assert (summary.reports_created, summary.reports_replaced, summary.lines_written) == (2, 0, 4)
    bj, _bj2 = assert_committed(w)
    entries = AuditLog.objects.filter(report=bj, action="update_lines:import")
    assert entries.count() == 1
    entry = entries.get()
    assert entry.changes["lines"] == [0, 3] and entry.reason == "import lines.csv"
    assert entry.changes["exports_usd"][1] == str(sum(ln.usd_amount for ln in bj.lines.filter(direction="X")))
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.COMMITTED and batch.committed_at and batch.summary["commit"]["lines_written"] == 4


def test_gb18030_file_with_chinese_text_is_read(env, tmp_path):
    w = env
    path = write_csv(tmp_path / "gb.csv", ZH, rows_for(w), "gb18030")
    assert b"\xb1\xa3\xcf\xd5" in path.read_bytes()  # 保险 in GB18030
    rows = list(read_rows(path))
    assert rows[3] == (5, dict(zip(KEYS, rows_for(w)[3], strict=True)))


def test_enterprise_user_imports_own_enterprise(env, tmp_path):
    w = env
    path = write_csv(tmp_path / "own.csv", KEYS, rows_for(w)[:3])
    batch, preview = import_file(path, w.ent_bj)
    assert preview.ok
    commit(batch, w.ent_bj)
    assert Report.objects.get(enterprise=w.bj).lines.count() == 3


def test_xlsx_filled_from_the_template(env, tmp_path):
    w = env
    wb = load_workbook(io.BytesIO(monthly_template_xlsx()))
    assert wb.sheetnames == ["数据", "说明", "代码表"]
    ws = wb["数据"]
    assert [c.value for c in ws[1]] == TEMPLATE
    ws.delete_rows(2)  # the example row
    for r in rows_for(w):
        r = list(r)
        r[5] = int(r[5])  # numbers as Excel stores them
        r[7] = float(r[7].replace(",", ""))
        ws.append(r)
    path = tmp_path / "filled.xlsx"
    wb.save(path)
    batch, preview = import_file(path, w.bureau_bj)
    assert preview.ok, preview.errors
    commit(batch, w.bureau_bj)
    assert_committed(w)


def test_xlsx_row_numbers_skip_blank_rows_and_locate_errors(env, tmp_path):
    w = env
    wb = load_workbook(io.BytesIO(monthly_template_xlsx()))
    ws = wb["数据"]
    rows = rows_for(w)
    ws.cell(row=2, column=1, value=rows[0][0])  # overwrite the example row: row 2
    for col, v in enumerate(rows[0], start=1):
        ws.cell(row=2, column=col, value=v)
    for col, v in enumerate(rows[1], start=1):  # rows 3-4 blank, row 5 bad
        ws.cell(row=5, column=col, value=v)
    ws.cell(row=5, column=4, value="SI")
    path = tmp_path / "gaps.xlsx"
    wb.save(path)
    assert [n for n, _v in read_rows(path)] == [2, 5]
    preview = dry_run(path, w.bureau_bj, "monthly")
    assert [(e.row, e.field, e.code) for e in preview.errors] == [(5, "service", "not_leaf")]


def test_template_sheets_have_codes_validations_and_instructions(reference):
    wb = load_workbook(io.BytesIO(monthly_template_xlsx()))
    ws = wb["数据"]
    assert [c.value for c in ws[2]][0] == imports.MONTHLY_SPEC.column("uscc").example
    formulas = {str(dv.sqref).split(":")[0]: dv.formula1 for dv in ws.data_validations.dataValidation}
    assert formulas["C2"] == '"X,M"' and formulas["F2"] == '"1,2,4"' and formulas["G2"] == '"Y,N"'
    assert "代码表" in formulas["D2"] and "代码表" in formulas["E2"] and "代码表" in formulas["I2"]
    codes = wb["代码表"]
    services = [r[0] for r in codes.iter_rows(min_row=2, max_col=1, values_only=True) if r[0]]
    assert "SI2" in services and "SI" not in services
    partners = [r[0] for r in codes.iter_rows(min_row=2, min_col=4, max_col=4, values_only=True) if r[0]]
    assert "US" in partners and "CN" not in partners
    text = "\n".join(str(r[0]) for r in wb["说明"].iter_rows(values_only=True) if r[0])
    assert text.index("金额须大于 0") < text.index("Amounts must be greater than zero")
    assert "次月10日" in text and "10th of the following month" in text


def test_template_csv_is_utf8_with_bom_and_round_trips_header(tmp_path):
    data = monthly_template_csv()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == TEMPLATE and len(rows) == 2


# --- idempotence, replacement, exports --------------------------------------------------------------------------

def test_reupload_same_content_changes_nothing(env, tmp_path):
    w = env
    path = write_csv(tmp_path / "a.csv", KEYS, rows_for(w))
    batch, _ = import_file(path, w.bureau_bj)
    commit(batch, w.bureau_bj)
    report = Report.objects.get(enterprise=w.bj)
    line_ids = list(MonthlyLine.objects.order_by("id").values_list("id", flat=True))
    before = counts()
    updated, version = report.updated, report.version

    # Same content, other order and other file name (and other formatting of the same amounts).
    rows = list(reversed(rows_for(w)))
    rows[2][7] = "1000.250"[:-1]  # "1000.25" without the thousands separator
    again = write_csv(tmp_path / "b.csv", ZH, rows, "gb18030")
    batch2, preview = import_file(again, w.bureau_bj)
    assert preview.ok and preview.reports_touched == 0 and preview.reports_unchanged == 2
    summary = commit(batch2, w.bureau_bj)
    assert (summary.reports_created, summary.reports_replaced, summary.reports_unchanged) == (0, 0, 2)
    assert counts() == before
    assert list(MonthlyLine.objects.order_by("id").values_list("id", flat=True)) == line_ids
    report.refresh_from_db()
    assert (report.updated, report.version) == (updated, version)


def test_changed_content_replaces_only_that_report(env, tmp_path):
    w = env
    batch, _ = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    commit(batch, w.bureau_bj)
    bj2_lines = list(MonthlyLine.objects.filter(report__enterprise=w.bj2).values_list("id", flat=True))
    rows = rows_for(w)
    rows[0][7] = "999.00"
    rows.append([w.bj.uscc, w.period, "M", "SD1", "GB", "1", "N", "10", "GBP", ""])
    batch, preview = import_file(write_csv(tmp_path / "b.csv", KEYS, rows), w.bureau_bj)
    assert {(r.uscc, r.action, r.old_lines, r.lines) for r in preview.reports} == {
        (w.bj.uscc, "replace", 3, 4), (w.bj2.uscc, "unchanged", 1, 1)}
    commit(batch, w.bureau_bj)
    report = Report.objects.get(enterprise=w.bj)
    assert report.lines.count() == 4 and report.lines.get(line_no=1).amount == Decimal("999.00")
    assert list(MonthlyLine.objects.filter(report__enterprise=w.bj2).values_list("id", flat=True)) == bj2_lines
    entry = AuditLog.objects.filter(report=report, action="update_lines:import").latest("id")
    assert entry.changes["lines"] == [3, 4]


def test_import_hash_matches_the_form_path(env, tmp_path):
    """Content imported from a file counts as unchanged when the form saves the same lines (one hash for both)."""
    w = env
    batch, _ = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    commit(batch, w.bureau_bj)
    report = Report.objects.get(enterprise=w.bj)
    ref = ReferenceCache()
    parsed = [parse_line(dict(zip(KEYS, r, strict=True)), ref, i)[0] for i, r in enumerate(rows_for(w)[:3])]
    assert report.content_hash == content_hash(False, reversed(parsed))
    assert replace_lines(report, parsed, w.ent_bj) is False


def test_export_round_trips(env, tmp_path):
    w = env
    batch, _ = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    commit(batch, w.bureau_bj)
    report = Report.objects.get(enterprise=w.bj)
    (tmp_path / "export.csv").write_bytes(export_report_csv(report))
    (tmp_path / "export.xlsx").write_bytes(export_report_xlsx(report))
    assert (tmp_path / "export.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    for name in ("export.csv", "export.xlsx"):
        preview = dry_run(tmp_path / name, w.bureau_bj, "monthly")
        assert preview.ok, preview.errors
        assert [(r.action, r.lines) for r in preview.reports] == [("unchanged", 3)]


# --- errors: located, and nothing saved -------------------------------------------------------------------------

def many_rows(w, n=50):
    return [[w.bj.uscc, w.period, "X", "SI2", "US", "1", "N", f"{100 + i}.00", "USD", ""] for i in range(n)]


BAD_CELLS = [
    ("service", "SX9", "unknown_service"),
    ("service", "SI", "not_leaf"),
    ("amount", "-5", "invalid_amount"),
    ("amount", "abc", "invalid_amount"),
    ("amount", "1.005", "invalid_amount"),
    ("currency", "XYZ", "unknown_currency"),
    ("partner", "CN", "domestic_partner"),
    ("mode", "3", "mode_not_in_report"),
    ("direction", "Q", "invalid_direction"),
    ("period", "2025-13", "invalid_period"),
    ("period", "2099-01", "future_period"),
    ("uscc", "123", "invalid_uscc"),
]


@pytest.mark.parametrize("field,value,code", BAD_CELLS)
def test_one_bad_cell_among_many_rows_is_located_and_nothing_is_saved(env, tmp_path, field, value, code):
    w = env
    rows = many_rows(w)
    rows[37][KEYS.index(field)] = value
    path = write_csv(tmp_path / "bad.csv", KEYS, rows)
    before = counts()
    batch, preview = import_file(path, w.bureau_bj)
    assert [(e.row, e.field, e.code) for e in preview.errors] == [(39, field, code)]
    assert preview.errors[0].message and preview.error_count == 1
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.INVALID and batch.errors[0]["row"] == 39
    with pytest.raises(ReportError) as exc:
        commit(batch, w.bureau_bj)
    assert exc.value.code == "invalid_batch"
    assert counts() == before


def file_errors(path, user):
    preview = dry_run(path, user, "monthly")
    assert not preview.ok
    return [(e.row, e.field, e.code) for e in preview.errors]


def test_missing_column_is_one_file_level_error(env, tmp_path):
    w = env
    header = [k for k in KEYS if k not in ("amount", "currency")]
    rows = [[c for k, c in zip(KEYS, r, strict=True) if k not in ("amount", "currency")] for r in rows_for(w)]
    preview = dry_run(write_csv(tmp_path / "m.csv", header, rows), w.bureau_bj, "monthly")
    assert [(e.row, e.field, e.code) for e in preview.errors] == [(None, "header", "missing_columns")]
    assert "amount" in preview.errors[0].message and "currency" in preview.errors[0].message


def test_optional_note_column_may_be_missing(env, tmp_path):
    w = env
    rows = [r[:-1] for r in rows_for(w)]
    assert dry_run(write_csv(tmp_path / "n.csv", KEYS[:-1], rows), w.bureau_bj, "monthly").ok


def test_unknown_column(env, tmp_path):
    w = env
    rows = [[*r, "x"] for r in rows_for(w)]
    errors = file_errors(write_csv(tmp_path / "u.csv", [*KEYS, "金额 amount"], rows), w.bureau_bj)
    assert errors == [(None, "header", "unknown_columns")]


def test_value_outside_the_header_is_located(env, tmp_path):
    w = env
    rows = rows_for(w)
    rows[1] = [*rows[1], "stray"]
    preview = dry_run(write_csv(tmp_path / "s.csv", KEYS, rows), w.bureau_bj, "monthly")
    assert [(e.row, e.field, e.code) for e in preview.errors] == [(3, "column 11", "extra_value")]


@pytest.mark.parametrize("content,code", [
    ("utf16", "encoding"),
    (b"\x00\x01\x02\x03garbage\xff\xfe\x00" * 50, "binary"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "not_spreadsheet"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "xls_format"),
    (b"PK\x03\x04" + os.urandom(300), "bad_xlsx"),
    (b"", "empty_file"),
    (b"\x81\x30\xff\xff\x80\x80 not text \xff", "encoding"),
])
def test_unreadable_files_give_a_file_level_error(env, tmp_path, content, code):
    w = env
    if content == "utf16":
        out = io.StringIO()
        csv.writer(out).writerows([KEYS, *rows_for(w)])
        content = out.getvalue().encode("utf-16")
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    before = counts()
    batch = store_upload(path, w.bureau_bj, "monthly")
    preview = dry_run(batch, w.bureau_bj)
    assert [(e.row, e.code) for e in preview.errors] == [(None, code)]
    assert preview.errors[0].message
    with pytest.raises(ReportError):
        commit(batch, w.bureau_bj)
    assert counts()[:2] == before[:2]


def test_header_only_and_blank_rows_only(env, tmp_path):
    w = env
    assert file_errors(write_csv(tmp_path / "h.csv", KEYS, []), w.bureau_bj) == [(None, "file", "no_rows")]
    assert file_errors(write_csv(tmp_path / "b.csv", KEYS, [[""] * 10, [" "] * 10]), w.bureau_bj) == [
        (None, "file", "no_rows")]


def test_bad_encoding_after_the_sniffed_head_is_a_located_error(env, tmp_path):
    w = env
    rows = many_rows(w, 3000)  # well over 64 KiB
    path = write_csv(tmp_path / "late.csv", KEYS, rows)
    lines = path.read_bytes().split(b"\r\n")
    lines[2500] = lines[2500][:-2] + b"\xff\xfe"  # row 2501 gets invalid bytes in its note
    path.write_bytes(b"\r\n".join(lines))
    assert len(b"\r\n".join(lines[:2500])) > imports.SNIFF_BYTES
    errors = [(e.row, e.code) for e in dry_run(path, w.bureau_bj, "monthly").errors]
    assert errors == [(2501, "encoding")]


def test_utf8_character_split_at_the_sniff_boundary(env, tmp_path):
    w = env
    prefix = ",".join(KEYS) + "\r\n"
    row = f"{w.bj.uscc},{w.period},X,SI2,US,1,N,1.00,USD,"
    body = prefix
    while len(body.encode()) < imports.SNIFF_BYTES - 200:
        body += row + "\r\n"
    pad = imports.SNIFF_BYTES - len(body.encode()) - len(row.encode()) - 1  # '研' starts one byte before 64 KiB
    body += row + "x" * pad + "研发\r\n"
    data = body.encode("utf-8")
    assert data[imports.SNIFF_BYTES - 1:imports.SNIFF_BYTES + 2] == "研".encode()
    path = tmp_path / "split.csv"
    path.write_bytes(data)
    assert imports.detect_encoding(data[:imports.SNIFF_BYTES], complete=False) == ("utf-8", 0)
    preview = dry_run(path, w.bureau_bj, "monthly")
    assert preview.ok, preview.errors[:3]


def test_oversized_upload_is_rejected_while_streaming(env, tmp_path, media):
    w = env
    path = write_csv(tmp_path / "big.csv", KEYS, many_rows(w, 100))
    with override_settings(TRADEPILOT_MAX_UPLOAD_BYTES=2048):
        with pytest.raises(ReportError) as exc:
            store_upload(path, w.bureau_bj, "monthly")
        assert exc.value.code == "too_large" and "MB" in exc.value.message
        # An upload object whose declared size lies is cut off while streaming, and its partial file removed.
        upload = SimpleUploadedFile("big.csv", path.read_bytes())
        upload.size = 10
        with pytest.raises(ReportError):
            store_upload(upload, w.bureau_bj, "monthly")
        assert [p for p in (media / "imports").iterdir()] == []
        assert file_errors(path, w.bureau_bj) == [(None, "file", "too_large")]
    assert ImportBatch.objects.count() == 0


def test_row_limit(env, tmp_path):
    w = env
    with override_settings(TRADEPILOT_MAX_IMPORT_ROWS=10):
        assert file_errors(write_csv(tmp_path / "r.csv", KEYS, many_rows(w, 11)), w.bureau_bj) == [
            (None, "file", "too_many_rows")]
        assert dry_run(write_csv(tmp_path / "s.csv", KEYS, many_rows(w, 10)), w.bureau_bj, "monthly").ok


def test_other_enterprise_and_unknown_enterprise_look_the_same(env, tmp_path):
    w = env
    rows = rows_for(w)[:1] * 3
    rows[1] = [w.hz.uscc, *rows[1][1:]]  # exists, but not in Beijing's scope
    rows[2] = [make_uscc("110000", 4242), *rows[2][1:]]  # valid code, no such enterprise
    before = counts()
    preview = dry_run(write_csv(tmp_path / "o.csv", KEYS, rows), w.bureau_bj, "monthly")
    assert [(e.row, e.field, e.code, e.message) for e in preview.errors] == [
        (3, "uscc", "unknown_enterprise", "Unknown enterprise or not yours."),
        (4, "uscc", "unknown_enterprise", "Unknown enterprise or not yours."),
    ]
    # An enterprise user may only import for their own enterprise.
    own = dry_run(write_csv(tmp_path / "p.csv", KEYS, rows_for(w)), w.ent_bj, "monthly")
    assert [(e.row, e.code) for e in own.errors] == [(5, "unknown_enterprise")]
    assert counts() == before


def test_uscc_formatting_noise_is_accepted(env, tmp_path):
    w = env
    rows = rows_for(w)
    rows[0][0] = " " + w.bj.uscc[:6] + "-" + w.bj.uscc[6:].lower()
    assert dry_run(write_csv(tmp_path / "f.csv", KEYS, rows), w.bureau_bj, "monthly").ok


def test_accepted_report_needs_a_revision(env, tmp_path):
    w = env
    p = current_period()
    Report.objects.create(enterprise=w.bj, form=w.form, year=p.year, month=p.month, status=Status.ACCEPTED)
    before = counts()
    preview = dry_run(write_csv(tmp_path / "acc.csv", KEYS, rows_for(w)), w.bureau_bj, "monthly")
    assert [(e.row, e.field, e.code) for e in preview.errors] == [(2, "period", "not_editable"),
                                                                  (3, "period", "not_editable"),
                                                                  (4, "period", "not_editable")]
    assert "revision" in preview.errors[0].message
    assert counts() == before


def test_locked_period_needs_a_lock_exception(env, tmp_path):
    w = env
    preview = dry_run(write_csv(tmp_path / "old.csv", KEYS, rows_for(w, "2024-01")[:1]), w.bureau_bj, "monthly")
    assert [(e.row, e.field, e.code) for e in preview.errors] == [(2, "period", "locked")]
    assert "lock exception" in preview.errors[0].message


def test_only_reporting_roles_may_import(env, tmp_path):
    w = env
    path = write_csv(tmp_path / "a.csv", KEYS, rows_for(w))
    for user in (w.auditor, w.agency):
        with pytest.raises(ReportError) as exc:
            store_upload(path, user, "monthly")
        assert exc.value.code == "forbidden"
        with pytest.raises(ReportError):
            dry_run(path, user, "monthly")
    assert dry_run(path, w.ministry, "monthly").ok


def test_errors_are_capped_but_all_counted(env, tmp_path):
    w = env
    rows = many_rows(w, 1500)
    for r in rows:
        r[7] = "-1"
    preview = dry_run(write_csv(tmp_path / "e.csv", KEYS, rows), w.bureau_bj, "monthly")
    assert preview.error_count == 1500 and len(preview.errors) == imports.MAX_SHOWN_ERRORS
    assert preview.errors[0].row == 2


# --- commit against a changed state -----------------------------------------------------------------------------

def test_commit_after_report_was_submitted_fails_and_saves_nothing(env, tmp_path):
    w = env
    batch, preview = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    assert preview.ok
    p = current_period()
    # Between preview and commit the enterprise creates and submits the report.
    report = Report.objects.create(enterprise=w.bj, form=w.form, year=p.year, month=p.month, status=Status.SUBMITTED)
    before = counts()
    with pytest.raises(ReportError) as exc:
        commit(batch, w.bureau_bj)
    assert exc.value.code == "invalid_lines"
    assert {(e["row"], e["code"]) for e in exc.value.errors} == {(2, "not_editable"), (3, "not_editable"),
                                                                 (4, "not_editable")}
    assert counts() == before and not report.lines.exists()
    assert not Report.objects.filter(enterprise=w.bj2).exists()  # the valid report was not written either
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.INVALID


def test_commit_twice_and_commit_by_another_user(env, tmp_path):
    w = env
    batch, _ = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    with pytest.raises(ReportError) as exc:
        commit(batch, w.ministry)
    assert exc.value.code == "forbidden"
    commit(batch, w.bureau_bj)
    before = counts()
    with pytest.raises(ReportError) as exc:
        commit(batch, w.bureau_bj)
    assert exc.value.code == "already_committed"
    assert counts() == before


def test_commit_of_an_unchecked_batch_is_refused(env, tmp_path):
    w = env
    batch = store_upload(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj, "monthly")
    with pytest.raises(ReportError) as exc:
        commit(batch, w.bureau_bj)
    assert exc.value.code == "invalid_batch"


def test_stored_file_is_named_by_its_hash(env, tmp_path, media):
    w = env
    path = write_csv(tmp_path / "a.csv", KEYS, rows_for(w))
    batch = store_upload(SimpleUploadedFile("我的报表.csv", path.read_bytes()), w.bureau_bj, "monthly")
    assert Path(batch.stored_path) == media / "imports" / f"{batch.sha256}.csv"
    assert batch.filename == "我的报表.csv" and batch.size == path.stat().st_size
    assert Path(batch.stored_path).read_bytes() == path.read_bytes()


def test_read_rows_raises_file_error_for_bad_header(env, tmp_path):
    w = env
    with pytest.raises(FileError):
        list(read_rows(write_csv(tmp_path / "x.csv", ["foo", "bar"], [["1", "2"]])))
    assert w


def test_random_bytes_are_refused(env, tmp_path):
    import random

    w = env
    for seed in range(5):
        path = tmp_path / f"random{seed}.csv"
        path.write_bytes(random.Random(seed).randbytes(4096))
        errors = file_errors(path, w.bureau_bj)
        assert len(errors) == 1 and errors[0][0] is None and errors[0][2] in {"binary", "encoding"}


def test_report_changed_after_an_unchanged_preview_is_written(env, tmp_path):
    """The preview found the report unchanged; it was edited before the commit: the commit writes the file."""
    w = env
    path = write_csv(tmp_path / "a.csv", KEYS, rows_for(w))
    batch, _ = import_file(path, w.bureau_bj)
    commit(batch, w.bureau_bj)
    batch2, preview = import_file(write_csv(tmp_path / "b.csv", KEYS, rows_for(w)), w.bureau_bj)
    assert preview.reports_unchanged == 2
    report = Report.objects.get(enterprise=w.bj)
    ref = ReferenceCache()
    edited = [parse_line(dict(zip(KEYS, rows_for(w)[0], strict=True)), ref, 1)[0]]
    assert replace_lines(report, edited, w.ent_bj) is True
    assert report.lines.count() == 1
    summary = commit(batch2, w.bureau_bj)
    assert (summary.reports_replaced, summary.reports_unchanged) == (1, 1)
    report.refresh_from_db()
    assert report.lines.count() == 3 and sorted(report.lines.values_list("line_no", flat=True)) == [1, 2, 3]
    assert AuditLog.objects.filter(report=report, action="update_lines:import").latest("id").changes["lines"] == [1, 3]


def test_report_created_after_a_create_preview_is_replaced(env, tmp_path):
    w = env
    batch, preview = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    assert {r.action for r in preview.reports} == {"create"}
    p = current_period()
    draft = Report.objects.create(enterprise=w.bj, form=w.form, year=p.year, month=p.month)
    summary = commit(batch, w.bureau_bj)
    assert (summary.reports_created, summary.reports_replaced) == (1, 1)
    assert Report.objects.filter(enterprise=w.bj).get() == draft and draft.lines.count() == 3


def test_memoised_parser_agrees_with_parse_line(env):
    """The import remembers parsed codes per combination; the result must be what parse_line says, row by row."""
    ref = ReferenceCache()
    parser = imports._LineParser(ref)
    header = imports._HeaderMap(imports.MONTHLY_SPEC, list(reversed(KEYS)))
    parser.bind(header)
    w = env
    base = dict(zip(KEYS, rows_for(w)[1], strict=True))
    variants = [{}, {"amount": "2.5"}, {"amount": "-1"}, {"amount": "1.234"}, {"amount": ""}, {"amount": 12.5},
                {"amount": "1e20"}, {"currency": "ZZZ"}, {"service": "SI"}, {"note": "x" * 301}, {"amount": "7"},
                {"partner": "usa", "amount": "3"}, {"related_party": "是", "amount": "0.1"}]
    for round_ in range(2):  # the second round hits the memo
        for i, change in enumerate(variants):
            raw = {**base, **change}
            expected, errors = parse_line(raw, ref, i)
            line, result = parser.parse(header.cells(i, [raw[k] for k in reversed(KEYS)]), i)
            if expected is None:
                assert line is None and result == errors, (round_, change)
            else:
                assert result == expected.amount
                assert line.key_prefix + repr(result) + line.key_suffix == repr(expected.key())
                assert (line.direction, line.service_id, line.partner_id, line.mode_id, line.related_party,
                        line.currency_id, line.note) == (
                    expected.direction, expected.service_id, expected.partner_id, expected.mode_id,
                    expected.related_party, expected.currency_id, expected.note)


def test_audit_entries_are_those_of_the_form_path(env, tmp_path):
    w = env
    batch, _ = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    commit(batch, w.bureau_bj)
    report = Report.objects.get(enterprise=w.bj)
    created, imported = AuditLog.objects.filter(report=report).order_by("id")
    for entry in (created, imported):
        assert (entry.object_type, entry.object_id, entry.object_repr) == ("reporting.report", str(report.pk),
                                                                           str(report))
        assert (entry.actor, entry.enterprise) == (w.bureau_bj, w.bj)
    assert (created.action, created.changes) == ("create", {"status": [None, "draft"]})
    assert imported.action == "update_lines:import" and imported.reason == "import a.csv"
    assert imported.changes["lines"] == [0, 3] and imported.changes["imports_usd"][0] == "0"


def test_gb18030_file_whose_chinese_text_comes_late(env, tmp_path):
    """The first 64 KiB are ASCII (valid in both encodings); the encoding is decided on the first Chinese text."""
    w = env
    rows = many_rows(w, 2000)
    rows[-1][9] = "技术服务费"
    path = write_csv(tmp_path / "late.csv", KEYS, rows, "gb18030")
    assert path.read_bytes()[:imports.SNIFF_BYTES].isascii()
    preview = dry_run(path, w.bureau_bj, "monthly")
    assert preview.ok, preview.errors
    assert list(read_rows(path))[-1][1]["note"] == "技术服务费"


def test_spreadsheet_cells_of_other_types_are_not_confused(env, tmp_path):
    """In a workbook, a mode of TRUE must not pass because a row with mode 1 was seen before (True == 1)."""
    from openpyxl import Workbook

    w = env
    wb = Workbook()
    ws = wb.active
    ws.append(KEYS)
    ws.append([w.bj.uscc, w.period, "X", "SI2", "US", 1, "N", 10.5, "USD", ""])
    ws.append([w.bj.uscc, w.period, "X", "SI2", "US", True, "N", 11.5, "USD", ""])
    path = tmp_path / "typed.xlsx"
    wb.save(path)
    preview = dry_run(path, w.bureau_bj, "monthly")
    assert [(e.row, e.field, e.code) for e in preview.errors] == [(3, "mode", "invalid_mode")]


def test_export_writes_large_amounts_as_text(env, tmp_path, monkeypatch):
    """A spreadsheet number keeps ~15 digits: above the limit the export writes the amount as text."""
    from tradepilot.reporting import spreadsheets

    w = env
    monkeypatch.setattr(spreadsheets, "EXACT_NUMBER_LIMIT", Decimal("1e6"))
    rows = rows_for(w)[:1]
    rows[0][7] = "1,234,567,890.12"
    batch, _ = import_file(write_csv(tmp_path / "big.csv", KEYS, rows), w.bureau_bj)
    commit(batch, w.bureau_bj)
    report = Report.objects.get(enterprise=w.bj)
    (tmp_path / "e.xlsx").write_bytes(export_report_xlsx(report))
    assert list(read_rows(tmp_path / "e.xlsx"))[0][1]["amount"] == "1234567890.12"
    preview = dry_run(tmp_path / "e.xlsx", w.bureau_bj, "monthly")
    assert [(r.action, r.lines) for r in preview.reports] == [("unchanged", 1)]


# --- the dry run's record of the rows (the commit reads it instead of the file) ----------------------------------

def test_commit_reads_the_dry_runs_record_not_the_file(env, tmp_path, monkeypatch):
    w = env
    batch, preview = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    assert preview.ok
    batch.refresh_from_db()
    record = Path(imports._record_path(batch))
    assert record.exists() and batch.summary["_rows"]

    def no_file_pass(self, path, writer=None, only=None):
        raise AssertionError("the commit read the file again")

    monkeypatch.setattr(imports._Scan, "run", no_file_pass)
    summary = commit(batch, w.bureau_bj)
    assert (summary.reports_created, summary.lines_written, summary.rows) == (2, 4, 4)
    bj, _bj2 = assert_committed(w)
    ref = ReferenceCache()
    parsed = [parse_line(dict(zip(KEYS, r, strict=True)), ref, i)[0] for i, r in enumerate(rows_for(w)[:3])]
    assert bj.content_hash == content_hash(False, parsed)
    assert not record.exists()
    batch.refresh_from_db()
    assert "_rows" not in batch.summary and batch.summary["commit"]["lines_written"] == 4


@pytest.mark.parametrize("damage", ["missing", "truncated", "other_bytes"])
def test_commit_without_a_usable_record_reads_the_file(env, tmp_path, damage):
    w = env
    batch, preview = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    assert preview.ok
    record = Path(imports._record_path(batch))
    data = record.read_bytes()
    if damage == "missing":
        record.unlink()
    elif damage == "truncated":
        record.write_bytes(data[:-5])
    else:
        record.write_bytes(data[:8] + bytes([data[8] ^ 1]) + data[9:])
    summary = commit(batch, w.bureau_bj)
    assert (summary.reports_created, summary.lines_written) == (2, 4)
    assert_committed(w)


def test_record_and_file_give_the_same_lines_hashes_and_totals(env, tmp_path):
    w = env
    rows = rows_for(w) * 3
    with transaction.atomic():  # rolled back below, so that the second import starts from the same state
        first, _ = import_file(write_csv(tmp_path / "a.csv", KEYS, rows), w.bureau_bj)
        assert Path(imports._record_path(first)).exists()
        via_record = commit(first, w.bureau_bj)
        got = {r.enterprise_id: (r.content_hash, list(r.lines.order_by("line_no").values_list(
            "line_no", "direction", "service_id", "partner_id", "mode_id", "related_party", "amount", "currency_id",
            "usd_amount", "note"))) for r in Report.objects.filter(enterprise__in=[w.bj, w.bj2])}
        transaction.set_rollback(True)
    assert not Report.objects.filter(enterprise__in=[w.bj, w.bj2]).exists()
    second, _ = import_file(write_csv(tmp_path / "b.csv", KEYS, rows), w.bureau_bj)
    Path(imports._record_path(second)).unlink()
    via_file = commit(second, w.bureau_bj)
    assert via_file.totals == via_record.totals and via_file.lines_written == via_record.lines_written == 12
    again = {r.enterprise_id: (r.content_hash, list(r.lines.order_by("line_no").values_list(
        "line_no", "direction", "service_id", "partner_id", "mode_id", "related_party", "amount", "currency_id",
        "usd_amount", "note"))) for r in Report.objects.filter(enterprise__in=[w.bj, w.bj2])}
    assert again == got


def test_commit_after_enterprise_was_deactivated_locates_the_errors(env, tmp_path):
    w = env
    batch, preview = import_file(write_csv(tmp_path / "a.csv", KEYS, rows_for(w)), w.bureau_bj)
    assert preview.ok and Path(imports._record_path(batch)).exists()
    w.bj2.is_active = False
    w.bj2.save()
    before = counts()
    with pytest.raises(ReportError) as exc:
        commit(batch, w.bureau_bj)
    assert exc.value.code == "invalid_lines"
    assert {(e["row"], e["code"]) for e in exc.value.errors} == {(5, "inactive")}
    assert counts() == before
    batch.refresh_from_db()
    assert batch.state == ImportBatch.State.INVALID and not Path(imports._record_path(batch)).exists()


def test_dry_run_with_errors_keeps_no_record(env, tmp_path):
    w = env
    rows = rows_for(w)
    rows[1][7] = "abc"
    batch, preview = import_file(write_csv(tmp_path / "a.csv", KEYS, rows), w.bureau_bj)
    assert not preview.ok
    batch.refresh_from_db()
    assert "_rows" not in batch.summary and not Path(imports._record_path(batch)).exists()
    assert [p.name for p in Path(batch.stored_path).parent.iterdir()] == [Path(batch.stored_path).name]
