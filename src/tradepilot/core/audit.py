"""Writing the audit log. Every service that changes reported data calls `record()` in the same transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Model

from tradepilot.core.models import AuditLog


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list]:
    """`{field: [old, new]}` for the fields whose value differs."""
    out = {}
    for key in sorted(set(old) | set(new)):
        a, b = _plain(old.get(key)), _plain(new.get(key))
        if a != b:
            out[key] = [a, b]
    return out


def record(
    actor,
    action: str,
    obj: Model,
    *,
    changes: dict | None = None,
    reason: str = "",
    enterprise=None,
    report=None,
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if actor is not None and getattr(actor, "is_authenticated", False) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        object_repr=str(obj)[:300],
        enterprise=enterprise,
        report=report,
        changes=_plain(changes or {}),
        reason=reason or "",
    )
