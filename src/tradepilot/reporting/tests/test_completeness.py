"""Completeness, timeliness, systemic coverage and reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from tradepilot.core.models import Notification
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting.completeness import completeness, remind
from tradepilot.reporting.models import Report, ReportForm, Status
from tradepilot.reporting.periods import Period


def report(enterprise, status, submitted_at=None):
    return Report.objects.create(enterprise=enterprise, form=ReportForm.objects.get(code="monthly"), year=2026,
                                 month=9, status=status, submitted_at=submitted_at)


@pytest.mark.django_db
def test_counts_by_region_with_timeliness_and_systemic_coverage(world):
    world.bj.is_systemic = True
    world.bj.save()
    on_time = dt.datetime(2026, 10, 9, 10, tzinfo=dt.UTC)
    late = dt.datetime(2026, 10, 12, 10, tzinfo=dt.UTC)
    report(world.bj, Status.ACCEPTED, on_time)
    report(world.hz, Status.SUBMITTED, late)
    report(world.bj2, Status.DRAFT)
    rows, total = completeness(Enterprise.objects.all(), Period(2026, 9))
    by_region = {r.region_code: r for r in rows}
    bj, zj = by_region["110000"], by_region["330000"]
    assert (bj.expected, bj.submitted, bj.on_time, bj.accepted) == (2, 1, 1, 1)
    assert (zj.expected, zj.submitted, zj.on_time, zj.accepted) == (1, 1, 0, 0)
    assert (total.systemic_expected, total.systemic_submitted, total.systemic_coverage_pct) == (1, 1, 100.0)
    assert total.submitted_pct == 66.7 and sorted(total.non_reporters) == [world.bj2.pk]


@pytest.mark.django_db
def test_inactive_and_non_key_enterprises_are_not_expected(world):
    Enterprise.objects.filter(pk=world.bj2.pk).update(is_active=False)
    Enterprise.objects.filter(pk=world.hz.pk).update(is_key_contact=False)
    _rows, total = completeness(Enterprise.objects.all(), Period(2026, 9))
    assert total.expected == 1


@pytest.mark.django_db
def test_remind_notifies_and_emails_only_non_reporters(world):
    report(world.bj, Status.SUBMITTED, dt.datetime(2026, 10, 9, tzinfo=dt.UTC))
    sent = remind(Enterprise.objects.filter(region__code="110000"), Period(2026, 9), world.bureau_bj)
    assert sent == 1
    assert [m.to for m in mail.outbox] == [[world.ent_bj2.email]]
    assert "2026-09" in mail.outbox[0].subject
    assert list(Notification.objects.values_list("user__username", flat=True)) == ["enterprise-bj2"]
