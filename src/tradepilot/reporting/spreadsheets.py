"""Spreadsheet files for the bulk import: the templates to download, and exports of a report in the same columns.

The XLSX template has three sheets:

- 数据 (data): the header row ("统一社会信用代码 (uscc)", …), one example row, and drop-down lists (data
  validations) for direction, mode, related party, EBOPS code, partner and currency;
- 说明 (instructions): what each column means and the rules, in Chinese and then English;
- 代码表 (codes): the code lists the drop-downs use, each code with its Chinese name.

Exports write a report's lines in the template's columns, so an exported file can be edited and imported again.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tradepilot.core.models import Country, Currency, ServiceCategory, SupplyMode
from tradepilot.reporting.imports import MONTHLY_SPEC, FormSpec
from tradepilot.reporting.models import MonthlyLine, Report, ReportForm

DATA_SHEET = "数据"
HELP_SHEET = "说明"
CODES_SHEET = "代码表"
LAST_ROW = 1048576
# Amounts above this are written as text: a spreadsheet number keeps only ~15 significant digits.
EXACT_NUMBER_LIMIT = Decimal("1e13")

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
EXAMPLE_FONT = Font(italic=True, color="7F7F7F")
TITLE_FONT = Font(bold=True, size=14)
BOLD = Font(bold=True)

WIDTHS = {"uscc": 24, "period": 12, "direction": 10, "service": 12, "partner": 16, "mode": 10,
          "related_party": 12, "amount": 18, "currency": 10, "note": 40}


def _deadline_text(form: ReportForm | None) -> tuple[str, str]:
    day = form.due_day if form else 10
    offset = form.due_month_offset if form else 1
    if offset == 1:
        return f"次月{day}日", f"the {_ordinal(day)} of the following month"
    return f"报告期后第{offset}个月的{day}日", f"the {_ordinal(day)} of the {_ordinal(offset)} month after the period"


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _code_lists() -> dict[str, list[tuple[str, str]]]:
    return {
        "service": list(ServiceCategory.objects.filter(is_leaf=True).order_by("order", "code")
                        .values_list("code", "name_zh")),
        "partner": list(Country.objects.exclude(alpha2="CN").order_by("alpha2").values_list("alpha2", "name_zh")),
        "currency": list(Currency.objects.order_by("code").values_list("code", "name_zh")),
        "mode": list(SupplyMode.objects.filter(in_direct_report=True).order_by("code").values_list("code", "name_zh")),
        "direction": [("X", "出口"), ("M", "进口")],
        "related_party": [("Y", "关联交易"), ("N", "非关联交易")],
    }


CODE_TABLE_ORDER = ("service", "partner", "currency", "mode", "direction", "related_party")


def _write_codes_sheet(ws, spec: FormSpec, lists: dict) -> dict[str, str]:
    """Two columns (code, Chinese name) per list, one blank column between; returns key → range formula."""
    ranges = {}
    for n, key in enumerate(CODE_TABLE_ORDER):
        col = n * 3 + 1
        code_letter, name_letter = get_column_letter(col), get_column_letter(col + 1)
        column = spec.column(key)
        ws.cell(row=1, column=col, value=column.header).font = BOLD
        ws.cell(row=1, column=col + 1, value="名称 (name)").font = BOLD
        for i, (code, name) in enumerate(lists[key], start=2):
            ws.cell(row=i, column=col, value=code)
            ws.cell(row=i, column=col + 1, value=name)
        ws.column_dimensions[code_letter].width = 14
        ws.column_dimensions[name_letter].width = 28
        last = max(len(lists[key]) + 1, 2)
        ranges[key] = f"'{ws.title}'!${code_letter}$2:${code_letter}${last}"
    ws.freeze_panes = "A2"
    return ranges


def _help_rows(spec: FormSpec, form: ReportForm | None) -> list[tuple[str, str] | None]:
    deadline_zh, deadline_en = _deadline_text(form)
    rows: list[tuple[str, str] | None] = [
        ("title", f"{spec.title_zh} 批量导入模板 填写说明"),
        None,
        ("bold", "一、各列含义"),
    ]
    for c in spec.columns:
        rows.append(("", f"{c.header}{'' if c.required else '（选填）'}：{c.help_zh}"))
    rows += [
        None,
        ("bold", "二、填报规则"),
        ("", "1. 在“数据”工作表中每行填写一条交易汇总记录；第 1 行为表头，请勿修改。示例行（第 2 行）导入前请删除。"),
        ("", "2. 金额须大于 0，最多两位小数，不要带币种符号；千分位逗号可以保留。"),
        ("", "3. EBOPS 代码只能填最细一级（叶子）类别，如 SI2；汇总类别（如 SI、SC）不能直接填报。代码见“代码表”。"),
        ("", "4. 供应模式只能为 1（跨境交付）、2（境外消费）或 4（自然人移动）；模式 3（商业存在）在 FATS 报表中报送。"),
        ("", "5. 伙伴国家/地区为交易对方所在地，不能为 CN（中国内地）；香港、澳门、台湾分别填 HK、MO、TW。"),
        ("", f"6. 报送截止日期为{deadline_zh}；截止后数据录入将被锁定，需要修改请向主管商务部门申请。"),
        ("", "7. 同一企业同一报告期（统一社会信用代码 + 报告期）的所有行构成该期报表的全部内容，导入时整体替换该期已有的明细行；"
             "内容与系统中完全相同的报表不做任何修改，因此重复上传同一文件不会产生变化。"),
        ("", "8. 导入先进行预检：所有错误都会列出行号、列名、填写值和原因；只要有一处错误，整个文件都不会导入。"
             "已提交、已审核或已受理的报表不能通过导入修改，请先申请修订。"),
        ("", "9. 可保存为 Excel 工作簿（.xlsx）或 CSV（UTF-8 或中文 Excel 默认的 GB18030 编码均可）。"
             "报告期、统一社会信用代码两列请保持文本格式，避免 Excel 自动转换为日期或科学计数法。"),
        None,
        None,
        ("title", f"{spec.title_en}: bulk import template — instructions"),
        None,
        ("bold", "1. Columns"),
    ]
    for c in spec.columns:
        rows.append(("", f"{c.key} ({c.label_en}){'' if c.required else ', optional'}: {c.help_en}"))
    rows += [
        None,
        ("bold", "2. Rules"),
        ("", "1. Fill one line per row in the '数据' (data) sheet; row 1 is the header, do not change it. "
             "Delete the example row (row 2) before importing."),
        ("", "2. Amounts must be greater than zero with at most two decimals, without currency symbols; "
             "thousands separators are allowed."),
        ("", "3. Use leaf EBOPS 2010 codes only (e.g. SI2); aggregates such as SI or SC are rejected. "
             "See the '代码表' (codes) sheet."),
        ("", "4. The mode of supply is 1 (cross-border), 2 (consumption abroad) or 4 (presence of natural persons); "
             "mode 3 (commercial presence) is reported in FATS."),
        ("", "5. The partner is where the counterpart is, never CN (Chinese mainland); use HK, MO and TW for "
             "Hong Kong, Macao and Taiwan."),
        ("", f"6. The deadline is {deadline_en}; data entry locks some days later, after which changes need a "
             "lock exception from your bureau."),
        ("", "7. All rows of one enterprise and period (uscc + period) are the whole content of that report and "
             "replace its current lines. A report whose content is identical to what is stored is left untouched, "
             "so uploading the same file again changes nothing."),
        ("", "8. Every upload is checked first: each error is listed with its row, column, value and reason. If "
             "any row is wrong, nothing is imported. Submitted, approved or accepted reports cannot be changed by "
             "an import; request a revision first."),
        ("", "9. Save as an Excel workbook (.xlsx) or CSV (UTF-8, or GB18030 as Chinese Excel writes it). Keep "
             "the period and uscc columns formatted as text so Excel does not turn them into dates or numbers."),
    ]
    return rows


def monthly_template_xlsx(form: ReportForm | None = None) -> bytes:
    spec = MONTHLY_SPEC
    if form is None:
        form = ReportForm.objects.filter(code=ReportForm.Code.MONTHLY).first()
    lists = _code_lists()
    wb = Workbook()
    data = wb.active
    data.title = DATA_SHEET
    help_ws = wb.create_sheet(HELP_SHEET)
    codes = wb.create_sheet(CODES_SHEET)

    for i, column in enumerate(spec.columns, start=1):
        cell = data.cell(row=1, column=i, value=column.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center")
        example = data.cell(row=2, column=i, value=column.example)
        example.font = EXAMPLE_FONT
        letter = get_column_letter(i)
        data.column_dimensions[letter].width = WIDTHS.get(column.key, 14)
        if not column.numeric:
            # Text format: Excel keeps "2025-03" and 18-digit codes as typed.
            data.column_dimensions[letter].number_format = "@"
            example.number_format = "@"
        else:
            data.column_dimensions[letter].number_format = "#,##0.00"
    data.freeze_panes = "A2"

    ranges = _write_codes_sheet(codes, spec, lists)
    letters = {c.key: get_column_letter(i) for i, c in enumerate(spec.columns, start=1)}
    inline = {"direction": '"X,M"', "mode": '"' + ",".join(c for c, _n in lists["mode"]) + '"',
              "related_party": '"Y,N"'}
    for key in ("direction", "service", "partner", "mode", "related_party", "currency"):
        column = spec.column(key)
        dv = DataValidation(
            type="list", formula1=inline.get(key, ranges[key]), allow_blank=True,
            showErrorMessage=True,
            # The partner also accepts alpha-3 codes, so a value outside the list only warns.
            errorStyle="warning" if key == "partner" else "stop",
            errorTitle=column.label_zh, error=column.help_zh[:255],
            promptTitle=column.label_zh[:32], prompt=column.help_zh[:255], showInputMessage=True,
        )
        dv.add(f"{letters[key]}2:{letters[key]}{LAST_ROW}")
        data.add_data_validation(dv)

    help_ws.column_dimensions["A"].width = 140
    for r, row in enumerate(_help_rows(spec, form), start=1):
        if row is None:
            continue
        style, text = row
        cell = help_ws.cell(row=r, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if style == "title":
            cell.font = TITLE_FONT
        elif style == "bold":
            cell.font = BOLD

    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv_bytes(rows) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def monthly_template_csv() -> bytes:
    """UTF-8 with BOM (Excel opens it correctly): the header row and the example row."""
    spec = MONTHLY_SPEC
    return _csv_bytes([[c.header for c in spec.columns], [c.example for c in spec.columns]])


def _report_rows(report: Report):
    lines = (MonthlyLine.objects.filter(report=report).order_by("line_no")
             .values_list("direction", "service__code", "partner__alpha2", "mode__code", "related_party", "amount",
                          "currency__code", "note"))
    uscc, period = report.enterprise.uscc, f"{report.year}-{report.month:02d}"
    for direction, service, partner, mode, related, amount, currency, note in lines.iterator(chunk_size=2000):
        yield [uscc, period, direction, service, partner, mode, "Y" if related else "N", amount, currency, note]


def export_report_csv(report: Report) -> bytes:
    """The report's lines in the template's columns (UTF-8 with BOM); the file can be imported again."""
    header = [c.header for c in MONTHLY_SPEC.columns]
    return _csv_bytes([header, *([*r[:7], f"{r[7]:.2f}", *r[8:]] for r in _report_rows(report))])


def export_report_xlsx(report: Report) -> bytes:
    """The report's lines in the template's columns on a "数据" sheet; the file can be imported again."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    for i, column in enumerate(MONTHLY_SPEC.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = WIDTHS.get(column.key, 14)
    ws.append([c.header for c in MONTHLY_SPEC.columns])
    for row in _report_rows(report):
        amount = row[7]
        # Exact in a spreadsheet number up to ~15 digits; larger amounts go as text to keep every cent.
        row[7] = amount if abs(amount) < EXACT_NUMBER_LIMIT else f"{amount:.2f}"
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


__all__ = ["monthly_template_xlsx", "monthly_template_csv", "export_report_csv", "export_report_xlsx"]


def form_template_xlsx(form_code: str) -> bytes:
    """The import template of any form with a FormSpec other than the monthly one (which has its own, richer
    template): a data sheet with the header and an example row, instructions, and code lists with dropdowns."""
    from tradepilot.core.models import Industry
    from tradepilot.reporting.imports import get_spec

    if form_code == ReportForm.Code.MONTHLY:
        return monthly_template_xlsx()
    spec = get_spec(form_code)
    lists = {
        "country": list(Country.objects.exclude(alpha2="CN").order_by("alpha2").values_list("alpha2", "name_zh")),
        "industry": list(Industry.objects.filter(parent__isnull=False).order_by("code").values_list("code", "name_zh")),
    }
    list_of = {"ultimate_parent_country": "country", "host_country": "country", "industry": "industry",
               "activity": "industry"}
    wb = Workbook()
    data = wb.active
    data.title = DATA_SHEET
    help_ws = wb.create_sheet(HELP_SHEET)
    codes = wb.create_sheet(CODES_SHEET)
    ranges = {}
    for n, (key, rows) in enumerate(lists.items()):
        col = n * 3 + 1
        letter = get_column_letter(col)
        codes.cell(row=1, column=col, value={"country": "国家/地区 (country)", "industry": "行业 (industry)"}[key]).font = BOLD
        codes.cell(row=1, column=col + 1, value="名称 (name)").font = BOLD
        for i, (code, name) in enumerate(rows, start=2):
            codes.cell(row=i, column=col, value=code)
            codes.cell(row=i, column=col + 1, value=name)
        codes.column_dimensions[get_column_letter(col + 1)].width = 30
        ranges[key] = f"'{CODES_SHEET}'!${letter}$2:${letter}${max(len(rows) + 1, 2)}"
    for i, column in enumerate(spec.columns, start=1):
        cell = data.cell(row=1, column=i, value=column.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        example = data.cell(row=2, column=i, value=column.example or None)
        example.font = EXAMPLE_FONT
        letter = get_column_letter(i)
        data.column_dimensions[letter].width = max(14, min(30, len(column.header) * 2))
        if not column.numeric:
            data.column_dimensions[letter].number_format = "@"
        formula = (ranges.get(list_of[column.key]) if column.key in list_of
                   else '"domestic,foreign,hmt"' if column.key == "registration_type" else None)
        if formula:
            dv = DataValidation(type="list", formula1=formula, allow_blank=not column.required, showErrorMessage=True,
                                errorTitle=column.label_zh[:32], error=(column.help_zh or column.label_zh)[:255])
            dv.add(f"{letter}2:{letter}{LAST_ROW}")
            data.add_data_validation(dv)
    data.freeze_panes = "A2"
    help_ws.column_dimensions["A"].width = 120
    lines = [(TITLE_FONT, f"{spec.title_zh} 批量导入模板 填写说明"), (None, ""), (BOLD, "各列含义")]
    lines += [(None, f"{c.header}{'' if c.required else '（选填）'}：{c.help_zh}") for c in spec.columns]
    lines += [(None, ""), (BOLD, "填报规则"),
              (None, "1. 第 1 行为表头，请勿修改；示例行（第 2 行）导入前请删除。"),
              (None, "2. 金额单位为万元人民币，最多两位小数。"),
              (None, "3. 外向 FATS 每个境外附属机构一行；同一企业同一年度的所有行构成该年度报表的全部内容。"
                     "其他年报每家企业每年一行。"),
              (None, "4. 导入先预检，所有错误都列出行号、列名和原因；有任何错误则整个文件都不导入。内容未变化的报表不做修改。"),
              (None, ""), (TITLE_FONT, f"{spec.title_en}: import template — instructions"), (None, "")]
    lines += [(None, f"{c.key} ({c.label_en}){'' if c.required else ', optional'}: {c.help_en}") for c in spec.columns]
    lines += [(None, ""), (None, "Row 1 is the header; delete the example row. Money in CNY 10,000 with at most two "
                                 "decimals. Outward FATS: one row per affiliate; other annual forms: one row per "
                                 "enterprise and year. Any error rejects the whole file; unchanged reports stay as "
                                 "they are.")]
    for r, (font, text) in enumerate(lines, start=1):
        cell = help_ws.cell(row=r, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if font is not None:
            cell.font = font
    wb.active = 0
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def form_template_csv(form_code: str) -> bytes:
    from tradepilot.reporting.imports import get_spec

    if form_code == ReportForm.Code.MONTHLY:
        return monthly_template_csv()
    spec = get_spec(form_code)
    return _csv_bytes([[c.header for c in spec.columns], [c.example for c in spec.columns]])
