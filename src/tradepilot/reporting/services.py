"""Creating reports and changing their content. Every change is audited in the same transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.reporting.lines import LineError, ParsedLine, ReferenceCache, parse_line
from tradepilot.reporting.models import MonthlyLine, Report, ReportForm, Status
from tradepilot.reporting.periods import Period, is_locked
from tradepilot.reporting.rates import MissingRate, RateTable


class ReportError(Exception):
    """A request the report's state or content does not allow; `errors` are located problems."""

    def __init__(self, message: str, errors: list[dict] | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.code = code


def monthly_form() -> ReportForm:
    return ReportForm.objects.get(code=ReportForm.Code.MONTHLY)


def get_or_create_report(enterprise, form: ReportForm, period: Period, actor) -> tuple[Report, bool]:
    report = Report.objects.filter(
        enterprise=enterprise, form=form, year=period.year, month=period.month, is_current=True
    ).first()
    if report is not None:
        return report, False
    if not enterprise.is_active:
        raise ReportError(_("This enterprise is deactivated."), code="inactive")
    report = Report.objects.create(enterprise=enterprise, form=form, year=period.year, month=period.month)
    audit.record(actor, "create", report, changes={"status": [None, Status.DRAFT]}, enterprise=enterprise, report=report)
    return report, True


def check_editable(report: Report, actor=None) -> None:
    if not report.is_editable:
        raise ReportError(
            _("The report is %(s)s and cannot be edited; request a revision instead.") % {"s": report.get_status_display()},
            code="not_editable",
        )
    if is_locked(report.form, Period(report.year, report.month), report.enterprise):
        raise ReportError(_("Data entry for this period is locked; ask your bureau for a lock exception."), code="locked")


def line_label(line: ParsedLine | MonthlyLine) -> str:
    if isinstance(line, MonthlyLine):
        return (f"{line.direction} {line.service.code} {line.partner.alpha2} mode {line.mode.code}"
                f"{' RP' if line.related_party else ''} {line.amount} {line.currency.code}")
    return (f"{line.direction} {line.service_code} {line.partner_code} mode {line.mode_code}"
            f"{' RP' if line.related_party else ''} {line.amount} {line.currency_code}")


class LineHasher:
    """An order-independent, incremental hash of a report's content (a multiset of lines plus the nil flag).

    Each line contributes sha256(repr(line.key())) read as a 256-bit integer; the contributions are summed
    modulo 2**256, so lines can be added one at a time in any order (the bulk import streams them) and the same
    lines give the same hash however they are ordered. The line count and the nil flag are folded in at the end.
    """

    __slots__ = ("total", "count")

    MODULUS = 1 << 256

    def __init__(self):
        self.total = 0
        self.count = 0

    def add_text(self, key_repr: str) -> None:
        """Add a line given as `repr(line.key())` (the bulk import builds that string without the tuple)."""
        self.total += int.from_bytes(hashlib.sha256(key_repr.encode()).digest(), "big")  # reduced in hexdigest
        self.count += 1

    def add_key(self, key: tuple) -> None:
        self.add_text(repr(key))

    def add(self, line: ParsedLine) -> None:
        self.add_key(line.key())

    def hexdigest(self, nil_return: bool = False) -> str:
        kind = "nil" if nil_return else "lines"
        return hashlib.sha256(f"{kind}:{self.count}:{self.total % self.MODULUS:064x}".encode()).hexdigest()


def content_hash(nil_return: bool, lines: Iterable[ParsedLine]) -> str:
    hasher = LineHasher()
    for line in lines:
        hasher.add(line)
    return hasher.hexdigest(nil_return)


def parse_lines(raw_lines: list[dict], ref: ReferenceCache | None = None) -> list[ParsedLine]:
    """Parse every line; raise ReportError with all located errors when any line is bad."""
    ref = ref or ReferenceCache()
    parsed, errors = [], []
    for index, raw in enumerate(raw_lines, start=1):
        line, errs = parse_line(raw, ref, index)
        errors.extend(errs)
        if line is not None:
            parsed.append(line)
    if errors:
        raise ReportError(_("Some lines are invalid."), [e.as_dict() for e in errors], code="invalid_lines")
    return parsed


def _usd(line: ParsedLine, rates: RateTable):
    try:
        return rates.to_usd(line.amount, line.currency_code)
    except MissingRate:
        return None  # allowed in a draft; submission requires every rate


def build_line_objects(report: Report, lines: list[ParsedLine], rates: RateTable) -> list[MonthlyLine]:
    return [
        MonthlyLine(
            report=report, line_no=i, direction=p.direction, service_id=p.service_id, partner_id=p.partner_id,
            mode_id=p.mode_id, related_party=p.related_party, amount=p.amount, currency_id=p.currency_id,
            usd_amount=_usd(p, rates), note=p.note,
        )
        for i, p in enumerate(lines, start=1)
    ]


def _line_changes(old: list[MonthlyLine], new: list[ParsedLine]) -> dict[str, list]:
    """Old → new per line number, so the audit log reads like the form."""
    changes: dict[str, list] = {}
    old_by_no = {line.line_no: line_label(line) for line in old}
    new_by_no = {i: line_label(p) for i, p in enumerate(new, start=1)}
    for no in sorted(set(old_by_no) | set(new_by_no)):
        a, b = old_by_no.get(no), new_by_no.get(no)
        if a != b:
            changes[f"line {no}"] = [a, b]
    return changes


@transaction.atomic
def replace_lines(report: Report, lines: list[ParsedLine], actor, *, nil_return: bool = False, reason: str = "",
                  source: str = "form", rates: RateTable | None = None) -> bool:
    """Replace the report's content. Returns False (and writes nothing) when the content is unchanged."""
    report = Report.objects.select_for_update().get(pk=report.pk)
    check_editable(report, actor)
    if nil_return and lines:
        raise ReportError(_("A nil return cannot have lines."), [{"row": None, "field": "nil_return", "value": "true",
                          "code": "nil_with_lines", "message": _("Remove the lines or untick 'no transactions'.")}],
                          code="nil_with_lines")
    new_hash = content_hash(nil_return, lines)
    if report.content_hash == new_hash:
        return False
    old_lines = list(report.lines.select_related("service", "partner", "mode", "currency"))
    changes = _line_changes(old_lines, lines)
    if report.nil_return != nil_return:
        changes["nil_return"] = [report.nil_return, nil_return]
    rates = rates or RateTable.for_month(report.year, report.month)
    report.lines.all().delete()
    MonthlyLine.objects.bulk_create(build_line_objects(report, lines, rates), batch_size=2000)
    report.nil_return = nil_return
    report.content_hash = new_hash
    report.save(update_fields=["nil_return", "content_hash", "updated"])
    audit.record(actor, f"update_lines:{source}", report, changes=changes, reason=reason,
                 enterprise=report.enterprise, report=report)
    return True


def refresh_usd_values(report: Report) -> list[dict]:
    """Recompute USD values at the month's rates; returns one error per currency without a rate."""
    rates = RateTable.for_month(report.year, report.month)
    missing: dict[str, dict] = {}
    to_update = []
    for line in report.lines.select_related("currency"):
        try:
            usd = rates.to_usd(line.amount, line.currency.code)
        except MissingRate as exc:
            missing.setdefault(exc.currency, {
                "row": line.line_no, "field": "currency", "value": line.currency.code, "code": "missing_rate",
                "message": _("No exchange rate for %(c)s in %(p)s; the report cannot be submitted until the ministry "
                             "publishes it.") % {"c": exc.currency, "p": report.period_label},
            })
            continue
        if usd != line.usd_amount:
            line.usd_amount = usd
            to_update.append(line)
    if to_update:
        MonthlyLine.objects.bulk_update(to_update, ["usd_amount"])
    return list(missing.values())


@transaction.atomic
def set_explanations(report: Report, explanations: dict[str, str], actor) -> None:
    report = Report.objects.select_for_update().get(pk=report.pk)
    check_editable(report, actor)
    cleaned = {k: v.strip() for k, v in explanations.items() if v and v.strip()}
    if cleaned == report.explanations:
        return
    audit.record(actor, "explain", report, changes=audit.diff(report.explanations, cleaned),
                 enterprise=report.enterprise, report=report)
    report.explanations = cleaned
    report.save(update_fields=["explanations", "updated"])


def line_errors_as_dicts(errors: list[LineError]) -> list[dict]:
    return [e.as_dict() for e in errors]
