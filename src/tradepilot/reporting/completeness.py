"""Completeness and timeliness of reporting, per region and period (after DHIS2's reporting-rate summary).

Expected reporters are the active key-contact enterprises of the region. For each: submitted (any version past
draft), on time (first submission by the due date), approved, accepted; plus the coverage of systemically
important enterprises — the plan's 系统重要性服务贸易企业直报全覆盖.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.db.models import Min, QuerySet
from django.utils.translation import gettext as _

from tradepilot.core.models import Region
from tradepilot.core.notifications import notify
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting.models import Report, ReportForm, Status
from tradepilot.reporting.periods import Period, due_date

SUBMITTED = {Status.SUBMITTED, Status.APPROVED, Status.ACCEPTED, Status.LOCKED}
APPROVED = {Status.APPROVED, Status.ACCEPTED, Status.LOCKED}
ACCEPTED = {Status.ACCEPTED, Status.LOCKED}


def pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


@dataclass
class Row:
    region_code: str
    region_name: str
    expected: int = 0
    submitted: int = 0
    on_time: int = 0
    approved: int = 0
    accepted: int = 0
    systemic_expected: int = 0
    systemic_submitted: int = 0
    non_reporters: list[int] = field(default_factory=list)

    @property
    def submitted_pct(self):
        return pct(self.submitted, self.expected)

    @property
    def on_time_pct(self):
        return pct(self.on_time, self.expected)

    @property
    def accepted_pct(self):
        return pct(self.accepted, self.expected)

    @property
    def systemic_coverage_pct(self):
        return pct(self.systemic_submitted, self.systemic_expected)

    def as_dict(self) -> dict:
        d = asdict(self)
        d.pop("non_reporters")
        d.update(submitted_pct=self.submitted_pct, on_time_pct=self.on_time_pct, accepted_pct=self.accepted_pct,
                 systemic_coverage_pct=self.systemic_coverage_pct)
        return d


def _group_region(enterprise_path: str, groups: list[Region]) -> Region | None:
    for region in groups:
        if enterprise_path.startswith(region.path):
            return region
    return None


def completeness(enterprises: QuerySet, period: Period, form: ReportForm | None = None,
                 group_by: list[Region] | None = None) -> tuple[list[Row], Row]:
    """Rows per region of `group_by` (default: provinces) plus a total row, over the given (scoped) enterprises."""
    form = form or ReportForm.objects.get(code=ReportForm.Code.MONTHLY)
    due = due_date(form, period)
    expected = list(enterprises.key_contacts().values("id", "is_systemic", "region__path"))
    ids = [e["id"] for e in expected]
    status = dict(Report.objects.filter(enterprise_id__in=ids, form=form, year=period.year, month=period.month,
                                        is_current=True).values_list("enterprise_id", "status"))
    # Timeliness counts the first submission of any version, so a later revision does not make a report late.
    first_submit = dict(
        Report.objects.filter(enterprise_id__in=ids, form=form, year=period.year, month=period.month,
                              submitted_at__isnull=False)
        .values("enterprise_id").annotate(first=Min("submitted_at")).values_list("enterprise_id", "first")
    )
    if group_by is None:
        group_by = list(Region.objects.filter(level=Region.Level.PROVINCE))
    group_by = sorted(group_by, key=lambda r: -len(r.path))  # most specific first
    rows: dict[str, Row] = {}
    total = Row("", _("Total"))
    from django.utils import timezone

    for e in expected:
        region = _group_region(e["region__path"], group_by)
        targets = [total]
        if region is not None:
            targets.append(rows.setdefault(region.code, Row(region.code, region.name)))
        st = status.get(e["id"])
        first = first_submit.get(e["id"])
        on_time = st in SUBMITTED and first is not None and timezone.localtime(first).date() <= due
        for row in targets:
            row.expected += 1
            row.submitted += st in SUBMITTED
            row.on_time += on_time
            row.approved += st in APPROVED
            row.accepted += st in ACCEPTED
            if e["is_systemic"]:
                row.systemic_expected += 1
                row.systemic_submitted += st in SUBMITTED
            if st not in SUBMITTED:
                row.non_reporters.append(e["id"])
    return sorted(rows.values(), key=lambda r: r.region_code), total


def non_reporters(enterprises: QuerySet, period: Period, form: ReportForm | None = None) -> QuerySet:
    _rows, total = completeness(enterprises, period, form, group_by=[])
    return Enterprise.objects.filter(pk__in=total.non_reporters).select_related("region").order_by("region__code", "name")


def remind(enterprises: QuerySet, period: Period, actor, form: ReportForm | None = None) -> int:
    """Notify the users of each non-reporting enterprise, in the app and by e-mail. Returns users reminded."""
    form = form or ReportForm.objects.get(code=ReportForm.Code.MONTHLY)
    due = due_date(form, period)
    count = 0
    for enterprise in non_reporters(enterprises, period, form).prefetch_related("users__user"):
        for profile in enterprise.users.all():
            notify(
                profile.user,
                _("Reminder: %(form)s for %(period)s is due on %(due)s") % {"form": form, "period": period, "due": due},
                _("%(ent)s has not yet submitted its %(form)s for %(period)s. Please file it on Trade Pilot.")
                % {"ent": enterprise.name, "form": form, "period": period},
                url=f"/reporting/my/?period={period}",
                email=True,
            )
            count += 1
    return count
