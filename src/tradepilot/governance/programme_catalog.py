"""Reading the programme: rounds that have one, task areas, tasks filtered by area / department / text, one task,
the opening measures, and the responsible units as display badges.

The programme is a published document (国函〔2018〕79号, 此件公开发布), so nothing here is scoped by user: the pages and
API operations built on it are public. What areas do with it (tracking, measures in the areas) is scoped elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from tradepilot.core.models import Agency, PilotArea, PilotRound

from .models import OpeningMeasure, PolicyGuarantee, Responsibility, Task, TaskArea


def rounds_with_programme() -> QuerySet[PilotRound]:
    return PilotRound.objects.filter(programme__isnull=False).order_by("-start_date")


def pick_round(code: str | None) -> PilotRound | None:
    """The round asked for (Http404 if it has no programme), or the latest round with a programme (None if none)."""
    rounds = rounds_with_programme()
    if code:
        rnd = rounds.filter(code=code).first()
        if rnd is None:
            raise Http404("no programme for this round")
        return rnd
    return rounds.first()


def task_areas(rnd: PilotRound) -> QuerySet[TaskArea]:
    return TaskArea.objects.filter(round=rnd).order_by("order")


def agencies_named(rnd: PilotRound) -> QuerySet[Agency]:
    """The departments the round's programme names as responsible, in the registry's order."""
    return Agency.objects.filter(responsibilities__task__round=rnd).distinct().order_by("order")


def _responsibilities() -> Prefetch:
    return Prefetch("responsibilities", queryset=Responsibility.objects.select_related("agency").order_by("pk"))


def tasks(rnd: PilotRound, *, area: str = "", agency: str = "", q: str = "") -> QuerySet[Task]:
    """The round's tasks in printed order, with guarantees and responsibilities prefetched.

    `area` is a task-area code, `agency` an agency code (tasks where the department is named on the task or on
    one of its guarantees), `q` words searched in the task, its guarantees and the responsible units as printed."""
    qs = Task.objects.filter(round=rnd).select_related("area")
    if area:
        qs = qs.filter(area__code=area)
    if agency:
        qs = qs.filter(responsibilities__agency__code=agency)
    for word in q.split():
        qs = qs.filter(
            Q(text_zh__icontains=word) | Q(text_en__icontains=word) | Q(responsible_zh__icontains=word)
            | Q(guarantees__text_zh__icontains=word) | Q(guarantees__text_en__icontains=word)
            | Q(guarantees__responsible_zh__icontains=word) | Q(code=word)
        )
    return qs.distinct().order_by("order").prefetch_related(
        Prefetch("guarantees", queryset=PolicyGuarantee.objects.order_by("order").prefetch_related(
            _responsibilities())),
        _responsibilities(),
    )


def task(rnd: PilotRound, code: str) -> Task:
    found = tasks(rnd).filter(code=code).first()
    if found is None:
        raise Http404("no such task")
    return found


def measures(rnd: PilotRound) -> QuerySet[OpeningMeasure]:
    return OpeningMeasure.objects.filter(round=rnd).order_by("order").prefetch_related("regulations")


def own_responsibilities(t: Task) -> list[Responsibility]:
    """The responsibilities printed on the task itself (the ones on its guarantees are listed with them)."""
    return [r for r in t.responsibilities.all() if r.guarantee_id is None]


@dataclass(frozen=True)
class Badge:
    unit: str
    code: str  # agency code or area region code, "" for groups
    label: str
    duties: list[str]
    duty_labels: list[str]
    is_lead: bool


def area_names(rnd: PilotRound) -> dict[str, str]:
    return {a.region.code: a.name for a in PilotArea.objects.filter(round=rnd).select_related("region")}


def badges(responsibilities, names: dict[str, str]) -> list[Badge]:
    """Responsible units as badges: who (a department, a named area, every area or a group) and what they do."""
    duty_labels = dict(Responsibility.Duty.choices)
    out = []
    for r in responsibilities:
        if r.unit == Responsibility.Unit.AGENCY:
            code, label = r.agency.code, r.agency.abbreviation or r.agency.name
        elif r.unit == Responsibility.Unit.AREA:
            code, label = r.area_region_code, names.get(r.area_region_code, r.area_region_code)
        else:
            code, label = "", r.get_unit_display()
        out.append(Badge(r.unit, code, str(label), list(r.duties), [str(duty_labels[d]) for d in r.duties],
                         r.is_lead))
    return out


def measure_rows(items) -> list[dict]:
    """附件2's layout: measures grouped by (domain, industry) with the row's regulations once."""
    rows: list[dict] = []
    for m in items:
        if rows and (rows[-1]["domain_zh"], rows[-1]["industry_zh"]) == (m.domain_zh, m.industry_zh):
            rows[-1]["measures"].append(m)
            continue
        rows.append({"domain_zh": m.domain_zh, "domain_en": m.domain_en, "industry_zh": m.industry_zh,
                     "industry_en": m.industry_en, "measures": [m], "regulations": list(m.regulations.all())})
    return rows
