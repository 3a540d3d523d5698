"""In-app notifications, optionally mirrored by e-mail through Django's mail backend."""

from __future__ import annotations

from django.core.mail import send_mail

from tradepilot.core.models import Notification


def notify(user, title: str, body: str = "", url: str = "", email: bool = False) -> Notification:
    note = Notification.objects.create(user=user, title=title, body=body, url=url)
    if email and user.email:
        send_mail(title, body + (f"\n\n{url}" if url else ""), None, [user.email], fail_silently=True)
    return note
