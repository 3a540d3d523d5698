"""What every part of the governance app shares: who reads its pages at all, the located-error shape, today's
date, who hears about an area's records, and texts stored in English with their message id (shown later in the
reader's language). Which *rows* a reader sees is decided in `core.scoping`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext

from tradepilot.core.api_base import ApiError
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


class LocatedError(ApiError):
    """Bad input or a state that does not allow the change: `errors` are located problems (row, field, value,
    code, message), `status` the HTTP status. Every part's refusals are of this class, and being an `ApiError` the
    API answers them as they are (`core.api_base`); pages show `message` or the errors of a field.

    `message` and `code` default to the first error's."""

    default_status = 400

    def __init__(self, errors: list[dict], status: int | None = None, *, message: str | None = None,
                 code: str | None = None):
        first = errors[0] if errors else {}
        super().__init__(status or self.default_status, message or first.get("message") or "Invalid request.",
                         code or first.get("code") or "invalid", errors)

    @property
    def message(self) -> str:
        return self.detail

    def for_field(self, field: str, row: int | None = None) -> list[str]:
        return [e["message"] for e in self.errors if e["field"] == field and e["row"] == row]


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


# --- texts stored in English with their message id ---------------------------------------------------------------

@dataclass(frozen=True)
class Text:
    """A message id (marked with gettext_noop where it is written) and its %-arguments: stored as English and as
    {msgid, args}, so that a snapshot (an evaluation's explanations, a results report's sources) is shown in the
    reader's language later."""

    msgid: str
    args: dict = field(default_factory=dict)

    def render(self) -> str:
        text = gettext(self.msgid)
        return text % self.args if self.args else text

    def english(self) -> str:
        with translation.override("en"):
            return self.render()

    def as_json(self) -> dict:
        return {"msgid": self.msgid, "args": self.args}


def render_stored(text: str, i18n: dict | None) -> str:
    """A stored text in the reader's language (its English form when the message id is unknown)."""
    if not i18n or not i18n.get("msgid"):
        return text or ""
    try:
        return Text(i18n["msgid"], i18n.get("args") or {}).render()
    except (KeyError, TypeError, ValueError):
        return text or ""
