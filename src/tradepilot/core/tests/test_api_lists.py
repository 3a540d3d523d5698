"""Every list operation of the API pages the same way, whatever `limit` and `offset` a client sends.

The operations are read from the OpenAPI schema, so a new list operation is covered the day it is added.
"""

from __future__ import annotations

import pytest

from tradepilot.api import api as ninja_api
from tradepilot.core.api_base import MAX_PAGE

pytestmark = pytest.mark.django_db

ROOT = "/api/v1"


def list_operations() -> list[str]:
    schema = ninja_api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        op = ops.get("get")
        if op is None or "{" in path:
            continue
        names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"}
        if {"limit", "offset"} <= names:
            out.append(path)
    return sorted(out)


def test_list_operations_are_found():
    # enterprises, reports, audit log and the governance lists at least: guards the discovery itself
    assert len(list_operations()) >= 8


@pytest.mark.parametrize("path", list_operations())
@pytest.mark.parametrize("limit, offset", [(-1, -5), (0, 0), (10**20, 10**20), (3, 10**20), (2, 1)])
def test_any_window_is_answered_without_error(world, client, path, limit, offset):
    client.force_login(world.ministry)
    r = client.get(path, {"limit": limit, "offset": offset})
    assert r.status_code == 200, (path, r.status_code, r.content[:300])
    body = r.json()
    items = body["items"] if isinstance(body, dict) else body
    assert len(items) <= min(max(limit, 1), MAX_PAGE)
    if offset >= 10**20:
        assert items == []
