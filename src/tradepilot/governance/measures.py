"""Opening measures (附件2) in the pilot areas: implementation status, enabling document, legal basis, and the
quarterly effect indicators; plus the summaries other parts read (evaluation, early warning).

Rules:

- Every area × measure row (`AreaMeasure`) exists from the programme loader; only the area's own bureau changes it
  (`core.scoping.can_edit_area`), and every change is audited (old → new) in the same transaction.
- An implemented measure needs its date (not before the round's start, not in the future) and the legal basis of
  the temporary adjustment of the regulations the measure quotes; other statuses carry no date.
- Effects are per quarter within the round's period (and not a quarter that has not begun), per indicator, with a
  non-negative value of at most two decimals (whole numbers for the two counts); a not-applicable measure has none.

Effect changes are audited against their `AreaMeasure`, so one object's history shows everything the area reported
about the measure.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.models import PilotArea, PilotRound
from tradepilot.core.scoping import can_edit_area, scope_areas
from tradepilot.governance import common
from tradepilot.governance.common import LocatedError, error, today
from tradepilot.governance.models import AreaMeasure, MeasureEffect, MeasureStatus, OpeningMeasure

# Who reads the measure pages at all (the rows they see are then scoped by core.scoping).
COUNT_INDICATORS = {MeasureEffect.Indicator.ENTERPRISES, MeasureEffect.Indicator.TRANSACTIONS}
MAX_VALUE = Decimal("1e16")  # the column holds 18 digits, two of them decimals
CENT = Decimal("0.01")
SHARE_PLACES = Decimal("0.0001")
TEXT_LIMITS = {"enabling_document": 300, "legal_basis": 4000, "note": 4000}


class MeasureError(LocatedError):
    """The opening-measure part's refusals."""


# --- reading ---------------------------------------------------------------------------------------------------

def check_reader(user) -> None:
    common.check_reader(user, _("The opening-measure pages are for the ministry, departments and bureaus."))


def area_measures(user) -> QuerySet[AreaMeasure]:
    """The area measures the user may read, with what the pages show."""
    return scope_areas(user, AreaMeasure.objects.select_related(
        "area__region", "area__round", "measure"))


def rounds_with_measures() -> QuerySet[PilotRound]:
    return PilotRound.objects.filter(opening_measures__isnull=False).distinct().order_by("-start_date")


def pick_round(code: str | None) -> PilotRound | None:
    """The round named by `code`, else the newest round with opening measures."""
    rounds = rounds_with_measures()
    if code:
        found = rounds.filter(code=code).first()
        if found is not None:
            return found
    return rounds.first()


def can_edit(user, area_measure: AreaMeasure) -> bool:
    return can_edit_area(user, area_measure.area)


def _check_editor(user, area_measure: AreaMeasure) -> None:
    if not can_edit(user, area_measure):
        raise PermissionDenied(_("Only the pilot area's own bureau records its opening measures."))


# --- quarters ----------------------------------------------------------------------------------------------------

def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def quarter_start(year: int, quarter: int) -> dt.date:
    return dt.date(year, 3 * quarter - 2, 1)


def quarter_label(year: int, quarter: int) -> str:
    return f"{year}Q{quarter}"


def round_quarters(rnd: PilotRound, until: dt.date | None = None) -> list[tuple[int, int]]:
    """The quarters of the round's period, in order; up to the quarter of `until` when given."""
    last = quarter_of(rnd.end_date)
    if until is not None:
        last = min(last, quarter_of(until))
    y, q = quarter_of(rnd.start_date)
    out = []
    while (y, q) <= last:
        out.append((y, q))
        y, q = (y + 1, 1) if q == 4 else (y, q + 1)
    return out


# --- parsing input -----------------------------------------------------------------------------------------------

def parse_date(value, field: str = "implemented_on") -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise MeasureError([error(field, value, "invalid_date", _("Use the date format YYYY-MM-DD."))]) from None


def parse_status(value) -> str:
    text = str(value or "").strip()
    if text in MeasureStatus.values:
        return text
    labels = {str(label).casefold(): v for v, label in MeasureStatus.choices}
    if text.casefold() in labels:
        return labels[text.casefold()]
    raise MeasureError([error("status", value, "invalid_status",
                              _("Unknown status; use one of: %(v)s.") % {"v": ", ".join(MeasureStatus.values)})])


def parse_indicator(value, row: int | None = None) -> str:
    text = str(value or "").strip()
    for code, label in MeasureEffect.Indicator.choices:
        if text.casefold() in (code, str(label).casefold()):
            return code
    zh = {"企业数": "enterprises", "使用企业数": "enterprises", "交易笔数": "transactions", "业务笔数": "transactions",
          "笔数": "transactions", "案例数": "transactions", "金额": "amount", "金额（万元）": "amount"}
    if text in zh:
        return zh[text]
    raise MeasureError([error("indicator", value, "invalid_indicator",
                              _("Unknown indicator; use one of: %(v)s.")
                              % {"v": ", ".join(MeasureEffect.Indicator.values)}, row)])


def parse_value(value, indicator: str, row: int | None = None) -> Decimal:
    """A non-negative amount with at most two decimals; a whole number for the counts."""
    if isinstance(value, bool):
        amount = None
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, float):
        amount = Decimal(repr(value))  # as typed (a spreadsheet cell arrives as a float)
    elif isinstance(value, int):
        amount = Decimal(value)
    else:
        text = str(value or "").strip().replace(",", "")
        try:
            amount = Decimal(text) if text else None
        except InvalidOperation:
            amount = None
        if not text:
            raise MeasureError([error("value", value, "required", _("A value is required."), row)])
    if amount is None or not amount.is_finite():
        raise MeasureError([error("value", value, "invalid_number", _("The value is not a number."), row)])
    if amount < 0:
        raise MeasureError([error("value", value, "negative", _("The value cannot be negative."), row)])
    if amount >= MAX_VALUE:
        raise MeasureError([error("value", value, "too_large", _("The value is too large."), row)])
    if amount != amount.quantize(CENT):
        raise MeasureError([error("value", value, "too_many_decimals",
                                  _("The value may have at most two decimal places."), row)])
    if indicator in COUNT_INDICATORS and amount != amount.to_integral_value():
        raise MeasureError([error("value", value, "not_whole",
                                  _("Enterprises and transactions are counted in whole numbers."), row)])
    return amount.quantize(CENT)


def _whole(value) -> int | None:
    """An integer from a form field, JSON or a spreadsheet cell (2019, "2019", 2019.0); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value if value is not None else "").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def parse_year_quarter(year, quarter, row: int | None = None) -> tuple[int, int]:
    errors = []
    y = _whole(year)
    if y is None or not 2000 <= y <= 2100:
        errors.append(error("year", year, "invalid_year", _("The year must be a four-digit year."), row))
    q = _whole(str(quarter).strip().upper().removeprefix("Q") if isinstance(quarter, str) else quarter)
    if q not in (1, 2, 3, 4):
        errors.append(error("quarter", quarter, "invalid_quarter", _("The quarter must be 1, 2, 3 or 4."), row))
    if errors:
        raise MeasureError(errors)
    return y, q


def check_quarter(rnd: PilotRound, year: int, quarter: int, row: int | None = None,
                  on: dt.date | None = None) -> None:
    """Within the round's period, and begun by `on` (today)."""
    quarters = round_quarters(rnd)
    if (year, quarter) not in quarters:
        raise MeasureError([error(
            "quarter", quarter_label(year, quarter), "outside_round",
            _("%(q)s is outside the pilot period (%(a)s to %(b)s).")
            % {"q": quarter_label(year, quarter), "a": quarter_label(*quarters[0]),
               "b": quarter_label(*quarters[-1])}, row)])
    if quarter_start(year, quarter) > (on or today()):
        raise MeasureError([error("quarter", quarter_label(year, quarter), "future",
                                  _("%(q)s has not begun yet.") % {"q": quarter_label(year, quarter)}, row)])


# --- implementation ----------------------------------------------------------------------------------------------

IMPLEMENTATION_FIELDS = ("status", "implemented_on", "enabling_document", "legal_basis", "note")


def snapshot(am: AreaMeasure) -> dict:
    return {f: getattr(am, f) for f in IMPLEMENTATION_FIELDS}


def clean_implementation(am: AreaMeasure, data: dict, on: dt.date | None = None) -> dict:
    """The new values of the implementation fields (unset ones kept), validated together. Raises MeasureError
    listing every problem."""
    new = snapshot(am)
    errors: list[dict] = []
    if "status" in data and data["status"] is not None:
        try:
            new["status"] = parse_status(data["status"])
        except MeasureError as exc:
            errors += exc.errors
    date_given = "implemented_on" in data
    if date_given:
        try:
            new["implemented_on"] = parse_date(data["implemented_on"])
        except MeasureError as exc:
            errors += exc.errors
            date_given = False
    for field, limit in TEXT_LIMITS.items():
        if field in data:
            text = (data[field] or "").strip()
            if len(text) > limit:
                errors.append(error(field, text[:50], "too_long",
                                    _("At most %(n)d characters.") % {"n": limit}))
            new[field] = text
    if errors:
        raise MeasureError(errors)

    rnd = am.area.round
    day = on or today()
    if new["status"] == MeasureStatus.IMPLEMENTED:
        when = new["implemented_on"]
        if when is None:
            errors.append(error("implemented_on", "", "required",
                                _("An implemented measure needs the date it took effect.")))
        elif when < rnd.start_date:
            errors.append(error("implemented_on", when, "before_round",
                                _("The date is before the pilot began (%(d)s).") % {"d": rnd.start_date}))
        elif when > day:
            errors.append(error("implemented_on", when, "future", _("The date is in the future.")))
        if not new["legal_basis"]:
            errors.append(error("legal_basis", "", "required",
                                _("An implemented measure needs the legal basis of the temporary adjustment "
                                  "(e.g. the State Council's notice).")))
    elif new["implemented_on"] is not None:
        if date_given and data["implemented_on"] not in (None, ""):
            errors.append(error("implemented_on", new["implemented_on"], "not_implemented",
                                _("Only an implemented measure has an implementation date.")))
        else:
            new["implemented_on"] = None  # the status moved away from implemented: the date no longer holds
    if errors:
        raise MeasureError(errors)
    return new


def _locked(am: AreaMeasure) -> AreaMeasure:
    return (AreaMeasure.objects.select_for_update(of=("self",))
            .select_related("area__round", "area__region", "measure").get(pk=am.pk))


def update_implementation(user, am: AreaMeasure, data: dict, *, reason: str = "",
                          on: dt.date | None = None) -> AreaMeasure:
    """Change an area measure's implementation record; audited old → new. Unchanged input changes nothing."""
    _check_editor(user, am)
    with transaction.atomic():
        am = _locked(am)
        old = snapshot(am)
        new = clean_implementation(am, data, on)
        changes = audit.diff(old, new)
        if not changes:
            return am
        for field, value in new.items():
            setattr(am, field, value)
        am.save()
        audit.record(user, "measure:update", am, changes=changes, reason=reason)
    return am


# --- effects -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EffectInput:
    year: int
    quarter: int
    indicator: str
    value: Decimal


def clean_effect(am: AreaMeasure, year, quarter, indicator, value, *, row: int | None = None,
                 on: dt.date | None = None) -> EffectInput:
    """Validate one effect of an area measure; raises MeasureError listing every problem of the row."""
    errors: list[dict] = []
    y = q = code = amount = None
    try:
        y, q = parse_year_quarter(year, quarter, row)
        check_quarter(am.area.round, y, q, row, on)
    except MeasureError as exc:
        errors += exc.errors
    try:
        code = parse_indicator(indicator, row)
    except MeasureError as exc:
        errors += exc.errors
    if code is not None:
        try:
            amount = parse_value(value, code, row)
        except MeasureError as exc:
            errors += exc.errors
    if am.status == MeasureStatus.NOT_APPLICABLE:
        errors.append(error("measure", am.measure.code, "not_applicable",
                            _("The measure is marked not applicable in this area; it has no effects."), row))
    if errors:
        raise MeasureError(errors)
    return EffectInput(y, q, code, amount)


def _effect_key(e: EffectInput | MeasureEffect) -> str:
    return f"{quarter_label(e.year, e.quarter)} {e.indicator}"


def save_effect(user, am: AreaMeasure, data: EffectInput, *, reason: str = "") -> tuple[MeasureEffect, str]:
    """Create or update the effect of (quarter, indicator); returns it and "created" / "updated" / "unchanged".
    The caller holds the transaction (atomic) and has checked the editor."""
    effect = MeasureEffect.objects.select_for_update().filter(
        area_measure=am, year=data.year, quarter=data.quarter, indicator=data.indicator).first()
    key = _effect_key(data)
    if effect is None:
        effect = MeasureEffect.objects.create(area_measure=am, year=data.year, quarter=data.quarter,
                                              indicator=data.indicator, value=data.value)
        audit.record(user, "measure_effect:create", am, changes={key: [None, data.value]}, reason=reason)
        return effect, "created"
    if effect.value == data.value:
        return effect, "unchanged"
    old = effect.value
    effect.value = data.value
    effect.save(update_fields=["value"])
    audit.record(user, "measure_effect:update", am, changes={key: [old, data.value]}, reason=reason)
    return effect, "updated"


def put_effect(user, am: AreaMeasure, *, year, quarter, indicator, value, reason: str = "",
               on: dt.date | None = None) -> tuple[MeasureEffect, str]:
    """Add or update one effect of an area measure (validated, audited, atomic)."""
    _check_editor(user, am)
    with transaction.atomic():
        # The current row, locked: its status decides, and concurrent writes of one measure's effects queue here.
        am = _locked(am)
        data = clean_effect(am, year, quarter, indicator, value, on=on)
        return save_effect(user, am, data, reason=reason)


def delete_effect(user, effect: MeasureEffect, *, reason: str = "") -> None:
    am = effect.area_measure
    _check_editor(user, am)
    with transaction.atomic():
        audit.record(user, "measure_effect:delete", am, changes={_effect_key(effect): [effect.value, None]},
                     reason=reason)
        effect.delete()


def effects_by_quarter(effects) -> tuple[list[str], dict[str, list[Decimal]]]:
    """Quarter labels and, per indicator, the summed value of each quarter (for tables and charts)."""
    totals: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(dict)
    for e in effects:
        cell = totals[(e.year, e.quarter)]
        cell[e.indicator] = cell.get(e.indicator, Decimal(0)) + e.value
    quarters = sorted(totals)
    series = {code: [totals[q].get(code, Decimal(0)) for q in quarters] for code in MeasureEffect.Indicator.values}
    return [quarter_label(*q) for q in quarters], series


# --- summaries for other parts -----------------------------------------------------------------------------------

def implementation_summary(rnd: PilotRound, year: int | None = None) -> dict[int, dict]:
    """Per pilot area of `rnd`: how many of its applicable opening measures were implemented.

    Returns `{area_id: {"implemented": n, "applicable": m, "share": Decimal}}` for every area of the round:

    - `applicable` counts the area's measures except those marked not applicable;
    - `implemented` counts those with status implemented whose `implemented_on` is on or before 31 December of
      `year` (any date when `year` is None);
    - `share` is implemented / applicable as a fraction between 0 and 1, rounded half-up to 4 decimals
      (Decimal("0.8571")); 0 when nothing is applicable.

    Used by the performance evaluation ("measures implemented"); not scoped — callers scope what they show.
    """
    until = dt.date(year, 12, 31) if year is not None else None
    out = {a: {"implemented": 0, "applicable": 0, "share": Decimal("0.0000")}
           for a in PilotArea.objects.filter(round=rnd).values_list("pk", flat=True)}
    rows = AreaMeasure.objects.filter(area__round=rnd).exclude(status=MeasureStatus.NOT_APPLICABLE).values_list(
        "area_id", "status", "implemented_on")
    for area_id, status, when in rows:
        entry = out[area_id]
        entry["applicable"] += 1
        if status == MeasureStatus.IMPLEMENTED and when is not None and (until is None or when <= until):
            entry["implemented"] += 1
    for entry in out.values():
        if entry["applicable"]:
            entry["share"] = (Decimal(entry["implemented"]) / Decimal(entry["applicable"])).quantize(
                SHARE_PLACES, ROUND_HALF_UP)
    return out


def implemented_measures_by_component(area: PilotArea) -> dict[str, dt.date]:
    """For early warning: per EBOPS component (`OpeningMeasure.ebops_components`, e.g. "SG"), the earliest date on
    which an implemented measure touching it took effect in `area`. Components of no implemented measure are
    absent."""
    out: dict[str, dt.date] = {}
    rows = AreaMeasure.objects.filter(area=area, status=MeasureStatus.IMPLEMENTED, implemented_on__isnull=False)
    for components, when in rows.values_list("measure__ebops_components", "implemented_on"):
        for component in components or []:
            if component not in out or when < out[component]:
                out[component] = when
    return out


def status_counts(qs: QuerySet[AreaMeasure]) -> dict[str, int]:
    counts = dict.fromkeys(MeasureStatus.values, 0)
    for status in qs.values_list("status", flat=True):
        counts[status] += 1
    return counts


def domains(rnd: PilotRound) -> list[str]:
    seen: list[str] = []
    for d in OpeningMeasure.objects.filter(round=rnd).order_by("order").values_list("domain_zh", flat=True):
        if d not in seen:
            seen.append(d)
    return seen


# --- the areas × measures grid -----------------------------------------------------------------------------------

@dataclass
class GridRow:
    area: PilotArea
    cells: list  # AreaMeasure, or None where the status filter hides the cell
    implemented: int
    applicable: int

    @property
    def share(self) -> Decimal | None:
        if not self.applicable:
            return None
        return (Decimal(self.implemented) / Decimal(self.applicable)).quantize(SHARE_PLACES, ROUND_HALF_UP)


@dataclass
class Grid:
    round: PilotRound
    measures: list
    rows: list

    @property
    def empty(self) -> bool:
        return not self.rows


def grid(user, rnd: PilotRound, *, domain: str = "", status: str = "") -> Grid:
    """The areas the user reads × the round's measures (of `domain` when given). With `status`, only cells of that
    status are kept and areas without one are left out. Counts are over the shown measures."""
    measure_list = list(OpeningMeasure.objects.filter(round=rnd, **({"domain_zh": domain} if domain else {}))
                        .prefetch_related("regulations").order_by("order"))
    cells: dict[int, dict[int, AreaMeasure]] = defaultdict(dict)
    for am in area_measures(user).filter(area__round=rnd, measure__in=measure_list):
        cells[am.area_id][am.measure_id] = am
    rows = []
    for area in scope_areas(user, PilotArea.objects.filter(round=rnd).select_related("region")).order_by("order"):
        own = cells.get(area.pk, {})
        row = [own.get(m.pk) for m in measure_list]
        applicable = [c for c in row if c is not None and c.status != MeasureStatus.NOT_APPLICABLE]
        implemented = sum(1 for c in applicable if c.status == MeasureStatus.IMPLEMENTED)
        if status:
            row = [c if c is not None and c.status == status else None for c in row]
            if not any(row):
                continue
        rows.append(GridRow(area, row, implemented, len(applicable)))
    return Grid(rnd, measure_list, rows)
