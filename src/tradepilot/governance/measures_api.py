"""API operations of the opening measures in the pilot areas (mounted at /api/v1/governance).

Reading is scoped by `core.scoping.scope_areas` (404 outside the scope); changes are the area's own bureau's
(403 for anyone else who can read the row). Bad input answers 400 naming the field (and the row of an uploaded
file); nothing is partly saved."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from tradepilot.core.api_base import ApiError, page_slice
from tradepilot.core.scoping import get_area_scoped
from tradepilot.governance import measure_imports, measures
from tradepilot.governance.models import AreaMeasure, MeasureStatus

router = Router(tags=["governance: opening measures"])


# --- schemas -----------------------------------------------------------------------------------------------------

class RegulationOut(Schema):
    instrument: str
    text: str


class EffectOut(Schema):
    id: int
    year: int
    quarter: int
    period: str
    indicator: str
    value: Decimal


class ImplementationOut(Schema):
    id: int
    area_id: int
    area: str
    region_code: str
    round: str
    measure_id: int
    measure_code: str
    domain: str
    industry: str
    measure: str
    status: str
    status_label: str
    implemented_on: dt.date | None
    enabling_document: str
    legal_basis: str
    note: str
    updated: dt.datetime
    can_edit: bool


class ImplementationDetail(ImplementationOut):
    regulations: list[RegulationOut]
    effects: list[EffectOut]


class ImplementationPage(Schema):
    count: int
    items: list[ImplementationOut]


class ImplementationPatch(Schema):
    status: str | None = None
    implemented_on: str | None = None
    enabling_document: str | None = None
    legal_basis: str | None = None
    note: str | None = None
    reason: str = ""


class EffectIn(Schema):
    year: int
    quarter: int
    indicator: str
    value: Decimal | str
    reason: str = ""


def _out(am: AreaMeasure, user) -> dict:
    m = am.measure
    return dict(
        id=am.pk, area_id=am.area_id, area=am.area.name, region_code=am.area.region.code, round=am.area.round.code,
        measure_id=m.pk, measure_code=m.code, domain=m.domain_zh, industry=m.industry_zh, measure=m.text_zh,
        status=am.status, status_label=str(am.get_status_display()), implemented_on=am.implemented_on,
        enabling_document=am.enabling_document, legal_basis=am.legal_basis, note=am.note, updated=am.updated,
        can_edit=measures.can_edit(user, am),
    )


def _effect_out(e) -> dict:
    return dict(id=e.pk, year=e.year, quarter=e.quarter, period=measures.quarter_label(e.year, e.quarter),
                indicator=e.indicator, value=e.value)


def _detail(am: AreaMeasure, user) -> dict:
    return dict(**_out(am, user),
                regulations=[dict(instrument=r.instrument_zh, text=r.text_zh) for r in am.measure.regulations.all()],
                effects=[_effect_out(e) for e in am.effects.all()])


def _get(request, am_id: int) -> AreaMeasure:
    measures.check_reader(request.user)
    return get_area_scoped(request.user, AreaMeasure.objects.select_related(
        "area__region", "area__round", "measure"), pk=am_id)


# --- implementation ----------------------------------------------------------------------------------------------

@router.get("/measures/implementation", response=ImplementationPage)
def list_implementation(request, area: str | None = None, measure: str | None = None, status: str | None = None,
                        round: str | None = None, limit: int = 100, offset: int = 0):
    """Area measures the user may read. `area`: area id or region code; `measure`: measure id or code; `status`:
    one or more statuses separated by commas; `round`: the pilot round's code."""
    measures.check_reader(request.user)
    qs = measures.area_measures(request.user)
    if round:
        qs = qs.filter(area__round__code=round)
    if area:
        qs = qs.filter(area_id=int(area)) if area.isdigit() and len(area) < 6 else qs.filter(area__region__code=area)
    if measure:
        qs = qs.filter(measure_id=int(measure)) if measure.isdigit() else qs.filter(measure__code__iexact=measure)
    if status:
        wanted = [s.strip() for s in status.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in MeasureStatus.values]
        if unknown:
            message = _("Unknown status; use one of: %(v)s.") % {"v": ", ".join(MeasureStatus.values)}
            raise ApiError(400, message, "invalid_status",
                           [measures.error("status", ",".join(unknown), "invalid_status", message)])
        qs = qs.filter(status__in=wanted)
    qs = qs.order_by("-area__round__start_date", "area__order", "measure__order")
    return ImplementationPage(count=qs.count(), items=[_out(am, request.user) for am in qs[page_slice(limit, offset)]])


@router.get("/measures/implementation/{int:am_id}", response=ImplementationDetail)
def get_implementation(request, am_id: int):
    return _detail(_get(request, am_id), request.user)


@router.patch("/measures/implementation/{int:am_id}", response=ImplementationDetail)
def patch_implementation(request, am_id: int, payload: ImplementationPatch):
    """Change the status, date, enabling document, legal basis or note (only the fields sent). An implemented
    measure needs `implemented_on` (YYYY-MM-DD) and `legal_basis`."""
    am = _get(request, am_id)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "") or ""
    am = measures.update_implementation(request.user, am, data, reason=reason)
    return _detail(am, request.user)


# --- effects -----------------------------------------------------------------------------------------------------

@router.get("/measures/implementation/{int:am_id}/effects", response=list[EffectOut])
def list_effects(request, am_id: int):
    return [_effect_out(e) for e in _get(request, am_id).effects.all()]


@router.post("/measures/implementation/{int:am_id}/effects", response={200: EffectOut, 201: EffectOut})
def put_effect(request, am_id: int, payload: EffectIn):
    """Add the effect of a quarter and indicator, or replace its value (201 when added, 200 when replaced)."""
    am = _get(request, am_id)
    effect, outcome = measures.put_effect(request.user, am, year=payload.year, quarter=payload.quarter,
                                          indicator=payload.indicator, value=payload.value,
                                          reason=payload.reason)
    return Status(201 if outcome == "created" else 200, _effect_out(effect))


@router.delete("/measures/implementation/{int:am_id}/effects/{int:effect_id}", response={204: None})
def delete_effect(request, am_id: int, effect_id: int, reason: str = ""):
    am = _get(request, am_id)
    effect = am.effects.filter(pk=effect_id).first()
    if effect is None:
        raise ApiError(404, _("Not found."), "not_found")
    measures.delete_effect(request.user, effect, reason=reason)
    return Status(204, None)


# --- bulk upload -------------------------------------------------------------------------------------------------

@router.post("/measures/effects/import", response={200: dict, 400: dict, 413: dict})
def import_effects(request, file: UploadedFile = File(...), dry_run: bool = True):
    """Check a CSV / XLSX file of effects (columns: area, measure, year, quarter, indicator, value) and, with
    `dry_run=false`, import every row or none. A file with errors answers 400 listing each (row, field, code,
    message); nothing is saved."""
    measure_imports.check_importer(request.user)
    _token, stored = measure_imports.store_upload(file, request.user)
    try:
        if dry_run:
            result = measure_imports.dry_run(stored, request.user, file.name)
        else:
            try:
                result = measure_imports.commit(stored, request.user, file.name)
            except measure_imports.ImportFailed as exc:
                result = exc.result
    finally:
        stored.unlink(missing_ok=True)  # the API answers in one call: the file is not kept
    body = {"dry_run": dry_run, **result.as_dict()}
    if not result.ok:
        body.update(detail=_("The file has %(n)d problem(s); nothing was saved.") % {"n": len(result.errors)},
                    code="invalid_file" if result.rows or result.errors else "no_rows")
        return Status(400, body)
    return body
