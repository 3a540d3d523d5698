"""Quarterly progress, area-task status, evidence (type by extension and content, size, checksum, storage,
duplicates) and department confirmations."""

import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied

from tradepilot.core.models import AuditLog, Notification
from tradepilot.governance import evidence, progress
from tradepilot.governance.models import Confirmation, Evidence, ProgressReport, TaskStatus
from tradepilot.governance.tests.tracking_support import *  # noqa: F403
from tradepilot.governance.tests.tracking_support import (
    CUSTOMS_TASK,
    HANGZHOU,
    IN_ROUND,
    JPEG,
    OTHER_TASK,
    PNG,
    area_task,
    docx_bytes,
    pdf_bytes,
    upload,
    xlsx_bytes,
)
from tradepilot.governance.tracking import TrackingError

pytestmark = pytest.mark.django_db


def file(world, t=None, *, year=2019, quarter=3, status=TaskStatus.IN_PROGRESS, on=IN_ROUND, **kw):
    t = t or area_task(HANGZHOU, CUSTOMS_TASK)
    values = {"narrative": "推进跨境电商监管模式创新，完成首批试点。", "indicators": [
        {"name": "试点企业数", "value": "12", "unit": "家"}]}
    values.update(kw)
    return progress.file_progress(world.bureau_hz, t, year=year, quarter=quarter, status=status, on=on, **values)


def codes(exc) -> set:
    return {(e["field"], e["row"], e["code"]) for e in exc.value.errors}


# --- filing and status ---------------------------------------------------------------------------------------

def test_filing_sets_the_status_and_is_audited(world, programme):
    report, created = file(world)
    assert created and report.indicators == [{"name": "试点企业数", "value": "12", "unit": "家"}]
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    assert t.status == TaskStatus.IN_PROGRESS and t.completed_on is None
    assert set(AuditLog.objects.values_list("action", flat=True)) == {"progress:create", "task:status"}


def test_completed_sets_completed_on_and_a_later_status_clears_it(world, programme):
    file(world, quarter=3, status=TaskStatus.COMPLETED)
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    assert t.status == TaskStatus.COMPLETED and t.completed_on == dt.date(2019, 9, 30)  # quarter's end
    file(world, quarter=4, status=TaskStatus.COMPLETED, completed_on="2019-10-15")
    assert area_task(HANGZHOU, CUSTOMS_TASK).completed_on == dt.date(2019, 10, 15)
    file(world, year=2020, quarter=1, status=TaskStatus.BLOCKED, status_note="口岸改造延期", on=dt.date(2020, 4, 2))
    t = area_task(HANGZHOU, CUSTOMS_TASK)
    assert (t.status, t.completed_on, t.status_note) == (TaskStatus.BLOCKED, None, "口岸改造延期")


def test_completed_in_the_current_quarter_defaults_to_today(world, programme):
    file(world, quarter=4, status=TaskStatus.COMPLETED, on=dt.date(2019, 11, 5))
    assert area_task(HANGZHOU, CUSTOMS_TASK).completed_on == dt.date(2019, 11, 5)


def test_refiling_an_earlier_quarter_leaves_the_status(world, programme):
    file(world, quarter=4, status=TaskStatus.IN_PROGRESS)
    file(world, quarter=3, status=TaskStatus.NOT_STARTED)
    assert area_task(HANGZHOU, CUSTOMS_TASK).status == TaskStatus.IN_PROGRESS


def test_refiling_before_confirmation_updates_and_after_is_refused(world, programme):
    report, _ = file(world)
    again, created = file(world, narrative="更新后的进展")
    assert not created and again.pk == report.pk and again.narrative == "更新后的进展"
    update = AuditLog.objects.get(action="progress:update")
    assert update.changes["narrative"][1] == "更新后的进展"
    progress.confirm(world.agency, again, Confirmation.Decision.CONFIRMED)
    with pytest.raises(TrackingError) as exc:
        file(world, narrative="再次修改")
    assert exc.value.status == 409 and exc.value.code == "confirmed"
    assert ProgressReport.objects.get(pk=report.pk).narrative == "更新后的进展"


def test_quarter_must_lie_in_the_round_and_have_begun(world, programme):
    for year, quarter, code in ((2018, 2, "outside_round"), (2020, 3, "outside_round"), (2019, 5, "invalid_quarter"),
                                (2020, 1, "future")):
        with pytest.raises(TrackingError) as exc:
            file(world, year=year, quarter=quarter)
        assert codes(exc) == {("quarter", None, code)}, (year, quarter)
    assert file(world, year=2018, quarter=3)[1] and file(world, year=2020, quarter=2, on=dt.date(2020, 4, 1))[1]


def test_field_errors_are_collected_and_nothing_is_saved(world, programme):
    with pytest.raises(TrackingError) as exc:
        file(world, status="done", narrative=" ", indicators=[
            {"name": "企业数", "value": "12.5", "unit": "家"},
            {"name": "", "value": "1e400x", "unit": ""},
            {"name": "金额", "value": 0.1, "unit": "万元"},
            {"name": "比例", "value": "0.123456", "unit": "%"},
        ], completed_on="2019-09-01")
    assert codes(exc) == {
        ("status", None, "invalid_choice"), ("narrative", None, "required"),
        ("indicators.name", 2, "required"), ("indicators.value", 2, "invalid_number"),
        ("indicators.value", 3, "invalid_number"), ("indicators.value", 4, "too_precise"),
        ("completed_on", None, "not_completed"),
    }
    assert not ProgressReport.objects.exists() and not AuditLog.objects.exists()
    assert area_task(HANGZHOU, CUSTOMS_TASK).status == TaskStatus.NOT_STARTED


def test_blocked_needs_a_note_and_completion_dates_stay_in_range(world, programme):
    with pytest.raises(TrackingError) as exc:
        file(world, status=TaskStatus.BLOCKED)
    assert codes(exc) == {("status_note", None, "required")}
    for day in ("2018-06-30", "2019-10-01", "2019-13-01"):
        with pytest.raises(TrackingError) as exc:
            file(world, status=TaskStatus.COMPLETED, completed_on=day)
        assert {e["field"] for e in exc.value.errors} == {"completed_on"}, day


def test_indicator_values_are_kept_as_exact_decimals(world, programme):
    report, _ = file(world, indicators=[{"name": "金额", "value": "1,234.50", "unit": "万元"},
                                        {"name": "笔数", "value": 7, "unit": "笔"}])
    assert report.indicators == [{"name": "金额", "value": "1234.50", "unit": "万元"},
                                 {"name": "笔数", "value": "7", "unit": "笔"}]


@pytest.mark.parametrize("who", ["bureau_zj", "bureau_bj", "ministry", "agency", "ent_hz"])
def test_only_the_areas_own_bureau_files(world, programme, who):
    with pytest.raises(PermissionDenied):
        progress.file_progress(getattr(world, who), area_task(HANGZHOU, CUSTOMS_TASK), year=2019, quarter=3,
                               status=TaskStatus.IN_PROGRESS, narrative="x", on=IN_ROUND)
    assert not ProgressReport.objects.exists()


# --- evidence ------------------------------------------------------------------------------------------------

ACCEPTED = [
    ("报告.pdf", pdf_bytes(), "application/pdf"),
    ("会议纪要.docx", docx_bytes(), evidence.DOCX),
    ("台账.xlsx", xlsx_bytes(), evidence.XLSX),
    ("现场.png", PNG, "image/png"),
    ("现场.JPG", JPEG, "image/jpeg"),
    ("说明.txt", "试点进展说明".encode(), "text/plain"),
    ("数据.csv", "\ufeff企业,金额\n甲,1.5\n".encode(), "text/csv"),
]


def test_every_accepted_type_is_stored_with_its_checksum(world, programme, media):
    files = [upload(n, c) for n, c, _ in ACCEPTED]
    report, _ = file(world, files=files)
    stored = list(report.evidence.order_by("pk"))
    assert [(e.original_name, e.content_type) for e in stored] == [(n, t) for n, _, t in ACCEPTED]
    for ev, (_n, content, _t) in zip(stored, ACCEPTED, strict=True):
        digest = hashlib.sha256(content).hexdigest()
        assert ev.sha256 == digest and ev.size == len(content)
        assert ev.file.name == f"governance/evidence/{digest[:2]}/{digest}"  # content-addressed
        assert (media / ev.file.name).read_bytes() == content
        assert evidence.read_verified(ev) == content


REFUSED = [
    ("setup.exe", b"MZ\x90\x00", "file_type"),
    ("noextension", b"%PDF-1.4", "file_type"),
    ("fake.pdf", b"MZ\x90\x00 not a pdf", "file_content"),
    ("fake.docx", xlsx_bytes(), "file_content"),  # a workbook renamed .docx
    ("fake.xlsx", b"PK\x03\x04 broken zip", "file_content"),
    ("image.png", JPEG, "file_content"),
    ("photo.jpg", PNG, "file_content"),
    ("latin1.txt", "façade".encode("latin-1"), "file_content"),
    ("binary.csv", b"a,b\x00\x01", "file_content"),
    ("empty.pdf", b"", "empty"),
]


@pytest.mark.parametrize(("name", "content", "code"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_file_is_refused_unless_extension_and_content_agree(world, programme, media, name, content, code):
    with pytest.raises(TrackingError) as exc:
        file(world, files=[upload("ok.pdf", pdf_bytes()), upload(name, content)])
    (err,) = exc.value.errors
    assert (err["field"], err["row"], err["code"], err["value"]) == ("files", 2, code, name)
    assert name in err["message"]
    # All or nothing: neither the report nor the good file.
    assert not ProgressReport.objects.exists() and not Evidence.objects.exists()
    assert not (media / "governance").exists()


def test_size_limit_comes_from_the_setting(world, programme, settings):
    settings.GOVERNANCE_EVIDENCE_MAX_BYTES = 1000
    with pytest.raises(TrackingError) as exc:
        file(world, files=[upload("big.txt", b"x" * 1001)])
    assert codes(exc) == {("files", 1, "too_large")}
    report, _ = file(world, files=[upload("fits.txt", b"x" * 1000)])
    assert report.evidence.get().size == 1000
    del settings.GOVERNANCE_EVIDENCE_MAX_BYTES
    assert evidence.max_bytes() == 20 * 1024 * 1024


def test_the_same_file_twice_on_a_report_is_refused_but_another_report_shares_the_copy(world, programme, media):
    content = pdf_bytes("same")
    with pytest.raises(TrackingError) as exc:
        file(world, files=[upload("a.pdf", content), upload("b.pdf", content)])
    assert codes(exc) == {("files", 2, "duplicate")}
    report, _ = file(world, files=[upload("a.pdf", content)])
    with pytest.raises(TrackingError) as exc:
        progress.add_evidence(world.bureau_hz, report, [upload("renamed.pdf", content)])
    assert codes(exc) == {("files", 1, "duplicate")}
    other, _ = file(world, area_task(HANGZHOU, OTHER_TASK), files=[upload("a.pdf", content)])
    first, second = report.evidence.get(), other.evidence.get()
    assert first.file.name == second.file.name
    assert len(list((media / "governance" / "evidence").rglob("*"))) == 2  # one directory, one file


def test_evidence_added_later_and_deleted_only_before_confirmation(world, programme, media):
    report, _ = file(world)
    (ev,) = progress.add_evidence(world.bureau_hz, report, [upload("补充.pdf", pdf_bytes("later"))])
    with pytest.raises(PermissionDenied):
        progress.add_evidence(world.bureau_zj, report, [upload("x.pdf", pdf_bytes("zj"))])
    with pytest.raises(PermissionDenied):
        progress.delete_evidence(world.bureau_zj, ev)
    path = media / ev.file.name
    with pytest.raises(TrackingError):
        progress.add_evidence(world.bureau_hz, report, [])
    progress.delete_evidence(world.bureau_hz, ev, reason="传错文件")
    assert not Evidence.objects.exists()
    assert AuditLog.objects.filter(action="evidence:delete", reason="传错文件").exists()
    (ev,) = progress.add_evidence(world.bureau_hz, report, [upload("补充.pdf", pdf_bytes("again"))])
    progress.confirm(world.agency, report, Confirmation.Decision.CONFIRMED)
    with pytest.raises(TrackingError) as exc:
        progress.delete_evidence(world.bureau_hz, ev)
    assert exc.value.status == 409 and Evidence.objects.filter(pk=ev.pk).exists()
    assert path.parent.exists()


def test_a_changed_stored_file_is_not_served(world, programme, media):
    report, _ = file(world, files=[upload("a.txt", "原件".encode())])
    ev = report.evidence.get()
    (media / ev.file.name).write_bytes("篡改".encode())
    with pytest.raises(evidence.ChecksumMismatch):
        evidence.read_verified(ev)
    (media / ev.file.name).unlink()
    with pytest.raises(FileNotFoundError):
        evidence.read_verified(ev)


# --- confirmations -------------------------------------------------------------------------------------------

def test_a_co_owning_department_confirms_and_the_area_hears_of_it(world, programme):
    report, _ = file(world)
    conf = progress.confirm(world.agency, report, Confirmation.Decision.CONFIRMED, "与海关数据一致")
    assert (conf.agency.code, conf.decision) == ("GACC", "confirmed")
    assert Notification.objects.filter(user=world.bureau_hz, title__contains="confirmed").exists()
    with pytest.raises(TrackingError) as exc:
        progress.confirm(world.agency, report, Confirmation.Decision.DISPUTED, "")
    assert codes(exc) == {("note", None, "required")}
    progress.confirm(world.agency, report, Confirmation.Decision.DISPUTED, "进口数据有出入")
    assert Confirmation.objects.get().decision == "disputed"  # one per department, the later decision
    assert list(AuditLog.objects.filter(action__in=["progress:confirmed", "progress:disputed"])
                .order_by("id").values_list("action", flat=True)) == ["progress:confirmed", "progress:disputed"]


def test_member_units_tasks_are_co_owned_by_every_department(world, programme):
    report, _ = file(world, area_task(HANGZHOU, "7.3"))
    assert progress.confirm(world.agency, report, Confirmation.Decision.CONFIRMED).agency.code == "GACC"


@pytest.mark.parametrize("who", ["ministry", "bureau_hz", "auditor"])
def test_only_departments_confirm(world, programme, who):
    report, _ = file(world)
    with pytest.raises(PermissionDenied):
        progress.confirm(getattr(world, who), report, Confirmation.Decision.CONFIRMED)


def test_a_department_that_does_not_co_own_the_task_cannot_confirm(world, programme):
    report, _ = file(world, area_task(HANGZHOU, OTHER_TASK))
    with pytest.raises(PermissionDenied):
        progress.confirm(world.agency, report, Confirmation.Decision.CONFIRMED)
    assert not Confirmation.objects.exists()


def test_awaiting_confirmation_lists_co_owned_reports_not_yet_decided(world, programme):
    mine, _ = file(world)
    file(world, area_task(HANGZHOU, OTHER_TASK))
    agency = world.agency.profile.agency
    waiting = progress.awaiting_confirmation(agency, ProgressReport.objects.all())
    assert list(waiting) == [mine]
    progress.confirm(world.agency, mine, Confirmation.Decision.CONFIRMED)
    assert not progress.awaiting_confirmation(agency, ProgressReport.objects.all()).exists()
