"""Issue 4 in a real browser: 杭州's bureau files a quarterly progress report with an evidence file and sees it
listed with its checksum; the ministry opens the overdue list and issues a supervision notice (督办) on one of
杭州's tasks; the bureau finds the notice among its notifications and replies. Runs on the real programme."""

from __future__ import annotations

import hashlib

import pytest
from conftest import login

from tradepilot.governance.models import AreaTask, Evidence, ProgressReport, SupervisionNotice, TaskStatus
from tradepilot.governance.tests.conftest import programme  # noqa: F401  (fixture)
from tradepilot.governance.tests.tracking_support import pdf_bytes

pytestmark = pytest.mark.browser

TASK = "5.1"  # 深入改革通关监管制度和模式 (customs co-owns it)
EVIDENCE_NAME = "通关便利化进展报告.pdf"


@pytest.fixture
def media(settings, tmp_path):
    # The live server runs in this process: the setting reaches it.
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.mark.usefixtures("programme")
def test_bureau_files_progress_and_ministry_issues_a_notice(transactional_db, live_server, world, media, new_page,
                                                           shots):
    task = AreaTask.objects.select_related("area").get(area__region__code="330100", task__code=TASK)
    content = pdf_bytes("Hangzhou customs facilitation 2019Q3")
    digest = hashlib.sha256(content).hexdigest()

    # --- 杭州's bureau: its area's board, the task's filing form, a report with a PDF attached -------------------
    bureau = new_page()
    login(bureau, live_server, "bureau-hangzhou")
    bureau.goto(f"{live_server.url}/governance/")
    assert bureau.url.endswith(f"/governance/tracking/areas/{task.area_id}/")
    row = bureau.locator(f'tr[data-task="{TASK}"]')
    with bureau.expect_navigation():
        row.locator("a.file-progress").click()
    with bureau.expect_navigation():
        bureau.locator("#quarter-pick select[name=quarter]").select_option("2019Q3")
    form = bureau.locator("#progress-form")
    form.locator("#id_status").select_option(TaskStatus.IN_PROGRESS)
    form.locator("#id_narrative").fill("完成海关特殊监管区域内检测维修业务通关模式改革，首批12家企业适用。")
    form.locator("input[name=ind_name]").first.fill("适用企业")
    form.locator("input[name=ind_value]").first.fill("12")
    form.locator("input[name=ind_unit]").first.fill("家")
    form.locator("#id_files").set_input_files({"name": EVIDENCE_NAME, "mimeType": "application/pdf",
                                               "buffer": content})
    with bureau.expect_navigation():
        form.locator("#file-report").click()
    assert f"/governance/tracking/area-tasks/{task.pk}/" in bureau.url

    report = bureau.locator("#q-2019Q3")
    evidence_row = report.locator("tr.evidence-row")
    assert evidence_row.count() == 1
    assert EVIDENCE_NAME in evidence_row.inner_text()
    assert evidence_row.locator("code.sha256").inner_text().strip() == digest
    bureau.screenshot(path=str(shots / "governance-progress-filed.png"), full_page=True)
    stored = ProgressReport.objects.get(area_task=task, year=2019, quarter=3)
    assert stored.indicators == [{"name": "适用企业", "value": "12", "unit": "家"}]
    assert Evidence.objects.get(progress=stored).sha256 == digest
    assert AreaTask.objects.get(pk=task.pk).status == TaskStatus.IN_PROGRESS
    # The listed file downloads as stored.
    with bureau.expect_download() as download:
        evidence_row.locator("a").first.click()
    assert download.value.suggested_filename == EVIDENCE_NAME
    assert hashlib.sha256(open(download.value.path(), "rb").read()).hexdigest() == digest

    # --- the ministry: the overdue list, filtered to 杭州's tasks; a supervision notice on the task ---------------
    ministry = new_page()
    login(ministry, live_server, "ministry")
    ministry.goto(f"{live_server.url}/governance/tracking/overdue/")
    filters = ministry.locator("form.filters").first
    filters.locator("select[name=area]").select_option(str(task.area_id))
    filters.locator("select[name=kind]").select_option("task")
    with ministry.expect_navigation():
        filters.locator("button[type=submit]").click()
    overdue_row = ministry.locator("#overdue-table tr.kind-task", has=ministry.locator(f'td b:text-is("{TASK}")'))
    assert overdue_row.count() == 1
    with ministry.expect_navigation():
        overdue_row.locator("a.issue-notice").click()
    message = "你单位通关监管改革任务已超过完成时限，请于两周内书面报告进展和整改措施。"
    ministry.locator("#id_message").fill(message)
    with ministry.expect_navigation():
        ministry.locator("#issue").click()
    notice = SupervisionNotice.objects.get(area_task=task)
    assert ministry.url.endswith(f"/governance/tracking/notices/{notice.pk}/")
    assert ministry.locator("#notice-message").inner_text().strip() == message
    ministry.screenshot(path=str(shots / "governance-notice-issued.png"), full_page=True)

    # --- the bureau: the notification, the notice, a reply -------------------------------------------------------
    bureau.goto(f"{live_server.url}/notifications/")
    note = bureau.locator("ul.notes li.unread", has_text=TASK)
    assert note.count() == 1
    with bureau.expect_navigation():
        note.locator("a").click()
    assert bureau.url.endswith(f"/governance/tracking/notices/{notice.pk}/")
    assert bureau.locator("#notice-message").inner_text().strip() == message
    bureau.locator("#reply-form textarea[name=reply]").fill("已完成整改，相关制度已于本季度印发。")
    with bureau.expect_navigation():
        bureau.locator("#reply-form button[type=submit]").click()
    notice.refresh_from_db()
    assert notice.state == SupervisionNotice.State.REPLIED and notice.replied_by.username == "bureau-hangzhou"
    bureau.screenshot(path=str(shots / "governance-notice-replied.png"), full_page=True)
