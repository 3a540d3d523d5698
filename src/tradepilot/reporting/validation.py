"""Validation: structural checks per line, and the data-driven rules of `ValidationRule`.

Rule expressions are small arithmetic over the report's USD totals:

    exports, imports          totals of the report
    total, balance            exports + imports, exports − imports
    exports.SI, imports.SC1   totals of an EBOPS component or sub-component (any code prefix)
    lines                     number of lines
    prev(expr)                expr on the enterprise's previous month (missing if not reported)
    last_year(expr)           expr on the same month a year earlier (missing if not reported)
    numbers, + - * /, abs(), min(), max(), parentheses

A missing value (a period that was never reported) is handled by the rule's missing-value strategy, as in DHIS2.
Outlier rules compare `left_expression` with the enterprise's own history using a seasonal median/MAD robust
z-score (see `robust_z`), so that zero-heavy series do not flood reviewers with warnings.
"""

from __future__ import annotations

import ast
import math
import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from tradepilot.reporting.models import MonthlyLine, Report, Status, ValidationRule
from tradepilot.reporting.periods import Period

REPORTED = [Status.SUBMITTED, Status.APPROVED, Status.ACCEPTED, Status.LOCKED]
HISTORY_MONTHS = 36


class ExpressionError(ValueError):
    pass


class Missing(Exception):
    """Raised inside evaluation when a referenced period has no report."""


@dataclass
class Totals:
    exports: Decimal = Decimal(0)
    imports: Decimal = Decimal(0)
    lines: int = 0
    by_code: dict = field(default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))

    def component(self, direction: str, prefix: str) -> Decimal:
        i = 0 if direction == "exports" else 1
        return sum((v[i] for code, v in self.by_code.items() if code.startswith(prefix)), Decimal(0))


def totals_from_rows(rows) -> Totals:
    t = Totals()
    for direction, code, usd in rows:
        usd = usd or Decimal(0)
        t.lines += 1
        if direction == MonthlyLine.Direction.EXPORT:
            t.exports += usd
            t.by_code[code][0] += usd
        else:
            t.imports += usd
            t.by_code[code][1] += usd
    return t


def report_totals(report: Report) -> Totals:
    return totals_from_rows(report.lines.values_list("direction", "service__code", "usd_amount"))


# --- expressions -----------------------------------------------------------------------------------------------

_ALLOWED_FUNCS = {"prev", "last_year", "abs", "min", "max"}
_VARS = {"exports", "imports", "total", "balance", "lines"}


def parse_expression(text: str) -> ast.Expression:
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"Cannot parse '{text}': {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Load, ast.Add, ast.Sub, ast.Mult,
                             ast.Div, ast.USub, ast.UAdd)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            continue
        if isinstance(node, ast.Name) and (node.id in _VARS or node.id in _ALLOWED_FUNCS):
            continue
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in {"exports", "imports"}:
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _ALLOWED_FUNCS:
            continue
        raise ExpressionError(f"'{ast.unparse(node)}' is not allowed in a rule expression")
    return tree


def referenced_codes(text: str) -> set[str]:
    """EBOPS prefixes an expression refers to (to point rule results at the matching lines)."""
    if not text:
        return set()
    return {n.attr for n in ast.walk(parse_expression(text)) if isinstance(n, ast.Attribute)}


class Evaluator:
    def __init__(self, report: Report):
        self.report = report
        self.period = Period(report.year, report.month)
        self._cache: dict[Period, Totals | None] = {self.period: report_totals(report)}

    def totals(self, period: Period) -> Totals | None:
        if period not in self._cache:
            other = Report.objects.filter(
                enterprise_id=self.report.enterprise_id, form_id=self.report.form_id, year=period.year,
                month=period.month, is_current=True, status__in=REPORTED,
            ).first()
            self._cache[period] = report_totals(other) if other else None
        return self._cache[period]

    def evaluate(self, text: str, period: Period | None = None) -> Decimal:
        return self._eval(parse_expression(text).body, period or self.period)

    def _eval(self, node, period: Period) -> Decimal:
        if isinstance(node, ast.Constant):
            return Decimal(str(node.value))
        if isinstance(node, ast.UnaryOp):
            value = self._eval(node.operand, period)
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp):
            a, b = self._eval(node.left, period), self._eval(node.right, period)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            if b == 0:
                raise Missing  # a ratio over zero has no value: the missing-value strategy decides
            return a / b
        if isinstance(node, ast.Call):
            name = node.func.id
            if name == "prev":
                return self._eval(node.args[0], period.previous)
            if name == "last_year":
                return self._eval(node.args[0], period.same_month_last_year)
            values = [self._eval(arg, period) for arg in node.args]
            return {"abs": lambda v: abs(v[0]), "min": min, "max": max}[name](values)
        totals = self.totals(period)
        if totals is None:
            raise Missing
        if isinstance(node, ast.Attribute):
            return totals.component(node.value.id, node.attr)
        name = node.id
        if name == "exports":
            return totals.exports
        if name == "imports":
            return totals.imports
        if name == "total":
            return totals.exports + totals.imports
        if name == "balance":
            return totals.exports - totals.imports
        if name == "lines":
            return Decimal(totals.lines)
        raise ExpressionError(name)

    def history(self, text: str, months: int = HISTORY_MONTHS) -> list[tuple[Period, Decimal]]:
        periods = [self.period.shift(-i) for i in range(1, months + 1)]
        reports = Report.objects.filter(
            enterprise_id=self.report.enterprise_id, form_id=self.report.form_id, is_current=True,
            status__in=REPORTED, year__gte=periods[-1].year,
        )
        wanted = set(periods)
        rows = defaultdict(list)
        for rid, y, m, d, code, usd in MonthlyLine.objects.filter(report__in=reports).values_list(
            "report_id", "report__year", "report__month", "direction", "service__code", "usd_amount"
        ):
            rows[(rid, y, m)].append((d, code, usd))
        for rid, y, m in reports.values_list("id", "year", "month"):
            p = Period(y, m)
            if p in wanted and p not in self._cache:
                self._cache[p] = totals_from_rows(rows.get((rid, y, m), []))
        out = []
        for p in periods:
            if self._cache.get(p) is not None:
                try:
                    out.append((p, self.evaluate(text, p)))
                except Missing:
                    pass
        return out


# --- robust outlier --------------------------------------------------------------------------------------------

def robust_z(value: Decimal, history: list[tuple[Period, Decimal]], month: int) -> tuple[float, float] | None:
    """Robust z-score of `value` against the history, on log1p scale with a per-calendar-month seasonal offset.

    Returns (z, typical value) or None when the history cannot say anything. MAD falls back to the mean absolute
    deviation (× 1.2533, its consistency factor) when more than half the residuals coincide, as they do in
    zero-heavy series; a constant history makes any different value an outlier only if it differs by > 50%.
    """
    if not history:
        return None
    ys = [(p.month, math.log1p(max(float(v), 0.0))) for p, v in history]
    overall = statistics.median(y for _m, y in ys)
    by_month = defaultdict(list)
    for m, y in ys:
        by_month[m].append(y)
    seasonal = {m: statistics.median(v) - overall for m, v in by_month.items() if len(v) >= 2}
    residuals = [y - seasonal.get(m, 0.0) for m, y in ys]
    center = statistics.median(residuals)
    x = math.log1p(max(float(value), 0.0)) - seasonal.get(month, 0.0)
    typical = math.expm1(center + seasonal.get(month, 0.0))
    mad = statistics.median(abs(r - center) for r in residuals) * 1.4826
    if mad == 0:
        mad = statistics.fmean(abs(r - center) for r in residuals) * 1.2533
    if mad == 0:
        return (math.inf if abs(math.expm1(x) - math.expm1(center)) > 0.5 * max(math.expm1(center), 1.0) else 0.0,
                typical)
    return ((x - center) / mad, typical)


# --- results ---------------------------------------------------------------------------------------------------

@dataclass
class RuleResult:
    rule: str
    importance: str
    message: str
    left: str | None = None
    right: str | None = None
    lines: list[int] = field(default_factory=list)
    explanation: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidationReport:
    errors: list[RuleResult]
    warnings: list[RuleResult]
    line_errors: list[dict]

    @property
    def blocking(self) -> bool:
        return bool(self.errors or self.line_errors or any(not w.explanation for w in self.warnings))

    def as_dict(self) -> dict:
        return {
            "ok": not self.blocking,
            "errors": [r.as_dict() for r in self.errors],
            "warnings": [r.as_dict() for r in self.warnings],
            "line_errors": self.line_errors,
        }

    def by_line(self) -> dict[int, list[str]]:
        out = defaultdict(list)
        for e in self.line_errors:
            if e.get("row"):
                out[e["row"]].append(e["message"])
        for r in self.errors + self.warnings:
            for no in r.lines:
                out[no].append(r.message)
        return out


def _fmt(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:,.2f}"


def _rule_name(rule: ValidationRule) -> str:
    lang = (get_language() or "zh-hans").lower()
    return rule.name_en if lang.startswith("en") and rule.name_en else rule.name_zh


def _lines_for(rule: ValidationRule, line_codes: dict[int, str]) -> list[int]:
    try:
        codes = referenced_codes(rule.left_expression) | referenced_codes(rule.right_expression)
    except ExpressionError:
        return []
    return sorted(no for no, code in line_codes.items() if any(code.startswith(c) for c in codes))


def compare(a: Decimal, op: str, b: Decimal) -> bool:
    return {"==": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def evaluate_rule(rule: ValidationRule, ev: Evaluator) -> RuleResult | None:
    """The rule's failure, or None when it passes or is skipped."""
    if rule.kind == ValidationRule.Kind.OUTLIER:
        value = ev.evaluate(rule.left_expression)
        history = ev.history(rule.left_expression)
        if len(history) < rule.min_history:
            return None
        scored = robust_z(value, history, ev.period.month)
        if scored is None or abs(scored[0]) <= float(rule.threshold):
            return None
        z, typical = scored
        z_text = "∞" if math.isinf(z) else f"{z:.1f}"
        return RuleResult(rule.code, rule.importance,
                          _("%(name)s: %(value)s is unusual against this enterprise's history (typical %(typ)s, "
                            "robust z = %(z)s).") % {"name": _rule_name(rule), "value": _fmt(value),
                                                      "typ": f"{typical:,.2f}", "z": z_text},
                          left=_fmt(value), right=f"{typical:,.2f}")
    values, missing = [], 0
    for text in (rule.left_expression, rule.right_expression or "0"):
        try:
            values.append(ev.evaluate(text))
        except Missing:
            missing += 1
            values.append(None)
    strategy = rule.missing_value_strategy
    if missing and strategy == ValidationRule.MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING:
        return None
    if missing == 2 and strategy == ValidationRule.MissingValueStrategy.SKIP_IF_ALL_VALUES_MISSING:
        return None
    left, right = (v if v is not None else Decimal(0) for v in values)
    if compare(left, rule.operator, right):
        return None
    return RuleResult(rule.code, rule.importance,
                      _("%(name)s (%(l)s %(op)s %(r)s does not hold).") % {
                          "name": _rule_name(rule), "l": _fmt(left), "op": rule.get_operator_display(), "r": _fmt(right)},
                      left=_fmt(left), right=_fmt(right))


def validate_report(report: Report, *, line_errors: list[dict] | None = None) -> ValidationReport:
    """Run the form's active rules. A nil return skips value rules (there is nothing to compare)."""
    errors, warnings = [], []
    line_errors = list(line_errors or [])
    if report.form.code != "monthly":
        from tradepilot.reporting.annual import content_errors

        return ValidationReport([], [], line_errors + content_errors(report))
    if not report.nil_return and not report.lines.exists():
        line_errors.append({"row": None, "field": "lines", "value": "", "code": "empty",
                            "message": _("Add at least one line, or tick 'no transactions this month'.")})
    if not report.nil_return and report.form.code == "monthly":
        ev = Evaluator(report)
        line_codes = dict(report.lines.values_list("line_no", "service__code"))
        for rule in ValidationRule.objects.filter(form=report.form, is_active=True):
            try:
                result = evaluate_rule(rule, ev)
            except (ExpressionError, Missing):
                continue  # a rule that cannot be evaluated must not block a filer; admins see it in the rule list
            if result is None:
                continue
            result.lines = _lines_for(rule, line_codes)
            result.explanation = report.explanations.get(rule.code, "")
            (errors if rule.importance == ValidationRule.Importance.ERROR else warnings).append(result)
    return ValidationReport(errors, warnings, line_errors)
