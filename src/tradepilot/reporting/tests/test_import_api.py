"""Imports through the API: dry run, commit, GB18030, located 4xx errors, nothing saved on bad files."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tradepilot.core.tokens import issue_token
from tradepilot.reporting.imports import MONTHLY_SPEC
from tradepilot.reporting.models import MonthlyLine, Report


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 10, 25), raising=False)


def csv_text(rows) -> str:
    header = ",".join(c.header for c in MONTHLY_SPEC.columns)
    return header + "\n" + "\n".join(",".join(r) for r in rows) + "\n"


def upload(user, content: bytes, name="lines.csv"):
    client = Client()
    return client, client.post("/api/v1/imports", {"file": SimpleUploadedFile(name, content)},
                               headers={"Authorization": f"Bearer {issue_token(user)}"})


@pytest.mark.django_db
def test_gb18030_file_is_checked_then_committed(world, rates):
    rows = [[world.bj.uscc, "2026-09", "X", "SI2", "US", "1", "N", "1000.50", "USD", "软件外包"],
            [world.bj.uscc, "2026-09", "M", "SH2", "DE", "1", "Y", "200", "EUR", "许可费"]]
    client, r = upload(world.ent_bj, csv_text(rows).encode("gb18030"))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["ok"] is True and body["rows"] == 2 and body["reports_created"] == 1
    assert not Report.objects.filter(enterprise=world.bj).exists()  # a dry run saves nothing
    token = {"Authorization": f"Bearer {issue_token(world.ent_bj)}"}
    r = client.post(f"/api/v1/imports/{body['id']}/commit", headers=token)
    assert r.status_code == 200 and r.json()["lines_written"] == 2
    notes = list(MonthlyLine.objects.filter(report__enterprise=world.bj).order_by("line_no").values_list("note", flat=True))
    assert notes == ["软件外包", "许可费"]
    r = client.post(f"/api/v1/imports/{body['id']}/commit", headers=token)
    assert r.status_code == 409  # already imported


@pytest.mark.django_db
def test_bad_file_answers_400_with_located_errors_and_saves_nothing(world, rates):
    rows = [[world.bj.uscc, "2026-09", "X", "SI2", "US", "1", "N", "1000", "USD", ""],
            [world.bj.uscc, "2026-09", "X", "SZ9", "US", "1", "N", "abc", "USD", ""]]
    client, r = upload(world.ent_bj, csv_text(rows).encode("utf-8-sig"))
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "invalid_file"
    assert {(e["row"], e["field"], e["code"]) for e in body["errors"]} == {
        (3, "service", "unknown_service"), (3, "amount", "invalid_amount")}
    token = {"Authorization": f"Bearer {issue_token(world.ent_bj)}"}
    r = client.post(f"/api/v1/imports/{body['id']}/commit", headers=token)
    assert r.status_code == 400 and r.json()["code"] == "invalid_batch"
    assert Report.objects.count() == 0 and MonthlyLine.objects.count() == 0
    _client, r = upload(world.ent_bj, b"\x00\x01\x02garbage\xff\xfe", name="x.csv")
    assert r.status_code == 400 and r.json()["errors"][0]["row"] is None


@pytest.mark.django_db
def test_oversized_upload_is_refused_with_the_limit(world, rates, settings):
    settings.TRADEPILOT_MAX_UPLOAD_BYTES = 1024
    _client, r = upload(world.ent_bj, b"x" * 5000)
    assert r.status_code == 413 and "MB" in r.json()["detail"]
