"""Evaluation pages, API and exports on the small world of `evaluation_fixtures`: who sees the ranking and who may
drill down, the exports read back, and refused input answered with the field named."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tradepilot.core.models import PilotArea
from tradepilot.core.tokens import issue_token
from tradepilot.governance import evaluation
from tradepilot.governance.models import EvaluationIndicator, EvaluationResult
from tradepilot.governance.tests import evaluation_fixtures as fx
from tradepilot.governance.tests.evaluation_fixtures import BJ, HZ, cny10k, flows

# The module's fixtures (pytest finds them by name here).
_pristine, reference, built, system, run2025 = fx._pristine, fx.reference, fx.built, fx.system, fx.run2025

API = "/api/v1/governance"


def english_client() -> Client:
    """The assertions read English texts (the Chinese catalog is filled in separately): the language cookie, as
    the language switch sets it."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def api(user, method: str, path: str, data=None):
    client = english_client()
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    if method == "GET":
        return client.get(API + path, data or {}, headers=headers)
    return getattr(client, method.lower())(API + path, data or {}, content_type="application/json", headers=headers)


def web(user) -> Client:
    client = english_client()
    client.force_login(user)
    return client


def area(code: str) -> PilotArea:
    return PilotArea.objects.get(region__code=code)


# --- scoping of the drill-down ---------------------------------------------------------------------------------

def test_every_reader_sees_the_whole_ranking_but_drills_only_into_its_scope(run2025, built):
    w = built
    expected_drill = {w.ministry: 17, w.auditor: 17, w.agency: 17, w.bureau_bj: {BJ}, w.bureau_hz: {HZ},
                      w.bureau_zj: {HZ}}
    for user, drill in expected_drill.items():
        body = api(user, "GET", f"/evaluation/runs/{run2025.pk}").json()
        assert len(body["ranking"]) == 17, user
        drillable = {r["region"] for r in body["ranking"] if r["drill_down"]}
        assert (len(drillable) == drill) if isinstance(drill, int) else (drillable == drill), user
    beijing, hangzhou = area(BJ), area(HZ)
    for user, bj_status, hz_status in ((w.ministry, 200, 200), (w.agency, 200, 200), (w.auditor, 200, 200),
                                       (w.bureau_bj, 200, 404), (w.bureau_hz, 404, 200), (w.bureau_zj, 404, 200)):
        assert api(user, "GET", f"/evaluation/runs/{run2025.pk}/areas/{beijing.pk}").status_code == bj_status
        assert api(user, "GET", f"/evaluation/runs/{run2025.pk}/areas/{hangzhou.pk}").status_code == hz_status
        page = web(user).get(reverse("governance:evaluation_area", args=[run2025.pk, beijing.pk]))
        assert page.status_code == bj_status
    for user in (w.ent_bj, w.ent_hz):
        assert api(user, "GET", f"/evaluation/runs/{run2025.pk}").status_code == 403
        assert api(user, "GET", f"/evaluation/runs/{run2025.pk}/areas/{beijing.pk}").status_code == 403


def test_the_ranking_page_links_only_drillable_areas(run2025, built):
    page = web(built.bureau_hz).get(reverse("governance:evaluation_run", args=[run2025.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "Beijing" in html and "Hangzhou" in html
    assert reverse("governance:evaluation_area", args=[run2025.pk, area(HZ).pk]) in html
    assert reverse("governance:evaluation_area", args=[run2025.pk, area(BJ).pk]) not in html
    assert 'id="eval-ranking-data"' in html  # the chart's data


def test_the_drill_down_shows_values_formulas_inputs_and_links(run2025, built):
    body = api(built.bureau_bj, "GET", f"/evaluation/runs/{run2025.pk}/areas/{area(BJ).pk}").json()
    assert body["rank"] == 1 and body["areas"] == 17
    scores = {s["indicator"]: s for s in body["scores"]}
    balance = scores["balance_change"]
    bjn = ("bj_a", "bj_b")
    assert Decimal(balance["value"]) == cny10k(flows(bjn, 2025, "X") - flows(bjn, 2025, "M")) - cny10k(
        flows(bjn, 2024, "X") - flows(bjn, 2024, "M"))
    assert balance["score"] == "100.00" and balance["weighted"] == "10.00" and balance["unit"] == "CNY 10k"
    assert {i["unit"] for i in balance["inputs"]} == {"USD", "CNY 10k"}
    tasks = scores["tasks_on_time"]
    assert tasks["inputs"][0]["url"] == reverse("governance:tracking_area", args=[area(BJ).pk])
    assert scores["trade_growth"]["average_score"] is not None

    html = web(built.bureau_bj).get(reverse("governance:evaluation_area", args=[run2025.pk, area(BJ).pk])).content
    html = html.decode()
    total_2025 = flows(bjn, 2025, "X") + flows(bjn, 2025, "M")
    assert str(total_2025) in html and "region=110000" in html and 'id="eval-radar-data"' in html
    assert scores["trade_growth"]["formula"] in html


# --- exports ---------------------------------------------------------------------------------------------------

def xlsx(user, run) -> tuple:
    response = web(user).get(reverse("governance:evaluation_export", args=[run.pk, "xlsx"]))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    return wb.worksheets[0], wb.worksheets[1]


def test_xlsx_has_the_ranking_and_the_scores_the_reader_may_open(run2025, built):
    ranking, detail = xlsx(built.ministry, run2025)
    rows = [r for r in ranking.iter_rows(min_row=5, max_row=21, values_only=True)]
    results = {r.area.region.code: r for r in
               EvaluationResult.objects.filter(run=run2025).select_related("area__region")}
    assert len(rows) == 17
    for rank, name, region, total in rows:
        r = results[region]
        assert (r.rank, r.area.name_en, r.total) == (rank, name, Decimal(str(total)))
    header = [c.value for c in detail[1]]
    details = list(detail.iter_rows(min_row=2, values_only=True))
    assert len(details) == 17 * 9
    beijing = {r[header.index("Indicator code")]: dict(zip(header, r, strict=True)) for r in details
               if r[0] == "Beijing"}
    assert Decimal(str(beijing["experiences_adopted"]["Score"])) == Decimal(60)
    assert "Adoptions by other areas: 1 count" in beijing["experiences_adopted"]["Inputs"]

    _ranking, detail = xlsx(built.bureau_hz, run2025)
    assert {r[0] for r in detail.iter_rows(min_row=2, values_only=True)} == {"Hangzhou"}


def test_pdf_export(run2025, built):
    response = web(built.bureau_zj).get(reverse("governance:evaluation_export", args=[run2025.pk, "pdf"]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert web(built.ministry).get(reverse("governance:evaluation_export", args=[run2025.pk, "csv"])).status_code == 400


def test_compare_two_runs(run2025, system, built):
    other = evaluation.run_evaluation(system, 2019, built.ministry)
    page = web(built.agency).get(reverse("governance:evaluation_compare"), {"a": other.pk, "b": run2025.pk})
    assert page.status_code == 200
    rows = {r.area.region.code: r for r in page.context["rows"]}
    bj_2019 = EvaluationResult.objects.get(run=other, area__region__code=BJ).total
    assert rows[BJ].change == EvaluationResult.objects.get(run=run2025, area__region__code=BJ).total - bj_2019
    assert web(built.agency).get(reverse("governance:evaluation_compare"), {"a": 999999, "b": run2025.pk}
                                 ).status_code == 400
    # Opened without a choice: the latest run (the 2019 one, run last) against the one before it.
    default = web(built.agency).get(reverse("governance:evaluation_compare"))
    assert (default.context["run_a"], default.context["run_b"]) == (run2025, other)


# --- editing and running through the API and the pages ----------------------------------------------------------

def errors_of(response) -> set[tuple]:
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


def test_api_refuses_bad_input_naming_the_field(system, built):
    m = built.ministry
    new = {"code": "extra", "name_zh": "新增", "source": "ki_share", "weight": 5, "method": "linear",
           "params": {"low": 0, "high": 50}}
    r = api(m, "POST", f"/evaluation/systems/{system.pk}/indicators", new)
    assert r.status_code == 400 and ("weight", "sum") in errors_of(r)
    r = api(m, "POST", f"/evaluation/systems/{system.pk}/indicators", {**new, "weights": {"ki_share": 5}})
    assert r.status_code == 201 and r.json()["params"] == {"low": "0", "high": "50"}
    ind = system.indicators.get(code="export_growth")
    r = api(m, "PATCH", f"/evaluation/indicators/{ind.pk}", {"params": {"low": 10, "high": 1}})
    assert r.status_code == 400 and errors_of(r) == {("params.high", "order")}
    r = api(m, "PATCH", f"/evaluation/indicators/{ind.pk}", {"method": "curve"})
    assert r.status_code == 400 and ("method", "invalid") in errors_of(r)
    r = api(m, "PATCH", f"/evaluation/indicators/{ind.pk}", {"method": "rank", "weight": 12,
                                                            "weights": {"trade_growth": 13}})
    assert r.status_code == 200 and r.json()["method"] == "rank"
    r = api(m, "DELETE", f"/evaluation/indicators/{ind.pk}")
    assert r.status_code == 400 and ("weight", "sum") in errors_of(r)
    r = api(m, "POST", "/evaluation/runs", {"system_id": system.pk, "year": 1999})
    assert r.status_code == 400 and errors_of(r) == {("year", "invalid")}
    r = api(m, "POST", "/evaluation/runs", {"system_id": 999999, "year": 2025})
    assert r.status_code == 400 and errors_of(r) == {("system_id", "unknown")}
    assert api(built.bureau_bj, "POST", "/evaluation/runs", {"system_id": system.pk, "year": 2025}).status_code == 403
    r = api(m, "POST", "/evaluation/runs", {"system_id": system.pk, "year": 2025})
    assert r.status_code == 201 and r.json()["areas"] == 17


def test_pages_refuse_bad_input_and_save_nothing(system, built):
    client = web(built.ministry)
    r = client.post(reverse("governance:evaluation_system", args=[system.pk]), {"weight__ki_share": "12"})
    assert r.status_code == 400 and system.indicators.get(code="ki_share").weight == Decimal(10)
    ind = system.indicators.get(code="ki_share")
    form = {"code": "ki_share", "name_zh": ind.name_zh, "source": "ki_share", "weight": "10", "method": "threshold",
            "steps": "20 40\n10 60", "higher_is_better": "on", "order": "4"}
    r = client.post(reverse("governance:evaluation_indicator_edit", args=[ind.pk]), form)
    assert r.status_code == 400 and "Step 2" in r.context["errors"]["steps"]
    assert EvaluationIndicator.objects.get(pk=ind.pk).params == ind.params
    r = client.post(reverse("governance:evaluation_indicator_edit", args=[ind.pk]), {**form, "steps": "10 40\n20 60"})
    assert r.status_code == 302
    assert EvaluationIndicator.objects.get(pk=ind.pk).params == {"steps": [["10", "40"], ["20", "60"]]}
    r = client.post(reverse("governance:evaluation_runs"), {"system": system.pk, "year": "abc"})
    assert r.status_code == 400 and "year" in r.context["errors"]


@pytest.mark.parametrize("role", ["bureau_bj", "agency", "auditor"])
def test_only_the_ministry_gets_the_run_button(system, built, role):
    page = web(getattr(built, role)).get(reverse("governance:evaluation_runs"))
    assert page.status_code == 200 and 'id="eval-run-form"' not in page.content.decode()
    assert 'id="eval-run-form"' in web(built.ministry).get(reverse("governance:evaluation_runs")).content.decode()
