"""Benchmark of the bulk import of monthly lines against a raw SQLite insert of the same rows.

    python benchmarks/import_bench.py [--lines N] [--enterprises E] [--months M] [--keep] [--profile FILE]

Sets up an isolated SQLite database in a temporary directory (migrations, reference data, E enterprises, exchange
rates, a bureau user), writes a CSV of N lines (E × M reports, about N / (E × M) lines each) and measures, each in a
child process so that its peak RSS is its own:

(a) the real import path: `store_upload` + `dry_run` + `commit` — lines/s and peak RSS (VmHWM);
(b) a raw baseline: `executemany` INSERT of the same rows, ids already resolved, into `reporting_monthlyline`
    of the same database (for a separate set of fresh reports), in one transaction — lines/s.

It prints both, the ratio import time / raw time (target ≤ 3×) and the import's peak RSS (target < 300 MB).
The form's lock window is widened so that the M past months are open for data entry.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"


def configure(workdir: Path, db: str = "bench.sqlite3") -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / db}"
    os.environ["TRADEPILOT_MODE"] = "test"
    os.environ["DJANGO_SETTINGS_MODULE"] = "tradepilot.settings_test"
    os.environ.setdefault("TRADEPILOT_MAX_UPLOAD_BYTES", str(2 * 1024**3))  # a 1M-line CSV is ~90 MB
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    import django

    django.setup()
    from django.conf import settings

    settings.MEDIA_ROOT = workdir / "media"


def vm_hwm_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- setup (parent) ---------------------------------------------------------------------------------------------

CURRENCIES = {"USD": "7.10", "EUR": "7.70", "JPY": "0.048", "HKD": "0.91", "GBP": "9.00"}
PARTNERS = ["US", "JP", "DE", "GB", "FR", "SG", "KR", "HK", "MO", "TW", "AU", "CA", "NL", "CH", "IN", "RU", "BR",
            "IT", "ES", "SE", "MY", "TH", "VN", "ID", "AE", "SA", "ZA", "MX", "NZ", "IE"]


def periods(months: int):
    from tradepilot.reporting.periods import Period, today

    d = today()
    current = Period(d.year, d.month)
    return [current.shift(-i) for i in range(months)]


def setup(workdir: Path, n_enterprises: int, months: int) -> dict:
    configure(workdir)
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction

    from tradepilot.core.models import Currency, Profile, Region, Role
    from tradepilot.core.reference import load_all
    from tradepilot.enterprises.models import Enterprise
    from tradepilot.enterprises.uscc import make_uscc
    from tradepilot.reporting.models import ExchangeRate, ReportForm
    from tradepilot.reporting.setup import load_defaults

    call_command("migrate", verbosity=0)
    load_all()
    load_defaults()
    with transaction.atomic():
        ReportForm.objects.filter(code="monthly").update(lock_after_days=3650)
        region = Region.objects.get(code="110000")
        Enterprise.objects.bulk_create(
            Enterprise(uscc=make_uscc("110000", i + 1), name=f"基准企业{i + 1:05d}", region=region,
                       is_key_contact=True)
            for i in range(n_enterprises)
        )
        currencies = {c.code: c for c in Currency.objects.filter(code__in=CURRENCIES)}
        ExchangeRate.objects.bulk_create(
            ExchangeRate(currency=currencies[code], year=p.year, month=p.month, cny_per_unit=Decimal(v))
            for code, v in CURRENCIES.items() for p in periods(months)
        )
        user = get_user_model().objects.create_user("bench-bureau", "bench@example.cn", "pw")
        Profile.objects.create(user=user, role=Role.BUREAU, region=region)
    return {"user_id": user.pk}


def write_csv(path: Path, n_lines: int, n_enterprises: int, months: int, data: str = "profile") -> tuple[int, int]:
    """Write the file; returns (lines, distinct code combinations).

    data="profile" (realistic): each enterprise trades a stable set of services with a stable set of partners,
    so its lines repeat from month to month with other amounts (about one line in ten differs each month).
    data="random": every field of every line drawn uniformly (a worst case for the import's memo of codes)."""
    from tradepilot.core.models import ServiceCategory, SupplyMode
    from tradepilot.enterprises.models import Enterprise

    rng = random.Random(42)
    usccs = list(Enterprise.objects.order_by("pk").values_list("uscc", flat=True))
    services = list(ServiceCategory.objects.filter(is_leaf=True).values_list("code", flat=True))
    modes = list(SupplyMode.objects.filter(in_direct_report=True).values_list("code", flat=True))
    currencies = [*CURRENCIES, "CNY"]
    reports = [(u, p) for u in usccs for p in periods(months)]
    base, extra = divmod(n_lines, len(reports))

    def random_combo():
        return (rng.choice("XM"), rng.choice(services), rng.choice(PARTNERS), rng.choice(modes),
                "Y" if rng.random() < 0.2 else "N", rng.choice(currencies), "" if rng.random() < 0.9 else "合同备注")

    def profile_combo(own_services, own_partners):
        return (rng.choice("XXM"), rng.choice(own_services), rng.choice(own_partners), rng.choice(modes[:2]),
                "Y" if rng.random() < 0.1 else "N", rng.choices(currencies, weights=(6, 1, 1, 1, 1, 3))[0], "")

    combos = set()
    written = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow(["uscc", "period", "direction", "service", "partner", "mode", "related_party", "amount",
                    "currency", "note"])
        profile, own = None, None
        for i, (uscc, period) in enumerate(reports):
            n = base + (1 if i < extra else 0)
            if data == "profile" and (profile is None or uscc != own):
                own = uscc
                own_services = rng.sample(services, rng.randint(2, 6))
                own_partners = rng.sample(PARTNERS[:12], 3) + rng.sample(PARTNERS[12:], 2)
                profile = [profile_combo(own_services, own_partners) for _ in range(n + 5)]
            p = str(period)
            for k in range(n):
                if data == "random":
                    combo = random_combo()
                elif k < len(profile) and rng.random() < 0.9:
                    combo = profile[k]
                else:
                    combo = profile_combo(own_services, own_partners)
                combos.add(combo)
                d, service, partner, mode, rp, currency, note = combo
                w.writerow([uscc, p, d, service, partner, mode, rp, f"{rng.randint(100, 500_000_000) / 100:.2f}",
                            currency, note])
                written += 1
    return written, len(combos)


# --- children ---------------------------------------------------------------------------------------------------

def child_import(workdir: Path, db: str, csv_path: Path, user_id: int, profile: str | None) -> dict:
    configure(workdir, db)
    from django.contrib.auth import get_user_model

    from tradepilot.reporting.imports import commit, dry_run, store_upload

    user = get_user_model().objects.get(pk=user_id)
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    t0 = time.perf_counter()
    batch = store_upload(csv_path, user, "monthly")
    t1 = time.perf_counter()
    preview = dry_run(batch, user)
    t2 = time.perf_counter()
    if not preview.ok:
        return {"error": [e.as_dict() for e in preview.errors[:10]], "error_count": preview.error_count}
    summary = commit(batch, user)
    t3 = time.perf_counter()
    if prof is not None:
        prof.disable()
        prof.dump_stats(profile)
    return {"store": t1 - t0, "dry_run": t2 - t1, "commit": t3 - t2, "total": t3 - t0,
            "lines": summary.lines_written, "reports": summary.reports_created + summary.reports_replaced,
            "vm_hwm_mb": vm_hwm_mb()}


def child_raw(workdir: Path, db: str, csv_path: Path, months: int) -> dict:
    """executemany of the same rows, ids resolved beforehand, into fresh reports (version 2, not current)."""
    configure(workdir, db)
    from decimal import ROUND_HALF_UP, Decimal

    from django.db import connection, transaction

    from tradepilot.core.models import Country, Currency, ServiceCategory, SupplyMode
    from tradepilot.enterprises.models import Enterprise
    from tradepilot.reporting.models import ExchangeRate, Report, ReportForm

    form = ReportForm.objects.get(code="monthly")
    enterprises = dict(Enterprise.objects.values_list("uscc", "pk"))
    Report.objects.bulk_create(
        Report(enterprise_id=pk, form=form, year=p.year, month=p.month, version=2, is_current=False)
        for pk in enterprises.values() for p in periods(months)
    )
    reports = {(e, y, m): pk for pk, e, y, m in Report.objects.filter(version=2)
               .values_list("pk", "enterprise_id", "year", "month")}
    services = dict(ServiceCategory.objects.values_list("code", "pk"))
    partners = dict(Country.objects.values_list("alpha2", "pk"))
    modes = dict(SupplyMode.objects.values_list("code", "pk"))
    currencies = dict(Currency.objects.values_list("code", "pk"))
    rates = {(c, y, m): v for c, y, m, v in ExchangeRate.objects.values_list("currency__code", "year", "month",
                                                                           "cny_per_unit")}
    rows, numbers = [], {}
    cent = Decimal("0.01")
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        next(reader)
        for uscc, period, direction, service, partner, mode, rp, amount, currency, note in reader:
            y, m = int(period[:4]), int(period[5:])
            report = reports[(enterprises[uscc], y, m)]
            numbers[report] = no = numbers.get(report, 0) + 1
            a = Decimal(amount)
            rate = Decimal(1) if currency == "CNY" else rates[(currency, y, m)]
            usd = a if currency == "USD" else (a * rate / rates[("USD", y, m)]).quantize(cent, ROUND_HALF_UP)
            rows.append((report, no, direction, services[service], partners[partner], modes[mode], rp == "Y",
                         str(a), currencies[currency], str(usd), note))
    sql = ("INSERT INTO reporting_monthlyline (report_id, line_no, direction, service_id, partner_id, mode_id, "
           "related_party, amount, currency_id, usd_amount, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    connection.ensure_connection()
    raw = connection.connection
    t0 = time.perf_counter()
    with transaction.atomic():
        raw.executemany(sql, rows)
    t1 = time.perf_counter()
    return {"total": t1 - t0, "lines": len(rows), "vm_hwm_mb": vm_hwm_mb()}


def run_child(kind: str, workdir: Path, *args: str) -> dict:
    cmd = [sys.executable, __file__, "--child", kind, "--workdir", str(workdir), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"{kind} child failed")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--enterprises", type=int, default=2000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--data", choices=("profile", "random"), default="profile",
                        help="profile: realistic, lines repeat per enterprise (default); random: all fields uniform")
    parser.add_argument("--repeat", type=int, default=1,
                        help="measure N times, each on a fresh copy of the database; report the median and best")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", help="write a cProfile of the import to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--csv", help=argparse.SUPPRESS)
    parser.add_argument("--user", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", default="bench.sqlite3", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        workdir = Path(args.workdir)
        if args.child == "import":
            result = child_import(workdir, args.db, Path(args.csv), args.user, args.profile)
        else:
            result = child_raw(workdir, args.db, Path(args.csv), args.months)
        print(json.dumps(result))
        return

    workdir = Path(tempfile.mkdtemp(prefix="tradepilot-bench-"))
    try:
        t0 = time.perf_counter()
        info = setup(workdir, args.enterprises, args.months)
        csv_path = workdir / "lines.csv"
        n, combos = write_csv(csv_path, args.lines, args.enterprises, args.months, args.data)
        print(f"setup: {time.perf_counter() - t0:.1f} s; {n:,} lines ({args.data} data, {combos:,} distinct code "
              f"combinations), {args.enterprises * args.months:,} reports, CSV "
              f"{csv_path.stat().st_size / 1024**2:.1f} MB in {workdir}")

        from django.db import connections

        connections.close_all()  # checkpoints the WAL: the database is one file to copy
        runs = []
        for i in range(args.repeat):
            db = f"run{i}.sqlite3"
            shutil.copyfile(workdir / "bench.sqlite3", workdir / db)
            raw = run_child("raw", workdir, "--db", db, "--csv", str(csv_path), "--months", str(args.months))
            extra = ["--profile", str(Path(args.profile).resolve())] if args.profile else []
            imp = run_child("import", workdir, "--db", db, "--csv", str(csv_path), "--user", str(info["user_id"]),
                            *extra)
            if "error" in imp:
                raise SystemExit(f"import had {imp['error_count']} errors: {imp['error'][:3]}")
            assert imp["lines"] == n == raw["lines"], (imp, raw)
            (workdir / db).unlink()
            runs.append((imp["total"] / raw["total"], raw, imp))
            if args.repeat > 1:
                print(f"run {i + 1}: raw {raw['total']:.2f} s, import {imp['total']:.2f} s "
                      f"(dry run {imp['dry_run']:.2f} s, commit {imp['commit']:.2f} s), "
                      f"ratio {imp['total'] / raw['total']:.2f}, peak RSS {imp['vm_hwm_mb']:.0f} MB")
        runs.sort(key=lambda r: r[0])
        ratio, raw, imp = runs[len(runs) // 2]  # the median run
        label = "median run" if args.repeat > 1 else "run"
        print(f"{label}:")
        print(f"raw executemany : {raw['total']:8.2f} s  {n / raw['total']:>10,.0f} lines/s")
        print(f"import          : {imp['total']:8.2f} s  {n / imp['total']:>10,.0f} lines/s  "
              f"(store {imp['store']:.2f} s, dry run {imp['dry_run']:.2f} s, commit {imp['commit']:.2f} s)")
        print(f"ratio import/raw: {ratio:8.2f}×  (target ≤ 3×)" + (f"; best {runs[0][0]:.2f}×" if len(runs) > 1 else ""))
        print(f"import peak RSS : {max(r[2]['vm_hwm_mb'] for r in runs):8.1f} MB (target < 300 MB)")
        print(json.dumps({"lines": n, "data": args.data, "runs": len(runs), "raw_s": round(raw["total"], 2),
                          "import_s": round(imp["total"], 2), "dry_run_s": round(imp["dry_run"], 2),
                          "commit_s": round(imp["commit"], 2), "ratio": round(ratio, 2),
                          "best_ratio": round(runs[0][0], 2),
                          "import_peak_rss_mb": round(max(r[2]["vm_hwm_mb"] for r in runs), 1)}))
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
