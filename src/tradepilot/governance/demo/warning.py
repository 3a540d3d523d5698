"""Demo data: opening-risk early warning.

The default indicators are created for the round, then the last three months whose reporting is substantially in
are scanned, as the ministry would. The generated trade has no signal in Hangzhou, so one is made the way it would
arise: a Hangzhou enterprise finds it left out a large payment for financial services (EBOPS SG, opened by the
banking measure) from its report of the latest month; the Hangzhou bureau grants a lock exception when the month
has locked, the enterprise revises and resubmits its report through the reporting workflow, the bureau approves it,
and the analytics partition is refreshed at once. The scan then fires the import-surge alert, which
`bureau-hangzhou` acknowledges and handles with a note; the other alerts stay open.

Idempotent: nothing is done when the round already has alerts. Deterministic for a given date (`ctx.today`) and
seed: the enterprise is drawn from `ctx.rng`, and the amount follows from the previous year's imports.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from tradepilot.analytics import queries
from tradepilot.analytics.indicators import previous_period
from tradepilot.governance import early_warning, warning_alerts
from tradepilot.governance.models import RiskAlert
from tradepilot.governance.warning_kinds import area_filter, month_end

log = logging.getLogger(__name__)

HANGZHOU = "330100"
PREFERRED_COMPONENT = "SG"  # financial services, opened by the banking measure of 附件2
SURGE_SHARE = Decimal("0.9")  # the omitted payment, as a share of the component's imports a year before
ENTERPRISE_USERNAME = "enterprise-hangzhou-filer"
LOCK_REASON = "演示：企业自查发现漏报一笔跨境服务付费，准予更正已锁定月份的报表。"


def story(component: str) -> dict[str, str]:
    """What the enterprise left out and what the bureau found, in the words of the component's sector."""
    from tradepilot.core.models import ServiceCategory

    name = ServiceCategory.objects.get(code=component).name_zh
    payment = "向境外银行支付的跨境银团贷款安排费" if component == "SG" else f"向境外支付的{name}费用"
    return {
        "line_note": f"{payment}（一次性）",
        "revision": f"演示：企业自查发现本月{payment}漏报，申请更正。",
        "explanation": f"本月新增一笔{payment}，为一次性支出。",
        "approval": "演示：已核对补报付费的合同和付汇凭证。",
        "acknowledge": f"已收到预警，正在联系相关企业核实{name}进口大幅增长的原因。",
        "handling": (f"经核查，增长主要来自一家企业一次性的{payment}，属正常商业行为，不涉及违规经营；"
                     f"已提示企业关注汇率和跨境资金流动风险，并将{name}列为下月重点监测领域。"),
    }


def build(ctx) -> str:
    rnd = ctx.round
    early_warning.ensure_default_rules(rnd)
    if RiskAlert.objects.filter(area__round=rnd).exists():
        return ""
    latest = early_warning.latest_month()
    if latest is None:
        return "early warning: no official monthly data to scan"
    surge = _file_surge(ctx, latest)
    ministry = ctx.user("ministry")
    months = [previous_period(latest, back) for back in (2, 1, 0)]
    for period in months:
        early_warning.scan(rnd, period // 100, period % 100, ministry)
    handled = _handle(ctx, latest, surge)
    alerts = RiskAlert.objects.filter(area__round=rnd)
    levels = Counter(alerts.values_list("level", flat=True))
    open_count = alerts.filter(state=RiskAlert.State.OPEN).count()
    label = f"{months[0] // 100}-{months[0] % 100:02d} … {latest // 100}-{latest % 100:02d}"
    return (f"early warning: scanned {label}: {alerts.count()} alerts ({levels['red']} red, {levels['orange']} "
            f"orange, {levels['yellow']} yellow), {open_count} open; "
            + (f"Hangzhou {surge['component']} surge filed by {surge['enterprise'].name}; " if surge else
               "no Hangzhou surge filed; ")
            + (f"one handled by {handled}" if handled else "none handled"))


def _component(area, period: int) -> tuple[str, Decimal] | None:
    """The opened component to show the surge in, with its imports a year before: financial services when the
    area imported such services then, else the opened component with the largest imports then."""
    from tradepilot.governance.measures import implemented_measures_by_component

    opened = sorted(c for c, since in implemented_measures_by_component(area).items() if since <= month_end(period))
    base_period = previous_period(period, 12)
    bases = {c: queries.total(area_filter(area, base_period, base_period, direction="M", components=(c,)))
             for c in opened}
    bases = {c: v for c, v in bases.items() if v > 0}
    if not bases:
        return None
    chosen = PREFERRED_COMPONENT if PREFERRED_COMPONENT in bases else max(bases, key=lambda c: (bases[c], c))
    return chosen, bases[chosen]


def _filer(enterprise):
    """The enterprise's reporting account (it files nothing else; no password: it cannot sign in)."""
    from django.contrib.auth import get_user_model

    from tradepilot.core.models import Profile, Role

    user, created = get_user_model().objects.get_or_create(
        username=ENTERPRISE_USERNAME, defaults={"email": f"{ENTERPRISE_USERNAME}@demo.example.cn"})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    profile, _made = Profile.objects.get_or_create(user=user, defaults={"role": Role.ENTERPRISE})
    profile.enterprises.add(enterprise)
    return user


def _raw(line) -> dict:
    return {"direction": line.direction, "service": line.service.code, "partner": line.partner.alpha2,
            "mode": line.mode.code, "related_party": line.related_party, "amount": str(line.amount),
            "currency": line.currency.code, "note": line.note}


def _file_surge(ctx, period: int) -> dict | None:
    """Revise a Hangzhou enterprise's report of `period` with the omitted payment; None when it cannot be done
    (no Hangzhou area or bureau, no opened component, no accepted report to revise)."""
    from tradepilot.core.models import ServiceCategory
    from tradepilot.enterprises.models import Enterprise
    from tradepilot.reporting import locks, services, workflow
    from tradepilot.reporting.models import MonthlyLine, Report, Status
    from tradepilot.reporting.periods import Period, is_locked
    from tradepilot.reporting.services import ReportError
    from tradepilot.reporting.validation import validate_report

    area, bureau = ctx.areas.get(HANGZHOU), ctx.user("bureau-hangzhou")
    found = _component(area, period) if area is not None else None
    if area is None or bureau is None or found is None:
        return None
    component, base = found
    year, month = divmod(period, 100)
    form = services.monthly_form()
    reports = list(Report.objects.filter(
        form=form, year=year, month=month, is_current=True, status__in=(Status.ACCEPTED, Status.LOCKED),
        enterprise__region__path__startswith=area.region.path, enterprise__is_active=True,
    ).select_related("enterprise").order_by("enterprise__uscc"))
    service = ServiceCategory.objects.filter(parent__code=component, is_leaf=True).order_by("order").first()
    if not reports or service is None:
        return None
    # An enterprise that already imports such services makes the likelier filer.
    importers = set(MonthlyLine.objects.filter(
        report__in=[r.pk for r in reports], direction="M", service__parent__code=component,
    ).values_list("report_id", flat=True))
    report = ctx.rng("warning", "surge", period).choice([r for r in reports if r.pk in importers] or reports)
    enterprise: Enterprise = report.enterprise
    words = story(component)
    amount = (base * SURGE_SHARE).quantize(Decimal(1000), ROUND_HALF_UP)
    try:
        with transaction.atomic():
            filer = _filer(enterprise)
            if is_locked(form, Period(year, month), enterprise):
                locks.grant(bureau, enterprise, form, Period(year, month), ctx.today + dt.timedelta(days=14),
                            LOCK_REASON)
            revision = workflow.revise(report, filer, words["revision"])
            lines = [_raw(line) for line in revision.lines.select_related("service", "partner", "mode", "currency")]
            lines.append({"direction": "M", "service": service.code, "partner": "HK", "mode": "1",
                          "related_party": False, "amount": str(amount), "currency": "USD",
                          "note": words["line_note"]})
            services.replace_lines(revision, services.parse_lines(lines), filer, reason=words["revision"])
            warnings = validate_report(Report.objects.get(pk=revision.pk)).warnings
            if warnings:
                services.set_explanations(revision, {w.rule: words["explanation"] for w in warnings}, filer)
            workflow.submit(Report.objects.get(pk=revision.pk), filer)
            workflow.approve(Report.objects.get(pk=revision.pk), bureau, words["approval"])
    except ReportError as exc:
        log.warning("early-warning demo: the Hangzhou revision was not filed: %s %s", exc, getattr(exc, "errors", ""))
        return None
    from tradepilot.analytics import store
    from tradepilot.analytics.schema import LINES

    store.refresh(LINES.name, year, month)  # at once, not by the background worker: the scan reads it next
    return {"component": component, "enterprise": enterprise, "amount": amount}


def _handle(ctx, period: int, surge: dict | None) -> str:
    """bureau-hangzhou acknowledges and handles the Hangzhou surge alert (else Hangzhou's highest alert). With
    little data (a small demo) Hangzhou may have no alert: then the ministry handles the highest one anywhere, so
    the lifecycle always shows."""
    bureau, area = ctx.user("bureau-hangzhou"), ctx.areas.get(HANGZHOU)
    alert = None
    if bureau is not None and area is not None:
        candidates = RiskAlert.objects.filter(area=area, state=RiskAlert.State.OPEN)
        if surge is not None:
            alert = candidates.filter(rule__kind="import_surge", subject=surge["component"], year=period // 100,
                                      month=period % 100).first()
        if alert is None:
            alert = warning_alerts.unhandled_first(candidates).first()
    if alert is None:
        bureau = ctx.user("ministry")
        alert = warning_alerts.unhandled_first(
            RiskAlert.objects.filter(area__round=ctx.round, state=RiskAlert.State.OPEN)).first()
    if alert is None or bureau is None:
        return ""
    if alert.rule.kind == "import_surge":
        words = story(alert.subject[:2])
    else:
        words = {"acknowledge": "已收到预警，正在联系相关企业核实情况。",
                 "handling": "经核查，相关变化来自少数企业的正常业务调整，已提示企业关注跨境经营风险，将持续监测。"}
    alert = warning_alerts.acknowledge(alert, bureau, words["acknowledge"])
    warning_alerts.handle(alert, bureau, words["handling"])
    return bureau.username
