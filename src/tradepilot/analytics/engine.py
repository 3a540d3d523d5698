"""Where analytics SQL runs: DuckDB over the Parquet store (default) or the transactional database's fact tables.

Both engines expose the same relations under the same names (`analytics_fact_line`, `analytics_fact_fats_in`,
`analytics_fact_fats_out`) and take the same SQL text with `%s` placeholders, so `queries.py` is engine-blind.
A distributed engine (Trino, Spark SQL) over the same Parquet directories is one more class here with the
same two methods; see docs/architecture.md.
"""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
from django.conf import settings
from django.db import connection

from tradepilot.analytics.schema import DATASETS, Dataset

_DUCK_TYPES = {"int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT", "string": "VARCHAR"}


class Engine:
    name = "abstract"

    def fetch(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        raise NotImplementedError


class DuckDBEngine(Engine):
    """One in-process DuckDB connection per thread (connections are not shared across threads); each query
    re-lists the partition files so a refreshed or new partition is visible to the next query."""

    name = "duckdb"

    def __init__(self, root: Path | str | None = None, threads: int | None = None):
        self.root = Path(root or settings.ANALYTICS_ROOT)
        self.threads = threads
        self._local = threading.local()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect(":memory:")
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            self._local.con = con
            self._local.views = {}
        return con

    def _bind_views(self, con) -> None:
        for dataset in DATASETS.values():
            files = tuple(sorted(str(p) for p in (self.root / dataset.name).glob(_glob(dataset))))
            if self._local.views.get(dataset.name) == files:
                continue
            con.execute(f"CREATE OR REPLACE VIEW {dataset.table} AS {_source_sql(dataset, files)}")
            self._local.views[dataset.name] = files

    def fetch(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        con = self._connection()
        self._bind_views(con)
        try:
            return con.execute(sql.replace("%s", "?"), list(params)).fetchall()
        except duckdb.IOException:
            # A partition emptied (its file removed) between listing and reading: list again, once.
            self._local.views = {}
            self._bind_views(con)
            return con.execute(sql.replace("%s", "?"), list(params)).fetchall()

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None


def _glob(dataset: Dataset) -> str:
    return "/".join(f"{key}=*" for key in dataset.partition_by) + "/data.parquet"


def _source_sql(dataset: Dataset, files: tuple[str, ...]) -> str:
    names = ", ".join(dataset.column_names)
    if not files:  # an empty relation with the right columns and types
        cols = ", ".join(f"CAST(NULL AS {_DUCK_TYPES[str(t)]}) AS {n}" for n, t in dataset.columns)
        return f"SELECT {cols} WHERE 1 = 0"
    listed = ", ".join("'" + f.replace("'", "''") + "'" for f in files)
    hive_types = ", ".join(f"'{k}': 'SMALLINT'" for k in dataset.partition_by)
    return (f"SELECT {names} FROM read_parquet([{listed}], hive_partitioning = true, "
            f"hive_types = {{{hive_types}}})")


class DatabaseEngine(Engine):
    """The fact tables in Django's database (SQLite or PostgreSQL), filled by store.py when this engine is on."""

    name = "database"

    def fetch(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            return cursor.fetchall()


_default: Engine | None = None
_lock = threading.Lock()


def get_engine() -> Engine:
    """The configured engine (settings.ANALYTICS_ENGINE), created once per process."""
    global _default
    wanted = getattr(settings, "ANALYTICS_ENGINE", "duckdb")
    with _lock:
        if _default is None or _default.name != wanted or (
                isinstance(_default, DuckDBEngine) and _default.root != Path(settings.ANALYTICS_ROOT)):
            _default = DatabaseEngine() if wanted == "database" else DuckDBEngine()
        return _default
