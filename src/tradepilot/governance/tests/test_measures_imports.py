"""Bulk upload of opening-measure effects: the dry run lists every bad row, the commit writes all rows or none,
through the service, the API and the pages."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from tradepilot.core.models import AuditLog
from tradepilot.core.tokens import issue_token
from tradepilot.governance import measure_imports
from tradepilot.governance.models import AreaMeasure, MeasureEffect, MeasureStatus
from tradepilot.governance.tests.measures_fixtures import (  # noqa: F401 - fixtures
    area_measure,
    loaded_programme,
    programme,
    reference,
)

pytestmark = pytest.mark.django_db

HEADER = "area,measure,year,quarter,indicator,value\n"
IMPORT_URL = "/api/v1/governance/measures/effects/import"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def write(tmp_path, text: str, name: str = "effects.csv"):
    path = tmp_path / name
    path.write_text(HEADER + text, encoding="utf-8")
    return path


def located(result) -> list[tuple]:
    return [(e["row"], e["field"], e["code"]) for e in result.errors]


def test_the_dry_run_lists_every_bad_row_and_saves_nothing(world, tmp_path):
    AreaMeasure.objects.filter(pk=area_measure("330100", "M4").pk).update(status=MeasureStatus.NOT_APPLICABLE)
    path = write(tmp_path, "\n".join([
        "330100,M1,2019,1,enterprises,12",        # 2 fine
        "杭州,M1,2019,2,amount,1250.50",           # 3 fine: the area by name
        "110000,M1,2019,1,enterprises,3",         # 4 Beijing: not Hangzhou's bureau's
        "330100,M99,2019,1,enterprises,3",        # 5 no such measure
        "330100,M1,2019,5,enterprises,3",         # 6 no such quarter
        "330100,M1,2018,2,enterprises,3",         # 7 before the round
        "330100,M1,2019,3,amount,-1",             # 8 negative
        "330100,M1,2019,3,amount,1.234",          # 9 three decimals
        "330100,M1,2019,3,visits,3",              # 10 unknown indicator
        "330100,M1,2019,1,enterprises,13",        # 11 same as row 2
        "330100,M4,2019,1,enterprises,1",         # 12 not applicable in Hangzhou
        ",M1,2019,1,enterprises,1",               # 13 no area
    ]) + "\n")
    result = measure_imports.dry_run(path, world.bureau_hz)
    assert not result.ok and result.rows == 12
    assert located(result) == [
        (4, "area", "unknown_area"), (5, "measure", "unknown_measure"), (6, "quarter", "invalid_quarter"),
        (7, "quarter", "outside_round"), (8, "value", "negative"), (9, "value", "too_many_decimals"),
        (10, "indicator", "invalid_indicator"), (11, "indicator", "duplicate"), (12, "measure", "not_applicable"),
        (13, "area", "required"),
    ]
    assert [(p.row, p.action) for p in result.planned] == [(2, "create"), (3, "create")]
    assert not MeasureEffect.objects.exists()


def test_a_province_reads_but_does_not_upload_for_its_city(world, tmp_path):
    """Zhejiang's provincial bureau has no pilot area of its own: it is refused before any row is read."""
    with pytest.raises(PermissionDenied):
        measure_imports.dry_run(write(tmp_path, "330100,M1,2019,1,enterprises,12\n"), world.bureau_zj)


def test_a_bureau_uploads_only_for_its_own_area(world, tmp_path):
    # Hangzhou lies outside Beijing's scope: for Beijing's bureau it does not exist.
    result = measure_imports.dry_run(write(tmp_path, "330100,M1,2019,1,enterprises,12\n"), world.bureau_bj)
    assert located(result) == [(2, "area", "unknown_area")]


def test_only_bureaus_upload(world, tmp_path):
    path = write(tmp_path, "330100,M1,2019,1,enterprises,12\n")
    for user in (world.ministry, world.agency, world.auditor, world.ent_hz):
        with pytest.raises(PermissionDenied):
            measure_imports.dry_run(path, user)


def test_the_commit_writes_every_row_or_none(world, tmp_path):
    bad = write(tmp_path, "330100,M1,2019,1,enterprises,12\n330100,M1,2019,2,enterprises,1.5\n", "bad.csv")
    with pytest.raises(measure_imports.ImportFailed) as exc:
        measure_imports.commit(bad, world.bureau_hz)
    assert located(exc.value.result) == [(3, "value", "not_whole")]
    assert not MeasureEffect.objects.exists() and not AuditLog.objects.filter(action__startswith="measure").exists()

    good = write(tmp_path, "330100,M1,2019,1,enterprises,12\n330100,M2,2019,Q2,amount,\"1,250.5\"\n", "good.csv")
    result = measure_imports.commit(good, world.bureau_hz, "good.csv")
    assert result.committed and (result.count("create"), result.count("update")) == (2, 0)
    assert sorted(MeasureEffect.objects.values_list("area_measure__measure__code", "quarter", "indicator", "value")) == [
        ("M1", 1, "enterprises", Decimal("12.00")), ("M2", 2, "amount", Decimal("1250.50"))]
    entries = AuditLog.objects.filter(action="measure_effect:create", actor=world.bureau_hz)
    assert entries.count() == 2 and {e.reason for e in entries} == {"imported from good.csv"}

    # the same file again: nothing changes; a changed value is an update
    assert measure_imports.commit(good, world.bureau_hz).count("unchanged") == 2
    changed = write(tmp_path, "330100,M1,2019,1,enterprises,15\n", "changed.csv")
    assert measure_imports.dry_run(changed, world.bureau_hz).planned[0].action == "update"
    measure_imports.commit(changed, world.bureau_hz)
    assert AuditLog.objects.get(action="measure_effect:update").changes == {
        "2019Q1 enterprises": ["12.00", "15.00"]}


def test_an_xlsx_with_chinese_headers_is_read(world, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append(["试点地区", "举措编号", "年度", "季度", "指标", "数值"])
    ws.append([330100, "M6", 2019, 4, "transactions", 40])
    ws.append([330100, "M6", 2019, 4, "amount", 812.25])
    path = tmp_path / "effects.xlsx"
    wb.save(path)
    result = measure_imports.commit(path, world.bureau_hz)
    assert result.rows == 2 and result.errors == []
    assert MeasureEffect.objects.get(indicator="amount").value == Decimal("812.25")


def test_a_file_without_the_required_columns_is_refused_as_a_whole(world, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("area,measure,value\n330100,M1,3\n", encoding="utf-8")
    result = measure_imports.dry_run(path, world.bureau_hz)
    assert [(e["row"], e["field"], e["code"]) for e in result.errors] == [(None, "header", "missing_columns")]


# --- through the API ---------------------------------------------------------------------------------------------

def api_import(user, text: str, **query):
    client = Client()
    upload = SimpleUploadedFile("effects.csv", (HEADER + text).encode(), content_type="text/csv")
    url = IMPORT_URL + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.post(url, {"file": upload}, headers={"Authorization": f"Bearer {issue_token(user)}"})


def test_the_api_dry_run_is_the_default_and_the_commit_is_explicit(world, media):
    response = api_import(world.bureau_hz, "330100,M1,2019,1,enterprises,12\n")
    assert response.status_code == 200 and response.json()["dry_run"] is True and response.json()["created"] == 1
    assert not MeasureEffect.objects.exists()
    response = api_import(world.bureau_hz, "330100,M1,2019,1,enterprises,12\n", dry_run="false")
    assert response.status_code == 200 and response.json()["committed"] is True
    assert MeasureEffect.objects.count() == 1
    assert not any(p.is_file() for p in (media / "governance" / "measure-imports").rglob("*"))  # not kept


def test_the_api_answers_400_naming_row_and_field_and_saves_nothing(world, media):
    response = api_import(world.bureau_hz, "330100,M1,2019,1,enterprises,12\n330100,M1,2019,9,amount,1\n",
                          dry_run="false")
    body = response.json()
    assert response.status_code == 400 and body["code"] == "invalid_file" and body["committed"] is False
    assert [(e["row"], e["field"], e["code"]) for e in body["errors"]] == [(3, "quarter", "invalid_quarter")]
    assert not MeasureEffect.objects.exists()
    assert api_import(world.ministry, "330100,M1,2019,1,enterprises,12\n").status_code == 403


# --- through the pages -------------------------------------------------------------------------------------------

def test_the_upload_page_checks_then_imports(world, media):
    client = Client()
    client.force_login(world.bureau_hz)
    upload = SimpleUploadedFile("effects.csv", (HEADER + "330100,M1,2019,1,enterprises,12\n").encode())
    response = client.post(reverse("governance:measures_import"), {"file": upload})
    assert response.status_code == 200 and not MeasureEffect.objects.exists()
    token = response.context["token"]
    # another bureau cannot commit Hangzhou's stored file: its token finds nothing
    other = Client()
    other.force_login(world.bureau_bj)
    assert other.post(reverse("governance:measures_import_commit"), {"token": token}).status_code == 404
    response = client.post(reverse("governance:measures_import_commit"), {"token": token, "filename": "effects.csv"})
    assert response.status_code == 302
    assert MeasureEffect.objects.get().value == Decimal(12)
    assert client.post(reverse("governance:measures_import_commit"), {"token": token}).status_code == 404  # used


def test_the_upload_page_lists_the_bad_rows(world, media):
    client = Client()
    client.force_login(world.bureau_hz)
    upload = SimpleUploadedFile("effects.csv", (HEADER + "330100,M1,2019,1,enterprises,-4\n").encode())
    response = client.post(reverse("governance:measures_import"), {"file": upload})
    assert response.status_code == 400
    assert b'data-code="negative"' in response.content and not response.context["result"].ok


def test_the_template_can_be_filled_in_and_imported(world, tmp_path):
    client = Client()
    client.force_login(world.bureau_hz)
    content = client.get(reverse("governance:measures_import_template", args=["xlsx"])).content
    ws = load_workbook(io.BytesIO(content))["数据"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("试点地区 (area)", "举措编号 (measure)", "年度 (year)", "季度 (quarter)", "指标 (indicator)",
                       "数值 (value)")
    assert rows[1][:2] == ("330100", "M1")  # the bureau's own area
    path = tmp_path / "filled.xlsx"
    path.write_bytes(content)
    assert measure_imports.dry_run(path, world.bureau_hz).ok
