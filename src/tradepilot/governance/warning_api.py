"""API operations of opening-risk early warning (under /api/v1/governance): the rules (read by governance roles,
changed by the ministry), the ministry's scan, the alerts (scoped as the pages are) and their lifecycle."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Router, Schema

from tradepilot.core.api_base import ApiError, page_slice
from tradepilot.core.models import Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import get_area_scoped
from tradepilot.governance import early_warning, warning_alerts
from tradepilot.governance.models import RiskAlert, RiskRule
from tradepilot.governance.warning_kinds import period_label

router = Router(tags=["governance: early warning"])


class ParamOut(Schema):
    name: str
    label: str
    type: str
    value: str | int
    default: str | int
    choices: list[str]


class RuleOut(Schema):
    id: int
    round: str
    code: str
    name: str
    name_zh: str
    name_en: str
    kind: str
    kind_name: str
    unit: str
    formula: str
    params: list[ParamOut]
    yellow: Decimal
    orange: Decimal
    red: Decimal
    active: bool


class RulePatch(Schema):
    yellow: Decimal | None = None
    orange: Decimal | None = None
    red: Decimal | None = None
    params: dict | None = None
    active: bool | None = None
    reason: str = ""


class ScanIn(Schema):
    year: int
    month: int
    round: str | None = None


class AlertOut(Schema):
    id: int
    rule_id: int
    rule_code: str
    rule_name: str
    kind: str
    round: str
    area: str
    area_name: str
    year: int
    month: int
    period: str
    subject: str
    subject_label: str
    level: str
    value: Decimal
    unit: str
    state: str
    fired_at: dt.datetime
    acknowledged_by: str | None
    acknowledged_at: dt.datetime | None
    handled_by: str | None
    handled_at: dt.datetime | None
    handling_note: str


class StepOut(Schema):
    at: dt.datetime
    action: str
    label: str
    actor: str
    changes: dict
    note: str


class PointOut(Schema):
    period: str
    value: Decimal | None


class AlertDetail(AlertOut):
    explanation: dict
    steps: list[StepOut]
    series: list[PointOut]


class AlertPage(Schema):
    count: int
    items: list[AlertOut]


class ScanOut(Schema):
    round: str
    period: str
    count: int
    alerts: list[AlertOut]


class AcknowledgeIn(Schema):
    note: str = ""


class HandleIn(Schema):
    note: str


def rule_out(rule: RiskRule) -> dict:
    kind = early_warning.KINDS.get(rule.kind)
    params = [{"name": p.name, "label": str(p.label), "type": p.type, "value": p.clean(p.value(rule.params)),
               "default": p.default, "choices": [c for c, _label in p.choices]}
              for p in (kind.params if kind else ())]
    return {"id": rule.pk, "round": rule.round.code, "code": rule.code, "name": rule.name, "name_zh": rule.name_zh,
            "name_en": rule.name_en, "kind": rule.kind, "kind_name": str(kind.name) if kind else "",
            "unit": kind.unit if kind else "", "formula": _(kind.formula) if kind else "", "params": params,
            "yellow": rule.yellow, "orange": rule.orange, "red": rule.red, "active": rule.active}


def alert_out(a: RiskAlert) -> dict:
    return {"id": a.pk, "rule_id": a.rule_id, "rule_code": a.rule.code, "rule_name": a.rule.name,
            "kind": a.rule.kind, "round": a.area.round.code, "area": a.area.region.code, "area_name": a.area.name,
            "year": a.year, "month": a.month, "period": period_label(a.year * 100 + a.month), "subject": a.subject,
            "subject_label": warning_alerts.subject_label(a), "level": a.level, "value": a.value,
            "unit": warning_alerts.unit_of(a.rule), "state": a.state, "fired_at": a.fired_at,
            "acknowledged_by": a.acknowledged_by.username if a.acknowledged_by_id else None,
            "acknowledged_at": a.acknowledged_at, "handled_by": a.handled_by.username if a.handled_by_id else None,
            "handled_at": a.handled_at, "handling_note": a.handling_note}


def alert_detail(user, a: RiskAlert) -> dict:
    from tradepilot.governance.early_warning import indicator_series

    return {**alert_out(a), "explanation": warning_alerts.explanation_for(user, a),
            "steps": [{**s, "label": str(s["label"])} for s in warning_alerts.steps(a)],
            "series": [{"period": period_label(p), "value": v} for p, v in indicator_series(a)]}


def _alert(request, alert_id: int) -> RiskAlert:
    return get_area_scoped(request.user, warning_alerts.alerts_for(request.user), pk=alert_id)


@router.get("/warning/rules", response=list[RuleOut])
def list_rules(request, round: str | None = None):
    warning_alerts.check_reader(request.user)
    rnd = early_warning.pick_round(round)
    if rnd is None:
        return []
    early_warning.ensure_default_rules(rnd)
    return [rule_out(r) for r in RiskRule.objects.filter(round=rnd).select_related("round").order_by("code")]


@router.patch("/warning/rules/{int:rule_id}", response=RuleOut)
def patch_rule(request, rule_id: int, payload: RulePatch):
    if role_of(request.user) != Role.MINISTRY:
        raise PermissionDenied(_("Only the ministry sets the early-warning thresholds."))
    rule = get_object_or_404(RiskRule.objects.select_related("round"), pk=rule_id)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    rule = early_warning.update_rule(request.user, rule, data, reason=reason)
    return rule_out(rule)


@router.post("/warning/scan", response=ScanOut)
def scan(request, payload: ScanIn):
    if role_of(request.user) != Role.MINISTRY:
        raise PermissionDenied(_("Only the ministry runs an early-warning scan."))
    rnd = early_warning.pick_round(payload.round)
    if rnd is None or (payload.round and rnd.code != payload.round):
        raise ApiError(422, _("Unknown pilot round."), "invalid", [
            {"row": None, "field": "round", "value": payload.round or "", "code": "unknown",
             "message": _("Unknown pilot round.")}])
    found = early_warning.scan(rnd, payload.year, payload.month, request.user)
    return {"round": rnd.code, "period": period_label(payload.year * 100 + payload.month), "count": len(found),
            "alerts": [alert_out(a) for a in found]}


@router.get("/warning/alerts", response=AlertPage)
def list_alerts(request, area: str | None = None, rule: str | None = None, level: str | None = None,
                state: str | None = None, start: str | None = None, end: str | None = None, limit: int = 50,
                offset: int = 0):
    qs = warning_alerts.alerts_for(request.user)
    params = {"area": area, "rule": rule, "level": level, "state": state, "start": start, "end": end}
    filters = warning_alerts.parse_filters(params)
    qs = warning_alerts.filter_alerts(qs, filters)
    return {"count": qs.count(), "items": [alert_out(a) for a in qs[page_slice(limit, offset)]]}


@router.get("/warning/alerts/{int:alert_id}", response=AlertDetail)
def get_alert(request, alert_id: int):
    return alert_detail(request.user, _alert(request, alert_id))


@router.post("/warning/alerts/{int:alert_id}/acknowledge", response=AlertDetail)
def acknowledge(request, alert_id: int, payload: AcknowledgeIn | None = None):
    alert = _alert(request, alert_id)
    alert = warning_alerts.acknowledge(alert, request.user, payload.note if payload else "")
    return alert_detail(request.user, _alert(request, alert.pk))


@router.post("/warning/alerts/{int:alert_id}/handle", response=AlertDetail)
def handle(request, alert_id: int, payload: HandleIn):
    alert = _alert(request, alert_id)
    alert = warning_alerts.handle(alert, request.user, payload.note)
    return alert_detail(request.user, _alert(request, alert.pk))
