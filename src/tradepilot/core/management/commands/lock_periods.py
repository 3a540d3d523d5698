"""`tradepilot lock_periods`: lock the accepted reports whose period has passed its lock date (run daily)."""

from django.core.management.base import BaseCommand

from tradepilot.reporting.workflow import lock_due_reports


class Command(BaseCommand):
    help = "Move accepted reports whose period has locked to 'locked'. Idempotent; run it daily."

    def handle(self, *args, **options):
        count = lock_due_reports()
        self.stdout.write(f"Locked {count} report{'s' if count != 1 else ''}.")
