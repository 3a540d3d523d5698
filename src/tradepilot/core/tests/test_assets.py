"""No page loads anything from another host: every script, style and image is served by the platform."""

from __future__ import annotations

import re

import pytest
from django.test import Client

PAGES = {"ent_bj": ["/login/", "/reporting/my/"], "ministry": ["/reporting/overview/", "/api/v1/docs"]}


@pytest.mark.django_db
def test_pages_load_assets_only_from_the_platform(world):
    for user, urls in PAGES.items():
        client = Client()
        client.force_login(getattr(world, user))
        for url in urls:
            html = client.get(url, follow=True).content.decode()
            refs = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert refs, url
            external = [r for r in refs if re.match(r"(https?:)?//", r)]
            assert external == [], (url, external)

