"""Loading the report forms and the default validation rules from `reporting/data/` (idempotent).

Rules already present are left as the ministry edited them; only missing rules are added.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from tradepilot.reporting.models import ReportForm, ValidationRule

DATA = Path(__file__).parent / "data"


@transaction.atomic
def load_defaults() -> dict[str, int]:
    for row in json.loads((DATA / "forms.json").read_text("utf-8")):
        code = row.pop("code")
        ReportForm.objects.get_or_create(code=code, defaults=row)
    forms = {f.code: f for f in ReportForm.objects.all()}
    added = 0
    for row in json.loads((DATA / "validation_rules.json").read_text("utf-8")):
        row = dict(row)
        row["form"] = forms[row["form"]]
        if "threshold" in row:
            row["threshold"] = Decimal(row["threshold"])
        _, created = ValidationRule.objects.get_or_create(code=row.pop("code"), defaults=row)
        added += created
    return {"forms": len(forms), "rules_added": added}
