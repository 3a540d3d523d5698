"""A user's role, read from their profile. Superusers without a profile act as the ministry."""

from __future__ import annotations

from tradepilot.core.models import Profile, Role


def profile_of(user) -> Profile | None:
    if user is None or not user.is_authenticated:
        return None
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def role_of(user) -> str | None:
    profile = profile_of(user)
    if profile is not None:
        return profile.role
    if user is not None and user.is_authenticated and user.is_superuser:
        return Role.MINISTRY
    return None


def home_url_name(user) -> str:
    return {
        Role.MINISTRY: "reporting:ministry_overview",
        Role.BUREAU: "reporting:workbench",
        Role.ENTERPRISE: "reporting:my_reports",
        Role.AGENCY: "reporting:ministry_overview",
        Role.AUDITOR: "core:audit_log",
    }.get(role_of(user), "login")
