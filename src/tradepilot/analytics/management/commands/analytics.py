"""`tradepilot analytics rebuild | check | refresh`."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from tradepilot.analytics import checks, refresh, store


class Command(BaseCommand):
    help = "Analytics store: rebuild everything, refresh stale partitions, or check totals against the database."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rebuild", "check", "refresh"])

    def handle(self, *args, action, **options):
        if action == "rebuild":
            t = time.perf_counter()

            def progress(name, year, month, n):
                if options["verbosity"] > 1:
                    self.stdout.write(f"  {name} {year}-{month:02d}: {n} rows")

            totals = store.rebuild(progress)
            summary = ", ".join(f"{name} {n:,} rows" for name, n in totals.items()) or "no data"
            self.stdout.write(f"Rebuilt the analytics store ({summary}) in {time.perf_counter() - t:.1f} s.")
        elif action == "refresh":
            self.stdout.write(f"Refreshed {refresh.refresh_stale()} stale partition(s).")
        else:
            failed = 0
            for c in checks.compare():
                mark = "ok" if c.ok else "MISMATCH"
                failed += not c.ok
                self.stdout.write(f"{mark:8} {c.what}: database {c.expected[0]:,} rows {c.expected[1]}, "
                                  f"analytics {c.found[0]:,} rows {c.found[1]}")
            if failed:
                raise CommandError(f"{failed} total(s) differ: run `tradepilot analytics rebuild`.")
            self.stdout.write("Analytics totals equal the transactional totals.")
