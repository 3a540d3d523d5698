"""The registry form refuses what its columns cannot hold, by field, and changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tradepilot.core.models import AuditLog
from tradepilot.enterprises.models import Enterprise

pytestmark = pytest.mark.django_db


def form(**overrides) -> dict:
    data = {"uscc": "", "name": "北京云图数据科技有限公司", "name_en": "", "region": "110000", "industry": "",
            "registration_type": "domestic", "established": "", "address": "", "contact_name": "",
            "contact_phone": "", "contact_email": "", "key_contact_year": "2018", "systemic_year": "",
            "is_key_contact": "on", "reason": "核对"}
    data.update(overrides)
    return data


@pytest.mark.parametrize("field, value, code", [
    ("key_contact_year", "40000", "invalid_year"),
    ("key_contact_year", "1899", "invalid_year"),
    ("key_contact_year", "二〇一八", "invalid_year"),
    ("systemic_year", "99999999999999999999", "invalid_year"),
    ("name", "长" * 300, "too_long"),
    ("contact_email", "x" * 300, "too_long"),
])
def test_edit_refuses_by_field_and_keeps_the_record(world, field, value, code):
    client = Client()
    client.force_login(world.ministry)
    before = Enterprise.objects.values().get(pk=world.bj.pk)
    audit = AuditLog.objects.count()
    r = client.post(reverse("enterprises:edit", args=[world.bj.pk]), form(**{field: value}))
    assert r.status_code == 400  # the form again, with the error beside the field
    assert list(r.context["errors"]) == [field]
    limit = "2000" if code == "invalid_year" else str(Enterprise._meta.get_field(field).max_length)
    assert limit in r.context["errors"][field]
    assert Enterprise.objects.values().get(pk=world.bj.pk) == before
    assert AuditLog.objects.count() == audit


@pytest.mark.parametrize("body", [{"key_contact_year": 40000}, {"systemic_year": -5}, {"address": "长" * 600}])
def test_api_refuses_by_field(world, body):
    client = Client()
    client.force_login(world.ministry)
    r = client.patch(f"/api/v1/enterprises/{world.bj.pk}", {**body, "reason": "核对"},
                     content_type="application/json")
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == list(body)
