"""Work plans and task tracking (issue 4 §2): what the tracking services share.

The services live in small modules named after what they do:

- `workplans`: an area's work plan (工作方案), drafted and submitted by the area's own bureau, reviewed by the
  ministry (approved, or returned with a note, which makes it editable again); deadline and lateness;
- `progress`: area-task status, quarterly progress reports, department confirmations;
- `evidence`: attachments of a progress report: type by extension *and* content, size, SHA-256, content-addressed
  storage, verified download;
- `notices`: supervision notices (督办): issued by the ministry, replied to by the area, closed by the ministry;
- `overdue`: the one definition of "overdue", and the reminders sent before deadlines.

Every service checks who may act (a refused action raises `PermissionDenied`; reading goes through
`core.scoping`), validates all its input before writing (a `TrackingError` names each field and row), writes in
one transaction and records the change in the audit log in that transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from tradepilot.core.models import PilotArea, PilotRound, Role
from tradepilot.core.notifications import notify
from tradepilot.core.roles import profile_of, role_of
from tradepilot.core.scoping import can_edit_area
from tradepilot.governance import common
from tradepilot.governance.common import LocatedError, error

# Who reads the tracking pages at all; which rows they see is then decided by core.scoping.
# A quarter's progress report is due this many days after the quarter ends.
PROGRESS_GRACE_DAYS = 15


class TrackingError(LocatedError):
    """The tracking part's refusals: bad input, or a state that does not allow the change."""


def fail(field: str, value, code: str, message: str, row: int | None = None, status: int = 400) -> TrackingError:
    return TrackingError([error(field, value, code, message, row)], status=status)


# --- who may do what -----------------------------------------------------------------------------------------

def check_reader(user) -> None:
    common.check_reader(user, _("Pilot governance is for the ministry, departments and bureaus."))


def is_ministry(user) -> bool:
    return role_of(user) == Role.MINISTRY


def check_ministry(user, what: str = "") -> None:
    if not is_ministry(user):
        raise PermissionDenied(what or _("Only the ministry may do this."))


def check_editor(user, area: PilotArea) -> None:
    if not can_edit_area(user, area):
        raise PermissionDenied(_("Only the pilot area's own bureau edits its work plan and progress."))


def agency_of(user):
    """The member agency an agency user acts for (None for other roles)."""
    if role_of(user) != Role.AGENCY:
        return None
    profile = profile_of(user)
    return profile.agency if profile is not None else None


# --- quarters ------------------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """'2019Q3' (or '2019-Q3', '2019q3') → Quarter(2019, 3); ValueError otherwise."""
        cleaned = str(text or "").strip().upper().replace("-", "")
        year, sep, q = cleaned.partition("Q")
        if not sep or not year.isdigit() or q not in {"1", "2", "3", "4"}:
            raise ValueError(text)
        return cls(int(year), int(q))

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def end(self) -> dt.date:
        nxt = self.next()
        return nxt.start - dt.timedelta(days=1)

    @property
    def due(self) -> dt.date:
        """When the quarter's progress report is due."""
        return self.end + dt.timedelta(days=PROGRESS_GRACE_DAYS)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.quarter == 4 else Quarter(self.year, self.quarter + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.quarter}"


def round_quarters(rnd: PilotRound) -> list[Quarter]:
    """The quarters that overlap the round's period, in order (2018-07-01 … 2020-06-30 → 2018Q3 … 2020Q2)."""
    out, q, last = [], Quarter.of(rnd.start_date), Quarter.of(rnd.end_date)
    while q <= last:
        out.append(q)
        q = q.next()
    return out


# --- who hears about it --------------------------------------------------------------------------------------

def agency_users(agency):
    return get_user_model().objects.filter(is_active=True, profile__role=Role.AGENCY, profile__agency=agency)


def notify_users(users: Iterable, title: str, body: str = "", url: str = "") -> int:
    count = 0
    for user in users:
        notify(user, title[:200], body, url=url)
        count += 1
    return count
