"""`tradepilot governance <subcommand>`: pilot-governance jobs run from the command line or cron.

A dispatcher: each subcommand is a `Subcommand` in `SUBCOMMANDS` (its arguments and its handler), so the parts of
the governance app add theirs here without touching the others'.

- `remind [--today YYYY-MM-DD] [--days 14]`: notify each area's bureau of deadlines within the next days (work plan,
  area tasks, quarterly progress, supervision-notice replies); a reminder already sent today is not sent again.
- `overdue [--today YYYY-MM-DD] [--area REGION] [--kind KIND]`: list what is overdue (governance.overdue).
- `programme [--round CODE] [--file PATH]`: load the programme (governance.programme; idempotent).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--today: '{text}' is not a date (YYYY-MM-DD).") from None


@dataclass
class Subcommand:
    help: str
    add_arguments: Callable
    handle: Callable  # (command, **options) -> None


# --- tracking: remind, overdue -------------------------------------------------------------------------------

def _remind_arguments(parser) -> None:
    parser.add_argument("--today", help="the day to remind from (YYYY-MM-DD; default: today)")
    parser.add_argument("--days", type=int, default=14, help="remind of deadlines within this many days (14)")


def _remind(command: BaseCommand, today=None, days=14, **options) -> None:
    from tradepilot.governance.overdue import send_reminders, upcoming
    from tradepilot.governance.tracking import today as local_today

    if days < 0:
        raise CommandError("--days must not be negative.")
    on = _date(today) if today else local_today()
    found = upcoming(on, days)
    sent = send_reminders(on, days)
    command.stdout.write(f"{len(found)} deadline(s) from {on} to {on + dt.timedelta(days=days)}; "
                         f"{sent} reminder(s) sent.")


def _overdue_arguments(parser) -> None:
    from tradepilot.governance.overdue import Kind

    parser.add_argument("--today", help="the day to check (YYYY-MM-DD; default: today)")
    parser.add_argument("--area", help="the pilot area's region code, e.g. 330100")
    parser.add_argument("--kind", choices=Kind.values)


def _overdue(command: BaseCommand, today=None, area=None, kind=None, **options) -> None:
    from tradepilot.core.models import PilotArea
    from tradepilot.governance.models import AreaTask, SupervisionNotice
    from tradepilot.governance.overdue import overdue_in
    from tradepilot.governance.tracking import today as local_today

    on = _date(today) if today else local_today()
    areas = PilotArea.objects.all()
    if area:
        areas = areas.filter(region__code=area)
        if not areas.exists():
            raise CommandError(f"--area: no pilot area has the region code {area}.")
    items = overdue_in(areas, AreaTask.objects.filter(area__in=areas), SupervisionNotice.objects.filter(
        area_task__area__in=areas), on, kind=kind)
    for i in items:
        task = i.task.code if i.task else "-"
        command.stdout.write(f"{i.kind:10} {i.area.region.code} {i.area.name_zh:8} {task:5} due {i.due} "
                             f"({i.days} days) {i.detail}")
    command.stdout.write(f"{len(items)} overdue item(s) on {on}.")


# --- programme: load ---------------------------------------------------------------------------------------

def _programme_arguments(parser) -> None:
    parser.add_argument("--round", help="the pilot round's code (default: every file in governance/data/programme/)")
    parser.add_argument("--file", help="a programme file elsewhere (checked and loaded like the shipped ones)")


def _programme(command: BaseCommand, round=None, file=None, **options) -> None:
    from tradepilot.governance.programme import load_programme

    try:
        counts = load_programme(round, path=file)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    command.stdout.write(", ".join(f"{name}: {n}" for name, n in counts.items()))


SUBCOMMANDS: dict[str, Subcommand] = {
    "remind": Subcommand("remind the bureaus of deadlines in the next days", _remind_arguments, _remind),
    "overdue": Subcommand("list what is overdue", _overdue_arguments, _overdue),
    "programme": Subcommand("load (or reload) the programme from its data files", _programme_arguments, _programme),
}


class Command(BaseCommand):
    help = "Pilot governance jobs: " + ", ".join(SUBCOMMANDS) + "."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="subcommand")
        for name, spec in SUBCOMMANDS.items():
            spec.add_arguments(sub.add_parser(name, help=spec.help))

    def handle(self, *args, subcommand, **options):
        SUBCOMMANDS[subcommand].handle(self, **options)
