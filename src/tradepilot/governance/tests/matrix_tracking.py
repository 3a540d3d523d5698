"""Permission-matrix rows for the governance tracking pages and API operations (merged into core's matrix).

Columns as in core/tests/test_permission_matrix.py:
anonymous, ministry, auditor, agency (GACC), bureau_bj, bureau_hz, bureau_zj, ent_bj, ent_bj2.

Targets are Beijing's: its pilot area, its work plan, and its area task of a task customs co-owns
(`ctx.gov.task_co_owned`, 5.1) with a progress report, evidence and a supervision notice; "[not co-owned]" rows
use Beijing × a task customs does not co-own (`ctx.gov.task_other`). The tracking pages are for the ministry,
auditors, departments and bureaus: enterprise users are refused (403) before any lookup; bureaus of other regions
get 404 for Beijing's rows; customs reads every area but, of task-bound rows, only those of tasks it co-owns.
Only Beijing's own bureau edits (plan, progress, evidence, replies); the ministry reviews plans and issues and
closes notices; only a co-owning department confirms progress. Everyone else who can read gets 403.
"""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tradepilot.core.tests.test_permission_matrix import D, M, O, Op, effect
from tradepilot.governance.models import Confirmation, Evidence, ProgressReport, SupervisionNotice, WorkPlan

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def _url(name: str, *args) -> str:
    return reverse(f"governance:{name}", args=args)


# --- states of Beijing's records (made by the acting roles' counterparts through the services) ---------------

def with_plan(c) -> None:
    from tradepilot.governance import workplans

    c.plan = workplans.save_plan(c.w.bureau_bj, c.gov.area_bj, title="北京市深化服务贸易创新发展试点工作方案",
                                 actions=[{"task_id": c.gov.task_co_owned.task_id, "text": "推进通关便利化"}])


def with_submitted_plan(c) -> None:
    from tradepilot.governance import workplans

    with_plan(c)
    c.plan = workplans.submit_plan(c.w.bureau_bj, c.plan)


def with_report(c) -> None:
    from tradepilot.governance import progress

    c.report, _ = progress.file_progress(c.w.bureau_bj, c.gov.task_co_owned, year=2019, quarter=1,
                                         status="in_progress", narrative="矩阵进展")


def with_evidence(c) -> None:
    from tradepilot.governance import progress

    with_report(c)
    (c.evidence,) = progress.add_evidence(c.w.bureau_bj, c.report, [pdf("matrix.pdf")])


def with_notice(c) -> None:
    from tradepilot.governance import notices

    c.notice = notices.issue(c.w.ministry, c.gov.task_co_owned, "请说明进展", dt.date.today() + dt.timedelta(days=30))


def pdf(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def progress_form() -> dict:
    return {"quarter": "2019Q2", "status": "in_progress", "narrative": "矩阵填报"}


def filed(c) -> bool:
    return ProgressReport.objects.filter(area_task=c.gov.task_co_owned, year=2019, quarter=2).exists()


def plan_status(*statuses):
    return lambda c: WorkPlan.objects.filter(area=c.gov.area_bj, status__in=statuses).exists()


def notice_state(state):
    return lambda c: SupervisionNotice.objects.filter(pk=c.notice.pk, state=state).exists()


def notice_issued(c) -> bool:
    return SupervisionNotice.objects.filter(area_task=c.gov.task_co_owned).exists()


def evidence_added(c) -> bool:
    return Evidence.objects.filter(progress=c.report, original_name="added.pdf").exists()


def confirmed(c) -> bool:
    return Confirmation.objects.filter(progress=c.report).exists()



WEB: dict = {
    #                                                   anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
    # the entry: bureaus and departments are redirected to their own page, the ministry sees the overview
    "GET governance:tracking_home":                     (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "GET governance:tracking_area":                     (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "GET governance:tracking_plan":                     (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "GET governance:tracking_plan_edit":                (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST governance:tracking_plan_edit":               (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST governance:tracking_plan_submit":             (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST governance:tracking_plan_review":             (D,  O,       D,      D,     D,     M,     M,     D,     D),
    # one task across the areas: each reader sees the areas of its scope; customs only tasks it co-owns
    "GET governance:tracking_task":                     (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "GET governance:tracking_task [not co-owned]":      (D,  O,       O,      M,     O,     O,     O,     D,     D),
    "GET governance:tracking_area_task":                (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "GET governance:tracking_area_task [not co-owned]": (D,  O,       O,      M,     O,     M,     M,     D,     D),
    "GET governance:tracking_progress":                 (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST governance:tracking_progress":                (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST governance:tracking_evidence_add":            (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "GET governance:tracking_evidence":                 (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "GET governance:tracking_evidence_delete":          (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST governance:tracking_evidence_delete":         (D,  D,       D,      D,     O,     M,     M,     D,     D),
    # only a department co-owning the task confirms
    "POST governance:tracking_confirm":                 (D,  D,       D,      O,     D,     M,     M,     D,     D),
    "GET governance:tracking_department":               (D,  O,       O,      O,     D,     D,     D,     D,     D),
    "GET governance:tracking_overdue":                  (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "POST governance:tracking_remind":                  (D,  O,       D,      D,     D,     D,     D,     D,     D),
    "GET governance:tracking_notices":                  (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "GET governance:tracking_notice_new":               (D,  O,       D,      D,     D,     M,     M,     D,     D),
    "POST governance:tracking_notice_new":              (D,  O,       D,      D,     D,     M,     M,     D,     D),
    "GET governance:tracking_notice":                   (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "POST governance:tracking_notice_reply":            (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST governance:tracking_notice_close":            (D,  O,       D,      D,     D,     M,     M,     D,     D),
}

WEB_OPS: dict = {
    "GET governance:tracking_home": Op(lambda c: c.web().get(_url("tracking_home"))),
    "GET governance:tracking_area": Op(lambda c: c.web().get(_url("tracking_area", c.gov.area_bj.pk))),
    "GET governance:tracking_plan": Op(lambda c: c.web().get(_url("tracking_plan", c.gov.area_bj.pk)),
                                       prepare=with_plan),
    "GET governance:tracking_plan_edit": Op(lambda c: c.web().get(_url("tracking_plan_edit", c.gov.area_bj.pk))),
    "POST governance:tracking_plan_edit": Op(
        lambda c: c.web().post(_url("tracking_plan_edit", c.gov.area_bj.pk), {
            "title": "矩阵方案", "action_task": [c.gov.task_co_owned.task_id], "action_text": ["矩阵行动"],
            "action_deadline": ["2019-06-30"], "action_lead_unit": [""], "action_target": [""]}),
        judge=effect(lambda c: WorkPlan.objects.filter(area=c.gov.area_bj, title="矩阵方案").exists())),
    "POST governance:tracking_plan_submit": Op(
        lambda c: c.web().post(_url("tracking_plan_submit", c.gov.area_bj.pk)), prepare=with_plan,
        judge=effect(plan_status("submitted"))),
    "POST governance:tracking_plan_review": Op(
        lambda c: c.web().post(_url("tracking_plan_review", c.gov.area_bj.pk), {"decision": "approve"}),
        prepare=with_submitted_plan, judge=effect(plan_status("approved"))),
    "GET governance:tracking_task": Op(lambda c: c.web().get(_url("tracking_task", c.gov.task_co_owned.task_id))),
    "GET governance:tracking_task [not co-owned]": Op(
        lambda c: c.web().get(_url("tracking_task", c.gov.task_other.task_id))),
    "GET governance:tracking_area_task": Op(lambda c: c.web().get(_url("tracking_area_task", c.gov.task_co_owned.pk)),
                                            prepare=with_evidence),
    "GET governance:tracking_area_task [not co-owned]": Op(
        lambda c: c.web().get(_url("tracking_area_task", c.gov.task_other.pk))),
    "GET governance:tracking_progress": Op(lambda c: c.web().get(_url("tracking_progress", c.gov.task_co_owned.pk))),
    "POST governance:tracking_progress": Op(
        lambda c: c.web().post(_url("tracking_progress", c.gov.task_co_owned.pk),
                               {**progress_form(), "files": [pdf("form.pdf")]}),
        judge=effect(filed)),
    "POST governance:tracking_evidence_add": Op(
        lambda c: c.web().post(_url("tracking_evidence_add", c.report.pk), {"files": [pdf("added.pdf")]}),
        prepare=with_report, judge=effect(evidence_added)),
    "GET governance:tracking_evidence": Op(lambda c: c.web().get(_url("tracking_evidence", c.evidence.pk)),
                                           prepare=with_evidence),
    "GET governance:tracking_evidence_delete": Op(
        lambda c: c.web().get(_url("tracking_evidence_delete", c.evidence.pk)), prepare=with_evidence),
    "POST governance:tracking_evidence_delete": Op(
        lambda c: c.web().post(_url("tracking_evidence_delete", c.evidence.pk)), prepare=with_evidence,
        judge=effect(lambda c: not Evidence.objects.filter(pk=c.evidence.pk).exists())),
    "POST governance:tracking_confirm": Op(
        lambda c: c.web().post(_url("tracking_confirm", c.report.pk), {"decision": "confirmed"}),
        prepare=with_report, judge=effect(confirmed)),
    "GET governance:tracking_department": Op(lambda c: c.web().get(_url("tracking_department")), prepare=with_report),
    "GET governance:tracking_overdue": Op(lambda c: c.web().get(_url("tracking_overdue"))),
    "POST governance:tracking_remind": Op(lambda c: c.web().post(_url("tracking_remind"), {"days": "14"})),
    "GET governance:tracking_notices": Op(lambda c: c.web().get(_url("tracking_notices")), prepare=with_notice),
    "GET governance:tracking_notice_new": Op(
        lambda c: c.web().get(_url("tracking_notice_new", c.gov.task_co_owned.pk))),
    "POST governance:tracking_notice_new": Op(
        lambda c: c.web().post(_url("tracking_notice_new", c.gov.task_co_owned.pk), {
            "message": "矩阵督办", "reply_due": (dt.date.today() + dt.timedelta(days=20)).isoformat()}),
        judge=effect(notice_issued)),
    "GET governance:tracking_notice": Op(lambda c: c.web().get(_url("tracking_notice", c.notice.pk)),
                                         prepare=with_notice),
    "POST governance:tracking_notice_reply": Op(
        lambda c: c.web().post(_url("tracking_notice_reply", c.notice.pk), {"reply": "矩阵答复"}),
        prepare=with_notice, judge=effect(notice_state("replied"))),
    "POST governance:tracking_notice_close": Op(
        lambda c: c.web().post(_url("tracking_notice_close", c.notice.pk)), prepare=with_notice,
        judge=effect(notice_state("closed"))),
}

API: dict = {
    #                                                          anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
    "GET /governance/work-plans":                              (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "GET /governance/work-plans/{plan_id}":                    (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "PUT /governance/areas/{area_id}/work-plan":               (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST /governance/work-plans/{plan_id}/submit":            (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST /governance/work-plans/{plan_id}/review":            (D,  O,       D,      D,     D,     M,     M,     D,     D),
    "GET /governance/area-tasks":                              (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "GET /governance/area-tasks/{area_task_id}":               (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "POST /governance/area-tasks/{area_task_id}/progress":     (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST /governance/area-tasks/{area_task_id}/progress/with-evidence": (D, D,  D,      D,     O,     M,     M,     D,     D),
    "POST /governance/progress/{progress_id}/evidence":        (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "GET /governance/evidence/{evidence_id}":                  (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "POST /governance/progress/{progress_id}/confirmations":   (D,  D,       D,      O,     D,     M,     M,     D,     D),
    "GET /governance/overdue":                                 (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "POST /governance/area-tasks/{area_task_id}/notices":      (D,  O,       D,      D,     D,     M,     M,     D,     D),
    "POST /governance/notices/{notice_id}/reply":              (D,  D,       D,      D,     O,     M,     M,     D,     D),
    "POST /governance/notices/{notice_id}/close":              (D,  O,       D,      D,     D,     M,     M,     D,     D),
}

PROGRESS_JSON = {"year": 2019, "quarter": 2, "status": "in_progress", "narrative": "矩阵填报"}

API_OPS: dict = {
    "GET /governance/work-plans": Op(lambda c: c.api("GET", "/governance/work-plans"), prepare=with_plan),
    "GET /governance/work-plans/{plan_id}": Op(lambda c: c.api("GET", f"/governance/work-plans/{c.plan.pk}"),
                                               prepare=with_plan),
    "PUT /governance/areas/{area_id}/work-plan": Op(
        lambda c: c.api("PUT", f"/governance/areas/{c.gov.area_bj.pk}/work-plan", {
            "title": "矩阵方案", "actions": [{"task_id": c.gov.task_co_owned.task_id, "text": "矩阵行动"}]})),
    "POST /governance/work-plans/{plan_id}/submit": Op(
        lambda c: c.api("POST", f"/governance/work-plans/{c.plan.pk}/submit"), prepare=with_plan),
    "POST /governance/work-plans/{plan_id}/review": Op(
        lambda c: c.api("POST", f"/governance/work-plans/{c.plan.pk}/review", {"decision": "approve"}),
        prepare=with_submitted_plan),
    "GET /governance/area-tasks": Op(lambda c: c.api("GET", "/governance/area-tasks")),
    "GET /governance/area-tasks/{area_task_id}": Op(
        lambda c: c.api("GET", f"/governance/area-tasks/{c.gov.task_co_owned.pk}"), prepare=with_evidence),
    "POST /governance/area-tasks/{area_task_id}/progress": Op(
        lambda c: c.api("POST", f"/governance/area-tasks/{c.gov.task_co_owned.pk}/progress", PROGRESS_JSON)),
    "POST /governance/area-tasks/{area_task_id}/progress/with-evidence": Op(
        lambda c: c.api("POST", f"/governance/area-tasks/{c.gov.task_co_owned.pk}/progress/with-evidence",
                        files={**{k: str(v) for k, v in PROGRESS_JSON.items()}, "files": [pdf("with.pdf")]})),
    "POST /governance/progress/{progress_id}/evidence": Op(
        lambda c: c.api("POST", f"/governance/progress/{c.report.pk}/evidence", files={"files": [pdf("added.pdf")]}),
        prepare=with_report),
    "GET /governance/evidence/{evidence_id}": Op(lambda c: c.api("GET", f"/governance/evidence/{c.evidence.pk}"),
                                                 prepare=with_evidence),
    "POST /governance/progress/{progress_id}/confirmations": Op(
        lambda c: c.api("POST", f"/governance/progress/{c.report.pk}/confirmations", {"decision": "confirmed"}),
        prepare=with_report),
    "GET /governance/overdue": Op(lambda c: c.api("GET", "/governance/overdue", {"limit": 5})),
    "POST /governance/area-tasks/{area_task_id}/notices": Op(
        lambda c: c.api("POST", f"/governance/area-tasks/{c.gov.task_co_owned.pk}/notices", {
            "message": "矩阵督办", "reply_due": (dt.date.today() + dt.timedelta(days=20)).isoformat()})),
    "POST /governance/notices/{notice_id}/reply": Op(
        lambda c: c.api("POST", f"/governance/notices/{c.notice.pk}/reply", {"reply": "矩阵答复"}),
        prepare=with_notice),
    "POST /governance/notices/{notice_id}/close": Op(
        lambda c: c.api("POST", f"/governance/notices/{c.notice.pk}/close", {"note": ""}), prepare=with_notice),
}
