"""Governance reacting to other apps: the early-warning scan runs after the analytics store refreshed a month."""

from __future__ import annotations

from django.dispatch import receiver

from tradepilot.analytics.refresh import partition_refreshed


@receiver(partition_refreshed, dispatch_uid="governance-early-warning-scan")
def scan_refreshed_month(sender, dataset: str, year: int, month: int, **kwargs) -> None:
    """Scan the refreshed month for every round that has active early-warning rules (this already runs in the
    background worker that rebuilt the partition)."""
    from tradepilot.analytics.schema import LINES

    if dataset != LINES.name or month == 0:
        return
    from tradepilot.core.models import PilotRound
    from tradepilot.governance.early_warning import scan

    for rnd in PilotRound.objects.filter(risk_rules__active=True).distinct():
        scan(rnd, year, month)
