"""API operations of the results part: annual results reports and the replicable-experience library.

Handlers fetch through `core.scoping` and call `governance.results` / `governance.experiences`; refusals raise
`ResultsError` (an `ApiError`, answered with located errors), `PermissionDenied` (403) or `Http404`.
Published experiences and the adoption table are public: those operations also answer without credentials.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.security import django_auth

from tradepilot.core.api_base import BearerToken, page_slice
from tradepilot.core.models import PilotArea, PilotRound, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import can_edit_area, get_area_scoped
from tradepilot.governance import experiences, results
from tradepilot.governance.models import Adoption, ExperienceCase, ResultsReport, ReviewStatus

router = Router(tags=["governance: results"])


def _anyone(request):
    """Lets the request through without credentials; a valid token or session (tried first) still identifies."""
    return "anonymous"


PUBLIC = [BearerToken(), django_auth, _anyone]


# --- schemas -----------------------------------------------------------------------------------------------------

class FigureOut(Schema):
    code: str
    label: str
    value: Decimal | None
    unit: str
    source: str


class ResultsReportOut(Schema):
    id: int
    round: str
    area: str
    area_name: str
    year: int
    status: str
    narrative: str
    figures: list[FigureOut]
    figures_at: dt.datetime | None
    submitted_at: dt.datetime | None
    reviewed_at: dt.datetime | None
    review_note: str
    actions: list[str]


class ResultsReportPage(Schema):
    count: int
    items: list[ResultsReportOut]


class ResultsReportIn(Schema):
    area: str
    year: int
    round: str | None = None
    narrative: str = ""


class NarrativeIn(Schema):
    narrative: str
    reason: str = ""


class ReviewIn(Schema):
    decision: str
    note: str = ""


def report_out(report: ResultsReport, user) -> ResultsReportOut:
    return ResultsReportOut(
        id=report.pk, round=report.area.round.code, area=report.area.region.code, area_name=report.area.name,
        year=report.year, status=report.status, narrative=report.narrative,
        figures=[FigureOut(**{k: f[k] for k in ("code", "label", "value", "unit", "source")})
                 for f in results.display_figures(report)],
        figures_at=report.figures_at, submitted_at=report.submitted_at, reviewed_at=report.reviewed_at,
        review_note=report.review_note, actions=results.allowed_actions(user, report))


def _area(user, region_code: str, round_code: str | None) -> PilotArea:
    """The pilot area by region code (the latest round holding it unless `round` names one), within the scope."""
    results.require_reader(user)
    qs = PilotArea.objects.select_related("region", "round").filter(region__code=region_code)
    if round_code:
        qs = qs.filter(round__code=round_code)
    found = qs.order_by("-round__start_date").first()
    if found is None:
        raise results.ResultsError(400, _("Unknown pilot area."), "unknown_area", "area", region_code)
    return get_area_scoped(user, PilotArea.objects.select_related("region", "round"), pk=found.pk)


def _report(request, report_id: int) -> ResultsReport:
    return get_area_scoped(request.user, results.reports_for(request.user), pk=report_id)


# --- results reports ---------------------------------------------------------------------------------------------

@router.get("/results-reports", response=ResultsReportPage)
def list_reports(request, round: str | None = None, area: str | None = None, year: int | None = None,
                 status: str | None = None, limit: int = 50, offset: int = 0):
    """Annual results reports in the caller's scope (the ministry's overview: every area × year)."""
    qs = results.reports_for(request.user).order_by("-year", "area__round__start_date", "area__order")
    if round:
        qs = qs.filter(area__round__code=round)
    if area:
        qs = qs.filter(area__region__code=area)
    if year:
        qs = qs.filter(year=year)
    if status:
        qs = qs.filter(status__in=status.split(","))
    return ResultsReportPage(count=qs.count(),
                             items=[report_out(r, request.user) for r in qs[page_slice(limit, offset)]])


@router.post("/results-reports", response={201: ResultsReportOut})
def create_report(request, payload: ResultsReportIn):
    """Open the area's report for a year (the area's own bureau)."""
    area = _area(request.user, payload.area, payload.round)
    report = results.create_report(area, payload.year, request.user, payload.narrative)
    return Status(201, report_out(report, request.user))


@router.get("/results-reports/{int:report_id}", response=ResultsReportOut)
def get_report(request, report_id: int):
    return report_out(_report(request, report_id), request.user)


@router.patch("/results-reports/{int:report_id}", response=ResultsReportOut)
def patch_report(request, report_id: int, payload: NarrativeIn):
    report = results.update_narrative(_report(request, report_id), payload.narrative, request.user, payload.reason)
    return report_out(report, request.user)


@router.post("/results-reports/{int:report_id}/pull-figures", response=ResultsReportOut)
def pull_figures(request, report_id: int):
    """Fill the figures from live data (analytics, reporting completeness, governance records) as a snapshot."""
    return report_out(results.pull_figures(_report(request, report_id), request.user), request.user)


@router.post("/results-reports/{int:report_id}/submit", response=ResultsReportOut)
def submit_report(request, report_id: int):
    return report_out(results.submit(_report(request, report_id), request.user), request.user)


@router.post("/results-reports/{int:report_id}/review", response=ResultsReportOut)
def review_report(request, report_id: int, payload: ReviewIn):
    """The ministry accepts (`approve`) or returns (`return`, with a note) a submitted report."""
    report = results.review(_report(request, report_id), request.user, payload.decision, payload.note)
    return report_out(report, request.user)


# --- experiences -------------------------------------------------------------------------------------------------

class TaskRef(Schema):
    code: str
    text: str


class ExperienceOut(Schema):
    id: int
    round: str
    area: str
    area_name: str
    title: str
    problem: str
    measure: str
    effect: str
    tasks: list[TaskRef]
    status: str
    published_at: dt.datetime | None
    submitted_at: dt.datetime | None
    review_note: str
    adoptions: int
    actions: list[str]


class ExperiencePage(Schema):
    count: int
    items: list[ExperienceOut]


class ExperienceIn(Schema):
    area: str
    round: str | None = None
    title: str
    problem: str
    measure: str
    effect: str
    tasks: list[str] = []


class ExperiencePatch(Schema):
    title: str | None = None
    problem: str | None = None
    measure: str | None = None
    effect: str | None = None
    tasks: list[str] | None = None


class AdoptionIn(Schema):
    adopted_on: dt.date
    note: str = ""


class AdoptionOut(Schema):
    id: int
    case_id: int
    area: str
    area_name: str
    adopted_on: dt.date
    note: str


class AdoptionRow(Schema):
    case_id: int
    title: str
    area: str
    adopted_by: list[AdoptionOut]


class AdoptionTableOut(Schema):
    round: str
    areas: list[str]
    rows: list[AdoptionRow]
    adopted_elsewhere: dict[str, int]


def case_actions(user, case: ExperienceCase) -> list[str]:
    actions = []
    if user.is_authenticated and can_edit_area(user, case.area) and case.status in results.EDITABLE:
        actions += ["edit", "submit"]
    if user.is_authenticated and role_of(user) == Role.MINISTRY and case.status == ReviewStatus.SUBMITTED:
        actions.append("review")
    if user.is_authenticated and experiences.can_adopt(user, case):
        actions.append("adopt")
    return actions


def case_out(case: ExperienceCase, user, adoptions: int | None = None) -> ExperienceOut:
    if adoptions is None:
        adoptions = case.adoptions.count()
    return ExperienceOut(
        id=case.pk, round=case.area.round.code, area=case.area.region.code, area_name=case.area.name,
        title=case.title, problem=case.problem, measure=case.measure, effect=case.effect,
        tasks=[TaskRef(code=t.code, text=t.text) for t in case.tasks.all()], status=case.status,
        published_at=case.published_at, submitted_at=case.submitted_at, review_note=case.review_note,
        adoptions=adoptions, actions=case_actions(user, case))


def adoption_out(a: Adoption) -> AdoptionOut:
    return AdoptionOut(id=a.pk, case_id=a.case_id, area=a.area.region.code, area_name=a.area.name,
                       adopted_on=a.adopted_on, note=a.note)


def _round(code: str | None) -> PilotRound:
    if code:
        found = PilotRound.objects.filter(code=code).first()
        if found is None:
            raise results.ResultsError(400, _("Unknown pilot round."), "unknown_round", "round", code)
        return found
    found = PilotRound.objects.order_by("-start_date").first()
    if found is None:
        raise results.ResultsError(404, _("No pilot round is set up yet."), "not_found")
    return found


@router.get("/experiences", response=ExperiencePage, auth=PUBLIC)
def list_experiences(request, q: str = "", round: str = "", area: str = "", task_area: str = "", task: str = "",
                     status: str = "", limit: int = 50, offset: int = 0):
    """Published experiences for everyone (no credentials needed); signed-in users also see the unpublished cases
    of their scope. `status=published` lists published cases only."""
    qs = experiences.search(experiences.visible_cases(request.user).prefetch_related("tasks"),
                            experiences.CaseFilters(q=q.strip(), round=round, area=area, task_area=task_area,
                                                    task=task, status=status))
    page = list(qs[page_slice(limit, offset, 200)])
    counts = experiences.adoption_counts(page)
    return ExperiencePage(count=qs.count(), items=[case_out(c, request.user, counts.get(c.pk, 0)) for c in page])


@router.get("/experiences/adoptions", response=AdoptionTableOut, auth=PUBLIC)
def adoption_table(request, round: str | None = None):
    """Published cases × adopting areas (public)."""
    rnd = _round(round)
    table = experiences.adoption_table(rnd)
    by_pk = {a.pk: a for a in table.areas}
    rows = [AdoptionRow(case_id=r["case"].pk, title=r["case"].title, area=by_pk[r["case"].area_id].region.code,
                        adopted_by=[adoption_out(c) for c in r["cells"] if isinstance(c, Adoption)])
            for r in table.rows]
    return AdoptionTableOut(round=rnd.code, areas=[a.region.code for a in table.areas], rows=rows,
                            adopted_elsewhere={by_pk[pk].region.code: n for pk, n in table.elsewhere.items()})


@router.get("/experiences/{int:case_id}", response=ExperienceOut, auth=PUBLIC)
def get_experience(request, case_id: int):
    return case_out(experiences.get_visible(request.user, case_id), request.user)


@router.post("/experiences", response={201: ExperienceOut})
def create_experience(request, payload: ExperienceIn):
    area = _area(request.user, payload.area, payload.round)
    results.require_editor(request.user, area)
    tasks = experiences.resolve_tasks(area.round, codes=payload.tasks)
    case = experiences.create_case(area, request.user, payload.dict(), tasks)
    return Status(201, case_out(case, request.user))


def _editable_case(request, case_id: int) -> ExperienceCase:
    results.require_reader(request.user)
    return get_area_scoped(request.user, ExperienceCase.objects.select_related("area__region", "area__round"),
                           pk=case_id)


@router.patch("/experiences/{int:case_id}", response=ExperienceOut)
def patch_experience(request, case_id: int, payload: ExperiencePatch):
    case = _editable_case(request, case_id)
    results.require_editor(request.user, case.area)
    data = payload.dict(exclude_unset=True)
    tasks = None
    if data.get("tasks") is not None:
        tasks = experiences.resolve_tasks(case.area.round, codes=data.pop("tasks"))
    case = experiences.update_case(case, request.user, data, tasks)
    return case_out(case, request.user)


@router.post("/experiences/{int:case_id}/submit", response=ExperienceOut)
def submit_experience(request, case_id: int):
    return case_out(experiences.submit_case(_editable_case(request, case_id), request.user), request.user)


@router.post("/experiences/{int:case_id}/review", response=ExperienceOut)
def review_experience(request, case_id: int, payload: ReviewIn):
    """The ministry publishes (`approve`) or returns (`return`, with a note) a submitted case."""
    case = experiences.review_case(_editable_case(request, case_id), request.user, payload.decision, payload.note)
    return case_out(case, request.user)


@router.post("/experiences/{int:case_id}/adoptions", response={201: AdoptionOut})
def adopt_experience(request, case_id: int, payload: AdoptionIn):
    """The caller's area adopted this published case (复制推广): once per area, never its own case."""
    case = experiences.get_visible(request.user, case_id)
    adoption = experiences.record_adoption(case, request.user, payload.adopted_on, payload.note)
    return Status(201, adoption_out(Adoption.objects.select_related("area__region").get(pk=adoption.pk)))

