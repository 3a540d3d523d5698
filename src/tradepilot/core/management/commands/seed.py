"""`tradepilot seed`: load the reference data and report forms if needed, then generate synthetic data."""

import time

from django.core.management.base import BaseCommand, CommandError

from tradepilot.core.demo_data import generate
from tradepilot.core.models import Currency, PilotArea, Region
from tradepilot.core.reference import load_all
from tradepilot.reporting.models import ReportForm
from tradepilot.reporting.periods import Period
from tradepilot.reporting.setup import load_defaults


def ensure_reference_data() -> None:
    """Load the reference tables and the report forms unless they are already there."""
    if not (Region.objects.exists() and PilotArea.objects.exists() and Currency.objects.exists()):
        load_all()
    if not ReportForm.objects.filter(code=ReportForm.Code.MONTHLY).exists():
        load_defaults()


class Command(BaseCommand):
    help = ("Generate deterministic synthetic enterprises, monthly reports and exchange rates "
            "(same arguments, same data). Loads the reference data first if needed.")

    def add_arguments(self, parser):
        parser.add_argument("--enterprises", type=int, default=200, help="number of enterprises (default 200)")
        parser.add_argument("--months", type=int, default=24, help="months of reports (default 24)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument("--end-period", default=None,
                            help="last month generated, YYYY-MM (default: the latest closed month)")

    def handle(self, *args, **options):
        end = None
        if options["end_period"]:
            try:
                end = Period.parse(options["end_period"])
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if options["enterprises"] < 0 or options["months"] < 1:
            raise CommandError("--enterprises must be at least 0 and --months at least 1.")
        start = time.monotonic()
        ensure_reference_data()
        try:
            counts = generate(options["enterprises"], options["months"], options["seed"], end_period=end,
                              stdout=self.stdout if options["verbosity"] >= 1 else None)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        width = max(len(name) for name in counts)
        for name, value in counts.items():
            self.stdout.write(f"{name:<{width}}  {value:>9}")
        self.stdout.write(self.style.SUCCESS(f"Seeded in {time.monotonic() - start:.1f} s."))
