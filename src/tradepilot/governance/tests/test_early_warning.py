"""Early warning: each kind against arithmetic on the test's own lines, threshold levels at the boundaries, the
guards, rule validation, and the scan (no duplicates, updates, handled alerts never reopened, notifications)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tradepilot.core.models import AuditLog, Notification
from tradepilot.governance import early_warning, warning_alerts
from tradepilot.governance.models import AlertLevel, RiskAlert, RiskRule
from tradepilot.governance.tests.warning_data import (
    USD_RATE,
    module_world,
    rules_at_test_scale,
    total,
)
from tradepilot.governance.warning_kinds import WarningError

ONE = Decimal("0.1")
MARCH = 202603


def r1(value: Decimal) -> Decimal:
    return value.quantize(ONE, ROUND_HALF_UP)


w_module = pytest.fixture(scope="module", name="w_module")(module_world)


@pytest.fixture
def w(w_module, db, settings):
    settings.ANALYTICS_ENGINE = "database"  # the module's fact tables
    return w_module


@pytest.fixture
def rules(w):
    return rules_at_test_scale(w.round)


def evaluate(rule, area, period=MARCH):
    return {s.subject: s for s in early_warning.KINDS[rule.kind].evaluate(rule, area, period)}


# --- the kinds ---------------------------------------------------------------------------------------------------

def test_import_surge_is_year_on_year_growth_of_opened_components_only(w, rules):
    found = evaluate(rules["IMPORT_SURGE"], w.area_hz)
    now, base = total(MARCH, direction="M", component="SG"), total(202503, direction="M", component="SG")
    assert (now, base) == (Decimal("15000.00"), Decimal("10000.00"))
    # SG: opened by T1 (2025-06); SJ opened but its base is tiny; SI's measure is still in progress.
    assert set(found) == {"SG"}
    assert found["SG"].value == r1((now - base) / base * 100) == Decimal("50.0")
    ex = found["SG"].explanation
    assert ex["formula"] and ex["baseline"]["value"] == str(base)
    inputs = {i["label"]: i for i in ex["inputs"]}
    assert inputs["Imports of the component in the month"]["value"] == str(now)
    assert inputs["Previous year's imports in CNY"]["value"] == str((base * USD_RATE).quantize(Decimal("0.01")))
    assert [m["code"] for m in ex["measures"]] == ["T1"]


def test_import_surge_min_base_guard_at_its_boundary(w, rules):
    rule = rules["IMPORT_SURGE"]
    sj_base_cny = total(202503, direction="M", component="SJ") * USD_RATE   # 1000 USD × 7.1 = 7100 CNY
    assert "SJ" not in evaluate(rule, w.area_hz)                            # below the default 10,000 CNY
    rule.params = {**rule.params, "min_base_cny": str(sj_base_cny)}          # exactly the base: it counts
    sj = evaluate(rule, w.area_hz)["SJ"]
    now, base = total(MARCH, direction="M", component="SJ"), total(202503, direction="M", component="SJ")
    assert sj.value == r1((now - base) / base * 100) == Decimal("400.0")
    rule.params = {**rule.params, "min_base_cny": str(sj_base_cny + Decimal("0.01"))}
    assert "SJ" not in evaluate(rule, w.area_hz)


def test_import_surge_min_enterprises_guard(w, rules):
    rule = rules["IMPORT_SURGE"]
    rule.params = {**rule.params, "min_enterprises": 2}   # SG's base: a and b import
    assert "SG" in evaluate(rule, w.area_hz)
    rule.params = {**rule.params, "min_enterprises": 3}
    assert "SG" not in evaluate(rule, w.area_hz)


def test_import_surge_counts_a_measure_only_from_the_month_it_took_effect(w, rules):
    from tradepilot.governance.models import AreaMeasure

    AreaMeasure.objects.filter(pk=w.am_sg.pk).update(implemented_on=dt.date(2026, 4, 1))
    assert evaluate(rules["IMPORT_SURGE"], w.area_hz) == {}
    AreaMeasure.objects.filter(pk=w.am_sg.pk).update(implemented_on=dt.date(2026, 3, 31))
    assert set(evaluate(rules["IMPORT_SURGE"], w.area_hz)) == {"SG"}


def test_kinds_read_only_the_areas_region(w, rules):
    # Beijing's SG imports did not change year on year; Hangzhou's lines do not leak into it.
    found = evaluate(rules["IMPORT_SURGE"], w.area_bj)
    assert found["SG"].value == Decimal("0.0")
    assert found["SG"].explanation["baseline"]["value"] == str(total(202503, region="110000"))


def share(period, direction=None):
    return total(period, enterprises={"b", "c"}, direction=direction) / total(period, direction=direction) * 100


def test_foreign_share_jump_against_the_average_of_the_previous_months(w, rules):
    rule = rules["FOREIGN_SHARE_JUMP"]
    rule.params = {**rule.params, "window": 2}
    (signal,) = evaluate(rule, w.area_hz).values()
    baseline = (share(202601) + share(202602)) / 2                   # 20 % and 30 %
    assert baseline == Decimal(25)                                   # March: 26 000 of 45 000
    assert signal.subject == "" and signal.value == r1(share(MARCH) - baseline) == Decimal("32.8")
    assert signal.explanation["baseline"]["value"] == "25.0"
    # A window of 6: only 2 of the 6 previous months have data, fewer than half: no signal.
    rule.params = {**rule.params, "window": 6}
    assert evaluate(rule, w.area_hz) == {}


def test_foreign_share_jump_needs_enough_enterprises(w, rules):
    rule = rules["FOREIGN_SHARE_JUMP"]
    rule.params = {"window": 2, "min_enterprises": 4}    # a, b, c, d trade in March
    assert evaluate(rule, w.area_hz)
    rule.params = {"window": 2, "min_enterprises": 5}
    assert evaluate(rule, w.area_hz) == {}


def test_partner_concentration_is_the_top_partners_share(w, rules):
    rule = rules["PARTNER_CONCENTRATION"]
    found = evaluate(rule, w.area_hz)
    hk = total(MARCH, direction="M", partner="HK") / total(MARCH, direction="M") * 100   # 29 000 / 40 000
    assert set(found) == {"HK"} and found["HK"].value == r1(hk) == Decimal("72.5")
    last_year = total(202503, direction="M", partner="HK") / total(202503, direction="M") * 100
    assert found["HK"].explanation["baseline"]["value"] == str(r1(last_year))
    rule.params = {"direction": "X", "min_enterprises": 1}
    assert {k: v.value for k, v in evaluate(rule, w.area_hz).items()} == {"US": Decimal("100.0")}


def test_partner_concentration_needs_enough_enterprises(w, rules):
    rule = rules["PARTNER_CONCENTRATION"]
    rule.params = {"direction": "X", "min_enterprises": 2}   # only d exports in March
    assert evaluate(rule, w.area_hz) == {}


def test_duckdb_and_database_engines_give_the_same_signals(w, rules, settings, tmp_path):
    from_database = {(r.code, s.subject, s.value) for r in rules.values() for s in evaluate(r, w.area_hz).values()}
    settings.ANALYTICS_ENGINE = "duckdb"
    settings.ANALYTICS_ROOT = tmp_path / "store"
    shutil.copytree(w.store_root, settings.ANALYTICS_ROOT)
    from_duckdb = {(r.code, s.subject, s.value) for r in rules.values() for s in evaluate(r, w.area_hz).values()}
    assert from_duckdb == from_database and len(from_database) == 2


# --- levels and rules --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "level"), [
    ("29.9", None), ("30", AlertLevel.YELLOW), ("49.9", AlertLevel.YELLOW), ("50", AlertLevel.ORANGE),
    ("99.9999", AlertLevel.ORANGE), ("100", AlertLevel.RED), ("-300", None), ("1000", AlertLevel.RED),
])
def test_the_level_is_the_highest_threshold_reached(value, level):
    rule = RiskRule(yellow=Decimal(30), orange=Decimal(50), red=Decimal(100))
    assert early_warning.level_for(rule, Decimal(value)) == level


def test_thresholds_must_ascend_and_nothing_is_saved_otherwise(w, rules):
    rule = rules["IMPORT_SURGE"]
    with pytest.raises(WarningError) as caught:
        early_warning.update_rule(w.ministry, rule, {"orange": "20", "red": "20"})
    assert {(e["field"], e["code"]) for e in caught.value.errors} == {("orange", "not_ascending"),
                                                                      ("red", "not_ascending")}
    with pytest.raises(WarningError) as caught:
        early_warning.update_rule(w.ministry, rule, {"yellow": "abc", "params": {"min_base_cny": "-1", "x": 1}})
    assert {(e["field"], e["code"]) for e in caught.value.errors} == {
        ("yellow", "invalid"), ("params.min_base_cny", "too_small"), ("params.x", "unknown")}
    with pytest.raises(WarningError) as caught:
        early_warning.update_rule(w.ministry, rule, {"red": "1.00001"})
    assert caught.value.errors[0]["code"] == "too_precise"
    rule.refresh_from_db()
    assert (rule.yellow, rule.orange, rule.red) == (Decimal(30), Decimal(50), Decimal(100))
    assert not AuditLog.objects.filter(action="warning:rule_update").exists()


def test_the_ministry_edits_a_rule_audited(w, rules):
    rule = early_warning.update_rule(w.ministry, rules["IMPORT_SURGE"],
                                     {"yellow": "40", "params": {"min_base_cny": "50000"}, "active": False},
                                     reason="季度复核")
    assert (rule.yellow, rule.params["min_base_cny"], rule.active) == (Decimal(40), "50000", False)
    entry = AuditLog.objects.get(action="warning:rule_update", object_id=str(rule.pk))
    assert entry.actor == w.ministry and entry.reason == "季度复核"
    assert entry.changes["yellow"] == ["30.0000", "40"] and entry.changes["active"] == [True, False]
    for user in (w.bureau_hz, w.agency, w.auditor):
        with pytest.raises(early_warning.PermissionDenied):
            early_warning.update_rule(user, rule, {"yellow": "10"})


def test_default_rules_are_created_once_and_edits_survive(w):
    assert early_warning.ensure_default_rules(w.round) == 3
    rule = RiskRule.objects.get(round=w.round, code="PARTNER_CONCENTRATION")
    early_warning.update_rule(w.ministry, rule, {"red": "95"})
    assert early_warning.ensure_default_rules(w.round) == 0
    assert RiskRule.objects.get(pk=rule.pk).red == Decimal(95)
    for spec in early_warning.default_rules():  # the data file is valid by the same checks as an edit
        kind = early_warning.KINDS[spec["kind"]]
        assert early_warning.clean_params(kind, spec["params"]) == spec["params"]


# --- the scan ----------------------------------------------------------------------------------------------------

def alerts(w):
    return {(a.rule.code, a.area.region.code, a.subject): a
            for a in RiskAlert.objects.select_related("rule", "area__region")}


def test_scan_fires_one_alert_per_rule_area_month_subject_and_never_duplicates(w, rules):
    rules["FOREIGN_SHARE_JUMP"].params = {"window": 2, "min_enterprises": 3}
    rules["FOREIGN_SHARE_JUMP"].save()
    found = early_warning.scan(w.round, 2026, 3, w.ministry)
    fired = alerts(w)
    assert set(fired) == {("IMPORT_SURGE", "330100", "SG"), ("FOREIGN_SHARE_JUMP", "330100", ""),
                          ("PARTNER_CONCENTRATION", "330100", "HK")}
    assert {a.pk for a in found} == {a.pk for a in fired.values()}
    assert fired[("IMPORT_SURGE", "330100", "SG")].level == AlertLevel.ORANGE          # 50.0 = orange threshold
    assert fired[("FOREIGN_SHARE_JUMP", "330100", "")].level == AlertLevel.RED          # 32.8 ≥ 25
    assert fired[("PARTNER_CONCENTRATION", "330100", "HK")].level == AlertLevel.YELLOW  # 72.5 ≥ 60
    assert all(a.state == RiskAlert.State.OPEN and (a.year, a.month) == (2026, 3) for a in fired.values())
    assert AuditLog.objects.filter(action="warning:fire").count() == 3

    again = early_warning.scan(w.round, 2026, 3, w.ministry)
    assert RiskAlert.objects.count() == 3 and {a.pk for a in again} == {a.pk for a in found}
    assert not AuditLog.objects.filter(action="warning:rescan").exists()  # nothing changed: nothing written


def test_rescan_updates_an_open_alerts_level_and_value(w, rules):
    early_warning.scan(w.round, 2026, 3)
    alert = alerts(w)[("IMPORT_SURGE", "330100", "SG")]
    # A tighter rule: 50.0 now reaches red.
    early_warning.update_rule(w.ministry, rules["IMPORT_SURGE"], {"yellow": "10", "orange": "20", "red": "50"})
    early_warning.scan(w.round, 2026, 3)
    alert.refresh_from_db()
    assert alert.level == AlertLevel.RED and alert.state == RiskAlert.State.OPEN
    assert [h["level"] for h in alert.explanation["history"]] == ["orange", "red"]
    assert alert.explanation["thresholds"] == {"yellow": "10", "orange": "20", "red": "50"}
    assert AuditLog.objects.get(action="warning:rescan").changes == {"level": ["orange", "red"]}


def test_a_handled_alert_is_never_reopened_but_a_higher_level_is_recorded(w, rules):
    early_warning.scan(w.round, 2026, 3)
    alert = alerts(w)[("IMPORT_SURGE", "330100", "SG")]
    warning_alerts.acknowledge(alert, w.bureau_hz)
    warning_alerts.handle(alert, w.bureau_hz, "已核实")
    early_warning.update_rule(w.ministry, rules["IMPORT_SURGE"], {"yellow": "10", "orange": "20", "red": "50"})
    early_warning.scan(w.round, 2026, 3)
    early_warning.scan(w.round, 2026, 3)  # the same finding is recorded once
    alert.refresh_from_db()
    assert alert.state == RiskAlert.State.HANDLED and alert.level == AlertLevel.ORANGE
    assert alert.value == Decimal("50.0")
    history = alert.explanation["history"]
    assert [(h["level"], h.get("after_handling", False)) for h in history] == [("orange", False), ("red", True)]
    assert RiskAlert.objects.filter(rule__code="IMPORT_SURGE").count() == 1


def test_scan_notifies_the_areas_bureau_and_the_ministry(w, rules, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        early_warning.scan(w.round, 2026, 3)
    told = set(Notification.objects.values_list("user__username", flat=True))
    assert told == {"w-ministry", "w-bureau-hz"}
    assert Notification.objects.filter(user=w.bureau_hz).count() == 2   # import surge and partner concentration
    url = Notification.objects.filter(user=w.bureau_hz).first().url
    assert url.startswith("/governance/warning/alerts/")


def test_inactive_rules_and_months_without_data_fire_nothing(w, rules):
    early_warning.update_rule(w.ministry, rules["IMPORT_SURGE"], {"active": False})
    early_warning.scan(w.round, 2026, 3)
    assert "IMPORT_SURGE" not in {k[0] for k in alerts(w)}
    assert early_warning.scan(w.round, 2024, 7) == []


def test_scan_refuses_a_bad_month(w):
    with pytest.raises(WarningError) as caught:
        early_warning.scan(w.round, 2026, 13)
    assert caught.value.errors[0]["field"] == "month"


def test_scan_latest_scans_the_latest_month_with_data(w, rules):
    assert early_warning.latest_month() == MARCH
    found = early_warning.scan_latest(w.round)
    assert {(a.year, a.month) for a in found} == {(2026, 3)} and found


def test_the_background_task_scans_a_month(w, rules):
    assert early_warning.scan_month.call(w.round.code, 2026, 3) == 2
    assert RiskAlert.objects.count() == 2


def test_indicator_series_matches_evaluate_in_the_alerts_month(w, rules):
    early_warning.scan(w.round, 2026, 3)
    alert = alerts(w)[("PARTNER_CONCENTRATION", "330100", "HK")]
    series = dict(early_warning.indicator_series(alert))
    assert len(series) == 24 and series[MARCH] == alert.value
    assert series[202503] == Decimal("58.3")  # HK: 7 000 of Hangzhou's 12 000 of imports, three importers
    assert series[202601] is None             # no imports that month


def test_a_refreshed_month_of_lines_is_scanned(w, rules):
    """The analytics worker's `partition_refreshed` signal runs the scan for that month (lines only)."""
    from tradepilot.analytics.refresh import partition_refreshed, refresh_partition

    partition_refreshed.send(sender=refresh_partition, dataset="fact_fats_in", year=2026, month=0)
    assert not RiskAlert.objects.exists()
    partition_refreshed.send(sender=refresh_partition, dataset="fact_line", year=2026, month=3)
    assert {(a.year, a.month) for a in RiskAlert.objects.all()} == {(2026, 3)}
    assert RiskAlert.objects.count() == 2


def test_the_scan_command(w, rules):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("governance", "scan", "--month", "2026-03", stdout=out)
    assert "2026-03: 2 alert(s)" in out.getvalue()
    assert RiskAlert.objects.count() == 2
    out = StringIO()
    call_command("governance", "scan", stdout=out)  # the latest month with data
    assert out.getvalue().startswith("2026-03:")
    for bad in ("2026-13", "March"):
        with pytest.raises(CommandError, match="month"):
            call_command("governance", "scan", "--month", bad)
    with pytest.raises(CommandError, match="round"):
        call_command("governance", "scan", "--round", "1999")
