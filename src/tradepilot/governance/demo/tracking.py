"""Demo data: work plans, area-task status, quarterly progress with evidence, confirmations, supervision notices.

The demo is historical: the 2018 round ran from 2018-07-01 to 2020-06-30, so the records are made as they would
have been then. Every area filed its work plan in November–December 2018 (two a little after the 2018-12-31
deadline; one was returned once before approval). By mid-2020 most area tasks were completed; some were still in
progress and a few blocked, so the ministry sees overdue tasks. 杭州 reported every quarter on every task, with
evidence files (small PDFs, CSV ledgers and notes), and 海关总署 confirmed most of its reports on the tasks it
co-owns (one disputed, the latest left for the demo user to decide); 北京, 上海, 深圳 and 成都 reported too, the
other areas' quarterly reports are missing (the overdue list shows them). The ministry has one open supervision
notice to 杭州 (issued when the demo is built), one replied to by 上海 awaiting closing, and one closed with 北京.

Everything is drawn from `ctx.rng`, so the same seed gives the same data; rows are bulk-created (audit entries
too, marked 演示数据) to stay well under a few seconds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io

from django.db import transaction
from django.utils import timezone

from tradepilot.core.models import AuditLog, Profile, Role
from tradepilot.governance import evidence as evidence_service
from tradepilot.governance import notices
from tradepilot.governance.models import (
    AreaTask,
    Confirmation,
    ProgressReport,
    ReviewStatus,
    SupervisionNotice,
    TaskStatus,
    WorkPlan,
    WorkPlanAction,
)
from tradepilot.governance.tracking import Quarter, round_quarters

HANGZHOU = "330100"
REPORTING = ["110000", "310000", "440300", "510100"]  # besides Hangzhou: 北京, 上海, 深圳, 成都
LATE = ["230100", "610190"]  # 哈尔滨, 陕西西咸新区: work plans sent in January 2019
RETURNED_ONCE = "420100"  # 武汉: returned once, then approved
CUSTOMS = "GACC"
REASON = "演示数据"

LEAD_UNITS = {"1": "市商务局", "2": "市商务局、市发展改革委", "3": "市商务局", "4": "市经济和信息化局",
              "5": "{place}海关、市公安局出入境管理局", "6": "市财政局、市地方金融监管局", "7": "市统计局、市商务局",
              "8": "市商务局、市市场监管局"}
ACTIONS = ["制定落实方案，明确责任分工和时间表", "出台配套政策文件", "建立工作台账，按季度调度推进",
           "选择重点园区先行先试", "会同有关部门建立协调机制"]
TARGETS = ["出台政策文件1件", "覆盖重点企业不少于50家", "形成可复制经验1项", "建成工作机制并常态化运行", ""]
NARRATIVE = {
    TaskStatus.NOT_STARTED: "已开展前期调研，梳理相关政策和企业需求，正在研究制定推进方案。",
    TaskStatus.IN_PROGRESS: "本季度按照工作方案推进“{task}”，召开专题协调会，完善配套措施，重点企业参与度提升。",
    TaskStatus.COMPLETED: "“{task}”各项工作已按工作方案完成，相关制度文件已印发实施，转入常态化运行。",
    TaskStatus.BLOCKED: "“{task}”推进中遇到制约，需国家有关部门支持协调，已提请协调解决。",
}
BLOCKERS = ["相关事项需国家部委授权，地方暂无权限推进。", "配套系统改造尚未完成，影响实施进度。",
            "涉及跨部门数据共享，协调机制尚未建立。"]


def tiny_pdf(text: str) -> bytes:
    """A valid one-page PDF showing `text` (ASCII), with its cross-reference table: real evidence, a few hundred
    bytes."""
    safe = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 14 Tf 72 720 Td ({safe}) Tj ET".encode("ascii", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour))


def _day_between(rng, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, max(0, (end - start).days)))


class _Audit:
    """Audit entries collected while building, written in one go."""

    def __init__(self):
        self.rows: list[AuditLog] = []

    def add(self, actor, action: str, obj, changes: dict, at: dt.datetime, reason: str = REASON) -> None:
        self.rows.append(AuditLog(timestamp=at, actor=actor, action=action, object_type=obj._meta.label_lower,
                                  object_id=str(obj.pk), object_repr=str(obj)[:300], changes=changes,
                                  reason=reason))


def _fate(rng, end: dt.date) -> tuple[str, dt.date | None]:
    """Where an area task stood when the round ended: most completed, some in progress, a few blocked."""
    roll = rng.random()
    if roll < 0.74:
        return TaskStatus.COMPLETED, _day_between(rng, dt.date(2019, 3, 1), end)
    if roll < 0.90:
        return TaskStatus.IN_PROGRESS, None
    if roll < 0.96:
        return TaskStatus.BLOCKED, None
    return TaskStatus.NOT_STARTED, None


def _plans(ctx, areas, tasks_by_area, users, ministry, log: _Audit) -> int:
    deadline = ctx.round.programme.work_plan_deadline
    plans = []
    for area in areas:
        rng = ctx.rng("plan", area.region.code)
        place = area.region.name_zh
        if area.region.code in LATE:
            submitted = _day_between(rng, deadline + dt.timedelta(days=5), deadline + dt.timedelta(days=25))
        else:
            submitted = _day_between(rng, dt.date(2018, 11, 1), deadline - dt.timedelta(days=3))
        reviewed = submitted + dt.timedelta(days=rng.randint(10, 30))
        note = "请细化各项任务的完成时限和责任单位。" if area.region.code == RETURNED_ONCE else "同意。"
        plans.append(WorkPlan(
            area=area, title=f"{place}深化服务贸易创新发展试点工作方案",
            document_no=f"{place}人民政府办公厅〔2018〕{rng.randint(20, 95)}号",
            summary=f"围绕国函〔2018〕79号确定的八个方面试点任务，{place}结合本地服务贸易发展基础，明确重点举措、"
                    "责任单位和完成时限，按季度报送推进情况。",
            status=ReviewStatus.APPROVED, submitted_at=_at(submitted), submitted_by=users.get(area.region.code),
            reviewed_at=_at(reviewed, 16), reviewed_by=ministry, review_note=note))
    WorkPlan.objects.bulk_create(plans)
    plans = {p.area_id: p for p in WorkPlan.objects.filter(area__in=areas)}
    actions = []
    for area in areas:
        plan = plans[area.pk]
        rng = ctx.rng("actions", area.region.code)
        for task in tasks_by_area[area.pk]:
            for _ in range(2 if rng.random() < 0.3 else 1):
                actions.append(WorkPlanAction(
                    plan=plan, task=task, text=f"{rng.choice(ACTIONS)}：{task.text_zh[:30].rstrip('，。、')}",
                    lead_unit=LEAD_UNITS[task.area.code].format(place=area.region.name_zh.rstrip("市")),
                    deadline=_day_between(rng, dt.date(2019, 3, 31), ctx.round.end_date),
                    target=rng.choice(TARGETS)))
        bureau = users.get(area.region.code)
        at = plan.submitted_at
        log.add(bureau, "plan:create", plan, {"title": [None, plan.title]}, at - dt.timedelta(days=2))
        if area.region.code == RETURNED_ONCE:
            returned = at + dt.timedelta(days=7)
            log.add(bureau, "plan:submit", plan, {"status": ["draft", "submitted"]}, at)
            log.add(ministry, "plan:return", plan, {"status": ["submitted", "returned"]}, returned,
                    "请细化各项任务的完成时限和责任单位。")
            log.add(bureau, "plan:submit", plan, {"status": ["returned", "submitted"]},
                    returned + dt.timedelta(days=3))
        else:
            log.add(bureau, "plan:submit", plan, {"status": ["draft", "submitted"]}, at)
        log.add(ministry, "plan:approve", plan, {"status": ["submitted", "approved"]}, plan.reviewed_at)
    WorkPlanAction.objects.bulk_create(actions, batch_size=2000)
    return len(plans)


def _history(rng, status: str, completed: dt.date | None, quarters: list[Quarter]) -> list[tuple[Quarter, str]]:
    """The status each quarter's report carried, ending in the task's final status."""
    last = Quarter.of(completed) if completed else quarters[-1]
    reported = [q for q in quarters if q <= last]
    started = rng.randint(0, 2)
    blocked_from = len(reported) - rng.randint(1, 3)
    out = []
    for i, q in enumerate(reported):
        if i == len(reported) - 1 and status == TaskStatus.COMPLETED:
            out.append((q, TaskStatus.COMPLETED))
        elif status == TaskStatus.NOT_STARTED:
            out.append((q, TaskStatus.NOT_STARTED))
        elif status == TaskStatus.BLOCKED and i >= blocked_from:
            out.append((q, TaskStatus.BLOCKED))
        else:
            out.append((q, TaskStatus.NOT_STARTED if i < started else TaskStatus.IN_PROGRESS))
    return out


def _indicators(rng, q: Quarter, status: str) -> list[dict]:
    if status == TaskStatus.NOT_STARTED:
        return []
    return [{"name": "出台政策文件", "value": str(rng.randint(0, 3)), "unit": "件"},
            {"name": "惠及企业", "value": str(rng.randint(5, 120)), "unit": "家"},
            {"name": "涉及服务贸易额", "value": f"{rng.randint(500, 90000) / 100:.2f}", "unit": "万美元"}]


def build(ctx) -> str:
    rnd = ctx.round
    if WorkPlan.objects.filter(area__round=rnd).exists() or not AreaTask.objects.filter(area__round=rnd).exists():
        return ""
    areas = sorted(ctx.areas.values(), key=lambda a: a.order)
    users = {p.region.code: p.user for p in Profile.objects.filter(role=Role.BUREAU, region__isnull=False)
             .select_related("region", "user")}
    ministry, customs = ctx.user("ministry"), ctx.user("agency-customs")
    area_tasks = list(AreaTask.objects.filter(area__round=rnd).select_related("task__area", "area__region")
                      .order_by("area__order", "task__order"))
    tasks_by_area: dict[int, list] = {}
    for t in area_tasks:
        tasks_by_area.setdefault(t.area_id, []).append(t.task)
    customs_tasks = set(AreaTask.objects.filter(area__round=rnd, task__responsibilities__agency__code=CUSTOMS)
                        .values_list("pk", flat=True))
    quarters = round_quarters(rnd)
    log = _Audit()
    with transaction.atomic():
        plan_count = _plans(ctx, areas, tasks_by_area, users, ministry, log)

        reports: list[ProgressReport] = []
        for t in area_tasks:
            code = t.area.region.code
            rng = ctx.rng("task", code, t.task.code)
            status, completed = _fate(rng, rnd.end_date)
            if code not in (HANGZHOU, *REPORTING):
                t.status, t.completed_on = status, completed
                t.status_note = rng.choice(BLOCKERS) if status == TaskStatus.BLOCKED else ""
                continue
            history = _history(rng, status, completed, quarters)
            for q, reported in history:
                # A completion is reported at the quarter's end, or on the completion day if earlier.
                filed = q.end + dt.timedelta(days=rng.randint(3, 14))
                reports.append(ProgressReport(
                    area_task=t, year=q.year, quarter=q.quarter, status_reported=reported,
                    narrative=NARRATIVE[reported].format(task=t.task.text_zh[:24].rstrip("，。、")),
                    indicators=_indicators(rng, q, reported), submitted_by=users.get(code),
                    submitted_at=_at(filed)))
            t.status = history[-1][1]
            t.completed_on = completed if t.status == TaskStatus.COMPLETED else None
            t.status_note = rng.choice(BLOCKERS) if t.status == TaskStatus.BLOCKED else ""
        AreaTask.objects.bulk_update(area_tasks, ["status", "completed_on", "status_note"], batch_size=1000)
        ProgressReport.objects.bulk_create(reports, batch_size=2000)
        reports = list(ProgressReport.objects.filter(area_task__area__round=rnd).select_related(
            "area_task__area__region", "area_task__task").order_by("area_task_id", "year", "quarter"))
        for r in reports:
            log.add(r.submitted_by, "progress:create", r, {"status_reported": [None, r.status_reported]},
                    r.submitted_at)
        for t in area_tasks:
            if t.status != TaskStatus.NOT_STARTED:
                log.add(users.get(t.area.region.code), "task:status", t,
                        {"status": [TaskStatus.NOT_STARTED, t.status],
                         "completed_on": [None, t.completed_on.isoformat() if t.completed_on else None]},
                        _at(t.completed_on or rnd.end_date, 17))

        files = _evidence(ctx, reports, users, log)
        confirmed = _confirmations(ctx, reports, customs_tasks, customs, log)
        notices = _notices(ctx, area_tasks, ministry, users, log)
        AuditLog.objects.bulk_create(log.rows, batch_size=2000)

    counts = {s: sum(1 for t in area_tasks if t.status == s) for s in TaskStatus.values}
    overdue = sum(1 for t in area_tasks if t.status != TaskStatus.COMPLETED and t.due_date < ctx.today)
    return (f"tracking: {plan_count} work plans; area tasks {counts['completed']} completed, "
            f"{counts['in_progress']} in progress, {counts['blocked']} blocked, {counts['not_started']} not started "
            f"({overdue} overdue); {len(reports)} progress reports, {files} evidence files, {confirmed} "
            f"confirmations; {notices} supervision notices")


def _evidence(ctx, reports, users, log: _Audit) -> int:
    """Hangzhou's reports of completed or blocked quarters, and its latest reports, carry evidence files."""
    hangzhou = [r for r in reports if r.area_task.area.region.code == HANGZHOU]
    latest = {}
    for r in hangzhou:
        latest[r.area_task_id] = r
    chosen = [r for r in hangzhou if r.status_reported in (TaskStatus.COMPLETED, TaskStatus.BLOCKED)
              or latest[r.area_task_id] is r]
    count = 0
    for r in chosen:
        rng = ctx.rng("evidence", r.pk)
        task = r.area_task.task
        label = f"{r.year}Q{r.quarter}"
        files = [(f"{task.code}-{label}-进展情况报告.pdf",
                  tiny_pdf(f"Hangzhou pilot task {task.code} progress report {label} ({r.get_status_reported_display()})"))]
        if r.indicators:
            ledger = "指标,数值,单位\n" + "".join(f"{i['name']},{i['value']},{i['unit']}\n" for i in r.indicators)
            files.append((f"{task.code}-{label}-工作台账.csv", ("\ufeff" + ledger).encode("utf-8")))
        if r.status_reported == TaskStatus.BLOCKED and rng.random() < 0.7:
            files.append((f"{task.code}-{label}-情况说明.txt",
                          f"{r.area_task.status_note or '推进受阻'}\n已于{label}提请有关部门协调。\n".encode()))
        for name, content in files:
            checked = evidence_service.CheckedFile(name=name, content=content,
                                                   content_type=evidence_service.CONTENT_TYPES[name[name.rfind("."):]],
                                                   sha256=hashlib.sha256(content).hexdigest())
            ev = evidence_service.store(r, checked, r.submitted_by)
            ev.uploaded_at = r.submitted_at
            ev.save(update_fields=["uploaded_at"])
            log.add(r.submitted_by, "evidence:add", ev, {"sha256": [None, ev.sha256], "original_name": [None, name]},
                    r.submitted_at)
            count += 1
    return count


def _confirmations(ctx, reports, customs_tasks, customs, log: _Audit) -> int:
    """海关总署 confirms Hangzhou's reports on its tasks within a few weeks: one is disputed, and the latest report
    of one task waits for the demo's customs user."""
    from tradepilot.core.models import Agency

    agency = Agency.objects.filter(code=CUSTOMS).first()
    if agency is None:
        return 0
    mine = [r for r in reports if r.area_task_id in customs_tasks and r.area_task.area.region.code == HANGZHOU]
    latest_of = {}
    for r in mine:
        latest_of[r.area_task_id] = r
    # The latest report on 4.2 (海关特殊监管区域) is left for the demo's customs user to confirm.
    waiting_task = next((r.area_task_id for r in mine if r.area_task.task.code == "4.2"), None)
    rows = []
    disputed = False
    for r in mine:
        if r.area_task_id == waiting_task and latest_of[r.area_task_id] is r:
            continue
        rng = ctx.rng("confirm", r.pk)
        at = r.submitted_at + dt.timedelta(days=rng.randint(5, 25))
        if not disputed and r.status_reported == TaskStatus.IN_PROGRESS and rng.random() < 0.3:
            disputed = True
            rows.append(Confirmation(progress=r, agency=agency, decision=Confirmation.Decision.DISPUTED,
                                     note="报告所列通关便利化企业数与海关统计不一致，请核实后补充说明。",
                                     by=customs, at=at))
        else:
            rows.append(Confirmation(progress=r, agency=agency, decision=Confirmation.Decision.CONFIRMED,
                                     note="经核对，与海关掌握情况一致。", by=customs, at=at))
    Confirmation.objects.bulk_create(rows)
    for c in rows:
        log.add(customs, f"progress:{c.decision}", c.progress, {"decision": [None, c.decision],
                                                                "agency": [None, CUSTOMS]}, c.at, c.note)
    return len(rows)


def _notices(ctx, area_tasks, ministry, users, log: _Audit) -> int:
    """An open notice to 杭州 on an unfinished task (issued now through the service, so its bureau is notified and
    has something to answer), one that 上海 replied to and the ministry has yet to close, one closed with 北京."""
    def unfinished(code):
        return next((t for t in area_tasks if t.area.region.code == code and t.status != TaskStatus.COMPLETED), None)

    made = 0
    end = ctx.round.end_date
    t = unfinished(HANGZHOU)
    if t is not None and ministry is not None:
        due = ctx.today + dt.timedelta(days=14)
        notices.issue(ministry, t, _notice_text(t, due), due, on=ctx.today)  # notifies 杭州's bureau
        made += 1
    for code, issued, due, reply, closed in [
        ("310000", end + dt.timedelta(days=20), end + dt.timedelta(days=40),
         "已制定整改计划，相关配套细则将于下一季度印发。", False),
        ("110000", end + dt.timedelta(days=10), end + dt.timedelta(days=30),
         "该任务已于2020年7月完成，相关文件已印发。", True),
    ]:
        t = unfinished(code)
        if t is None:
            continue
        n = SupervisionNotice.objects.create(
            area_task=t, message=_notice_text(t, due), reply_due=due, issued_by=ministry, issued_at=_at(issued, 9),
            state=SupervisionNotice.State.CLOSED if closed else SupervisionNotice.State.REPLIED)
        log.add(ministry, "notice:issue", n, {"state": [None, "open"], "reply_due": [None, due.isoformat()]},
                n.issued_at)
        bureau = users.get(code)
        n.reply, n.replied_by, n.replied_at = reply, bureau, _at(due - dt.timedelta(days=4), 15)
        log.add(bureau, "notice:reply", n, {"state": ["open", "replied"]}, n.replied_at)
        if closed:
            n.closed_by, n.closed_at = ministry, _at(due + dt.timedelta(days=3), 11)
            log.add(ministry, "notice:close", n, {"state": ["replied", "closed"]}, n.closed_at)
        n.save()
        made += 1
    return made


def _notice_text(t, due: dt.date) -> str:
    return (f"你单位“{t.task.text_zh[:24].rstrip('，。、')}”任务已超过完成时限（{t.due_date:%Y-%m-%d}）仍未完成，"
            f"请于{due:%Y-%m-%d}前书面报告进展、存在问题和整改措施。")
