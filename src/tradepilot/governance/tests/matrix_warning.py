"""Permission-matrix rows for the early-warning pages and API operations (merged into core's matrix).

Columns as in core/tests/test_permission_matrix.py:
anonymous, ministry, auditor, agency (GACC), bureau_bj, bureau_hz, bureau_zj, ent_bj, ent_bj2.

The target is an open import-surge alert of Beijing's pilot area (made in the cell). Every governance role reads
alerts within its scope (bureaus of other regions get 404 for Beijing's); only Beijing's own bureau and the
ministry acknowledge and handle it (auditor, customs: 403); enterprise users are refused everything (403). The
rules are read by every governance role and changed by the ministry only, which alone runs a scan.
"""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from tradepilot.core.tests.test_permission_matrix import D, M, O, Op, effect
from tradepilot.governance.models import RiskAlert, RiskRule

GOV = "/governance"


def alert_bj(c) -> RiskAlert:
    """Beijing's open SG import-surge alert of 2026-09 (cached on the cell's context)."""
    if not hasattr(c, "_alert_bj"):
        from tradepilot.governance.early_warning import ensure_default_rules

        area = c.gov.area_bj
        ensure_default_rules(area.round)
        rule = RiskRule.objects.get(round=area.round, code="IMPORT_SURGE")
        c._alert_bj = RiskAlert.objects.create(
            rule=rule, area=area, year=2026, month=9, subject="SG", level="orange", value=Decimal("55.0"),
            explanation={"kind": "import_surge", "formula": "matrix", "unit": "%", "inputs": [], "baseline": None,
                         "thresholds": {"yellow": "30", "orange": "50", "red": "100"}, "history": []})
    return c._alert_bj


def rule_bj(c) -> RiskRule:
    return alert_bj(c).rule


def acknowledged(c) -> None:
    from tradepilot.governance.warning_alerts import acknowledge

    acknowledge(alert_bj(c), c.w.ministry, "matrix")


def state_is(state: str):
    return lambda c: RiskAlert.objects.get(pk=alert_bj(c).pk).state == state


def alert_url(name: str):
    return lambda c: reverse(f"governance:{name}", args=[alert_bj(c).pk])


def rule_form(c) -> dict:
    return {"yellow": "25", "orange": "50", "red": "100", "params.min_base_cny": "10000",
            "params.min_enterprises": "1", "active": "on", "reason": "matrix"}


#                                                  anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
WEB: dict = {
    "GET governance:warning_overview":               (D, O, O, O, O, O, O, D, D),
    "GET governance:warning_alerts":                 (D, O, O, O, O, O, O, D, D),
    "GET governance:warning_alerts [csv]":           (D, O, O, O, O, O, O, D, D),
    "GET governance:warning_alert":                  (D, O, O, O, O, M, M, D, D),
    # only Beijing's own bureau and the ministry act on Beijing's alert
    "POST governance:warning_alert_acknowledge":     (D, O, D, D, O, M, M, D, D),
    "POST governance:warning_alert_handle":          (D, O, D, D, O, M, M, D, D),
    "GET governance:warning_rules":                  (D, O, O, O, O, O, O, D, D),
    "GET governance:warning_rule_edit":              (D, O, D, D, D, D, D, D, D),
    "POST governance:warning_rule_edit":             (D, O, D, D, D, D, D, D, D),
    "POST governance:warning_scan":                  (D, O, D, D, D, D, D, D, D),
}

API: dict = {
    f"GET {GOV}/warning/rules":                               (D, O, O, O, O, O, O, D, D),
    f"PATCH {GOV}/warning/rules/{{rule_id}}":                 (D, O, D, D, D, D, D, D, D),
    f"POST {GOV}/warning/scan":                               (D, O, D, D, D, D, D, D, D),
    f"GET {GOV}/warning/alerts":                              (D, O, O, O, O, O, O, D, D),
    f"GET {GOV}/warning/alerts/{{alert_id}}":                 (D, O, O, O, O, M, M, D, D),
    f"POST {GOV}/warning/alerts/{{alert_id}}/acknowledge":    (D, O, D, D, O, M, M, D, D),
    f"POST {GOV}/warning/alerts/{{alert_id}}/handle":         (D, O, D, D, O, M, M, D, D),
}

WEB_OPS: dict = {
    "GET governance:warning_overview": Op(lambda c: c.web().get(reverse("governance:warning_overview")),
                                          prepare=alert_bj),
    "GET governance:warning_alerts": Op(lambda c: c.web().get(reverse("governance:warning_alerts")),
                                        prepare=alert_bj),
    "GET governance:warning_alerts [csv]": Op(
        lambda c: c.web().get(reverse("governance:warning_alerts"), {"format": "csv"}), prepare=alert_bj),
    "GET governance:warning_alert": Op(lambda c: c.web().get(alert_url("warning_alert")(c))),
    "POST governance:warning_alert_acknowledge": Op(
        lambda c: c.web().post(alert_url("warning_alert_acknowledge")(c), {"note": "matrix"}),
        judge=effect(state_is(RiskAlert.State.ACKNOWLEDGED))),
    "POST governance:warning_alert_handle": Op(
        lambda c: c.web().post(alert_url("warning_alert_handle")(c), {"note": "matrix"}), prepare=acknowledged,
        judge=effect(state_is(RiskAlert.State.HANDLED))),
    "GET governance:warning_rules": Op(lambda c: c.web().get(reverse("governance:warning_rules"))),
    "GET governance:warning_rule_edit": Op(
        lambda c: c.web().get(reverse("governance:warning_rule_edit", args=[rule_bj(c).pk]))),
    "POST governance:warning_rule_edit": Op(
        lambda c: c.web().post(reverse("governance:warning_rule_edit", args=[rule_bj(c).pk]), rule_form(c)),
        judge=effect(lambda c: RiskRule.objects.get(pk=rule_bj(c).pk).yellow == Decimal(25))),
    "POST governance:warning_scan": Op(
        lambda c: c.web().post(reverse("governance:warning_scan"), {"period": "2026-09"})),
}

API_OPS: dict = {
    f"GET {GOV}/warning/rules": Op(lambda c: c.api("GET", f"{GOV}/warning/rules")),
    f"PATCH {GOV}/warning/rules/{{rule_id}}": Op(
        lambda c: c.api("PATCH", f"{GOV}/warning/rules/{rule_bj(c).pk}", {"yellow": "25", "reason": "matrix"})),
    f"POST {GOV}/warning/scan": Op(lambda c: c.api("POST", f"{GOV}/warning/scan", {"year": 2026, "month": 9})),
    f"GET {GOV}/warning/alerts": Op(lambda c: c.api("GET", f"{GOV}/warning/alerts"), prepare=alert_bj),
    f"GET {GOV}/warning/alerts/{{alert_id}}": Op(
        lambda c: c.api("GET", f"{GOV}/warning/alerts/{alert_bj(c).pk}")),
    f"POST {GOV}/warning/alerts/{{alert_id}}/acknowledge": Op(
        lambda c: c.api("POST", f"{GOV}/warning/alerts/{alert_bj(c).pk}/acknowledge", {"note": "matrix"})),
    f"POST {GOV}/warning/alerts/{{alert_id}}/handle": Op(
        lambda c: c.api("POST", f"{GOV}/warning/alerts/{alert_bj(c).pk}/handle", {"note": "matrix"}),
        prepare=acknowledged),
}
