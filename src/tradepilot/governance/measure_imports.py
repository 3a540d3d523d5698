"""Bulk upload of opening-measure effects from a CSV or XLSX file: dry run listing every bad row, then an
all-or-nothing commit.

Columns (header row: the key, the Chinese label, or the template's "中文 (key)"): area (region code or name of the
pilot area), measure (its code in 附件2), year, quarter (1–4 or Q1–Q4), indicator (enterprises / transactions /
amount), value. Files are read with the reporting importer's reader (`reporting.imports.read_rows`: CSV in UTF-8
or GB18030, or XLSX; header checks; row numbers as the spreadsheet shows them).

Only a bureau imports, and only for the areas it edits (`core.scoping.can_edit_area`): a row naming any other area
is an error of that row ("unknown_area" when the area is outside what the user may read, "not_your_area" when it
only reads it). A row's effect is the same as one entered by hand (`measures.clean_effect`); a file naming the
same area, measure, quarter and indicator twice is refused on the second row. The commit validates again inside
its transaction and writes every row (each change audited) or nothing.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from tradepilot.core.models import PilotArea, Role
from tradepilot.core.roles import profile_of, role_of
from tradepilot.core.scoping import can_edit_area, scope_areas
from tradepilot.governance import measures
from tradepilot.governance.models import AreaMeasure
from tradepilot.reporting.imports import READ_ERROR, Column, FileError, FormSpec, max_upload_bytes, read_rows

MAX_ROWS = 50_000
MAX_SHOWN = 500
CHUNK = 1024 * 1024
TOKEN_RE = re.compile(r"^[0-9a-f]{64}(\.csv|\.xlsx)?$")

EFFECTS_SPEC = FormSpec(
    form_code="governance_measure_effects",
    title_zh="开放便利举措实施效果",
    title_en="Effects of the opening measures",
    columns=(
        Column("area", "试点地区", "Pilot area",
               help_zh="试点地区的行政区划代码（如 330100）或名称（如 杭州），须为本账号负责的试点地区。",
               help_en="The pilot area's region code (e.g. 330100) or name (e.g. 杭州); an area your bureau is "
                       "responsible for.",
               example="330100"),
        Column("measure", "举措编号", "Measure code",
               help_zh="附件2 开放便利举措的编号，见“举措”工作表。",
               help_en="The code of the opening measure (附件2); see the '举措' sheet.",
               example="M1"),
        Column("year", "年度", "Year", help_zh="四位年份。", help_en="Four-digit year.", example="2019"),
        Column("quarter", "季度", "Quarter", help_zh="1–4（或 Q1–Q4），须在试点期内。",
               help_en="1–4 (or Q1–Q4), within the pilot period.", example="1"),
        Column("indicator", "指标", "Indicator",
               help_zh="enterprises = 使用该举措的企业数，transactions = 业务笔数或案例数，amount = 金额（万元）。",
               help_en="enterprises = enterprises using the measure, transactions = transactions or cases, "
                       "amount = amount in 10,000 CNY.",
               example="enterprises"),
        Column("value", "数值", "Value", help_zh="不小于 0，最多两位小数；企业数和笔数为整数。",
               help_en="Zero or more, at most two decimals; whole numbers for enterprises and transactions.",
               example="12", numeric=True),
    ),
    sheet_names=("data", "数据"),
)


@dataclass
class PlannedRow:
    row: int
    area: str
    measure: str
    quarter: str
    indicator: str
    value: str
    action: str  # "create" | "update" | "unchanged"


@dataclass
class ImportResult:
    filename: str
    rows: int = 0
    errors: list[dict] = field(default_factory=list)
    planned: list[PlannedRow] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors and self.rows > 0

    def count(self, action: str) -> int:
        return sum(1 for p in self.planned if p.action == action)

    @property
    def count_create(self) -> int:
        return self.count("create")

    @property
    def count_update(self) -> int:
        return self.count("update")

    @property
    def count_unchanged(self) -> int:
        return self.count("unchanged")

    def as_dict(self) -> dict:
        return {
            "ok": self.ok, "committed": self.committed, "filename": self.filename, "rows": self.rows,
            "created": self.count("create"), "updated": self.count("update"), "unchanged": self.count("unchanged"),
            "error_count": len(self.errors), "errors": self.errors[:MAX_SHOWN],
        }


class ImportFailed(Exception):
    def __init__(self, result: ImportResult):
        super().__init__(f"{len(result.errors)} errors")
        self.result = result


def may_import(user) -> bool:
    """Only the bureau of a pilot area (its region is an area's region) uploads effects: a provincial bureau
    without an area of its own would see every row refused."""
    if role_of(user) != Role.BUREAU:
        return False
    profile = profile_of(user)
    return profile is not None and PilotArea.objects.filter(region_id=profile.region_id).exists()


def check_importer(user) -> None:
    if not may_import(user):
        raise PermissionDenied(_("Effects are uploaded by the bureau of the pilot area."))


# --- the stored upload -------------------------------------------------------------------------------------------

def _directory(user) -> Path:
    return Path(settings.MEDIA_ROOT) / "governance" / "measure-imports" / str(user.pk)


def store_upload(uploaded, user) -> tuple[str, Path]:
    """Stream an upload into the user's own directory, named by its checksum; returns (token, path). A file over
    the upload limit raises MeasureError (413) and leaves nothing behind."""
    check_importer(user)
    limit = max_upload_bytes()
    too_large = measures.MeasureError([measures.error(
        "file", getattr(uploaded, "name", ""), "too_large",
        _("The file is larger than the limit of %(n)s MB.") % {"n": f"{limit / 1048576:.3g}"})], status=413)
    if (getattr(uploaded, "size", None) or 0) > limit:
        raise too_large
    ext = Path(getattr(uploaded, "name", "") or "").suffix.lower()
    ext = ext if ext in (".csv", ".xlsx") else ""
    directory = _directory(user)
    directory.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=directory, prefix=".upload-")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = uploaded.chunks() if hasattr(uploaded, "chunks") else iter(lambda: uploaded.read(CHUNK), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise too_large
                digest.update(chunk)
                out.write(chunk)
        token = digest.hexdigest() + ext
        final = directory / token
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return token, final


def stored_path(user, token: str) -> Path | None:
    """The path of a file the user uploaded earlier, or None (a token of another user's file finds nothing)."""
    if not TOKEN_RE.match(token or ""):
        return None
    path = _directory(user) / token
    return path if path.is_file() else None


# --- checking and writing ----------------------------------------------------------------------------------------

class _Areas:
    """Resolves the area column for one user: region code or name → the areas the user edits."""

    def __init__(self, user):
        self.user = user
        readable = scope_areas(user, PilotArea.objects.select_related("region", "round"))
        self.by_key: dict[str, list[PilotArea]] = {}
        for area in readable:
            for key in (area.region.code, area.name_zh, area.name_en.casefold(), area.region.name_zh):
                if key:
                    self.by_key.setdefault(key, []).append(area)

    def find(self, raw, row: int) -> tuple[list[PilotArea], dict | None]:
        text = str(raw if raw is not None else "").strip()
        if isinstance(raw, float) and raw.is_integer():
            text = str(int(raw))
        if not text:
            return [], measures.error("area", raw, "required", _("The pilot area is required."), row)
        found = self.by_key.get(text) or self.by_key.get(text.casefold()) or []
        if not found:
            return [], measures.error("area", raw, "unknown_area",
                                      _("No pilot area of yours has this code or name."), row)
        editable = [a for a in found if can_edit_area(self.user, a)]
        if not editable:
            return [], measures.error("area", raw, "not_your_area",
                                      _("Only the area's own bureau records its effects."), row)
        return editable, None


def check_file(path, user, filename: str = "", *, lock: bool = False) -> tuple[ImportResult, list]:
    """Read and validate every row; returns the result (errors, planned actions) and the rows to write as
    (AreaMeasure, EffectInput) pairs."""
    check_importer(user)
    result = ImportResult(filename=filename or Path(path).name)
    areas = _Areas(user)
    ams: dict[tuple[int, str], AreaMeasure | None] = {}
    existing: dict[tuple, object] = {}
    seen: dict[tuple, int] = {}
    writes: list = []
    try:
        rows = list(read_rows(path, EFFECTS_SPEC, max_rows=MAX_ROWS))
    except FileError as exc:
        result.errors = [e.as_dict() for e in exc.errors]
        return result, []
    result.rows = len(rows)
    for row_no, values in rows:
        if READ_ERROR in values:
            result.errors.append(values[READ_ERROR].as_dict())
            continue
        found, problem = areas.find(values["area"], row_no)
        if problem:
            result.errors.append(problem)
        code = str(values["measure"] if values["measure"] is not None else "").strip()
        am = None
        if not code:
            result.errors.append(measures.error("measure", "", "required", _("The measure code is required."), row_no))
        elif found:
            for area in sorted(found, key=lambda a: a.round.start_date, reverse=True):  # newest round first
                key = (area.pk, code.upper())
                if key not in ams:
                    qs = AreaMeasure.objects.select_related("area__round", "area__region", "measure")
                    if lock:
                        qs = qs.select_for_update(of=("self",))
                    ams[key] = qs.filter(area=area, measure__code__iexact=code).first()
                if ams[key] is not None:
                    am = ams[key]
                    break
            if am is None:
                result.errors.append(measures.error("measure", code, "unknown_measure",
                                                    _("The pilot round has no opening measure with this code."),
                                                    row_no))
        if am is None:
            continue
        try:
            data = measures.clean_effect(am, values["year"], values["quarter"], values["indicator"],
                                         values["value"], row=row_no)
        except measures.MeasureError as exc:
            result.errors += exc.errors
            continue
        key = (am.pk, data.year, data.quarter, data.indicator)
        if key in seen:
            result.errors.append(measures.error(
                "indicator", data.indicator, "duplicate",
                _("Row %(r)d already gives this area, measure, quarter and indicator.") % {"r": seen[key]}, row_no))
            continue
        seen[key] = row_no
        if am.pk not in existing:
            existing[am.pk] = {(e.year, e.quarter, e.indicator): e.value for e in am.effects.all()}
        old = existing[am.pk].get((data.year, data.quarter, data.indicator))
        action = "create" if old is None else ("unchanged" if old == data.value else "update")
        result.planned.append(PlannedRow(row_no, am.area.name, am.measure.code,
                                         measures.quarter_label(data.year, data.quarter), data.indicator,
                                         str(data.value), action))
        writes.append((am, data))
    return result, writes


def dry_run(path, user, filename: str = "") -> ImportResult:
    return check_file(path, user, filename)[0]


def commit(path, user, filename: str = "") -> ImportResult:
    """Validate again and write every row, or nothing (raises ImportFailed with the located errors)."""
    with transaction.atomic():
        result, writes = check_file(path, user, filename, lock=True)
        if not result.ok:
            raise ImportFailed(result)
        reason = _("imported from %(f)s") % {"f": result.filename}
        for am, data in writes:
            measures.save_effect(user, am, data, reason=reason)
        result.committed = True
    return result


# --- the template ------------------------------------------------------------------------------------------------

def template_rows(user) -> list[list]:
    """The header and one example row, from an area the user edits when there is one."""
    header = [c.header for c in EFFECTS_SPEC.columns]
    example = [c.example for c in EFFECTS_SPEC.columns]
    profile = profile_of(user)
    am = None
    if role_of(user) == Role.BUREAU and profile is not None and profile.region_id:
        am = (measures.area_measures(user).filter(area__region_id=profile.region_id)
              .order_by("-area__round__start_date", "measure__order").first())
    if am is not None:
        example[0], example[1] = am.area.region.code, am.measure.code
    return [header, example]


def template_csv(user) -> bytes:
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows(template_rows(user))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def template_xlsx(user) -> bytes:
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    for row in template_rows(user):
        ws.append(row)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, width in enumerate((14, 12, 8, 8, 16, 14), start=1):
        ws.column_dimensions[chr(64 + i)].width = width
    help_ws = wb.create_sheet("说明")
    for c in EFFECTS_SPEC.columns:
        help_ws.append([c.header, c.help_zh, c.help_en])
    help_ws.append([])
    help_ws.append(["", "先预检：所有错误列出行号、列名和原因；只要有一处错误，整个文件都不会导入。",
                    "Every upload is checked first; if any row is wrong, nothing is imported."])
    codes = wb.create_sheet("举措")
    codes.append(["举措编号 (measure)", "领域", "涉及行业", "开放便利举措"])
    rnd = measures.pick_round(None)
    if rnd is not None:
        for m in rnd.opening_measures.order_by("order"):
            codes.append([m.code, m.domain_zh, m.industry_zh, m.text_zh])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = ["EFFECTS_SPEC", "ImportFailed", "ImportResult", "check_importer", "commit", "dry_run", "store_upload",
           "stored_path", "template_csv", "template_xlsx"]
