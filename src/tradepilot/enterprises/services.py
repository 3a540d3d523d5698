"""Registering and changing enterprises. Each change is audited; enterprises are deactivated, never deleted."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.models import Industry, Region, Role
from tradepilot.core.roles import profile_of, role_of
from tradepilot.enterprises import uscc
from tradepilot.enterprises.models import Enterprise

EDITABLE_FIELDS = (
    "name", "name_en", "region", "industry", "registration_type", "established", "address", "contact_name",
    "contact_phone", "contact_email", "is_key_contact", "key_contact_year", "is_systemic", "systemic_year",
)


class EnterpriseError(Exception):
    def __init__(self, errors: list[dict], status: int = 400):
        super().__init__(errors[0]["message"] if errors else "invalid")
        self.errors = errors
        self.status = status


def _err(field: str, value, code: str, message: str) -> dict:
    return {"row": None, "field": field, "value": "" if value is None else str(value), "code": code, "message": message}


#: The earliest year an enterprise can have become a key contact or systemically important (the monitoring of
#: service trade by direct reports predates the 2018 pilot).
FIRST_YEAR = 2000


def can_manage(user, region: Region | None) -> bool:
    """Ministry manages the registry nationally; a bureau within its own region."""
    role = role_of(user)
    if role == Role.MINISTRY:
        return True
    profile = profile_of(user)
    return (role == Role.BUREAU and profile is not None and profile.region_id is not None
            and region is not None and profile.region.contains(region))


def _resolve(data: dict) -> tuple[dict, list[dict]]:
    values, errors = {}, []
    for key in EDITABLE_FIELDS:
        if key not in data:
            continue
        value = data[key]
        # The columns' own limits, checked here so that an over-long text is a located 400 on every database
        # (PostgreSQL refuses it at the INSERT; SQLite would store it).
        max_length = getattr(Enterprise._meta.get_field(key), "max_length", None)
        if max_length and isinstance(value, str) and len(value) > max_length:
            errors.append(_err(key, value[:100], "too_long",
                               _("At most %(n)s characters.") % {"n": max_length}))
            continue
        if key == "region":
            region = Region.objects.filter(code=str(value or "")).first()
            if region is None:
                errors.append(_err("region", value, "unknown_region", _("Unknown administrative division code.")))
            values["region"] = region
        elif key == "industry":
            if value in (None, ""):
                values["industry"] = None
            else:
                industry = Industry.objects.filter(code=str(value)).first()
                if industry is None:
                    errors.append(_err("industry", value, "unknown_industry", _("Unknown GB/T 4754 industry code.")))
                values["industry"] = industry
        elif key == "registration_type":
            if value not in Enterprise.RegistrationType.values:
                errors.append(_err(key, value, "invalid_choice", _("Unknown registration type.")))
            values[key] = value
        elif key == "name":
            if not value or not str(value).strip():
                errors.append(_err("name", value, "required", _("A name is required.")))
            values[key] = (value or "").strip()
        elif key in ("key_contact_year", "systemic_year"):
            latest = timezone.localdate().year + 1
            if value is not None and (not isinstance(value, int) or not FIRST_YEAR <= value <= latest):
                errors.append(_err(key, value, "invalid_year", _("Give a year from %(first)s to %(last)s.")
                                   % {"first": FIRST_YEAR, "last": latest}))
            values[key] = value
        else:
            values[key] = value
    for flag, year in (("is_key_contact", "key_contact_year"), ("is_systemic", "systemic_year")):
        if values.get(flag) and not values.get(year) and year not in data:
            values[year] = timezone.localdate().year
    return values, errors


@transaction.atomic
def register(user, data: dict) -> Enterprise:
    errors = []
    try:
        code = uscc.validate(data.get("uscc") or "")
    except uscc.InvalidUSCC as exc:
        raise EnterpriseError([_err("uscc", data.get("uscc"), exc.check, exc.message)]) from None
    values, more = _resolve(data)
    errors += more
    if "region" not in values:
        errors.append(_err("region", None, "required", _("A region is required.")))
    if "name" not in values:
        errors.append(_err("name", None, "required", _("A name is required.")))
    if errors:
        raise EnterpriseError(errors)
    if not can_manage(user, values["region"]):
        raise EnterpriseError([_err("region", values["region"].code, "forbidden",
                                    _("You may register enterprises only in your own region."))], status=403)
    if Enterprise.objects.filter(uscc=code).exists():
        raise EnterpriseError([_err("uscc", code, "duplicate", _("An enterprise with this code is already registered."))],
                              status=409)
    try:
        with transaction.atomic():
            enterprise = Enterprise.objects.create(uscc=code, **values)
    except IntegrityError:
        raise EnterpriseError([_err("uscc", code, "duplicate", _("An enterprise with this code is already registered."))],
                              status=409) from None
    audit.record(user, "register", enterprise, changes={k: [None, v] for k, v in values.items()} | {"uscc": [None, code]},
                 enterprise=enterprise)
    return enterprise


def _snapshot(enterprise: Enterprise) -> dict:
    out = {}
    for key in EDITABLE_FIELDS:
        value = getattr(enterprise, key)
        out[key] = value.code if key in ("region", "industry") and value is not None else value
    return out


#: Sent after a registered enterprise's attributes changed (fields: the changed field names), so systems that copy
#: enterprise attributes (the analytics store) can refresh without enterprises importing them.
enterprise_changed = Signal()


@transaction.atomic
def update(user, enterprise: Enterprise, data: dict, reason: str = "") -> Enterprise:
    values, errors = _resolve(data)
    if errors:
        raise EnterpriseError(errors)
    if not can_manage(user, enterprise.region) or ("region" in values and not can_manage(user, values["region"])):
        raise EnterpriseError([_err("region", enterprise.region.code, "forbidden",
                                    _("You may change enterprises only in your own region."))], status=403)
    before = _snapshot(enterprise)
    for key, value in values.items():
        setattr(enterprise, key, value)
    enterprise.save()
    changes = audit.diff(before, _snapshot(enterprise))
    if changes:
        audit.record(user, "update", enterprise, changes=changes, reason=reason, enterprise=enterprise)
        enterprise_changed.send(sender=Enterprise, enterprise=enterprise, fields=sorted(changes))
    return enterprise


@transaction.atomic
def set_active(user, enterprise: Enterprise, active: bool, reason: str) -> Enterprise:
    if not can_manage(user, enterprise.region):
        raise EnterpriseError([_err("region", enterprise.region.code, "forbidden", _("Not in your region."))], status=403)
    if not active and not (reason or "").strip():
        raise EnterpriseError([_err("reason", "", "required", _("Say why the enterprise is deactivated."))])
    if enterprise.is_active == active:
        return enterprise
    enterprise.is_active = active
    enterprise.deactivated_at = None if active else timezone.now()
    enterprise.deactivation_reason = "" if active else reason.strip()
    enterprise.save()
    audit.record(user, "activate" if active else "deactivate", enterprise,
                 changes={"is_active": [not active, active]}, reason=reason, enterprise=enterprise)
    return enterprise
