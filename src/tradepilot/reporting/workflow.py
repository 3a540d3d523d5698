"""The report workflow: submit, return, approve, accept, lock, revise — who may do what, and the audit of it.

    draft ─submit→ submitted ─approve→ approved ─accept→ accepted ─(lock date)→ locked
                       │                  │                  │
                       └──return→ returned┘←─return──────────┘       accepted/locked ─revise→ new version (draft)

Two review levels apply when the enterprise sits below a province (a city or new area): the city-level bureau
approves and the provincial bureau accepts. For an enterprise registered directly at province level (e.g. in a
municipality such as Beijing) the provincial bureau's approval is also the acceptance.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.models import Region, Role
from tradepilot.core.roles import profile_of, role_of
from tradepilot.core.scoping import is_in_scope
from tradepilot.reporting import periods
from tradepilot.reporting.models import MonthlyLine, Report, Status
from tradepilot.reporting.periods import Period, is_locked
from tradepilot.reporting.services import ReportError, check_editable, refresh_usd_values
from tradepilot.reporting.signals import report_changed
from tradepilot.reporting.validation import validate_report


def approval_region(enterprise) -> Region:
    """The region whose bureau approves: the enterprise's city-level ancestor, else its province."""
    chain = enterprise.region.ancestors()
    return chain[1] if len(chain) > 1 else chain[0]


def is_two_level(enterprise) -> bool:
    return len(enterprise.region.ancestors()) > 1


def _bureau_region(user) -> Region | None:
    profile = profile_of(user)
    return profile.region if profile is not None and role_of(user) == Role.BUREAU else None


def can_edit(user, report: Report) -> bool:
    return role_of(user) == Role.ENTERPRISE and is_in_scope(user, report)


def can_approve(user, report: Report) -> bool:
    role = role_of(user)
    if role == Role.MINISTRY:
        return True
    region = _bureau_region(user)
    return region is not None and region.code == approval_region(report.enterprise).code


def can_accept(user, report: Report) -> bool:
    role = role_of(user)
    if role == Role.MINISTRY:
        return True
    region = _bureau_region(user)
    return region is not None and region.level == Region.Level.PROVINCE and region.contains(report.enterprise.region)


def allowed_actions(user, report: Report) -> list[str]:
    actions = []
    if report.is_current:
        if report.status in (Status.DRAFT, Status.RETURNED) and can_edit(user, report):
            actions += ["edit", "submit"]
        if report.status == Status.SUBMITTED and can_approve(user, report):
            actions += ["approve", "return"]
        if report.status == Status.APPROVED and can_accept(user, report):
            actions += ["accept", "return"]
        if report.status in (Status.ACCEPTED, Status.LOCKED) and can_edit(user, report):
            actions.append("revise")
    return actions


def _require(allowed: bool):
    if not allowed:
        raise ReportError(_("You are not allowed to do this with this report."), code="forbidden")


def _transition(report: Report, actor, action: str, new_status: str, reason: str = "", **fields) -> Report:
    old = report.status
    report.status = new_status
    for name, value in fields.items():
        setattr(report, name, value)
    report.save()
    audit.record(actor, action, report, changes={"status": [old, new_status]}, reason=reason,
                 enterprise=report.enterprise, report=report)
    report_changed.send(sender=Report, report=report, action=action)
    return report


def _tell(users, title: str, report: Report) -> None:
    """In-app notice to the people who act next; sent after commit so a rolled-back change tells no one."""
    from tradepilot.core.notifications import notify

    url = f"/reporting/reports/{report.pk}/"
    user_ids = list(users.values_list("user_id", flat=True))
    transaction.on_commit(lambda: [notify(u, title, f"{report.enterprise.name} · {report.period_label}", url)
                                   for u in _users(user_ids)])


def _users(ids):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(pk__in=ids, is_active=True)


def _bureau_profiles(region: Region):
    from tradepilot.core.models import Profile

    return Profile.objects.filter(role=Role.BUREAU, region=region)


def _locked_row(report: Report) -> Report:
    return Report.objects.select_for_update().select_related("enterprise__region", "form").get(pk=report.pk)


@transaction.atomic
def submit(report: Report, actor) -> Report:
    report = _locked_row(report)
    _require(can_edit(actor, report))
    if report.status not in (Status.DRAFT, Status.RETURNED):
        raise ReportError(_("Only a draft or returned report can be submitted."), code="bad_state")
    check_editable(report, actor)
    missing_rates = refresh_usd_values(report)
    result = validate_report(report, line_errors=missing_rates)
    if result.blocking:
        raise ReportError(_("The report has problems that must be fixed or explained before submission."),
                          errors=_flatten(result), code="validation")
    report = _transition(report, actor, "submit", Status.SUBMITTED, submitted_at=timezone.now(), submitted_by=actor,
                         return_reason="")
    _tell(_bureau_profiles(approval_region(report.enterprise)), _("A report is waiting for your review"), report)
    return report


def _flatten(result) -> list[dict]:
    out = list(result.line_errors)
    for r in result.errors:
        out.append({"row": None, "field": f"rule:{r.rule}", "value": r.left or "", "code": "rule_error",
                    "message": r.message})
    for r in result.warnings:
        if not r.explanation:
            out.append({"row": None, "field": f"explanations.{r.rule}", "value": r.left or "",
                        "code": "unexplained_warning", "message": r.message + " " + _("Give an explanation.")})
    return out


@transaction.atomic
def approve(report: Report, actor, note: str = "") -> Report:
    report = _locked_row(report)
    if report.status != Status.SUBMITTED:
        raise ReportError(_("Only a submitted report can be approved."), code="bad_state")
    _require(can_approve(actor, report))
    now = timezone.now()
    if is_two_level(report.enterprise):
        report = _transition(report, actor, "approve", Status.APPROVED, reason=note, approved_at=now, approved_by=actor)
        _tell(_bureau_profiles(report.enterprise.region.province), _("An approved report is waiting for acceptance"),
              report)
        return report
    # Single-level: the provincial bureau's approval is final.
    return _transition(report, actor, "approve", Status.ACCEPTED, reason=note, approved_at=now, approved_by=actor,
                       accepted_at=now, accepted_by=actor)


@transaction.atomic
def accept(report: Report, actor, note: str = "") -> Report:
    report = _locked_row(report)
    if report.status != Status.APPROVED:
        raise ReportError(_("Only an approved report can be accepted."), code="bad_state")
    _require(can_accept(actor, report))
    return _transition(report, actor, "accept", Status.ACCEPTED, reason=note, accepted_at=timezone.now(),
                       accepted_by=actor)


@transaction.atomic
def return_report(report: Report, actor, reason: str) -> Report:
    report = _locked_row(report)
    if not reason or not reason.strip():
        raise ReportError(_("Say why the report is returned."),
                          [{"row": None, "field": "reason", "value": "", "code": "required",
                            "message": _("A reason is required.")}], code="reason_required")
    if report.status == Status.SUBMITTED:
        _require(can_approve(actor, report))
    elif report.status == Status.APPROVED:
        _require(can_accept(actor, report))
    else:
        raise ReportError(_("Only a submitted or approved report can be returned."), code="bad_state")
    report = _transition(report, actor, "return", Status.RETURNED, reason=reason.strip(), return_reason=reason.strip())
    _tell(report.enterprise.users.all(), _("Your report was returned: %(r)s") % {"r": reason.strip()[:120]}, report)
    return report


@dataclass
class BulkResult:
    report_id: int
    ok: bool
    message: str = ""


def bulk_approve(report_ids: list[int], actor, queryset) -> list[BulkResult]:
    """Approve each report in `queryset` (already scoped) whose id is listed; one failure does not stop the rest."""
    results = []
    found = {r.pk: r for r in queryset.filter(pk__in=report_ids)}
    for rid in report_ids:
        report = found.get(rid)
        if report is None:
            results.append(BulkResult(rid, False, _("Not found.")))
            continue
        try:
            approve(report, actor)
            results.append(BulkResult(rid, True))
        except ReportError as exc:
            results.append(BulkResult(rid, False, exc.message))
    return results


@transaction.atomic
def revise(report: Report, actor, reason: str) -> Report:
    """Open a new version of an accepted report; the accepted one stays readable as superseded."""
    report = _locked_row(report)
    if report.status not in (Status.ACCEPTED, Status.LOCKED) or not report.is_current:
        raise ReportError(_("Only the current accepted or locked report can be revised."), code="bad_state")
    _require(can_edit(actor, report))
    if not reason or not reason.strip():
        raise ReportError(_("Say why the report is revised."),
                          [{"row": None, "field": "reason", "value": "", "code": "required",
                            "message": _("A reason is required.")}], code="reason_required")
    if is_locked(report.form, Period(report.year, report.month), report.enterprise):
        raise ReportError(_("This period is locked; ask your bureau for a lock exception to revise it."), code="locked")
    old_status = report.status
    report.is_current = False
    report.status = Status.SUPERSEDED
    report.save(update_fields=["is_current", "status", "updated"])
    audit.record(actor, "supersede", report, changes={"status": [old_status, Status.SUPERSEDED]}, reason=reason,
                 enterprise=report.enterprise, report=report)
    report_changed.send(sender=Report, report=report, action="supersede")
    new = Report.objects.create(
        enterprise=report.enterprise, form=report.form, year=report.year, month=report.month,
        version=report.version + 1, previous=report, nil_return=report.nil_return, currency=report.currency,
        explanations=report.explanations, revision_reason=reason.strip(), content_hash=report.content_hash,
    )
    lines = list(report.lines.all())
    for line in lines:
        line.pk = None
        line.report = new
    MonthlyLine.objects.bulk_create(lines)
    from tradepilot.reporting.annual import copy_content

    copy_content(report, new)
    audit.record(actor, "revise", new, changes={"version": [report.version, new.version], "status": [None, Status.DRAFT]},
                 reason=reason.strip(), enterprise=new.enterprise, report=new)
    return new


@transaction.atomic
def lock_due_reports(on=None, actor=None) -> int:
    """Move accepted reports whose period has locked to `locked`. Idempotent; run daily and at demo start."""
    on = on or periods.today()
    count = 0
    for report in Report.objects.select_related("form", "enterprise").filter(status=Status.ACCEPTED, is_current=True):
        if is_locked(report.form, Period(report.year, report.month), None, on):
            _transition(report, actor, "lock", Status.LOCKED)
            count += 1
    return count


def changes_since_approval(report: Report) -> list[dict]:
    """What changed against the last approved version: per line key, old and new amounts."""
    base = report.previous
    while base is not None and base.approved_at is None:
        base = base.previous
    if base is None:
        return []

    def summary(r: Report) -> dict:
        out: dict[tuple, list] = {}
        for line in r.lines.select_related("service", "partner", "mode", "currency"):
            key = (line.get_direction_display(), line.service.code, line.partner.alpha2, line.mode.code,
                   line.related_party, line.currency.code)
            out.setdefault(key, []).append(line.amount)
        return {k: sum(v) for k, v in out.items()}

    old, new = summary(base), summary(report)
    rows = []
    for key in sorted(set(old) | set(new), key=str):
        a, b = old.get(key), new.get(key)
        if a != b:
            rows.append({"direction": key[0], "service": key[1], "partner": key[2], "mode": key[3],
                         "related_party": key[4], "currency": key[5], "old": a, "new": b,
                         "change": "added" if a is None else "removed" if b is None else "changed"})
    return rows
