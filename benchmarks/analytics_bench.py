"""Benchmark of the analytics layer: synthetic store, dashboard queries, ORM comparison, refresh and rebuild.

    python benchmarks/analytics_bench.py [--lines 50000000] [--quick] [--data-dir DIR] [--out FILE] [--only 1,2,…]

1. Generates N synthetic fact lines (default 50M: 20,000 enterprises × 60 months) straight to Parquet in the
   store's layout (`fact_line/year=Y/month=M/data.parquet`, plus the datasets the store derives from each line
   partition, i.e. the enterprise-month rollup) with DuckDB, following the seed generator's distributions (see
   analytics_data.py). Cached in --data-dir (default var/bench/analytics-data) and reused when the parameters are
   the same: prints generation time, lines/s and the generator's peak RSS.
2. Dashboard queries (national time series, EBOPS components, top partners, provinces, pilot vs non-pilot,
   a drill-down, per-enterprise totals): p50 of 5 warm runs through `queries.cells(…, engine=DuckDBEngine(root))`
   with the engine's result cache off (every query executed), against the same aggregation written by hand in
   raw DuckDB over the lines (`read_parquet` glob) and, for queries the layer answers from the rollup, over the
   rollup too; runs interleaved. Prints the ratio to raw-over-lines, the layer's overhead over raw DuckDB on the
   same relation (target ≤ 1.3), their geometric means, and the result-cache hit time. Queries over target get a
   breakdown (SQL fetch, file listing + stat, Decimal conversion, the engine's SQL with literals / on a glob).
3. The headline query (exports by EBOPS component for a year, with contributors) through the Django ORM on a
   ~1M-line SQLite database filled by `demo_data.generate()`, against the analytics layer over the store
   `store.rebuild()` made from that database (result cache off; and a cache hit), with raw DuckDB for
   reference: speed-up (target ≥ 50×) and equality of the totals (to the cent: SQLite sums decimals as floats).
4. Incremental refresh after one approval (`workflow.approve` by a ministry user) in that database, three ways:
   the task called directly (`refresh_partition.call`), `db_worker --batch` run after the commit, and a
   background `db_worker --interval 0.5` process (as `tradepilot demo` runs it) polled until the change is
   visible through queries (end-to-end from commit).
5. `store.rebuild()` of --rebuild-lines lines (default 5M, 24 months) from SQLite and from PostgreSQL (a throw-away
   server from tradepilot.testing.postgres, filled by COPYing the same SQLite database's rows, or with
   --pg-fill generate by demo_data.generate(), which is far slower on PostgreSQL): lines/s.

Every section runs in a child process (its own settings, database and peak RSS) with TRADEPILOT_VAR and the
analytics root in a temporary directory. The SQLite databases filled by generate() are cached in --data-dir too.
--quick: 2M Parquet lines (2,000 enterprises), 200k database lines, 500k rebuild lines — a smoke run of a few
minutes. Prints a summary table and writes the figures as JSON to --out (default var/bench/analytics.json).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BENCH = Path(__file__).resolve().parent
for p in (str(SRC), str(BENCH)):
    if p not in sys.path:
        sys.path.insert(0, p)

DB_LINES_PER_ENTERPRISE_MONTH = 20.5  # demo_data.generate(): ~85 % key contacts × ~25 lines per report
OVERHEAD_TARGET = 1.3
SPEEDUP_TARGET = 50.0


def log(text: str = "") -> None:
    print(text, file=sys.stderr, flush=True)


def configure(workdir: Path, database_url: str | None = None) -> None:
    """Django with the normal settings in test mode, everything under `workdir` (never the developer's var/)."""
    var = workdir / "var"
    var.mkdir(parents=True, exist_ok=True)
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["TRADEPILOT_MODE"] = "test"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tradepilot.settings"
    os.environ["TRADEPILOT_VAR"] = str(var)
    os.environ["TRADEPILOT_ANALYTICS_ROOT"] = str(var / "analytics")
    os.environ["TRADEPILOT_ANALYTICS_ENGINE"] = "duckdb"
    import django

    django.setup()
    from django.conf import settings

    settings.MEDIA_ROOT = var / "media"
    settings.ANALYTICS_ROOT = var / "analytics"


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def p50(values: list[float]) -> float:
    return statistics.median(values)


def end_period() -> tuple[int, int]:
    """December of last year: whole calendar years, and long enough ago for generate() (a closed month)."""
    import datetime as dt

    return dt.date.today().year - 1, 12


def db_enterprises(lines: int, months: int) -> int:
    return max(20, math.ceil(lines / (months * DB_LINES_PER_ENTERPRISE_MONTH)))


# --- children ---------------------------------------------------------------------------------------------------

def child_generate(workdir: Path, a: argparse.Namespace) -> dict:
    configure(workdir)
    import analytics_data

    end = tuple(a.end)
    root = Path(a.store)
    params = analytics_data.cache_params(a.lines, a.enterprises, a.months, end, a.seed)
    meta = analytics_data.cached(root, params)
    if meta is not None:
        log(f"  reusing {root} (generated {meta['created']} in {meta['total_s']:.0f} s)")
        n, seconds = analytics_data.write_rollups(root)
        if n:
            log(f"  derived {n} missing rollup partitions ({', '.join(d.name for d in analytics_data.derived_datasets())})"
                f" from the line partitions in {seconds:.1f} s")
        return {**meta, "reused": True, "rollups_added": n, "rollups_s": round(seconds, 2)}
    size = {k: params[k] for k in ("lines", "enterprises", "months", "end", "seed")}
    for other in root.parent.glob("store-*"):  # the same size generated by older code: replaced by this one
        meta_path = other / "meta.json"
        if other != root and meta_path.exists():
            old = json.loads(meta_path.read_text()).get("params", {})
            if {k: old.get(k) for k in size} == size:
                shutil.rmtree(other, ignore_errors=True)
    log(f"  generating {a.lines:,} lines into {root} …")
    meta = analytics_data.generate(root, lines=a.lines, enterprises=a.enterprises, months=a.months, end=end,
                                   seed=a.seed, say=log)
    return {**meta, "reused": False, "vm_hwm_mb": round(vm_hwm_mb(), 1)}


def dashboard_queries(year: int, first: int, last: int) -> list[dict]:
    """(name, label, Filter, by, hand-written WHERE) — what the dashboards run."""
    from tradepilot.analytics.queries import Filter

    y0, y1 = year * 100 + 1, year * 100 + 12
    yr = f"official = 1 AND year = {year}"
    return [
        {"name": "timeseries", "label": "national X/M by month, all months",
         "filter": Filter(start=first, end=last), "by": ["period", "direction"], "where": "official = 1"},
        {"name": "components", "label": f"EBOPS components × direction, {year}",
         "filter": Filter(start=y0, end=y1), "by": ["direction", "component"], "where": yr},
        {"name": "partners", "label": f"partners (top-N table), {year}",
         "filter": Filter(start=y0, end=y1), "by": ["partner"], "where": yr},
        {"name": "provinces", "label": f"provinces × direction, {year}",
         "filter": Filter(start=y0, end=y1), "by": ["province", "direction"], "where": yr},
        {"name": "pilot", "label": "pilot vs non-pilot by month, all months",
         "filter": Filter(start=first, end=last), "by": ["period", "is_pilot"], "where": "official = 1"},
        {"name": "drilldown", "label": f"Guangdong × SI (ICT) by partner, {year}",
         "filter": Filter(start=y0, end=y1, provinces=("440000",), components=("SI",)), "by": ["partner"],
         "where": yr + " AND province = '440000' AND component = 'SI'"},
        # The concentration indicators read every enterprise's total as integers (queries.enterprise_totals),
        # not as one Cell per enterprise.
        {"name": "enterprises", "label": f"per-enterprise exports, {year} (top-10 share, HHI)",
         "filter": Filter(start=y0, end=y1, direction="X"), "by": ["enterprise_id"],
         "where": yr + " AND direction = 'X'", "kind": "enterprise_totals"},
    ]


def raw_totals_sql(root: Path, where: str, dataset: str = "fact_line") -> str:
    glob = str(root / dataset / "*" / "*" / "data.parquet")
    return (f"SELECT SUM(usd_cents) AS v FROM read_parquet('{glob}', hive_partitioning = true) "
            f"WHERE {where} GROUP BY enterprise_id ORDER BY v DESC")


def raw_sql(root: Path, by: list[str], where: str, dataset: str = "fact_line") -> str:
    cols = ", ".join(by)
    inner = cols if "enterprise_id" in by else f"{cols}, enterprise_id"
    glob = str(root / dataset / "*" / "*" / "data.parquet")
    return (f"SELECT {cols}, SUM(v), COUNT(*), MAX(v) FROM ("
            f"SELECT {inner}, SUM(usd_cents) AS v FROM read_parquet('{glob}', hive_partitioning = true) "
            f"WHERE {where} GROUP BY {inner}) t GROUP BY {cols} ORDER BY {cols}")


def _inline(sql: str, params: list) -> str:
    parts = sql.split("%s")
    out = [parts[0]]
    for value, rest in zip(params, parts[1:], strict=True):
        out.append(str(value) if isinstance(value, int) else "'" + str(value).replace("'", "''") + "'")
        out.append(rest)
    return "".join(out)


def make_engine(root: Path, cached: bool):
    """DuckDBEngine with its result cache on (as deployed) or off (every query executed)."""
    from tradepilot.analytics.engine import DuckDBEngine

    try:
        return DuckDBEngine(root, cache_entries=None if cached else 0)
    except TypeError:  # an engine without a result cache
        return DuckDBEngine(root)


def answering_dataset(flt, by):
    """The dataset queries.cells() reads for this query (the enterprise-month rollup when it can answer)."""
    from tradepilot.analytics import queries
    from tradepilot.analytics.schema import LINES

    source = getattr(queries, "source", None)
    return source(flt, by) if source else LINES


def child_queries(workdir: Path, a: argparse.Namespace) -> dict:
    configure(workdir)
    import duckdb

    from tradepilot.analytics import queries
    from tradepilot.analytics.schema import LINES

    root = Path(a.store)
    meta = json.loads((root / "meta.json").read_text())
    periods = meta["periods"]
    first, last = int(periods[0].replace("-", "")), int(periods[-1].replace("-", ""))
    year = last // 100
    uncached, cached = make_engine(root, False), make_engine(root, True)
    raw = duckdb.connect()
    results = []
    for q in dashboard_queries(year, first, last):
        flt, by = q["filter"], q["by"]
        dataset = answering_dataset(flt, by)
        totals = q.get("kind") == "enterprise_totals"
        write_raw = (lambda ds="fact_line", q=q: raw_totals_sql(root, q["where"], ds)) if totals else (
            lambda ds="fact_line", q=q, by=by: raw_sql(root, by, q["where"], ds))
        rsql = write_raw()
        # The same hand-written query over the relation the layer reads (the rollup), when that is not the lines.
        rsql_same = write_raw(dataset.name) if dataset is not LINES else None

        def layer(engine, flt=flt, by=by, totals=totals):
            return queries.enterprise_totals(flt, engine=engine) if totals else queries.cells(flt, by, engine=engine)

        runners = {
            "analytics": lambda layer=layer: layer(uncached),
            "raw": lambda rsql=rsql: raw.execute(rsql).fetchall(),
        }
        if rsql_same:
            runners["raw_same"] = lambda rsql_same=rsql_same: raw.execute(rsql_same).fetchall()

        cells, rows = runners["analytics"](), runners["raw"]()  # warm-up, and the answers to compare
        same = sorted(cells) == sorted(int(r[0]) for r in rows) if totals else (len(cells) == len(rows) and all(
            tuple(c.key) == tuple(r[:-3]) and int(c.value.scaleb(2)) == int(r[-3]) and c.contributors == r[-2]
            and int(c.largest.scaleb(2)) == int(r[-1]) for c, r in zip(cells, rows, strict=True)))
        if rsql_same:
            same = same and sorted(runners["raw_same"]()) == sorted(rows)
        times: dict[str, list[float]] = {k: [] for k in runners}
        order = list(runners)
        for i in range(a.repeat):  # interleaved, rotating which goes first
            for kind in order[i % len(order):] + order[:i % len(order)]:
                t = time.perf_counter()
                runners[kind]()
                times[kind].append(time.perf_counter() - t)
        # What a dashboard sees when it shows the same table again: the engine's result cache.
        layer(cached)
        hits = []
        for _ in range(a.repeat):
            t = time.perf_counter()
            layer(cached)
            hits.append(time.perf_counter() - t)
        res = {"name": q["name"], "label": q["label"], "by": by, "source": dataset.name, "cells": len(cells),
               "same_result": same, "analytics_s": p50(times["analytics"]), "raw_s": p50(times["raw"]),
               "cached_s": p50(hits), "runs": times}
        res["ratio"] = res["analytics_s"] / res["raw_s"]
        res["raw_same_s"] = p50(times["raw_same"]) if rsql_same else res["raw_s"]
        res["overhead"] = res["analytics_s"] / res["raw_same_s"]
        log(f"  {q['name']:12} {len(cells):>7,} cells from {dataset.name:14} analytics {res['analytics_s'] * 1000:8.1f} ms"
            f"  raw (lines) {res['raw_s'] * 1000:8.1f} ms  ratio {res['ratio']:5.2f}"
            + (f"  | raw ({dataset.name}) {res['raw_same_s'] * 1000:7.1f} ms  overhead {res['overhead']:5.2f}"
               if rsql_same else "")
            + f"  | cache hit {res['cached_s'] * 1000:6.2f} ms" + ("" if same else "  RESULTS DIFFER"))
        if (res["overhead"] > OVERHEAD_TARGET or a.diagnose) and not totals:
            res["breakdown"] = breakdown(uncached, raw, root, dataset, flt, by, a.repeat)
            b = res["breakdown"]
            log(f"  {'':12} breakdown: engine.fetch {b['fetch_s'] * 1000:.1f} ms (of which listing + stat of "
                f"{b['files']} files {b['files_s'] * 1000:.2f} ms), Decimal/Cell conversion {b['convert_s'] * 1000:.1f} ms; "
                f"engine SQL with literals {b['literal_s'] * 1000:.1f} ms, engine SQL on a raw glob "
                f"{b['engine_sql_on_glob_s'] * 1000:.1f} ms")
        results.append(res)

    def geo(key):
        return math.exp(sum(math.log(r[key]) for r in results) / len(results))

    out = {"queries": results, "geomean_ratio": geo("ratio"), "geomean_overhead": geo("overhead"), "year": year,
           "lines": meta["lines"], "vm_hwm_mb": round(vm_hwm_mb(), 1)}
    log(f"  geometric means: vs raw over the lines {out['geomean_ratio']:.2f}; layer overhead vs raw over the same "
        f"relation {out['geomean_overhead']:.2f} (target ≤ {OVERHEAD_TARGET})")
    return out


def breakdown(engine, raw, root: Path, dataset, flt, by, repeat: int) -> dict:
    """Where the analytics layer's time goes for one query (result cache off)."""
    from tradepilot.analytics import queries

    sql, params = queries.cells_sql(flt, by, dataset=dataset, allowed=queries.LINE_DIMENSIONS)
    con = engine._connection()
    engine.fetch(sql, params)  # views bound
    fetch, literal, listing, convert, glob = [], [], [], [], []
    literal_sql = _inline(sql, params)
    glob_sql = literal_sql.replace(dataset.table, "read_parquet('" + str(root / dataset.name / "*" / "*" / "data.parquet")
                                   + "', hive_partitioning = true)")
    files = 0
    for _ in range(repeat):
        t = time.perf_counter()
        raw.execute(glob_sql).fetchall()
        glob.append(time.perf_counter() - t)
        t = time.perf_counter()
        rows = engine.fetch(sql, params)
        fetch.append(time.perf_counter() - t)
        t = time.perf_counter()
        con.execute(literal_sql).fetchall()
        literal.append(time.perf_counter() - t)
        t = time.perf_counter()
        if hasattr(engine, "_files"):
            found = engine._files(sql)
            files = sum(len(v) for v in found.values())
            if hasattr(engine, "_state"):
                engine._state(found)
        listing.append(time.perf_counter() - t)
        t = time.perf_counter()
        n = len(by)
        [queries.Cell(tuple(r[:n]), queries.money(r[n]), int(r[n + 1]), queries.money(r[n + 2])) for r in rows]
        convert.append(time.perf_counter() - t)
    return {"fetch_s": p50(fetch), "literal_s": p50(literal), "files_s": p50(listing), "convert_s": p50(convert),
            "engine_sql_on_glob_s": p50(glob), "files": files}


def child_fill(workdir: Path, a: argparse.Namespace) -> dict:
    """Migrate, load the reference data and fill the database with demo_data.generate()."""
    configure(workdir, a.database_url)
    from django.core.management import call_command
    from django.db import connections

    from tradepilot.core import demo_data
    from tradepilot.core.reference import load_all
    from tradepilot.reporting.periods import Period
    from tradepilot.reporting.setup import load_defaults

    t = time.perf_counter()
    call_command("migrate", verbosity=0)
    load_all()
    load_defaults()
    t_setup = time.perf_counter() - t

    class Progress:
        def __init__(self):
            self.n = 0

        def write(self, text: str) -> None:
            text = text.strip()
            if text and (": " not in text or text.startswith("Enterprises") or self.n % 6 == 5):
                log(f"    {text}")
            if text and text[:4].isdigit():
                self.n += 1

    t = time.perf_counter()
    counts = demo_data.generate(a.enterprises, a.months, seed=a.seed, end_period=Period(*a.end), stdout=Progress())
    fill_s = time.perf_counter() - t
    connections.close_all()  # SQLite: checkpoints the WAL, so the database is one file to copy
    return {"setup_s": round(t_setup, 2), "fill_s": round(fill_s, 2), "lines": counts["lines"],
            "reports": counts["reports"], "enterprises": a.enterprises, "months": a.months,
            "vm_hwm_mb": round(vm_hwm_mb(), 1)}


def child_copy_pg(workdir: Path, a: argparse.Namespace) -> dict:
    """Fill PostgreSQL with the rows of a SQLite database filled by generate() (COPY, table by table): the same
    data as the SQLite rebuild reads, in a minute instead of the tens of minutes generate() takes on PostgreSQL."""
    configure(workdir, a.database_url)
    import sqlite3

    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction

    call_command("migrate", verbosity=0)
    src = sqlite3.connect(f"file:{a.source}?immutable=1", uri=True)
    pg_tables = set(connection.introspection.table_names())
    tables = [r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                                        "'sqlite_%' AND name != 'django_migrations' ORDER BY name")
              if r[0] in pg_tables]
    qn = connection.ops.quote_name
    t0 = time.perf_counter()
    rows = {}
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(f"TRUNCATE {', '.join(qn(t) for t in tables)} CASCADE")
            pg_columns = {t: [c.name for c in connection.introspection.get_table_description(cursor, t)]
                          for t in tables}
        raw = connection.connection
        for table in tables:
            have = {r[1] for r in src.execute(f"PRAGMA table_info({qn(table)})")}
            cols = [c for c in pg_columns[table] if c in have]
            names = ", ".join(qn(c) for c in cols)
            n = 0
            with raw.cursor() as cur, cur.copy(f"COPY {qn(table)} ({names}) FROM STDIN") as copy:
                for row in src.execute(f"SELECT {names} FROM {qn(table)}"):
                    copy.write_row(row)
                    n += 1
            rows[table] = n
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models(include_auto_created=True)):
                cursor.execute(sql)
    copy_s = time.perf_counter() - t0
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    analyze_s = time.perf_counter() - t
    total = sum(rows.values())
    log(f"  PostgreSQL: copied {total:,} rows ({rows.get('reporting_monthlyline', 0):,} lines) from SQLite in "
        f"{copy_s:.0f} s, ANALYZE {analyze_s:.1f} s")
    return {"copy_s": round(copy_s, 2), "analyze_s": round(analyze_s, 2), "rows": total,
            "lines": rows.get("reporting_monthlyline", 0), "vm_hwm_mb": round(vm_hwm_mb(), 1)}


def child_rebuild(workdir: Path, a: argparse.Namespace) -> dict:
    configure(workdir, a.database_url)
    from django.core.management import call_command
    from django.db import connection

    from tradepilot.analytics import store
    from tradepilot.reporting.models import MonthlyLine

    call_command("migrate", verbosity=0)  # a cached database may predate new migrations
    lines_in_db = MonthlyLine.objects.count()
    t = time.perf_counter()
    totals = store.rebuild()
    rebuild_s = time.perf_counter() - t
    rows = totals.get("fact_line", 0)
    log(f"  {connection.vendor}: rebuilt {rows:,} fact lines (of {lines_in_db:,} lines in the database) in "
        f"{rebuild_s:.1f} s — {rows / rebuild_s:,.0f} lines/s")
    return {"vendor": connection.vendor, "rebuild_s": round(rebuild_s, 2), "rows": rows, "db_lines": lines_in_db,
            "lines_per_s": round(rows / rebuild_s), "vm_hwm_mb": round(vm_hwm_mb(), 1)}


def child_orm(workdir: Path, a: argparse.Namespace) -> dict:
    """Sections 3 and 4 on the ~1M-line SQLite database."""
    configure(workdir, a.database_url)
    from decimal import Decimal

    from django.conf import settings
    from django.core.management import call_command
    from django.db.models import Count, Sum
    from django.db.models.functions import Coalesce

    from tradepilot.analytics import queries, store
    from tradepilot.analytics.queries import Filter
    from tradepilot.reporting.models import MonthlyLine, ReportForm

    call_command("migrate", verbosity=0)
    year = a.end[0]
    out: dict = {"db_lines": MonthlyLine.objects.count()}
    t = time.perf_counter()
    totals = store.rebuild()
    out["rebuild_s"] = round(time.perf_counter() - t, 2)
    out["store_rows"] = totals.get("fact_line", 0)
    log(f"  store.rebuild(): {out['store_rows']:,} fact lines in {out['rebuild_s']:.1f} s")

    engine = make_engine(Path(settings.ANALYTICS_ROOT), cached=False)
    cached_engine = make_engine(Path(settings.ANALYTICS_ROOT), cached=True)
    flt = Filter(start=year * 100 + 1, end=year * 100 + 12, direction="X")

    def analytics():
        return queries.cells(flt, ["component"], engine=engine)

    orm_qs = (MonthlyLine.objects
              .filter(report__form__code=ReportForm.Code.MONTHLY, report__year=year,
                      report__status__in=store.OFFICIAL_STATUSES, direction="X", usd_amount__isnull=False)
              .annotate(component=Coalesce("service__parent__code", "service__code"))
              .values("component")
              .annotate(total=Sum("usd_amount"), contributors=Count("report__enterprise_id", distinct=True))
              .order_by("component"))

    def orm():
        return list(orm_qs.all())  # a clone: list(orm_qs) would reuse its result cache

    import duckdb

    raw = duckdb.connect()
    rsql = raw_sql(Path(settings.ANALYTICS_ROOT), ["component"], f"official = 1 AND year = {year} AND direction = 'X'")

    def raw_duckdb():
        return raw.execute(rsql).fetchall()

    found_a, found_o = analytics(), orm()  # warm-up, and the answers to compare
    raw_duckdb()
    ta, to, tr = [], [], []
    for i in range(a.repeat):  # analytics and raw DuckDB interleaved (the ORM takes much longer: on its own)
        for kind in (("a", "r") if i % 2 == 0 else ("r", "a")):
            t = time.perf_counter()
            analytics() if kind == "a" else raw_duckdb()
            (ta if kind == "a" else tr).append(time.perf_counter() - t)
    for _ in range(max(3, a.repeat // 2)):
        t = time.perf_counter()
        orm()
        to.append(time.perf_counter() - t)
    queries.cells(flt, ["component"], engine=cached_engine)
    hits = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        queries.cells(flt, ["component"], engine=cached_engine)
        hits.append(time.perf_counter() - t)
    cent = Decimal("0.01")
    by_a = {c.key[0]: (c.value, c.contributors) for c in found_a}
    # SQLite sums a DecimalField as a float: the ORM's totals carry float noise below the cent.
    by_o = {r["component"]: (r["total"].quantize(cent), r["contributors"]) for r in found_o}
    drift = max((abs(r["total"] - r["total"].quantize(cent)) for r in found_o), default=Decimal(0))
    diffs = {k: (str(by_a.get(k, (None,))[0]), str(by_o.get(k, (None,))[0]))
             for k in set(by_a) | set(by_o) if by_a.get(k) != by_o.get(k)}
    out.update({"year": year, "components": len(by_a), "analytics_s": p50(ta), "orm_s": p50(to),
                "speedup": p50(to) / p50(ta), "raw_duckdb_s": p50(tr), "speedup_raw_duckdb": p50(to) / p50(tr),
                "cached_s": p50(hits), "speedup_cached": p50(to) / p50(hits),
                "source": answering_dataset(flt, ["component"]).name,
                "equal": not diffs, "diffs": diffs, "orm_float_drift": str(drift),
                "total_analytics": str(sum(v[0] for v in by_a.values())),
                "total_orm": str(sum(v[0] for v in by_o.values())),
                "analytics_runs": ta, "orm_runs": to})
    log(f"  exports by component {year} (from {out['source']}): ORM {out['orm_s'] * 1000:,.0f} ms, analytics "
        f"{out['analytics_s'] * 1000:.1f} ms (result cache off) → {out['speedup']:,.0f}× (target ≥ {SPEEDUP_TARGET:.0f}×);"
        f" raw DuckDB on the same store {out['raw_duckdb_s'] * 1000:.1f} ms ({out['speedup_raw_duckdb']:,.0f}×); "
        f"result-cache hit {out['cached_s'] * 1000:.2f} ms ({out['speedup_cached']:,.0f}×)")
    log("  totals "
        f"{'equal to the cent' if not diffs else 'DIFFER ' + json.dumps(diffs)} (USD {out['total_analytics']}; "
        f"SQLite's float SUM is off by up to {drift} before rounding)")
    out["refresh"] = refresh_latency(workdir, a, cached_engine)
    out["vm_hwm_mb"] = round(vm_hwm_mb(), 1)
    return out


def refresh_latency(workdir: Path, a: argparse.Namespace, engine) -> dict:
    """Approve submitted reports of the latest month and time until the change shows through queries."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db.models import Sum
    from django_tasks_db.models import DBTaskResult

    from tradepilot.analytics import queries
    from tradepilot.analytics.models import Partition
    from tradepilot.analytics.queries import Filter
    from tradepilot.analytics.refresh import refresh_partition
    from tradepilot.analytics.schema import LINES
    from tradepilot.core.models import Profile, Role
    from tradepilot.reporting import workflow
    from tradepilot.reporting.models import MonthlyLine, Report, ReportForm, Status

    year, month = a.end
    period = year * 100 + month
    user = get_user_model().objects.create_user("bench-ministry", "ministry@example.cn", None)
    Profile.objects.create(user=user, role=Role.MINISTRY)
    candidates = list(Report.objects.filter(form__code=ReportForm.Code.MONTHLY, year=year, month=month,
                                            status=Status.SUBMITTED, is_current=True, nil_return=False)
                      .order_by("pk")[:50])
    amounts = dict(MonthlyLine.objects.filter(report__in=candidates).values_list("report_id")
                   .annotate(s=Sum("usd_amount")))
    candidates = [r for r in candidates if amounts.get(r.pk)]
    month_flt = Filter(start=period, end=period)

    def official_total():
        return queries.total(month_flt, engine=engine)

    def approve(report):
        before = official_total()
        t0 = time.perf_counter()
        workflow.approve(report, user)  # atomic: returns after the commit (and the on_commit enqueue)
        t_commit = time.perf_counter()
        return before, before + amounts[report.pk], t0, t_commit

    def task_seconds(known: set) -> tuple[float | None, float | None]:
        """(the new task's run time per django-tasks, the partition refresh's own time per store.refresh), once the
        worker has recorded them (the new partition file can be visible a moment before)."""
        deadline = time.perf_counter() + 30
        while True:
            new = [r for r in DBTaskResult.objects.exclude(pk__in=known) if r.finished_at is not None]
            if new or time.perf_counter() > deadline:
                break
            time.sleep(0.02)
        run = (new[0].finished_at - new[0].started_at).total_seconds() if new and new[0].started_at else None
        p = Partition.objects.get(dataset=LINES.name, year=year, month=month)
        return run, p.seconds

    def known_tasks() -> set:
        return set(DBTaskResult.objects.values_list("pk", flat=True))

    out: dict = {"period": period, "partition_rows": Partition.objects.get(dataset=LINES.name, year=year,
                                                                             month=month).rows}
    if len(candidates) < 4:
        log("  (fewer than 4 submitted reports in the latest month: refresh latency skipped)")
        return out

    # (a) The task called directly, right after the commit.
    before, expected, t0, t_commit = approve(candidates[0])
    t = time.perf_counter()
    n = refresh_partition.call(LINES.name, year, month)
    task_s = time.perf_counter() - t
    visible = official_total() == expected
    t_visible = time.perf_counter()
    out["direct"] = {"approve_s": t_commit - t0, "task_s": task_s, "end_to_end_s": t_visible - t_commit,
                     "rows": n, "visible": visible}
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)  # drains the enqueued (now no-op) task
    log(f"  (a) direct refresh_partition.call: task {task_s * 1000:.0f} ms ({n:,} rows), commit → visible "
        f"{(t_visible - t_commit) * 1000:.0f} ms; approve() itself {(t_commit - t0) * 1000:.0f} ms; visible={visible}")

    # (b) db_worker --batch started after the commit (in-process).
    known = known_tasks()
    before, expected, t0, t_commit = approve(candidates[1])
    t = time.perf_counter()
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    worker_s = time.perf_counter() - t
    visible = official_total() == expected
    t_visible = time.perf_counter()
    run_s, refresh_s = task_seconds(known)
    out["batch_worker"] = {"approve_s": t_commit - t0, "worker_s": worker_s, "task_run_s": run_s,
                           "partition_refresh_s": refresh_s, "end_to_end_s": t_visible - t_commit,
                           "visible": visible}
    log(f"  (b) db_worker --batch: worker {worker_s * 1000:.0f} ms (task {1000 * (run_s or 0):.0f} ms, partition "
        f"refresh {1000 * (refresh_s or 0):.0f} ms), commit → visible {(t_visible - t_commit) * 1000:.0f} ms; "
        f"visible={visible}")

    # (c) A background worker polling every 0.5 s, as `tradepilot demo` starts it; poll the query meanwhile.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]))
    worker_log = open(workdir / "db_worker.log", "wb")
    worker = subprocess.Popen([sys.executable, "-m", "django", "db_worker", "--interval", "0.5",
                               "--no-startup-delay", "--no-reload"], env=env, cwd=str(workdir),
                              stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        started = time.perf_counter()
        while "Starting worker" not in (workdir / "db_worker.log").read_text(errors="replace"):
            if worker.poll() is not None or time.perf_counter() - started > 120:
                raise RuntimeError(f"db_worker did not start: {(workdir / 'db_worker.log').read_text()[-2000:]}")
            time.sleep(0.05)
        time.sleep(1.0)  # in its polling loop, idle
        rounds = []
        for report in candidates[2:4]:  # the first task of a fresh worker is cold (imports, first Parquet write)
            known = known_tasks()
            before, expected, t0, t_commit = approve(report)
            polls, visible = 0, False
            while time.perf_counter() < t_commit + 120:
                polls += 1
                if official_total() == expected:
                    visible = True
                    break
                time.sleep(0.01)
            t_visible = time.perf_counter()
            rounds.append((t_commit - t0, t_visible - t_commit, polls, visible, *task_seconds(known)))
            time.sleep(0.3)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        worker_log.close()
    for label, r in zip(("cold_worker", "background_worker"), rounds, strict=False):
        approve_s, e2e, polls, visible, run_s, refresh_s = r
        out[label] = {"interval_s": 0.5, "approve_s": approve_s, "task_run_s": run_s,
                      "partition_refresh_s": refresh_s, "end_to_end_s": e2e, "polls": polls, "visible": visible}
        log(f"  (c) background db_worker (--interval 0.5), {'first task (cold)' if label == 'cold_worker' else 'warm'}"
            f": commit → visible {e2e * 1000:.0f} ms (task {1000 * (run_s or 0):.0f} ms, partition refresh "
            f"{1000 * (refresh_s or 0):.0f} ms, {polls} polls); visible={visible}")
    return out


CHILDREN = {"generate": child_generate, "queries": child_queries, "fill": child_fill, "rebuild": child_rebuild,
            "orm": child_orm, "copy_pg": child_copy_pg}


def run_child(kind: str, workdir: Path, a: argparse.Namespace, **extra) -> dict:
    args = [sys.executable, __file__, "--child", kind, "--workdir", str(workdir), "--seed", str(a.seed),
            "--repeat", str(a.repeat), "--end", *map(str, a.end)]
    for key, value in extra.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    if a.diagnose:
        args.append("--diagnose")
    workdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(args, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout)
        raise SystemExit(f"{kind} child failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- parent -----------------------------------------------------------------------------------------------------

def db_cache_key(enterprises: int, months: int, end: tuple[int, int], seed: int) -> str:
    h = hashlib.sha256()
    for f in ("core/demo_data.py", "core/data/regions.csv", "core/data/ebops2010.csv", "reporting/setup.py"):
        path = SRC / "tradepilot" / f
        h.update(path.read_bytes() if path.exists() else b"")
    h.update(json.dumps([enterprises, months, list(end), seed]).encode())
    return h.hexdigest()[:12]


def sqlite_db(a, workdir: Path, lines: int, months: int, name: str) -> tuple[str, dict, Path]:
    """A SQLite database with ~`lines` lines from generate(), from the cache in --data-dir or filled now."""
    enterprises = db_enterprises(lines, months)
    key = db_cache_key(enterprises, months, tuple(a.end), a.seed)
    cache = Path(a.data_dir) / f"db-{enterprises}x{months}-{key}.sqlite3"
    meta_path = cache.with_suffix(".json")
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / f"{name}.sqlite3"
    url = f"sqlite:///{target}"
    if cache.exists() and meta_path.exists():
        shutil.copyfile(cache, target)
        info = {**json.loads(meta_path.read_text()), "cached": True}
        log(f"  SQLite database: cached {cache.name} ({info['lines']:,} lines; generate() took {info['fill_s']:.0f} s)")
        return url, info, cache
    log(f"  filling SQLite with demo_data.generate({enterprises}, {months}) …")
    info = run_child("fill", workdir, a, database_url=url, enterprises=enterprises, months=months)
    log(f"  SQLite: {info['lines']:,} lines in {info['fill_s']:.0f} s ({info['lines'] / info['fill_s']:,.0f} lines/s)")
    cache.parent.mkdir(parents=True, exist_ok=True)
    for stale in cache.parent.glob(f"db-{enterprises}x{months}-*"):  # same size, older code or reference data
        stale.unlink(missing_ok=True)
    tmp = cache.with_name(cache.name + ".tmp")
    shutil.copyfile(target, tmp)
    os.replace(tmp, cache)
    meta_path.write_text(json.dumps(info))
    return url, {**info, "cached": False}, cache


def section_generate(a, workdir: Path, report: dict) -> Path:
    log(f"\n[1] Synthetic store: {a.lines:,} lines, {a.enterprises:,} enterprises × {a.months} months")
    import analytics_data

    params = analytics_data.cache_params(a.lines, a.enterprises, a.months, tuple(a.end), a.seed)
    store = Path(a.data_dir) / f"store-{analytics_data.params_key(params)}"
    t = time.perf_counter()
    meta = run_child("generate", workdir / "gen", a, store=store, lines=a.lines, enterprises=a.enterprises,
                     months=a.months)
    wall = time.perf_counter() - t
    gen = {"store": str(store), "lines": meta["lines"], "enterprises": meta["enterprises"],
           "reports": meta["reports"], "months": a.months, "reused": meta["reused"], "plan_s": meta["plan_s"],
           "write_s": meta["write_s"], "total_s": meta["total_s"],
           "lines_per_s": round(meta["lines"] / meta["total_s"]), "write_lines_per_s":
               round(meta["lines"] / meta["write_s"]), "gb": round(meta["bytes"] / 1e9, 3),
           "vm_hwm_mb": meta.get("vm_hwm_mb"), "wall_s": round(wall, 1), "derived": meta.get("derived", []),
           "rollups_added": meta.get("rollups_added", 0), "rollups_s": meta.get("rollups_s", 0)}
    report["generate"] = gen
    log(f"  {gen['lines']:,} lines, {gen['reports']:,} reports, {gen['gb']:.2f} GB Parquet"
        f"{' (reused: generated earlier)' if gen['reused'] else ''}")
    log(f"  generation {gen['total_s']:.1f} s = planning {gen['plan_s']:.1f} s + DuckDB {gen['write_s']:.1f} s → "
        f"{gen['lines_per_s']:,} lines/s overall, {gen['write_lines_per_s']:,} lines/s writing"
        + (f"; peak RSS {gen['vm_hwm_mb']:.0f} MB" if gen["vm_hwm_mb"] else ""))
    return store


def section_queries(a, workdir: Path, store: Path, report: dict) -> None:
    log(f"\n[2] Dashboard queries over {store.name}: analytics layer vs raw DuckDB (p50 of {a.repeat} warm runs)")
    report["queries"] = run_child("queries", workdir / "queries", a, store=store)


def section_orm(a, workdir: Path, report: dict) -> None:
    log(f"\n[3] ORM on SQLite (~{a.db_lines:,} lines) vs the analytics layer; [4] refresh after one approval")
    url, info, _cache = sqlite_db(a, workdir / "orm", a.db_lines, 12, "orm")
    res = run_child("orm", workdir / "orm", a, database_url=url)
    res["fill"] = info
    report["orm"] = res


def section_rebuild(a, workdir: Path, report: dict) -> None:
    months = a.rebuild_months
    enterprises = db_enterprises(a.rebuild_lines, months)
    log(f"\n[5] Full rebuild of ~{a.rebuild_lines:,} lines ({enterprises:,} enterprises × {months} months)")
    out: dict = {}
    url, info, cache = sqlite_db(a, workdir / "rebuild-sqlite", a.rebuild_lines, months, "rebuild")
    out["sqlite"] = {**run_child("rebuild", workdir / "rebuild-sqlite", a, database_url=url), "fill": info}
    (workdir / "rebuild-sqlite" / "rebuild.sqlite3").unlink(missing_ok=True)
    if a.no_postgres:
        log("  PostgreSQL: skipped (--no-postgres)")
    else:
        from tradepilot.testing.postgres import PostgresStartError, PostgresUnavailable, running_postgres

        try:
            with running_postgres() as pg_url:
                if a.pg_fill == "generate":
                    log(f"  PostgreSQL at {pg_url}: filling with demo_data.generate({enterprises}, {months}) …")
                    fill = run_child("fill", workdir / "rebuild-pg", a, database_url=pg_url, enterprises=enterprises,
                                     months=months)
                    log(f"  PostgreSQL: {fill['lines']:,} lines in {fill['fill_s']:.0f} s "
                        f"({fill['lines'] / fill['fill_s']:,.0f} lines/s)")
                else:
                    log(f"  PostgreSQL at {pg_url}: copying the SQLite database's rows …")
                    fill = run_child("copy_pg", workdir / "rebuild-pg", a, database_url=pg_url, source=cache)
                out["postgresql"] = {**run_child("rebuild", workdir / "rebuild-pg", a, database_url=pg_url),
                                     "fill": fill}
        except (PostgresUnavailable, PostgresStartError) as exc:
            log(f"  PostgreSQL: skipped ({str(exc).splitlines()[0]})")
            out["postgresql"] = {"skipped": str(exc).splitlines()[0]}
    report["rebuild"] = out


def summary(report: dict) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    g = report.get("generate")
    if g:
        rows.append(("[1] generate Parquet", f"{g['lines']:,} lines in {g['total_s']:.0f} s = {g['lines_per_s']:,}/s"
                     + (" (reused)" if g["reused"] else ""), ""))
    q = report.get("queries")
    if q:
        for r in q["queries"]:
            same = "" if r["source"] == "fact_line" else f", vs raw {r['source']} {r['raw_same_s'] * 1000:.1f} ms = {r['overhead']:.2f}×"
            rows.append((f"[2] {r['name']}", f"{r['analytics_s'] * 1000:.1f} ms vs raw lines {r['raw_s'] * 1000:.1f} ms "
                         f"= {r['ratio']:.2f}×{same}; cache hit {r['cached_s'] * 1000:.2f} ms",
                         "ok" if r["overhead"] <= OVERHEAD_TARGET else f"> {OVERHEAD_TARGET}"))
        rows.append(("[2] geometric mean", f"{q['geomean_ratio']:.2f}× vs raw lines; layer overhead "
                     f"{q['geomean_overhead']:.2f}×", "ok" if q["geomean_overhead"] <= OVERHEAD_TARGET
                     else f"> {OVERHEAD_TARGET}"))
    o = report.get("orm")
    if o:
        rows.append(("[3] ORM vs analytics", f"{o['orm_s'] * 1000:,.0f} ms vs {o['analytics_s'] * 1000:.1f} ms = "
                     f"{o['speedup']:,.0f}× ({o['db_lines']:,} lines; raw DuckDB {o['raw_duckdb_s'] * 1000:.1f} ms; "
                     f"cache hit {o['cached_s'] * 1000:.2f} ms = {o['speedup_cached']:,.0f}×)",
                     ("ok" if o["speedup"] >= SPEEDUP_TARGET else f"< {SPEEDUP_TARGET:.0f}")
                     + (", totals equal" if o["equal"] else ", TOTALS DIFFER")))
        r = o.get("refresh", {})
        if "direct" in r:
            rows.append(("[4] refresh task (direct call)", f"{r['direct']['task_s'] * 1000:,.0f} ms "
                         f"({r['partition_rows']:,}-row partition)", "ok" if r["direct"]["visible"] else "NOT VISIBLE"))
            b = r["batch_worker"]
            rows.append(("[4] db_worker --batch", f"task {1000 * (b['task_run_s'] or 0):,.0f} ms; commit → visible "
                         f"{b['end_to_end_s'] * 1000:,.0f} ms", "ok" if b["visible"] else "NOT VISIBLE"))
            for key, label in (("cold_worker", "fresh worker, first task"), ("background_worker", "warm worker")):
                c = r.get(key)
                if c:
                    rows.append((f"[4] {label} (0.5 s poll)", f"commit → visible {c['end_to_end_s'] * 1000:,.0f} ms "
                                 f"(task {1000 * (c['task_run_s'] or 0):,.0f} ms)", "ok" if c["visible"] else "NOT VISIBLE"))
    rb = report.get("rebuild")
    if rb:
        for vendor in ("sqlite", "postgresql"):
            v = rb.get(vendor)
            if v and "rebuild_s" in v:
                fill = v.get("fill", {})
                how = (f"copied from SQLite in {fill['copy_s']:.0f} s" if "copy_s" in fill else
                       f"generate() {fill.get('fill_s', 0):.0f} s{', cached' if fill.get('cached') else ''}")
                rows.append((f"[5] rebuild from {vendor}", f"{v['rows']:,} lines in {v['rebuild_s']:.0f} s = "
                             f"{v['lines_per_s']:,}/s", f"(fill: {how})"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, help="synthetic Parquet lines (default 50M; --quick 2M)")
    parser.add_argument("--enterprises", type=int, help="enterprises in the synthetic store (default 20,000; --quick 2,000)")
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--db-lines", type=int, help="lines in the ORM comparison's SQLite database (default 1M)")
    parser.add_argument("--rebuild-lines", type=int, help="lines for the full-rebuild timing (default 5M)")
    parser.add_argument("--rebuild-months", type=int, default=24)
    parser.add_argument("--quick", action="store_true", help="small smoke run (2M / 200k / 500k lines)")
    parser.add_argument("--only", default="1,2,3,4,5", help="sections to run (3 and 4 run together)")
    parser.add_argument("--repeat", type=int, default=5, help="timed warm runs per query (after one warm-up)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench" / "analytics-data"),
                        help="cache of generated data (Parquet stores, SQLite databases)")
    parser.add_argument("--out", default=str(ROOT / "var" / "bench" / "analytics.json"))
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL rebuild")
    parser.add_argument("--pg-fill", choices=("copy", "generate"), default="copy",
                        help="fill PostgreSQL by copying the SQLite database's rows (default, fast) or with "
                             "demo_data.generate() (~2-4k lines/s on PostgreSQL here: 5M lines take 20-40 min)")
    parser.add_argument("--diagnose", action="store_true", help="time-breakdown of every query, not only slow ones")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--end", type=int, nargs=2, default=None, help=argparse.SUPPRESS)
    for hidden in ("--child", "--workdir", "--store", "--database-url", "--source"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    a = parser.parse_args()
    a.end = tuple(a.end) if a.end else end_period()

    if a.child:
        print(json.dumps(CHILDREN[a.child](Path(a.workdir), a), default=str))
        return

    a.lines = a.lines or (2_000_000 if a.quick else 50_000_000)
    a.enterprises = a.enterprises or (2_000 if a.quick else 20_000)
    a.db_lines = a.db_lines or (200_000 if a.quick else 1_000_000)
    a.rebuild_lines = a.rebuild_lines or (500_000 if a.quick else 5_000_000)
    sections = {s.strip() for s in a.only.split(",") if s.strip()}
    Path(a.data_dir).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="tradepilot-analytics-bench-"))
    report: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "quick": a.quick, "cpus": os.cpu_count(),
                    "load_before": os.getloadavg(),
                    "pythondontwritebytecode": os.environ.get("PYTHONDONTWRITEBYTECODE", ""), "args": {k: v for k, v in vars(a).items()
                                                             if k not in ("child", "workdir", "store", "database_url", "source")}}
    log(f"analytics benchmark: work in {workdir}, cache in {a.data_dir}; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs")
    t0 = time.perf_counter()
    try:
        store = None
        if sections & {"1", "2"}:
            store = section_generate(a, workdir, report)
        if "2" in sections:
            section_queries(a, workdir, store, report)
        if sections & {"3", "4"}:
            section_orm(a, workdir, report)
        if "5" in sections:
            section_rebuild(a, workdir, report)
    finally:
        report["wall_s"] = round(time.perf_counter() - t0, 1)
        report["load_after"] = os.getloadavg()
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1, default=str))
        if a.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    rows = summary(report)
    width = max(len(r[0]) for r in rows) if rows else 10
    vwidth = max(len(r[1]) for r in rows) if rows else 10
    print(f"\nSummary ({'quick' if a.quick else 'full'} run, {report['wall_s']:.0f} s; load average "
          f"{report['load_before'][0]:.1f} → {report['load_after'][0]:.1f} on {os.cpu_count()} CPUs)")
    for name, value, verdict in rows:
        print(f"  {name:<{width}}  {value:<{vwidth}}  {verdict}")
    print(f"figures written to {a.out}")


if __name__ == "__main__":
    main()
