"""What every part of the governance app shares: who reads its pages at all, the located-error shape, today's
date, and who hears about an area's records. Which *rows* a reader sees is decided in `core.scoping`."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone

from tradepilot.core.models import PilotArea, Role
from tradepilot.core.roles import role_of

#: Roles that read governance pages at all (enterprises and anonymous users read only what is public).
READER_ROLES = frozenset({Role.MINISTRY, Role.AUDITOR, Role.AGENCY, Role.BUREAU})


def may_read(user) -> bool:
    return role_of(user) in READER_ROLES


def check_reader(user, message: str) -> None:
    """403 with `message` for a user whose role reads no governance page."""
    if not may_read(user):
        raise PermissionDenied(message)


class LocatedError(Exception):
    """Bad input or a state that does not allow the change: `errors` are located problems (row, field, value,
    code, message), `status` the HTTP status an API answers with."""

    default_status = 400

    def __init__(self, errors: list[dict], status: int | None = None):
        super().__init__(errors[0]["message"] if errors else "invalid")
        self.errors = errors
        self.status = status or self.default_status

    @property
    def message(self) -> str:
        return self.errors[0]["message"] if self.errors else ""

    @property
    def code(self) -> str:
        return self.errors[0]["code"] if self.errors else "invalid"


def error(field: str, value, code: str, message: str, row: int | None = None) -> dict:
    """One located problem, in the API's error shape (`core.api_base`)."""
    return {"row": row, "field": field, "value": "" if value is None else str(value)[:100], "code": code,
            "message": message}


def today() -> dt.date:
    return timezone.localdate()


def bureau_users(area: PilotArea) -> QuerySet:
    """The active users of the area's own bureau (those who edit its records)."""
    return get_user_model().objects.filter(is_active=True, profile__role=Role.BUREAU,
                                           profile__region_id=area.region_id)


def ministry_users() -> QuerySet:
    return get_user_model().objects.filter(is_active=True, profile__role=Role.MINISTRY)
