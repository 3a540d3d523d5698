"""Synthetic data (`core.demo_data`) and the `seed`, `demo`, `token` and `lock_periods` commands."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from tradepilot.core import demo_data
from tradepilot.core.models import AuditLog, PilotArea, PilotRound, Profile, Region, Role
from tradepilot.core.tokens import user_for_token
from tradepilot.enterprises.models import Enterprise
from tradepilot.enterprises.uscc import is_valid
from tradepilot.reporting.models import ExchangeRate, MonthlyLine, Report, ReportForm, Status
from tradepilot.reporting.periods import Period, due_date, lock_date
from tradepilot.reporting.rates import RateTable
from tradepilot.reporting.services import content_hash, parse_lines
from tradepilot.reporting.validation import validate_report

TODAY = dt.date(2026, 11, 20)  # the latest closed month is 2026-10, due 2026-11-10, locking after 2026-11-30
LATEST = Period(2026, 10)


@pytest.fixture
def pinned_today(monkeypatch):
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: TODAY)


def fingerprint() -> dict:
    reports = sorted(
        (e, y, m, s, str(sub)) for e, y, m, s, sub in
        Report.objects.values_list("enterprise__uscc", "year", "month", "status", "submitted_at")
    )
    return {
        "usccs": sorted(Enterprise.objects.values_list("uscc", flat=True)),
        "names": sorted(Enterprise.objects.values_list("name", flat=True)),
        "reports": reports,
        "lines": MonthlyLine.objects.count(),
        "amount": MonthlyLine.objects.aggregate(s=Sum("amount"))["s"],
        "usd": MonthlyLine.objects.aggregate(s=Sum("usd_amount"))["s"],
    }


# --- the pure plan ----------------------------------------------------------------------------------------------


def test_plan_is_deterministic_and_needs_no_database(reference, django_assert_num_queries):
    regions, pilots = demo_data.region_infos(), demo_data.pilot_area_codes()
    as_of = dt.datetime(2026, 11, 20, 18, tzinfo=demo_data.CHINA_TZ)
    with django_assert_num_queries(0):
        a = demo_data.plan_enterprises(60, 7, regions, pilots)
        b = demo_data.plan_enterprises(60, 7, regions, pilots)
        other = demo_data.plan_enterprises(60, 8, regions, pilots)
        reports_a = [demo_data.plan_report(p, Period(2026, 3), seed=7, as_of=as_of, latest=False) for p in a]
        reports_b = [demo_data.plan_report(p, Period(2026, 3), seed=7, as_of=as_of, latest=False) for p in b]
        buckets = demo_data.latest_buckets(a, 7, LATEST)
    assert a == b and reports_a == reports_b
    assert [p.uscc for p in a] != [p.uscc for p in other]
    assert len({p.uscc for p in a}) == 60 and all(is_valid(p.uscc) for p in a)
    key = [p for p in a if p.is_key_contact]
    assert set(buckets) == {p.index for p in key}
    assert {"missing", "submitted", "reviewed"} <= set(buckets.values())


def test_synthetic_rates_are_plausible_and_stable():
    for year in range(2018, 2027):
        for month in (1, 6, 12):
            usd = demo_data.synthetic_rate("USD", year, month)
            assert Decimal("6.2") < usd < Decimal("7.4")
            assert Decimal("0.04") < demo_data.synthetic_rate("JPY", year, month) < Decimal("0.07")
            hkd = demo_data.synthetic_rate("HKD", year, month)
            assert abs(hkd * Decimal("7.8") / usd - 1) < Decimal("0.01")  # the peg
    assert demo_data.synthetic_rate("EUR", 2025, 5) == demo_data.synthetic_rate("EUR", 2025, 5)
    assert demo_data.synthetic_rate("CNY", 2025, 5) == 1


# --- generate() -------------------------------------------------------------------------------------------------


@pytest.fixture
def generated(reference, pinned_today):
    counts = demo_data.generate(20, 14, 7)
    return counts


def test_generate_counts_match_the_database(generated):
    assert generated["enterprises"] == Enterprise.objects.count() == 20
    monthly = Report.objects.filter(form__code=ReportForm.Code.MONTHLY)
    assert generated["reports"] == monthly.count() > 0
    assert generated["annual_reports"] == Report.objects.filter(month=0).count() > 0  # the forms of 2025
    assert generated["reports"] + generated["annual_reports"] == Report.objects.count()
    assert generated["lines"] == MonthlyLine.objects.count()
    assert generated["audit_entries"] == AuditLog.objects.filter(action="seed").count() == Report.objects.count()
    assert generated["periods"] == 14
    assert 15 <= generated["lines"] / generated["reports"] <= 45
    # Rates for each of the 14 months and 10 currencies.
    assert generated["exchange_rates"] == ExchangeRate.objects.count() == 140
    periods = {(y, m) for y, m in monthly.values_list("year", "month")}
    assert max(periods) == (2026, 10) and min(periods) == (2025, 9)
    assert set(Report.objects.filter(month=0).values_list("year", flat=True)) == {2025}


def test_enterprises_are_valid_and_spread_over_pilot_and_other_areas(generated):
    ents = list(Enterprise.objects.select_related("region", "industry"))
    assert all(is_valid(e.uscc) for e in ents)
    assert len({e.uscc for e in ents}) == len(ents)
    first_round = PilotRound.objects.order_by("start_date").first()
    pilot_paths = [a.region.path for a in PilotArea.objects.filter(round=first_round).select_related("region")]
    in_pilot = [e for e in ents if any(e.region.path.startswith(p) for p in pilot_paths)]
    assert 0 < len(in_pilot) < len(ents)  # some in non-pilot provinces' capitals too
    for e in ents:
        assert e.name.endswith("有限公司") and e.name_en and e.contact_email.endswith(".example.cn")
        assert e.contact_phone.isdigit() and len(e.contact_phone) == 11 and e.contact_phone[0] == "1"
        assert e.industry is not None and e.established < dt.date(2024, 1, 1)
        assert e.uscc[2:8] == e.region.code  # registered where it sits
        if e.is_systemic:
            assert e.is_key_contact and e.systemic_year >= e.key_contact_year
        if e.is_key_contact:
            assert e.key_contact_year in (2018, 2019)


def test_amounts_are_positive_cents_and_usd_matches_the_rates(generated):
    sample = list(MonthlyLine.objects.select_related("report", "currency").order_by("id")[:400])
    tables = {}
    for line in sample:
        assert isinstance(line.amount, Decimal) and line.amount > 0
        assert line.amount == line.amount.quantize(Decimal("0.01"))
        key = (line.report.year, line.report.month)
        table = tables.setdefault(key, RateTable.for_month(*key))
        assert line.usd_amount == table.to_usd(line.amount, line.currency.code)
    currencies = set(MonthlyLine.objects.values_list("currency__code", flat=True))
    assert "USD" in currencies and len(currencies) > 2


def test_content_hash_matches_the_lines(generated):
    for report in Report.objects.exclude(content_hash="").order_by("id")[:30]:
        raw = [{"direction": x.direction, "service": x.service.code, "partner": x.partner.alpha2, "mode": x.mode.code,
                "related_party": x.related_party, "amount": x.amount, "currency": x.currency.code}
               for x in report.lines.select_related("service", "partner", "mode", "currency").order_by("line_no")]
        assert content_hash(report.nil_return, parse_lines(raw)) == report.content_hash


def test_latest_period_mix(generated):
    key_contacts = set(Enterprise.objects.key_contacts().values_list("id", flat=True))
    latest = dict(Report.objects.filter(year=LATEST.year, month=LATEST.month).values_list("enterprise_id", "status"))
    missing = key_contacts - set(latest)
    assert missing, "some key-contact enterprises have not reported yet"
    assert Status.SUBMITTED in latest.values()
    assert generated["latest_missing"] == len(missing)
    assert generated["latest_submitted"] == sum(s == Status.SUBMITTED for s in latest.values())
    # Older periods are reviewed and locked, with an occasional gap.
    older = Report.objects.filter(form__code=ReportForm.Code.MONTHLY).exclude(year=LATEST.year, month=LATEST.month)
    assert set(older.values_list("status", flat=True)) <= {Status.LOCKED, Status.DRAFT}


def test_statuses_are_consistent_with_the_workflow(generated):
    now = timezone.now()
    for r in Report.objects.select_related("enterprise__region", "form"):  # monthly and annual
        form, period = r.form, Period(r.year, r.month)
        two_level = r.enterprise.region.level > Region.Level.PROVINCE
        assert r.is_current and r.version == 1 and r.created <= now
        if r.status in (Status.DRAFT,):
            assert r.submitted_at is None and r.approved_at is None and r.accepted_at is None
            continue
        assert r.submitted_at is not None and r.created <= r.submitted_at
        lock_end = dt.datetime.combine(lock_date(form, period), dt.time(23, 59), tzinfo=demo_data.CHINA_TZ)
        assert r.submitted_at <= lock_end, "no submission after the lock date"
        if r.status == Status.SUBMITTED:
            assert r.approved_at is None and r.accepted_at is None
        elif r.status == Status.RETURNED:
            assert r.return_reason and r.approved_at is None
        elif r.status == Status.APPROVED:
            assert two_level and r.submitted_at <= r.approved_at and r.accepted_at is None
        else:
            assert r.status in (Status.ACCEPTED, Status.LOCKED)
            assert r.submitted_at <= r.approved_at <= r.accepted_at
            if not two_level:
                assert r.approved_at == r.accepted_at
        if r.status == Status.LOCKED:
            assert TODAY > lock_date(form, period)
        if r.status == Status.ACCEPTED:
            assert TODAY <= lock_date(form, period)
    # Some reporters were late in older periods.
    late = [r for r in Report.objects.filter(form__code=ReportForm.Code.MONTHLY).exclude(submitted_at=None)
            .select_related("form") if timezone.localtime(r.submitted_at).date() > due_date(r.form, Period(r.year, r.month))]
    assert late


def test_submitted_reports_explain_their_warnings(generated):
    reports = Report.objects.filter(status__in=[Status.SUBMITTED, Status.ACCEPTED, Status.LOCKED], nil_return=False)
    for report in reports.order_by("-year", "-month", "id")[:60]:
        result = validate_report(report)
        assert not result.blocking, (report, result.as_dict())


def test_generate_is_deterministic_and_refuses_to_load_twice(reference, pinned_today):
    with transaction.atomic():
        demo_data.generate(20, 14, 7)
        first = fingerprint()
        transaction.set_rollback(True)
    assert not Enterprise.objects.exists()
    demo_data.generate(20, 14, 7)
    assert fingerprint() == first
    with pytest.raises(ValueError, match="already"):
        demo_data.generate(20, 14, 7)


def test_generate_an_earlier_window(reference, pinned_today):
    counts = demo_data.generate(15, 3, 2, end_period=Period(2025, 6))
    periods = set(Report.objects.values_list("year", "month"))
    assert periods <= {(2025, 4), (2025, 5), (2025, 6)} and (2025, 6) in periods  # no December: no annual forms
    assert counts["annual_reports"] == 0
    assert counts["latest_missing"] > 0
    # Every period has locked by TODAY: reviewed reports are locked, not left accepted.
    assert not Report.objects.filter(status=Status.ACCEPTED).exists()
    assert Report.objects.filter(year=2025, month=6, status=Status.LOCKED).exists()


def test_generate_refuses_a_month_that_has_not_ended(reference, pinned_today):
    with pytest.raises(ValueError, match="not ended"):
        demo_data.generate(5, 2, 1, end_period=Period(2026, 11))


# --- commands ---------------------------------------------------------------------------------------------------


def test_seed_command_loads_reference_data_and_generates(db):
    out = io.StringIO()
    call_command("seed", "--enterprises", "8", "--months", "2", "--seed", "3", stdout=out)
    assert Enterprise.objects.count() == 8
    assert "enterprises" in out.getvalue() and "Seeded" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("seed", "--enterprises", "8", "--months", "2", "--seed", "3", stdout=io.StringIO())


DEMO_ROLES = {
    "ministry": (Role.MINISTRY, None, None),
    "bureau-beijing": (Role.BUREAU, "110000", None),
    "bureau-hangzhou": (Role.BUREAU, "330100", None),
    "bureau-zhejiang": (Role.BUREAU, "330000", None),
    "enterprise-demo": (Role.ENTERPRISE, None, None),
    "auditor": (Role.AUDITOR, None, None),
    "agency-customs": (Role.AGENCY, None, "GACC"),
}


def assert_governance_demo() -> None:
    """What the governance demo must show: 杭州's bureau has filed progress with evidence; the ministry has overdue
    tasks and a supervision notice out; customs has co-owned tasks and confirmations; the evaluation ranks every
    area and each score explains itself; an early-warning alert fired and one was handled."""
    from django.utils import timezone

    from tradepilot.core.models import PilotArea
    from tradepilot.governance.models import (
        AreaTask,
        Confirmation,
        EvaluationRun,
        Evidence,
        ProgressReport,
        RiskAlert,
        SupervisionNotice,
    )

    hangzhou = ProgressReport.objects.filter(area_task__area__region__code="330100")
    assert hangzhou.filter(submitted_by__username="bureau-hangzhou").exists()
    assert Evidence.objects.filter(progress__in=hangzhou).exists()
    assert AreaTask.objects.exclude(status="completed").filter(due_date__lt=timezone.localdate()).exists()
    assert SupervisionNotice.objects.filter(state=SupervisionNotice.State.OPEN).exists()
    assert Confirmation.objects.filter(agency__code="GACC").exists()
    run = EvaluationRun.objects.order_by("-year").first()
    assert run is not None and run.results.count() == PilotArea.objects.count()
    for result in run.results.all():
        assert result.scores.exists()
        for score in result.scores.all():
            assert score.explanation.get("formula") and "inputs" in score.explanation
    assert RiskAlert.objects.exists()
    assert RiskAlert.objects.filter(state=RiskAlert.State.HANDLED).exclude(handling_note="").exists()


def test_demo_command_creates_demo_users_idempotently(db, settings):
    settings.DEMO_MODE = True
    out = io.StringIO()
    # 15 months: the early-warning demo compares a month with the same month of the year before.
    call_command("demo", "--no-serve", "--enterprises", "40", "--months", "15", stdout=out)
    assert "http://127.0.0.1:" in out.getvalue() and "enterprise-demo" in out.getvalue()
    assert_governance_demo()
    User = get_user_model()
    users = {u.username: u for u in User.objects.select_related("profile__region", "profile__agency")}
    assert set(DEMO_ROLES) <= set(users)
    for username, (role, region, agency) in DEMO_ROLES.items():
        user = users[username]
        assert user.check_password("demo")
        assert user.profile.role == role
        assert (user.profile.region.code if user.profile.region else None) == region
        assert (user.profile.agency.code if user.profile.agency else None) == agency
    assert users["ministry"].is_staff and users["ministry"].is_superuser
    assert not any(u.is_superuser for name, u in users.items() if name != "ministry")

    linked = list(users["enterprise-demo"].profile.enterprises.select_related("region").order_by("uscc"))
    assert 1 <= len(linked) <= 2 and all(e.region.code == "110000" and e.is_key_contact for e in linked)
    from tradepilot.reporting.periods import latest_closed_period

    period = latest_closed_period()
    current = {r.enterprise_id: r.status for r in Report.objects.filter(
        enterprise__in=linked, year=period.year, month=period.month, is_current=True)}
    assert any(current.get(e.pk) in (None, Status.DRAFT, Status.RETURNED) for e in linked), current  # one to file
    # Generated approvals name the demo bureaus.
    assert Report.objects.filter(approved_by=users["bureau-beijing"]).exists()

    counts = (User.objects.count(), Profile.objects.count(), Enterprise.objects.count(), Report.objects.count())
    out2 = io.StringIO()
    call_command("demo", "--no-serve", stdout=out2)
    assert "no data generated" in out2.getvalue()
    assert (User.objects.count(), Profile.objects.count(), Enterprise.objects.count(),
            Report.objects.count()) == counts
    assert set(users["enterprise-demo"].profile.enterprises.all()) == set(linked)


def test_demo_command_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command("demo", "--no-serve", stdout=io.StringIO())
    assert not get_user_model().objects.exists()


def test_token_command_prints_a_working_token(world):
    out = io.StringIO()
    call_command("token", "ministry", stdout=out)
    token = out.getvalue().strip()
    assert user_for_token(token) == world.ministry
    with pytest.raises(CommandError, match="No user"):
        call_command("token", "nobody", stdout=io.StringIO())


def test_lock_periods_command(world):
    form = ReportForm.objects.get(code=ReportForm.Code.MONTHLY)
    Report.objects.create(enterprise=world.bj, form=form, year=2024, month=1, status=Status.ACCEPTED)
    Report.objects.create(enterprise=world.bj2, form=form, year=2024, month=1, status=Status.SUBMITTED)
    out = io.StringIO()
    call_command("lock_periods", stdout=out)
    assert "Locked 1 report." in out.getvalue()
    assert Report.objects.get(enterprise=world.bj).status == Status.LOCKED
    call_command("lock_periods", stdout=out)
    assert "Locked 0 reports." in out.getvalue()
