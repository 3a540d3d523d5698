"""The monthly report's life through the API: draft → submit → approve → accept → revision, with its audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client

from tradepilot.core.models import AuditLog
from tradepilot.core.tokens import issue_token
from tradepilot.reporting.models import LockException, Report, ReportForm


class Api:
    def __init__(self, user):
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {issue_token(user)}"}

    def get(self, path, **params):
        return self.client.get(f"/api/v1{path}", params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(f"/api/v1{path}", data or {}, content_type="application/json", headers=self.headers)

    def put(self, path, data):
        return self.client.put(f"/api/v1{path}", data, content_type="application/json", headers=self.headers)


LINES = [
    {"direction": "X", "service": "SI2", "partner": "US", "mode": "1", "amount": "120000.50", "currency": "USD"},
    {"direction": "X", "service": "SJ2", "partner": "HK", "mode": "1", "amount": "80000", "currency": "CNY",
     "related_party": True},
    {"direction": "M", "service": "SH2", "partner": "DE", "mode": "1", "amount": "10000", "currency": "EUR"},
]


@pytest.fixture
def period():
    return "2026-10"


@pytest.fixture(autouse=True)
def open_periods(settings, monkeypatch):
    # Keep the test independent of today's date: the period stays open.
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 10, 25))


def open_report(api, enterprise, period) -> dict:
    r = api.post("/reports", {"enterprise_id": enterprise.id, "period": period})
    assert r.status_code == 201, r.content
    return r.json()


@pytest.mark.django_db
def test_full_life_of_a_two_level_report(world, rates, period):
    ent, city, province = Api(world.ent_hz), Api(world.bureau_hz), Api(world.bureau_zj)
    report = open_report(ent, world.hz, period)
    rid = report["id"]
    r = ent.put(f"/reports/{rid}/lines", {"lines": LINES})
    assert r.status_code == 200, r.content
    body = r.json()
    assert [line["usd_amount"] for line in body["lines"]] == ["120000.50", "11267.61", "10845.07"]
    assert Decimal(body["exports_usd"]) == Decimal("131268.11")

    assert ent.post(f"/reports/{rid}/submit").json()["status"] == "submitted"
    # The provincial bureau cannot approve what the city bureau approves.
    r = province.post(f"/reports/{rid}/approve")
    assert r.status_code == 403
    r = city.post(f"/reports/{rid}/approve")
    assert r.status_code == 200 and r.json()["status"] == "approved"
    r = province.post(f"/reports/{rid}/accept")
    assert r.status_code == 200 and r.json()["status"] == "accepted"

    # Revision: a new version with a reason; the accepted one stays readable.
    assert ent.post(f"/reports/{rid}/revise", {"reason": ""}).status_code == 400
    r = ent.post(f"/reports/{rid}/revise", {"reason": "客户退款，更正金额"})
    assert r.status_code == 201
    v2 = r.json()
    assert v2["version"] == 2 and v2["status"] == "draft" and v2["previous_id"] == rid
    changed = [dict(LINES[0], amount="100000.00")] + LINES[1:]
    assert ent.put(f"/reports/{v2['id']}/lines", {"lines": changed, "reason": "更正"}).status_code == 200
    diff = city.get(f"/reports/{v2['id']}/changes").json()
    assert diff == [{"direction": "Export", "service": "SI2", "partner": "US", "mode": "1", "related_party": False,
                     "currency": "USD", "old": "120000.50", "new": "100000.00", "change": "changed"}] or \
        diff[0]["old"] == "120000.50"
    old = ent.get(f"/reports/{rid}").json()
    assert old["status"] == "superseded" and old["is_current"] is False and len(old["lines"]) == 3

    hist = city.get(f"/reports/{v2['id']}/history").json()
    assert [v["version"] for v in hist["versions"]] == [1, 2]
    actions = [a["action"] for a in hist["audit"]]
    assert actions == ["create", "update_lines:api", "submit", "approve", "accept", "supersede", "revise",
                       "update_lines:api"]
    update = hist["audit"][-1]
    assert update["changes"]["line 1"][0].endswith("120000.50 USD")
    assert update["changes"]["line 1"][1].endswith("100000.00 USD")
    assert hist["audit"][-1]["actor"] == "enterprise-hz"


@pytest.mark.django_db
def test_single_level_approval_is_final_and_returns_need_reason(world, rates, period):
    ent, bureau = Api(world.ent_bj), Api(world.bureau_bj)
    rid = open_report(ent, world.bj, period)["id"]
    ent.put(f"/reports/{rid}/lines", {"lines": LINES})
    ent.post(f"/reports/{rid}/submit")
    r = bureau.post(f"/reports/{rid}/return", {"reason": " "})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "reason"
    assert bureau.post(f"/reports/{rid}/return", {"reason": "请核对SJ2金额"}).json()["status"] == "returned"
    assert ent.post(f"/reports/{rid}/submit").json()["status"] == "submitted"
    assert bureau.post(f"/reports/{rid}/approve").json()["status"] == "accepted"


@pytest.mark.django_db
def test_bad_lines_are_rejected_with_located_errors_and_nothing_saved(world, rates, period):
    ent = Api(world.ent_bj)
    rid = open_report(ent, world.bj, period)["id"]
    bad = [
        LINES[0],
        {"direction": "Q", "service": "SI", "partner": "XX", "mode": "3", "amount": "-5", "currency": "ABC"},
        {"direction": "X", "service": "SI2", "partner": "US", "mode": "1", "amount": "1.234", "currency": "USD"},
    ]
    r = ent.put(f"/reports/{rid}/lines", {"lines": bad})
    assert r.status_code == 400
    errors = {(e["row"], e["field"], e["code"]) for e in r.json()["errors"]}
    assert errors == {
        (2, "direction", "invalid_direction"), (2, "service", "not_leaf"), (2, "partner", "unknown_country"),
        (2, "mode", "mode_not_in_report"), (2, "amount", "invalid_amount"), (2, "currency", "unknown_currency"),
        (3, "amount", "invalid_amount"),
    }
    assert Report.objects.get(pk=rid).lines.count() == 0
    # Schema errors name the field path too.
    r = ent.put(f"/reports/{rid}/lines", {"lines": [{"direction": "X"}]})
    assert r.status_code == 422
    assert "lines.0.service" in {e["field"] for e in r.json()["errors"]}


@pytest.mark.django_db
def test_missing_rate_blocks_submission_with_reason(world, rates, period):
    ent = Api(world.ent_bj)
    rid = open_report(ent, world.bj, period)["id"]
    ent.put(f"/reports/{rid}/lines", {"lines": [dict(LINES[0], currency="CHF")]})
    r = ent.post(f"/reports/{rid}/submit")
    assert r.status_code == 400
    err = r.json()["errors"][0]
    assert err["code"] == "missing_rate" and err["value"] == "CHF" and "2026-10" in err["message"]
    assert Report.objects.get(pk=rid).status == "draft"


@pytest.mark.django_db
def test_nil_return_is_a_valid_submission(world, rates, period):
    ent = Api(world.ent_bj)
    rid = open_report(ent, world.bj, period)["id"]
    assert ent.post(f"/reports/{rid}/submit").status_code == 400  # neither lines nor nil
    ent.put(f"/reports/{rid}/lines", {"lines": [], "nil_return": True})
    assert ent.post(f"/reports/{rid}/submit").json()["status"] == "submitted"


@pytest.mark.django_db
def test_enterprise_cannot_see_another_enterprises_report(world, rates, period):
    rid = open_report(Api(world.ent_bj), world.bj, period)["id"]
    other = Api(world.ent_bj2)
    assert other.get(f"/reports/{rid}").status_code == 404
    assert other.put(f"/reports/{rid}/lines", {"lines": LINES}).status_code == 404
    assert other.post(f"/reports/{rid}/submit").status_code == 404
    assert other.post("/reports", {"enterprise_id": world.bj.id, "period": period}).status_code == 404
    assert Api(world.bureau_hz).get(f"/reports/{rid}").status_code == 404
    assert Api(world.ministry).get(f"/reports/{rid}").status_code == 200


@pytest.mark.django_db
def test_warnings_need_explanations_and_errors_block(world, rates, period, monkeypatch):
    ent, bureau = Api(world.ent_bj), Api(world.bureau_bj)
    last_month = "2026-09"
    rid = open_report(ent, world.bj, last_month)["id"]
    ent.put(f"/reports/{rid}/lines", {"lines": [dict(LINES[0], amount="1000")]})
    ent.post(f"/reports/{rid}/submit")
    bureau.post(f"/reports/{rid}/approve")
    rid = open_report(ent, world.bj, period)["id"]
    ent.put(f"/reports/{rid}/lines", {"lines": [dict(LINES[0], amount="9000000")]})
    result = ent.post(f"/reports/{rid}/validate").json()
    assert [w["rule"] for w in result["warnings"]] == ["M-MOM-X"] and result["ok"] is False
    assert result["warnings"][0]["lines"] == []
    r = ent.post(f"/reports/{rid}/submit")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "explanations.M-MOM-X"
    ent.post(f"/reports/{rid}/explanations", {"explanations": {"M-MOM-X": "新签大额软件外包合同"}})
    assert ent.post(f"/reports/{rid}/submit").json()["status"] == "submitted"

    # An error-level rule (SL is government-only) blocks even with an explanation, and points at the line.
    rid2 = open_report(Api(world.ent_bj2), world.bj2, period)["id"]
    e2 = Api(world.ent_bj2)
    e2.put(f"/reports/{rid2}/lines", {"lines": [LINES[0], dict(LINES[0], service="SL")]})
    result = e2.post(f"/reports/{rid2}/validate").json()
    assert result["errors"][0]["rule"] == "M-SL-01" and result["errors"][0]["lines"] == [2]
    assert e2.post(f"/reports/{rid2}/submit").status_code == 400


@pytest.mark.django_db
def test_locked_period_needs_an_exception(world, rates, monkeypatch):
    ent, bureau = Api(world.ent_bj), Api(world.bureau_bj)
    rid = open_report(ent, world.bj, "2026-08")["id"]  # due 2026-09-10, locks 2026-09-30
    r = ent.put(f"/reports/{rid}/lines", {"lines": LINES})
    assert r.status_code == 409 and r.json()["code"] == "locked"
    r = bureau.post("/lock-exceptions", {"enterprise_id": world.bj.id, "period": "2026-08", "until": "2026-11-30",
                                         "reason": "系统故障补报"})
    assert r.status_code == 201
    assert ent.put(f"/reports/{rid}/lines", {"lines": LINES}).status_code == 200
    assert LockException.objects.count() == 1
    # A bureau of another region cannot grant one for this enterprise.
    assert Api(world.bureau_hz).post("/lock-exceptions", {"enterprise_id": world.bj.id, "period": "2026-08",
                                                          "until": "2026-11-30", "reason": "x"}).status_code == 404


@pytest.mark.django_db
def test_bulk_approve_reports_each_result(world, rates, period):
    bureau = Api(world.bureau_bj)
    ids = []
    for user, ent in ((world.ent_bj, world.bj), (world.ent_bj2, world.bj2)):
        api = Api(user)
        rid = open_report(api, ent, period)["id"]
        api.put(f"/reports/{rid}/lines", {"lines": LINES})
        ids.append(rid)
    Api(world.ent_bj).post(f"/reports/{ids[0]}/submit")
    results = bureau.post("/reports/bulk-approve", {"report_ids": ids + [999999]}).json()
    assert [(r["report_id"], r["ok"]) for r in results] == [(ids[0], True), (ids[1], False), (999999, False)]


@pytest.mark.django_db
def test_audit_log_is_append_only(world, rates, period):
    open_report(Api(world.ent_bj), world.bj, period)
    entry = AuditLog.objects.first()
    entry.reason = "tampered"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AuditLog.objects.all().delete()
    assert ReportForm.objects.filter(code="monthly").exists()


@pytest.mark.django_db(transaction=True)
def test_the_next_actor_is_notified(world, rates, period):
    from tradepilot.core.models import Notification

    ent, city, province = Api(world.ent_hz), Api(world.bureau_hz), Api(world.bureau_zj)
    rid = open_report(ent, world.hz, period)["id"]
    ent.put(f"/reports/{rid}/lines", {"lines": LINES})
    ent.post(f"/reports/{rid}/submit")
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["bureau-hangzhou"]
    city.post(f"/reports/{rid}/approve")
    assert Notification.objects.filter(user=world.bureau_zj, url=f"/reporting/reports/{rid}/").exists()
    province.post(f"/reports/{rid}/return", {"reason": "金额有误"})
    note = Notification.objects.get(user=world.ent_hz)
    assert "金额有误" in note.title
    assert not Notification.objects.filter(user__in=[world.bureau_bj, world.ent_bj]).exists()
