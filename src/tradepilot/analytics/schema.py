"""The analytics fact tables, described once.

Each dataset is a flat, denormalised table: one row per report line (or FATS record) with the enterprise's
attributes copied in, so that every dashboard query is a scan plus a GROUP BY. The same columns exist as
Hive-partitioned Parquet (for DuckDB) and as a table in the transactional database (for the `database` engine);
`store.py` fills both from the same rows, and `queries.py` reads either with the same SQL.

Types are pyarrow type names ("int16", "string" …). They are chosen so that the SQL is portable and exact on every engine: money as integer cents (BIGINT; SQLite
would turn decimals into floats), flags as SMALLINT 0/1 (SQLite has no boolean), codes as text.
"""

from __future__ import annotations

from dataclasses import dataclass

# Enterprise attributes copied onto every fact row (see store.EnterpriseDims).
ENTERPRISE_COLUMNS: list[tuple[str, str]] = [
    ("enterprise_id", "int64"),
    ("region", "string"),           # the enterprise's own region code
    ("region_path", "string"),      # Region.path, for subtree scoping ("/110000/" …)
    ("province", "string"),         # province-level region code
    ("city", "string"),             # prefecture-level region code, "" for province-level enterprises
    ("pilot_area", "string"),       # region code of the pilot area (latest round) containing it, "" if none
    ("pilot_round", "string"),
    ("is_pilot", "int16"),
    ("industry", "string"),         # GB/T 4754 division
    ("industry_section", "string"),
    ("registration_type", "string"),
    ("key_contact", "int16"),
    ("systemic", "int16"),
]

# Which version of a period counts: `official` = the latest version a bureau has approved (approved, accepted,
# locked, or superseded by a revision not yet approved); `preliminary` = the latest version submitted or better.
STAGE_COLUMNS: list[tuple[str, str]] = [
    ("official", "int16"),
    ("preliminary", "int16"),
    ("report_id", "int64"),
]


@dataclass(frozen=True)
class Dataset:
    name: str              # directory under ANALYTICS_ROOT and suffix of the table name
    partition_by: tuple[str, ...]
    columns: list[tuple[str, str]]

    @property
    def table(self) -> str:
        return f"analytics_{self.name}"

    @property
    def file_schema(self):
        """Columns stored inside each Parquet file (partition keys live in the directory names), as a pyarrow
        schema; pyarrow is imported here, not at start-up, since only the store writes files."""
        import pyarrow as pa

        return pa.schema([(n, getattr(pa, t)()) for n, t in self.columns if n not in self.partition_by])

    @property
    def column_names(self) -> list[str]:
        return [n for n, _t in self.columns]


LINES = Dataset(
    "fact_line",
    ("year", "month"),
    [("year", "int16"), ("month", "int16"), ("period", "int32")]
    + STAGE_COLUMNS
    + [
        ("direction", "string"),     # X export (credit), M import (debit)
        ("service", "string"),       # EBOPS 2010 leaf
        ("component", "string"),     # EBOPS 2010 main component (SA … SL)
        ("knowledge_intensive", "int16"),
        ("partner", "string"),       # ISO 3166 alpha-2
        ("mode", "string"),          # GATS mode of supply 1–4
        ("related_party", "int16"),
        ("usd_cents", "int64"),
    ]
    + ENTERPRISE_COLUMNS,
)

# FATS money is in the forms' unit, CNY 10k, also stored in hundredths (so "cents" of CNY 10k).
FATS_INWARD = Dataset(
    "fact_fats_in",
    ("year",),
    [("year", "int16")]
    + STAGE_COLUMNS
    + [
        ("parent_country", "string"),   # ultimate controlling institutional unit's country
        ("activity", "string"),
        ("turnover_cents", "int64"),
        ("services_sales_cents", "int64"),
        ("employment", "int64"),
        ("exports_cents", "int64"),
        ("imports_cents", "int64"),
    ]
    + ENTERPRISE_COLUMNS,
)

FATS_OUTWARD = Dataset(
    "fact_fats_out",
    ("year",),
    [("year", "int16")]
    + STAGE_COLUMNS
    + [
        ("host_country", "string"),
        ("activity", "string"),
        ("turnover_cents", "int64"),
        ("employment", "int64"),
        ("net_profit_cents", "int64"),
    ]
    + ENTERPRISE_COLUMNS,
)

# The lines rolled up to one row per enterprise, month, stage flags and direction: ~20× fewer rows, enough for
# every query that groups and filters only by time, direction and enterprise attributes (time series, regions,
# pilot areas, registration types, headline totals). queries.py routes such queries here by itself.
ENTERPRISE_MONTH = Dataset(
    "fact_ent_month",
    ("year", "month"),
    [("year", "int16"), ("month", "int16"), ("period", "int32"),
     ("official", "int16"), ("preliminary", "int16"),
     ("direction", "string"), ("usd_cents", "int64"), ("lines", "int64")]
    + ENTERPRISE_COLUMNS,
)

# The same with the EBOPS component (and its knowledge-intensive flag, a property of the component): several
# times fewer rows than the lines, for the component breakdowns and the knowledge-intensive share.
ENTERPRISE_COMPONENT = Dataset(
    "fact_ent_comp",
    ("year", "month"),
    ENTERPRISE_MONTH.columns[:6] + [("component", "string"), ("knowledge_intensive", "int16")]
    + ENTERPRISE_MONTH.columns[6:],
)

#: Rollups of the lines, smallest first: queries.source() sends a query to the first that can answer it.
ROLLUPS = (ENTERPRISE_MONTH, ENTERPRISE_COMPONENT)

DATASETS = {d.name: d for d in (LINES, FATS_INWARD, FATS_OUTWARD, ENTERPRISE_MONTH, ENTERPRISE_COMPONENT)}
