"""Bulk import of report lines from a CSV or XLSX file: upload → dry-run preview → commit all-or-nothing.

The flow:

1. `store_upload(file, user, form)` streams the upload to `MEDIA_ROOT/imports/<sha256><ext>` (enforcing the
   size limit while streaming) and creates an `ImportBatch`.
2. `dry_run(batch, user)` reads the stored file once, validates every row and returns a `Preview`: every error
   located as (row, field, value, code, message), the reports the file would create, replace or leave unchanged,
   and totals. The batch becomes *previewed* (no errors) or *invalid*.
3. `commit(batch, user)` does it for real, in one transaction: it validates again (the state may have changed
   since the preview), then writes. Any error and nothing is written.

Rows are grouped by (uscc, period): one group is the whole content of one report, which replaces the report's
lines. A group whose content equals the report's current content is skipped (no audit entry, no change), so
uploading the same file twice changes nothing the second time.

Memory stays flat however long the file is: rows are streamed (CSV line by line, XLSX through openpyxl's
read-only mode) in blocks of a few thousand and never held beyond their block; a pass keeps only a small state
per report (an incremental, order-independent content hash — `services.LineHasher` — counts and totals).

The commit is a single streaming pass inside its transaction: it validates each row and writes it (in chunks)
at once. A report's content is only known at the end of the file, so new lines are inserted next to the old
ones, and `_Writer.finish` then deletes the old lines of the replaced reports (ids up to the watermark taken at
the start) and the new lines of reports that turned out unchanged. Any error raises, and the transaction takes
everything back. Reports the preview found unchanged are not written at all (if one changed in between, it is
written in a second pass over the file).

A batch's dry run also keeps its valid rows in a compact record next to the stored upload (`_Record`: per row the
report, the code combination and the amount in cents). The commit reads that record instead of reading and parsing
the file again when the record, the upload and every report's enterprise and reference ids still match; it still
checks each report's state and converts to USD at the current rates. If anything no longer matches, it reads the
file as described above, which locates the errors.

Speed: the rows are parsed by `parse_line` once per distinct combination of codes (`_LineParser`), and lines,
new reports and audit entries are written with `executemany` (`_Inserter`), since bulk_create's SQL compilation
alone costs about five times the insert itself. With these and the dry run's record, a million lines import in
about 2.6 times the time of a bare executemany of the same rows (benchmarks/import_bench.py).

A line's fields are validated by `lines.parse_line`, the single place that knows what a valid line is; this
module adds what is specific to a file: the columns, the enterprise (in the user's scope) and the period of each
row, and whether that report may be changed.

Other forms plug in by registering a `FormSpec` (the columns of their template) with `register_spec`; only the
monthly form has an importer so far.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import struct
import tempfile
import unicodedata
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.models import AuditLog, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import scope
from tradepilot.enterprises.models import Enterprise
from tradepilot.enterprises.uscc import InvalidUSCC, normalize, validate
from tradepilot.reporting import periods
from tradepilot.reporting.lines import (
    LineError,
    ParsedLine,
    ReferenceCache,
    clean_text,
    parse_amount,
    parse_line,
)
from tradepilot.reporting.models import ImportBatch, MonthlyLine, Report, ReportForm, Status
from tradepilot.reporting.periods import Period, is_locked
from tradepilot.reporting.rates import MissingRate, RateTable
from tradepilot.reporting.services import LineHasher, ReportError, check_editable

MAX_SHOWN_ERRORS = 1000
WRITE_CHUNK = 5000
BLOCK_ROWS = 5000
SNIFF_BYTES = 64 * 1024
COPY_CHUNK = 1024 * 1024
DEFAULT_MAX_ROWS = 2_000_000
IMPORT_ROLES = {Role.ENTERPRISE, Role.BUREAU, Role.MINISTRY}
# Key under which `read_rows` puts a LineError for a row it could not read (bad encoding, malformed CSV, ...).
READ_ERROR = "__read_error__"

XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls (and .doc)
PDF_MAGIC = b"%PDF"


# --- templates: the columns of each form ------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    label_zh: str
    label_en: str
    required: bool = True
    help_zh: str = ""
    help_en: str = ""
    example: str = ""
    # A number column keeps spreadsheet floats as they are (parse_amount reads them exactly); in the other columns
    # an integral float such as 1.0 (a mode typed into Excel) becomes the int 1.
    numeric: bool = False

    @property
    def header(self) -> str:
        """The header cell the templates write, e.g. "统一社会信用代码 (uscc)"."""
        return f"{self.label_zh} ({self.key})"


@dataclass(frozen=True)
class FormSpec:
    """The columns of a form's import template, in template order."""

    form_code: str
    title_zh: str
    title_en: str
    columns: tuple[Column, ...]
    sheet_names: tuple[str, ...] = ("data", "数据")

    @property
    def keys(self) -> list[str]:
        return [c.key for c in self.columns]

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)

    def header_names(self) -> dict[str, str]:
        """Normalised header text → column key: the key, the Chinese label, or "中文 (key)"."""
        names = {}
        for c in self.columns:
            for text in (c.key, c.label_zh, c.header):
                names[_header_text(text)] = c.key
        return names


_SPECS: dict[str, FormSpec] = {}


def register_spec(spec: FormSpec) -> FormSpec:
    _SPECS[spec.form_code] = spec
    return spec


def get_spec(form: ReportForm | str) -> FormSpec:
    code = form.code if isinstance(form, ReportForm) else str(form)
    if code not in _SPECS:
        import tradepilot.reporting.annual_imports  # noqa: F401 - registers the annual forms' specs
    try:
        return _SPECS[code]
    except KeyError:
        raise ReportError(_("Bulk import is not available for this form."), code="no_import") from None


MONTHLY_SPEC = register_spec(FormSpec(
    form_code=ReportForm.Code.MONTHLY,
    title_zh="服务进出口月度直报",
    title_en="Monthly service import/export report",
    columns=(
        Column("uscc", "统一社会信用代码", "Unified social credit code",
               help_zh="18位统一社会信用代码，须为本账号可报送的企业。",
               help_en="The enterprise's 18-character unified social credit code; it must be an enterprise you report for.",
               example="91110000MA01ABCD2X"),
        Column("period", "报告期", "Period",
               help_zh="报告月份，格式 YYYY-MM（如 2025-03），须为本月或以前月份。",
               help_en="The month reported, YYYY-MM (e.g. 2025-03); the current month or earlier.",
               example="2025-03"),
        Column("direction", "方向", "Direction",
               help_zh="X = 出口（向境外提供服务），M = 进口（接受境外服务）。",
               help_en="X = export (services supplied abroad), M = import (services received from abroad).",
               example="X"),
        Column("service", "EBOPS代码", "EBOPS code",
               help_zh="EBOPS 2010 服务类别代码，只能填写最细一级（如 SI2，不能填 SI）。",
               help_en="EBOPS 2010 service code, the most detailed level only (e.g. SI2, not SI).",
               example="SI2"),
        Column("partner", "伙伴国家/地区", "Partner country",
               help_zh="交易对方所在国家或地区，ISO 3166-1 两位或三位字母代码（如 US 或 USA）；不能为 CN。",
               help_en="The counterpart's country or territory, ISO 3166-1 alpha-2 or alpha-3 (US or USA); not CN.",
               example="US"),
        Column("mode", "供应模式", "Mode of supply",
               help_zh="1 跨境交付，2 境外消费，4 自然人移动（商业存在在 FATS 中报送）。",
               help_en="1 cross-border supply, 2 consumption abroad, 4 presence of natural persons "
                       "(commercial presence is reported in FATS).",
               example="1"),
        Column("related_party", "关联交易", "Related party",
               help_zh="Y = 与关联方的交易，N = 非关联交易。",
               help_en="Y = transaction with a related party, N = not related.",
               example="N"),
        Column("amount", "金额", "Amount",
               help_zh="以所填币种计的金额，大于 0，最多两位小数。",
               help_en="The amount in the currency given, greater than 0, at most two decimals.",
               example="125000.00", numeric=True),
        Column("currency", "币种", "Currency",
               help_zh="ISO 4217 币种代码（如 USD、CNY、EUR）。",
               help_en="ISO 4217 currency code (e.g. USD, CNY, EUR).",
               example="USD"),
        Column("note", "备注", "Note", required=False,
               help_zh="可选，最多 300 字。",
               help_en="Optional, at most 300 characters.",
               example="示例行，导入前请删除 / example row, delete before importing"),
    ),
))


# --- errors -----------------------------------------------------------------------------------------------------

class FileError(Exception):
    """The file as a whole cannot be imported; `errors` are file-level LineErrors (row None)."""

    def __init__(self, errors: list[LineError]):
        super().__init__(errors[0].message if errors else "")
        self.errors = errors


def _file_error(code: str, message: str, value: str = "", field_name: str = "file") -> FileError:
    return FileError([LineError(None, field_name, value, code, message)])


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.3g}"


def max_upload_bytes() -> int:
    return int(settings.TRADEPILOT_MAX_UPLOAD_BYTES)


def max_import_rows() -> int:
    return int(getattr(settings, "TRADEPILOT_MAX_IMPORT_ROWS", DEFAULT_MAX_ROWS))


def _too_large(size: int | None = None) -> FileError:
    limit = max_upload_bytes()
    if size is None:
        message = _("The file is larger than the limit of %(limit)s MB.") % {"limit": _mb(limit)}
    else:
        message = _("The file is %(size)s MB; the limit is %(limit)s MB.") % {"size": _mb(size), "limit": _mb(limit)}
    return _file_error("too_large", message + " " + _("Split it into several files."))


# --- reading files ----------------------------------------------------------------------------------------------

def _header_text(value) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).replace("\ufeff", "")
    return "".join(text.split()).lower()


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _HeaderMap:
    """Which cell holds which column, from the header row.

    `cells(row_no, cells)` brings a row to the header's width (plus one empty cell standing for the optional
    columns the file leaves out), so that column `key` is always `cells[index[key]]`."""

    def __init__(self, spec: FormSpec, cells: list, spreadsheet: bool = False):
        names = spec.header_names()
        self.index: dict[str, int] = {}
        self.width = len(cells)
        self.spreadsheet = spreadsheet
        unknown, duplicate = [], []
        for i, cell in enumerate(cells):
            if _is_blank(cell):
                continue
            key = names.get(_header_text(cell))
            if key is None:
                unknown.append(clean_text(cell))
            elif key in self.index:
                duplicate.append(clean_text(cell))
            else:
                self.index[key] = i
        errors = []
        missing = [c for c in spec.columns if c.required and c.key not in self.index]
        if missing:
            errors.append(LineError(
                None, "header", ", ".join(c.key for c in missing), "missing_columns",
                _("Required columns are missing: %(cols)s. Use the template's header row.")
                % {"cols": ", ".join(c.header for c in missing)}))
        if unknown:
            errors.append(LineError(
                None, "header", ", ".join(unknown)[:100], "unknown_columns",
                _("Unknown columns: %(cols)s. The template's columns are: %(expected)s.")
                % {"cols": ", ".join(unknown), "expected": ", ".join(spec.keys)}))
        if duplicate:
            errors.append(LineError(
                None, "header", ", ".join(duplicate)[:100], "duplicate_columns",
                _("Columns appear more than once: %(cols)s.") % {"cols": ", ".join(duplicate)}))
        if errors:
            raise FileError(errors)
        known = set(self.index.values())
        self.unnamed = [i for i in range(self.width) if i not in known]  # blank header cells
        absent = [c.key for c in spec.columns if c.key not in self.index]  # optional columns left out
        self.pad = bool(absent)
        for key in absent:
            self.index[key] = self.width  # the empty cell appended to every row
        self.items = list(self.index.items())
        # In a spreadsheet an integral number in a text column (a mode typed as 1) arrives as the float 1.0.
        self.text_columns = ([i for key, i in self.items if not spec.column(key).numeric and i < self.width]
                             if spreadsheet else [])

    def cells(self, row_no: int, cells: list) -> list | LineError:
        width = self.width
        if len(cells) != width or self.unnamed:
            n = len(cells)
            for i in [*(i for i in self.unnamed if i < n), *range(width, n)]:
                if not _is_blank(cells[i]):
                    return LineError(
                        row_no, f"column {i + 1}", clean_text(cells[i])[:100], "extra_value",
                        _("This cell is outside the template's columns; remove it or add the column header."))
            cells = cells[:width] + [None] * (width - n) if n != width else cells
        if self.pad:
            cells.append(None)
        for i in self.text_columns:
            v = cells[i]
            if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
                cells[i] = int(v)
        return cells

    def values(self, cells: list) -> dict:
        return {key: cells[i] for key, i in self.items}


def detect_kind(path: str | os.PathLike, head: bytes | None = None) -> str:
    """'xlsx' or 'csv'; raises FileError for anything else (PDF, legacy .xls, empty)."""
    path = Path(path)
    if head is None:
        with open(path, "rb") as fh:
            head = fh.read(16)
    ext = path.suffix.lower()
    if not head:
        raise _file_error("empty_file", _("The file is empty."))
    if head.startswith(XLSX_MAGIC):
        return "xlsx"
    if head.startswith(OLE2_MAGIC) or ext == ".xls":
        raise _file_error("xls_format", _("The old Excel .xls format is not supported; in Excel choose "
                                          "'Save as' → Excel workbook (.xlsx) or CSV UTF-8."))
    if head.startswith(PDF_MAGIC):
        raise _file_error("not_spreadsheet", _("This is a PDF document, not a spreadsheet; upload the filled "
                                               "template as .xlsx or .csv."))
    if ext in {".xlsx", ".xlsm"}:
        raise _file_error("bad_xlsx", _("The file is named .xlsx but is not an Excel workbook."))
    return "csv"


class _Source:
    """The data rows of a CSV or XLSX file, a block at a time, as (row number, cells) where the cells are aligned
    on `header` (see _HeaderMap.cells) or are a LineError for a row that could not be read.

    Row numbers are spreadsheet row numbers (the header is row 1); fully blank rows are skipped. Raises FileError
    for problems with the file as a whole (format, encoding, header, no data rows, too many rows)."""

    def __init__(self, path, spec: FormSpec, max_rows: int | None = None):
        self.path = path
        self.spec = spec
        self.max_rows = max_import_rows() if max_rows is None else max_rows
        self.header: _HeaderMap | None = None

    def blocks(self, size: int = BLOCK_ROWS) -> Iterator[list[tuple[int, list | LineError]]]:
        kind = detect_kind(self.path)
        spreadsheet = kind == "xlsx"
        source = _xlsx_cells(self.path, self.spec) if spreadsheet else _csv_cells(self.path)
        header = None
        count, max_rows = 0, self.max_rows
        block: list = []
        try:
            for row_no, cells in source:
                if header is None:
                    if isinstance(cells, LineError):
                        raise FileError([LineError(None, cells.field, cells.value, cells.code, cells.message)])
                    if row_no != 1 or all(_is_blank(c) for c in cells):
                        raise _file_error("no_header", _("The first row must be the header row of the template."),
                                          field_name="header")
                    header = self.header = _HeaderMap(self.spec, list(cells), spreadsheet)
                    width = header.width
                    as_is = not (header.unnamed or header.pad or header.text_columns)
                    continue
                if cells.__class__ is LineError:
                    row = cells
                elif spreadsheet:
                    if all(_is_blank(c) for c in cells):
                        continue  # (the CSV reader leaves blank rows out itself)
                    row = header.cells(row_no, list(cells))
                elif as_is and len(cells) == width:
                    row = cells  # the usual CSV row: nothing to align
                else:
                    row = header.cells(row_no, cells)
                count += 1
                if count > max_rows:
                    raise _file_error("too_many_rows", _("The file has more than %(n)s data rows; split it into "
                                                         "several files.") % {"n": f"{max_rows:,}"})
                block.append((row_no, row))
                if len(block) >= size:
                    yield block
                    block = []
        finally:
            source.close()
        if block:
            yield block
        if header is None:
            raise _file_error("empty_file", _("The file is empty."))
        if count == 0:
            raise _file_error("no_rows", _("The file has a header row but no data rows."))


def read_rows(path: str | os.PathLike, spec: FormSpec = MONTHLY_SPEC, *,
              max_rows: int | None = None) -> Iterator[tuple[int, dict]]:
    """Stream the data rows of a CSV or XLSX file as (row number, {column key: raw value}).

    Row numbers are spreadsheet row numbers (the header is row 1); fully blank rows are skipped. Every column key
    of the spec is present (None for an optional column the file leaves out). A row that could not be read
    carries a LineError under the key READ_ERROR. Raises FileError for problems with the file as a whole
    (unreadable format or encoding, bad header, no data rows, too many rows).
    """
    source = _Source(path, spec, max_rows)
    for block in source.blocks():
        values = source.header.values
        for row_no, cells in block:
            yield row_no, ({READ_ERROR: cells} if isinstance(cells, LineError) else values(cells))


def detect_encoding(head: bytes, complete: bool) -> tuple[str, int]:
    """(encoding, BOM length) of CSV bytes: UTF-8 with or without BOM, else GB18030. Raises FileError.

    `head` is the start of the file (64 KiB); `complete` says whether it is the whole file. A multibyte character
    cut at the end of an incomplete head does not count as an error."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    utf16 = head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    if utf16 or b"\x00" in head:
        quarter = len(head) // 4
        if utf16 or head[0::2].count(0) > quarter or head[1::2].count(0) > quarter:
            raise _file_error("encoding", _("The file is UTF-16 text; save it as CSV UTF-8 (or from Chinese Excel "
                                            "as plain CSV) and upload again."))
        raise _file_error("binary", _("This is not a text (CSV) file; upload the filled template as .xlsx or .csv."))
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        try:
            text = decoder.decode(head, final=complete)  # not final: a character split at the end is kept back
        except UnicodeDecodeError:
            continue
        if any(ord(ch) < 32 and ch not in "\t\r\n\f" for ch in text):
            raise _file_error("binary", _("This is not a text (CSV) file; upload the filled template as .xlsx "
                                          "or .csv."))
        return encoding, 0
    raise _file_error("encoding", _("The file's text encoding is neither UTF-8 nor GB18030; save it as CSV UTF-8 "
                                    "and upload again."))


def _encoding_after_ascii(fh) -> str:
    """The encoding of a file whose first 64 KiB are plain ASCII (both encodings agree on it): decided on the
    first non-ASCII bytes further on, so that a GB18030 file whose Chinese text comes late is read as such."""
    while chunk := fh.read(COPY_CHUNK):
        if chunk.isascii():
            continue
        start = next(i for i, b in enumerate(chunk) if b >= 0x80)  # a character boundary: ASCII before it
        window = chunk[start:start + SNIFF_BYTES]
        if len(window) < SNIFF_BYTES:
            window += fh.read(SNIFF_BYTES - len(window))
        complete = len(window) < SNIFF_BYTES
        for encoding in ("utf-8", "gb18030"):
            try:
                codecs.getincrementaldecoder(encoding)("strict").decode(window, final=complete)
            except UnicodeDecodeError:
                continue
            return encoding
        break  # neither: read as UTF-8, and the rows that do not decode become located errors
    return "utf-8"


def _csv_cells(path) -> Iterator[tuple[int, list | LineError]]:
    """Row number and cells of each CSV record; blank records (except the header) are left out.

    The text is decoded with `surrogateescape`, so bytes that are not valid in the detected encoding do not stop
    the stream: they survive as lone surrogates, and the row holding them becomes a located error."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
        encoding, bom = detect_encoding(head, complete=len(head) < SNIFF_BYTES)
        if not bom and head.isascii() and len(head) == SNIFF_BYTES:
            encoding = _encoding_after_ascii(fh)
        first_line = head[bom:].split(b"\n", 1)[0]
        delimiter = "\t" if b"\t" in first_line and b"," not in first_line else ","
        fh.seek(bom)
        text = io.TextIOWrapper(fh, encoding=encoding, errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        row_no = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row_no += 1
                yield row_no, LineError(row_no, "row", "", "malformed_csv",
                                        _("This row is not valid CSV (%(e)s).") % {"e": exc})
                continue
            except UnicodeDecodeError:  # a byte surrogateescape cannot carry; the stream cannot go on
                raise _file_error("encoding", _("Row %(row)d contains bytes that are not valid %(enc)s text; save "
                                                "the file as CSV UTF-8.") % {"row": row_no + 1,
                                                                              "enc": encoding.upper()}) from None
            row_no += 1
            joined = "".join(cells)
            if not joined.isascii():
                try:
                    joined.encode("utf-8")
                except UnicodeEncodeError:  # lone surrogates: undecodable bytes
                    shown = joined.encode("utf-8", "surrogateescape").decode(encoding, "replace")
                    yield row_no, LineError(
                        row_no, "row", shown[:100], "encoding",
                        _("This row contains bytes that are not valid %(enc)s text; save the file as CSV UTF-8.")
                        % {"enc": encoding.upper()})
                    continue
            if row_no > 1 and (not joined or joined.isspace()):
                continue
            yield row_no, cells


def _xlsx_cells(path, spec: FormSpec) -> Iterator[tuple[int, list | LineError]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged or foreign zip files
        raise _file_error("bad_xlsx", _("The file cannot be read as an Excel workbook (.xlsx): %(e)s")
                          % {"e": str(exc)[:200]}) from None
    try:
        wanted = {n.lower() for n in spec.sheet_names}
        names = wb.sheetnames
        if not names:
            raise _file_error("bad_xlsx", _("The workbook has no sheets."))
        name = next((n for n in names if n.strip().lower() in wanted), names[0])
        ws = wb[name]
        ws.reset_dimensions()  # some writers record wrong dimensions; read what is there
        yield from enumerate(ws.iter_rows(values_only=True), start=1)
    finally:
        wb.close()


# --- periods ----------------------------------------------------------------------------------------------------

_PERIOD_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*(?:月|[-/.]\s*\d{1,2}\s*日?)?$")
_PERIOD_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})$")


def parse_period(value) -> Period:
    """A monthly period from a cell: '2025-03', '2025/3', '202503', '2025年3月', an Excel date. Raises ValueError."""
    if isinstance(value, (dt.date, dt.datetime)):
        return Period(value.year, value.month)
    if isinstance(value, float):  # 2025.1 may have been typed as 2025.10: ambiguous
        raise ValueError(repr(value))
    text = clean_text(value)
    match = _PERIOD_RE.match(text) or _PERIOD_COMPACT_RE.match(text)
    if not match:
        raise ValueError(text)
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValueError(text)
    return Period(year, month)


# --- results ----------------------------------------------------------------------------------------------------

@dataclass
class ReportPreview:
    uscc: str
    enterprise: str
    period: str
    report_id: int | None
    action: str  # "create" | "replace" | "unchanged"
    lines: int
    old_lines: int | None
    exports_usd: str
    imports_usd: str
    missing_rates: list[str]


@dataclass
class Preview:
    form: str
    filename: str
    rows: int = 0
    error_count: int = 0
    errors: list[LineError] = field(default_factory=list)
    reports: list[ReportPreview] = field(default_factory=list)
    totals: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    @property
    def reports_touched(self) -> int:
        return sum(1 for r in self.reports if r.action != "unchanged")

    @property
    def reports_unchanged(self) -> int:
        return sum(1 for r in self.reports if r.action == "unchanged")

    def summary(self, max_reports: int = 2000) -> dict:
        return {
            "form": self.form, "filename": self.filename, "rows": self.rows, "error_count": self.error_count,
            "reports": len(self.reports), "reports_touched": self.reports_touched,
            "reports_created": sum(1 for r in self.reports if r.action == "create"),
            "reports_replaced": sum(1 for r in self.reports if r.action == "replace"),
            "reports_unchanged": self.reports_unchanged, "totals": self.totals,
            "report_list": [asdict(r) for r in self.reports[:max_reports]],
            "report_list_truncated": len(self.reports) > max_reports,
        }

    def as_dict(self) -> dict:
        return {**self.summary(), "ok": self.ok, "errors": [e.as_dict() for e in self.errors]}


@dataclass
class Summary:
    batch_id: int
    rows: int
    reports_created: int
    reports_replaced: int
    reports_unchanged: int
    lines_written: int
    totals: dict

    def as_dict(self) -> dict:
        return asdict(self)


# --- parsing rows -----------------------------------------------------------------------------------------------

_ZERO = Decimal(0)
_MEMO_FIELDS = ("direction", "service", "partner", "mode", "related_party", "currency", "note")
_MEMO_LIMIT = 200_000


class _Line(NamedTuple):
    """What a parsed line contributes apart from its amount, shared by every row with the same codes."""

    direction: str
    service_id: int
    partner_id: int
    mode_id: int
    related_party: bool
    currency_id: int
    currency_code: str
    note: str
    # repr(ParsedLine.key()) is key_prefix + repr(amount) + key_suffix: the content hash without the tuple.
    key_prefix: str
    key_suffix: str
    # The codes behind the ids, so that a commit from the dry run's record (_Record) can check the ids again.
    service_code: str = ""
    partner_code: str = ""
    mode_code: str = ""


def _line_template(line: ParsedLine) -> _Line:
    key = line.key()
    parts = [repr(v) for v in key]
    at = [i for i, v in enumerate(key) if v is line.amount]
    if len(at) != 1:
        raise RuntimeError("ParsedLine.key() must contain the amount exactly once")
    i = at[0]
    prefix = "(" + "".join(p + ", " for p in parts[:i])
    suffix = "".join(", " + p for p in parts[i + 1:]) + ")"
    if prefix + parts[i] + suffix != repr(key):
        raise RuntimeError("unexpected repr of ParsedLine.key()")
    return _Line(line.direction, line.service_id, line.partner_id, line.mode_id, line.related_party,
                 line.currency_id, line.currency_code, line.note, prefix, suffix, line.service_code,
                 line.partner_code, line.mode_code)


class _LineParser:
    """`lines.parse_line`, remembered per combination of the fields other than the amount.

    In a large file most rows repeat a combination of codes seen before and differ only in the amount. For those,
    the codes are not validated again: the amount is checked with `lines.parse_amount`, the same function
    parse_line uses for it, and the error (if any) is reported exactly as parse_line reports it. A combination
    with errors is never remembered, so its rows always go through parse_line in full.
    """

    def __init__(self, ref: ReferenceCache):
        self.ref = ref
        self.memo: dict[tuple, _Line] = {}
        self.header: _HeaderMap | None = None

    def bind(self, header: _HeaderMap) -> None:
        """Read rows laid out as `header` says (see _HeaderMap.cells)."""
        self.header = header
        getter = itemgetter(*(header.index[k] for k in _MEMO_FIELDS))
        if header.spreadsheet:
            # Spreadsheet cells are typed, and True == 1: the type is part of the key.
            self.key_of = lambda cells: tuple((v.__class__, v) for v in getter(cells))
        else:
            self.key_of = getter  # CSV cells are all strings
        self.amount_at = header.index["amount"]

    def parse(self, cells: list, row_no: int) -> tuple[_Line | None, Decimal | list[LineError]]:
        """(line, amount), or (None, the row's errors)."""
        key = self.key_of(cells)
        try:
            template = self.memo.get(key)
        except TypeError:  # an unhashable cell value
            key, template = None, None
        if template is not None:
            value = cells[self.amount_at]
            try:
                return template, parse_amount(value)
            except ValueError as exc:
                return None, [LineError(row_no, "amount", clean_text(value)[:100], "invalid_amount", str(exc))]
        line, errors = parse_line(self.header.values(cells), self.ref, row_no)
        if line is None:
            return None, errors
        template = _line_template(line)
        if key is not None:
            if len(self.memo) >= _MEMO_LIMIT:
                self.memo.clear()
            self.memo[key] = template
        return template, line.amount


# --- the scan: validation (dry run), and validation + writing (commit) ------------------------------------------

class _Group:
    """What the import knows about one report while streaming: identity, state and a running content hash."""

    __slots__ = ("enterprise", "period", "report_id", "old_hash", "error", "hasher", "lines", "exports_usd",
                 "imports_usd", "missing", "action", "rates", "write", "next_no", "report_repr", "created",
                 "pending", "hashed", "index")

    def __init__(self, enterprise: Enterprise, period: Period, report_id, old_hash: str, error, rates: RateTable):
        self.enterprise = enterprise
        self.period = period
        self.report_id = report_id
        self.old_hash = old_hash
        self.error = error  # (field, value, code, message) applying to every row of the group, or None
        self.rates = rates
        self.hasher = LineHasher()
        self.lines = 0
        self.exports_usd = _ZERO
        self.imports_usd = _ZERO
        self.missing: set[str] | None = None
        self.action = ""
        self.write = True  # commit: whether this pass writes the group's lines
        self.hashed = True  # a dry run needs the hash only to compare it with an existing report's
        self.next_no = 0
        self.report_repr = ""  # str(report), for the audit log
        self.created = False
        self.pending = False
        self.index = 0  # the order in which the scan met the report (the dry run's record refers to it)

    @property
    def new_hash(self) -> str:
        return self.hasher.hexdigest(False)

    def decide(self) -> str:
        if self.report_id is None or self.created:
            self.action = "create"
        elif self.new_hash == self.old_hash:
            self.action = "unchanged"
        else:
            self.action = "replace"
        return self.action


_CACHE_LIMIT = 20_000


class _Scan:
    """Streams a file once: validates every row, accumulates per-report hashes and totals, and (in a commit)
    hands the valid lines to a writer."""

    def __init__(self, user, form: ReportForm, spec: FormSpec, *, for_update: bool = False):
        if role_of(user) not in IMPORT_ROLES:
            raise ReportError(_("You may not import reports."), code="forbidden")
        self.user = user
        self.form = form
        self.spec = spec
        self.for_update = for_update
        self.parser = _LineParser(ReferenceCache())
        now = periods.today()
        self.current = Period(now.year, now.month)
        self.enterprises_qs = scope(user, Enterprise.objects.all())
        self._enterprise_cache: dict = {}
        self._period_cache: dict = {}
        self._report_cache: dict[int, dict] = {}
        self._state_cache: dict[tuple, tuple | None] = {}
        self._rates: dict[Period, RateTable] = {}
        self.groups: dict[tuple[int, Period], _Group] = {}
        self.rows = 0
        self.error_count = 0
        self.errors: list[LineError] = []
        # (direction, currency) → [lines, amount, usd, lines without usd]
        self.by_currency: dict[tuple[str, str], list] = {}
        # Commit: reports the preview found unchanged; their lines are not written unless they changed since.
        self.skip_ids: set[int] = set()
        # Dry run of a batch: keeps the valid rows in compact form for the commit (see _Record).
        self.recorder: _Record | None = None

    def error(self, error: LineError) -> None:
        self.error_count += 1
        if error.row is None:  # file-level errors come first, and are always shown
            self.errors.insert(0, error)
            del self.errors[MAX_SHOWN_ERRORS:]
        elif len(self.errors) < MAX_SHOWN_ERRORS:
            self.errors.append(error)

    # lookups, cached per distinct raw value (the caches are bounded)

    @staticmethod
    def _not_found(code: str) -> tuple[None, tuple]:
        try:
            validate(code)
        except InvalidUSCC as exc:
            return None, ("uscc", code, "invalid_uscc", exc.message)
        # The same answer whether the enterprise exists outside the user's scope or not at all.
        return None, ("uscc", code, "unknown_enterprise", _("Unknown enterprise or not yours."))

    def _enterprise(self, raw):
        try:
            hit = self._enterprise_cache.get(raw)
        except TypeError:
            raw, hit = clean_text(raw), None
        if hit is not None:
            return hit
        code = normalize(clean_text(raw))
        ent = self.enterprises_qs.filter(uscc=code).first() if code else None
        result = (ent, None) if ent is not None else self._not_found(code)
        if len(self._enterprise_cache) >= _CACHE_LIMIT:
            self._enterprise_cache.clear()
        self._enterprise_cache[raw] = result
        if ent is not None and ent.pk not in self._report_cache:
            self._load_reports([ent.pk])
        return result

    def prefetch(self, block: list[tuple[int, list | LineError]], uscc_at: int) -> None:
        """Resolve the enterprises first named in a block of rows, and load their reports, in a few queries."""
        cache = self._enterprise_cache
        if len(cache) > _CACHE_LIMIT - len(block):
            cache.clear()  # bounded; what the block needs is looked up again below
        new: dict = {}
        for _row, cells in block:
            if cells.__class__ is LineError:
                continue
            value = cells[uscc_at]
            try:
                if value in cache or value in new:
                    continue
            except TypeError:  # unhashable: resolved row by row
                continue
            new[value] = normalize(clean_text(value))
        if not new:
            return
        codes = sorted({code for code in new.values() if code})
        found: dict[str, Enterprise] = {}
        for chunk in _chunks(codes):
            found.update((e.uscc, e) for e in self.enterprises_qs.filter(uscc__in=chunk))
        for value, code in new.items():
            ent = found.get(code)
            cache[value] = (ent, None) if ent is not None else self._not_found(code)
        self._load_reports([e.pk for e in found.values() if e.pk not in self._report_cache])

    def _load_reports(self, enterprise_ids: list[int]) -> None:
        for chunk in _chunks(enterprise_ids):
            qs = Report.objects.filter(enterprise_id__in=chunk, form=self.form, is_current=True)
            if self.for_update:
                qs = qs.select_for_update()
            for eid in chunk:
                self._report_cache.setdefault(eid, {})
            for eid, pk, y, m, status, h in qs.values_list("enterprise_id", "pk", "year", "month", "status",
                                                           "content_hash"):
                self._report_cache[eid][(y, m)] = (pk, status, h)

    def _period(self, raw):
        try:
            hit = self._period_cache.get(raw)
        except TypeError:
            raw, hit = clean_text(raw), None
        if hit is not None:
            return hit
        try:
            period = parse_period(raw)
        except ValueError:
            result = (None, ("period", clean_text(raw)[:100], "invalid_period",
                             _("The period must be a month written YYYY-MM, e.g. 2025-03.")))
        else:
            if period > self.current:
                result = (None, ("period", str(period), "future_period",
                                 _("%(p)s is in the future; report past months or the current one.") % {"p": period}))
            else:
                result = (period, None)
        if len(self._period_cache) >= _CACHE_LIMIT:
            self._period_cache.clear()
        self._period_cache[raw] = result
        return result

    def _reports_of(self, enterprise_id: int) -> dict:
        if enterprise_id not in self._report_cache:
            self._load_reports([enterprise_id])
        return self._report_cache[enterprise_id]

    def _state_error(self, ent: Enterprise, period: Period, report_id, status: str):
        """check_editable on the report (or on a new draft), as (field, value, code, message) or None.

        The answer depends on the status and the period, and on the enterprise only through lock exceptions, that
        is only once the period's lock date has passed; until then it is remembered per (status, period)."""
        key = (status, period)
        if key in self._state_cache:
            return self._state_cache[key]
        probe = Report(pk=report_id, enterprise=ent, form=self.form, year=period.year, month=period.month,
                       status=status)
        try:
            check_editable(probe, self.user)
            error = None
        except ReportError as exc:
            error = ("period", str(period), exc.code, exc.message)
        if not is_locked(self.form, period):  # without an enterprise: whether the lock date has passed
            self._state_cache[key] = error
        return error

    def rates(self, period: Period) -> RateTable:
        table = self._rates.get(period)
        if table is None:
            table = self._rates[period] = RateTable.for_month(period.year, period.month)
        return table

    def _new_group(self, ent: Enterprise, period: Period) -> _Group:
        found = self._reports_of(ent.pk).get((period.year, period.month))
        error = None
        if found is None:
            report_id, status, old_hash = None, Status.DRAFT, ""
            if not ent.is_active:  # as get_or_create_report refuses it
                error = ("uscc", ent.uscc, "inactive", _("This enterprise is deactivated."))
        else:
            report_id, status, old_hash = found
        if error is None:
            error = self._state_error(ent, period, report_id, status)
        group = _Group(ent, period, report_id, old_hash, error, self.rates(period))
        group.index = len(self.groups)
        group.write = report_id is None or report_id not in self.skip_ids
        group.hashed = self.for_update or report_id is not None
        self.groups[(ent.pk, period)] = group
        return group

    def group_of(self, row_no: int, uscc, period) -> _Group | None:
        """The report of a row's uscc and period, or None after recording the errors of either or of the report."""
        ent, ent_error = self._enterprise(uscc)
        period, period_error = self._period(period)
        if ent_error:
            self.error(LineError(row_no, *ent_error))
        if period_error:
            self.error(LineError(row_no, *period_error))
        if ent is None or period is None:
            return None
        group = self.groups.get((ent.pk, period))
        if group is None:
            group = self._new_group(ent, period)
        if group.error is not None:
            self.error(LineError(row_no, *group.error))
            return None
        return group

    def run(self, path, writer: _Writer | None = None, only: set | None = None) -> None:
        """One streaming pass: validate every row and accumulate the reports' hashes and totals; with a writer
        (commit), also write the lines. `only` (a set of groups) re-reads the file just to write those groups."""
        source = _Source(path, self.spec)
        parser = self.parser
        parse = parser.parse
        by_currency = self.by_currency
        error = self.error
        buffer = writer.buffer if writer is not None else None
        recorder = self.recorder if only is None else None
        record = recorder.pending.append if recorder is not None else None
        last_uscc = last_period = last_group = None
        for block in source.blocks():
            if parser.header is not source.header:
                parser.bind(source.header)
                uscc_at, period_at = source.header.index["uscc"], source.header.index["period"]
            self.prefetch(block, uscc_at)
            if writer is not None and only is None:
                writer.create_reports(block, uscc_at, period_at)
            if only is None:
                self.rows += len(block)
            for row_no, cells in block:
                if cells.__class__ is LineError:  # a row that could not be read
                    error(cells)
                    continue
                uscc, period = cells[uscc_at], cells[period_at]
                if last_group is not None and uscc == last_uscc and period == last_period:
                    group = last_group  # rows of one report usually come together
                else:
                    group = self.group_of(row_no, uscc, period)
                    last_uscc, last_period, last_group = uscc, period, group
                line, amount = parse(cells, row_no)
                if line is None:
                    for e in amount:
                        error(e)
                    continue
                if group is None:
                    continue
                try:
                    usd = group.rates.to_usd(amount, line.currency_code)
                except MissingRate:
                    usd = None  # allowed in a draft; submission requires every rate
                if only is None:
                    if group.hashed:
                        group.hasher.add_text(line.key_prefix + repr(amount) + line.key_suffix)
                    group.lines += 1
                    stats = by_currency.get((line.direction, line.currency_code))
                    if stats is None:
                        stats = by_currency[(line.direction, line.currency_code)] = [0, _ZERO, _ZERO, 0]
                    stats[0] += 1
                    stats[1] += amount
                    if usd is None:
                        stats[3] += 1
                        if group.missing is None:
                            group.missing = set()
                        group.missing.add(line.currency_code)
                    else:
                        stats[2] += usd
                        if line.direction == "X":
                            group.exports_usd += usd
                        else:
                            group.imports_usd += usd
                    if record is not None:
                        record((group.index, line, amount))
                    if buffer is None or not group.write or self.error_count:
                        continue
                elif group not in only:
                    continue
                group.next_no += 1
                buffer.append((group.report_id, group.next_no, line.direction, line.service_id, line.partner_id,
                               line.mode_id, line.related_party, amount, line.currency_id, usd, line.note))
            if writer is not None:
                writer.flush()
            if recorder is not None:
                recorder.flush(self.error_count)

    def run_recorded(self, path, meta: dict, writer: _Writer) -> bool:
        """The commit's pass from the dry run's record (see _Record) instead of the file: the same checks of every
        report's state (enterprise in scope and active, report editable, period open) and of the reference codes,
        the USD values at the current rates, the same hashes, totals and writes as `run`.

        Returns False, having written nothing, when anything no longer matches: the caller then reads the file
        with `run`, which locates the errors."""
        ref = self.parser.ref
        combos = []
        for values in meta["combos"]:
            line = _Line(*values)
            if (line.direction not in ("X", "M") or ref.leaf_services.get(line.service_code) != line.service_id
                    or ref.countries.get(line.partner_code) != line.partner_id
                    or ref.report_modes.get(line.mode_code) != line.mode_id
                    or ref.currencies.get(line.currency_code) != line.currency_id):
                return False
            combos.append(line)
        specs = meta["groups"]
        found: dict[int, Enterprise] = {}
        for chunk in _chunks(sorted({eid for eid, *_rest in specs})):
            found.update((e.pk, e) for e in self.enterprises_qs.filter(pk__in=chunk))
        self._load_reports([pk for pk in found if pk not in self._report_cache])
        groups = []
        for eid, uscc, year, month in specs:
            ent = found.get(eid)
            period = Period(year, month)
            if ent is None or ent.uscc != uscc or period > self.current or (eid, period) in self.groups:
                return False
            group = self._new_group(ent, period)
            if group.error is not None:
                return False
            groups.append(group)
        if self.error_count:
            return False
        # Nothing is written before this point.
        pending = [g for g in groups if g.report_id is None]
        for chunk in _chunks(pending, WRITE_CHUNK):
            for g in chunk:
                g.pending = True
            writer._create_reports(chunk)
        self.rows = meta["rows"]
        by_currency = self.by_currency
        # Per combination: its line, its currency's totals and whether it is an export.
        per_combo = []
        for line in combos:
            stats = by_currency.get((line.direction, line.currency_code))
            if stats is None:
                stats = by_currency[(line.direction, line.currency_code)] = [0, _ZERO, _ZERO, 0]
            per_combo.append((line, stats, line.direction == "X"))
        buffer = writer.buffer
        add = buffer.append
        remaining = meta["data_len"]
        with open(path, "rb") as fh:
            while remaining:
                data = fh.read(min(remaining, BLOCK_ROWS * _RECORD.size))
                if not data:
                    raise ReportError(_("The file changed while it was being imported."), code="changed")
                remaining -= len(data)
                for index, combo, cents in _RECORD.iter_unpack(data):
                    group = groups[index]
                    line, stats, export = per_combo[combo]
                    amount = Decimal(cents).scaleb(-2)  # exactly parse_amount's value: two decimals
                    try:
                        usd = group.rates.to_usd(amount, line.currency_code)
                    except MissingRate:
                        usd = None
                    group.hasher.add_text(line.key_prefix + repr(amount) + line.key_suffix)
                    group.lines += 1
                    stats[0] += 1
                    stats[1] += amount
                    if usd is None:
                        stats[3] += 1
                        if group.missing is None:
                            group.missing = set()
                        group.missing.add(line.currency_code)
                    else:
                        stats[2] += usd
                        if export:
                            group.exports_usd += usd
                        else:
                            group.imports_usd += usd
                    if not group.write:
                        continue
                    group.next_no += 1
                    add((group.report_id, group.next_no, line.direction, line.service_id, line.partner_id,
                         line.mode_id, line.related_party, amount, line.currency_id, usd, line.note))
                writer.flush()
        return True

    def totals(self) -> dict:
        out = {}
        for d in ("X", "M"):
            rows = {c: s for (direction, c), s in self.by_currency.items() if direction == d}
            out[d] = {"lines": sum(s[0] for s in rows.values()),
                      "usd": str(sum((s[2] for s in rows.values()), _ZERO)),
                      "lines_without_usd": sum(s[3] for s in rows.values()),
                      "by_currency": {c: str(s[1]) for c, s in sorted(rows.items())}}
        return out

    def preview(self, filename: str) -> Preview:
        preview = Preview(form=self.form.code, filename=filename, rows=self.rows, error_count=self.error_count,
                          errors=list(self.errors), totals=self.totals())
        if self.error_count:
            return preview
        replace_ids = [g.report_id for g in self.groups.values() if g.decide() == "replace"]
        old_counts = _line_counts(replace_ids)
        for group in sorted(self.groups.values(), key=lambda g: (g.enterprise.uscc, g.period)):
            old = {"create": 0, "unchanged": group.lines}.get(group.action, old_counts.get(group.report_id, 0))
            preview.reports.append(ReportPreview(
                uscc=group.enterprise.uscc, enterprise=group.enterprise.name, period=str(group.period),
                report_id=group.report_id, action=group.action, lines=group.lines, old_lines=old,
                exports_usd=str(group.exports_usd), imports_usd=str(group.imports_usd),
                missing_rates=sorted(group.missing or ()),
            ))
        return preview


_RECORD = struct.Struct("<IIq")  # report (group) index, code combination index, amount in cents
_RECORD_TAIL = struct.Struct("<Q8s")  # length of the JSON part, magic
_RECORD_MAGIC = b"TPROWS01"
_RECORD_MAX_COMBOS = 200_000
_HUNDRED = Decimal(100)


def _record_path(batch: ImportBatch) -> str:
    return f"{batch.stored_path}.{batch.pk}.rows"


def _drop_record(batch: ImportBatch) -> None:
    try:
        os.unlink(_record_path(batch))
    except OSError:
        pass


class _Record:
    """The valid rows of a batch's dry run, kept next to the stored upload so that the commit need not read and
    parse the file again.

    The file holds, per row in file order, (report index, code combination index, amount in cents) packed with
    _RECORD; then, as JSON, the reports (enterprise id, uscc, year, month) in the order of their indexes, the code
    combinations (_Line), the batch, user, form, upload sha256 and counts; then the JSON's length and a magic.
    The batch's summary keeps the sha256 of the whole file under "_rows"; the commit uses the record only when
    that, the upload's sha256, the enterprises and every reference id still match (`_open_record`,
    `_Scan.run_recorded`), and reads the file again otherwise. Nothing is kept when the dry run finds errors or
    more than _RECORD_MAX_COMBOS combinations."""

    def __init__(self, path: str):
        self.path = path
        fd, self.tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".rows-")
        self.out = os.fdopen(fd, "wb")
        self.hash = hashlib.sha256()
        self.pending: list[tuple] = []
        self.combos: list[_Line] = []
        self.combo_ids: dict[int, int] = {}  # id(_Line) → index; self.combos keeps the objects alive
        self.count = 0
        self.failed = False

    def flush(self, error_count: int) -> None:
        pending = self.pending  # cleared in place: the scan appends to this very list
        if self.failed or error_count:
            self.failed = True
            pending.clear()
            return
        ids, combos, pack = self.combo_ids, self.combos, _RECORD.pack
        out = bytearray()
        for index, line, amount in pending:
            combo = ids.get(id(line))
            if combo is None:
                combo = ids[id(line)] = len(combos)
                combos.append(line)
            out += pack(index, combo, int(amount * _HUNDRED))  # exact: at most 15 digits
        self.count += len(pending)
        pending.clear()
        if len(combos) > _RECORD_MAX_COMBOS:
            self.failed = True
            return
        try:
            self.out.write(out)
        except OSError:  # (a full disk, say) the commit will read the file instead
            self.failed = True
            return
        self.hash.update(out)

    def finish(self, scan: _Scan, batch: ImportBatch) -> str | None:
        """Complete the file and return its sha256, or None (and no file) when it is not usable."""
        try:
            if self.failed or self.pending or scan.error_count or self.count != scan.rows:
                return None
            meta = {"v": 1, "batch": batch.pk, "user": batch.user_id, "form": scan.form.code,
                    "upload": batch.sha256, "rows": scan.rows, "records": self.count,
                    "groups": [[g.enterprise.pk, g.enterprise.uscc, g.period.year, g.period.month]
                               for g in scan.groups.values()],
                    "combos": [list(line) for line in self.combos]}
            if [g.index for g in scan.groups.values()] != list(range(len(scan.groups))):
                return None
            tail = json.dumps(meta, separators=(",", ":")).encode()
            tail += _RECORD_TAIL.pack(len(tail), _RECORD_MAGIC)
            self.hash.update(tail)
            try:
                self.out.write(tail)
                self.out.close()
                os.replace(self.tmp, self.path)
            except OSError:
                return None
            return self.hash.hexdigest()
        finally:
            self.discard()

    def discard(self) -> None:
        self.pending.clear()
        self.combos, self.combo_ids = [], {}
        if not self.out.closed:
            self.out.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


def _open_record(batch: ImportBatch) -> dict | None:
    """The JSON part of the batch's record (with "data_len", the length of the packed rows), or None when there
    is no record or it does not belong to this batch, its dry run and its upload."""
    digest = (batch.summary or {}).get("_rows")
    path = _record_path(batch)
    if not digest or not os.path.exists(path):
        return None
    try:
        if os.path.getsize(batch.stored_path) > max_upload_bytes() or _sha256_of(path) != digest:
            return None
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            fh.seek(size - _RECORD_TAIL.size)
            length, magic = _RECORD_TAIL.unpack(fh.read(_RECORD_TAIL.size))
            data_len = size - _RECORD_TAIL.size - length
            if magic != _RECORD_MAGIC or data_len < 0 or data_len % _RECORD.size:
                return None
            fh.seek(data_len)
            meta = json.loads(fh.read(length))
        if (meta.get("v") != 1 or meta.get("batch") != batch.pk or meta.get("user") != batch.user_id
                or meta.get("form") != batch.form.code or meta.get("upload") != batch.sha256
                or meta.get("records") != meta.get("rows") or meta.get("rows") != batch.row_count
                or meta["records"] * _RECORD.size != data_len
                or any(len(c) != len(_Line._fields) for c in meta["combos"])
                or any(len(g) != 4 for g in meta["groups"])):
            return None
    except (OSError, ValueError, KeyError, TypeError, struct.error):
        return None
    meta["data_len"] = data_len
    return meta


_AUDIT_COLUMNS = ("timestamp", "actor_id", "action", "object_type", "object_id", "object_repr", "enterprise_id",
                  "report_id", "changes", "reason")


def _audit_row(actor, action: str, group: _Group, *, changes: dict, reason: str = "", now) -> tuple:
    """The row `audit.record(actor, action, report, changes=…, reason=…, enterprise=…, report=report)` writes for
    the group's report, as values for _AUDIT_COLUMNS, so that an import writes thousands of entries at once."""
    actor_id = actor.pk if actor is not None and getattr(actor, "is_authenticated", False) else None
    return (now, actor_id, action, Report._meta.label_lower, str(group.report_id), group.report_repr,
            group.enterprise.pk, group.report_id, audit._plain(changes or {}), reason or "")


_LINE_COLUMNS = ("report_id", "line_no", "direction", "service_id", "partner_id", "mode_id", "related_party",
                 "amount", "currency_id", "usd_amount", "note")
# Field types whose Python values the database drivers take as they are.
_PLAIN_TYPES = {"AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField", "SmallIntegerField",
                "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField", "CharField",
                "TextField", "BooleanField", "ForeignKey"}


class _Inserter:
    """INSERT of many rows of one model with the connection's executemany.

    It has bulk_create's effect for the given columns (values go through each field's get_db_prep_save, except
    for the plain types drivers take as they are) without bulk_create's per-value SQL compilation, which costs
    about five times the insert itself: on a million lines that is the difference between minutes and seconds.
    Every column the table requires without a database default must be given (MonthlyLine: all but the id)."""

    def __init__(self, model, attnames: tuple[str, ...] | None = None):
        concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
        if attnames is None:
            attnames = tuple(f.attname for f in concrete)
        left_out = [f.attname for f in concrete if f.attname not in attnames and not f.null]
        if left_out:  # the model gained a required field this module does not know
            raise RuntimeError(f"{model.__name__}: the import does not write {', '.join(left_out)}")
        by_attname = {f.attname: f for f in concrete}
        fields = [by_attname[a] for a in attnames]
        self.fields = fields
        qn = connection.ops.quote_name
        self.sql = (f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
                    f"VALUES ({', '.join(['%s'] * len(fields))})")
        ops = connections[DEFAULT_DB_ALIAS].ops
        # Decimal values go to the driver as they are when the backend does not adapt them (SQLite, PostgreSQL).
        plain = _PLAIN_TYPES | ({"DecimalField"} if type(ops).adapt_decimalfield_value
                                is BaseDatabaseOperations.adapt_decimalfield_value else set())
        self.prepare = [(i, f.get_db_prep_save) for i, f in enumerate(fields) if f.get_internal_type() not in plain]

    def insert(self, rows: list[tuple]) -> None:
        conn = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: the `connection` proxy costs a lookup per use
        if self.prepare:
            # A value shared by many rows (the import's timestamp, a report template's columns) is the same
            # object in each: it is prepared once.
            last = [(None, None)] * len(self.prepare)
            prepared = []
            for row in rows:
                row = list(row)
                for n, (i, prep) in enumerate(self.prepare):
                    value = row[i]
                    if value is not None:
                        seen, done = last[n]
                        if value is not seen:
                            done = prep(value, conn)
                            last[n] = (value, done)
                        row[i] = done
                prepared.append(row)
            rows = prepared
        with conn.cursor() as cursor:
            cursor.executemany(self.sql, rows)

    def values_of(self, obj) -> tuple:
        """An unsaved instance's values for the columns, through each field's pre_save (auto_now) as
        bulk_create takes them."""
        return tuple(f.pre_save(obj, True) for f in self.fields)

    def position(self, attname: str) -> int:
        return [f.attname for f in self.fields].index(attname)


class _Writer:
    """Writes a commit's lines while the scan streams, inside the commit's transaction.

    New lines are inserted next to the old ones; lines that existed before the commit are recognised by their id
    (at most `watermark`, the highest line id when the transaction started), so `finish` can delete the old lines
    of replaced reports and the new lines of reports that turned out unchanged. Reports the preview found
    unchanged are not written at all; should one have changed since, `finish` writes it in a second pass."""

    def __init__(self, scan: _Scan, path, filename: str):
        self.scan = scan
        self.path = path
        self.filename = filename
        self.buffer: list[tuple] = []
        self.pending: list[_Group] = []
        self.written = 0
        self.inserter = _Inserter(MonthlyLine, _LINE_COLUMNS)
        self.report_inserter = _Inserter(Report)
        self.audit_inserter = _Inserter(AuditLog, _AUDIT_COLUMNS)
        self.watermark = MonthlyLine.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    def create_reports(self, block: list, uscc_at: int, period_at: int) -> None:
        """Create the missing reports of a block's rows before the rows are written (so that every line's report
        id is known when it is buffered). A report created for rows that turn out invalid goes with the rollback."""
        scan, groups, pending = self.scan, self.scan.groups, []
        if scan.error_count:  # nothing will be written
            return
        last = None
        for _row, cells in block:
            if cells.__class__ is LineError or (cells[uscc_at], cells[period_at]) == last:
                continue
            last = (cells[uscc_at], cells[period_at])
            ent, _e = scan._enterprise(last[0])
            period, _p = scan._period(last[1])
            if ent is None or period is None:
                continue
            group = groups.get((ent.pk, period)) or scan._new_group(ent, period)
            if group.report_id is None and group.error is None and not group.pending:
                group.pending = True
                pending.append(group)
        if pending:
            self._create_reports(pending)

    def flush(self) -> None:
        if self.buffer:
            self.inserter.insert(self.buffer)
            self.written += len(self.buffer)
            self.buffer.clear()

    def _create_reports(self, groups: list[_Group]) -> None:
        """What get_or_create_report does for a missing report (the scan has checked that the enterprise is
        active and the period open), for many reports at once: the draft report and its "create" audit entry."""
        form, user, now = self.scan.form, self.scan.user, timezone.now()
        # One prototype gives every column's value (defaults, created, auto_now); each row differs in three.
        proto = Report(enterprise=groups[0].enterprise, form=form, year=groups[0].period.year,
                       month=groups[0].period.month, created=now)
        template = self.report_inserter.values_of(proto)
        at = [self.report_inserter.position(a) for a in ("enterprise_id", "year", "month")]
        rows = []
        for g in groups:
            row = list(template)
            row[at[0]], row[at[1]], row[at[2]] = g.enterprise.pk, g.period.year, g.period.month
            rows.append(row)
        self.report_inserter.insert(rows)
        wanted = {(g.enterprise.pk, g.period.year, g.period.month): g for g in groups}
        for chunk in _chunks(sorted({g.enterprise.pk for g in groups})):
            ids = (Report.objects.filter(enterprise_id__in=chunk, form=form, is_current=True)
                   .values_list("enterprise_id", "year", "month", "pk"))
            for eid, y, m, pk in ids:
                g = wanted.get((eid, y, m))
                if g is not None:
                    g.report_id, g.created = pk, True
        for g in groups:
            proto.pk, proto.enterprise, proto.year, proto.month = g.report_id, g.enterprise, g.period.year, g.period.month
            g.report_repr = str(proto)[:300]
        self.audit_inserter.insert([
            _audit_row(user, "create", g, changes={"status": [None, Status.DRAFT]}, now=now) for g in groups
        ])

    def finish(self) -> dict[str, int]:
        self.flush()
        groups = [g for g in self.scan.groups.values() if g.error is None and g.lines]
        redo = {g for g in groups if not g.write and g.decide() != "unchanged"}
        if redo:  # the preview found these unchanged, but the report changed since: write them now
            for g in redo:
                g.write, g.next_no = True, 0
            self.scan.run(self.path, self, only=redo)
        for g in groups:
            g.decide()
            if g.write and g.next_no != g.lines:
                raise ReportError(_("The file changed while it was being imported."), code="changed")
        replaced = [g for g in groups if g.action == "replace"]
        written_unchanged = [g.report_id for g in groups if g.action == "unchanged" and g.write]
        old = _old_line_stats([g.report_id for g in replaced], self.watermark)
        for chunk in _chunks([g.report_id for g in replaced]):
            MonthlyLine.objects.filter(report_id__in=chunk, pk__lte=self.watermark).delete()
        for chunk in _chunks(written_unchanged):
            MonthlyLine.objects.filter(report_id__in=chunk, pk__gt=self.watermark).delete()

        reports = _reports_by_id([g.report_id for g in replaced])
        for g in replaced:
            report = reports[g.report_id]
            report.enterprise = g.enterprise
            g.report_repr = str(report)[:300]
        changed = [g for g in groups if g.action in ("create", "replace")]
        now = timezone.now()
        _set_content(changed, now)
        reason = f"import {self.filename}"
        no_old = (0, _ZERO, _ZERO)
        for chunk in _chunks(changed, WRITE_CHUNK):
            self.audit_inserter.insert([
                _audit_row(self.scan.user, "update_lines:import", g, reason=reason, now=now,
                           changes={"lines": [old.get(g.report_id, no_old)[0], g.lines],
                                    "exports_usd": [old.get(g.report_id, no_old)[1], g.exports_usd],
                                    "imports_usd": [old.get(g.report_id, no_old)[2], g.imports_usd]})
                for g in chunk
            ])
        return {"created": sum(1 for g in groups if g.action == "create"), "replaced": len(replaced),
                "unchanged": sum(1 for g in groups if g.action == "unchanged"),
                "lines": sum(g.lines for g in changed)}


def _set_content(groups: list[_Group], now) -> None:
    """UPDATE each report's nil_return, content_hash and updated in one executemany (bulk_update's CASE
    expressions cost more than the import of the lines)."""
    if not groups:
        return
    meta = Report._meta
    qn = connection.ops.quote_name
    nil, hash_, updated, pk = (meta.get_field(n) for n in ("nil_return", "content_hash", "updated", "id"))
    sql = (f"UPDATE {qn(meta.db_table)} SET {qn(nil.column)} = %s, {qn(hash_.column)} = %s, "
           f"{qn(updated.column)} = %s WHERE {qn(pk.column)} = %s")
    false, stamp = nil.get_db_prep_value(False, connection), updated.get_db_prep_value(now, connection)
    with connection.cursor() as cursor:
        for chunk in _chunks(groups, WRITE_CHUNK):
            cursor.executemany(sql, [(false, g.new_hash, stamp, g.report_id) for g in chunk])


def _chunks(items: list, size: int = 500):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _line_counts(report_ids: list[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for chunk in _chunks(report_ids):
        counts.update(MonthlyLine.objects.filter(report_id__in=chunk).order_by().values("report_id")
                      .annotate(n=Count("id")).values_list("report_id", "n"))
    return counts


def _old_line_stats(report_ids: list[int], watermark: int) -> dict[int, tuple[int, Decimal, Decimal]]:
    """(line count, exports USD, imports USD) of the reports' lines up to the watermark, summed exactly."""
    stats: dict[int, list] = {}
    for chunk in _chunks(report_ids):
        rows = (MonthlyLine.objects.filter(report_id__in=chunk, pk__lte=watermark).order_by()
                .values_list("report_id", "direction", "usd_amount").iterator(chunk_size=WRITE_CHUNK))
        for rid, direction, usd in rows:
            s = stats.setdefault(rid, [0, _ZERO, _ZERO])
            s[0] += 1
            if usd is not None:
                s[1 if direction == "X" else 2] += usd
    return {rid: tuple(s) for rid, s in stats.items()}


def _reports_by_id(report_ids: list[int]) -> dict[int, Report]:
    reports: dict[int, Report] = {}
    for chunk in _chunks(report_ids):
        reports.update(Report.objects.select_for_update().in_bulk(chunk))
    return reports


# --- public API -------------------------------------------------------------------------------------------------

def _resolve_form(form) -> ReportForm:
    if isinstance(form, ReportForm):
        return form
    return ReportForm.objects.get(code=form or ReportForm.Code.MONTHLY)


def _check_size(path) -> None:
    size = os.path.getsize(path)
    if size > max_upload_bytes():
        raise _too_large(size)


def dry_run(batch_or_path: ImportBatch | str | os.PathLike, user, form: ReportForm | str | None = None) -> Preview:
    """Validate a stored batch (or a file) without writing report data; every error located.

    With a batch, its state becomes previewed (no errors) or invalid, and its errors (capped) and summary are
    stored. Raises ReportError when the user may not import or the batch is already committed.
    """
    batch = batch_or_path if isinstance(batch_or_path, ImportBatch) else None
    if batch is not None and batch.form.code != ReportForm.Code.MONTHLY:
        from tradepilot.reporting import annual_imports

        return annual_imports.dry_run(batch, user)
    if batch is not None:
        if batch.user_id != user.pk:
            raise ReportError(_("This import belongs to another user."), code="forbidden")
        if batch.state == ImportBatch.State.COMMITTED:
            raise ReportError(_("This file has already been imported."), code="already_committed")
        path, filename, form = batch.stored_path, batch.filename, batch.form
    else:
        path, filename = Path(batch_or_path), Path(batch_or_path).name
    form = _resolve_form(form)
    scan = _Scan(user, form, get_spec(form))
    recorder = None
    if batch is not None:
        _drop_record(batch)
        try:
            recorder = scan.recorder = _Record(_record_path(batch))
        except OSError:
            recorder = None
    try:
        try:
            _check_size(path)
            scan.run(path)
        except FileError as exc:
            for e in exc.errors:
                scan.error(e)
        preview = scan.preview(filename)
        record = recorder.finish(scan, batch) if recorder is not None and preview.ok else None
    finally:
        if recorder is not None:
            recorder.discard()
    if batch is not None:
        _save_preview(batch, preview, record)
    return preview


def _save_preview(batch: ImportBatch, preview: Preview, record: str | None = None) -> None:
    batch.state = ImportBatch.State.PREVIEWED if preview.ok else ImportBatch.State.INVALID
    batch.row_count = preview.rows
    batch.report_count = len(preview.reports)
    batch.errors = [e.as_dict() for e in preview.errors]
    # The reports found unchanged: the commit does not write them (unless they changed in between).
    batch.summary = {**preview.summary(),
                     "unchanged_report_ids": [r.report_id for r in preview.reports if r.action == "unchanged"]}
    if record:  # the sha256 of the dry run's record of the rows (_Record), which the commit reads instead of the file
        batch.summary["_rows"] = record
    else:
        _drop_record(batch)
    batch.save(update_fields=["state", "row_count", "report_count", "errors", "summary"])


class _Failed(Exception):
    def __init__(self, preview: Preview):
        self.preview = preview


def commit(batch: ImportBatch, user) -> Summary:
    """Import a previewed batch all-or-nothing, in one transaction.

    The file is validated again against the current state while it is written; on any error the transaction is
    rolled back, the batch becomes invalid with the new errors, and ReportError(code="invalid_lines") carries
    them. Committing a batch that is committed, invalid, unchecked or another user's raises ReportError.
    """
    if batch.form.code != ReportForm.Code.MONTHLY:
        from tradepilot.reporting import annual_imports

        return annual_imports.commit(batch, user)
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.select_for_update().select_related("form").get(pk=batch.pk)
            if batch.user_id != user.pk:
                raise ReportError(_("This import belongs to another user."), code="forbidden")
            if batch.state == ImportBatch.State.COMMITTED:
                raise ReportError(_("This file has already been imported."), code="already_committed")
            if batch.state != ImportBatch.State.PREVIEWED:
                raise ReportError(_("The file has errors (or was not checked yet); check it and fix the errors "
                                    "first."), list(batch.errors), code="invalid_batch")
            if not os.path.exists(batch.stored_path) or _sha256_of(batch.stored_path) != batch.sha256:
                raise ReportError(_("The uploaded file is no longer available; upload it again."),
                                  code="missing_file")
            skip_ids = set(batch.summary.get("unchanged_report_ids") or ())
            scan = _Scan(user, batch.form, get_spec(batch.form), for_update=True)
            scan.skip_ids = skip_ids
            writer = _Writer(scan, batch.stored_path, batch.filename)
            meta = _open_record(batch)
            if meta is not None and not scan.run_recorded(_record_path(batch), meta, writer):
                meta = None  # something changed since the dry run: read the file, which locates the errors
                scan = _Scan(user, batch.form, get_spec(batch.form), for_update=True)
                scan.skip_ids = skip_ids
                writer = _Writer(scan, batch.stored_path, batch.filename)
            if meta is None:
                try:
                    _check_size(batch.stored_path)
                    scan.run(batch.stored_path, writer)
                except FileError as exc:
                    for e in exc.errors:
                        scan.error(e)
            if scan.error_count:
                raise _Failed(scan.preview(batch.filename))
            counts = writer.finish()
            summary = Summary(batch_id=batch.pk, rows=scan.rows, reports_created=counts["created"],
                              reports_replaced=counts["replaced"], reports_unchanged=counts["unchanged"],
                              lines_written=counts["lines"], totals=scan.totals())
            batch.state = ImportBatch.State.COMMITTED
            batch.committed_at = timezone.now()
            batch.summary = {**{k: v for k, v in batch.summary.items() if k != "_rows"},
                             "commit": summary.as_dict()}
            batch.save(update_fields=["state", "committed_at", "summary"])
        _drop_record(batch)
    except _Failed as failed:
        _save_preview(batch, failed.preview)
        raise ReportError(_("The file no longer passes the checks; nothing was imported."),
                          [e.as_dict() for e in failed.preview.errors], code="invalid_lines") from None
    except IntegrityError:
        raise ReportError(_("The reports changed while the file was being imported; check the file again."),
                          code="conflict") from None
    return summary


def _sha256_of(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(COPY_CHUNK):
            h.update(chunk)
    return h.hexdigest()


_EXT_RE = re.compile(r"^\.[a-z0-9]{1,5}$")


def store_upload(uploaded, user, form: ReportForm | str | None = None) -> ImportBatch:
    """Stream an upload (a Django UploadedFile, a file object or a path) to MEDIA_ROOT/imports/<sha256><ext> and
    create its ImportBatch (state invalid until `dry_run` passes). Raises ReportError(code="too_large") — and
    keeps nothing — when the file exceeds TRADEPILOT_MAX_UPLOAD_BYTES, and ReportError(code="forbidden") for a
    user who may not import."""
    if role_of(user) not in IMPORT_ROLES:
        raise ReportError(_("You may not import reports."), code="forbidden")
    form = _resolve_form(form)
    get_spec(form)
    limit = max_upload_bytes()
    if isinstance(uploaded, (str, os.PathLike)):
        filename = Path(uploaded).name
        source = open(uploaded, "rb")  # noqa: SIM115 - closed below
        chunks = iter(lambda: source.read(COPY_CHUNK), b"")
        declared = os.path.getsize(uploaded)
    else:
        source = None
        filename = Path(getattr(uploaded, "name", "") or "upload").name
        declared = getattr(uploaded, "size", None)
        chunks = uploaded.chunks() if hasattr(uploaded, "chunks") else iter(lambda: uploaded.read(COPY_CHUNK), b"")
    filename = filename[:255] or "upload"
    ext = Path(filename).suffix.lower()
    ext = ext if _EXT_RE.match(ext) else ""
    directory = Path(settings.MEDIA_ROOT) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    try:
        if declared is not None and declared > limit:
            raise ReportError(_too_large(declared).errors[0].message, code="too_large")
        h = hashlib.sha256()
        size = 0
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise ReportError(_too_large().errors[0].message, code="too_large")
                    h.update(chunk)
                    out.write(chunk)
            digest = h.hexdigest()
            final = directory / f"{digest}{ext}"
            os.replace(tmp, final)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    finally:
        if source is not None:
            source.close()
    return ImportBatch.objects.create(
        user=user, form=form, filename=filename, sha256=digest, size=size, stored_path=str(final),
        state=ImportBatch.State.INVALID, summary={"checked": False},
    )


__all__ = [
    "Column", "FormSpec", "MONTHLY_SPEC", "register_spec", "get_spec", "FileError", "READ_ERROR", "read_rows",
    "detect_kind", "detect_encoding", "parse_period", "Preview", "ReportPreview", "Summary", "dry_run", "commit",
    "store_upload", "max_upload_bytes", "max_import_rows",
]


def public_summary(batch: ImportBatch) -> dict:
    """The batch summary without the import's private bookkeeping (keys starting with "_")."""
    return {k: v for k, v in (batch.summary or {}).items() if not k.startswith("_")}
