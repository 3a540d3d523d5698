"""Which rows a user may see: the one place that decides it.

Every scoped model names, in `scope_enterprise_path`, the lookup from itself to the `Enterprise` it belongs to
("" for Enterprise itself, "enterprise" for a report, "report__enterprise" for a line). `scope(user, qs)` applies
the user's role:

- ministry and auditor: everything;
- bureau: enterprises whose region lies in the bureau's region subtree (one prefix match on Region.path);
- enterprise user: the enterprises linked to their profile;
- agency: national aggregates only, so no enterprise-level rows;
- anyone else: nothing.

Views and API operations fetch objects through `scope()` / `get_scoped()`; an object outside the scope is
indistinguishable from one that does not exist (404).
"""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet
from django.http import Http404

from tradepilot.core.models import Role
from tradepilot.core.roles import profile_of, role_of

NATIONAL_ROLES = {Role.MINISTRY, Role.AUDITOR}


def _path(model: type[Model]) -> str:
    try:
        return model.scope_enterprise_path
    except AttributeError as exc:  # a model without a declared path is a programming error, not "visible"
        raise TypeError(f"{model.__name__} declares no scope_enterprise_path") from exc


def enterprise_filter(user, path: str) -> Q | None:
    """A Q restricting `path` (lookup to Enterprise) to the user's scope; None means unrestricted."""
    role = role_of(user)
    prefix = f"{path}__" if path else ""
    if role in NATIONAL_ROLES:
        return None
    profile = profile_of(user)
    if role == Role.BUREAU and profile is not None and profile.region_id:
        return Q(**{f"{prefix}region__path__startswith": profile.region.path})
    if role == Role.ENTERPRISE and profile is not None:
        return Q(**{f"{prefix}pk__in": profile.enterprises.values("pk")}) if path == "" else Q(
            **{f"{path}__in": profile.enterprises.values("pk")}
        )
    return Q(pk__in=[])


def scope(user, qs: QuerySet) -> QuerySet:
    condition = enterprise_filter(user, _path(qs.model))
    return qs if condition is None else qs.filter(condition)


def get_scoped(user, qs: QuerySet, **lookup):
    """The object matching `lookup` inside the user's scope, or 404."""
    try:
        return scope(user, qs).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def is_in_scope(user, obj: Model) -> bool:
    return scope(user, type(obj)._default_manager.filter(pk=obj.pk)).exists()


def visible_region_paths(user) -> str | None:
    """The region subtree a user's aggregates are limited to (None = national)."""
    role = role_of(user)
    if role in NATIONAL_ROLES or role == Role.AGENCY:
        return None
    profile = profile_of(user)
    if role == Role.BUREAU and profile is not None and profile.region_id:
        return profile.region.path
    return "/__none__/"


# --- pilot governance: rows keyed by pilot area ------------------------------------------------------------------
#
# Governance models name, in `scope_area_path`, the lookup to their `PilotArea` ("" for PilotArea itself) and, in
# `scope_task_path`, the lookup to the programme `Task` when they belong to one. Reading:
#
# - ministry and auditor: everything;
# - bureau: the areas whose region lies in the bureau's region subtree (the area's own bureau, and its province);
# - agency (member department): every area, but for task-bound rows only the tasks it co-owns (named as a
#   responsible unit, or covered by "all member units of the joint conference");
# - enterprise users and anyone else: nothing.
#
# Editing an area's records is narrower (`can_edit_area`): only the bureau whose region *is* the area's region.


def _area_path(model: type[Model]) -> str:
    try:
        return model.scope_area_path
    except AttributeError as exc:
        raise TypeError(f"{model.__name__} declares no scope_area_path") from exc


def co_owned_task_filter(user, path: str) -> Q | None:
    """For an agency user, a Q restricting `path` (lookup to Task) to the tasks its agency co-owns."""
    if role_of(user) != Role.AGENCY:
        return None
    profile = profile_of(user)
    agency_id = profile.agency_id if profile is not None else None
    prefix = f"{path}__" if path else ""
    return Q(**{f"{prefix}responsibilities__agency_id": agency_id}) | Q(
        **{f"{prefix}responsibilities__unit": "member_units"}
    )


def area_filter(user, path: str) -> Q | None:
    role = role_of(user)
    prefix = f"{path}__" if path else ""
    if role in NATIONAL_ROLES or role == Role.AGENCY:
        return None
    profile = profile_of(user)
    if role == Role.BUREAU and profile is not None and profile.region_id:
        return Q(**{f"{prefix}region__path__startswith": profile.region.path})
    return Q(pk__in=[])


def scope_areas(user, qs: QuerySet) -> QuerySet:
    """`qs` limited to the governance rows the user may read (see above)."""
    model = qs.model
    condition = area_filter(user, _area_path(model))
    if condition is not None:
        qs = qs.filter(condition)
    task_path = getattr(model, "scope_task_path", None)
    if task_path is not None:
        task_condition = co_owned_task_filter(user, task_path)
        if task_condition is not None:
            # The join through responsibilities may repeat rows: keep each once.
            qs = qs.filter(pk__in=model._default_manager.filter(task_condition).values("pk"))
    return qs


def get_area_scoped(user, qs: QuerySet, **lookup):
    """The governance object matching `lookup` inside the user's reading scope, or 404."""
    try:
        return scope_areas(user, qs).get(**lookup)
    except (qs.model.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def can_edit_area(user, area) -> bool:
    """Only the area's own bureau (its region is the area's region) edits the area's records."""
    if role_of(user) != Role.BUREAU:
        return False
    profile = profile_of(user)
    return profile is not None and profile.region_id == area.region_id
