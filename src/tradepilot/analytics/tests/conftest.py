"""Analytics fixtures: a store in a temporary directory and realistic trade from the demo generator."""

from __future__ import annotations

import pytest

from tradepilot.reporting.periods import Period

#: The last month of generated trade in analytics tests (fixed, so figures do not move with the calendar).
END = Period(2026, 9)


@pytest.fixture
def store_root(settings, tmp_path):
    settings.ANALYTICS_ROOT = tmp_path / "analytics"
    settings.ANALYTICS_ENGINE = "duckdb"
    return settings.ANALYTICS_ROOT


@pytest.fixture
def trade(reference, store_root):
    """60 enterprises × 21 months of generated reports (Jan 2025 – Sep 2026), store rebuilt."""
    from tradepilot.analytics import store
    from tradepilot.core.demo_data import generate

    counts = generate(60, 21, seed=11, end_period=END)
    store.rebuild()
    return counts
