"""Annual results reports (试点成效, 附件1 四): one per pilot area and year, figures pulled from live data plus the
bureau's narrative, submitted to the ministry, which accepts it or returns it with a note.

`compute_figures(area, year)` is the one place the figures come from:

- trade (analytics, official stage, the area's region subtree): exports, imports, total for the year (January to
  the last month of the year with data, so a running year counts its months so far) and year-on-year growth of
  exports and of total trade against the same months of the year before — `None` unless the store holds every
  one of those months of the year before (a partial earlier year would make the growth meaningless);
- reporting coverage (`reporting.completeness`): key-contact enterprises of the region, and report-months
  submitted ÷ expected over the same months, `None` when no monthly report exists for them at all;
- governance, by the end of the year: area tasks completed / all, opening measures implemented / applicable
  (`measures.implementation_summary`, as the evaluation counts them),
  experiences published and adoptions of them by other areas (`experiences.adopted_elsewhere`).

Figures are stored as a snapshot (`figures`, `figures_at`); the bureau re-pulls them while the report is editable
(draft or returned). Values are Decimal strings (money to the cent, percentages to 0.1) or `None`.

Who may do what: reading follows `core.scoping.scope_areas`; only the area's own bureau (`can_edit_area`) creates,
edits, pulls and submits; only the ministry reviews. Every change is audited in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from tradepilot.core.audit import diff, record
from tradepilot.core.models import PilotArea, PilotRound, Role
from tradepilot.core.notifications import notify
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import can_edit_area, scope_areas
from tradepilot.governance.common import (
    LocatedError,
    Text,
    bureau_users,
    check_reader,
    error,
    ministry_users,
    render_stored,
)
from tradepilot.governance.models import (
    AreaTask,
    ResultsReport,
    ReviewStatus,
    TaskStatus,
)

CENT = Decimal("0.01")
ONE_DECIMAL = Decimal("0.1")
NARRATIVE_MAX = 20_000
#: Roles that read governance records at all (each within its scope); enterprise users and anonymous do not.
EDITABLE = {ReviewStatus.DRAFT, ReviewStatus.RETURNED}


class ResultsError(LocatedError):
    """The results and experience parts' refusals, raised as (status, message, code, field, value)."""

    def __init__(self, status: int, message: str, code: str, field: str | None = None, value=None):
        errors = [] if field is None else [error(field, value, code, message)]
        super().__init__(errors, status, message=message, code=code)


# --- who ---------------------------------------------------------------------------------------------------------

def require_reader(user) -> None:
    check_reader(user, _("Governance records are for the ministry, departments and bureaus."))


def require_editor(user, area: PilotArea) -> None:
    if not can_edit_area(user, area):
        raise PermissionDenied(_("Only the area's own bureau edits its records."))


def require_ministry(user) -> None:
    if role_of(user) != Role.MINISTRY:
        raise PermissionDenied(_("Only the ministry reviews."))


def notify_all(users, title: str, body: str, url: str) -> None:
    for user in {u.pk: u for u in users}.values():
        notify(user, title, body, url=url)


def editable_areas(user, rnd: PilotRound | None = None) -> list[PilotArea]:
    """The pilot areas whose records the user edits (a bureau's own area, one per round it takes part in),
    newest round first."""
    qs = PilotArea.objects.select_related("round", "region").order_by("-round__start_date")
    if rnd is not None:
        qs = qs.filter(round=rnd)
    return [a for a in scope_areas(user, qs) if can_edit_area(user, a)]


# --- figures -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FigureDef:
    label: Promise
    unit: str  # "USD", "%", "count"


FIGURES: dict[str, FigureDef] = {
    "exports": FigureDef(gettext_lazy("Exports of services"), "USD"),
    "imports": FigureDef(gettext_lazy("Imports of services"), "USD"),
    "total": FigureDef(gettext_lazy("Total service trade"), "USD"),
    "exports_growth": FigureDef(gettext_lazy("Exports, year-on-year growth"), "%"),
    "total_growth": FigureDef(gettext_lazy("Total trade, year-on-year growth"), "%"),
    "key_contacts": FigureDef(gettext_lazy("Key-contact enterprises"), "count"),
    "reporting_coverage": FigureDef(gettext_lazy("Reporting coverage (report-months submitted ÷ expected)"), "%"),
    "tasks_completed": FigureDef(gettext_lazy("Tasks completed"), "count"),
    "tasks_total": FigureDef(gettext_lazy("Tasks of the area"), "count"),
    "measures_implemented": FigureDef(gettext_lazy("Opening measures implemented"), "count"),
    "measures_applicable": FigureDef(gettext_lazy("Opening measures applicable"), "count"),
    "experiences_published": FigureDef(gettext_lazy("Experiences published"), "count"),
    "experiences_adopted_elsewhere": FigureDef(gettext_lazy("Adoptions of its experiences by other areas"),
                                               "count"),
}


def figure_label(code: str, stored: str = "") -> str:
    found = FIGURES.get(code)
    return str(found.label) if found is not None else stored


def _figure(code: str, value: Decimal | int | None, source: Text) -> dict:
    if isinstance(value, int):
        value = Decimal(value)
    # Label and source are stored in English with the snapshot; pages show them in the reader's language (the
    # label by code, the source by its message id).
    from django.utils.translation import override

    with override("en"):
        label = str(FIGURES[code].label)
    return {"code": code, "label": label, "value": None if value is None else str(value), "unit": FIGURES[code].unit,
            "source": source.english(), "source_i18n": source.as_json()}


def _window(year: int, last_month: int) -> str:
    return str(year) if last_month == 12 else f"{year}-01..{year}-{last_month:02d}"


def trade_figures(area: PilotArea, year: int, *, engine=None) -> tuple[list[dict], int | None]:
    """Exports, imports, total and growth for the year; also returns the last month counted (None: no data)."""
    from tradepilot.analytics import indicators, queries

    region = area.region
    flt = queries.Filter(region_path=region.path)
    months = queries.periods(flt.with_(start=year * 100 + 1, end=year * 100 + 12), engine=engine)
    if not months:
        source = Text(gettext_noop("analytics: no data for %(year)s, region %(region)s"),
                      {"year": year, "region": region.code})
        return [_figure(code, None, source) for code in ("exports", "imports", "total", "exports_growth",
                                                          "total_growth")], None
    last = months[-1] % 100
    values = indicators.headline(flt, year * 100 + last, engine=engine)
    window = _window(year, last)
    out = [_figure(code, values[key].quantize(CENT, ROUND_HALF_UP),
                   Text(gettext_noop("analytics: %(indicator)s, %(window)s, region %(region)s"),
                        {"indicator": code, "window": window, "region": region.code}))
           for code, key in (("exports", "ytd_exports"), ("imports", "ytd_imports"), ("total", "ytd_total"))]
    before = set(queries.periods(flt.with_(start=(year - 1) * 100 + 1, end=(year - 1) * 100 + last),
                                 engine=engine))
    complete = all((year - 1) * 100 + m in before for m in range(1, last + 1))
    for code, key in (("exports_growth", "yoy_ytd_exports"), ("total_growth", "yoy_ytd_total")):
        if complete:
            out.append(_figure(code, values[key], Text(
                gettext_noop("analytics: %(indicator)s, %(window)s against %(base)s, region %(region)s"),
                {"indicator": key, "window": window, "base": _window(year - 1, last), "region": region.code})))
        else:
            out.append(_figure(code, None, Text(
                gettext_noop("analytics: %(base)s incomplete in the store, region %(region)s"),
                {"base": _window(year - 1, last), "region": region.code})))
    return out, last


def coverage_figures(area: PilotArea, year: int, last_month: int) -> list[dict]:
    """Key-contact enterprises of the region and the share of their report-months submitted, months 1..last."""
    from tradepilot.enterprises.models import Enterprise
    from tradepilot.reporting.completeness import completeness
    from tradepilot.reporting.models import Report, ReportForm
    from tradepilot.reporting.periods import Period

    region = area.region
    enterprises = Enterprise.objects.filter(region__path__startswith=region.path)
    form = ReportForm.objects.get(code=ReportForm.Code.MONTHLY)
    window = _window(year, last_month)
    expected = submitted = 0
    key_contacts = 0
    for month in range(1, last_month + 1):
        _rows, total = completeness(enterprises, Period(year, month), form, group_by=[])
        expected += total.expected
        submitted += total.submitted
        key_contacts = total.expected
    out = [_figure("key_contacts", key_contacts, Text(
        gettext_noop("reporting: key-contact enterprises, %(month)s, region %(region)s"),
        {"month": f"{year}-{last_month:02d}", "region": region.code}))]
    any_report = Report.objects.filter(form=form, year=year, month__lte=last_month,
                                       enterprise__region__path__startswith=region.path).exists()
    if not any_report or not expected:
        out.append(_figure("reporting_coverage", None, Text(
            gettext_noop("reporting: no monthly reports for %(window)s, region %(region)s"),
            {"window": window, "region": region.code})))
    else:
        pct = (Decimal(submitted) / Decimal(expected) * 100).quantize(ONE_DECIMAL, ROUND_HALF_UP)
        out.append(_figure("reporting_coverage", pct, Text(
            gettext_noop("reporting: completeness, %(window)s, region %(region)s (%(submitted)s of %(expected)s "
                         "report-months)"),
            {"window": window, "region": region.code, "submitted": submitted, "expected": expected})))
    return out


def governance_figures(area: PilotArea, year: int, today: dt.date | None = None) -> list[dict]:
    from tradepilot.governance.experiences import adopted_elsewhere, published_cases
    from tradepilot.governance.measures import implementation_summary

    # A running year counts what is recorded so far (and says so in the source).
    end = min(dt.date(year, 12, 31), today or timezone.localdate())
    name = area.name_zh
    tasks = AreaTask.objects.filter(area=area)
    # A completed task without a date counts: the status is what the area reported.
    done = tasks.filter(status=TaskStatus.COMPLETED).filter(Q(completed_on__lte=end) | Q(completed_on__isnull=True))
    # The measures part's own count (implemented with a date by the year's end, of those applicable), so the
    # results report and the performance evaluation agree.
    measures = implementation_summary(area.round, year)[area.pk]
    published = published_cases(area.round).filter(area=area, published_at__date__lte=end)
    adopted = adopted_elsewhere(area.round, end).get(area.pk, 0)
    by = {"date": end.isoformat(), "area": name}
    return [
        _figure("tasks_completed", done.count(),
                Text(gettext_noop("governance: area tasks completed by %(date)s, %(area)s"), by)),
        _figure("tasks_total", tasks.count(), Text(gettext_noop("governance: area tasks, %(area)s"), {"area": name})),
        _figure("measures_implemented", measures["implemented"],
                Text(gettext_noop("governance: opening measures implemented by %(date)s, %(area)s"), by)),
        _figure("measures_applicable", measures["applicable"],
                Text(gettext_noop("governance: opening measures not marked not applicable, %(area)s"),
                     {"area": name})),
        _figure("experiences_published", published.count(),
                Text(gettext_noop("governance: experiences published by %(date)s, %(area)s"), by)),
        _figure("experiences_adopted_elsewhere", adopted,
                Text(gettext_noop("governance: adoptions by other areas by %(date)s, %(area)s"), by)),
    ]


def compute_figures(area: PilotArea, year: int, *, engine=None, today: dt.date | None = None) -> list[dict]:
    """Every figure of the area's results report for `year`, from live data (see the module docstring)."""
    today = today or timezone.localdate()
    trade, last = trade_figures(area, year, engine=engine)
    if last is None:  # no trade in the store: coverage over the months of the year that have ended
        last = 12 if year < today.year else max(today.month - 1, 1)
    return trade + coverage_figures(area, year, last) + governance_figures(area, year, today)


# --- the report's life -------------------------------------------------------------------------------------------

def allowed_years(rnd: PilotRound, today: dt.date | None = None) -> range:
    """From the round's first year to the current year: areas keep reporting results after the round's period."""
    today = today or timezone.localdate()
    return range(rnd.start_date.year, max(today.year, rnd.start_date.year) + 1)


def _state(report: ResultsReport) -> dict:
    return {"status": report.status, "narrative": report.narrative, "review_note": report.review_note}


def _must_be_editable(report: ResultsReport) -> None:
    if report.status not in EDITABLE:
        raise ResultsError(409, _("The report is %(status)s: only a draft or a returned report can be changed.")
                           % {"status": report.get_status_display()}, "bad_state", "status", report.status)


def report_url(report: ResultsReport) -> str:
    from django.urls import reverse

    return reverse("governance:results_report", args=[report.pk])


@transaction.atomic
def create_report(area: PilotArea, year: int, actor, narrative: str = "") -> ResultsReport:
    require_editor(actor, area)
    if year not in allowed_years(area.round):
        years = allowed_years(area.round)
        raise ResultsError(400, _("Choose a year from %(first)s to %(last)s.") % {"first": years[0],
                                                                                 "last": years[-1]},
                           "invalid_year", "year", year)
    _check_narrative(narrative)
    if ResultsReport.objects.filter(area=area, year=year).exists():
        raise ResultsError(409, _("%(area)s already has a results report for %(year)s.")
                           % {"area": area.name, "year": year}, "exists", "year", year)
    report = ResultsReport.objects.create(area=area, year=year, narrative=narrative)
    record(actor, "results.create", report, changes=diff({}, {"area": area.region.code, "year": year,
                                                              **_state(report)}))
    return report


def _check_narrative(narrative: str) -> None:
    if len(narrative) > NARRATIVE_MAX:
        raise ResultsError(400, _("The narrative is longer than %(n)s characters.") % {"n": NARRATIVE_MAX},
                           "too_long", "narrative", narrative[:100])


@transaction.atomic
def update_narrative(report: ResultsReport, narrative: str, actor, reason: str = "") -> ResultsReport:
    require_editor(actor, report.area)
    report = ResultsReport.objects.select_for_update().get(pk=report.pk)
    _must_be_editable(report)
    _check_narrative(narrative)
    old = _state(report)
    report.narrative = narrative
    report.save(update_fields=["narrative"])
    record(actor, "results.narrative", report, changes=diff(old, _state(report)), reason=reason)
    return report


def _values(figures: list[dict]) -> dict:
    return {f["code"]: f["value"] for f in figures}


@transaction.atomic
def pull_figures(report: ResultsReport, actor, *, engine=None) -> ResultsReport:
    require_editor(actor, report.area)
    report = ResultsReport.objects.select_for_update().select_related("area__region", "area__round").get(pk=report.pk)
    _must_be_editable(report)
    old = _values(report.figures)
    report.figures = compute_figures(report.area, report.year, engine=engine)
    report.figures_at = timezone.now()
    report.save(update_fields=["figures", "figures_at"])
    record(actor, "results.pull_figures", report, changes=diff(old, _values(report.figures)))
    return report


@transaction.atomic
def submit(report: ResultsReport, actor) -> ResultsReport:
    require_editor(actor, report.area)
    report = ResultsReport.objects.select_for_update().select_related("area__region").get(pk=report.pk)
    _must_be_editable(report)
    if not report.narrative.strip():
        raise ResultsError(400, _("Write the narrative before submitting."), "required", "narrative", "")
    if report.figures_at is None:
        raise ResultsError(400, _("Pull the figures before submitting."), "required", "figures", "")
    old = _state(report)
    report.status = ReviewStatus.SUBMITTED
    report.submitted_by, report.submitted_at = actor, timezone.now()
    report.save(update_fields=["status", "submitted_by", "submitted_at"])
    record(actor, "results.submit", report, changes=diff(old, _state(report)))
    notify_all(ministry_users(), _("Results report submitted: %(area)s %(year)s") % {"area": report.area.name,
                                                                                   "year": report.year},
               _("%(area)s submitted its annual results report for %(year)s for review.")
               % {"area": report.area.name, "year": report.year}, report_url(report))
    return report


DECISIONS = ("approve", "return")


def check_decision(decision: str, note: str) -> None:
    if decision not in DECISIONS:
        raise ResultsError(400, _("Choose approve or return."), "invalid", "decision", decision)
    if decision == "return" and not note.strip():
        raise ResultsError(400, _("Say why the report is returned."), "required", "note", "")


@transaction.atomic
def review(report: ResultsReport, actor, decision: str, note: str = "") -> ResultsReport:
    require_ministry(actor)
    check_decision(decision, note)
    report = ResultsReport.objects.select_for_update().select_related("area__region").get(pk=report.pk)
    if report.status != ReviewStatus.SUBMITTED:
        raise ResultsError(409, _("Only a submitted report can be reviewed; this one is %(status)s.")
                           % {"status": report.get_status_display()}, "bad_state", "status", report.status)
    old = _state(report)
    report.status = ReviewStatus.APPROVED if decision == "approve" else ReviewStatus.RETURNED
    report.reviewed_by, report.reviewed_at, report.review_note = actor, timezone.now(), note.strip()
    report.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note"])
    record(actor, "results.approve" if decision == "approve" else "results.return", report,
           changes=diff(old, _state(report)), reason=note)
    title = (_("Results report accepted: %(area)s %(year)s") if decision == "approve"
             else _("Results report returned: %(area)s %(year)s")) % {"area": report.area.name, "year": report.year}
    recipients = list(bureau_users(report.area))
    if report.submitted_by is not None:
        recipients.append(report.submitted_by)
    notify_all(recipients, title, note, report_url(report))
    return report


def allowed_actions(user, report: ResultsReport) -> list[str]:
    actions = []
    if can_edit_area(user, report.area) and report.status in EDITABLE:
        actions += ["edit", "pull_figures", "submit"]
    if role_of(user) == Role.MINISTRY and report.status == ReviewStatus.SUBMITTED:
        actions.append("review")
    return actions


# --- reading -----------------------------------------------------------------------------------------------------

def reports_for(user) -> QuerySet:
    require_reader(user)
    return scope_areas(user, ResultsReport.objects.select_related("area__region", "area__round"))


@dataclass
class OverviewRow:
    area: PilotArea
    cells: list  # one per year: ResultsReport or None


def overview(user, rnd: PilotRound, today: dt.date | None = None) -> tuple[list[int], list[OverviewRow]]:
    """Areas (in the user's scope) × years of the round: each area's report of each year, or None."""
    require_reader(user)
    years = list(allowed_years(rnd, today))
    areas = list(scope_areas(user, PilotArea.objects.filter(round=rnd).select_related("region")))
    found = {(r.area_id, r.year): r for r in scope_areas(user, ResultsReport.objects.filter(area__round=rnd))}
    # Years after the round's end show only where someone reported them (the table stays narrow).
    years = [y for y in years if y <= rnd.end_date.year or any(k[1] == y for k in found)]
    return years, [OverviewRow(a, [found.get((a.pk, y)) for y in years]) for a in areas]


def display_figures(report: ResultsReport) -> list[dict]:
    """The snapshot with labels in the reader's language and values as Decimal."""
    out = []
    for f in report.figures:
        value = f.get("value")
        out.append({**f, "label": figure_label(f.get("code", ""), f.get("label", "")),
                    "source": render_stored(f.get("source", ""), f.get("source_i18n")),
                    "value": None if value is None else Decimal(value)})
    return out


def workbook(report: ResultsReport) -> bytes:
    """The report as XLSX: a figures sheet (values as numbers) and a sheet with the narrative and the review."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    wb = Workbook()
    ws = wb.active
    ws.title = _("Figures")[:31]
    ws.append([_("Annual results report"), f"{report.area.name} {report.year}"])
    ws.append([_("Status"), report.get_status_display()])
    ws.append([_("Figures pulled at"),
               timezone.localtime(report.figures_at).strftime("%Y-%m-%d %H:%M") if report.figures_at else "—"])
    ws.append([])
    ws.append(["code", _("Figure"), _("Value"), _("Unit"), _("Source")])
    for cell in ws[5]:
        cell.font = Font(bold=True)
    for f in display_figures(report):
        ws.append([f["code"], f["label"], f["value"] if f["value"] is not None else "", f["unit"], f["source"]])
    for column, width in zip("ABCDE", (24, 44, 18, 8, 70), strict=True):
        ws.column_dimensions[column].width = width
    text = wb.create_sheet(_("Narrative")[:31])
    text.append([_("Narrative")])
    text.append([report.narrative])
    text["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    text.column_dimensions["A"].width = 120
    if report.review_note:
        text.append([_("Review note")])
        text.append([report.review_note])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
