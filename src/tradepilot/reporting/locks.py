"""Lock exceptions: a bureau lets one enterprise keep editing one period after it locked."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.reporting import periods
from tradepilot.reporting.models import LockException
from tradepilot.reporting.periods import Period
from tradepilot.reporting.services import ReportError


@transaction.atomic
def grant(user, enterprise, form, period: Period, until, reason: str) -> LockException:
    if not (reason or "").strip():
        raise ReportError(_("Say why the exception is granted."),
                          [{"row": None, "field": "reason", "value": "", "code": "required",
                            "message": _("A reason is required.")}], code="reason_required")
    if until < periods.today():
        raise ReportError(_("The exception must end today or later."),
                          [{"row": None, "field": "until", "value": str(until), "code": "past",
                            "message": _("The date is in the past.")}], code="invalid_date")
    exc = LockException.objects.create(enterprise=enterprise, form=form, year=period.year, month=period.month,
                                       until=until, reason=reason.strip(), granted_by=user)
    audit.record(user, "lock_exception", exc, changes={"period": [None, str(period)], "until": [None, str(until)]},
                 reason=reason, enterprise=enterprise)
    return exc
