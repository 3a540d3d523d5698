"""Bulk import of the annual forms: templates, dry run, all-or-nothing commit, located errors, idempotence."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tradepilot.core.models import AuditLog
from tradepilot.reporting import imports
from tradepilot.reporting.annual_imports import FATS_IN_SPEC, FATS_OUT_SPEC
from tradepilot.reporting.models import FatsInward, FatsOutwardAffiliate, Report
from tradepilot.reporting.services import ReportError
from tradepilot.reporting.spreadsheets import form_template_xlsx


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: dt.date(2026, 3, 1))


def csv_file(spec, rows, encoding="utf-8-sig") -> SimpleUploadedFile:
    header = ",".join(c.header for c in spec.columns)
    body = "\n".join(",".join(str(row.get(c.key, "")) for c in spec.columns) for row in rows)
    return SimpleUploadedFile("annual.csv", (header + "\n" + body + "\n").encode(encoding))


FATS_IN_ROW = {"year": "2025", "ultimate_parent_country": "DE", "activity": "65", "turnover": "52000",
               "services_sales": "30000", "employment": "420", "compensation": "8100", "value_added": "12500",
               "exports": "9800", "imports": "3100", "total_assets": "64000", "rd_expenditure": "2300",
               "sales_SI": "21000", "sales_SJ": "9000"}
AFFILIATE = {"year": "2025", "name": "Cloudmap GmbH", "host_country": "DE", "activity": "65", "turnover": "3200",
             "employment": "35", "total_assets": "5100", "net_profit": "-120.5", "ownership_share": "100"}


def run(user, spec, rows, encoding="utf-8-sig"):
    batch = imports.store_upload(csv_file(spec, rows, encoding), user, spec.form_code)
    return batch, imports.dry_run(batch, user)


@pytest.mark.django_db
def test_inward_fats_file_is_previewed_then_committed_and_reupload_changes_nothing(world):
    row = dict(FATS_IN_ROW, uscc=world.bj.uscc)
    batch, preview = run(world.ent_bj, FATS_IN_SPEC, [row], "gb18030")
    assert preview.ok and [r.action for r in preview.reports] == ["create"]
    assert not Report.objects.filter(form__code="fats_in").exists()  # the dry run was rolled back
    summary = imports.commit(batch, world.ent_bj)
    assert summary.reports_created == 1
    fats = FatsInward.objects.get(report__enterprise=world.bj)
    assert fats.services_sales == 30000 and fats.service_sales.count() == 2
    audit_count = AuditLog.objects.count()
    batch2, preview2 = run(world.ent_bj, FATS_IN_SPEC, [row])
    assert [r.action for r in preview2.reports] == ["unchanged"]
    assert imports.commit(batch2, world.ent_bj).reports_unchanged == 1
    assert AuditLog.objects.count() == audit_count
    assert FatsInward.objects.get(report__enterprise=world.bj).pk == fats.pk


@pytest.mark.django_db
def test_errors_are_located_by_row_and_column_and_nothing_is_saved(world):
    rows = [dict(AFFILIATE, uscc=world.bj.uscc),
            dict(AFFILIATE, uscc=world.bj.uscc, name="Cloudmap Ltd", host_country="CN", ownership_share="40"),
            dict(AFFILIATE, uscc=world.hz.uscc),
            dict(AFFILIATE, uscc=world.bj.uscc, year="20x5")]
    batch, preview = run(world.ent_bj, FATS_OUT_SPEC, rows)
    assert not preview.ok
    assert {(e.row, e.field, e.code) for e in preview.errors} == {
        (3, "host_country", "domestic_host"), (3, "ownership_share", "not_controlled"),
        (4, "uscc", "unknown_enterprise"), (5, "year", "invalid_year")}
    with pytest.raises(ReportError) as exc:
        imports.commit(batch, world.ent_bj)
    assert exc.value.code == "invalid_batch"
    assert not FatsOutwardAffiliate.objects.exists() and not Report.objects.exists()


@pytest.mark.django_db
def test_one_row_per_enterprise_and_year_for_single_row_forms(world):
    rows = [dict(FATS_IN_ROW, uscc=world.bj.uscc), dict(FATS_IN_ROW, uscc=world.bj.uscc)]
    _batch, preview = run(world.ent_bj, FATS_IN_SPEC, rows)
    assert [(e.row, e.code) for e in preview.errors] == [(3, "duplicate_report")]


@pytest.mark.django_db
def test_templates_for_every_annual_form_read_back_through_the_importer(world, tmp_path):
    for code in ("basic", "fats_in", "fats_out"):
        content = form_template_xlsx(code)
        wb = openpyxl.load_workbook(io.BytesIO(content))
        assert wb.sheetnames == ["数据", "说明", "代码表"]
        path = tmp_path / f"{code}.xlsx"
        path.write_bytes(content)
        rows = list(imports.read_rows(path, imports.get_spec(code)))
        assert len(rows) == 1 and rows[0][0] == 2  # the example row, under the header
    client = Client()
    client.force_login(world.ent_bj)
    r = client.get("/reporting/templates/fats_out/template.xlsx")
    assert r.status_code == 200 and r["Content-Disposition"].endswith('fats_out-template.xlsx"')
    assert client.get("/reporting/templates/nonsense/template.xlsx").status_code == 404


@pytest.mark.django_db
def test_annual_upload_through_the_page(world):
    client = Client()
    client.force_login(world.ent_bj)
    upload = csv_file(FATS_OUT_SPEC, [dict(AFFILIATE, uscc=world.bj.uscc)])
    r = client.post("/reporting/imports/", {"file": upload, "form": "fats_out"})
    assert r.status_code == 302
    r = client.post(r.url)
    assert r.status_code == 302
    assert FatsOutwardAffiliate.objects.get().name == "Cloudmap GmbH"
