"""Where analytics SQL runs: DuckDB over the Parquet store (default) or the transactional database's fact tables.

Both engines expose the same relations under the same names (`analytics_fact_line`, `analytics_fact_fats_in`,
`analytics_fact_fats_out`) and take the same SQL text with `%s` placeholders, so `queries.py` is engine-blind.
A distributed engine (Trino, Spark SQL) over the same Parquet directories is one more class here with the
same two methods; see docs/architecture.md.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
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


class ResultCache:
    """Query results keyed by (SQL, parameters, state of the partition files).

    The state is each file's path, size and modification time, read with one `stat` per file at every query, so
    a refreshed, added or removed partition changes the key and the next query reads the new data: the cache can
    serve a stale answer only if a file were rewritten with the same size within the same nanosecond. Least
    recently used entries go first; results with many rows are not kept (memory stays bounded)."""

    def __init__(self, entries: int, max_rows: int = 20_000):
        self.entries = entries
        self.max_rows = max_rows
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key, rows: list[tuple]) -> None:
        if self.entries <= 0 or len(rows) > self.max_rows:
            return
        with self._lock:
            self._data[key] = rows
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


class DuckDBEngine(Engine):
    """One in-process DuckDB connection per thread (connections are not shared across threads); each query
    re-lists the partition files so a refreshed or new partition is visible to the next query, and answers from
    the result cache when neither the query nor the files changed (`cache_entries=0` turns the cache off)."""

    name = "duckdb"

    def __init__(self, root: Path | str | None = None, threads: int | None = None,
                 cache_entries: int | None = None):
        self.root = Path(root or settings.ANALYTICS_ROOT)
        self.threads = threads
        self._local = threading.local()
        if cache_entries is None:
            cache_entries = getattr(settings, "ANALYTICS_CACHE_ENTRIES", 512)
        self.cache = ResultCache(cache_entries)

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect(":memory:")
            if self.threads:
                con.execute(f"SET threads = {int(self.threads)}")
            self._local.con = con
            self._local.views = {}
        return con

    def _files(self, sql: str) -> dict[str, tuple[str, ...]]:
        """The current partition files of each dataset the SQL reads (listing the others would be wasted)."""
        return {d.name: tuple(sorted(str(p) for p in (self.root / d.name).glob(_glob(d))))
                for d in DATASETS.values() if d.table in sql}

    def _bind_views(self, con, files: dict[str, tuple[str, ...]]) -> None:
        for dataset in DATASETS.values():
            if dataset.name not in files or self._local.views.get(dataset.name) == files[dataset.name]:
                continue
            con.execute(f"CREATE OR REPLACE VIEW {dataset.table} AS {_source_sql(dataset, files[dataset.name])}")
            self._local.views[dataset.name] = files[dataset.name]

    @staticmethod
    def _state(files: dict[str, tuple[str, ...]]) -> tuple:
        state = []
        for paths in files.values():
            for path in paths:
                try:
                    st = os.stat(path)
                except FileNotFoundError:
                    continue
                state.append((path, st.st_size, st.st_mtime_ns))
        return tuple(state)

    def fetch(self, sql: str, params: list | tuple = ()) -> list[tuple]:
        con = self._connection()
        files = self._files(sql)
        key = None
        if self.cache.entries > 0:
            key = (sql, tuple(params), self._state(files))
            found = self.cache.get(key)
            if found is not None:
                return list(found)
        self._bind_views(con, files)
        try:
            rows = con.execute(sql.replace("%s", "?"), list(params)).fetchall()
        except duckdb.IOException:
            # A partition emptied (its file removed) between listing and reading: list again, once.
            self._local.views = {}
            self._bind_views(con, self._files(sql))
            return con.execute(sql.replace("%s", "?"), list(params)).fetchall()
        if key is not None:
            self.cache.put(key, rows)
        return rows

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
