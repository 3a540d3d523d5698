"""An annual run on a small world: values, scores, totals and ranks match what is computed here by hand from the
reports, tasks, measures and adoptions we made (`evaluation_fixtures`); every score explains itself; 2019 has no
trade and says so.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from tradepilot.core.models import PilotArea
from tradepilot.governance import evaluation
from tradepilot.governance.models import EvaluationScore
from tradepilot.governance.tests import evaluation_fixtures as fx
from tradepilot.governance.tests.evaluation_fixtures import (
    BJ,
    HZ,
    SH,
    cny10k,
    expected_beijing,
    flows,
    key_contacts,
    pct,
    scores_of,
    trade,
)

# The module's fixtures (pytest finds them by name here).
_pristine, reference, built, system, run2025 = fx._pristine, fx.reference, fx.built, fx.system, fx.run2025

D = Decimal


def linear(value: Decimal, low: Decimal, high: Decimal) -> Decimal:
    return min(max((value - low) / (high - low) * 100, D(0)), D(100)).quantize(D("0.01"), ROUND_HALF_UP)


# --- the run -------------------------------------------------------------------------------------------------

def test_values_match_the_figures_computed_by_hand(run2025):
    got = {code: s.value for code, s in scores_of(run2025, BJ).items()}
    assert got == expected_beijing()
    hz = scores_of(run2025, HZ)
    assert hz["trade_growth"].value == D("0.0")  # 20 400 in both years
    assert hz["export_growth"].value == pct(D(8400 - 9600), D(9600))
    assert hz["ki_share"].value == pct(D(12000), D(20400))
    assert hz["reporting_coverage"].value == pct(D(12), D(key_contacts(HZ) * 12))
    assert hz["tasks_on_time"].value is None  # nothing due by the end of 2025
    assert hz["experiences_adopted"].value == D(0)


def test_scores_weights_totals_and_ranks(run2025):
    bj, hz = scores_of(run2025, BJ), scores_of(run2025, HZ)
    exp = expected_beijing()
    assert bj["trade_growth"].score == D(0)  # negative growth, clamped
    assert bj["export_growth"].score == linear(exp["export_growth"], D(0), D(20))
    assert bj["ki_share"].score == D(100)  # above 50 %
    assert bj["reporting_coverage"].score == linear(exp["reporting_coverage"], D(50), D(100))
    assert bj["tasks_on_time"].score == linear(exp["tasks_on_time"], D(0), D(100))
    assert bj["experiences_adopted"].score == D(60)  # one adoption reaches the first step
    # Balance change, ranked: Beijing improved most (100); the 15 areas without trade tie at 0 (rank 2 of 17:
    # (17 − 2) ÷ 16 × 100 = 93.75); Hangzhou's balance worsened (last: 0).
    assert exp["balance_change"] > 0 > hz["balance_change"].value
    assert bj["balance_change"].score == D(100) and hz["balance_change"].score == D(0)
    other = EvaluationScore.objects.get(result__run=run2025, result__area__region__code=SH,
                                        indicator_code="balance_change")
    assert other.value == D(0) and other.score == D("93.75")
    assert hz["tasks_on_time"].score == D(0) and hz["tasks_on_time"].explanation["no_data"]

    weights = {i.code: i.weight for i in run2025.system.indicators.all()}
    for code, s in bj.items():
        assert s.weighted == (s.score * weights[code] / 100).quantize(D("0.01"), ROUND_HALF_UP)
    results = {r.area.region.code: r for r in run2025.results.select_related("area__region")}
    assert results[BJ].total == sum((s.weighted for s in bj.values()), D(0))
    totals = sorted({r.total for r in results.values()}, reverse=True)
    for r in results.values():
        assert r.rank == 1 + sum(1 for o in results.values() if o.total > r.total)
    assert results[BJ].rank == 1 and totals[0] == results[BJ].total
    # Areas with the same total share a rank.
    assert len({r.rank for r in results.values()}) < len(results)


def test_every_score_explains_itself_down_to_its_inputs(run2025):
    bj = scores_of(run2025, BJ)
    growth = bj["trade_growth"].explanation
    values = {i["label"]: i["value"] for i in growth["inputs"]}
    bjn = ("bj_a", "bj_b")
    assert values == {
        "Total trade (exports + imports), 2025, months 1–12": str(flows(bjn, 2025, "X") + flows(bjn, 2025, "M")),
        "Total trade (exports + imports), 2024, months 1–12": str(flows(bjn, 2024, "X") + flows(bjn, 2024, "M")),
    }
    assert all(i["url"].startswith("/analytics/?") and "region=110000" in i["url"] for i in growth["inputs"])
    assert "total trade 2025" in growth["formula"] and growth["scoring"]
    balance = {i["label"]: i for i in bj["balance_change"].explanation["inputs"]}
    assert balance["Balance at the monthly USD central parity, 2025"]["value"] == str(cny10k(
        flows(bjn, 2025, "X") - flows(bjn, 2025, "M")))
    assert "Rank 1 of 17" in bj["balance_change"].explanation["scoring"]
    tasks = {i["label"]: i["value"] for i in bj["tasks_on_time"].explanation["inputs"]}
    assert tasks["Of which completed by their due date"] == "3"
    adopted = {i["label"]: i["value"] for i in bj["experiences_adopted"].explanation["inputs"]}
    assert adopted == {"Experience cases of the area published by 31 December 2025": "1",
                       "Adoptions by other areas": "1"}
    for s in bj.values():
        e = s.explanation
        assert e["formula"] and e["inputs"] and e["scoring"] and e["method"] and "no_data" in e


def test_the_run_keeps_a_snapshot_and_is_audited(run2025, system):
    from tradepilot.core.models import AuditLog

    assert [i["code"] for i in run2025.config["indicators"]] == list(
        system.indicators.order_by("order").values_list("code", flat=True))
    system.indicators.filter(code="ki_share").update(name_zh="之后改名")
    run2025.refresh_from_db()
    assert next(i for i in run2025.config["indicators"] if i["code"] == "ki_share")["name_zh"] != "之后改名"
    assert AuditLog.objects.filter(action="evaluation:run", object_id=str(run2025.pk)).exists()
    assert run2025.results.count() == PilotArea.objects.filter(round=system.round).count()


def test_a_year_without_trade_says_no_data_and_never_crashes(system, built):
    run = evaluation.run_evaluation(system, 2019, built.ministry)
    bj = scores_of(run, BJ)
    for code in ("trade_growth", "export_growth", "balance_change", "ki_share", "reporting_coverage",
                 "reporting_timeliness", "tasks_on_time"):
        assert bj[code].value is None and bj[code].score == D(0), code
        assert bj[code].explanation["no_data"] and bj[code].explanation["note"].startswith("No data"), code
    assert bj["measures_implemented"].value == D("0.0")  # measures exist; none implemented by 2019
    assert all(r.total >= 0 for r in run.results.all())


def test_partial_previous_year_compares_the_months_both_have(system, built, settings):
    """With 2024 reduced to November and December in the store, growth compares those two months only."""
    from tradepilot.analytics import store
    from tradepilot.analytics.schema import LINES

    for month in range(1, 11):
        store.write_partition(LINES, 2024, month, [])
        for rollup in store.ROLLUPS:
            store.write_partition(rollup, 2024, month, [])
    run = evaluation.run_evaluation(system, 2025, built.ministry)
    growth = scores_of(run, BJ)["trade_growth"]
    bjn = ("bj_a", "bj_b")
    nov_dec = {y: sum((trade(n, y, m)[d][1] for n in bjn for m in (11, 12) if trade(n, y, m) for d in "XM"), D(0))
               for y in (2024, 2025)}
    assert growth.value == pct(nov_dec[2025] - nov_dec[2024], nov_dec[2024])
    assert "months 11–12" in growth.explanation["note"]


def test_the_evaluate_command_runs_the_default_system(system, built):
    from io import StringIO

    import pytest
    from django.core.management import CommandError, call_command

    from tradepilot.governance.models import EvaluationRun

    out = StringIO()
    call_command("governance", "evaluate", "--year", "2025", "--user", built.ministry.username, stdout=out)
    run = EvaluationRun.objects.get()
    assert run.year == 2025 and run.run_by == built.ministry
    first = run.results.order_by("rank").first()
    assert out.getvalue().splitlines()[0].split() == ["1", first.area.name_zh, str(first.total)]
    with pytest.raises(CommandError, match="--user"):
        call_command("governance", "evaluate", "--year", "2025", "--user", "nobody")
    with pytest.raises(CommandError, match="year"):
        call_command("governance", "evaluate", "--year", "1990", "--user", built.ministry.username)
    assert EvaluationRun.objects.count() == 1
