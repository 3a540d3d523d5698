"""Bad input never answers 500: every governance API operation that changes data, fed bodies built from its own
OpenAPI schema with wrong types, extreme values, missing fields and non-objects, by the roles that may call it.

Each answer must be a 2xx or a 4xx in the API's error shape (`detail`, `code`, `errors`), and a refused request
must leave the database as it was (the audit log is the witness: a refusal writes no entry)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tradepilot.api import api as ninja_api
from tradepilot.core.models import AuditLog, PilotArea
from tradepilot.core.tokens import issue_token
from tradepilot.governance import early_warning, evaluation
from tradepilot.governance.models import (
    AreaMeasure,
    AreaTask,
    ExperienceCase,
    MeasureEffect,
    ProgressReport,
    ResultsReport,
    RiskAlert,
    SupervisionNotice,
    TaskStatus,
    WorkPlan,
)

pytestmark = pytest.mark.django_db

ROOT = "/api/v1"
WRONG = {"string": 12345, "integer": "abc", "number": "abc", "boolean": "maybe", "array": "not a list",
         "object": 7}
EXTREME = {"string": "长" * 5000, "integer": 10**12, "number": "1e400", "boolean": None, "array": [None, 5, "x"],
           "object": {"": None}}


def operations() -> list[tuple[str, str, dict]]:
    schema = ninja_api.get_openapi_schema()
    out = []
    for path, ops in schema["paths"].items():
        if not path.startswith(f"{ROOT}/governance/"):
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
    components = ninja_api.get_openapi_schema()["components"]["schemas"]
    content = op.get("requestBody", {}).get("content", {})
    schema = _resolve(content.get("application/json", {}).get("schema", {}), components)
    props = {name: _resolve(p, components) for name, p in schema.get("properties", {}).items()}
    wrong = {name: WRONG.get(p.get("type", "string"), 12345) for name, p in props.items()}
    extreme = {name: EXTREME.get(p.get("type", "string"), "x") for name, p in props.items()}
    dates = {name: "2019-13-45" for name, p in props.items() if p.get("format") in ("date", "date-time")}
    return [wrong, extreme, {**extreme, **dates}, {}, [], "text", None]


@pytest.fixture
def targets(world, programme):
    """One object of every kind a path names, in Beijing (bureau_bj's own area)."""
    area = PilotArea.objects.get(region__code="110000")
    area_task = AreaTask.objects.filter(area=area).order_by("task__order").first()
    progress = ProgressReport.objects.create(area_task=area_task, year=2019, quarter=1,
                                             status_reported=TaskStatus.IN_PROGRESS, narrative="进展",
                                             submitted_by=world.bureau_bj)
    am = AreaMeasure.objects.filter(area=area).order_by("measure__order").first()
    system = evaluation.ensure_default_system(area.round)
    early_warning.ensure_default_rules(area.round)
    rule = area.round.risk_rules.order_by("code").first()
    return {
        "area_id": area.pk,
        "plan_id": WorkPlan.objects.create(area=area, title="北京方案").pk,
        "area_task_id": area_task.pk,
        "progress_id": progress.pk,
        "notice_id": SupervisionNotice.objects.create(area_task=area_task, message="督办",
                                                      reply_due=dt.date(2019, 6, 30),
                                                      issued_by=world.ministry).pk,
        "am_id": am.pk,
        "effect_id": MeasureEffect.objects.create(area_measure=am, year=2019, quarter=1,
                                                  indicator=MeasureEffect.Indicator.ENTERPRISES,
                                                  value=Decimal(3)).pk,
        "report_id": ResultsReport.objects.create(area=area, year=2019).pk,
        "case_id": ExperienceCase.objects.create(area=area, title="经验", problem="问题", measure="举措",
                                                 effect="成效", created_by=world.bureau_bj).pk,
        "system_id": system.pk,
        "indicator_id": system.indicators.order_by("order").first().pk,
        "rule_id": rule.pk,
        "alert_id": RiskAlert.objects.create(rule=rule, area=area, year=2026, month=9, subject="SG",
                                             level="yellow", value=Decimal("35.0")).pk,
    }


def call(user, method: str, path: str, body, multipart: bool):
    client = Client(raise_request_exception=False)
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    if multipart:
        files = {"file": SimpleUploadedFile("x.exe", b"MZ\x90\x00garbage", content_type="application/x-msdownload")}
        data = {k: v for k, v in body.items() if v is not None} if isinstance(body, dict) else {}
        return client.post(ROOT + path, {**{k: str(v) for k, v in data.items()}, **files}, headers=headers)
    payload = "" if body is None else body
    return getattr(client, method.lower())(ROOT + path, payload, content_type="application/json", headers=headers)


@pytest.mark.parametrize("actor", ["ministry", "bureau_bj", "agency"])
def test_no_governance_operation_answers_500_to_bad_input(world, targets, actor):
    user = getattr(world, actor)
    failures = []
    for method, template, op in operations():
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
    assert not failures, "\n".join(failures)


def test_every_changing_operation_is_exercised():
    """The list above is the schema's: a new operation is covered without editing this module."""
    ops = operations()
    assert len(ops) >= 30
    assert any("multipart/form-data" in op.get("requestBody", {}).get("content", {}) for _m, _p, op in ops)
