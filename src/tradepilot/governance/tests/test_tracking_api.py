"""The tracking API under /api/v1/governance: error shapes (4xx naming field and row), atomicity, scoping."""

import datetime as dt
import json

import pytest
from django.test import Client

from tradepilot.core.models import AuditLog
from tradepilot.core.tokens import issue_token
from tradepilot.governance.models import (
    Confirmation,
    Evidence,
    ProgressReport,
    SupervisionNotice,
    TaskStatus,
    WorkPlan,
)
from tradepilot.governance.tests.tracking_support import *  # noqa: F403
from tradepilot.governance.tests.tracking_support import (
    BEIJING,
    CUSTOMS_TASK,
    HANGZHOU,
    OTHER_TASK,
    area,
    area_task,
    pdf_bytes,
    task,
    upload,
)

pytestmark = pytest.mark.django_db
ROOT = "/api/v1/governance"


class Api:
    def __init__(self, user):
        self.headers = {"Authorization": f"Bearer {issue_token(user)}"}
        self.c = Client()

    def get(self, path, **params):
        return self.c.get(ROOT + path, params, headers=self.headers)

    def send(self, method, path, body=None):
        return getattr(self.c, method)(ROOT + path, json.dumps(body or {}), content_type="application/json",
                                       headers=self.headers)

    def post(self, path, body=None):
        return self.send("post", path, body)

    def put(self, path, body=None):
        return self.send("put", path, body)

    def multipart(self, path, data):
        return self.c.post(ROOT + path, data, headers=self.headers)


def progress_body(**kw):
    body = {"year": 2019, "quarter": 3, "status": "in_progress", "narrative": "推进通关便利化",
            "indicators": [{"name": "试点企业数", "value": "12", "unit": "家"}]}
    body.update(kw)
    return body


def assert_error_shape(response, status, *located):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "errors"} and body["detail"]
    got = {(e["field"], e["row"], e["code"]) for e in body["errors"]}
    for e in body["errors"]:
        assert set(e) == {"row", "field", "value", "code", "message"}
    assert got >= set(located), got
    return body


# --- work plans ----------------------------------------------------------------------------------------------

def test_work_plan_put_submit_review(world, programme):
    hz = area(HANGZHOU)
    plan_body = {"title": "杭州市实施方案", "document_no": "杭政〔2018〕1号", "summary": "要点",
                 "actions": [{"task_id": task("1.2").pk, "text": "建立联席会议", "deadline": "2019-03-31"},
                             {"task_id": "5.1", "text": "通关改革", "lead_unit": "杭州海关"}]}
    api = Api(world.bureau_hz)
    created = api.put(f"/areas/{hz.pk}/work-plan", plan_body)
    assert created.status_code == 201
    body = created.json()
    assert [a["task_code"] for a in body["actions"]] == ["1.2", "5.1"] and body["deadline"] == "2018-12-31"
    assert api.put(f"/areas/{hz.pk}/work-plan", plan_body).status_code == 200
    plan_id = body["id"]
    submitted = api.post(f"/work-plans/{plan_id}/submit").json()
    assert submitted["status"] == "submitted" and submitted["late"] is True
    assert_error_shape(api.put(f"/areas/{hz.pk}/work-plan", plan_body), 409, ("status", None, "not_editable"))
    ministry = Api(world.ministry)
    assert_error_shape(ministry.post(f"/work-plans/{plan_id}/review", {"decision": "return"}), 400,
                       ("note", None, "required"))
    assert ministry.post(f"/work-plans/{plan_id}/review", {"decision": "approve"}).json()["status"] == "approved"
    listed = ministry.get("/work-plans", status="approved").json()
    assert listed["count"] == 1 and listed["items"][0]["area_id"] == hz.pk
    assert_error_shape(ministry.get("/work-plans", status="bogus"), 400, ("status", None, "invalid_choice"))


def test_work_plan_errors_name_field_and_row(world, programme):
    hz = area(HANGZHOU)
    response = Api(world.bureau_hz).put(f"/areas/{hz.pk}/work-plan", {
        "title": "", "actions": [{"task_id": task("1.2").pk, "text": "a", "deadline": "2021-01-01"},
                                 {"task_id": "9.9", "text": "b"}]})
    assert_error_shape(response, 400, ("title", None, "required"), ("deadline", 1, "outside_round"),
                       ("task", 2, "unknown_task"))
    assert not WorkPlan.objects.exists()
    missing = Api(world.bureau_hz).put(f"/areas/{hz.pk}/work-plan", {"actions": []})
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "title"


@pytest.mark.parametrize(("who", "status"), [("bureau_zj", 403), ("ministry", 403), ("agency", 403),
                                             ("bureau_bj", 404), ("ent_hz", 403)])
def test_only_the_own_bureau_puts_the_plan(world, programme, who, status):
    response = Api(getattr(world, who)).put(f"/areas/{area(HANGZHOU).pk}/work-plan", {"title": "x", "actions": []})
    assert response.status_code == status
    assert not WorkPlan.objects.exists()


# --- area tasks, progress and evidence -----------------------------------------------------------------------

def test_area_task_list_filters_and_scope(world, programme):
    api = Api(world.ministry)
    everything = api.get("/area-tasks", limit=1000).json()
    assert everything["count"] == 647
    hz = api.get("/area-tasks", region=HANGZHOU, task_area="5").json()  # 5.1–5.6 but 5.5 (not the areas')
    assert hz["count"] == 5 and {i["region"] for i in hz["items"]} == {HANGZHOU}
    assert api.get("/area-tasks", task=CUSTOMS_TASK).json()["count"] == 17
    # The round ended in 2020: every unfinished task is overdue now.
    assert api.get("/area-tasks", overdue="true").json()["count"] == 647
    assert api.get("/area-tasks", overdue="false").json()["count"] == 0
    assert_error_shape(api.get("/area-tasks", status="done"), 400, ("status", None, "invalid_choice"))
    customs = Api(world.agency).get("/area-tasks", limit=1000).json()
    assert {i["task_code"] for i in customs["items"]} == {"2.1", "4.2", "5.1", "8.5", "7.3", "8.2", "8.3"}
    assert {i["region"] for i in Api(world.bureau_zj).get("/area-tasks", limit=1000).json()["items"]} == {HANGZHOU}
    assert Api(world.ent_hz).get("/area-tasks").status_code == 403


def test_progress_json_refile_and_conflict(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    api = Api(world.bureau_hz)
    created = api.post(f"/area-tasks/{t.pk}/progress", progress_body())
    assert created.status_code == 201
    report = created.json()
    assert report["label"] == "2019Q3" and report["indicators"][0]["value"] == "12"
    assert api.post(f"/area-tasks/{t.pk}/progress", progress_body(narrative="补充")).status_code == 200
    detail = api.get(f"/area-tasks/{t.pk}").json()
    assert detail["status"] == "in_progress" and detail["last_progress"] == "2019Q3"
    assert detail["progress"][0]["narrative"] == "补充"
    assert Api(world.agency).post(f"/progress/{report['id']}/confirmations",
                                  {"decision": "confirmed"}).status_code == 200
    assert_error_shape(api.post(f"/area-tasks/{t.pk}/progress", progress_body(narrative="再改")), 409,
                       ("quarter", None, "confirmed"))


def test_progress_errors_name_fields_and_rows(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    response = Api(world.bureau_hz).post(f"/area-tasks/{t.pk}/progress", progress_body(
        quarter=1, year=2018, status="blocked", narrative="", indicators=[{"name": "x", "value": "abc"}]))
    assert_error_shape(response, 400, ("quarter", None, "outside_round"), ("narrative", None, "required"),
                       ("status_note", None, "required"), ("indicators.value", 1, "invalid_number"))
    assert not ProgressReport.objects.exists()
    assert Api(world.bureau_hz).post(f"/area-tasks/{t.pk}/progress", {"year": 2019}).status_code == 422


def test_a_bad_file_in_a_multipart_progress_post_leaves_nothing_saved(world, programme, media):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    api = Api(world.bureau_hz)
    data = {"year": "2019", "quarter": "3", "status": "completed", "narrative": "完成",
            "indicators": json.dumps([{"name": "企业", "value": "3", "unit": "家"}]),
            "files": [upload("good.pdf", pdf_bytes("good")), upload("bad.docx", b"not a word file")]}
    response = api.multipart(f"/area-tasks/{t.pk}/progress/with-evidence", data)
    body = assert_error_shape(response, 400, ("files", 2, "file_content"))
    assert "bad.docx" in body["detail"]
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()
    assert not AuditLog.objects.exists() and not (media / "governance").exists()
    t.refresh_from_db()
    assert t.status == TaskStatus.NOT_STARTED and t.completed_on is None
    data["files"] = [upload("good.pdf", pdf_bytes("good"))]
    ok = api.multipart(f"/area-tasks/{t.pk}/progress/with-evidence", data)
    assert ok.status_code == 201 and ok.json()["evidence"][0]["name"] == "good.pdf"
    assert area_task(HANGZHOU, CUSTOMS_TASK).completed_on == dt.date(2019, 9, 30)
    bad_json = api.multipart(f"/area-tasks/{t.pk}/progress/with-evidence", {**data, "indicators": "[{"})
    assert_error_shape(bad_json, 400, ("indicators", None, "invalid_json"))


def test_evidence_upload_download_and_checks(world, programme, media):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    api = Api(world.bureau_hz)
    report_id = api.post(f"/area-tasks/{t.pk}/progress", progress_body()).json()["id"]
    added = api.multipart(f"/progress/{report_id}/evidence", {"files": [upload("a.pdf", pdf_bytes("a")),
                                                                        upload("b.txt", "说明".encode())]})
    assert added.status_code == 201
    a, b = added.json()
    assert len(a["sha256"]) == 64 and b["content_type"] == "text/plain"
    dup = api.multipart(f"/progress/{report_id}/evidence", {"files": [upload("again.pdf", pdf_bytes("a"))]})
    assert_error_shape(dup, 400, ("files", 1, "duplicate"))
    assert Evidence.objects.count() == 2
    download = Api(world.bureau_zj).get(f"/evidence/{b['id']}")
    assert download.status_code == 200 and download.content == "说明".encode()
    assert download["X-Checksum-SHA256"] == b["sha256"] and "attachment" in download["Content-Disposition"]
    assert Api(world.bureau_bj).get(f"/evidence/{b['id']}").status_code == 404
    assert Api(world.agency).get(f"/evidence/{b['id']}").status_code == 200  # customs co-owns 5.1
    ev = Evidence.objects.get(pk=b["id"])
    (media / ev.file.name).write_bytes(b"tampered")
    assert_error_shape(api.get(f"/evidence/{b['id']}"), 409)
    assert Api(world.bureau_zj).multipart(f"/progress/{report_id}/evidence",
                                          {"files": [upload("c.pdf", pdf_bytes("c"))]}).status_code == 403


def test_confirmations_by_co_owners_only(world, programme):
    hz = Api(world.bureau_hz)
    co_owned = hz.post(f"/area-tasks/{area_task(HANGZHOU, CUSTOMS_TASK).pk}/progress", progress_body()).json()["id"]
    other = hz.post(f"/area-tasks/{area_task(HANGZHOU, OTHER_TASK).pk}/progress", progress_body()).json()["id"]
    customs = Api(world.agency)
    assert_error_shape(customs.post(f"/progress/{co_owned}/confirmations", {"decision": "disputed"}), 400,
                       ("note", None, "required"))
    ok = customs.post(f"/progress/{co_owned}/confirmations", {"decision": "disputed", "note": "数据不符"})
    assert ok.status_code == 200 and ok.json()["agency"] == "GACC"
    assert customs.post(f"/progress/{other}/confirmations", {"decision": "confirmed"}).status_code == 404
    assert Api(world.ministry).post(f"/progress/{co_owned}/confirmations",
                                    {"decision": "confirmed"}).status_code == 403
    assert Confirmation.objects.count() == 1


# --- overdue and notices -------------------------------------------------------------------------------------

def test_overdue_and_notices(world, programme):
    ministry = Api(world.ministry)
    overdue = ministry.get("/overdue", kind="work_plan", limit=5).json()
    assert overdue["count"] == 17 and len(overdue["items"]) == 5 and overdue["items"][0]["kind"] == "work_plan"
    assert_error_shape(ministry.get("/overdue", kind="late"), 400, ("kind", None, "invalid_choice"))
    zj = Api(world.bureau_zj).get("/overdue", limit=500).json()
    assert zj["count"] > 0 and {i["region"] for i in zj["items"]} == {HANGZHOU}

    t = area_task(HANGZHOU, CUSTOMS_TASK)
    due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    assert Api(world.bureau_hz).post(f"/area-tasks/{t.pk}/notices", {"message": "x", "reply_due": due}
                                     ).status_code == 403
    assert_error_shape(ministry.post(f"/area-tasks/{t.pk}/notices", {"message": "", "reply_due": "2019-13-01"}),
                       400, ("message", None, "required"), ("reply_due", None, "invalid_date"))
    issued = ministry.post(f"/area-tasks/{t.pk}/notices", {"message": "请说明逾期原因", "reply_due": due})
    assert issued.status_code == 201
    nid = issued.json()["id"]
    assert Api(world.bureau_zj).post(f"/notices/{nid}/reply", {"reply": "x"}).status_code == 403
    assert Api(world.bureau_bj).post(f"/notices/{nid}/reply", {"reply": "x"}).status_code == 404
    replied = Api(world.bureau_hz).post(f"/notices/{nid}/reply", {"reply": "已整改完毕"})
    assert replied.json()["state"] == "replied"
    assert ministry.post(f"/notices/{nid}/close", {"note": "同意"}).json()["state"] == "closed"
    assert_error_shape(ministry.post(f"/notices/{nid}/close"), 409, ("state", None, "bad_state"))
    assert SupervisionNotice.objects.get().closed_by == world.ministry
    detail = Api(world.bureau_hz).get(f"/area-tasks/{t.pk}").json()
    assert [n["state"] for n in detail["notices"]] == ["closed"]


def test_objects_outside_the_scope_are_404(world, programme):
    bj_task = area_task(BEIJING, CUSTOMS_TASK)
    for path in (f"/area-tasks/{bj_task.pk}", f"/area-tasks/{area_task(BEIJING, OTHER_TASK).pk}"):
        assert Api(world.bureau_hz).get(path).status_code == 404
    assert Api(world.agency).get(f"/area-tasks/{area_task(BEIJING, OTHER_TASK).pk}").status_code == 404
    assert Api(world.agency).get(f"/area-tasks/{bj_task.pk}").status_code == 200
    assert Client().get(f"{ROOT}/area-tasks").status_code == 401
