"""Opening measures in the areas: validation of the implementation record and the effects, who may change them,
the audit trail, and the summaries the evaluation and early-warning parts read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from tradepilot.core.models import AuditLog
from tradepilot.core.scoping import get_area_scoped, scope_areas
from tradepilot.governance import measures
from tradepilot.governance.models import AreaMeasure, MeasureEffect, MeasureStatus
from tradepilot.governance.tests.measures_fixtures import (  # noqa: F401 - fixtures
    area,
    area_measure,
    loaded_programme,
    programme,
    reference,
)

pytestmark = pytest.mark.django_db

BASIS = "《国务院关于同意深化服务贸易创新发展试点的批复》（国函〔2018〕79号）附件2"


def fields_of(exc_info) -> dict[str, str]:
    return {e["field"]: e["code"] for e in exc_info.value.errors}


def audit_of(am: AreaMeasure):
    return AuditLog.objects.filter(object_type="governance.areameasure", object_id=str(am.pk)).order_by("pk")


# --- the implementation record -----------------------------------------------------------------------------------

def test_an_implemented_measure_needs_its_date_and_legal_basis(world):
    am = area_measure("330100", "M1")
    with pytest.raises(measures.MeasureError) as exc:
        measures.update_implementation(world.bureau_hz, am, {"status": "implemented"})
    assert fields_of(exc) == {"implemented_on": "required", "legal_basis": "required"}
    am.refresh_from_db()
    assert am.status == MeasureStatus.NOT_STARTED and not audit_of(am).exists()


@pytest.mark.parametrize(("day", "code"), [
    ("2018-06-30", "before_round"),  # the round began on 2018-07-01
    ("not-a-date", "invalid_date"),
    ("future", "future"),
])
def test_the_implementation_date_lies_between_the_start_of_the_round_and_today(world, day, code):
    if day == "future":
        day = (measures.today() + dt.timedelta(days=1)).isoformat()
    am = area_measure("330100", "M1")
    with pytest.raises(measures.MeasureError) as exc:
        measures.update_implementation(world.bureau_hz, am, {"status": "implemented", "implemented_on": day,
                                                             "legal_basis": BASIS})
    assert fields_of(exc) == {"implemented_on": code}


def test_implementing_is_audited_old_to_new(world):
    am = area_measure("330100", "M1")
    measures.update_implementation(world.bureau_hz, am, {
        "status": "implemented", "implemented_on": "2018-07-01", "legal_basis": BASIS,
        "enabling_document": "《杭州市深化服务贸易创新发展试点实施方案》"}, reason="方案印发")
    am.refresh_from_db()
    assert (am.status, am.implemented_on) == (MeasureStatus.IMPLEMENTED, dt.date(2018, 7, 1))
    (entry,) = audit_of(am)
    assert entry.actor == world.bureau_hz and entry.action == "measure:update" and entry.reason == "方案印发"
    assert entry.changes == {
        "status": ["not_started", "implemented"], "implemented_on": [None, "2018-07-01"],
        "legal_basis": ["", BASIS], "enabling_document": ["", "《杭州市深化服务贸易创新发展试点实施方案》"]}
    # the same input again changes nothing and records nothing
    measures.update_implementation(world.bureau_hz, am, {"status": "implemented", "implemented_on": "2018-07-01"})
    assert audit_of(am).count() == 1


def test_leaving_implemented_drops_the_date_but_a_date_for_another_status_is_refused(world):
    am = area_measure("330100", "M2")
    measures.update_implementation(world.bureau_hz, am, {"status": "implemented", "implemented_on": "2019-03-01",
                                                         "legal_basis": BASIS})
    with pytest.raises(measures.MeasureError) as exc:
        measures.update_implementation(world.bureau_hz, am, {"status": "in_progress", "implemented_on": "2019-03-01"})
    assert fields_of(exc) == {"implemented_on": "not_implemented"}
    measures.update_implementation(world.bureau_hz, am, {"status": "in_progress"})
    am.refresh_from_db()
    assert (am.status, am.implemented_on) == (MeasureStatus.IN_PROGRESS, None)
    assert audit_of(am).last().changes == {"status": ["implemented", "in_progress"],
                                           "implemented_on": ["2019-03-01", None]}


def test_unknown_status_and_overlong_text_name_their_fields(world):
    am = area_measure("330100", "M1")
    with pytest.raises(measures.MeasureError) as exc:
        measures.update_implementation(world.bureau_hz, am, {"status": "done", "enabling_document": "《" * 301})
    assert fields_of(exc) == {"status": "invalid_status", "enabling_document": "too_long"}


# --- who may change it -------------------------------------------------------------------------------------------

def test_zhejiang_reads_hangzhou_but_only_hangzhou_edits_and_beijing_does_not_even_see_it(world):
    am = area_measure("330100", "M1")
    qs = AreaMeasure.objects.all()
    assert get_area_scoped(world.bureau_zj, qs, pk=am.pk) == am
    assert not measures.can_edit(world.bureau_zj, am)
    with pytest.raises(PermissionDenied):
        measures.update_implementation(world.bureau_zj, am, {"status": "in_progress"})
    with pytest.raises(Http404):
        get_area_scoped(world.bureau_bj, qs, pk=am.pk)
    for user in (world.ministry, world.auditor, world.agency):
        assert get_area_scoped(user, qs, pk=am.pk) == am
        with pytest.raises(PermissionDenied):
            measures.put_effect(user, am, year=2019, quarter=1, indicator="enterprises", value=1)
    assert measures.can_edit(world.bureau_hz, am)
    assert set(scope_areas(world.bureau_zj, qs).values_list("area__region__code", flat=True)) == {"330100"}


# --- effects -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("year", "quarter", "indicator", "value", "errors"), [
    (2018, 2, "enterprises", "3", {"quarter": "outside_round"}),  # the round began in 2018Q3
    (2020, 3, "enterprises", "3", {"quarter": "outside_round"}),  # and ended in 2020Q2
    (2019, 5, "enterprises", "3", {"quarter": "invalid_quarter"}),
    ("19", 1, "enterprises", "3", {"year": "invalid_year"}),
    (2019, 1, "visitors", "3", {"indicator": "invalid_indicator"}),
    (2019, 1, "amount", "-0.01", {"value": "negative"}),
    (2019, 1, "amount", "1.234", {"value": "too_many_decimals"}),
    (2019, 1, "amount", "12,5x", {"value": "invalid_number"}),
    (2019, 1, "enterprises", "2.5", {"value": "not_whole"}),
    (2019, 1, "amount", "", {"value": "required"}),
])
def test_bad_effects_are_refused_naming_the_field(world, year, quarter, indicator, value, errors):
    am = area_measure("330100", "M1")
    with pytest.raises(measures.MeasureError) as exc:
        measures.put_effect(world.bureau_hz, am, year=year, quarter=quarter, indicator=indicator, value=value)
    assert fields_of(exc) == errors
    assert not MeasureEffect.objects.filter(area_measure=am).exists()


def test_a_not_applicable_measure_has_no_effects(world):
    am = area_measure("330100", "M4")
    measures.update_implementation(world.bureau_hz, am, {"status": "not_applicable"})
    with pytest.raises(measures.MeasureError) as exc:
        measures.put_effect(world.bureau_hz, am, year=2019, quarter=1, indicator="enterprises", value=3)
    assert fields_of(exc) == {"measure": "not_applicable"}


def test_effects_are_added_replaced_and_deleted_with_an_audit_entry_each(world):
    am = area_measure("330100", "M1")
    effect, outcome = measures.put_effect(world.bureau_hz, am, year=2019, quarter="Q1", indicator="amount",
                                          value="1250.50")
    assert outcome == "created" and effect.value == Decimal("1250.50")
    _, outcome = measures.put_effect(world.bureau_hz, am, year=2019, quarter=1, indicator="amount", value=1300)
    assert outcome == "updated"
    _, outcome = measures.put_effect(world.bureau_hz, am, year=2019, quarter=1, indicator="amount", value="1300.00")
    assert outcome == "unchanged"
    effect.refresh_from_db()
    measures.delete_effect(world.bureau_hz, effect, reason="重复填报")
    assert not MeasureEffect.objects.filter(area_measure=am).exists()
    assert [(e.action, e.changes, e.reason) for e in audit_of(am)] == [
        ("measure_effect:create", {"2019Q1 amount": [None, "1250.50"]}, ""),
        ("measure_effect:update", {"2019Q1 amount": ["1250.50", "1300.00"]}, ""),
        ("measure_effect:delete", {"2019Q1 amount": ["1300.00", None]}, "重复填报"),
    ]


def test_effects_by_quarter_sum_each_indicator():
    rows = [MeasureEffect(year=2019, quarter=2, indicator="amount", value=Decimal("1.50")),
            MeasureEffect(year=2019, quarter=1, indicator="amount", value=Decimal("2.25")),
            MeasureEffect(year=2019, quarter=2, indicator="amount", value=Decimal("1.00")),
            MeasureEffect(year=2019, quarter=2, indicator="enterprises", value=Decimal("4"))]
    labels, series = measures.effects_by_quarter(rows)
    assert labels == ["2019Q1", "2019Q2"]
    assert series == {"enterprises": [Decimal(0), Decimal(4)], "transactions": [Decimal(0), Decimal(0)],
                      "amount": [Decimal("2.25"), Decimal("2.50")]}


# --- summaries ---------------------------------------------------------------------------------------------------

def implement(am: AreaMeasure, day: str) -> None:
    AreaMeasure.objects.filter(pk=am.pk).update(status=MeasureStatus.IMPLEMENTED,
                                                implemented_on=dt.date.fromisoformat(day), legal_basis=BASIS)


def test_implementation_summary_counts_by_the_end_of_the_year_without_not_applicable(world):
    hz = area("330100")
    implement(area_measure("330100", "M1"), "2018-09-01")
    implement(area_measure("330100", "M6"), "2019-05-01")
    implement(area_measure("330100", "M7"), "2020-02-01")
    AreaMeasure.objects.filter(pk=area_measure("330100", "M4").pk).update(status=MeasureStatus.NOT_APPLICABLE)
    AreaMeasure.objects.filter(pk=area_measure("330100", "M2").pk).update(status=MeasureStatus.IN_PROGRESS)
    rnd = hz.round
    total = AreaMeasure.objects.filter(area=hz).count()
    applicable = total - 1

    by_2018 = measures.implementation_summary(rnd, 2018)
    assert by_2018[hz.pk] == {"implemented": 1, "applicable": applicable,
                              "share": (Decimal(1) / applicable).quantize(Decimal("0.0001"))}
    assert measures.implementation_summary(rnd, 2019)[hz.pk]["implemented"] == 2
    overall = measures.implementation_summary(rnd)
    assert overall[hz.pk]["implemented"] == 3
    assert overall[hz.pk]["share"] == Decimal("0.4286")  # 3 of 7, rounded half up
    assert isinstance(overall[hz.pk]["share"], Decimal)
    # every area of the round is there; one with nothing implemented has a zero share
    assert len(overall) == 17
    assert overall[area("110000").pk] == {"implemented": 0, "applicable": total, "share": Decimal("0.0000")}


def test_implemented_measures_by_component_give_the_earliest_date(world):
    hz = area("330100")
    implement(area_measure("330100", "M7"), "2019-08-01")  # SJ
    implement(area_measure("330100", "M6"), "2019-05-01")  # SJ, earlier
    implement(area_measure("330100", "M1"), "2018-09-01")  # SG
    AreaMeasure.objects.filter(pk=area_measure("330100", "M2").pk).update(status=MeasureStatus.IN_PROGRESS)
    assert measures.implemented_measures_by_component(hz) == {"SG": dt.date(2018, 9, 1), "SJ": dt.date(2019, 5, 1)}
    assert measures.implemented_measures_by_component(area("110000")) == {}


def test_round_quarters_cover_the_pilot_period():
    from tradepilot.core.models import PilotRound

    rnd = PilotRound.objects.get(code="2018")
    quarters = measures.round_quarters(rnd)
    assert quarters[0] == (2018, 3) and quarters[-1] == (2020, 2) and len(quarters) == 8
    assert measures.round_quarters(rnd, until=dt.date(2019, 1, 1))[-1] == (2019, 1)
