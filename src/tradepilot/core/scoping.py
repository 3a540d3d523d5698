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
