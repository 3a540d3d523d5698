"""`analytics check`: the analytics store agrees with the transactional database, total by total."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Sum

from tradepilot.analytics import queries, store
from tradepilot.analytics.engine import Engine, get_engine
from tradepilot.analytics.schema import FATS_INWARD, FATS_OUTWARD, LINES, ROLLUPS
from tradepilot.reporting.models import FatsInward, FatsOutwardAffiliate, MonthlyLine, ReportForm


@dataclass
class Comparison:
    what: str
    expected: tuple[int, Decimal]
    found: tuple[int, Decimal]

    @property
    def ok(self) -> bool:
        return self.expected == self.found


def _chosen_ids(form_code: str, stage: int) -> list[int]:
    from tradepilot.reporting.models import Report

    ids: list[int] = []
    for (year, month) in set(Report.objects.filter(form__code=form_code).values_list("year", "month")):
        chosen, _owners = store._reports(form_code, year, month)
        ids.extend(rid for rid, flags in chosen.items() if flags[stage])
    return ids


def _expected(model, report_field: str, money_field: str, form_code: str, stage: int) -> tuple[int, Decimal]:
    ids = _chosen_ids(form_code, stage)
    total_n, total_v = 0, Decimal(0)
    for i in range(0, len(ids), 500):  # SQLite's limit on query parameters
        qs = model.objects.filter(**{f"{report_field}__in": ids[i:i + 500]})
        if model is MonthlyLine:
            qs = qs.filter(usd_amount__isnull=False)
        agg = qs.aggregate(n=Count("pk"), v=Sum(money_field))
        total_n += agg["n"]
        total_v += agg["v"] or Decimal(0)
    return total_n, total_v.quantize(Decimal("0.01"))


def compare(engine: Engine | None = None) -> list[Comparison]:
    engine = engine or get_engine()
    out = []
    for stage_index, stage in enumerate(("official", "preliminary")):
        for dataset, model, money_field, form in (
            (LINES, MonthlyLine, "usd_amount", ReportForm.Code.MONTHLY),
            (FATS_INWARD, FatsInward, "services_sales", ReportForm.Code.FATS_IN),
            (FATS_OUTWARD, FatsOutwardAffiliate, "turnover", ReportForm.Code.FATS_OUT),
        ):
            expected = _expected(model, "report_id", money_field, form, stage_index)
            found = queries.count_rows(dataset, engine=engine, stage=stage)
            out.append(Comparison(f"{dataset.name} ({stage})", expected, found))
            if dataset is LINES:  # the rollups hold the same lines and money
                for rollup in ROLLUPS:
                    rolled = queries.count_rows(rollup, engine=engine, stage=stage)
                    out.append(Comparison(f"{rollup.name} ({stage})", expected, rolled))
    return out
