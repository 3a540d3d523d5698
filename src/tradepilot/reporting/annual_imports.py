"""Bulk import of the annual forms: basic registration, inward FATS and outward FATS.

The files are small (one row per enterprise and year; outward FATS one row per affiliate), so the whole file is
applied through the same services as the web form (`reporting.annual`) inside one transaction: the dry run rolls
it back, the commit keeps it only when no row has an error. Each service error is located at the row it came from.
A report whose content would not change is left untouched, so uploading the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core.scoping import scope
from tradepilot.enterprises import uscc as uscc_codes
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting import annual, periods
from tradepilot.reporting.imports import (
    READ_ERROR,
    Column,
    FileError,
    FormSpec,
    Preview,
    ReportPreview,
    Summary,
    get_spec,
    read_rows,
    register_spec,
)
from tradepilot.reporting.lines import LineError, clean_text
from tradepilot.reporting.models import ImportBatch, Report, ReportForm
from tradepilot.reporting.periods import Period
from tradepilot.reporting.services import ReportError, get_or_create_report

MAX_ERRORS = 1000


def _c(key, zh, en, help_zh="", help_en="", example="", required=True, numeric=False) -> Column:
    return Column(key, zh, en, required=required, help_zh=help_zh, help_en=help_en, example=example, numeric=numeric)


USCC = _c("uscc", "统一社会信用代码", "Unified social credit code", "18位统一社会信用代码。",
          "The enterprise's 18-character unified social credit code.", "91110000MA01ABCD2X")
YEAR = _c("year", "报告年度", "Year", "报告年度，如 2025。", "The year reported, e.g. 2025.", "2025")
MONEY_HELP = ("单位：万元人民币，最多两位小数。", "CNY 10,000, at most two decimals.")


def _money(key, zh, en, example="0", required=True) -> Column:
    return _c(key, zh, en, MONEY_HELP[0], MONEY_HELP[1], example, required=required, numeric=True)


BASIC_SPEC = register_spec(FormSpec(
    form_code=ReportForm.Code.BASIC, title_zh="基本情况登记", title_en="Annual basic-situation registration",
    columns=(
        USCC, YEAR,
        _c("name", "企业名称", "Name", "与营业执照一致。", "As on the business licence.", "北京示例科技有限公司"),
        _c("industry", "行业代码", "Industry", "GB/T 4754-2017 大类代码（两位）。", "GB/T 4754-2017 division.", "65",
           required=False),
        _c("registration_type", "登记注册类型", "Registration type", "domestic 内资 / foreign 外商投资 / hmt 港澳台投资。",
           "domestic, foreign or hmt.", "domestic"),
        _c("foreign_share", "外资持股比例", "Foreign share (%)", "0–100。", "0 to 100.", "", required=False, numeric=True),
        _c("employees", "从业人员", "Employees", "年末从业人员数。", "Persons employed at year end.", "120", numeric=True),
        _money("registered_capital", "注册资本", "Registered capital", "1000", required=False),
        _c("main_services", "主要服务内容", "Main services", "", "", "软件开发", required=False),
        _c("contact_name", "联系人", "Contact person", required=False),
        _c("contact_phone", "联系电话", "Contact phone", required=False),
        _c("contact_email", "电子邮箱", "Contact e-mail", required=False),
    ),
))

COMPONENTS = ("SA", "SB", "SC", "SD", "SE", "SF", "SG", "SH", "SI", "SJ", "SK", "SL")

FATS_IN_SPEC = register_spec(FormSpec(
    form_code=ReportForm.Code.FATS_IN, title_zh="内向外国附属机构服务贸易年报（FATS）", title_en="Annual inward FATS",
    columns=(
        USCC, YEAR,
        _c("ultimate_parent_country", "最终控股母公司所在国家/地区", "Ultimate controlling parent country",
           "ISO 3166-1 两位代码，不能为 CN。", "ISO 3166-1 alpha-2, not CN.", "DE"),
        _c("activity", "行业代码", "Activity", "GB/T 4754-2017 大类代码。", "GB/T 4754-2017 division.", "65"),
        _money("turnover", "营业收入", "Turnover", "52000"),
        _money("services_sales", "服务销售额", "Sales of services", "30000"),
        _c("employment", "从业人员", "Employment", "年末从业人员数。", "Persons employed at year end.", "420",
           numeric=True),
        _money("compensation", "职工薪酬", "Compensation of employees", "8100"),
        _money("value_added", "增加值", "Value added", "12500"),
        _money("exports", "货物和服务出口", "Exports of goods and services", "9800"),
        _money("imports", "货物和服务进口", "Imports of goods and services", "3100"),
        _money("total_assets", "资产总计", "Total assets", "64000"),
        _money("rd_expenditure", "研发经费支出", "R&D expenditure", "2300"),
        *(_money(f"sales_{code}", f"服务销售额-{code}", f"Sales of services {code}",
                 {"SI": "21000", "SJ": "9000"}.get(code, ""), required=False) for code in COMPONENTS),
    ),
))

FATS_OUT_SPEC = register_spec(FormSpec(
    form_code=ReportForm.Code.FATS_OUT, title_zh="外向外国附属机构服务贸易年报（FATS）", title_en="Annual outward FATS",
    columns=(
        USCC, YEAR,
        _c("name", "境外附属机构名称", "Affiliate name", "每个境外附属机构一行。", "One row per overseas affiliate.",
           "Example GmbH"),
        _c("host_country", "所在国家/地区", "Host country", "ISO 3166-1 两位代码，不能为 CN。", "ISO alpha-2, not CN.", "DE"),
        _c("activity", "行业代码", "Activity", "GB/T 4754-2017 大类代码。", "GB/T 4754-2017 division.", "65"),
        _money("turnover", "营业收入", "Turnover", "3200"),
        _c("employment", "从业人员", "Employment", "", "", "35", numeric=True),
        _money("total_assets", "资产总计", "Total assets", "5100"),
        _c("net_profit", "净利润", "Net profit", MONEY_HELP[0] + "可为负数。", MONEY_HELP[1] + " May be negative.",
           "-120.5", numeric=True),
        _c("ownership_share", "中方持股比例", "Chinese ownership share (%)", "大于 50，不超过 100。",
           "Above 50, at most 100.", "100", numeric=True),
    ),
))

SPECS = {s.form_code: s for s in (BASIC_SPEC, FATS_IN_SPEC, FATS_OUT_SPEC)}


@dataclass
class _Group:
    uscc: str
    year: int
    rows: list[tuple[int, dict]] = field(default_factory=list)


def _plain(value) -> str:
    """Spreadsheet cells arrive as numbers; the services take text (an integral float such as 120.0 → "120")."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)[:-2] if value.is_integer() else repr(value)
    return clean_text(value)


def _content(spec: FormSpec, rows: list[tuple[int, dict]]):
    code = spec.form_code
    if code == ReportForm.Code.FATS_OUT:
        return [{k: _plain(raw.get(k)) for k in annual.OUTWARD_MONEY + ("name", "host_country", "activity",
                                                                         "employment", "net_profit",
                                                                         "ownership_share")}
                for _row, raw in rows]
    raw = rows[0][1]
    data = {c.key: _plain(raw.get(c.key)) for c in spec.columns if c.key not in ("uscc", "year")}
    if code == ReportForm.Code.FATS_IN:
        data["services_sales_by_component"] = {
            k[len("sales_"):]: v for k, v in list(data.items()) if k.startswith("sales_") and v}
        for k in [k for k in data if k.startswith("sales_")]:
            del data[k]
    return data


def _row_of(group: _Group, field_path: str) -> int:
    """`affiliates.3.turnover` is the group's third row; any other field is on its first row."""
    parts = field_path.split(".")
    if parts[0] == "affiliates" and len(parts) > 1 and parts[1].isdigit():
        index = int(parts[1]) - 1
        if 0 <= index < len(group.rows):
            return group.rows[index][0]
    return group.rows[0][0]


def _column_of(field_path: str) -> str:
    parts = field_path.split(".")
    if parts[0] == "affiliates" and len(parts) > 2:
        return parts[2]
    if parts[0] == "services_sales_by_component" and len(parts) > 1:
        return f"sales_{parts[1]}"
    return parts[0]


def _apply(report: Report, spec: FormSpec, group: _Group, user, reason: str) -> bool:
    """Save the group's content; False (and nothing kept) when it equals what is stored."""
    before = annual.content(report)
    content = _content(spec, group.rows)
    sid = transaction.savepoint()
    if spec.form_code == ReportForm.Code.BASIC:
        annual.save_basic(report, content, user, reason)
    elif spec.form_code == ReportForm.Code.FATS_IN:
        annual.save_fats_in(report, content, user, reason)
    else:
        annual.save_fats_out(report, content, user, reason=reason)
    report.refresh_from_db()
    if before is not None and annual.content(report) == before:
        transaction.savepoint_rollback(sid)  # identical content: keep the stored rows as they were
        return False
    transaction.savepoint_commit(sid)
    return True


def _run(batch: ImportBatch, user, *, keep: bool) -> tuple[Preview, dict]:
    spec = get_spec(batch.form)
    preview = Preview(form=spec.form_code, filename=batch.filename)
    counts = {"created": 0, "replaced": 0, "unchanged": 0}

    def error(row, field_name, value, code, message):
        preview.error_count += 1
        if len(preview.errors) < MAX_ERRORS:
            preview.errors.append(LineError(row, field_name, clean_text(value)[:100], code, message))

    groups: dict[tuple[str, int], _Group] = {}
    try:
        for row_no, raw in read_rows(batch.stored_path, spec, max_rows=100_000):
            preview.rows += 1
            if READ_ERROR in raw:
                e = raw[READ_ERROR]
                error(e.row, e.field, e.value, e.code, e.message)
                continue
            code = uscc_codes.normalize(_plain(raw.get("uscc")))
            year_text = _plain(raw.get("year"))
            if not (year_text.isdigit() and 2000 <= int(year_text) < periods.today().year + 1):
                error(row_no, "year", year_text, "invalid_year", _("The year must be a past or the current year."))
                continue
            group = groups.setdefault((code, int(year_text)), _Group(code, int(year_text)))
            group.rows.append((row_no, raw))
    except FileError as exc:
        for e in exc.errors:
            error(e.row, e.field, e.value, e.code, e.message)
        return preview, counts

    form = batch.form
    visible = {e.uscc: e for e in scope(user, Enterprise.objects.filter(uscc__in=[g.uscc for g in groups.values()]))}
    with transaction.atomic():
        for group in groups.values():
            first_row = group.rows[0][0]
            enterprise = visible.get(group.uscc)
            if enterprise is None:
                error(first_row, "uscc", group.uscc, "unknown_enterprise", _("Unknown enterprise or not yours."))
                continue
            if spec.form_code != ReportForm.Code.FATS_OUT and len(group.rows) > 1:
                for row_no, _raw in group.rows[1:]:
                    error(row_no, "uscc", group.uscc, "duplicate_report",
                          _("One row per enterprise and year: this enterprise and year already appear on row %(r)d.")
                          % {"r": first_row})
                continue
            try:
                report, created = get_or_create_report(enterprise, form, Period(group.year, 0), user)
                changed = _apply(report, spec, group, user, f"import {batch.filename}")
            except ReportError as exc:
                if exc.errors:
                    for e in exc.errors:
                        error(_row_of(group, e["field"]), _column_of(e["field"]), e.get("value", ""), e["code"],
                              e["message"])
                else:
                    error(first_row, "uscc", group.uscc, exc.code, exc.message)
                continue
            action = "create" if created else ("replace" if changed else "unchanged")
            counts[{"create": "created", "replace": "replaced", "unchanged": "unchanged"}[action]] += 1
            preview.reports.append(ReportPreview(
                uscc=group.uscc, enterprise=enterprise.name, period=str(group.year), report_id=report.pk,
                action=action, lines=len(group.rows), old_lines=None, exports_usd="", imports_usd="",
                missing_rates=[]))
        if not keep or preview.error_count:
            transaction.set_rollback(True)
    return preview, counts


def dry_run(batch: ImportBatch, user) -> Preview:
    if batch.user_id != user.pk:
        raise ReportError(_("This import belongs to another user."), code="forbidden")
    if batch.state == ImportBatch.State.COMMITTED:
        raise ReportError(_("This file has already been imported."), code="already_committed")
    preview, _counts = _run(batch, user, keep=False)
    for r in preview.reports:
        r.report_id = None if r.action == "create" else r.report_id  # the dry run's new reports were rolled back
    batch.state = ImportBatch.State.PREVIEWED if preview.ok else ImportBatch.State.INVALID
    batch.row_count = preview.rows
    batch.report_count = len(preview.reports)
    batch.errors = [e.as_dict() for e in preview.errors]
    batch.summary = preview.summary()
    batch.save(update_fields=["state", "row_count", "report_count", "errors", "summary"])
    return preview


def commit(batch: ImportBatch, user) -> Summary:
    if batch.user_id != user.pk:
        raise ReportError(_("This import belongs to another user."), code="forbidden")
    if batch.state == ImportBatch.State.COMMITTED:
        raise ReportError(_("This file has already been imported."), code="already_committed")
    if batch.state != ImportBatch.State.PREVIEWED:
        raise ReportError(_("The file has errors (or was not checked yet); check it and fix the errors first."),
                          list(batch.errors), code="invalid_batch")
    preview, counts = _run(batch, user, keep=True)
    if not preview.ok:
        batch.state, batch.errors = ImportBatch.State.INVALID, [e.as_dict() for e in preview.errors]
        batch.save(update_fields=["state", "errors"])
        raise ReportError(_("The file no longer passes the checks; nothing was imported."),
                          [e.as_dict() for e in preview.errors], code="invalid_lines")
    summary = Summary(batch_id=batch.pk, rows=preview.rows, reports_created=counts["created"],
                      reports_replaced=counts["replaced"], reports_unchanged=counts["unchanged"],
                      lines_written=sum(r.lines for r in preview.reports if r.action != "unchanged"), totals={})
    batch.state, batch.committed_at = ImportBatch.State.COMMITTED, timezone.now()
    batch.summary = {**batch.summary, "commit": summary.as_dict()}
    batch.save(update_fields=["state", "committed_at", "summary"])
    return summary

