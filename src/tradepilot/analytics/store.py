"""Writing the analytics store: transactional rows → denormalised fact rows → Parquet partitions (+ table).

One Parquet file per partition (`<root>/<dataset>/year=2026/month=03/data.parquet`), replaced atomically with
`os.replace`, so a reader sees the old partition or the new one, never half of each. When the configured engine
is `database`, the same rows replace the partition's rows in the fact table inside one transaction.

Which report version counts is decided here (`choose_versions`): see schema.STAGE_COLUMNS.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tradepilot.analytics.schema import DATASETS, FATS_INWARD, FATS_OUTWARD, LINES, ROLLUPS, Dataset
from tradepilot.core.models import Country, PilotArea, Region, ServiceCategory, SupplyMode
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting.models import (
    FatsInward,
    FatsOutwardAffiliate,
    MonthlyLine,
    Report,
    ReportForm,
    Status,
)

OFFICIAL_STATUSES = (Status.APPROVED, Status.ACCEPTED, Status.LOCKED, Status.SUPERSEDED)
PRELIMINARY_STATUSES = (Status.SUBMITTED, *OFFICIAL_STATUSES)
BATCH = 100_000


def root() -> Path:
    return Path(settings.ANALYTICS_ROOT)


def engine_name() -> str:
    return getattr(settings, "ANALYTICS_ENGINE", "duckdb")


def cents(value: Decimal | None) -> int:
    """Exact: amounts have two decimal places (checked on input), so ×100 is an integer."""
    return 0 if value is None else int(value.scaleb(2))


# --- enterprise attributes ------------------------------------------------------------------------------------

class EnterpriseDims:
    """Enterprise attributes as they go onto fact rows, computed once per refresh."""

    def __init__(self, enterprise_ids: Iterable[int] | None = None):
        regions = {r.pk: r for r in Region.objects.all()}
        by_path = {r.path: r for r in regions.values()}
        # The latest round's area wins where rounds overlap (a region may be in several rounds).
        areas = sorted(PilotArea.objects.select_related("round", "region"), key=lambda a: (a.round.start_date, a.pk))
        area_by_path = {a.region.path: a for a in areas}
        qs = Enterprise.objects.all()
        if enterprise_ids is not None:
            qs = qs.filter(pk__in=list(enterprise_ids))
        self.rows: dict[int, tuple] = {}
        for e in qs.values_list("pk", "region_id", "industry__code", "industry__parent__code", "registration_type",
                                "is_key_contact", "is_systemic"):
            pk, region_id, industry, section, reg_type, key, systemic = e
            region = regions[region_id]
            chain = [p for p in region.path.strip("/").split("/") if p]
            ancestors = [by_path.get("/" + "/".join(chain[:i]) + "/") for i in range(1, len(chain) + 1)]
            ancestors = [a for a in ancestors if a is not None]
            province = ancestors[0].code if ancestors else region.code
            city = next((a.code for a in ancestors if a.level == Region.Level.CITY), "")
            area = None
            for a in ancestors:
                area = area_by_path.get(a.path, area)
            self.rows[pk] = (
                pk, region.code, region.path, province, city,
                area.region.code if area else "", area.round.code if area else "", int(area is not None),
                industry or "", section or "", reg_type or "", int(bool(key)), int(bool(systemic)),
            )

    def get(self, enterprise_id: int) -> tuple:
        return self.rows[enterprise_id]


# --- version choice -------------------------------------------------------------------------------------------

def choose_versions(reports: Iterable[tuple[int, int, int, str]]) -> dict[int, tuple[int, int]]:
    """reports: (report_id, enterprise_id, version, status) of one period and form.
    Returns report_id → (official, preliminary) for the reports that count at either stage."""
    official: dict[int, tuple[int, int]] = {}
    preliminary: dict[int, tuple[int, int]] = {}
    for rid, ent, version, status in reports:
        if status in OFFICIAL_STATUSES and version > official.get(ent, (0, 0))[0]:
            official[ent] = (version, rid)
        if status in PRELIMINARY_STATUSES and version > preliminary.get(ent, (0, 0))[0]:
            preliminary[ent] = (version, rid)
    flags: dict[int, list[int]] = {}
    for _v, rid in official.values():
        flags.setdefault(rid, [0, 0])[0] = 1
    for _v, rid in preliminary.values():
        flags.setdefault(rid, [0, 0])[1] = 1
    return {rid: (f[0], f[1]) for rid, f in flags.items()}


def _reports(form_code: str, year: int, month: int) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """(report_id → stage flags, report_id → enterprise_id) for the reports of a period that count."""
    rows = list(Report.objects.filter(form__code=form_code, year=year, month=month, status__in=PRELIMINARY_STATUSES)
                .values_list("pk", "enterprise_id", "version", "status"))
    return choose_versions(rows), {r[0]: r[1] for r in rows}


# --- fact rows per dataset ------------------------------------------------------------------------------------

@dataclass
class Lookups:
    services: dict[int, tuple[str, str, int]]
    countries: dict[int, str]
    modes: dict[int, str]

    @classmethod
    def load(cls) -> Lookups:
        cats = {c.pk: c for c in ServiceCategory.objects.select_related("parent")}
        services = {}
        for c in cats.values():
            component = c.parent if c.parent_id else c
            services[c.pk] = (c.code, component.code, int(c.knowledge_intensive or component.knowledge_intensive))
        return cls(services, dict(Country.objects.values_list("pk", "alpha2")),
                   dict(SupplyMode.objects.values_list("pk", "code")))


def line_rows(year: int, month: int, dims: EnterpriseDims | None = None, lookups: Lookups | None = None
              ) -> Iterator[tuple]:
    """Fact rows (LINES.columns order) of one month."""
    chosen, reports = _reports(ReportForm.Code.MONTHLY, year, month)
    if not chosen:
        return
    dims = dims or EnterpriseDims({reports[rid] for rid in chosen})
    lookups = lookups or Lookups.load()
    period = year * 100 + month
    qs = (MonthlyLine.objects.filter(report__form__code=ReportForm.Code.MONTHLY, report__year=year,
                                     report__month=month, report__status__in=PRELIMINARY_STATUSES)
          .values_list("report_id", "direction", "service_id", "partner_id", "mode_id", "related_party",
                       "usd_amount").order_by())
    services, countries, modes = lookups.services, lookups.countries, lookups.modes
    for rid, direction, service_id, partner_id, mode_id, related, usd in qs.iterator(chunk_size=20_000):
        flags = chosen.get(rid)
        if flags is None or usd is None:
            continue
        service, component, ki = services[service_id]
        yield (year, month, period, flags[0], flags[1], rid, direction, service, component, ki,
               countries[partner_id], modes[mode_id], int(related), cents(usd)) + dims.get(reports[rid])


def fats_in_rows(year: int, dims: EnterpriseDims | None = None) -> Iterator[tuple]:
    chosen, _owners = _reports(ReportForm.Code.FATS_IN, year, 0)
    if not chosen:
        return
    records = list(FatsInward.objects.filter(report_id__in=list(chosen))
                   .values_list("report_id", "report__enterprise_id", "ultimate_parent_country__alpha2",
                                "activity__code", "turnover", "services_sales", "employment", "exports", "imports"))
    dims = dims or EnterpriseDims({r[1] for r in records})
    for rid, ent, country, activity, turnover, sales, employment, exports, imports in records:
        o, p = chosen[rid]
        yield (year, o, p, rid, country, activity, cents(turnover), cents(sales), employment, cents(exports),
               cents(imports)) + dims.get(ent)


def fats_out_rows(year: int, dims: EnterpriseDims | None = None) -> Iterator[tuple]:
    chosen, _owners = _reports(ReportForm.Code.FATS_OUT, year, 0)
    if not chosen:
        return
    records = list(FatsOutwardAffiliate.objects.filter(report_id__in=list(chosen))
                   .values_list("report_id", "report__enterprise_id", "host_country__alpha2", "activity__code",
                                "turnover", "employment", "net_profit"))
    dims = dims or EnterpriseDims({r[1] for r in records})
    for rid, ent, country, activity, turnover, employment, profit in records:
        o, p = chosen[rid]
        yield (year, o, p, rid, country, activity, cents(turnover), employment, cents(profit)) + dims.get(ent)


# --- writing --------------------------------------------------------------------------------------------------

def partition_dir(dataset: Dataset, year: int, month: int = 0) -> Path:
    path = root() / dataset.name / f"year={year}"
    return path / f"month={month}" if "month" in dataset.partition_by else path


def write_partition(dataset: Dataset, year: int, month: int, rows: Iterable[tuple]) -> int:
    """Replace one partition with `rows` (tuples in dataset.columns order). Returns the row count."""
    names = dataset.column_names
    keep = [i for i, n in enumerate(names) if n not in dataset.partition_by]
    schema = dataset.file_schema
    directory = partition_dir(dataset, year, month)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f".data-{uuid.uuid4().hex}.parquet"
    count = 0
    to_table = engine_name() == "database"
    table_rows: list[tuple] = []
    writer = None
    try:
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                writer = _write_batch(writer, tmp, schema, batch, keep)
                count += len(batch)
                if to_table:
                    table_rows.extend(batch)
                batch = []
        if batch or writer is None:
            writer = _write_batch(writer, tmp, schema, batch, keep)
            count += len(batch)
            if to_table:
                table_rows.extend(batch)
        writer.close()
        target = directory / "data.parquet"
        if count:
            os.replace(tmp, target)
        else:  # an empty partition is no partition
            tmp.unlink(missing_ok=True)
            target.unlink(missing_ok=True)
            shutil.rmtree(directory, ignore_errors=True)
    finally:
        if tmp.exists():
            tmp.unlink()
    if to_table:
        _write_table(dataset, year, month, table_rows)
    return count


def _write_batch(writer, path: Path, schema: pa.Schema, batch: list[tuple], keep: list[int]):
    columns = list(zip(*batch, strict=True)) if batch else None
    arrays = [pa.array(columns[i] if columns else [], type=schema.field(j).type) for j, i in enumerate(keep)]
    table = pa.Table.from_arrays(arrays, schema=schema)
    if writer is None:
        writer = pq.ParquetWriter(path, schema, compression="zstd")
    writer.write_table(table)
    return writer


@transaction.atomic
def _write_table(dataset: Dataset, year: int, month: int, rows: list[tuple]) -> None:
    from tradepilot.analytics.models import FACT_MODELS

    model = FACT_MODELS[dataset.name]
    where = {"year": year, "month": month} if "month" in dataset.partition_by else {"year": year}
    model.objects.filter(**where).delete()
    names = dataset.column_names
    model.objects.bulk_create((model(**dict(zip(names, r, strict=True))) for r in rows), batch_size=5000)


# --- refresh and rebuild --------------------------------------------------------------------------------------

def refresh(dataset_name: str, year: int, month: int = 0, dims: EnterpriseDims | None = None,
            lookups: Lookups | None = None) -> int:
    """Rebuild one partition from the transactional database and record it. Returns its row count."""
    from tradepilot.analytics.models import Partition

    dataset = DATASETS[dataset_name]
    started = timezone.now()
    t = time.perf_counter()
    if dataset is LINES:
        rows = line_rows(year, month, dims, lookups)
    elif dataset is FATS_INWARD:
        rows = fats_in_rows(year, dims)
    else:
        rows = fats_out_rows(year, dims)
    count = write_partition(dataset, year, month, rows)
    if dataset is LINES:
        for rollup in ROLLUPS:
            write_partition(rollup, year, month, rollup_rows(rollup, year, month))
    Partition.objects.update_or_create(
        dataset=dataset.name, year=year, month=month if dataset is LINES else 0,
        defaults={"refreshed_at": started, "rows": count, "seconds": time.perf_counter() - t},
    )
    return count


def rollup_rows(rollup: Dataset, year: int, month: int) -> list[tuple]:
    """A rollup's rows of one month, aggregated by DuckDB from the line partition just written (so the two can
    only differ if the file changed in between, which `analytics check` would show)."""
    import duckdb

    source = partition_dir(LINES, year, month) / "data.parquet"
    if not source.exists():
        return []
    keep = [n for n in rollup.column_names if n not in ("year", "month", "usd_cents", "lines")]
    group = ", ".join(keep)
    with duckdb.connect(":memory:") as con:
        found = con.execute(
            f"SELECT {group}, SUM(usd_cents), COUNT(*) FROM read_parquet(?) GROUP BY {group} ORDER BY {group}",
            [str(source)]).fetchall()
    order = {n: i for i, n in enumerate(keep)}
    names = rollup.column_names
    out = []
    for row in found:
        values = {"year": year, "month": month, "usd_cents": int(row[-2]), "lines": int(row[-1])}
        out.append(tuple(values[n] if n in values else row[order[n]] for n in names))
    return out


def periods_with_data() -> dict[str, list[tuple[int, int]]]:
    monthly = sorted(set(Report.objects.filter(form__code=ReportForm.Code.MONTHLY).values_list("year", "month")))
    fats_in = sorted({(y, 0) for y in Report.objects.filter(form__code=ReportForm.Code.FATS_IN)
                      .values_list("year", flat=True)})
    fats_out = sorted({(y, 0) for y in Report.objects.filter(form__code=ReportForm.Code.FATS_OUT)
                       .values_list("year", flat=True)})
    return {LINES.name: monthly, FATS_INWARD.name: fats_in, FATS_OUTWARD.name: fats_out}


def rebuild(progress=None) -> dict[str, int]:
    """Everything from scratch: removes the store (and fact tables), then writes every partition."""
    from tradepilot.analytics.models import FACT_MODELS, Partition

    if root().exists():
        for dataset in DATASETS.values():
            shutil.rmtree(root() / dataset.name, ignore_errors=True)
    if engine_name() == "database":
        for model in FACT_MODELS.values():
            model.objects.all().delete()
    Partition.objects.all().delete()
    dims = EnterpriseDims()
    lookups = Lookups.load()
    totals: dict[str, int] = {}
    for name, periods in periods_with_data().items():
        for year, month in periods:
            n = refresh(name, year, month, dims=dims, lookups=lookups)
            totals[name] = totals.get(name, 0) + n
            if progress:
                progress(name, year, month, n)
    return totals
