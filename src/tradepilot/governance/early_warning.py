"""Opening-risk early warning (开放风险预警, 国函〔2018〕79号 附件1 三(二)): indicators over the opened sectors,
evaluated per pilot area and month on the analytics layer, with 黄/橙/红 thresholds, and the scan that turns
them into alerts.

- A rule (`RiskRule`) names a kind in `KINDS` (defined in `warning_kinds`) and configures it (`params`); its
  thresholds are ascending (yellow < orange < red, in the kind's unit). A value reaching a threshold (≥) fires
  that level; the highest one reached counts.
- A kind reads only aggregates for one area's region subtree: no enterprise-level figure leaves the engine. Each
  candidate signal carries its explanation: the formula, the inputs (label, period, value, unit, and whether a
  money input fails the disclosure rules, so that pages hide it from anyone but the ministry) and the baseline.
- `scan()` keeps one alert per (rule, area, month, subject): a new signal creates it, a re-scan updates the value
  and level of an alert not yet handled, and a handled alert is never reopened — a higher level found later is
  only recorded in its explanation's history. Creation and escalation notify the area's bureau and the ministry.
- Default rules come from `data/early_warning/default.json` (`ensure_default_rules`); the ministry edits
  thresholds, parameters and the active flag (`update_rule`), audited.
"""

from __future__ import annotations

import json
import logging
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from tradepilot.analytics.indicators import previous_period
from tradepilot.analytics.queries import Filter
from tradepilot.core import audit
from tradepilot.core.models import PilotArea, PilotRound, Role
from tradepilot.core.roles import role_of
from tradepilot.governance.common import bureau_users, ministry_users
from tradepilot.governance.models import AlertLevel, RiskAlert, RiskRule
from tradepilot.governance.warning_kinds import (
    ForeignShareJump,
    ImportSurge,
    Kind,
    PartnerConcentration,
    Signal,
    WarningError,
    error,
    months,
)

log = logging.getLogger(__name__)

DEFAULTS_FILE = Path(__file__).parent / "data" / "early_warning" / "default.json"
LEVELS = (AlertLevel.YELLOW, AlertLevel.ORANGE, AlertLevel.RED)
LEVEL_RANK = {None: 0, AlertLevel.YELLOW: 1, AlertLevel.ORANGE: 2, AlertLevel.RED: 3}
#: RiskRule's threshold columns: 12 digits, 4 of them decimals.
THRESHOLD_LIMIT = Decimal("1e8")

KINDS: dict[str, Kind] = {k.code: k for k in (ImportSurge(), ForeignShareJump(), PartnerConcentration())}

__all__ = ["KINDS", "LEVELS", "Signal", "WarningError", "ensure_default_rules", "scan", "scan_latest",
           "update_rule", "indicator_series", "level_for"]


# --- rules -------------------------------------------------------------------------------------------------------

def level_for(rule: RiskRule, value: Decimal | None) -> str | None:
    """The highest level whose threshold `value` reaches (≥), or None."""
    if value is None:
        return None
    for level in reversed(LEVELS):
        if value >= getattr(rule, level):
            return level
    return None


def clean_threshold(field: str, raw) -> Decimal:
    if isinstance(raw, bool) or raw is None or isinstance(raw, float):
        raise WarningError([error(field, raw, "invalid", _("Give the threshold as a number, e.g. \"30\"."))])
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise WarningError([error(field, raw, "invalid",
                                  _("Give the threshold as a number, e.g. \"30\"."))]) from None
    if not value.is_finite() or abs(value) >= THRESHOLD_LIMIT:
        raise WarningError([error(field, raw, "out_of_range",
                                  _("The threshold must be a number below 100,000,000 in size."))])
    if value != value.quantize(Decimal("0.0001"), ROUND_HALF_UP):
        raise WarningError([error(field, raw, "too_precise", _("At most four decimal places."))])
    return value


def check_ascending(yellow: Decimal, orange: Decimal, red: Decimal) -> None:
    errors = []
    if not yellow < orange:
        errors.append(error("orange", orange, "not_ascending",
                            _("The orange threshold must be above the yellow one (%(y)s).") % {"y": yellow}))
    if not orange < red:
        errors.append(error("red", red, "not_ascending",
                            _("The red threshold must be above the orange one (%(o)s).") % {"o": orange}))
    if errors:
        raise WarningError(errors)


def clean_params(kind: Kind, raw) -> dict:
    if not isinstance(raw, dict):
        raise WarningError([error("params", raw, "invalid", _("Give the parameters as an object."))])
    known = {p.name: p for p in kind.params}
    errors = [error(f"params.{name}", value, "unknown",
                    _("%(kind)s has no parameter “%(name)s”.") % {"kind": kind.name, "name": name})
              for name, value in raw.items() if name not in known]
    cleaned = {}
    for name, param in known.items():
        try:
            cleaned[name] = param.clean(raw.get(name, param.default))
        except WarningError as exc:
            errors += exc.errors
    if errors:
        raise WarningError(errors)
    return cleaned


def snapshot(rule: RiskRule) -> dict:
    return {"yellow": rule.yellow, "orange": rule.orange, "red": rule.red, "params": rule.params,
            "active": rule.active}


def update_rule(user, rule: RiskRule, data: dict, *, reason: str = "") -> RiskRule:
    """Change a rule's thresholds, parameters or active flag (ministry only); every problem is reported at once,
    nothing is saved unless all is valid; audited old → new."""
    if role_of(user) != Role.MINISTRY:
        raise PermissionDenied(_("Only the ministry sets the early-warning thresholds."))
    kind = KINDS.get(rule.kind)
    errors: list[dict] = []
    new = snapshot(rule)
    for field in ("yellow", "orange", "red"):
        if data.get(field) is not None:
            try:
                new[field] = clean_threshold(field, data[field])
            except WarningError as exc:
                errors += exc.errors
    if data.get("params"):
        if kind is None:
            errors.append(error("params", rule.kind, "unknown_kind", _("This rule's kind is unknown.")))
        else:
            try:
                new["params"] = clean_params(kind, {**rule.params, **data["params"]})
            except WarningError as exc:
                errors += exc.errors
    if data.get("active") is not None:
        if not isinstance(data["active"], bool):
            errors.append(error("active", data["active"], "invalid", _("Give true or false.")))
        else:
            new["active"] = data["active"]
    if errors:
        raise WarningError(errors)
    check_ascending(new["yellow"], new["orange"], new["red"])
    with transaction.atomic():
        rule = RiskRule.objects.select_for_update().get(pk=rule.pk)
        changes = audit.diff(snapshot(rule), new)
        if not changes:
            return rule
        for field, value in new.items():
            setattr(rule, field, value)
        rule.save()
        audit.record(user, "warning:rule_update", rule, changes=changes, reason=reason.strip())
    return rule


def default_rules() -> list[dict]:
    return json.loads(DEFAULTS_FILE.read_text(encoding="utf-8"))["rules"]


def ensure_default_rules(rnd: PilotRound) -> int:
    """Create the default rules missing from `rnd` (by code); existing rules and their edits are left alone.
    The data file is checked like an edit: a known kind, valid parameters, ascending thresholds. Returns the
    number created."""
    existing = set(RiskRule.objects.filter(round=rnd).values_list("code", flat=True))
    created = 0
    for spec in default_rules():
        if spec["code"] in existing:
            continue
        kind = KINDS[spec["kind"]]
        yellow, orange, red = (clean_threshold(f, spec[f]) for f in ("yellow", "orange", "red"))
        check_ascending(yellow, orange, red)
        with transaction.atomic():
            _rule, made = RiskRule.objects.get_or_create(round=rnd, code=spec["code"], defaults={
                "name_zh": spec["name_zh"], "name_en": spec.get("name_en", ""), "kind": kind.code,
                "params": clean_params(kind, spec.get("params", {})), "yellow": yellow, "orange": orange,
                "red": red, "active": spec.get("active", True)})
        created += made
    return created


# --- scanning ----------------------------------------------------------------------------------------------------

def _now() -> str:
    return timezone.now().isoformat(timespec="seconds")


def _thresholds(rule: RiskRule) -> dict:
    return {level: f"{getattr(rule, level).normalize():f}" for level in LEVELS}


def _recipients_of(area: PilotArea):
    """The area's own bureau users and the ministry's."""
    return bureau_users(area) | ministry_users()


def _notify(alert: RiskAlert, title: str) -> None:
    from django.urls import reverse

    from tradepilot.core.notifications import notify

    url = reverse("governance:warning_alert", args=[alert.pk])
    body = f"{alert.area.name} · {alert.year}-{alert.month:02d} · {alert.rule.name}" + (
        f" · {alert.subject}" if alert.subject else "") + f" · {alert.value.normalize():f}"
    users = list(_recipients_of(alert.area))
    transaction.on_commit(lambda: [notify(u, title, body, url) for u in users])


def _fire(rule: RiskRule, area: PilotArea, year: int, month: int, signal: Signal, level: str, user) -> RiskAlert:
    explanation = {**signal.explanation, "thresholds": _thresholds(rule),
                   "history": [{"at": _now(), "level": level, "value": str(signal.value), "state": "open"}]}
    alert = RiskAlert.objects.create(rule=rule, area=area, year=year, month=month, subject=signal.subject,
                                     level=level, value=signal.value, explanation=explanation)
    audit.record(user, "warning:fire", alert, changes={"level": [None, level], "value": [None, signal.value],
                                                      "state": [None, RiskAlert.State.OPEN]})
    _notify(alert, _("Early warning (%(level)s): %(rule)s") % {"level": alert.get_level_display(),
                                                                "rule": rule.name})
    return alert


def _rescan(alert: RiskAlert, rule: RiskRule, signal: Signal, level: str | None, user) -> RiskAlert:
    history = list(alert.explanation.get("history", []))
    if alert.state == RiskAlert.State.HANDLED:
        # Never reopened: a higher level found after handling is recorded for the ministry to see, once.
        if LEVEL_RANK[level] <= LEVEL_RANK[alert.level]:
            return alert
        last = history[-1] if history else {}
        if last.get("level") == level and last.get("value") == str(signal.value):
            return alert
        history.append({"at": _now(), "level": level, "value": str(signal.value), "state": alert.state,
                        "after_handling": True})
        alert.explanation = {**alert.explanation, "history": history}
        alert.save(update_fields=["explanation"])
        audit.record(user, "warning:rescan", alert, changes={"level_after_handling": [alert.level, level],
                                                             "value_after_handling": [alert.value, signal.value]})
        _notify(alert, _("Early warning: a handled alert reached %(level)s") % {
            "level": AlertLevel(level).label})
        return alert
    new_level = level or alert.level  # below every threshold now: the level it reached stands, the value is updated
    if new_level == alert.level and signal.value == alert.value:
        return alert
    changes = {}  # compared as numbers: the column's 50.0000 is the signal's 50.0
    if new_level != alert.level:
        changes["level"] = [alert.level, new_level]
    if signal.value != alert.value:
        changes["value"] = [alert.value, signal.value]
    old_level = alert.level
    history.append({"at": _now(), "level": level, "value": str(signal.value), "state": alert.state})
    alert.explanation = {**signal.explanation, "thresholds": _thresholds(rule), "history": history}
    alert.level, alert.value = new_level, signal.value
    alert.save(update_fields=["level", "value", "explanation"])
    audit.record(user, "warning:rescan", alert, changes=changes)
    if LEVEL_RANK[new_level] > LEVEL_RANK[old_level]:
        _notify(alert, _("Early warning raised to %(level)s: %(rule)s") % {"level": alert.get_level_display(),
                                                                          "rule": rule.name})
    return alert


def record_signal(rule: RiskRule, area: PilotArea, year: int, month: int, signal: Signal, user=None
                  ) -> RiskAlert | None:
    """Create or update the alert of one signal; None when the signal reaches no level and no alert exists."""
    level = level_for(rule, signal.value)
    key = {"rule": rule, "area": area, "year": year, "month": month, "subject": signal.subject}
    with transaction.atomic():
        alert = RiskAlert.objects.select_for_update().filter(**key).first()
        if alert is None:
            if level is None:
                return None
            try:
                with transaction.atomic():
                    return _fire(rule, area, year, month, signal, level, user)
            except IntegrityError:  # another scan created it in between: update that one
                alert = RiskAlert.objects.select_for_update().get(**key)
        return _rescan(alert, rule, signal, level, user)


def scan(rnd: PilotRound, year: int, month: int, user=None) -> list[RiskAlert]:
    """Evaluate every active rule of the round for every area of the round in one month. Returns the alerts of
    the signals that reached a threshold (created, updated, or already there, handled ones included)."""
    if not (2000 <= year <= 2100):
        raise WarningError([error("year", year, "invalid", _("Give a year between 2000 and 2100."))])
    if not (1 <= month <= 12):
        raise WarningError([error("month", month, "invalid", _("The month must be 1–12."))])
    ensure_default_rules(rnd)
    period = year * 100 + month
    areas = list(PilotArea.objects.filter(round=rnd).select_related("region", "round").order_by("order"))
    found: list[RiskAlert] = []
    for rule in RiskRule.objects.filter(round=rnd, active=True).order_by("code"):
        kind = KINDS.get(rule.kind)
        if kind is None:
            log.warning("early warning: rule %s has unknown kind %r, skipped", rule.code, rule.kind)
            continue
        for area in areas:
            for signal in kind.evaluate(rule, area, period):
                alert = record_signal(rule, area, year, month, signal, user)
                if alert is not None and level_for(rule, signal.value) is not None:
                    found.append(alert)
    return found


def pick_round(code: str | None) -> PilotRound | None:
    """The round named by `code`, else the newest round with pilot areas."""
    rounds = PilotRound.objects.filter(areas__isnull=False).distinct().order_by("-start_date")
    if code:
        found = rounds.filter(code=code).first()
        if found is not None:
            return found
    return rounds.first()


def latest_month() -> int | None:
    """The latest month whose official reporting is substantially in (the dashboards' rule)."""
    from tradepilot.analytics.dashboard import latest_period

    return latest_period(Filter(stage="official"))


def scan_latest(rnd: PilotRound, user=None) -> list[RiskAlert]:
    period = latest_month()
    if period is None:
        return []
    return scan(rnd, period // 100, period % 100, user)


@task()
def scan_month(round_code: str, year: int, month: int) -> int:
    """Background task: scan one month for a round (e.g. after its analytics partition was refreshed)."""
    rnd = PilotRound.objects.get(code=round_code)
    return len(scan(rnd, year, month))


def indicator_series(alert: RiskAlert, months_back: int = 24) -> list[tuple[int, Decimal | None]]:
    """The alert's indicator for its subject over the `months_back` months ending with the alert's month."""
    kind = KINDS.get(alert.rule.kind)
    if kind is None:
        return []
    end = alert.year * 100 + alert.month
    start = previous_period(end, months_back - 1)
    values = kind.series(alert.rule, alert.area, alert.subject, start, end)
    return [(p, values.get(p)) for p in months(start, end)]


