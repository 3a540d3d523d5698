"""Every page answers odd query parameters with a page, a redirect or a 4xx, never a 500.

The pages are walked from the URL resolver (those that take no path arguments), and each gets the query
parameters its module reads (`request.GET.get("…")`, `params.get("…")`) plus the common ones, one at a time, with
values a careless link or a hostile client could carry."""

from __future__ import annotations

import inspect
import re
import sys

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

COMMON = {"page", "q", "year", "area", "region", "period", "status", "round", "format"}
ODD = [str(10**20), "-1", "2026-13", "\x00", "长" * 300, "a,,b"]
READS = re.compile(r"""(?:GET|params|query|source)\.get(?:list)?\(\s*["']([a-z_]+)["']""")


def pages() -> list[tuple[str, str]]:
    """(url, names of the query parameters to try) for every page that takes no path arguments."""
    static = settings.STATIC_URL.lstrip("/")
    out = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for p in patterns:
            route = prefix + str(p.pattern).lstrip("^")
            if route.startswith(("admin/", "i18n/", "api/", static)):
                continue
            if isinstance(p, URLResolver):
                ns = f"{namespace}:{p.namespace}" if namespace and p.namespace else (p.namespace or namespace)
                walk(p.url_patterns, route, ns)
            elif isinstance(p, URLPattern) and p.name and "<" not in route:
                url = reverse(f"{namespace}:{p.name}" if namespace else p.name)
                module = sys.modules.get(getattr(p.callback, "__module__", ""), None)
                source = inspect.getsource(module) if module else ""
                out.append((url, ",".join(sorted(COMMON | set(READS.findall(source))))))

    walk(get_resolver().url_patterns, "", None)
    return sorted(out)


def test_pages_are_found():
    assert len(pages()) >= 30


@pytest.mark.parametrize("url, names", pages())
def test_odd_query_values_never_answer_500(world, client, url, names):
    for user in (world.ministry, world.bureau_hz):
        client.force_login(user)
        for name in names.split(","):
            for value in ODD:
                r = client.get(url, {name: value})
                assert r.status_code < 500, (user.username, url, name, value, r.status_code)
