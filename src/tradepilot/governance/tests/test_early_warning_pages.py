"""Early warning through HTTP: the alert lifecycle and who may act, scoping of pages and API, rule edits, the scan
operation, filters and downloads, and confidential inputs shown to the ministry only."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tradepilot.core.models import AuditLog
from tradepilot.core.tokens import issue_token
from tradepilot.governance import early_warning
from tradepilot.governance.models import RiskAlert, RiskRule
from tradepilot.governance.tests.warning_data import module_world, rules_at_test_scale
from tradepilot.governance.warning_exports import COLUMNS

API = "/api/v1/governance/warning"

w_module = pytest.fixture(scope="module", name="w_module")(module_world)

def shown(text: str, **kwargs) -> str:
    """`text` as the default (Chinese-first) interface shows it."""
    with translation.override(settings.LANGUAGE_CODE):
        message = translation.gettext(text)
    return message % kwargs if kwargs else message



@pytest.fixture
def w(w_module, db, settings):
    """Two Hangzhou alerts of March 2026: the SG import surge (orange) and HK concentration (yellow)."""
    settings.ANALYTICS_ENGINE = "database"  # the module's fact tables
    rules_at_test_scale(w_module.round)
    early_warning.scan(w_module.round, 2026, 3, w_module.ministry)
    w_module.surge = RiskAlert.objects.get(rule__code="IMPORT_SURGE", subject="SG")
    w_module.partner = RiskAlert.objects.get(rule__code="PARTNER_CONCENTRATION")
    return w_module


def api(user, method: str, path: str, data=None):
    client = Client()
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    if method == "GET":
        return client.get(API + path, data or {}, headers=headers)
    return getattr(client, method.lower())(API + path, json.dumps(data or {}), content_type="application/json",
                                           headers=headers)


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- lifecycle and permissions -----------------------------------------------------------------------------------

def test_the_areas_bureau_acknowledges_then_handles_with_a_note(w):
    response = api(w.bureau_hz, "POST", f"/alerts/{w.surge.pk}/handle", {"note": "已处理"})
    assert response.status_code == 409 and response.json()["code"] == "bad_state"  # acknowledge first
    response = api(w.bureau_hz, "POST", f"/alerts/{w.surge.pk}/acknowledge", {"note": "核实中"})
    assert response.status_code == 200 and response.json()["state"] == "acknowledged"
    response = api(w.bureau_hz, "POST", f"/alerts/{w.surge.pk}/handle", {"note": "   "})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "note"
    response = api(w.bureau_hz, "POST", f"/alerts/{w.surge.pk}/handle", {"note": "已约谈企业，属一次性业务"})
    body = response.json()
    assert response.status_code == 200 and body["state"] == "handled" and body["handled_by"] == "w-bureau-hz"
    assert body["handling_note"] == "已约谈企业，属一次性业务"
    assert [(s["action"], s["actor"], s["note"]) for s in body["steps"]] == [
        ("warning:fire", "w-ministry", ""), ("warning:acknowledge", "w-bureau-hz", "核实中"),
        ("warning:handle", "w-bureau-hz", "已约谈企业，属一次性业务")]
    again = api(w.bureau_hz, "POST", f"/alerts/{w.surge.pk}/handle", {"note": "再次"})
    assert again.status_code == 409


@pytest.mark.parametrize(("role", "read", "act"), [
    ("ministry", 200, 200),
    ("bureau_hz", 200, 200),
    ("bureau_zj", 200, 403),   # Zhejiang reads Hangzhou's alerts but does not handle them
    ("agency", 200, 403),      # customs reads
    ("auditor", 200, 403),
    ("bureau_bj", 404, 404),   # another region: not found
    ("ent_hz", 403, 403),      # enterprises: refused
])
def test_who_reads_and_who_acts(w, role, read, act):
    user = getattr(w, role)
    assert api(user, "GET", f"/alerts/{w.surge.pk}").status_code == read
    assert web(user).get(reverse("governance:warning_alert", args=[w.surge.pk])).status_code == read
    assert api(user, "POST", f"/alerts/{w.surge.pk}/acknowledge", {"note": ""}).status_code == act
    w.surge.refresh_from_db()
    assert (w.surge.state == RiskAlert.State.ACKNOWLEDGED) == (act == 200)
    # The page refuses the same way, and changes nothing when it refuses.
    page = web(user).post(reverse("governance:warning_alert_acknowledge", args=[w.partner.pk]))
    assert page.status_code == (302 if act == 200 else act)
    w.partner.refresh_from_db()
    assert (w.partner.state == RiskAlert.State.ACKNOWLEDGED) == (act == 200)


def test_the_page_handles_with_a_required_note(w):
    client = web(w.bureau_hz)
    client.post(reverse("governance:warning_alert_acknowledge", args=[w.surge.pk]), {"note": "收到"})
    response = client.post(reverse("governance:warning_alert_handle", args=[w.surge.pk]), {"note": ""},
                           follow=True)
    w.surge.refresh_from_db()
    assert w.surge.state == RiskAlert.State.ACKNOWLEDGED
    assert shown("Say what was done: a handling note is required.") in response.content.decode()
    client.post(reverse("governance:warning_alert_handle", args=[w.surge.pk]), {"note": "已核实"})
    w.surge.refresh_from_db()
    assert w.surge.state == RiskAlert.State.HANDLED and w.surge.handling_note == "已核实"
    assert AuditLog.objects.filter(action="warning:handle", object_id=str(w.surge.pk), actor=w.bureau_hz).exists()


def test_the_pages_history_names_fields_and_values_in_the_readers_language(w):
    client = web(w.bureau_hz)
    client.post(reverse("governance:warning_alert_acknowledge", args=[w.surge.pk]), {"note": "收到"})
    html = client.get(reverse("governance:warning_alert", args=[w.surge.pk])).content.decode()
    history = html[html.index(shown("History")):]
    # The audit log keeps the stored values ("state": [None, "open"]); the page shows the labels.
    assert "state:" not in history and "level:" not in history and "→ open" not in history
    with translation.override(settings.LANGUAGE_CODE):
        fired = f"{shown('state').capitalize()}: — → {RiskAlert.State.OPEN.label}"
        acknowledged = f"{RiskAlert.State.OPEN.label} → {RiskAlert.State.ACKNOWLEDGED.label}"
        level = f"{shown('level').capitalize()}: — → {w.surge.get_level_display()}"
    assert fired in history and acknowledged in history and level in history


# --- lists, scoping, filters, downloads ----------------------------------------------------------------------------

@pytest.mark.parametrize(("role", "count"), [("ministry", 2), ("bureau_zj", 2), ("agency", 2), ("bureau_bj", 0)])
def test_lists_are_scoped(w, role, count):
    user = getattr(w, role)
    assert api(user, "GET", "/alerts").json()["count"] == count
    html = web(user).get(reverse("governance:warning_alerts")).content.decode()
    assert len(set(re.findall(r"/governance/warning/alerts/(\d+)/", html))) == count
    overview = web(user).get(reverse("governance:warning_overview"))
    assert overview.status_code == 200 and ("杭州" in overview.content.decode()) == bool(count)


def test_enterprises_get_no_early_warning_page(w):
    for name in ("warning_overview", "warning_alerts", "warning_rules"):
        assert web(w.ent_hz).get(reverse(f"governance:{name}")).status_code == 403
    assert api(w.ent_hz, "GET", "/alerts").status_code == 403


def test_filters_narrow_and_bad_filters_name_the_field(w):
    body = api(w.ministry, "GET", "/alerts", {"level": "orange"}).json()
    assert [a["id"] for a in body["items"]] == [w.surge.pk]
    assert api(w.ministry, "GET", "/alerts", {"rule": "PARTNER_CONCENTRATION", "area": "330100",
                                              "start": "2026-03", "end": "2026-03"}).json()["count"] == 1
    assert api(w.ministry, "GET", "/alerts", {"start": "2026-04"}).json()["count"] == 0
    bad = api(w.ministry, "GET", "/alerts", {"level": "purple", "start": "2026-13"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"level", "start"}
    page = web(w.ministry).get(reverse("governance:warning_alerts"), {"start": "2026-05", "end": "2026-01"})
    assert page.status_code == 400


def test_downloads_follow_the_filters_and_the_scope(w):
    url = reverse("governance:warning_alerts")
    response = web(w.ministry).get(url, {"format": "csv", "state": "open"})
    assert response["Content-Disposition"].endswith('.csv"')
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == COLUMNS
    by_rule = {r[COLUMNS.index("rule_code")]: r for r in rows[1:]}
    assert set(by_rule) == {"IMPORT_SURGE", "PARTNER_CONCENTRATION"}
    assert Decimal(by_rule["IMPORT_SURGE"][COLUMNS.index("value")]) == Decimal("50.0")
    assert by_rule["PARTNER_CONCENTRATION"][COLUMNS.index("subject")] == "HK"

    from openpyxl import load_workbook

    xlsx = web(w.bureau_zj).get(url, {"format": "xlsx", "level": "yellow"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = list(sheet.values)
    assert list(values[0]) == COLUMNS and len(values) == 2
    assert values[1][COLUMNS.index("value")] == pytest.approx(72.5)
    empty = web(w.bureau_bj).get(url, {"format": "csv"}).content.decode("utf-8")
    assert len(list(csv.reader(io.StringIO(empty[1:])))) == 1  # the header only: nothing of Hangzhou


def test_confidential_inputs_are_for_the_ministry_only(w):
    def inputs(user):
        ex = api(user, "GET", f"/alerts/{w.surge.pk}").json()["explanation"]
        return {i["label"]: i["value"] for i in ex["inputs"]}, ex["baseline"]["value"]

    # March's SG imports come from two enterprises: confidential.
    ministry, ministry_base = inputs(w.ministry)
    assert ministry[shown("Imports of the component in the month")] == "15000.00" and ministry_base == "10000.00"
    bureau, bureau_base = inputs(w.bureau_hz)
    assert bureau[shown("Imports of the component in the month")] is None and bureau_base is None
    assert bureau[shown("Previous year's imports in CNY")] is None
    assert bureau[shown("Minimum base")] == "10000"
    html = web(w.agency).get(reverse("governance:warning_alert", args=[w.surge.pk])).content.decode()
    assert "15000.00" not in html and "10000.00" not in html


def test_the_alert_page_carries_its_chart(w):
    html = web(w.bureau_hz).get(reverse("governance:warning_alert", args=[w.partner.pk])).content.decode()
    data = json.loads(re.search(r'<script id="warning-chart-data" type="application/json">(.*?)</script>', html,
                                re.S).group(1))
    assert len(data["periods"]) == 24 and data["periods"][-1] == data["marker"] == "2026-03"
    assert data["values"][-1] == "72.5" and data["thresholds"] == {"yellow": "60", "orange": "75", "red": "90"}


# --- rules and scans ----------------------------------------------------------------------------------------------

def test_rules_are_read_by_governance_roles_and_edited_by_the_ministry(w):
    body = api(w.agency, "GET", "/rules").json()
    assert {r["code"] for r in body} == {"IMPORT_SURGE", "FOREIGN_SHARE_JUMP", "PARTNER_CONCENTRATION"}
    rule = RiskRule.objects.get(code="IMPORT_SURGE")
    assert api(w.bureau_hz, "PATCH", f"/rules/{rule.pk}", {"yellow": "10"}).status_code == 403
    bad = api(w.ministry, "PATCH", f"/rules/{rule.pk}", {"yellow": "60", "params": {"min_base_cny": "x"}})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"params.min_base_cny"}
    bad = api(w.ministry, "PATCH", f"/rules/{rule.pk}", {"yellow": "60"})   # 60 > orange 50
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "orange"
    ok = api(w.ministry, "PATCH", f"/rules/{rule.pk}", {"yellow": "20", "active": False, "reason": "复核"})
    assert ok.status_code == 200 and ok.json()["yellow"] == "20" and ok.json()["active"] is False
    assert AuditLog.objects.filter(action="warning:rule_update", object_id=str(rule.pk)).count() == 1


def test_the_rule_page_shows_every_error_and_saves_nothing_then_saves(w):
    rule = RiskRule.objects.get(code="PARTNER_CONCENTRATION")
    url = reverse("governance:warning_rule_edit", args=[rule.pk])
    assert web(w.bureau_hz).get(url).status_code == 403
    form = {"yellow": "60", "orange": "95", "red": "90", "params.direction": "M", "params.min_enterprises": "3",
            "active": "on"}
    response = web(w.ministry).post(url, form)
    assert response.status_code == 400 and RiskRule.objects.get(pk=rule.pk).orange == Decimal(75)
    response = web(w.ministry).post(url, {**form, "orange": "70", "params.direction": "X"})
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.orange == Decimal(70) and rule.params["direction"] == "X"


def test_only_the_ministry_scans(w):
    assert api(w.bureau_hz, "POST", "/scan", {"year": 2026, "month": 3}).status_code == 403
    bad = api(w.ministry, "POST", "/scan", {"year": 2026, "month": 13})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"
    body = api(w.ministry, "POST", "/scan", {"year": 2026, "month": 3}).json()
    assert body["count"] == 2 and {a["id"] for a in body["alerts"]} == {w.surge.pk, w.partner.pk}
    assert RiskAlert.objects.count() == 2
    page = web(w.ministry).post(reverse("governance:warning_scan"), {"period": "2026-03"})
    assert page.status_code == 302 and RiskAlert.objects.count() == 2
    assert web(w.agency).post(reverse("governance:warning_scan"), {"period": "2026-03"}).status_code == 403
