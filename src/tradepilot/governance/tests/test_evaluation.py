"""Scoring methods, parameter checks, weights that must sum to 100, and editing an indicator system."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from tradepilot.core.models import AuditLog, PilotRound
from tradepilot.governance import evaluation
from tradepilot.governance.evaluation import (
    EvaluationError,
    clean_params,
    competition_ranks,
    score_linear,
    score_ranks,
    score_threshold,
)
from tradepilot.governance.evaluation_sources import SOURCES
from tradepilot.governance.models import EvaluationIndicator, IndicatorSystem

D = Decimal
STEPS = {"steps": [["20", "40"], ["30", "60"], ["50", "100"]]}
LOWER_STEPS = {"steps": [["5", "100"], ["10", "60"], ["20", "20"]]}


# --- threshold -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "score"), [
    ("19.99", "0"), ("20", "40"), ("29.99", "40"), ("30", "60"), ("49.9", "60"), ("50", "100"), ("1000", "100"),
    ("-3", "0"),
])
def test_threshold_higher_is_better_takes_the_highest_bound_reached(value, score):
    assert score_threshold(D(value), STEPS, True).score == D(score)


@pytest.mark.parametrize(("value", "score"), [
    ("-1", "100"), ("5", "100"), ("5.01", "60"), ("10", "60"), ("20", "20"), ("20.01", "0"),
])
def test_threshold_lower_is_better_takes_the_lowest_bound_not_exceeded(value, score):
    assert score_threshold(D(value), LOWER_STEPS, False).score == D(score)


def test_threshold_explains_the_step():
    how = score_threshold(D("31"), STEPS).how.english()
    assert "31" in how and "30" in how and "60" in how


# --- linear --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "score"), [
    ("-5", "0"), ("0", "0"), ("5", "25.00"), ("12.345", "61.73"), ("20", "100"), ("25", "100"),
])
def test_linear_is_clamped_and_rounded_half_up(value, score):
    result = score_linear(D(value), {"low": "0", "high": "20"}, True).score
    assert result == D(score) and result.as_tuple().exponent == -2


@pytest.mark.parametrize(("value", "score"), [("-1", "100"), ("0", "100"), ("5", "75.00"), ("20", "0"), ("30", "0")])
def test_linear_lower_is_better_runs_the_other_way(value, score):
    assert score_linear(D(value), {"low": "0", "high": "20"}, False).score == D(score)


def test_linear_between_non_zero_bounds():
    # 75 between 50 and 100 → (75 − 50) ÷ 50 × 100 = 50
    assert score_linear(D("75"), {"low": "50", "high": "100"}).score == D("50.00")
    assert score_linear(D("62.5"), {"low": "50", "high": "100"}).score == D("25.00")


# --- rank ----------------------------------------------------------------------------------------------------------

def test_rank_best_100_worst_0_ties_share_the_better_score():
    got = score_ranks({"a": D(10), "b": D(20), "c": D(20), "d": D(5), "e": None}, True)
    assert {k: v.score for k, v in got.items()} == {"b": D(100), "c": D(100), "a": D("33.33"), "d": D(0)}
    assert "e" not in got  # no data: scored 0 by the run, not ranked


def test_rank_lower_is_better():
    got = score_ranks({"a": D(10), "b": D(20), "c": D(20), "d": D(5)}, False)
    assert {k: v.score for k, v in got.items()} == {"d": D(100), "a": D("66.67"), "b": D("33.33"), "c": D("33.33")}


def test_rank_of_a_single_area_or_all_tied():
    assert score_ranks({"a": D(3)}, True)["a"].score == D(100)
    assert {v.score for v in score_ranks({"a": D(3), "b": D(3)}, True).values()} == {D(100)}
    assert score_ranks({"a": None}, True) == {}


def test_totals_rank_with_shared_places():
    assert competition_ranks({"a": D(50), "b": D(70), "c": D(70), "d": D(10)}) == {"b": 1, "c": 1, "a": 3, "d": 4}


# --- parameters ----------------------------------------------------------------------------------------------------

def fields_of(exc: EvaluationError) -> set[tuple]:
    return {(e["field"], e["row"], e["code"]) for e in exc.errors}


def test_threshold_steps_are_checked_and_named():
    with pytest.raises(EvaluationError) as caught:
        clean_params("threshold", {"steps": [["20", "40"], ["10", "60"], ["x", "1"], ["30", "120"], ["5"]]})
    assert fields_of(caught.value) == {("params.steps.bound", 2, "order"), ("params.steps.bound", 3, "invalid"),
                                       ("params.steps.score", 4, "range"), ("params.steps", 5, "invalid")}
    with pytest.raises(EvaluationError) as caught:
        clean_params("threshold", {"steps": []})
    assert fields_of(caught.value) == {("params.steps", None, "required")}


def test_linear_bounds_are_checked_and_normalised():
    assert clean_params("linear", {"low": 0, "high": 12.5}) == {"low": "0", "high": "12.5"}
    with pytest.raises(EvaluationError) as caught:
        clean_params("linear", {"low": "10", "high": "10"})
    assert fields_of(caught.value) == {("params.high", None, "order")}
    with pytest.raises(EvaluationError) as caught:
        clean_params("linear", {"low": "abc"})
    assert fields_of(caught.value) == {("params.low", None, "invalid"), ("params.high", None, "required")}
    assert clean_params("rank", {"anything": 1}) == {}


# --- the system and its weights --------------------------------------------------------------------------------

@pytest.fixture
def system(world):
    return evaluation.ensure_default_system(PilotRound.objects.get(code="2018"))


def test_default_system_is_loaded_from_the_data_file_and_sums_to_100(system):
    definition = evaluation.load_default_definition()
    assert list(system.indicators.order_by("order").values_list("code", flat=True)) == [
        i["code"] for i in definition["indicators"]]
    assert evaluation.weight_sum(system) == D(100)
    assert {i.source for i in system.indicators.all()} <= set(SOURCES)
    # Idempotent: a second call returns the same system, as edited.
    EvaluationIndicator.objects.filter(system=system, code="ki_share").update(name_zh="改过的名称")
    again = evaluation.ensure_default_system(system.round)
    assert again.pk == system.pk and again.indicators.get(code="ki_share").name_zh == "改过的名称"


NEW = {"code": "new_ind", "name_zh": "新指标", "source": "tasks_on_time", "weight": "5", "method": "linear",
       "params": {"low": "0", "high": "100"}}


def test_an_indicator_that_breaks_the_sum_is_refused_and_nothing_saved(system, world):
    before = AuditLog.objects.count()
    with pytest.raises(EvaluationError) as caught:
        evaluation.save_indicator(world.ministry, system, NEW)
    assert caught.value.code == "weights"
    assert ("weight", None, "sum") in fields_of(caught.value)
    assert not system.indicators.filter(code="new_ind").exists()
    assert AuditLog.objects.count() == before


def test_rebalancing_in_the_same_change_saves_and_audits(system, world):
    ind = evaluation.save_indicator(world.ministry, system, NEW, weights={"ki_share": "5"}, reason="rebalance")
    assert evaluation.weight_sum(system) == D(100)
    assert system.indicators.get(code="ki_share").weight == D(5)
    created = AuditLog.objects.get(action="evaluation_indicator:create", object_id=str(ind.pk))
    assert created.changes["weight"] == [None, "5"] and created.actor == world.ministry
    updated = AuditLog.objects.get(action="evaluation_indicator:update")
    assert updated.changes == {"weight": ["10", "5"]} and updated.reason == "rebalance"

    pk = ind.pk
    evaluation.delete_indicator(world.ministry, ind, weights={"ki_share": "10"})
    assert not system.indicators.filter(code="new_ind").exists()
    assert AuditLog.objects.filter(action="evaluation_indicator:delete", object_id=str(pk)).exists()


def test_deleting_without_rebalancing_is_refused(system, world):
    ind = system.indicators.get(code="ki_share")
    with pytest.raises(EvaluationError):
        evaluation.delete_indicator(world.ministry, ind)
    assert system.indicators.filter(code="ki_share").exists()


def test_each_bad_field_is_named(system, world):
    bad = {"code": "trade_growth", "name_zh": "", "source": "nowhere", "weight": "0.001", "method": "linear",
           "params": {"low": "5", "high": "1"}, "order": "x"}
    with pytest.raises(EvaluationError) as caught:
        evaluation.save_indicator(world.ministry, system, bad)
    assert {e["field"] for e in caught.value.errors} == {"code", "name_zh", "source", "weight", "params.high",
                                                        "order"}
    with pytest.raises(EvaluationError) as caught:
        evaluation.save_indicator(world.ministry, system, NEW, weights={"ki_share": "-1", "nope": "3"})
    assert {e["field"] for e in caught.value.errors} == {"weights.ki_share", "weights.nope"}


def test_edit_changes_method_and_keeps_the_sum(system, world):
    ind = system.indicators.get(code="export_growth")
    evaluation.save_indicator(world.ministry, system, {"method": "threshold", "params": {"steps": [[0, 50], [10, 100]]},
                                                       "higher_is_better": False}, instance=ind)
    ind.refresh_from_db()
    assert ind.method == "threshold" and ind.params == {"steps": [["0", "50"], ["10", "100"]]}
    assert not ind.higher_is_better


def test_set_weights_checks_the_sum(system, world):
    with pytest.raises(EvaluationError) as caught:
        evaluation.set_weights(world.ministry, system, {"ki_share": "11"})
    assert "101" in caught.value.message
    assert system.indicators.get(code="ki_share").weight == D(10)
    evaluation.set_weights(world.ministry, system, {"ki_share": "11", "reporting_timeliness": "4"})
    assert evaluation.weight_sum(system) == D(100)


def test_only_the_ministry_edits_and_runs(system, world):
    for user in (world.bureau_bj, world.agency, world.auditor, world.ent_bj):
        with pytest.raises(PermissionDenied):
            evaluation.save_indicator(user, system, NEW, weights={"ki_share": "5"})
        with pytest.raises(PermissionDenied):
            evaluation.run_evaluation(system, 2025, user)


def test_a_run_refuses_weights_that_do_not_sum_to_100(system, world):
    EvaluationIndicator.objects.filter(system=system, code="ki_share").update(weight=D(9))
    with pytest.raises(EvaluationError) as caught:
        evaluation.run_evaluation(system, 2025, world.ministry)
    assert ("weight", None, "sum") in fields_of(caught.value)
    with pytest.raises(EvaluationError) as caught:
        evaluation.run_evaluation(IndicatorSystem.objects.get(pk=system.pk), "20x5", world.ministry)
    assert ("year", None, "invalid") in fields_of(caught.value)
