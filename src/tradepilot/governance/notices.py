"""Supervision notices (督办): the ministry presses an area on one of its tasks, the area replies, the ministry
closes the matter.

States: open (awaiting reply) → replied → closed. The area's own bureau replies while the notice is open or
replied (a second reply replaces the first, audited); the ministry closes an open or replied notice. Every step is
audited on the notice and notifies the other side (the area's bureau users; the issuing ministry user).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.scoping import can_edit_area
from tradepilot.governance.common import bureau_users, error, ministry_users, today
from tradepilot.governance.models import AreaTask, SupervisionNotice
from tradepilot.governance.tracking import TrackingError, check_editor, check_ministry, fail, notify_users

LIMITS = {"message": 4000, "reply": 4000, "note": 2000}
DEFAULT_REPLY_DAYS = 14


def _url(notice: SupervisionNotice) -> str:
    return reverse("governance:tracking_notice", args=[notice.pk])


def _text(value, field: str, errors: list, required: bool, message: str) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.append(error(field, "", "required", message))
    elif len(text) > LIMITS[field]:
        errors.append(error(field, text, "too_long", _("At most %(n)d characters.") % {"n": LIMITS[field]}))
    return text


def _date(value, field: str, errors: list) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        errors.append(error(field, value, "invalid_date", _("Use the date format YYYY-MM-DD.")))
        return None


@transaction.atomic
def issue(user, area_task: AreaTask, message, reply_due, on: dt.date | None = None) -> SupervisionNotice:
    check_ministry(user, _("Only the ministry issues supervision notices."))
    on = on or today()
    errors: list[dict] = []
    message = _text(message, "message", errors, True, _("Write what the area must do."))
    due = _date(reply_due, "reply_due", errors)
    if due is not None and due < on:
        errors.append(error("reply_due", due, "past", _("The reply date cannot be in the past.")))
    if errors:
        raise TrackingError(errors)
    notice = SupervisionNotice.objects.create(area_task=area_task, message=message, reply_due=due, issued_by=user)
    audit.record(user, "notice:issue", notice,
                 changes={"message": [None, message], "reply_due": [None, due.isoformat()], "state": [None, "open"]})
    notify_users(bureau_users(area_task.area),
                 _("Supervision notice on task %(task)s: reply by %(due)s") % {"task": area_task.task.code, "due": due},
                 message, url=_url(notice))
    return notice


def can_reply(user, notice: SupervisionNotice) -> bool:
    return notice.state != SupervisionNotice.State.CLOSED and can_edit_area(user, notice.area_task.area)


@transaction.atomic
def reply(user, notice: SupervisionNotice, text) -> SupervisionNotice:
    notice = SupervisionNotice.objects.select_for_update().select_related(
        "area_task__area__region", "area_task__task").get(pk=notice.pk)
    check_editor(user, notice.area_task.area)
    if notice.state == SupervisionNotice.State.CLOSED:
        raise fail("state", notice.state, "bad_state", _("The notice is closed."), status=409)
    errors: list[dict] = []
    text = _text(text, "reply", errors, True, _("Write the area's reply."))
    if errors:
        raise TrackingError(errors)
    before = {"reply": notice.reply, "state": notice.state}
    notice.reply, notice.replied_by, notice.replied_at = text, user, timezone.now()
    notice.state = SupervisionNotice.State.REPLIED
    notice.save()
    audit.record(user, "notice:reply", notice, changes=audit.diff(before, {"reply": text, "state": notice.state}))
    recipients = [notice.issued_by] if notice.issued_by_id and notice.issued_by.is_active else list(ministry_users())
    notify_users(recipients, _("%(area)s replied to the supervision notice on task %(task)s")
                 % {"area": notice.area_task.area.name, "task": notice.area_task.task.code}, text, url=_url(notice))
    return notice


@transaction.atomic
def close(user, notice: SupervisionNotice, note: str = "") -> SupervisionNotice:
    check_ministry(user, _("Only the ministry closes supervision notices."))
    notice = SupervisionNotice.objects.select_for_update().select_related(
        "area_task__area__region", "area_task__task").get(pk=notice.pk)
    if notice.state == SupervisionNotice.State.CLOSED:
        raise fail("state", notice.state, "bad_state", _("The notice is already closed."), status=409)
    errors: list[dict] = []
    note = _text(note, "note", errors, False, "")
    if errors:
        raise TrackingError(errors)
    old = notice.state
    notice.state, notice.closed_by, notice.closed_at = SupervisionNotice.State.CLOSED, user, timezone.now()
    notice.save()
    audit.record(user, "notice:close", notice, changes={"state": [old, notice.state]}, reason=note)
    notify_users(bureau_users(notice.area_task.area),
                 _("Supervision notice on task %(task)s closed") % {"task": notice.area_task.task.code}, note,
                 url=_url(notice))
    return notice
