"""`manage.py load_reference`: load (or refresh) all reference tables. Safe to run repeatedly."""

from django.core.management.base import BaseCommand

from tradepilot.core.reference import load_all


class Command(BaseCommand):
    help = "Load the reference tables (regions, pilot rounds, EBOPS 2010, GB/T 4754, agencies, countries, …)."

    def handle(self, *args, **options):
        counts = load_all()
        width = max(len(name) for name in counts)
        for name, n in counts.items():
            self.stdout.write(f"{name:<{width}}  {n:>5}")
        self.stdout.write(self.style.SUCCESS(f"Loaded {sum(counts.values())} reference rows."))
