"""Uploading the monthly CNY central parities (CSV or XLSX), all or nothing, through the import file reader."""

from __future__ import annotations

import os
import tempfile

from django.db import transaction
from django.utils.translation import gettext as _

from tradepilot.core.models import Currency
from tradepilot.reporting.imports import READ_ERROR, Column, FileError, FormSpec, max_upload_bytes, read_rows
from tradepilot.reporting.rates import parse_rate_rows, save_rates

RATES_SPEC = FormSpec(
    form_code="exchange_rates",
    title_zh="人民币汇率中间价",
    title_en="CNY central parity rates",
    columns=(
        Column("period", "报告期", "Period", example="2026-10"),
        Column("currency", "币种", "Currency", example="USD"),
        Column("rate", "中间价", "Rate (CNY per units)", numeric=True, example="7.1"),
        Column("units", "单位", "Units", required=False, numeric=True, example="1"),
        Column("source", "来源", "Source", required=False),
    ),
)


class RateUploadError(Exception):
    def __init__(self, message: str, errors: list[dict]):
        super().__init__(message)
        self.message, self.errors = message, errors


def upload_rates(uploaded, user) -> tuple[int, int]:
    """Returns (rows read, rates new or changed). Raises RateUploadError with located errors; saves nothing then."""
    if getattr(uploaded, "size", 0) > max_upload_bytes():
        raise RateUploadError(_("The file is too large."), [])
    suffix = os.path.splitext(getattr(uploaded, "name", "") or "")[1].lower()[:6]
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        for chunk in uploaded.chunks():
            tmp.write(chunk)
        tmp.flush()
        try:
            rows, read_errors = [], []
            for row_no, raw in read_rows(tmp.name, RATES_SPEC, max_rows=100_000):
                if READ_ERROR in raw:
                    read_errors.append(raw[READ_ERROR].as_dict())
                else:
                    rows.append((row_no, raw))
        except FileError as exc:
            raise RateUploadError(exc.errors[0].message, [e.as_dict() for e in exc.errors]) from None
    parsed, errors = parse_rate_rows(rows, set(Currency.objects.values_list("code", flat=True)))
    errors = read_errors + errors
    if errors:
        raise RateUploadError(_("Some rows are invalid; nothing was saved."), errors)
    sources = {r[1].get("source") for r in rows if r[1].get("source")}
    with transaction.atomic():
        changed = save_rates(parsed, user, source=", ".join(sorted(str(s) for s in sources)) or
                             getattr(uploaded, "name", ""))
    return len(parsed), changed
