"""Reporting periods, deadlines and locks.

A monthly period (year, month) is due on the form's `due_day` of the month `due_month_offset` after it (the 10th
of the following month by default); data entry locks `lock_after_days` after that, unless a bureau granted a
`LockException` for the enterprise and period. Annual periods use month 0 and fall due relative to December.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from tradepilot.reporting.models import LockException, ReportForm


@dataclass(frozen=True, order=True)
class Period:
    year: int
    month: int = 0  # 0 = annual

    @classmethod
    def parse(cls, text: str) -> Period:
        """'2026-10' → monthly, '2026' → annual. Raises ValueError with a readable message."""
        text = (text or "").strip()
        try:
            if "-" in text:
                y, m = text.split("-", 1)
                period = cls(int(y), int(m))
            else:
                period = cls(int(text), 0)
        except ValueError:
            raise ValueError(f"'{text}' is not a period (YYYY-MM or YYYY)") from None
        if not (2000 <= period.year <= 2100 and 0 <= period.month <= 12):
            raise ValueError(f"'{text}' is out of range")
        return period

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else str(self.year)

    def shift(self, months: int) -> Period:
        index = self.year * 12 + (self.month - 1) + months
        return Period(index // 12, index % 12 + 1)

    @property
    def previous(self) -> Period:
        return self.shift(-1)

    @property
    def same_month_last_year(self) -> Period:
        return Period(self.year - 1, self.month)


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def due_date(form: ReportForm, period: Period) -> dt.date:
    base_month = period.month or 12
    y, m = add_months(period.year, base_month, form.due_month_offset)
    day = min(form.due_day, calendar.monthrange(y, m)[1])
    return dt.date(y, m, day)


def lock_date(form: ReportForm, period: Period) -> dt.date:
    return due_date(form, period) + dt.timedelta(days=form.lock_after_days)


def today() -> dt.date:
    return timezone.localdate()


def is_locked(form: ReportForm, period: Period, enterprise=None, on: dt.date | None = None) -> bool:
    on = on or today()
    if on <= lock_date(form, period):
        return False
    if enterprise is None:
        return True
    return not LockException.objects.filter(
        enterprise=enterprise, form=form, year=period.year, month=period.month, until__gte=on
    ).exists()


def is_on_time(form: ReportForm, period: Period, submitted_at: dt.datetime | None) -> bool:
    if submitted_at is None:
        return False
    return timezone.localtime(submitted_at).date() <= due_date(form, period)


def latest_closed_period(on: dt.date | None = None) -> Period:
    """The most recent month that has ended: the one enterprises are reporting now."""
    on = on or today()
    return Period(on.year, on.month).previous


def recent_periods(count: int = 12, on: dt.date | None = None) -> list[Period]:
    last = latest_closed_period(on)
    return [last.shift(-i) for i in range(count)]
