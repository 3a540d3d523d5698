"""Annual forms through the API: basic registration, inward FATS, outward FATS — content checks, workflow, revision."""

from __future__ import annotations

import datetime as dt

import pytest

from tradepilot.core.models import AuditLog
from tradepilot.reporting.models import FatsInward
from tradepilot.reporting.tests.test_workflow_api import Api

FATS_IN = {
    "ultimate_parent_country": "DE", "activity": "65", "turnover": "52000.00", "services_sales": "30000",
    "services_sales_by_component": {"SI": "21000", "SJ": "9000"}, "employment": 420, "compensation": "8100.5",
    "value_added": "12500", "exports": "9800", "imports": "3100", "total_assets": "64000", "rd_expenditure": "2300",
}
AFFILIATE = {"name": "Cloudmap GmbH", "host_country": "DE", "activity": "65", "turnover": "3200", "employment": 35,
             "total_assets": "5100", "net_profit": "-120.50", "ownership_share": "100"}


@pytest.fixture(autouse=True)
def open_year(monkeypatch):
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 3, 1))


def open_annual(api, enterprise, form):
    r = api.post("/reports", {"enterprise_id": enterprise.id, "period": "2025", "form": form})
    assert r.status_code == 201, r.content
    return r.json()


@pytest.mark.django_db
def test_basic_registration_starts_from_the_registry_and_is_audited(world, rates):
    ent, bureau = Api(world.ent_bj), Api(world.bureau_bj)
    report = open_annual(ent, world.bj, "basic")
    assert report["content"]["name"] == world.bj.name  # pre-filled for confirmation
    assert ent.post(f"/reports/{report['id']}/submit").json()["errors"][0]["code"] == "empty"
    bad = ent.put(f"/reports/{report['id']}/basic", {"name": "", "registration_type": "foreign", "foreign_share": "30",
                                                      "employees": -1})
    assert bad.status_code == 400
    assert {(e["field"], e["code"]) for e in bad.json()["errors"]} == {
        ("name", "required"), ("foreign_share", "inconsistent"), ("employees", "negative")}
    good = ent.put(f"/reports/{report['id']}/basic", {"name": world.bj.name, "registration_type": "domestic",
                                                       "employees": 230, "industry": "65", "main_services": "软件开发"})
    assert good.status_code == 200 and good.json()["content"]["employees"] == 230
    assert ent.post(f"/reports/{report['id']}/submit").json()["status"] == "submitted"
    assert bureau.post(f"/reports/{report['id']}/approve").json()["status"] == "accepted"
    entry = AuditLog.objects.get(report_id=report["id"], action="update:basic")
    assert entry.changes["employees"] == [None, 230]


@pytest.mark.django_db
def test_inward_fats_checks_consistency_and_revises(world, rates):
    ent, bureau = Api(world.ent_bj), Api(world.bureau_bj)
    rid = open_annual(ent, world.bj, "fats_in")["id"]
    wrong = dict(FATS_IN, services_sales_by_component={"SI": "21000", "SJ": "8000", "SX": "1"},
                 ultimate_parent_country="CN", services_sales="60000")
    r = ent.put(f"/reports/{rid}/fats-inward", wrong)
    assert r.status_code == 400
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        ("services_sales_by_component.SX", "unknown_component"), ("ultimate_parent_country", "domestic_parent"),
        ("services_sales", "exceeds_turnover"), ("services_sales_by_component", "sum_mismatch")}
    assert not FatsInward.objects.filter(report_id=rid).exists()
    r = ent.put(f"/reports/{rid}/fats-inward", FATS_IN)
    assert r.status_code == 200, r.content
    assert r.json()["content"]["services_sales_by_component"] == {"SI": "21000.00", "SJ": "9000.00"}
    ent.post(f"/reports/{rid}/submit")
    bureau.post(f"/reports/{rid}/approve")
    v2 = ent.post(f"/reports/{rid}/revise", {"reason": "审计调整"}).json()
    assert v2["content"]["turnover"] == "52000.00"  # the revision starts from the accepted content
    r = ent.put(f"/reports/{v2['id']}/fats-inward", dict(FATS_IN, turnover="53000"))
    assert r.status_code == 200
    entry = AuditLog.objects.filter(report_id=v2["id"], action="update:fats_in").get()
    assert entry.changes == {"turnover": ["52000.00", "53000.00"]}
    assert ent.get(f"/reports/{rid}").json()["content"]["turnover"] == "52000.00"


@pytest.mark.django_db
def test_outward_fats_affiliates_and_nil_return(world, rates):
    ent = Api(world.ent_hz)
    rid = open_annual(ent, world.hz, "fats_out")["id"]
    r = ent.put(f"/reports/{rid}/fats-outward", {"affiliates": [AFFILIATE, dict(AFFILIATE, ownership_share="40",
                                                                                  host_country="CN")]})
    assert r.status_code == 400
    assert {(e["field"], e["code"]) for e in r.json()["errors"]} == {
        ("affiliates.2.ownership_share", "not_controlled"), ("affiliates.2.host_country", "domestic_host")}
    assert ent.put(f"/reports/{rid}/fats-outward", {"affiliates": [AFFILIATE]}).json()["content"]["affiliates"][0][
        "net_profit"] == "-120.50"
    assert ent.put(f"/reports/{rid}/fats-outward", {"affiliates": [], "nil_return": True}).status_code == 200
    assert ent.post(f"/reports/{rid}/submit").json()["status"] == "submitted"


@pytest.mark.django_db
def test_annual_content_endpoints_refuse_the_wrong_form_and_other_enterprises(world, rates):
    ent = Api(world.ent_bj)
    rid = open_annual(ent, world.bj, "basic")["id"]
    assert ent.put(f"/reports/{rid}/fats-inward", FATS_IN).status_code == 400
    assert Api(world.ent_bj2).put(f"/reports/{rid}/basic", {"name": "x", "registration_type": "domestic",
                                                             "employees": 1}).status_code == 404
    assert ent.post("/reports", {"enterprise_id": world.bj.id, "period": "2025-10", "form": "basic"}).status_code == 400
