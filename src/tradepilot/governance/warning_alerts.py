"""Early-warning alerts after they fire: who reads them, the lifecycle (open → acknowledged → handled), filters,
the step history (from the audit log), and the explanation and chart as a given user may see them.

- Reading: `core.scoping.scope_areas` (ministry, auditor and departments every area; a bureau its region subtree,
  so Zhejiang reads Hangzhou's alerts); enterprise users are refused.
- Acting: only the area's own bureau (`can_edit_area`) or the ministry acknowledges (note optional) and handles
  (handling note required: what was done). A bureau that reads but does not own the area is refused (403).
- Money inputs of an explanation that fail the disclosure rules are shown to the ministry only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tradepilot.core import audit
from tradepilot.core.models import AuditLog, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import can_edit_area, scope_areas
from tradepilot.governance import common
from tradepilot.governance.early_warning import KINDS, LEVELS, indicator_series
from tradepilot.governance.models import AlertLevel, RiskAlert, RiskRule
from tradepilot.governance.warning_kinds import WarningError, error, period_label

NOTE_LIMIT = 4000
LEVEL_ORDER = Case(When(level=AlertLevel.RED, then=Value(3)), When(level=AlertLevel.ORANGE, then=Value(2)),
                   default=Value(1), output_field=IntegerField())
STATE_ORDER = Case(When(state=RiskAlert.State.OPEN, then=Value(0)),
                   When(state=RiskAlert.State.ACKNOWLEDGED, then=Value(1)), default=Value(2),
                   output_field=IntegerField())


def check_reader(user) -> None:
    common.check_reader(user, _("Early warning is for the ministry, departments and bureaus."))


def alerts_for(user) -> QuerySet[RiskAlert]:
    check_reader(user)
    return scope_areas(user, RiskAlert.objects.select_related("rule", "area__region", "area__round",
                                                              "acknowledged_by", "handled_by"))


def can_act(user, alert: RiskAlert) -> bool:
    return role_of(user) == Role.MINISTRY or can_edit_area(user, alert.area)


def _check_actor(user, alert: RiskAlert) -> None:
    if not can_act(user, alert):
        raise PermissionDenied(_("Only the pilot area's own bureau or the ministry acknowledges and handles its "
                                 "alerts."))


def _clean_note(note, *, required: bool) -> str:
    text = (note or "").strip()
    if required and not text:
        raise WarningError([error("note", "", "required",
                                  _("Say what was done: a handling note is required."))])
    if len(text) > NOTE_LIMIT:
        raise WarningError([error("note", text[:50], "too_long", _("At most %(n)d characters.") % {"n": NOTE_LIMIT})])
    return text


def _locked(alert: RiskAlert) -> RiskAlert:
    return RiskAlert.objects.select_for_update().select_related("rule", "area__region").get(pk=alert.pk)


def acknowledge(alert: RiskAlert, user, note: str = "") -> RiskAlert:
    _check_actor(user, alert)
    note = _clean_note(note, required=False)
    with transaction.atomic():
        alert = _locked(alert)
        if alert.state != RiskAlert.State.OPEN:
            raise WarningError([error("state", alert.state, "bad_state",
                                      _("Only an open alert can be acknowledged."))], status=409)
        alert.state = RiskAlert.State.ACKNOWLEDGED
        alert.acknowledged_by, alert.acknowledged_at = user, timezone.now()
        alert.save(update_fields=["state", "acknowledged_by", "acknowledged_at"])
        audit.record(user, "warning:acknowledge", alert,
                     changes={"state": [RiskAlert.State.OPEN, RiskAlert.State.ACKNOWLEDGED]}, reason=note)
    return alert


def handle(alert: RiskAlert, user, note: str) -> RiskAlert:
    _check_actor(user, alert)
    note = _clean_note(note, required=True)
    with transaction.atomic():
        alert = _locked(alert)
        if alert.state != RiskAlert.State.ACKNOWLEDGED:
            message = (_("This alert has already been handled.") if alert.state == RiskAlert.State.HANDLED
                       else _("Acknowledge the alert before recording how it was handled."))
            raise WarningError([error("state", alert.state, "bad_state", message)], status=409)
        alert.state = RiskAlert.State.HANDLED
        alert.handled_by, alert.handled_at, alert.handling_note = user, timezone.now(), note
        alert.save(update_fields=["state", "handled_by", "handled_at", "handling_note"])
        audit.record(user, "warning:handle", alert,
                     changes={"state": [RiskAlert.State.ACKNOWLEDGED, RiskAlert.State.HANDLED],
                              "handling_note": ["", note]}, reason=note)
    return alert


# --- filters -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertFilters:
    area: str = ""      # region code of the pilot area
    rule: str = ""      # rule code
    level: str = ""
    state: str = ""
    start: int | None = None   # yyyymm, inclusive
    end: int | None = None

    def as_params(self) -> dict[str, str]:
        out = {"area": self.area, "rule": self.rule, "level": self.level, "state": self.state,
               "start": period_label(self.start) if self.start else "",
               "end": period_label(self.end) if self.end else ""}
        return {k: v for k, v in out.items() if v}


def parse_month(field: str, raw) -> int | None:
    text = ("" if raw is None else str(raw)).strip()
    if not text:
        return None
    try:
        year, month = (int(x) for x in text.split("-"))
        if not (2000 <= year <= 2100 and 1 <= month <= 12):
            raise ValueError
    except ValueError:
        raise WarningError([error(field, text, "invalid_period", _("Give a month as YYYY-MM."))],
                           status=400) from None
    return year * 100 + month


def parse_filters(params) -> AlertFilters:
    """Filters from request parameters; an unknown level or state, or a bad month, is a 400 naming the field."""
    def get(name: str) -> str:
        return (params.get(name) or "").strip()

    errors = []
    level, state = get("level"), get("state")
    if level and level not in AlertLevel.values:
        errors.append(error("level", level, "invalid_choice",
                            _("Choose one of: %(codes)s.") % {"codes": ", ".join(AlertLevel.values)}))
    if state and state not in RiskAlert.State.values:
        errors.append(error("state", state, "invalid_choice",
                            _("Choose one of: %(codes)s.") % {"codes": ", ".join(RiskAlert.State.values)}))
    bounds: dict[str, int | None] = {}
    for field in ("start", "end"):
        try:
            bounds[field] = parse_month(field, params.get(field))
        except WarningError as exc:
            errors += exc.errors
            bounds[field] = None
    start, end = bounds["start"], bounds["end"]
    if start and end and start > end:
        errors.append(error("start", period_label(start), "after_end", _("The start month is after the end month.")))
    if errors:
        raise WarningError(errors, status=400)
    return AlertFilters(area=get("area"), rule=get("rule"), level=level, state=state, start=start, end=end)


def filter_alerts(qs: QuerySet[RiskAlert], f: AlertFilters) -> QuerySet[RiskAlert]:
    """Narrow an already scoped queryset (filters never widen the scope); newest month first, red first."""
    if f.area:
        qs = qs.filter(area__region__code=f.area)
    if f.rule:
        qs = qs.filter(rule__code=f.rule)
    if f.level:
        qs = qs.filter(level=f.level)
    if f.state:
        qs = qs.filter(state=f.state)
    if f.start:
        qs = qs.filter(Q(year__gt=f.start // 100) | Q(year=f.start // 100, month__gte=f.start % 100))
    if f.end:
        qs = qs.filter(Q(year__lt=f.end // 100) | Q(year=f.end // 100, month__lte=f.end % 100))
    return qs.annotate(level_rank=LEVEL_ORDER).order_by("-year", "-month", "-level_rank", "area__order",
                                                        "rule__code", "subject")


def unhandled_first(qs: QuerySet[RiskAlert]) -> QuerySet[RiskAlert]:
    return qs.annotate(level_rank=LEVEL_ORDER, state_rank=STATE_ORDER).order_by(
        "state_rank", "-level_rank", "-year", "-month", "area__order")


def counts_by_area(qs: QuerySet[RiskAlert]) -> list[dict]:
    """Per area: unhandled alerts by level, and handled ones; areas with no alert are left out."""
    rows: dict[int, dict] = {}
    for area_id, name_zh, name_en, code, level, state in qs.values_list(
            "area_id", "area__name_zh", "area__name_en", "area__region__code", "level", "state").order_by(
            "area__order"):
        row = rows.setdefault(area_id, {"code": code, "name": _name(name_zh, name_en), "handled": 0,
                                        "open": 0, **dict.fromkeys(LEVELS, 0)})
        if state == RiskAlert.State.HANDLED:
            row["handled"] += 1
        else:
            row[level] += 1
            row["open"] += state == RiskAlert.State.OPEN
    return list(rows.values())


def _name(zh: str, en: str) -> str:
    from django.utils.translation import get_language

    return en if (get_language() or "").startswith("en") and en else zh


# --- what an alert page shows ------------------------------------------------------------------------------------

STEP_LABELS = {
    "warning:fire": gettext_lazy("Fired by a scan"),
    "warning:rescan": gettext_lazy("Updated by a scan"),
    "warning:acknowledge": gettext_lazy("Acknowledged"),
    "warning:handle": gettext_lazy("Handled"),
}


def steps(alert: RiskAlert) -> list[dict]:
    """The alert's history from the audit log: firing, re-scans, acknowledgement, handling (oldest first)."""
    entries = (AuditLog.objects.filter(object_type=RiskAlert._meta.label_lower, object_id=str(alert.pk))
               .select_related("actor").order_by("timestamp", "pk"))
    return [{"at": e.timestamp, "actor": e.actor.username if e.actor_id else _("system"),
             "action": e.action, "label": STEP_LABELS.get(e.action, e.action), "changes": e.changes,
             "note": e.reason} for e in entries]


AFTER_HANDLING = "_after_handling"


def change_rows(changes: dict) -> list[tuple[str, object, object]]:
    """An audited step's changes for the page: (field, before, after) in the reader's language, the field by its
    verbose name and a level or state by its label (the audit log keeps the stored values)."""
    rows = []
    for key, pair in (changes or {}).items():
        name = key.removesuffix(AFTER_HANDLING)
        try:
            field = RiskAlert._meta.get_field(name)
        except FieldDoesNotExist:
            rows.append((key, *pair))
            continue
        label = capfirst(field.verbose_name)
        if key != name:
            label = f"{label} ({_('found after the alert was handled')})"
        choices = dict(field.choices or ())
        rows.append((label, *(choices.get(v, v) for v in pair)))
    return rows


def sees_confidential(user) -> bool:
    return role_of(user) == Role.MINISTRY


def _shown(entry: dict | None, reveal: bool) -> dict | None:
    if entry is None:
        return None
    hidden = bool(entry.get("confidential")) and not reveal
    return {**entry, "label": _(entry.get("label", "")), "value": None if hidden else entry.get("value"),
            "hidden": hidden}


def explanation_for(user, alert: RiskAlert) -> dict:
    """The explanation in the viewer's language, with confidential money inputs removed for non-ministry users."""
    ex = alert.explanation or {}
    reveal = sees_confidential(user)
    return {
        "formula": _(ex["formula"]) if ex.get("formula") else "",
        "unit": ex.get("unit", ""),
        "inputs": [_shown(i, reveal) for i in ex.get("inputs", [])],
        "baseline": _shown(ex.get("baseline"), reveal),
        "thresholds": ex.get("thresholds", {}),
        "history": [{**h, "level_label": str(AlertLevel(h["level"]).label) if h.get("level") else ""}
                    for h in ex.get("history", [])],
        "measures": ex.get("measures", []),
        "opened_since": ex.get("opened_since", ""),
    }


def subject_label(alert: RiskAlert) -> str:
    if not alert.subject:
        return ""
    from tradepilot.analytics.labels import label

    dim = KINDS[alert.rule.kind].subject_dim if alert.rule.kind in KINDS else ""
    dim = "service" if dim == "component" and len(alert.subject) > 2 else dim
    return f"{alert.subject} {label(dim, alert.subject)}" if dim else alert.subject


def unit_of(rule: RiskRule) -> str:
    kind = KINDS.get(rule.kind)
    return kind.unit if kind else ""


def chart_data(alert: RiskAlert, months_back: int = 24) -> dict:
    """The indicator over the last `months_back` months with the thresholds the alert was judged by."""
    series = indicator_series(alert, months_back)
    thresholds = (alert.explanation or {}).get("thresholds") or {lv: str(getattr(alert.rule, lv)) for lv in LEVELS}
    return {
        "periods": [period_label(p) for p, _v in series],
        "values": [None if v is None else str(v) for _p, v in series],
        "thresholds": thresholds,
        "unit": unit_of(alert.rule),
        "marker": period_label(alert.year * 100 + alert.month),
        "level_names": {lv: str(AlertLevel(lv).label) for lv in LEVELS},
        "title": str(alert.rule.name),
    }


def value_text(value: Decimal | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value.normalize():f}"
    return f"{text} {unit}" if unit not in ("%",) else f"{text}%"
