"""Incremental refresh: a workflow change marks its partition stale and queues a background rebuild of it.

The queue is django-tasks' database backend (same database as the data, SQLite or PostgreSQL). Debounce: the
mark is a timestamp on the partition; a task that finds the partition refreshed after its mark does nothing, so a
burst of approvals in one month costs about one rebuild, and each rebuild reads a committed snapshot that
includes every change marked before it started.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.dispatch import Signal, receiver
from django.utils import timezone
from django_tasks import task

from tradepilot.analytics.schema import FATS_INWARD, FATS_OUTWARD, LINES
from tradepilot.enterprises.services import enterprise_changed
from tradepilot.reporting.models import Report, ReportForm
from tradepilot.reporting.signals import report_changed

#: Sent by the background task after a partition was rebuilt (kwargs: dataset, year, month), so that jobs that
#: read the analytics store (the governance early-warning scan) run on fresh data.
partition_refreshed = Signal()

#: Workflow actions that change neither stage (official / preliminary) of any line.
NEUTRAL_ACTIONS = {"lock", "supersede"}

DATASET_FOR_FORM = {
    ReportForm.Code.MONTHLY: LINES.name,
    ReportForm.Code.FATS_IN: FATS_INWARD.name,
    ReportForm.Code.FATS_OUT: FATS_OUTWARD.name,
}


def mark_stale(dataset: str, year: int, month: int) -> None:
    from tradepilot.analytics.models import Partition

    Partition.objects.update_or_create(dataset=dataset, year=year, month=month,
                                       defaults={"stale_since": timezone.now()})


@task()
def refresh_partition(dataset: str, year: int, month: int) -> int:
    """Background task: rebuild one partition unless it was rebuilt after it was marked stale."""
    from tradepilot.analytics.models import Partition

    stale = Partition.objects.filter(dataset=dataset, year=year, month=month).filter(
        Q(refreshed_at__isnull=True) | Q(refreshed_at__lt=F("stale_since"))).exists()
    if not stale:
        return -1
    from tradepilot.analytics import store  # pyarrow and DuckDB load in the worker, not at every start-up

    rows = store.refresh(dataset, year, month)
    partition_refreshed.send(sender=refresh_partition, dataset=dataset, year=year, month=month)
    return rows


@task(queue_name="publication")
def prepare_publication(year: int) -> int:
    """Background task on its own queue (a slow cube never delays a refresh): compute the protected SDMX cubes
    of `year`, shared with every process through files; a no-op when the data did not change since."""
    from tradepilot.analytics import sdmx

    return sdmx.prepare(years=[year])


def schedule(dataset: str, year: int, month: int) -> None:
    mark_stale(dataset, year, month)
    transaction.on_commit(lambda: refresh_partition.enqueue(dataset, year, month))
    if dataset == LINES.name:
        # After the refresh, and late enough that a burst of approvals is published once.
        delay = timedelta(seconds=getattr(settings, "ANALYTICS_PUBLICATION_DELAY", 60))
        transaction.on_commit(
            lambda: prepare_publication.using(run_after=timezone.now() + delay).enqueue(year))


@receiver(report_changed, dispatch_uid="analytics-refresh")
def _on_report_changed(sender, report: Report, action: str = "", **kwargs) -> None:
    if action in NEUTRAL_ACTIONS:
        return
    dataset = DATASET_FOR_FORM.get(report.form.code)
    if dataset is None:
        return
    schedule(dataset, report.year, report.month if dataset == LINES.name else 0)


#: Enterprise attributes copied onto fact rows (see schema.ENTERPRISE_COLUMNS); other changes need no refresh.
COPIED_FIELDS = {"region", "industry", "registration_type", "is_key_contact", "is_systemic"}


@receiver(enterprise_changed, dispatch_uid="analytics-enterprise-refresh")
def _on_enterprise_changed(sender, enterprise, fields=(), **kwargs) -> None:
    if not COPIED_FIELDS.intersection(fields):
        return
    from tradepilot.analytics.store import PRELIMINARY_STATUSES

    reports = Report.objects.filter(enterprise=enterprise, status__in=PRELIMINARY_STATUSES)
    for form_code, year, month in set(reports.values_list("form__code", "year", "month")):
        dataset = DATASET_FOR_FORM.get(form_code)
        if dataset is not None:
            schedule(dataset, year, month if dataset == LINES.name else 0)


def refresh_stale() -> int:
    """Rebuild every stale partition now (the worker's job, callable from commands and tests)."""
    from tradepilot.analytics import store
    from tradepilot.analytics.models import Partition

    done = 0
    for p in Partition.objects.filter(stale_since__isnull=False):
        if p.is_stale:
            store.refresh(p.dataset, p.year, p.month)
            done += 1
    return done
