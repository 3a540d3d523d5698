"""The library of replicable experience (可复制可推广经验, 附件1 四) and its adoption (复制推广) by other areas.

A case is written by the area's own bureau (title, problem, measure, effect, related programme tasks), submitted,
and reviewed by the ministry: published (status approved + `published_at`) or returned with a note. Published cases
are public: anyone, signed in or not, lists and reads them. Drafts, submitted and returned cases are visible only
within `core.scoping.scope_areas`.

Another area's bureau records that its area adopted a published case: not its own area's case, once per area, on
a date not before publication and not in the future. `adopted_elsewhere()` counts those adoptions per originating
area (used by the results reports and the performance evaluation).
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core.audit import diff, record
from tradepilot.core.models import PilotArea, PilotRound
from tradepilot.core.scoping import scope_areas
from tradepilot.governance.common import bureau_users, ministry_users
from tradepilot.governance.models import Adoption, ExperienceCase, ReviewStatus, Task
from tradepilot.governance.results import (
    EDITABLE,
    ResultsError,
    check_decision,
    editable_areas,
    notify_all,
    require_editor,
    require_ministry,
)

TEXT_FIELDS = ("title", "problem", "measure", "effect")
TITLE_MAX = 200
TEXT_MAX = 20_000
NOTE_MAX = 2_000
COORDINATES = Path(__file__).parent / "data" / "area_coordinates.csv"


# --- reading -----------------------------------------------------------------------------------------------------

def published_q(prefix: str = "") -> Q:
    return Q(**{f"{prefix}status": ReviewStatus.APPROVED, f"{prefix}published_at__isnull": False})


def published_cases(rnd: PilotRound | None = None) -> QuerySet:
    qs = ExperienceCase.objects.filter(published_q())
    return qs if rnd is None else qs.filter(area__round=rnd)


def visible_cases(user) -> QuerySet:
    """Published cases for everyone, plus the unpublished ones within the user's scope."""
    base = ExperienceCase.objects.select_related("area__region", "area__round")
    in_scope = scope_areas(user, ExperienceCase.objects.all()).values("pk")
    return base.filter(published_q() | Q(pk__in=in_scope)).order_by(
        F("published_at").desc(nulls_last=True), "-created_at", "-pk")


def get_visible(user, pk) -> ExperienceCase:
    from django.http import Http404

    try:
        return visible_cases(user).get(pk=pk)
    except (ExperienceCase.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass
class CaseFilters:
    q: str = ""
    round: str = ""        # PilotRound.code
    area: str = ""         # the area's region code
    task_area: str = ""    # TaskArea.code
    task: str = ""         # Task.code
    status: str = ""       # ReviewStatus value, or "published"


def search(qs: QuerySet, f: CaseFilters) -> QuerySet:
    if f.q:
        words = Q()
        for name in TEXT_FIELDS:
            words |= Q(**{f"{name}__icontains": f.q})
        qs = qs.filter(words)
    if f.round:
        qs = qs.filter(area__round__code=f.round)
    if f.area:
        qs = qs.filter(area__region__code=f.area)
    if f.task_area:
        qs = qs.filter(pk__in=ExperienceCase.objects.filter(tasks__area__code=f.task_area).values("pk"))
    if f.task:
        qs = qs.filter(pk__in=ExperienceCase.objects.filter(tasks__code=f.task).values("pk"))
    if f.status == "published":
        qs = qs.filter(published_q())
    elif f.status:
        qs = qs.filter(status=f.status)
    return qs


def adoption_counts(cases) -> dict[int, int]:
    return dict(Adoption.objects.filter(case__in=cases).values("case").annotate(n=Count("pk"))
                .values_list("case", "n"))


# --- writing -----------------------------------------------------------------------------------------------------

def _clean(data: dict, *, partial: bool) -> dict:
    """The text fields of `data`, stripped and checked; a missing required field is an error unless `partial`."""
    out = {}
    for name in TEXT_FIELDS:
        if name not in data or data[name] is None:
            if not partial:
                raise ResultsError(400, _("This field is required."), "required", name, "")
            continue
        value = str(data[name]).strip()
        limit = TITLE_MAX if name == "title" else TEXT_MAX
        if not value:
            raise ResultsError(400, _("This field is required."), "required", name, "")
        if len(value) > limit:
            raise ResultsError(400, _("At most %(n)s characters.") % {"n": limit}, "too_long", name, value[:100])
        out[name] = value
    return out


def resolve_tasks(rnd: PilotRound, *, codes=None, ids=None) -> list[Task]:
    """Programme tasks of the round by code (API) or id (form); an unknown one is an error naming it."""
    wanted = list(codes if codes is not None else ids or [])
    key = "code" if codes is not None else "pk"
    found = {str(getattr(t, key)): t for t in Task.objects.filter(round=rnd, **{f"{key}__in": [str(w) for w in wanted]})}
    for i, w in enumerate(wanted):
        if str(w) not in found:
            raise ResultsError(400, _("Unknown task of this round: %(task)s.") % {"task": w}, "unknown_task",
                               f"tasks.{i}", w)
    return [found[str(w)] for w in dict.fromkeys(str(w) for w in wanted)]


def _state(case: ExperienceCase) -> dict:
    return {**{name: getattr(case, name) for name in TEXT_FIELDS}, "status": case.status,
            "review_note": case.review_note, "tasks": sorted(t.code for t in case.tasks.all())}


def case_url(case: ExperienceCase) -> str:
    from django.urls import reverse

    return reverse("governance:results_experience", args=[case.pk])


@transaction.atomic
def create_case(area: PilotArea, actor, data: dict, tasks: list[Task] = ()) -> ExperienceCase:
    require_editor(actor, area)
    values = _clean(data, partial=False)
    case = ExperienceCase.objects.create(area=area, created_by=actor, **values)
    case.tasks.set(tasks)
    record(actor, "experience.create", case, changes=diff({}, _state(case)))
    return case


@transaction.atomic
def update_case(case: ExperienceCase, actor, data: dict, tasks: list[Task] | None = None) -> ExperienceCase:
    require_editor(actor, case.area)
    case = ExperienceCase.objects.select_for_update().get(pk=case.pk)
    if case.status not in EDITABLE:
        raise ResultsError(409, _("The case is %(status)s: only a draft or a returned case can be changed.")
                           % {"status": case.get_status_display()}, "bad_state", "status", case.status)
    values = _clean(data, partial=True)
    old = _state(case)
    for name, value in values.items():
        setattr(case, name, value)
    case.save()
    if tasks is not None:
        case.tasks.set(tasks)
    record(actor, "experience.update", case, changes=diff(old, _state(case)))
    return case


@transaction.atomic
def submit_case(case: ExperienceCase, actor) -> ExperienceCase:
    require_editor(actor, case.area)
    case = ExperienceCase.objects.select_for_update().select_related("area").get(pk=case.pk)
    if case.status not in EDITABLE:
        raise ResultsError(409, _("The case is %(status)s: only a draft or a returned case can be submitted.")
                           % {"status": case.get_status_display()}, "bad_state", "status", case.status)
    _clean({name: getattr(case, name) for name in TEXT_FIELDS}, partial=False)
    old = _state(case)
    case.status, case.submitted_at = ReviewStatus.SUBMITTED, timezone.now()
    case.save(update_fields=["status", "submitted_at"])
    record(actor, "experience.submit", case, changes=diff(old, _state(case)))
    notify_all(ministry_users(), _("Experience submitted: %(title)s") % {"title": case.title},
               _("%(area)s submitted a replicable experience for review.") % {"area": case.area.name},
               case_url(case))
    return case


@transaction.atomic
def review_case(case: ExperienceCase, actor, decision: str, note: str = "") -> ExperienceCase:
    """Publish (approve) or return a submitted case."""
    require_ministry(actor)
    check_decision(decision, note)
    case = ExperienceCase.objects.select_for_update().select_related("area__region").get(pk=case.pk)
    if case.status != ReviewStatus.SUBMITTED:
        raise ResultsError(409, _("Only a submitted case can be reviewed; this one is %(status)s.")
                           % {"status": case.get_status_display()}, "bad_state", "status", case.status)
    old = _state(case)
    now = timezone.now()
    case.reviewed_by, case.reviewed_at, case.review_note = actor, now, note.strip()
    if decision == "approve":
        case.status, case.published_at = ReviewStatus.APPROVED, now
    else:
        case.status = ReviewStatus.RETURNED
    case.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "published_at"])
    record(actor, "experience.publish" if decision == "approve" else "experience.return", case,
           changes=diff(old, _state(case)), reason=note)
    title = (_("Experience published: %(title)s") if decision == "approve"
             else _("Experience returned: %(title)s")) % {"title": case.title}
    notify_all(list(bureau_users(case.area)) + ([case.created_by] if case.created_by else []), title, note,
               case_url(case))
    return case


def adopting_area(actor, case: ExperienceCase) -> PilotArea:
    """The actor's own pilot area in the case's round: only a pilot area's own bureau records adoptions."""
    own = editable_areas(actor, case.area.round)
    if not own:
        raise PermissionDenied(_("Adoption is recorded by the adopting pilot area's own bureau."))
    return own[0]


def can_adopt(user, case: ExperienceCase) -> bool:
    if not case.is_published:
        return False
    own = editable_areas(user, case.area.round)
    return bool(own) and own[0].pk != case.area_id and not Adoption.objects.filter(case=case, area=own[0]).exists()


@transaction.atomic
def record_adoption(case: ExperienceCase, actor, adopted_on: dt.date, note: str = "",
                    today: dt.date | None = None) -> Adoption:
    area = adopting_area(actor, case)
    case = ExperienceCase.objects.select_for_update().select_related("area").get(pk=case.pk)
    if not case.is_published:
        raise ResultsError(409, _("Only a published experience can be adopted."), "not_published", "status",
                           case.status)
    if case.area_id == area.pk:
        raise ResultsError(409, _("An area does not adopt its own experience."), "own_case", "area",
                           area.region.code)
    if Adoption.objects.filter(case=case, area=area).exists():
        raise ResultsError(409, _("%(area)s has already recorded adopting this experience.") % {"area": area.name},
                           "exists", "area", area.region.code)
    today = today or timezone.localdate()
    published_on = timezone.localtime(case.published_at).date()
    if adopted_on < published_on:
        raise ResultsError(400, _("The adoption date is before the experience was published (%(date)s).")
                           % {"date": published_on.isoformat()}, "before_publication", "adopted_on", adopted_on)
    if adopted_on > today:
        raise ResultsError(400, _("The adoption date is in the future."), "in_future", "adopted_on", adopted_on)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ResultsError(400, _("At most %(n)s characters.") % {"n": NOTE_MAX}, "too_long", "note", note[:100])
    adoption = Adoption.objects.create(case=case, area=area, adopted_on=adopted_on, note=note, recorded_by=actor)
    record(actor, "experience.adopt", adoption, changes=diff({}, {
        "case": case.pk, "area": area.region.code, "adopted_on": adopted_on.isoformat(), "note": note}))
    notify_all(list(bureau_users(case.area)) + list(ministry_users()),
               _("%(area)s adopted an experience: %(title)s") % {"area": area.name, "title": case.title},
               note, case_url(case))
    return adoption


# --- adoption across areas ---------------------------------------------------------------------------------------

def adopted_elsewhere(rnd: PilotRound, until: dt.date) -> dict[int, int]:
    """Per area of the round (`PilotArea.pk`, every area present, 0 when none): how many times other areas adopted
    the area's published experiences, counting adoptions dated on or before `until` of cases published on or
    before `until`. An area's adoption of its own case is never counted (the service refuses to record one)."""
    counts = {pk: 0 for pk in PilotArea.objects.filter(round=rnd).values_list("pk", flat=True)}
    rows = (Adoption.objects.filter(published_q("case__"), case__area__round=rnd, adopted_on__lte=until,
                                    case__published_at__date__lte=until)
            .exclude(area=F("case__area")).values("case__area").annotate(n=Count("pk")))
    for row in rows:
        counts[row["case__area"]] = row["n"]
    return counts


@dataclass
class AdoptionTable:
    areas: list[PilotArea]
    rows: list[dict] = field(default_factory=list)   # {"case", "cells": [None | "origin" | Adoption], "count"}
    adopted_by: dict[int, int] = field(default_factory=dict)   # adopting area → adoptions it made
    elsewhere: dict[int, int] = field(default_factory=dict)    # originating area → adoptions by others


def adoption_table(rnd: PilotRound) -> AdoptionTable:
    """Published cases of the round × its areas (public: it shows only published cases)."""
    areas = list(PilotArea.objects.filter(round=rnd).select_related("region"))
    cases = list(published_cases(rnd).select_related("area__region").order_by("area__order", "published_at", "pk"))
    adoptions = {(a.case_id, a.area_id): a for a in Adoption.objects.filter(case__in=cases)}
    table = AdoptionTable(areas, adopted_by={a.pk: 0 for a in areas}, elsewhere={a.pk: 0 for a in areas})
    for case in cases:
        cells = []
        for area in areas:
            found = adoptions.get((case.pk, area.pk))
            if area.pk == case.area_id:
                cells.append("origin")
            else:
                cells.append(found)
                if found is not None:
                    table.adopted_by[area.pk] += 1
                    table.elsewhere[case.area_id] += 1
        table.rows.append({"case": case, "cells": cells, "count": sum(1 for c in cells if isinstance(c, Adoption))})
    return table


@lru_cache(maxsize=1)
def area_coordinates() -> dict[str, tuple[str, str]]:
    """Region code → (longitude, latitude) of the area's approximate centre, from governance/data."""
    with COORDINATES.open(encoding="utf-8") as fh:
        return {row["region_code"]: (row["lon"], row["lat"]) for row in csv.DictReader(fh)}


def adoption_map(rnd: PilotRound) -> dict:
    """What the adoption map draws: each area as a point with its counts, each adoption as a line origin → adopter.
    Coordinates are strings (degrees), passed to the chart as they are written in the data file."""
    table = adoption_table(rnd)
    coords = area_coordinates()
    published = {a.pk: 0 for a in table.areas}
    for row in table.rows:
        published[row["case"].area_id] += 1
    points = [{"code": a.region.code, "name": a.name, "lon": coords[a.region.code][0],
               "lat": coords[a.region.code][1], "published": published[a.pk], "adopted_elsewhere": table.elsewhere[a.pk],
               "adopted": table.adopted_by[a.pk]}
              for a in table.areas if a.region.code in coords]
    by_pk = {a.pk: a for a in table.areas}
    lines = []
    for row in table.rows:
        case = row["case"]
        origin = by_pk[case.area_id].region.code
        for area, cell in zip(table.areas, row["cells"], strict=True):
            if isinstance(cell, Adoption) and origin in coords and area.region.code in coords:
                lines.append({"from": origin, "to": area.region.code, "case": case.title,
                              "adopted_on": cell.adopted_on.isoformat()})
    return {"points": points, "lines": lines}
