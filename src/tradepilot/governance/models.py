"""Pilot governance: the programme (task areas, tasks, policy guarantees, responsible units, opening measures) loaded
from the approving document's annexes, and what areas, departments and the ministry do with it: work plans, task
tracking with quarterly progress and evidence, supervision notices, opening-measure implementation, annual results,
replicable experience, performance evaluation and opening-risk early warning.

Programme rows belong to a `PilotRound` and are loaded from `governance/data/programme/<round>.json`
(`governance.programme.load_programme`); nothing here knows how many areas or which years a round has.
Which rows a user may see is decided in `governance.scoping` (areas) on the same principle as `core.scoping`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tradepilot.core.models import Agency, BilingualName, PilotArea, PilotRound, in_language

User = settings.AUTH_USER_MODEL


# --- the programme -----------------------------------------------------------------------------------------------


class Programme(models.Model):
    """Per-round programme facts that are not areas: the work-plan deadline and the document's annex titles."""

    round = models.OneToOneField(PilotRound, on_delete=models.CASCADE, related_name="programme")
    work_plan_deadline = models.DateField(_("work plan deadline"))
    source = models.CharField(_("source file"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return str(self.round)


class TaskArea(BilingualName):
    """One of the plan's task areas (附件1 三(一)–(八)); `plan_text_zh` quotes the plan's paragraph."""

    round = models.ForeignKey(PilotRound, on_delete=models.CASCADE, related_name="task_areas")
    code = models.CharField(_("code"), max_length=8)
    order = models.PositiveSmallIntegerField(default=0)
    plan_text_zh = models.TextField(_("text of the plan"), blank=True)

    class Meta:
        ordering = ["round", "order"]
        unique_together = [("round", "code")]
        verbose_name = _("task area")
        verbose_name_plural = _("task areas")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Task(models.Model):
    """A task of 附件3 (试点任务). Its policy guarantees and responsible units hang below it."""

    round = models.ForeignKey(PilotRound, on_delete=models.CASCADE, related_name="tasks")
    area = models.ForeignKey(TaskArea, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("task area"))
    code = models.CharField(_("code"), max_length=12)
    order = models.PositiveSmallIntegerField(default=0)
    text_zh = models.TextField(_("task"))
    text_en = models.TextField(_("task (English)"), blank=True)
    # 责任单位 quoted as printed, for a task without guarantees ("——"); otherwise on each guarantee.
    responsible_zh = models.TextField(_("responsible units (as printed)"), blank=True)
    # True when 试点地区 (all areas) are responsible: the task is tracked per area.
    for_all_areas = models.BooleanField(_("tracked in every area"), default=False)

    class Meta:
        ordering = ["round", "order"]
        unique_together = [("round", "code")]
        verbose_name = _("pilot task")
        verbose_name_plural = _("pilot tasks")

    def __str__(self) -> str:
        return f"{self.code} {self.text_zh[:40]}"

    @property
    def text(self) -> str:
        return in_language(self.text_zh, self.text_en)


class PolicyGuarantee(models.Model):
    """A policy-guarantee measure (政策保障措施) of a task, with its responsible units as printed."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="guarantees")
    code = models.CharField(_("code"), max_length=16)
    order = models.PositiveSmallIntegerField(default=0)
    text_zh = models.TextField(_("policy guarantee"))
    text_en = models.TextField(_("policy guarantee (English)"), blank=True)
    responsible_zh = models.TextField(_("responsible units (as printed)"), blank=True)

    class Meta:
        ordering = ["task", "order"]
        unique_together = [("task", "code")]
        verbose_name = _("policy guarantee")
        verbose_name_plural = _("policy guarantees")

    def __str__(self) -> str:
        return f"{self.code} {self.text_zh[:40]}"


class Responsibility(models.Model):
    """One responsible unit of a task (and, when set, of one of its guarantees), parsed from 责任单位.

    The unit is a member agency, one named pilot area (e.g. 北京市人民政府), every pilot area (试点地区), or a
    group the document names without listing it (有关行业主管部门, 各成员单位 …)."""

    class Unit(models.TextChoices):
        AGENCY = "agency", _("Department")
        AREAS = "areas", _("Pilot areas")
        AREA = "area", _("One pilot area")
        MEMBER_UNITS = "member_units", _("All member units of the joint conference")
        INDUSTRY_REGULATORS = "industry_regulators", _("Relevant industry regulators")
        RELEVANT = "relevant", _("Other relevant departments and units")

    class Duty(models.TextChoices):
        LEAD = "lead", _("Leads / advances")
        POLICY = "policy", _("Implements policy guarantees")
        MEASURES = "measures", _("Implements opening measures")
        SUPPORT = "support", _("Supports and guides")

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="responsibilities")
    guarantee = models.ForeignKey(
        PolicyGuarantee, null=True, blank=True, on_delete=models.CASCADE, related_name="responsibilities"
    )
    unit = models.CharField(max_length=24, choices=Unit.choices)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="responsibilities")
    # A named area, by its region code (北京市人民政府 → 110000): areas of a round are data, so a code, not an FK.
    area_region_code = models.CharField(max_length=6, blank=True)
    duties = models.JSONField(default=list)
    is_lead = models.BooleanField(default=False)  # 牵头

    class Meta:
        ordering = ["task", "guarantee", "pk"]
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibilities")

    def __str__(self) -> str:
        who = self.agency.name if self.agency_id else (self.area_region_code or self.get_unit_display())
        return f"{self.task.code}: {who} ({', '.join(self.duties)})"


class OpeningMeasure(models.Model):
    """A measure of 附件2 (开放便利举措): domain, industry, the measure and the regulations it temporarily adjusts."""

    round = models.ForeignKey(PilotRound, on_delete=models.CASCADE, related_name="opening_measures")
    code = models.CharField(_("code"), max_length=12)
    order = models.PositiveSmallIntegerField(default=0)
    domain_zh = models.CharField(_("domain"), max_length=60)
    domain_en = models.CharField(_("domain (English)"), max_length=100, blank=True)
    industry_zh = models.CharField(_("industry"), max_length=60)
    industry_en = models.CharField(_("industry (English)"), max_length=100, blank=True)
    text_zh = models.TextField(_("measure"))
    text_en = models.TextField(_("measure (English)"), blank=True)
    # EBOPS components the measure opens (for early warning and effect indicators), e.g. ["SG"] for banking.
    ebops_components = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["round", "order"]
        unique_together = [("round", "code")]
        verbose_name = _("opening measure")
        verbose_name_plural = _("opening measures")

    def __str__(self) -> str:
        return f"{self.code} {self.industry_zh}: {self.text_zh[:40]}"


class AdjustedRegulation(models.Model):
    """A current provision (现行相关规定) that a measure adjusts, quoted as printed."""

    measure = models.ForeignKey(OpeningMeasure, on_delete=models.CASCADE, related_name="regulations")
    order = models.PositiveSmallIntegerField(default=0)
    instrument_zh = models.CharField(_("instrument"), max_length=200)
    text_zh = models.TextField(_("provision quoted"))

    class Meta:
        ordering = ["measure", "order"]
        verbose_name = _("adjusted regulation")
        verbose_name_plural = _("adjusted regulations")

    def __str__(self) -> str:
        return self.instrument_zh


# --- work plans and task tracking --------------------------------------------------------------------------------


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    # Its own context: a plan or report the ministry approved is 已通过, not the 已审核 of a monthly report.
    APPROVED = "approved", pgettext_lazy("governance review", "Approved")
    RETURNED = "returned", _("Returned")


class WorkPlan(models.Model):
    """An area's work plan (工作方案): its own actions mapped to the programme's tasks; reviewed by the ministry."""

    scope_area_path = "area"

    area = models.OneToOneField(PilotArea, on_delete=models.CASCADE, related_name="work_plan")
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    document_no = models.CharField(_("document number"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    review_note = models.TextField(_("review note"), blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("work plan")
        verbose_name_plural = _("work plans")

    def __str__(self) -> str:
        return f"{self.area}: {self.title}"


class WorkPlanAction(models.Model):
    """A concrete action of a work plan, mapped to one programme task, with its own deadline."""

    scope_area_path = "plan__area"
    scope_task_path = "task"

    plan = models.ForeignKey(WorkPlan, on_delete=models.CASCADE, related_name="actions")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="plan_actions")
    text = models.TextField(_("action"))
    lead_unit = models.CharField(_("lead unit"), max_length=200, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    target = models.CharField(_("target indicator"), max_length=300, blank=True)

    class Meta:
        ordering = ["plan", "task__order", "pk"]
        verbose_name = _("work plan action")
        verbose_name_plural = _("work plan actions")

    def __str__(self) -> str:
        return self.text[:60]


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", pgettext_lazy("governance status", "Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    BLOCKED = "blocked", _("Blocked")


class AreaTask(models.Model):
    """One task in one area: its status, deadline and progress. Created for every task an area is responsible for."""

    scope_area_path = "area"
    scope_task_path = "task"

    area = models.ForeignKey(PilotArea, on_delete=models.CASCADE, related_name="area_tasks")
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="area_tasks")
    status = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED)
    due_date = models.DateField(_("due"))
    completed_on = models.DateField(_("completed on"), null=True, blank=True)
    status_note = models.TextField(_("status note"), blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area__order", "task__order"]
        unique_together = [("area", "task")]
        verbose_name = _("area task")
        verbose_name_plural = _("area tasks")

    def __str__(self) -> str:
        return f"{self.area} · {self.task.code}"


class ProgressReport(models.Model):
    """A quarterly progress report on one area task: narrative, indicators, evidence, department confirmations."""

    scope_area_path = "area_task__area"
    scope_task_path = "area_task__task"

    area_task = models.ForeignKey(AreaTask, on_delete=models.CASCADE, related_name="progress_reports")
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    status_reported = models.CharField(_("status"), max_length=12, choices=TaskStatus.choices)
    narrative = models.TextField(_("progress"))
    indicators = models.JSONField(_("indicators"), default=list, blank=True)  # [{"name", "value", "unit"}]
    submitted_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-quarter", "-submitted_at"]
        unique_together = [("area_task", "year", "quarter")]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")

    def __str__(self) -> str:
        return f"{self.area_task} {self.year}Q{self.quarter}"


def evidence_path(instance: Evidence, filename: str) -> str:
    # Content-addressed: the stored name is the checksum, so a file can never be silently replaced.
    return f"governance/evidence/{instance.sha256[:2]}/{instance.sha256}"


class Evidence(models.Model):
    """An evidence attachment of a progress report, stored with its SHA-256; type and size checked on upload."""

    scope_area_path = "progress__area_task__area"
    scope_task_path = "progress__area_task__task"

    progress = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64, db_index=True)
    uploaded_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "pk"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")

    def __str__(self) -> str:
        return self.original_name


class Confirmation(models.Model):
    """A responsible department's confirmation (or dispute) of an area's progress report."""

    scope_area_path = "progress__area_task__area"
    scope_task_path = "progress__area_task__task"

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", _("Confirmed")
        DISPUTED = "disputed", _("Disputed")

    progress = models.ForeignKey(ProgressReport, on_delete=models.CASCADE, related_name="confirmations")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    decision = models.CharField(_("decision"), max_length=12, choices=Decision.choices)
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at"]
        unique_together = [("progress", "agency")]
        verbose_name = _("department confirmation")
        verbose_name_plural = _("department confirmations")

    def __str__(self) -> str:
        return f"{self.progress} · {self.agency} ({self.decision})"


class SupervisionNotice(models.Model):
    """A supervision notice (督办) from the ministry on an area task, with the area's reply."""

    scope_area_path = "area_task__area"
    scope_task_path = "area_task__task"

    class State(models.TextChoices):
        OPEN = "open", _("Awaiting reply")
        REPLIED = "replied", _("Replied")
        CLOSED = "closed", _("Closed")

    area_task = models.ForeignKey(AreaTask, on_delete=models.CASCADE, related_name="notices")
    message = models.TextField(_("notice"))
    reply_due = models.DateField(_("reply due"))
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.OPEN)
    issued_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    reply = models.TextField(_("reply"), blank=True)
    replied_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    replied_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("supervision notice")
        verbose_name_plural = _("supervision notices")

    def __str__(self) -> str:
        return f"{self.area_task} {self.issued_at:%Y-%m-%d}"


# --- opening measures in the areas -------------------------------------------------------------------------------


class MeasureStatus(models.TextChoices):
    NOT_STARTED = "not_started", pgettext_lazy("governance status", "Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    IMPLEMENTED = "implemented", _("Implemented")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class AreaMeasure(models.Model):
    """An opening measure in one area: implementation status, date, enabling document and legal basis."""

    scope_area_path = "area"

    area = models.ForeignKey(PilotArea, on_delete=models.CASCADE, related_name="area_measures")
    measure = models.ForeignKey(OpeningMeasure, on_delete=models.CASCADE, related_name="area_measures")
    status = models.CharField(_("status"), max_length=16, choices=MeasureStatus.choices, default=MeasureStatus.NOT_STARTED)
    implemented_on = models.DateField(_("implemented on"), null=True, blank=True)
    enabling_document = models.CharField(_("local enabling document"), max_length=300, blank=True)
    legal_basis = models.TextField(_("legal basis of the adjustment"), blank=True)
    note = models.TextField(_("note"), blank=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["area__order", "measure__order"]
        unique_together = [("area", "measure")]
        verbose_name = _("opening measure in an area")
        verbose_name_plural = _("opening measures in the areas")

    def __str__(self) -> str:
        return f"{self.area} · {self.measure.code}"


class MeasureEffect(models.Model):
    """An effect indicator of a measure in an area for a quarter (enterprises using it, transactions, amount)."""

    scope_area_path = "area_measure__area"

    class Indicator(models.TextChoices):
        ENTERPRISES = "enterprises", _("Enterprises using the measure")
        TRANSACTIONS = "transactions", _("Transactions or cases")
        AMOUNT = "amount", _("Amount (10,000 CNY)")

    area_measure = models.ForeignKey(AreaMeasure, on_delete=models.CASCADE, related_name="effects")
    year = models.PositiveSmallIntegerField(_("year"))
    quarter = models.PositiveSmallIntegerField(_("quarter"))
    indicator = models.CharField(_("indicator"), max_length=16, choices=Indicator.choices)
    value = models.DecimalField(_("value"), max_digits=18, decimal_places=2)

    class Meta:
        ordering = ["year", "quarter", "indicator"]
        unique_together = [("area_measure", "year", "quarter", "indicator")]
        verbose_name = _("measure effect")
        verbose_name_plural = _("measure effects")

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter} {self.get_indicator_display()}: {self.value}"


# --- results and replicable experience ---------------------------------------------------------------------------


class ResultsReport(models.Model):
    """An area's annual results report (试点成效): figures pulled from reporting/analytics, plus narrative."""

    scope_area_path = "area"

    area = models.ForeignKey(PilotArea, on_delete=models.CASCADE, related_name="results_reports")
    year = models.PositiveSmallIntegerField(_("year"))
    narrative = models.TextField(_("narrative"), blank=True)
    # Snapshot of the figures at the time they were pulled: [{"code", "label", "value", "unit", "source"}].
    figures = models.JSONField(default=list, blank=True)
    figures_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    submitted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)

    class Meta:
        ordering = ["-year", "area__order"]
        unique_together = [("area", "year")]
        verbose_name = _("annual results report")
        verbose_name_plural = _("annual results reports")

    def __str__(self) -> str:
        return f"{self.area} {self.year}"


class ExperienceCase(models.Model):
    """A replicable experience case (可复制可推广经验): written by an area, reviewed and published by the ministry."""

    scope_area_path = "area"

    area = models.ForeignKey(PilotArea, on_delete=models.CASCADE, related_name="experience_cases")
    title = models.CharField(_("title"), max_length=200)
    problem = models.TextField(_("problem addressed"))
    measure = models.TextField(_("measure taken"))
    effect = models.TextField(_("effect"))
    tasks = models.ManyToManyField(Task, blank=True, related_name="experience_cases", verbose_name=_("related tasks"))
    status = models.CharField(_("status"), max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT)
    created_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(_("review note"), blank=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["-published_at", "-created_at"]
        verbose_name = _("replicable experience")
        verbose_name_plural = _("replicable experiences")

    def __str__(self) -> str:
        return self.title

    @property
    def is_published(self) -> bool:
        return self.status == ReviewStatus.APPROVED and self.published_at is not None


class Adoption(models.Model):
    """Another area's adoption (复制推广) of a published experience."""

    scope_area_path = "area"

    case = models.ForeignKey(ExperienceCase, on_delete=models.CASCADE, related_name="adoptions")
    area = models.ForeignKey(PilotArea, on_delete=models.CASCADE, related_name="adoptions")
    adopted_on = models.DateField(_("adopted on"))
    note = models.TextField(_("how it was adopted"), blank=True)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["adopted_on"]
        unique_together = [("case", "area")]
        verbose_name = _("adoption")
        verbose_name_plural = _("adoptions")

    def __str__(self) -> str:
        return f"{self.case} → {self.area}"


# --- performance evaluation --------------------------------------------------------------------------------------


class IndicatorSystem(models.Model):
    """A configurable evaluation indicator system (绩效评价指标体系) for a round."""

    round = models.ForeignKey(PilotRound, on_delete=models.CASCADE, related_name="indicator_systems")
    code = models.CharField(_("code"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_default = models.BooleanField(default=False)

    class Meta:
        unique_together = [("round", "code")]
        verbose_name = _("evaluation indicator system")
        verbose_name_plural = _("evaluation indicator systems")

    def __str__(self) -> str:
        return self.name


class EvaluationIndicator(models.Model):
    """One indicator of a system: where its value comes from, its weight and how the value becomes a score.

    `source` names a function in `governance.evaluation.SOURCES`; `params` configure the scoring method:
    threshold `{"steps": [[min_value, score], ...]}`, linear `{"low": x0, "high": x1}` (0 → 100 between them),
    rank `{}` (best area 100, worst 0). `higher_is_better` flips the direction."""

    class Method(models.TextChoices):
        THRESHOLD = "threshold", _("Thresholds")
        LINEAR = "linear", _("Linear between bounds")
        RANK = "rank", _("Rank")

    system = models.ForeignKey(IndicatorSystem, on_delete=models.CASCADE, related_name="indicators")
    code = models.CharField(_("code"), max_length=32)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    group = models.CharField(_("group"), max_length=32, blank=True)
    source = models.CharField(_("source"), max_length=48)
    weight = models.DecimalField(_("weight"), max_digits=6, decimal_places=2)
    method = models.CharField(_("scoring method"), max_length=12, choices=Method.choices)
    params = models.JSONField(default=dict, blank=True)
    higher_is_better = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["system", "order"]
        unique_together = [("system", "code")]
        verbose_name = _("evaluation indicator")
        verbose_name_plural = _("evaluation indicators")

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name


class EvaluationRun(models.Model):
    """One annual run of an indicator system over the round's areas; scores are stored, so a run is a record."""

    system = models.ForeignKey(IndicatorSystem, on_delete=models.PROTECT, related_name="runs")
    year = models.PositiveSmallIntegerField(_("year"))
    run_at = models.DateTimeField(default=timezone.now)
    run_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    # The system as it was when run (indicators, weights, methods), so later edits do not rewrite history.
    config = models.JSONField(default=dict)

    class Meta:
        ordering = ["-run_at"]
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")

    def __str__(self) -> str:
        return f"{self.system} {self.year} ({self.run_at:%Y-%m-%d %H:%M})"


class EvaluationResult(models.Model):
    scope_area_path = "area"

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="results")
    area = models.ForeignKey(PilotArea, on_delete=models.PROTECT, related_name="+")
    total = models.DecimalField(max_digits=7, decimal_places=2)
    rank = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["run", "rank"]
        unique_together = [("run", "area")]

    def __str__(self) -> str:
        return f"{self.run} · {self.area}: {self.total} (#{self.rank})"


class EvaluationScore(models.Model):
    """One area's score on one indicator, with the raw value and the inputs it was computed from."""

    result = models.ForeignKey(EvaluationResult, on_delete=models.CASCADE, related_name="scores")
    indicator_code = models.CharField(max_length=32)
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True)
    score = models.DecimalField(max_digits=7, decimal_places=2)
    weighted = models.DecimalField(max_digits=7, decimal_places=2)
    # {"formula": "...", "inputs": [{"label", "value", "unit", "url"}], "note": "..."}
    explanation = models.JSONField(default=dict)

    class Meta:
        ordering = ["result", "pk"]
        unique_together = [("result", "indicator_code")]

    def __str__(self) -> str:
        return f"{self.result} · {self.indicator_code}: {self.score}"


# --- opening-risk early warning ----------------------------------------------------------------------------------


class AlertLevel(models.TextChoices):
    YELLOW = "yellow", _("Yellow")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")


class RiskRule(models.Model):
    """An early-warning indicator with its 黄/橙/红 thresholds. `kind` names a function in
    `governance.early_warning.KINDS`; `params` configure it (component, window …)."""

    round = models.ForeignKey(PilotRound, on_delete=models.CASCADE, related_name="risk_rules")
    code = models.CharField(_("code"), max_length=32)
    name_zh = models.CharField(_("Chinese name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    kind = models.CharField(_("kind"), max_length=32)
    params = models.JSONField(default=dict, blank=True)
    yellow = models.DecimalField(_("yellow threshold"), max_digits=12, decimal_places=4)
    orange = models.DecimalField(_("orange threshold"), max_digits=12, decimal_places=4)
    red = models.DecimalField(_("red threshold"), max_digits=12, decimal_places=4)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        unique_together = [("round", "code")]
        ordering = ["round", "code"]
        verbose_name = _("early-warning indicator")
        verbose_name_plural = _("early-warning indicators")

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name


class RiskAlert(models.Model):
    """An alert fired by a rule for an area and month; acknowledged and handled by the area, with a history."""

    scope_area_path = "area"

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("alert state", "Open")  # not the verb "open" of buttons
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        HANDLED = "handled", _("Handled")

    rule = models.ForeignKey(RiskRule, on_delete=models.PROTECT, related_name="alerts")
    area = models.ForeignKey(PilotArea, on_delete=models.CASCADE, related_name="risk_alerts")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    subject = models.CharField(_("subject"), max_length=100, blank=True)  # e.g. the EBOPS component or partner
    level = models.CharField(_("level"), max_length=8, choices=AlertLevel.choices)
    value = models.DecimalField(_("value"), max_digits=20, decimal_places=4)
    explanation = models.JSONField(default=dict)
    fired_at = models.DateTimeField(default=timezone.now)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    acknowledged_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    handling_note = models.TextField(_("handling"), blank=True)

    class Meta:
        ordering = ["-year", "-month", "-fired_at"]
        unique_together = [("rule", "area", "year", "month", "subject")]
        verbose_name = _("early-warning alert")
        verbose_name_plural = _("early-warning alerts")

    def __str__(self) -> str:
        return f"{self.rule} · {self.area} {self.year}-{self.month:02d} ({self.level})"
