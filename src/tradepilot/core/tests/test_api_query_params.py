"""Every read operation of the API answers odd query parameters with 200 or a located 4xx, never a 500.

The operations and their parameters are read from the OpenAPI schema, so a new operation is covered the day it
is added. Each parameter is sent, one at a time, values a careless or hostile client could send."""

from __future__ import annotations

import pytest

from tradepilot.api import api as ninja_api

pytestmark = pytest.mark.django_db

ODD = {
    "integer": ["-1", str(10**20), "abc"],
    "number": ["1e400", "abc"],
    "boolean": ["maybe"],
    "string": ["", "长" * 300, "2026-13", "'; DROP TABLE x; --", "%_\\", "a,,b,X", "\x00"],
}


def _type(schema: dict) -> str:
    if "anyOf" in schema:
        types = [s.get("type") for s in schema["anyOf"] if s.get("type") != "null"]
        return types[0] if types else "string"
    return schema.get("type", "string")


def _operations() -> dict[str, list[dict]]:
    out = {}
    for path, ops in ninja_api.get_openapi_schema()["paths"].items():
        op = ops.get("get")
        if op is not None and "{" not in path:
            out[path] = [p for p in op.get("parameters", []) if p.get("in") == "query"]
    return out


def read_operations() -> list[tuple[str, str, str]]:
    return sorted((path, p["name"], _type(p.get("schema", {}))) for path, params in _operations().items()
                  for p in params)


def test_read_operations_are_found():
    assert len(read_operations()) >= 40


@pytest.mark.parametrize("role", ["ministry", "bureau_hz"])
@pytest.mark.parametrize("path, name, kind", read_operations())
def test_odd_query_values_never_answer_500(world, client, role, path, name, kind):
    client.force_login(getattr(world, role))
    for value in ODD.get(kind, ODD["string"]):
        r = client.get(path, {name: value})
        assert r.status_code < 500, (path, name, value, r.status_code, r.content[:300])
        if r.status_code >= 400 and r.headers.get("Content-Type", "").startswith("application/json"):
            body = r.json()
            assert "detail" in body or "errors" in body, (path, name, value, body)
            if r.status_code == 422:  # a validation error names this parameter or a required one not sent
                names = {p["name"] for p in _operations()[path]}
                fields = [e["field"] for e in body["errors"]]
                assert fields and set(fields) <= names, (path, name, value, body)
