"""Reference data (public), the current user, notifications and the audit log."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from ninja import Router, Schema

from tradepilot.core.api_base import page_slice
from tradepilot.core.models import (
    Agency,
    AuditLog,
    Country,
    Currency,
    Industry,
    Notification,
    PilotArea,
    Region,
    Role,
    ServiceCategory,
    SupplyMode,
)
from tradepilot.core.roles import profile_of, role_of
from tradepilot.core.scoping import scope

router = Router(tags=["reference"])


class CodeName(Schema):
    code: str
    name_zh: str
    name_en: str


class RegionOut(CodeName):
    level: int
    kind: str
    parent: str | None


class CategoryOut(CodeName):
    parent: str | None
    level: int
    is_leaf: bool
    knowledge_intensive: bool


class CountryOut(Schema):
    alpha2: str
    alpha3: str
    numeric: str
    name_zh: str
    name_en: str


class PilotAreaOut(Schema):
    round: str
    region: str
    name_zh: str
    name_en: str
    order: int


@router.get("/reference/regions", response=list[RegionOut], auth=None)
def regions(request, level: int | None = None, parent: str | None = None):
    qs = Region.objects.select_related("parent")
    if level:
        qs = qs.filter(level=level)
    if parent:
        qs = qs.filter(parent__code=parent)
    return [RegionOut(code=r.code, name_zh=r.name_zh, name_en=r.name_en, level=r.level, kind=r.kind,
                      parent=r.parent.code if r.parent else None) for r in qs]


@router.get("/reference/pilot-areas", response=list[PilotAreaOut], auth=None)
def pilot_areas(request, round: str | None = None):
    qs = PilotArea.objects.select_related("round", "region")
    if round:
        qs = qs.filter(round__code=round)
    return [PilotAreaOut(round=a.round.code, region=a.region.code, name_zh=a.name_zh, name_en=a.name_en, order=a.order)
            for a in qs]


@router.get("/reference/ebops", response=list[CategoryOut], auth=None)
def ebops(request, leaf_only: bool = False):
    qs = ServiceCategory.objects.select_related("parent")
    if leaf_only:
        qs = qs.filter(is_leaf=True)
    return [CategoryOut(code=c.code, name_zh=c.name_zh, name_en=c.name_en, parent=c.parent.code if c.parent else None,
                        level=c.level, is_leaf=c.is_leaf, knowledge_intensive=c.knowledge_intensive) for c in qs]


@router.get("/reference/countries", response=list[CountryOut], auth=None)
def countries(request):
    return list(Country.objects.values("alpha2", "alpha3", "numeric", "name_zh", "name_en"))


@router.get("/reference/currencies", response=list[CodeName], auth=None)
def currencies(request):
    return list(Currency.objects.values("code", "name_zh", "name_en"))


@router.get("/reference/modes", response=list[CodeName], auth=None)
def modes(request):
    return list(SupplyMode.objects.values("code", "name_zh", "name_en"))


@router.get("/reference/industries", response=list[CodeName], auth=None)
def industries(request):
    return list(Industry.objects.values("code", "name_zh", "name_en"))


@router.get("/reference/agencies", response=list[CodeName], auth=None)
def agencies(request):
    return list(Agency.objects.values("code", "name_zh", "name_en"))


class MeOut(Schema):
    username: str
    role: str | None
    region: str | None
    enterprises: list[int]


@router.get("/me", response=MeOut, tags=["account"])
def me(request):
    profile = profile_of(request.user)
    return MeOut(
        username=request.user.username,
        role=role_of(request.user),
        region=profile.region.code if profile and profile.region_id else None,
        enterprises=list(profile.enterprises.values_list("id", flat=True)) if profile else [],
    )


class NotificationOut(Schema):
    id: int
    created: dt.datetime
    title: str
    body: str
    url: str
    read: bool


@router.get("/notifications", response=list[NotificationOut], tags=["account"])
def notifications(request):
    return [NotificationOut(id=n.id, created=n.created, title=n.title, body=n.body, url=n.url, read=n.read_at is not None)
            for n in Notification.objects.filter(user=request.user)[:100]]


class AuditOut(Schema):
    id: int
    timestamp: dt.datetime
    actor: str | None
    action: str
    object_type: str
    object_id: str
    object_repr: str
    report_id: int | None
    enterprise_id: int | None
    changes: dict
    reason: str


def audit_out(entry: AuditLog) -> AuditOut:
    return AuditOut(id=entry.id, timestamp=entry.timestamp, actor=entry.actor.username if entry.actor else None,
                    action=entry.action, object_type=entry.object_type, object_id=entry.object_id,
                    object_repr=entry.object_repr, report_id=entry.report_id, enterprise_id=entry.enterprise_id,
                    changes=entry.changes, reason=entry.reason)


@router.get("/audit-log", response=list[AuditOut], tags=["audit"])
def audit_log(request, action: str | None = None, object_type: str | None = None, limit: int = 100, offset: int = 0):
    """The full log for auditors and the ministry."""
    if role_of(request.user) not in (Role.AUDITOR, Role.MINISTRY):
        raise PermissionDenied("Only auditors and the ministry read the full audit log.")
    qs = scope(request.user, AuditLog.objects.select_related("actor"))
    if action:
        qs = qs.filter(action__startswith=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    return [audit_out(e) for e in qs[page_slice(limit, offset)]]
