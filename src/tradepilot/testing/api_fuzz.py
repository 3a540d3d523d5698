"""Bad input for the API, built from its own OpenAPI schema: what the robustness tests send to every operation
that changes data (governance: `governance/tests/test_api_robustness.py`; the rest: `core/tests/`).

`operations(prefix)` lists the changing operations under a path prefix; `bodies(op)` gives the bodies a careless or
hostile client could send (wrong types, extremes, impossible dates, nothing, not an object); `check(...)` sends
them and returns what went wrong: a 5xx, a 4xx without the error shape, or a refusal that wrote an audit entry
(a refused request must leave the database as it was; the audit log is the witness)."""

from __future__ import annotations

import re

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

ROOT = "/api/v1"
WRONG = {"string": 12345, "integer": "abc", "number": "abc", "boolean": "maybe", "array": "not a list",
         "object": 7}
EXTREME = {"string": "长" * 5000, "integer": 10**12, "number": "1e400", "boolean": None, "array": [None, 5, "x"],
           "object": {"": None}}
SINGLE = {"integer": [10**12, -5, 40000], "number": ["1e400", "-1e30"], "string": ["长" * 5000, "a\x00b"],
          "date": ["2019-13-45"]}


def _schema():
    from tradepilot.api import api

    return api.get_openapi_schema()


def operations(prefix: str, exclude: str | None = None) -> list[tuple[str, str, dict]]:
    """(METHOD, path below /api/v1, operation) for every POST/PUT/PATCH/DELETE under `prefix`."""
    out = []
    for path, ops in _schema()["paths"].items():
        if not path.startswith(ROOT + prefix) or (exclude and path.startswith(ROOT + exclude)):
            continue
        for method, op in ops.items():
            if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                out.append((method.upper(), path[len(ROOT):], op))
    return out


def _resolve(schema: dict, components: dict) -> dict:
    ref = schema.get("$ref")
    if ref:
        return _resolve(components[ref.rsplit("/", 1)[-1]], components)
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            if option.get("type") != "null":
                return _resolve(option, components)
    return schema


def bodies(op: dict) -> list:
    """Bodies that a careless or hostile client could send: wrong types, extremes, nothing, not an object."""
    components = _schema()["components"]["schemas"]
    content = op.get("requestBody", {}).get("content", {})
    schema = _resolve(content.get("application/json", {}).get("schema", {}), components)
    props = {name: _resolve(p, components) for name, p in schema.get("properties", {}).items()}
    wrong = {name: WRONG.get(p.get("type", "string"), 12345) for name, p in props.items()}
    extreme = {name: EXTREME.get(p.get("type", "string"), "x") for name, p in props.items()}
    dates = {name: "2019-13-45" for name, p in props.items() if p.get("format") in ("date", "date-time")}
    # One field at a time as well: with every field odd, the first refusal hides what the others would do (a
    # partial update with one out-of-range number or one over-long text must reach that field's own check).
    single = [{name: value} for name, p in props.items()
              for value in SINGLE.get("date" if p.get("format") in ("date", "date-time") else p.get("type"), [])]
    return [wrong, extreme, {**extreme, **dates}, {}, [], "text", None, *single]


def call(user, method: str, path: str, body, multipart: bool):
    from tradepilot.core.tokens import issue_token

    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    if multipart:
        files = {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00garbage", content_type="application/x-msdownload")}
        data = {k: v for k, v in body.items() if v is not None} if isinstance(body, dict) else {}
        return client.post(ROOT + path, {**{k: str(v) for k, v in data.items()}, **files}, headers=headers)
    payload = "" if body is None else body
    return getattr(client, method.lower())(ROOT + path, payload, content_type="application/json", headers=headers)


def check(user, ops: list[tuple[str, str, dict]], targets: dict) -> list[str]:
    """Sends every body to every operation (path parameters from `targets`) as `user`; returns the failures."""
    from tradepilot.core.models import AuditLog

    failures = []
    for method, template, op in ops:
        path = re.sub(r"\{(\w+)\}", lambda m: str(targets[m.group(1)]), template)
        multipart = "multipart/form-data" in op.get("requestBody", {}).get("content", {})
        for body in bodies(op):
            before = AuditLog.objects.count()
            response = call(user, method, path, body, multipart)
            status = response.status_code
            if status >= 500:
                failures.append(f"{method} {template} {str(body)[:60]!r}: {status}")
                continue
            if status >= 400:
                payload = response.json()
                if not {"detail", "code", "errors"} <= set(payload):
                    failures.append(f"{method} {template}: {status} without the error shape: {payload}")
                if AuditLog.objects.count() != before:
                    failures.append(f"{method} {template}: refused with {status} but wrote an audit entry")
    return failures
