"""Analytics fixtures: a store in a temporary directory and realistic trade from the demo generator.

Generating the trade costs seconds (more on PostgreSQL), so it happens once per test module, inside an outer
transaction that is rolled back when the module ends; each test runs in a savepoint of it (pytest-django's `db`)
and gets its own copy of the Parquet store, so what one test changes, in the database or in the store, the next
one does not see.
"""

from __future__ import annotations

import shutil

import pytest
from django.db import transaction
from django.test import override_settings

from tradepilot.reporting.periods import Period

#: The last month of generated trade in analytics tests (fixed, so figures do not move with the calendar).
END = Period(2026, 9)


@pytest.fixture
def store_root(settings, tmp_path):
    settings.ANALYTICS_ROOT = tmp_path / "analytics"
    settings.ANALYTICS_ENGINE = "duckdb"
    return settings.ANALYTICS_ROOT


@pytest.fixture(scope="module")
def _generated_trade(django_db_setup, django_db_blocker, tmp_path_factory):
    from tradepilot.analytics import store
    from tradepilot.core.demo_data import generate
    from tradepilot.core.reference import load_all
    from tradepilot.reporting.setup import load_defaults
    from tradepilot.testing.shared_data import module_transaction

    pristine = tmp_path_factory.mktemp("analytics-pristine") / "analytics"
    with module_transaction(django_db_blocker):
        load_all()
        load_defaults()
        counts = generate(60, 21, seed=11, end_period=END)
        with override_settings(ANALYTICS_ROOT=pristine, ANALYTICS_ENGINE="duckdb"):
            store.rebuild()
        yield counts, pristine


@pytest.fixture
def trade(_generated_trade, reference, store_root):
    """60 enterprises × 21 months of generated reports (Jan 2025 – Sep 2026), store built."""
    counts, pristine = _generated_trade
    shutil.copytree(pristine, store_root)
    return counts


def run_queued_tasks() -> int:
    """What `db_worker --batch` does, minus its `close_old_connections()`, which would close the connection of a
    test running inside a transaction (PostgreSQL): claim each ready task from the database queue and run it
    with the worker's own `run_task`. Returns the number of tasks run."""
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
                    max_tasks=None, worker_id="test-worker", excluded_queue_names=[])
    count = 0
    while True:
        with transaction.atomic():
            task = DBTaskResult.objects.ready().filter(backend_name="default").get_locked()
            if task is None:
                return count
            task.claim(worker.worker_id)
        worker.run_task(task)
        count += 1
