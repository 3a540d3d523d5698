from django.conf import settings

from tradepilot.core.roles import role_of


def platform(request):
    user = getattr(request, "user", None)
    authenticated = user is not None and user.is_authenticated
    return {
        "unread_count": user.notifications.filter(read_at__isnull=True).count() if authenticated else 0,
        "DEMO_MODE": settings.DEMO_MODE,
        "user_role": role_of(user) if user is not None and user.is_authenticated else None,
    }
