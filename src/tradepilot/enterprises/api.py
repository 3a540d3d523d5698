"""Enterprise registry operations. Reads are scoped; writes go through `enterprises.services`."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from ninja import Router, Schema, Status

from tradepilot.core.api_base import ApiError, page_slice
from tradepilot.core.scoping import get_scoped, scope
from tradepilot.enterprises import services, uscc
from tradepilot.enterprises.models import Enterprise

router = Router(tags=["enterprises"])


class EnterpriseOut(Schema):
    id: int
    uscc: str
    name: str
    name_en: str
    region: str
    region_name: str
    industry: str | None
    registration_type: str
    established: dt.date | None
    contact_name: str
    contact_phone: str
    contact_email: str
    is_key_contact: bool
    key_contact_year: int | None
    is_systemic: bool
    systemic_year: int | None
    is_active: bool


class EnterpriseIn(Schema):
    uscc: str
    name: str
    name_en: str = ""
    region: str
    industry: str | None = None
    registration_type: str = "domestic"
    established: dt.date | None = None
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    is_key_contact: bool = False
    key_contact_year: int | None = None
    is_systemic: bool = False
    systemic_year: int | None = None


class EnterprisePatch(Schema):
    name: str | None = None
    name_en: str | None = None
    region: str | None = None
    industry: str | None = None
    registration_type: str | None = None
    established: dt.date | None = None
    address: str | None = None
    contact_name: str | None = None
    contact_phone: str | None = None
    contact_email: str | None = None
    is_key_contact: bool | None = None
    key_contact_year: int | None = None
    is_systemic: bool | None = None
    systemic_year: int | None = None
    reason: str = ""


class ActiveIn(Schema):
    active: bool
    reason: str = ""


class UsccIn(Schema):
    code: str


class UsccOut(Schema):
    valid: bool
    normalized: str
    check: str | None
    message: str | None


class Page(Schema):
    count: int
    items: list[EnterpriseOut]


def out(e: Enterprise) -> EnterpriseOut:
    return EnterpriseOut(
        id=e.id, uscc=e.uscc, name=e.name, name_en=e.name_en, region=e.region.code, region_name=e.region.name,
        industry=e.industry.code if e.industry_id else None, registration_type=e.registration_type,
        established=e.established, contact_name=e.contact_name, contact_phone=e.contact_phone,
        contact_email=e.contact_email, is_key_contact=e.is_key_contact, key_contact_year=e.key_contact_year,
        is_systemic=e.is_systemic, systemic_year=e.systemic_year, is_active=e.is_active,
    )


def search(qs, q: str | None = None, region: str | None = None, key_contact: bool | None = None,
           systemic: bool | None = None, active: bool | None = None):
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(uscc__icontains=uscc.normalize(q)) | Q(name_en__icontains=q))
    if region:
        qs = qs.filter(region__path__contains=f"/{region}/")
    if key_contact is not None:
        qs = qs.filter(is_key_contact=key_contact)
    if systemic is not None:
        qs = qs.filter(is_systemic=systemic)
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


@router.get("", response=Page)
def list_enterprises(request, q: str | None = None, region: str | None = None, key_contact: bool | None = None,
                     systemic: bool | None = None, active: bool | None = None, limit: int = 50, offset: int = 0):
    qs = search(scope(request.user, Enterprise.objects.select_related("region", "industry")), q, region, key_contact,
                systemic, active)
    return Page(count=qs.count(), items=[out(e) for e in qs[page_slice(limit, offset)]])


@router.get("/{int:enterprise_id}", response=EnterpriseOut)
def get_enterprise(request, enterprise_id: int):
    return out(get_scoped(request.user, Enterprise.objects.select_related("region", "industry"), pk=enterprise_id))


def _raise(exc: services.EnterpriseError):
    raise ApiError(exc.status, exc.errors[0]["message"], exc.errors[0]["code"], exc.errors)


@router.post("", response={201: EnterpriseOut})
def register(request, payload: EnterpriseIn):
    try:
        return Status(201, out(services.register(request.user, payload.dict())))
    except services.EnterpriseError as exc:
        _raise(exc)


@router.patch("/{int:enterprise_id}", response=EnterpriseOut)
def update(request, enterprise_id: int, payload: EnterprisePatch):
    enterprise = get_scoped(request.user, Enterprise.objects.all(), pk=enterprise_id)
    data = payload.dict(exclude_unset=True)
    reason = data.pop("reason", "")
    try:
        return out(services.update(request.user, enterprise, data, reason))
    except services.EnterpriseError as exc:
        _raise(exc)


@router.post("/{int:enterprise_id}/active", response=EnterpriseOut)
def set_active(request, enterprise_id: int, payload: ActiveIn):
    enterprise = get_scoped(request.user, Enterprise.objects.all(), pk=enterprise_id)
    try:
        return out(services.set_active(request.user, enterprise, payload.active, payload.reason))
    except services.EnterpriseError as exc:
        _raise(exc)


@router.post("/validate-uscc", response=UsccOut)
def validate_uscc(request, payload: UsccIn):
    try:
        code = uscc.validate(payload.code)
        return UsccOut(valid=True, normalized=code, check=None, message=None)
    except uscc.InvalidUSCC as exc:
        return UsccOut(valid=False, normalized=uscc.normalize(payload.code), check=exc.check, message=exc.message)
