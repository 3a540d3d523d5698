"""Shared set-up of the tracking tests: reference data and the programme loaded once per module, evidence files of
every accepted type (real ones, built here), and small helpers to reach area tasks.

Import into a test module with `from tradepilot.governance.tests.tracking_support import *`; each test still runs
in its own transaction inside the module's, so what it changes is rolled back before the next."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tradepilot.core.models import PilotArea
from tradepilot.governance.demo.tracking import tiny_pdf
from tradepilot.governance.models import AreaTask, Task

# 附件3 tasks: 5.1 (深入改革通关监管制度和模式) names 海关总署; 1.2 names only the areas and the ministry.
CUSTOMS_TASK = "5.1"
OTHER_TASK = "1.2"
HANGZHOU, BEIJING = "330100", "110000"
# A day well inside the round (2018-07-01 … 2020-06-30): 2019Q4 has begun, 2020Q1 has not.
IN_ROUND = dt.date(2019, 11, 20)


@pytest.fixture(scope="module")
def loaded_programme(django_db_setup, django_db_blocker):
    from tradepilot.core.reference import load_all
    from tradepilot.governance.programme import load_programme
    from tradepilot.reporting.setup import load_defaults
    from tradepilot.testing.shared_data import module_transaction

    with module_transaction(django_db_blocker):
        load_all()
        load_defaults()
        load_programme()
        yield


@pytest.fixture
def reference(loaded_programme, db):
    """Overrides the conftest fixture (`world` depends on it): already loaded for the module."""


@pytest.fixture
def programme(reference):
    """Overrides the governance conftest fixture: already loaded for the module."""


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def area(region_code: str) -> PilotArea:
    return PilotArea.objects.select_related("region", "round").get(region__code=region_code, round__code="2018")


def area_task(region_code: str, task_code: str) -> AreaTask:
    return AreaTask.objects.select_related("area__region", "area__round", "task").get(
        area__region__code=region_code, area__round__code="2018", task__code=task_code)


def task(code: str) -> Task:
    return Task.objects.get(round__code="2018", code=code)


# --- evidence files ------------------------------------------------------------------------------------------

def pdf_bytes(text: str = "evidence") -> bytes:
    """A minimal valid one-page PDF (its own cross-reference table), different for each `text`: the demo's."""
    return tiny_pdf(text)


def docx_bytes(text: str = "evidence") -> bytes:
    """A minimal Word package: content types, the main document part."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("word/document.xml", f'<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                   f'.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body>'
                   f'</w:document>')
    return out.getvalue()


def xlsx_bytes(value: str = "evidence") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


__all__ = [
    "BEIJING", "CUSTOMS_TASK", "HANGZHOU", "IN_ROUND", "JPEG", "OTHER_TASK", "PNG", "area", "area_task",
    "docx_bytes", "loaded_programme", "media", "pdf_bytes", "programme", "reference", "task", "upload", "xlsx_bytes",
]
