"""The tracking pages: entry per role, scoping (Zhejiang reads Hangzhou but does not edit; customs sees only its
co-owned tasks; enterprises are refused), progress filing with files, the evidence delete confirm step, the
overdue list with its exports, the work-plan pages and the notice pages."""

import csv
import datetime as dt
import io
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tradepilot.core.models import Notification
from tradepilot.governance import notices, progress, workplans
from tradepilot.governance.models import (
    Confirmation,
    Evidence,
    ProgressReport,
    ReviewStatus,
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

def shown(text: str, **kwargs) -> str:
    """`text` as the default (Chinese-first) interface shows it."""
    with translation.override(settings.LANGUAGE_CODE):
        message = translation.gettext(text)
    return message % kwargs if kwargs else message



def client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def filed(world, t=None, **kw):
    t = t or area_task(HANGZHOU, CUSTOMS_TASK)
    values = {"year": 2019, "quarter": 3, "status": TaskStatus.IN_PROGRESS, "narrative": "进展顺利"}
    values.update(kw)
    return progress.file_progress(world.bureau_hz, t, on=dt.date(2020, 12, 1), **values)[0]


# --- entry and scoping ---------------------------------------------------------------------------------------

def test_home_sends_each_role_to_its_entry(world, programme):
    home = reverse("governance:tracking_home")
    assert client(world.bureau_hz).get(home).url == reverse("governance:tracking_area", args=[area(HANGZHOU).pk])
    assert client(world.bureau_zj).get(home).url == reverse("governance:tracking_area", args=[area(HANGZHOU).pk])
    assert client(world.agency).get(home).url == reverse("governance:tracking_department")
    page = client(world.ministry).get(home)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('href="/governance/tracking/areas/') >= 34  # 17 areas × (board, work plan)
    assert 'id="tracking-chart"' in html
    assert client(world.ent_hz).get(home).status_code == 403
    assert Client().get(home).status_code == 302


def test_zhejiang_reads_hangzhou_but_cannot_file(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    zj = client(world.bureau_zj)
    board = zj.get(reverse("governance:tracking_area", args=[t.area_id]))
    assert board.status_code == 200 and "file-progress" not in board.content.decode()
    assert zj.get(reverse("governance:tracking_area_task", args=[t.pk])).status_code == 200
    assert zj.get(reverse("governance:tracking_progress", args=[t.pk])).status_code == 403
    assert zj.post(reverse("governance:tracking_progress", args=[t.pk]), {
        "quarter": "2019Q3", "status": "in_progress", "narrative": "x"}).status_code == 403
    assert zj.get(reverse("governance:tracking_area", args=[area(BEIJING).pk])).status_code == 404
    assert not ProgressReport.objects.exists()


def test_customs_sees_only_the_tasks_it_co_owns(world, programme):
    customs = client(world.agency)
    html = customs.get(reverse("governance:tracking_area", args=[area(HANGZHOU).pk])).content.decode()
    shown = set(re.findall(r'data-task="([\d.]+)"', html))
    assert shown == {"2.1", "4.2", "5.1", "8.5", "7.3", "8.2", "8.3"}
    assert customs.get(reverse("governance:tracking_area_task",
                               args=[area_task(HANGZHOU, OTHER_TASK).pk])).status_code == 404
    assert customs.get(reverse("governance:tracking_task", args=[task(OTHER_TASK).pk])).status_code == 404
    page = customs.get(reverse("governance:tracking_task", args=[task(CUSTOMS_TASK).pk]))
    assert page.status_code == 200 and page.content.decode().count("/governance/tracking/area-tasks/") == 17


@pytest.mark.parametrize("name,args", [("tracking_home", []), ("tracking_overdue", []), ("tracking_notices", []),
                                       ("tracking_department", [])])
def test_enterprises_are_refused(world, programme, name, args):
    assert client(world.ent_hz).get(reverse(f"governance:{name}", args=args)).status_code == 403


def test_department_view_lists_what_awaits_confirmation(world, programme):
    report = filed(world)
    filed(world, area_task(HANGZHOU, OTHER_TASK))
    page = client(world.agency).get(reverse("governance:tracking_department"))
    html = page.content.decode()
    assert page.status_code == 200 and "海关总署" in html
    assert html.count(reverse("governance:tracking_confirm", args=[report.pk])) == 1
    assert reverse("governance:tracking_confirm", args=[report.pk + 1]) not in html
    response = client(world.agency).post(reverse("governance:tracking_confirm", args=[report.pk]), {
        "decision": "confirmed", "next": reverse("governance:tracking_department")})
    assert response.status_code == 302 and response.url == reverse("governance:tracking_department")
    assert Confirmation.objects.get().agency.code == "GACC"
    ministry = client(world.ministry).get(reverse("governance:tracking_department"), {"agency": "GACC"})
    assert ministry.status_code == 200 and "tracking_confirm" not in ministry.content.decode()
    assert client(world.bureau_hz).get(reverse("governance:tracking_department")).status_code == 403


# --- progress with evidence ----------------------------------------------------------------------------------

def test_filing_progress_with_files_through_the_form(world, programme, media):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    hz = client(world.bureau_hz)
    url = reverse("governance:tracking_progress", args=[t.pk])
    form = hz.get(url)
    assert form.status_code == 200 and 'name="files"' in form.content.decode()
    response = hz.post(url, {
        "quarter": "2019Q3", "status": "in_progress", "narrative": "完成跨境电商监管模式试点",
        "ind_name": ["试点企业数", ""], "ind_value": ["12", ""], "ind_unit": ["家", ""],
        "files": [upload("进展报告.pdf", pdf_bytes("hz")), upload("台账.csv", "企业,笔数\n甲,3\n".encode())]})
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert report.indicators == [{"name": "试点企业数", "value": "12", "unit": "家"}]
    assert sorted(report.evidence.values_list("original_name", flat=True)) == ["台账.csv", "进展报告.pdf"]
    page = hz.get(reverse("governance:tracking_area_task", args=[t.pk])).content.decode()
    for ev in report.evidence.all():
        assert ev.sha256 in page
    download = hz.get(reverse("governance:tracking_evidence", args=[report.evidence.get(original_name="台账.csv").pk]))
    assert download.status_code == 200 and download.content == "企业,笔数\n甲,3\n".encode()
    assert download["X-Checksum-SHA256"] == report.evidence.get(original_name="台账.csv").sha256


def test_a_bad_file_in_the_form_saves_nothing_and_keeps_the_input(world, programme, media):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    response = client(world.bureau_hz).post(reverse("governance:tracking_progress", args=[t.pk]), {
        "quarter": "2019Q3", "status": "in_progress", "narrative": "保留这段文字",
        "files": [upload("ok.pdf", pdf_bytes()), upload("virus.pdf", b"MZ\x90\x00")]})
    assert response.status_code == 400
    html = response.content.decode()
    assert "virus.pdf" in html and "保留这段文字" in html
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()


def test_evidence_delete_asks_first(world, programme, media):
    report = filed(world, files=[upload("a.pdf", pdf_bytes("del"))])
    ev = report.evidence.get()
    url = reverse("governance:tracking_evidence_delete", args=[ev.pk])
    hz = client(world.bureau_hz)
    ask = hz.get(url)
    assert ask.status_code == 200 and "confirm-delete" in ask.content.decode() and ev.sha256 in ask.content.decode()
    assert Evidence.objects.filter(pk=ev.pk).exists()  # asking deletes nothing
    assert client(world.bureau_zj).post(url).status_code == 403
    assert hz.post(url, {"reason": "重复"}).status_code == 302
    assert not Evidence.objects.filter(pk=ev.pk).exists()


def test_a_tampered_file_is_not_served(world, programme, media):
    report = filed(world, files=[upload("a.txt", b"original")])
    ev = report.evidence.get()
    (media / ev.file.name).write_bytes(b"changed!")
    response = client(world.ministry).get(reverse("governance:tracking_evidence", args=[ev.pk]))
    assert response.status_code == 409 and b"changed!" not in response.content
    assert client(world.bureau_bj).get(reverse("governance:tracking_evidence", args=[ev.pk])).status_code == 404


# --- overdue, reminders and notices --------------------------------------------------------------------------

def test_overdue_list_filters_paginates_and_exports(world, programme):
    ministry = client(world.ministry)
    url = reverse("governance:tracking_overdue")
    page = ministry.get(url, {"kind": "task", "area": area(HANGZHOU).pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "kind-task" in html and "kind-progress" not in html and "issue-notice" in html
    assert ministry.get(url, {"page": 2}).status_code == 200
    exported = ministry.get(url, {"kind": "task", "area": area(HANGZHOU).pk, "format": "csv"})
    rows = list(csv.reader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["kind", "kind_label", "area", "region"]
    assert len(rows) > 1 and {r[3] for r in rows[1:]} == {HANGZHOU} and {r[0] for r in rows[1:]} == {"task"}
    xlsx = ministry.get(url, {"format": "xlsx", "kind": "work_plan"})
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:2] == ["kind", "kind_label"] and sheet.max_row == 18  # 17 areas
    # A bureau sees its own; an issue-notice button is the ministry's only.
    bureau = client(world.bureau_hz).get(url).content.decode()
    assert "issue-notice" not in bureau
    assert set(re.findall(r'<tr class="kind-\w+"><td class="nowrap">[^<]*</td><td>([^<]+)</td>', bureau)) == {"杭州"}


def test_the_ministry_reminds_from_the_overdue_page(world, programme):
    url = reverse("governance:tracking_remind")
    assert client(world.bureau_hz).post(url).status_code == 403
    # The round ended in 2020: today the only deadline is a notice's reply date.
    notices.issue(world.ministry, area_task(HANGZHOU, CUSTOMS_TASK), "请报告", dt.date.today() + dt.timedelta(days=5))
    assert Notification.objects.filter(user=world.bureau_hz).count() == 1  # the notice itself
    assert client(world.ministry).post(url, {"days": "14"}).status_code == 302
    assert Notification.objects.filter(user=world.bureau_hz).count() == 2  # and the reminder of its reply date
    client(world.ministry).post(url, {"days": "400000"})  # clamped to 90 days; the same reminder not again today
    assert Notification.objects.filter(user=world.bureau_hz).count() == 2
    assert not Notification.objects.filter(user=world.bureau_bj).exists()


def test_issuing_replying_and_closing_a_notice_through_the_pages(world, programme):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    ministry, hz = client(world.ministry), client(world.bureau_hz)
    new = reverse("governance:tracking_notice_new", args=[t.pk])
    assert hz.get(new).status_code == 403
    assert ministry.get(new).status_code == 200
    bad = ministry.post(new, {"message": "", "reply_due": "2000-01-01"})
    assert bad.status_code == 400 and not SupervisionNotice.objects.exists()
    due = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    response = ministry.post(new, {"message": "请于十日内说明逾期原因", "reply_due": due})
    n = SupervisionNotice.objects.get()
    assert response.url == reverse("governance:tracking_notice", args=[n.pk])
    note = Notification.objects.get(user=world.bureau_hz)
    assert note.url == reverse("governance:tracking_notice", args=[n.pk])
    assert "reply-form" in hz.get(note.url).content.decode()
    hz.post(reverse("governance:tracking_notice_reply", args=[n.pk]), {"reply": "已整改"})
    assert SupervisionNotice.objects.get().state == "replied"
    assert client(world.bureau_zj).post(reverse("governance:tracking_notice_close", args=[n.pk])).status_code == 403
    ministry.post(reverse("governance:tracking_notice_close", args=[n.pk]), {"note": "同意"})
    assert SupervisionNotice.objects.get().state == "closed"
    listing = hz.get(reverse("governance:tracking_notices"), {"state": "closed"}).content.decode()
    assert reverse("governance:tracking_notice", args=[n.pk]) in listing


# --- work plans ----------------------------------------------------------------------------------------------

def test_work_plan_pages(world, programme):
    hz_area = area(HANGZHOU)
    hz = client(world.bureau_hz)
    edit = reverse("governance:tracking_plan_edit", args=[hz_area.pk])
    assert client(world.bureau_zj).get(edit).status_code == 403
    assert hz.get(edit).status_code == 200
    bad = hz.post(edit, {"title": "杭州方案", "action_task": [task("1.2").pk, task("5.1").pk],
                         "action_text": ["联席会议", "通关"], "action_deadline": ["2019-03-31", "2021-01-01"],
                         "action_lead_unit": ["", ""], "action_target": ["", ""]})
    assert bad.status_code == 400 and shown("row %(n)s", n=2) in bad.content.decode() and not WorkPlan.objects.exists()
    ok = hz.post(edit, {"title": "杭州方案", "action_task": [task("1.2").pk, "", task("5.1").pk],
                        "action_text": ["联席会议", "", "通关"], "action_deadline": ["2019-03-31", "", "2020-06-30"],
                        "action_lead_unit": ["市商务局", "", "杭州海关"], "action_target": ["", "", ""]})
    assert ok.status_code == 302
    plan = WorkPlan.objects.get()
    assert plan.actions.count() == 2
    hz.post(reverse("governance:tracking_plan_submit", args=[hz_area.pk]))
    assert WorkPlan.objects.get().status == ReviewStatus.SUBMITTED
    page = client(world.ministry).get(reverse("governance:tracking_plan", args=[hz_area.pk])).content.decode()
    assert "review-form" in page and 'class="tag late"' in page  # submitted years after 2018-12-31
    assert client(world.bureau_hz).post(reverse("governance:tracking_plan_review", args=[hz_area.pk]),
                                        {"decision": "approve"}).status_code == 403
    client(world.ministry).post(reverse("governance:tracking_plan_review", args=[hz_area.pk]),
                                {"decision": "return", "note": "请补充"})
    assert WorkPlan.objects.get().status == ReviewStatus.RETURNED
    assert hz.get(edit).status_code == 200  # editable again


def test_pages_render_for_every_reader(world, programme, media):
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    report = filed(world, files=[upload("a.pdf", pdf_bytes("r"))])
    progress.confirm(world.agency, report, "confirmed", "一致")
    n = notices.issue(world.ministry, t, "督办", "2030-01-01")
    workplans.save_plan(world.bureau_hz, t.area, title="方案", actions=[{"task_id": t.task_id, "text": "a"}])
    urls = [reverse("governance:tracking_area", args=[t.area_id]), reverse("governance:tracking_plan", args=[t.area_id]),
            reverse("governance:tracking_task", args=[t.task_id]),
            reverse("governance:tracking_area_task", args=[t.pk]), reverse("governance:tracking_overdue"),
            reverse("governance:tracking_notices"), reverse("governance:tracking_notice", args=[n.pk])]
    for who in ("ministry", "auditor", "agency", "bureau_hz", "bureau_zj"):
        c = client(getattr(world, who))
        for url in urls:
            assert c.get(url).status_code == 200, (who, url)
    page = client(world.bureau_hz).get(reverse("governance:tracking_area_task", args=[t.pk])).content.decode()
    assert "海关总署" in page and "一致" in page
    assert "tracking_evidence_delete" not in page and "/delete/" not in page  # confirmed: no delete
