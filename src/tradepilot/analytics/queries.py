"""Every analytics query, as portable SQL over the fact relations (see engine.py).

The SQL here uses only what DuckDB, PostgreSQL and SQLite all accept (and Trino/Spark SQL too): SELECT, WHERE with
`%s` parameters, GROUP BY, SUM/COUNT/MAX, sub-selects. Column names in GROUP BY come from a whitelist, never from
the caller's text. Sums are integer cents, turned into `Decimal` here, exactly.

`cells()` is the one aggregate the dashboards, the bulletin, SDMX and the disclosure control share: per cell the
value, the number of contributing enterprises and the largest single contribution (what the suppression rules
need), computed in one pass as a sum per (cell, enterprise) and then per cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import NamedTuple

from tradepilot.analytics.engine import Engine, get_engine
from tradepilot.analytics.schema import FATS_INWARD, FATS_OUTWARD, LINES, ROLLUPS

LINE_DIMENSIONS = frozenset({
    "year", "month", "period", "direction", "service", "component", "knowledge_intensive", "partner", "mode",
    "related_party", "enterprise_id", "region", "province", "city", "pilot_area", "pilot_round", "is_pilot",
    "industry", "industry_section", "registration_type", "key_contact", "systemic",
})
#: What each rollup can group and filter by.
ROLLUP_DIMENSIONS = {r.name: LINE_DIMENSIONS & frozenset(r.column_names) for r in ROLLUPS}
FATS_IN_DIMENSIONS = frozenset({"year", "parent_country", "activity", "province", "city", "pilot_area", "is_pilot",
                                "registration_type", "enterprise_id"})
FATS_OUT_DIMENSIONS = frozenset({"year", "host_country", "activity", "province", "city", "pilot_area", "is_pilot",
                                 "registration_type", "enterprise_id"})


def money(value_cents) -> Decimal:
    """Integer cents (int, or Decimal from PostgreSQL's SUM) → Decimal dollars, exact."""
    return Decimal(int(value_cents or 0)).scaleb(-2)


@dataclass(frozen=True)
class Filter:
    """What to count. Periods are yyyymm integers, inclusive; empty tuples mean "all"."""

    start: int | None = None
    end: int | None = None
    stage: str = "official"               # or "preliminary" (ministry only: includes submitted reports)
    direction: str | None = None          # "X" exports / "M" imports
    components: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    partners: tuple[str, ...] = ()
    modes: tuple[str, ...] = ()
    registration_types: tuple[str, ...] = ()
    provinces: tuple[str, ...] = ()
    pilot_areas: tuple[str, ...] = ()
    region_path: str | None = None        # subtree (scoping and drill-down)
    pilot: bool | None = None
    knowledge_intensive: bool | None = None
    related_party: bool | None = None
    systemic: bool | None = None
    enterprise_ids: tuple[int, ...] = ()
    years: tuple[int, ...] = ()           # annual datasets

    def with_(self, **changes) -> Filter:
        return replace(self, **changes)

    @property
    def detail_columns(self) -> set[str]:
        """The line-level columns the filter looks at (a rollup must have them to answer)."""
        used = {"component": self.components, "service": self.services, "partner": self.partners,
                "mode": self.modes, "knowledge_intensive": self.knowledge_intensive is not None,
                "related_party": self.related_party is not None}
        return {column for column, value in used.items() if value}

    def where(self, dataset=LINES) -> tuple[str, list]:
        clauses: list[str] = ["preliminary = 1" if self.stage == "preliminary" else "official = 1"]
        params: list = []

        def among(column: str, values: Sequence) -> None:
            if values:
                clauses.append(f"{column} IN ({', '.join(['%s'] * len(values))})")
                params.extend(values)

        def flag(column: str, value: bool | None) -> None:
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(1 if value else 0)

        if dataset is LINES or dataset in ROLLUPS:
            if self.start is not None:
                clauses.append("period >= %s")
                params.append(self.start)
                # Partition pruning: the year column is a directory name in the Parquet store.
                clauses.append("year >= %s")
                params.append(self.start // 100)
            if self.end is not None:
                clauses.append("period <= %s")
                params.append(self.end)
                clauses.append("year <= %s")
                params.append(self.end // 100)
            if self.direction:
                clauses.append("direction = %s")
                params.append(self.direction)
            # A rollup is chosen only when it has the columns filtered on here (see source()).
            among("component", self.components)
            among("service", self.services)
            among("partner", self.partners)
            among("mode", self.modes)
            flag("knowledge_intensive", self.knowledge_intensive)
            flag("related_party", self.related_party)
        among("year", self.years)
        among("registration_type", self.registration_types)
        among("province", self.provinces)
        among("pilot_area", self.pilot_areas)
        among("enterprise_id", self.enterprise_ids)
        flag("is_pilot", self.pilot)
        flag("systemic", self.systemic)
        if self.region_path:
            clauses.append("region_path LIKE %s")
            params.append(self.region_path + "%")
        return " AND ".join(clauses), params


class Cell(NamedTuple):
    """One aggregate: a named tuple, as cheap to make as results are numerous (20 000 enterprises)."""

    key: tuple
    value: Decimal
    contributors: int
    largest: Decimal


def _check(by: Sequence[str], allowed: frozenset[str]) -> list[str]:
    by = list(by)
    unknown = [b for b in by if b not in allowed]
    if unknown:
        raise ValueError(f"unknown dimension(s): {', '.join(unknown)}")
    return by


def cells_sql(flt: Filter, by: Sequence[str], measure: str = "usd_cents", dataset=LINES,
              allowed: frozenset[str] = LINE_DIMENSIONS) -> tuple[str, list]:
    by = _check(by, allowed)
    where, params = flt.where(dataset)
    inner_by = ", ".join(by + ["enterprise_id"]) if "enterprise_id" not in by else ", ".join(by)
    select_by = "".join(f"{b}, " for b in by)
    group = f" GROUP BY {', '.join(by)} ORDER BY {', '.join(by)}" if by else ""
    sql = (f"SELECT {select_by}SUM(v), COUNT(*), MAX(v) FROM ("
           f"SELECT {select_by}{'' if 'enterprise_id' in by else 'enterprise_id, '}SUM({measure}) AS v "
           f"FROM {dataset.table} WHERE {where} GROUP BY {inner_by}) t{group}")
    return sql, params


def source(flt: Filter, by: Sequence[str], measure: str = "usd_cents", dataset=LINES):
    """The relation that answers: the enterprise-month rollup (same answer from ~20× fewer rows) when neither
    the filter nor the dimensions need line-level detail, else `dataset`."""
    if dataset is LINES and measure == "usd_cents":
        needed = set(by) | flt.detail_columns
        for rollup in ROLLUPS:
            if ROLLUP_DIMENSIONS[rollup.name].issuperset(needed):
                return rollup
    return dataset


def cells(flt: Filter, by: Sequence[str] = (), *, engine: Engine | None = None, measure: str = "usd_cents",
          dataset=LINES) -> list[Cell]:
    """Per combination of `by`: value, number of contributing enterprises, largest contribution."""
    dataset = source(flt, by, measure, dataset)
    allowed = {LINES.name: LINE_DIMENSIONS, FATS_INWARD.name: FATS_IN_DIMENSIONS,
               FATS_OUTWARD.name: FATS_OUT_DIMENSIONS, **ROLLUP_DIMENSIONS}[dataset.name]
    sql, params = cells_sql(flt, by, measure, dataset, allowed)
    rows = (engine or get_engine()).fetch(sql, params)
    n = len(by)
    as_money = measure.endswith("_cents")
    out = []
    for row in rows:
        if row[n] is None:  # SUM over no rows
            continue
        value = money(row[n]) if as_money else Decimal(int(row[n]))
        largest = money(row[n + 2]) if as_money else Decimal(int(row[n + 2]))
        out.append(Cell(tuple(row[:n]), value, int(row[n + 1]), largest))
    return out


def enterprise_totals(flt: Filter, *, engine: Engine | None = None) -> list[int]:
    """Each contributing enterprise's total in integer cents, largest first: what the concentration indicators
    (top-10 share, HHI) need, as plain integers (20 000 enterprises would otherwise cost 20 000 Cells)."""
    dataset = source(flt, ["enterprise_id"])
    where, params = flt.where(dataset)
    rows = (engine or get_engine()).fetch(
        f"SELECT SUM(usd_cents) AS v FROM {dataset.table} WHERE {where} GROUP BY enterprise_id ORDER BY v DESC",
        params)
    return [int(r[0]) for r in rows if r[0] is not None]


def total(flt: Filter, *, engine: Engine | None = None) -> Decimal:
    found = cells(flt, (), engine=engine)
    return found[0].value if found else Decimal(0)


def periods(flt: Filter, *, engine: Engine | None = None) -> list[int]:
    """The yyyymm periods with any counted line (newest last)."""
    dataset = source(flt, ["period"])
    where, params = flt.where(dataset)
    rows = (engine or get_engine()).fetch(
        f"SELECT DISTINCT period FROM {dataset.table} WHERE {where} ORDER BY period", params)
    return [int(r[0]) for r in rows]


def count_rows(dataset=LINES, *, engine: Engine | None = None, stage: str | None = None) -> tuple[int, Decimal]:
    """Row count and money total of a fact relation (for `analytics check`); for the rollup, the number of lines
    it rolls up."""
    measure = {LINES.name: "usd_cents", FATS_INWARD.name: "services_sales_cents",
               FATS_OUTWARD.name: "turnover_cents"}.get(dataset.name, "usd_cents")
    where = "" if stage is None else f" WHERE {stage} = 1"
    count = "SUM(lines)" if dataset in ROLLUPS else "COUNT(*)"
    row = (engine or get_engine()).fetch(f"SELECT {count}, SUM({measure}) FROM {dataset.table}{where}")[0]
    return int(row[0] or 0), money(row[1])
