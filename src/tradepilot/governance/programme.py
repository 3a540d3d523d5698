"""Loading the programme (task areas, tasks, guarantees, responsible units, opening measures) from data files.

One JSON file per pilot round in `governance/data/programme/<round>.json` (see `2018.json`, reconstructed from
附件1–3 of 国函〔2018〕79号; its `notes` record how merged table cells were read). Nothing here knows how many areas
or tasks a round has: a later round is another file plus its `PilotRound` in `core/data/pilot_rounds.json`.

The loader is idempotent and keyed by codes: rows missing from the database are created, changed rows updated,
rows no longer in the file deleted; a second run with an unchanged file writes nothing. After the programme, every
area's records are synchronised (`sync_area_records`): an `AreaTask` per pilot area × task the areas are
responsible for, an `AreaMeasure` per pilot area × opening measure. Area records that carry progress are never
deleted, and a programme row whose removal would take such progress with it is refused.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import models, transaction

from tradepilot.core.models import Agency, PilotArea, PilotRound

from .models import (
    AdjustedRegulation,
    AreaMeasure,
    AreaTask,
    MeasureStatus,
    OpeningMeasure,
    PolicyGuarantee,
    Programme,
    Responsibility,
    Task,
    TaskArea,
    TaskStatus,
)

PROGRAMME_DIR = Path(__file__).resolve().parent / "data" / "programme"

UNITS = set(Responsibility.Unit.values)
DUTIES = list(Responsibility.Duty.values)  # also the order duties are stored in


class ProgrammeError(ValueError):
    """A programme file that cannot be loaded; the message names the file and the item."""


# --- reading and validating a file ---------------------------------------------------------------------------------


def programme_files(round_code: str | None = None) -> list[Path]:
    """The data files to load: the round's file, or every round's file in code order."""
    if round_code is not None:
        path = PROGRAMME_DIR / f"{round_code}.json"
        if not path.exists():
            raise ProgrammeError(f"no programme file for round {round_code!r} ({path.name} not in {PROGRAMME_DIR})")
        return [path]
    return sorted(PROGRAMME_DIR.glob("*.json"))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ProgrammeError(f"{path.name}: cannot read: {exc}") from None
    if not isinstance(data, dict):
        raise ProgrammeError(f"{path.name}: the file must hold one JSON object")
    return data


class _Checker:
    """Validates one file against the reference data; every message starts with the file and the item."""

    def __init__(self, path: Path, data: dict[str, Any]):
        self.path, self.data = path, data
        self.agencies = dict(Agency.objects.values_list("code", "pk"))

    def fail(self, item: str, message: str):
        raise ProgrammeError(f"{self.path.name}: {item}: {message}")

    def require(self, obj: dict, key: str, item: str) -> Any:
        value = obj.get(key) if isinstance(obj, dict) else None
        if value in (None, "", []):
            self.fail(item, f"{key!r} is required")
        return value

    def unique(self, codes: list[str], what: str) -> None:
        seen: set[str] = set()
        for code in codes:
            if code in seen:
                self.fail(f"{what} {code}", "duplicate code")
            seen.add(code)

    def round(self) -> PilotRound:
        code = str(self.require(self.data, "round", "round"))
        rnd = PilotRound.objects.filter(code=code).first()
        if rnd is None:
            self.fail(f"round {code}", "unknown pilot round (add it to core/data/pilot_rounds.json and load it first)")
        return rnd

    def deadline(self) -> dt.date:
        value = self.require(self.data, "work_plan_deadline", "work_plan_deadline")
        try:
            return dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            self.fail("work_plan_deadline", f"not an ISO date: {value!r}")

    def responsibilities(self, rows: Any, item: str, area_regions: set[str]) -> list[dict[str, Any]]:
        if not isinstance(rows, list) or not rows:
            self.fail(item, "'responsibilities' must be a non-empty list")
        checked = []
        for r in rows:
            unit = r.get("unit") if isinstance(r, dict) else None
            if unit not in UNITS:
                self.fail(item, f"unknown responsibility unit {unit!r}")
            agency = r.get("agency") or ""
            area = r.get("area") or ""
            if unit == Responsibility.Unit.AGENCY and agency not in self.agencies:
                self.fail(item, f"unknown agency code {agency!r}")
            if unit == Responsibility.Unit.AREA and area not in area_regions:
                self.fail(item, f"unknown area region code {area!r} (not a pilot area of the round)")
            if unit != Responsibility.Unit.AGENCY and agency or unit != Responsibility.Unit.AREA and area:
                self.fail(item, f"'agency'/'area' given for a unit of kind {unit!r}")
            duties = r.get("duties") or []
            if not duties or any(d not in DUTIES for d in duties):
                self.fail(item, f"duties must be a non-empty subset of {DUTIES}, not {duties!r}")
            checked.append({
                "unit": unit,
                "agency_id": self.agencies.get(agency) if unit == Responsibility.Unit.AGENCY else None,
                "area_region_code": area,
                "duties": sorted(set(duties), key=DUTIES.index),
                "is_lead": bool(r.get("lead", False)),
            })
        keys = [(r["unit"], r["agency_id"], r["area_region_code"]) for r in checked]
        if len(set(keys)) != len(keys):
            self.fail(item, "a responsible unit is listed twice")
        return checked


# --- syncing rows keyed by code ------------------------------------------------------------------------------------


def _sync(
    model: type[models.Model], existing: dict[Any, models.Model], rows: dict[Any, dict[str, Any]], stale: list
) -> dict:
    """Create or update `model` rows so that `existing` (key → object) matches `rows` (key → values).

    Returns key → object for every row in `rows`; the objects no longer in `rows` are appended to `stale` (deleted
    by the caller once every level is written, so that a row moving to another parent is not cascaded away).
    Writes nothing when they already match."""
    to_create, to_update, changed = [], [], set()
    result = {}
    for key, values in rows.items():
        obj = existing.get(key)
        if obj is None:
            obj = model(**values)
            to_create.append(obj)
        else:
            diff = [f for f, v in values.items() if getattr(obj, f) != v]
            if diff:
                for f in diff:
                    setattr(obj, f, values[f])
                changed.update(diff)
                to_update.append(obj)
        result[key] = obj
    stale.extend(obj for key, obj in existing.items() if key not in rows)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed))
    if to_create:
        model._default_manager.bulk_create(to_create)
        if any(o.pk is None for o in to_create):  # backends that do not return ids
            raise RuntimeError("the database did not return ids from bulk_create")
    return result


def _progress_area_tasks(qs: models.QuerySet) -> models.QuerySet:
    """Area tasks that carry anything an area or the ministry recorded: those are never deleted."""
    return qs.filter(
        models.Q(progress_reports__isnull=False)
        | models.Q(notices__isnull=False)
        | ~models.Q(status=TaskStatus.NOT_STARTED)
        | models.Q(completed_on__isnull=False)
        | ~models.Q(status_note="")
    ).distinct()


def _progress_area_measures(qs: models.QuerySet) -> models.QuerySet:
    return qs.filter(
        models.Q(effects__isnull=False)
        | ~models.Q(status=MeasureStatus.NOT_STARTED)
        | models.Q(implemented_on__isnull=False)
        | ~models.Q(enabling_document="")
        | ~models.Q(legal_basis="")
        | ~models.Q(note="")
    ).distinct()


def _refuse_removal(name: str, kind: str, blocked: set[str]) -> None:
    if blocked:
        raise ProgrammeError(
            f"{name}: {kind} {', '.join(sorted(blocked))}: no longer in the file, but work has been recorded on "
            f"them (area progress, work-plan actions or experience cases); restore the rows or retire that work first"
        )


# --- loading ---------------------------------------------------------------------------------------------------------


def load_programme(round_code: str | None = None, path: Path | str | None = None) -> dict[str, int]:
    """Load the programme of one round (or of every round with a file, or of the file at `path`).

    Returns the number of rows per table across the loaded files (as in the files, and the area records that
    exist afterwards). Raises `ProgrammeError` (a ValueError) naming the file and the item on bad data; nothing is
    saved then."""
    paths = [Path(path)] if path is not None else programme_files(round_code)
    totals: dict[str, int] = {}
    with transaction.atomic():
        for p in paths:
            for name, n in _load_file(p).items():
                totals[name] = totals.get(name, 0) + n
    return totals


@dataclass
class _Parsed:
    """A validated file, as row values keyed by code (foreign keys still as codes where the rows are not saved)."""

    round: PilotRound
    programme: dict[str, Any]
    areas: dict[str, dict[str, Any]]
    tasks: dict[str, dict[str, Any]]
    guarantees: dict[str, dict[str, Any]]
    responsibilities: list[tuple[str, str, dict[str, Any]]]  # (task code, guarantee code or "", values)
    measures: dict[str, dict[str, Any]]
    regulations: dict[tuple[str, int], dict[str, Any]]


def _load_file(path: Path) -> dict[str, int]:
    parsed = _parse(path)
    _refuse_removals(path, parsed)
    counts = _write(parsed)
    counts.update(sync_area_records(parsed.round))
    return counts


def _parse(path: Path) -> _Parsed:
    data = _read(path)
    check = _Checker(path, data)
    rnd = check.round()
    if path.stem != rnd.code and path.parent == PROGRAMME_DIR:
        check.fail(f"round {rnd.code}", f"the file for round {rnd.code} must be named {rnd.code}.json")
    area_regions = set(PilotArea.objects.filter(round=rnd).values_list("region__code", flat=True))

    task_areas = data.get("task_areas") or []
    tasks = data.get("tasks") or []
    measures = data.get("measures") or []
    for key, rows in (("task_areas", task_areas), ("tasks", tasks), ("measures", measures)):
        if not isinstance(rows, list) or key != "measures" and not rows:
            check.fail(key, "must be a non-empty list")
        for i, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                check.fail(f"{key} item {i}", "must be an object")
    programme = {"work_plan_deadline": check.deadline(), "source": str(data.get("source", ""))[:200]}

    # Task areas --------------------------------------------------------------------------------------------------
    check.unique([str(a.get("code")) for a in task_areas], "task area")
    area_rows = {}
    for order, a in enumerate(task_areas, start=1):
        code = str(check.require(a, "code", "task area"))
        area_rows[code] = {
            "round_id": rnd.pk, "code": code, "order": order,
            "name_zh": check.require(a, "name_zh", f"task area {code}"), "name_en": a.get("name_en", ""),
            "plan_text_zh": a.get("plan_text_zh", ""),
        }

    # Tasks, guarantees, responsibilities (validated before anything else is written) ---------------------------
    check.unique([str(t.get("code")) for t in tasks], "task")
    check.unique([str(g.get("code")) for t in tasks for g in (t.get("guarantees") or [])], "guarantee")
    task_rows, guarantee_rows, resp_rows = {}, {}, []  # resp_rows: (task code, guarantee code or "", values)
    for order, t in enumerate(tasks, start=1):
        code = str(check.require(t, "code", "task"))
        item = f"task {code}"
        area = str(check.require(t, "area", item))
        if area not in area_rows:
            check.fail(item, f"unknown task area {area!r}")
        guarantees = t.get("guarantees") or []
        all_units: list[str] = []
        if guarantees:
            if t.get("responsibilities"):
                check.fail(item, "responsibilities belong on the guarantees when a task has guarantees")
            for g_order, g in enumerate(guarantees, start=1):
                g_code = str(check.require(g, "code", f"{item} guarantee"))
                g_item = f"guarantee {g_code}"
                guarantee_rows[g_code] = {
                    "task_code": code, "code": g_code, "order": g_order,
                    "text_zh": check.require(g, "text_zh", g_item), "text_en": g.get("text_en", ""),
                    "responsible_zh": g.get("responsible_zh", ""),
                }
                for r in check.responsibilities(g.get("responsibilities"), g_item, area_regions):
                    resp_rows.append((code, g_code, r))
                    all_units.append(r["unit"])
        else:
            for r in check.responsibilities(t.get("responsibilities"), item, area_regions):
                resp_rows.append((code, "", r))
                all_units.append(r["unit"])
        task_rows[code] = {
            "round_id": rnd.pk, "code": code, "order": order, "area_code": area,
            "text_zh": check.require(t, "text_zh", item), "text_en": t.get("text_en", ""),
            "responsible_zh": "" if guarantees else t.get("responsible_zh", ""),
            "for_all_areas": Responsibility.Unit.AREAS in all_units,
        }

    check.unique([str(m.get("code")) for m in measures], "measure")
    measure_rows, regulation_rows = {}, {}
    for order, m in enumerate(measures, start=1):
        code = str(check.require(m, "code", "measure"))
        item = f"measure {code}"
        ebops = m.get("ebops_components") or []
        if not isinstance(ebops, list) or not all(isinstance(c, str) for c in ebops):
            check.fail(item, "'ebops_components' must be a list of EBOPS codes")
        regulations = m.get("regulations") or []
        if not isinstance(regulations, list) or not all(isinstance(r, dict) for r in regulations):
            check.fail(item, "'regulations' must be a list of objects")
        measure_rows[code] = {
            "round_id": rnd.pk, "code": code, "order": order,
            "domain_zh": check.require(m, "domain_zh", item), "domain_en": m.get("domain_en", ""),
            "industry_zh": check.require(m, "industry_zh", item), "industry_en": m.get("industry_en", ""),
            "text_zh": check.require(m, "text_zh", item), "text_en": m.get("text_en", ""),
            "ebops_components": ebops,
        }
        for r_order, r in enumerate(regulations, start=1):
            regulation_rows[(code, r_order)] = {
                "order": r_order,
                "instrument_zh": check.require(r, "instrument_zh", f"{item} regulation {r_order}"),
                "text_zh": check.require(r, "text_zh", f"{item} regulation {r_order}"),
            }
    _check_ebops(check, measure_rows)
    return _Parsed(rnd, programme, area_rows, task_rows, guarantee_rows, resp_rows, measure_rows, regulation_rows)


def _refuse_removals(path: Path, p: _Parsed) -> None:
    """Removing a task or a measure would cascade to the areas' records of it: refused once any carry work."""
    stale_tasks = Task.objects.filter(round=p.round).exclude(code__in=list(p.tasks))
    blocked = set(stale_tasks.filter(plan_actions__isnull=False).values_list("code", flat=True))
    blocked |= set(stale_tasks.filter(experience_cases__isnull=False).values_list("code", flat=True))
    blocked |= set(
        _progress_area_tasks(AreaTask.objects.filter(task__in=stale_tasks)).values_list("task__code", flat=True)
    )
    _refuse_removal(path.name, "tasks", blocked)
    stale_measures = OpeningMeasure.objects.filter(round=p.round).exclude(code__in=list(p.measures))
    _refuse_removal(path.name, "measures", set(
        _progress_area_measures(AreaMeasure.objects.filter(measure__in=stale_measures))
        .values_list("measure__code", flat=True)
    ))


def _write(p: _Parsed) -> dict[str, int]:
    rnd = p.round
    area_rows, task_rows, guarantee_rows, resp_rows = p.areas, p.tasks, p.guarantees, p.responsibilities
    measure_rows, regulation_rows = p.measures, p.regulations
    programme = Programme.objects.filter(round=rnd).first()
    if programme is None:
        Programme.objects.create(round=rnd, **p.programme)
    elif any(getattr(programme, f) != v for f, v in p.programme.items()):
        for f, v in p.programme.items():
            setattr(programme, f, v)
        programme.save()

    # Write: create and update every level, then delete what is stale from the bottom up --------------------------
    stale: dict[type[models.Model], list[models.Model]] = {
        m: [] for m in (AdjustedRegulation, Responsibility, PolicyGuarantee, OpeningMeasure, Task, TaskArea)
    }
    areas = _sync(TaskArea, {a.code: a for a in TaskArea.objects.filter(round=rnd)}, area_rows, stale[TaskArea])
    for row in task_rows.values():
        row["area_id"] = areas[row.pop("area_code")].pk
    task_objs = _sync(Task, {t.code: t for t in Task.objects.filter(round=rnd)}, task_rows, stale[Task])
    for row in guarantee_rows.values():
        row["task_id"] = task_objs[row.pop("task_code")].pk
    guarantee_objs = _sync(
        PolicyGuarantee, {g.code: g for g in PolicyGuarantee.objects.filter(task__round=rnd)}, guarantee_rows,
        stale[PolicyGuarantee],
    )
    # Responsibilities have no code of their own: a unit is identified by the task/guarantee it serves.
    resp_keyed = {}
    for task_code, g_code, r in resp_rows:
        task_id = task_objs[task_code].pk
        guarantee_id = guarantee_objs[g_code].pk if g_code else None
        resp_keyed[(task_id, guarantee_id, r["unit"], r["agency_id"], r["area_region_code"])] = {
            "task_id": task_id, "guarantee_id": guarantee_id, **r
        }
    _sync(
        Responsibility,
        {
            (r.task_id, r.guarantee_id, r.unit, r.agency_id, r.area_region_code): r
            for r in Responsibility.objects.filter(task__round=rnd)
        },
        resp_keyed,
        stale[Responsibility],
    )
    measure_objs = _sync(
        OpeningMeasure, {m.code: m for m in OpeningMeasure.objects.filter(round=rnd)}, measure_rows,
        stale[OpeningMeasure],
    )
    for (m_code, _order), row in regulation_rows.items():
        row["measure_id"] = measure_objs[m_code].pk
    _sync(
        AdjustedRegulation,
        {(r.measure.code, r.order): r for r in AdjustedRegulation.objects.filter(measure__round=rnd)
         .select_related("measure")},
        regulation_rows,
        stale[AdjustedRegulation],
    )
    for model, objs in stale.items():
        if objs:
            model._default_manager.filter(pk__in=[o.pk for o in objs]).delete()

    return {
        "task_areas": len(area_rows),
        "tasks": len(task_rows),
        "guarantees": len(guarantee_rows),
        "responsibilities": len(resp_keyed),
        "measures": len(measure_rows),
        "regulations": len(regulation_rows),
    }


def _check_ebops(check: _Checker, measure_rows: dict[str, dict[str, Any]]) -> None:
    from tradepilot.core.models import ServiceCategory

    known = set(ServiceCategory.objects.values_list("code", flat=True))
    for code, row in measure_rows.items():
        unknown = [c for c in row["ebops_components"] if c not in known]
        if unknown:
            check.fail(f"measure {code}", f"unknown EBOPS codes {unknown}")


def sync_area_records(rnd: PilotRound) -> dict[str, int]:
    """Make sure every pilot area of the round has its area tasks and area measures.

    An area task exists for every pilot area × task the pilot areas are responsible for (`for_all_areas`), and for
    a named area × task that names it (北京市人民政府 → the Beijing area); its due date is the round's end. Missing
    rows are added; rows no longer implied by the programme are removed unless they carry recorded work."""
    areas = list(PilotArea.objects.filter(round=rnd).select_related("region"))
    by_region = {a.region.code: a for a in areas}
    wanted_tasks: set[tuple[int, int]] = set()
    for task_id in Task.objects.filter(round=rnd, for_all_areas=True).values_list("pk", flat=True):
        wanted_tasks.update((a.pk, task_id) for a in areas)
    named = Responsibility.objects.filter(task__round=rnd, unit=Responsibility.Unit.AREA)
    for task_id, region_code in named.values_list("task_id", "area_region_code"):
        if region_code in by_region:
            wanted_tasks.add((by_region[region_code].pk, task_id))

    existing = {(a, t): pk for pk, a, t in AreaTask.objects.filter(task__round=rnd).values_list("pk", "area_id", "task_id")}
    AreaTask.objects.bulk_create(
        [AreaTask(area_id=a, task_id=t, due_date=rnd.end_date) for a, t in sorted(wanted_tasks - set(existing))]
    )
    unwanted = [pk for pair, pk in existing.items() if pair not in wanted_tasks]
    if unwanted:
        kept = set(_progress_area_tasks(AreaTask.objects.filter(pk__in=unwanted)).values_list("pk", flat=True))
        AreaTask.objects.filter(pk__in=[pk for pk in unwanted if pk not in kept]).delete()

    measure_ids = list(OpeningMeasure.objects.filter(round=rnd).values_list("pk", flat=True))
    wanted_measures = {(a.pk, m) for a in areas for m in measure_ids}
    existing_m = AreaMeasure.objects.filter(measure__round=rnd)
    have_m = set(existing_m.values_list("area_id", "measure_id"))
    AreaMeasure.objects.bulk_create(
        [AreaMeasure(area_id=a, measure_id=m) for a, m in sorted(wanted_measures - have_m)]
    )
    # Measures are removed with their rows above (cascade), so every remaining area measure is still wanted.
    return {
        "area_tasks": AreaTask.objects.filter(task__round=rnd).count(),
        "area_measures": AreaMeasure.objects.filter(measure__round=rnd).count(),
    }


__all__ = ["load_programme", "sync_area_records", "programme_files", "ProgrammeError", "PROGRAMME_DIR"]
