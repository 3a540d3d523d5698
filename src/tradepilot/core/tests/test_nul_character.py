"""NUL (U+0000) is refused at the door with 400 naming the parameter: PostgreSQL text cannot hold it."""

from __future__ import annotations

import pytest
from django.test import Client

from tradepilot.core.models import AuditLog
from tradepilot.enterprises.models import Enterprise

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(world):
    c = Client()
    c.force_login(world.ministry)
    return c


def test_api_query_parameter(client):
    r = client.get("/api/v1/enterprises", {"q": "北京\x00"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_character" and r.json()["errors"][0]["field"] == "q"


def test_api_json_body_names_the_path(client, world):
    before = AuditLog.objects.count()
    r = client.patch(f"/api/v1/enterprises/{world.bj.pk}", {"name": "北京\x00公司", "reason": "核对"},
                     content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "name"
    r = client.post("/api/v1/reports/bulk-approve", {"report_ids": [1], "notes": [{"text": "a\x00"}]},
                    content_type="application/json")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "notes.0.text"
    assert Enterprise.objects.get(pk=world.bj.pk).name == world.bj.name
    assert AuditLog.objects.count() == before


def test_page_query_and_form_field(client, world):
    r = client.get("/enterprises/", {"q": "\x00"})
    assert r.status_code == 400 and r.content.decode().startswith("q: ")
    r = client.post(f"/enterprises/{world.bj.pk}/edit/", {"name": "x\x00", "region": "110000"})
    assert r.status_code == 400 and r.content.decode().startswith("name: ")
    assert Enterprise.objects.get(pk=world.bj.pk).name == world.bj.name


def test_ordinary_text_passes(client):
    assert client.get("/api/v1/enterprises", {"q": "北京"}).status_code == 200
    assert client.get("/enterprises/", {"q": "北京 \\u0000"}).status_code == 200  # the six characters, not NUL
