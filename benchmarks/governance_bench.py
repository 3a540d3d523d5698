"""Benchmark of the governance jobs that read the analytics store, against raw DuckDB over the same Parquet files.

    python benchmarks/governance_bench.py [--enterprises 1000] [--months 24] [--runs 5] [--data-dir DIR]

Builds (once, cached in --data-dir, default var/bench/governance) a demo database with `tradepilot demo --no-serve`
(E enterprises × M months of reports, the analytics store and the governance demo data), then measures p50 of
warm runs of:

1. the early-warning scan of the latest month (every active rule × every pilot area; a re-scan, so alerts are
   updated, never duplicated), against the raw aggregates the three kinds need, written by hand in DuckDB over
   `fact_line/**/*.parquet` for all areas at once (imports by area × component in the month and a year before;
   foreign-invested and total trade by area over the window; imports by area × partner in the month);
2. the annual evaluation run (9 indicators × every area, scores and explanations stored), against the raw trade
   aggregates of its four trade indicators (exports and imports by area, year and knowledge-intensive flag);
3. the overdue list of every area (`overdue.overdue_in`) and a programme reload (`load_programme`, idempotent).

The ratios say what the layer (scoping-free aggregates with contributor counts, disclosure inputs, Decimal,
explanations, writes) costs over the bare reads; there is no target: these are minutes-scale jobs run monthly or
yearly, and the figures show they take seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def configure(var: Path) -> None:
    os.environ["TRADEPILOT_MODE"] = "demo"
    os.environ["TRADEPILOT_VAR"] = str(var)
    os.environ["DJANGO_SETTINGS_MODULE"] = "tradepilot.settings"
    os.environ.pop("DATABASE_URL", None)
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))


def build(var: Path, enterprises: int, months: int) -> None:
    marker = var / f"built-{enterprises}x{months}"
    if marker.exists():
        print(f"demo database: {var} (cached)")
        return
    var.mkdir(parents=True, exist_ok=True)
    for old in var.glob("built-*"):
        old.unlink()
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "django", "demo", "--no-serve", "--enterprises", str(enterprises),
                    "--months", str(months)], check=True, env=os.environ.copy(), cwd=ROOT, stdout=subprocess.DEVNULL)
    marker.touch()
    print(f"demo database: {enterprises} enterprises × {months} months built in {time.perf_counter() - t:.1f} s")


def p50(fn, runs: int) -> float:
    fn()  # warm
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench" / "governance")
    args = parser.parse_args()

    configure(args.data_dir)
    build(args.data_dir, args.enterprises, args.months)

    import django

    django.setup()
    import duckdb
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from tradepilot.analytics.indicators import previous_period
    from tradepilot.core.models import PilotArea
    from tradepilot.governance import early_warning, evaluation, overdue
    from tradepilot.governance.common import today
    from tradepilot.governance.models import AreaTask, SupervisionNotice
    from tradepilot.governance.programme import load_programme

    rnd = early_warning.pick_round(None)
    areas = list(PilotArea.objects.filter(round=rnd).select_related("region"))
    period = early_warning.latest_month()
    year, month = divmod(period, 100)
    ministry = get_user_model().objects.get(username="ministry")
    glob = str(Path(settings.ANALYTICS_ROOT) / "fact_line" / "**" / "*.parquet")
    con = duckdb.connect()
    paths = ", ".join(f"'{a.region.path}'" for a in areas)
    area_of = (f"(SELECT p FROM (SELECT unnest([{paths}]) AS p) WHERE starts_with(region_path, p) LIMIT 1)")

    def raw_scan() -> None:
        base, window_start = previous_period(period, 12), previous_period(period, 6)
        con.execute(f"""SELECT {area_of} AS area, component, period, sum(usd_cents), count(DISTINCT report_id)
            FROM read_parquet('{glob}', hive_partitioning=true)
            WHERE official = 1 AND direction = 'M' AND period IN ({period}, {base}) GROUP BY ALL""").fetchall()
        con.execute(f"""SELECT {area_of} AS area, period, sum(usd_cents) FILTER (registration_type <> 'domestic'),
            sum(usd_cents), count(DISTINCT report_id) FROM read_parquet('{glob}', hive_partitioning=true)
            WHERE official = 1 AND period BETWEEN {window_start} AND {period} GROUP BY ALL""").fetchall()
        con.execute(f"""SELECT {area_of} AS area, partner, sum(usd_cents), count(DISTINCT report_id)
            FROM read_parquet('{glob}', hive_partitioning=true)
            WHERE official = 1 AND direction = 'M' AND period = {period} GROUP BY ALL""").fetchall()

    eval_year = year - 1
    system = evaluation.ensure_default_system(rnd)

    def raw_evaluation() -> None:
        con.execute(f"""SELECT {area_of} AS area, year, direction, knowledge_intensive, sum(usd_cents)
            FROM read_parquet('{glob}', hive_partitioning=true)
            WHERE official = 1 AND year IN ({eval_year}, {eval_year - 1}) GROUP BY ALL""").fetchall()

    def overdue_list() -> None:
        qs = PilotArea.objects.filter(round=rnd)
        overdue.overdue_in(qs, AreaTask.objects.filter(area__in=qs),
                           SupervisionNotice.objects.filter(area_task__area__in=qs), today())

    settings.ANALYTICS_CACHE_ENTRIES = 0  # every query executed
    figures = [
        ("early-warning scan of a month", p50(lambda: early_warning.scan(rnd, year, month), args.runs),
         p50(raw_scan, args.runs)),
        ("evaluation run (a year)", p50(lambda: evaluation.run_evaluation(system, eval_year, ministry), args.runs),
         p50(raw_evaluation, args.runs)),
        ("overdue list, every area", p50(overdue_list, args.runs), None),
        ("programme reload (idempotent)", p50(load_programme, args.runs), None),
    ]
    print(f"\n{len(areas)} pilot areas; month {year}-{month:02d}; evaluation year {eval_year}; p50 of {args.runs}")
    print(f"{'job':34} {'layer':>10} {'raw DuckDB':>11} {'ratio':>7}")
    for name, layer, raw in figures:
        ratio = f"{layer / raw:7.1f}" if raw else "      -"
        raw_text = f"{raw * 1000:9.1f} ms" if raw else "          -"
        print(f"{name:34} {layer * 1000:7.1f} ms {raw_text} {ratio}")


if __name__ == "__main__":
    main()
