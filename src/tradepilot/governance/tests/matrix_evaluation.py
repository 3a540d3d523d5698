"""Permission-matrix rows for the governance evaluation pages and API operations (merged into core's matrix).

Columns as in core/tests/test_permission_matrix.py:
anonymous, ministry, auditor, agency (GACC), bureau_bj, bureau_hz, bureau_zj, ent_bj, ent_bj2.

Targets: the round's default indicator system and a run of it for 2025 (made on first use in the cell); the
drill-down target is Beijing's result. Reading (runs, rankings, systems, exports) is for the ministry, auditors,
departments and bureaus; a drill-down outside a bureau's region is 404 (bureau_hz, bureau_zj for Beijing).
Editing indicators and running are the ministry's: every other reader is refused (403) before anything changes.
"""

from __future__ import annotations

from decimal import Decimal

from django.urls import reverse

from tradepilot.core.tests.test_permission_matrix import D, M, O, Op, effect
from tradepilot.governance import evaluation
from tradepilot.governance.models import EvaluationIndicator, EvaluationRun, IndicatorSystem

GOV = "/governance"
YEAR = 2025


def system(c) -> IndicatorSystem:
    """The round's default indicator system (cached on the cell's context)."""
    if not hasattr(c, "_eval_system"):
        c._eval_system = evaluation.ensure_default_system(c.gov.area_bj.round)
    return c._eval_system


def run(c) -> EvaluationRun:
    """A run of the default system for YEAR, by the ministry (the cell's world has no trade: no-data scores)."""
    if not hasattr(c, "_eval_run"):
        c._eval_run = evaluation.run_evaluation(system(c), YEAR, c.w.ministry)
    return c._eval_run


def indicator(c) -> EvaluationIndicator:
    return system(c).indicators.get(code="ki_share")


def runs_of_year(c) -> int:
    return EvaluationRun.objects.filter(year=YEAR - 1).count()


NEW_INDICATOR = {"code": "matrix_ind", "name_zh": "矩阵指标", "source": "tasks_on_time", "weight": "5",
                 "method": "linear", "low": "0", "high": "100", "higher_is_better": "on",
                 "weight__ki_share": "5"}
NEW_API = {"code": "matrix_ind", "name_zh": "矩阵指标", "source": "tasks_on_time", "weight": 5, "method": "linear",
           "params": {"low": 0, "high": 100}, "weights": {"ki_share": 5}}


def edit_form(c) -> dict:
    ind = indicator(c)
    return {"code": ind.code, "name_zh": "矩阵改名", "name_en": ind.name_en, "group": ind.group,
            "source": ind.source, "weight": str(ind.weight), "method": "linear", "low": "0", "high": "100",
            "higher_is_better": "on", "order": str(ind.order)}


def renamed(c) -> bool:
    return EvaluationIndicator.objects.filter(system=system(c), code="ki_share", name_zh="矩阵改名").exists()


def gone(c) -> bool:
    return not EvaluationIndicator.objects.filter(system=system(c), code="ki_share").exists()


def rebalanced(c) -> bool:
    return system(c).indicators.get(code="ki_share").weight == Decimal(11)


def area_url(c) -> str:
    return reverse("governance:evaluation_area", args=[run(c).pk, c.gov.area_bj.pk])


#                          anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
READ = (D, O, O, O, O, O, O, D, D)
MINISTRY_ONLY = (D, O, D, D, D, D, D, D, D)
DRILL_BJ = (D, O, O, O, O, M, M, D, D)

WEB: dict = {
    "GET governance:evaluation_runs": READ,
    # start a run for YEAR − 1
    "POST governance:evaluation_runs": MINISTRY_ONLY,
    "GET governance:evaluation_systems": READ,
    # create the round's default system from the data file
    "POST governance:evaluation_systems": MINISTRY_ONLY,
    "GET governance:evaluation_system": READ,
    # move one point of weight from reporting timeliness to the knowledge-intensive share
    "POST governance:evaluation_system": MINISTRY_ONLY,
    "GET governance:evaluation_indicator_new": MINISTRY_ONLY,
    "POST governance:evaluation_indicator_new": MINISTRY_ONLY,
    "GET governance:evaluation_indicator_edit": MINISTRY_ONLY,
    "POST governance:evaluation_indicator_edit": MINISTRY_ONLY,
    "GET governance:evaluation_indicator_delete": MINISTRY_ONLY,
    "POST governance:evaluation_indicator_delete": MINISTRY_ONLY,
    # every reader sees the ranking of all areas
    "GET governance:evaluation_run": READ,
    # Beijing's scores: only within the reader's scope
    "GET governance:evaluation_area": DRILL_BJ,
    # the ranking of all areas plus the details the reader may open
    "GET governance:evaluation_export": READ,
    "GET governance:evaluation_compare": READ,
}

API: dict = {
    "GET /governance/evaluation/systems": READ,
    "GET /governance/evaluation/systems/{system_id}/indicators": READ,
    "POST /governance/evaluation/systems/{system_id}/indicators": MINISTRY_ONLY,
    "PATCH /governance/evaluation/indicators/{indicator_id}": MINISTRY_ONLY,
    "DELETE /governance/evaluation/indicators/{indicator_id}": MINISTRY_ONLY,
    "POST /governance/evaluation/runs": MINISTRY_ONLY,
    "GET /governance/evaluation/runs": READ,
    "GET /governance/evaluation/runs/{run_id}": READ,
    "GET /governance/evaluation/runs/{run_id}/areas/{area_id}": DRILL_BJ,
}

WEB_OPS: dict = {
    "GET governance:evaluation_runs": Op(lambda c: c.web().get(reverse("governance:evaluation_runs"))),
    "POST governance:evaluation_runs": Op(
        lambda c: c.web().post(reverse("governance:evaluation_runs"), {"system": system(c).pk, "year": YEAR - 1}),
        judge=effect(lambda c: runs_of_year(c) == 1)),
    "GET governance:evaluation_systems": Op(lambda c: c.web().get(reverse("governance:evaluation_systems"))),
    "POST governance:evaluation_systems": Op(
        lambda c: c.web().post(reverse("governance:evaluation_systems"), {"round": c.gov.area_bj.round.code}),
        judge=effect(lambda c: IndicatorSystem.objects.filter(round=c.gov.area_bj.round, code="default").exists())),
    "GET governance:evaluation_system": Op(
        lambda c: c.web().get(reverse("governance:evaluation_system", args=[system(c).pk]))),
    "POST governance:evaluation_system": Op(
        lambda c: c.web().post(reverse("governance:evaluation_system", args=[system(c).pk]),
                               {"weight__ki_share": "11", "weight__reporting_timeliness": "4"}),
        judge=effect(rebalanced)),
    "GET governance:evaluation_indicator_new": Op(
        lambda c: c.web().get(reverse("governance:evaluation_indicator_new", args=[system(c).pk]))),
    "POST governance:evaluation_indicator_new": Op(
        lambda c: c.web().post(reverse("governance:evaluation_indicator_new", args=[system(c).pk]), NEW_INDICATOR),
        judge=effect(lambda c: system(c).indicators.filter(code="matrix_ind").exists())),
    "GET governance:evaluation_indicator_edit": Op(
        lambda c: c.web().get(reverse("governance:evaluation_indicator_edit", args=[indicator(c).pk]))),
    "POST governance:evaluation_indicator_edit": Op(
        lambda c: c.web().post(reverse("governance:evaluation_indicator_edit", args=[indicator(c).pk]),
                               edit_form(c)),
        judge=effect(renamed)),
    "GET governance:evaluation_indicator_delete": Op(
        lambda c: c.web().get(reverse("governance:evaluation_indicator_delete", args=[indicator(c).pk]))),
    "POST governance:evaluation_indicator_delete": Op(
        lambda c: c.web().post(reverse("governance:evaluation_indicator_delete", args=[indicator(c).pk]),
                               {"weight__trade_growth": "25"}),
        judge=effect(gone)),
    "GET governance:evaluation_run": Op(lambda c: c.web().get(reverse("governance:evaluation_run", args=[run(c).pk]))),
    "GET governance:evaluation_area": Op(lambda c: c.web().get(area_url(c))),
    "GET governance:evaluation_export": Op(
        lambda c: c.web().get(reverse("governance:evaluation_export", args=[run(c).pk, "xlsx"]))),
    "GET governance:evaluation_compare": Op(
        lambda c: c.web().get(reverse("governance:evaluation_compare"), {"a": run(c).pk, "b": run(c).pk})),
}

API_OPS: dict = {
    "GET /governance/evaluation/systems": Op(lambda c: c.api("GET", f"{GOV}/evaluation/systems")),
    "GET /governance/evaluation/systems/{system_id}/indicators": Op(
        lambda c: c.api("GET", f"{GOV}/evaluation/systems/{system(c).pk}/indicators")),
    "POST /governance/evaluation/systems/{system_id}/indicators": Op(
        lambda c: c.api("POST", f"{GOV}/evaluation/systems/{system(c).pk}/indicators", NEW_API)),
    "PATCH /governance/evaluation/indicators/{indicator_id}": Op(
        lambda c: c.api("PATCH", f"{GOV}/evaluation/indicators/{indicator(c).pk}", {"name_zh": "矩阵改名"})),
    "DELETE /governance/evaluation/indicators/{indicator_id}": Op(
        lambda c: c.api("DELETE", f"{GOV}/evaluation/indicators/{indicator(c).pk}",
                        {"weights": {"trade_growth": 25}})),
    "POST /governance/evaluation/runs": Op(
        lambda c: c.api("POST", f"{GOV}/evaluation/runs", {"system_id": system(c).pk, "year": YEAR - 1})),
    "GET /governance/evaluation/runs": Op(lambda c: c.api("GET", f"{GOV}/evaluation/runs")),
    "GET /governance/evaluation/runs/{run_id}": Op(lambda c: c.api("GET", f"{GOV}/evaluation/runs/{run(c).pk}")),
    "GET /governance/evaluation/runs/{run_id}/areas/{area_id}": Op(
        lambda c: c.api("GET", f"{GOV}/evaluation/runs/{run(c).pk}/areas/{c.gov.area_bj.pk}")),
}
