"""`tradepilot governance <subcommand>`: pilot-governance jobs run from the command line or cron.

A dispatcher: each subcommand is a `Subcommand` in `SUBCOMMANDS` (its arguments and its handler), so the parts of
the governance app add theirs here without touching the others'.

- `remind [--today YYYY-MM-DD] [--days 14]`: notify each area's bureau of deadlines within the next days (work plan,
  area tasks, quarterly progress, supervision-notice replies); a reminder already sent today is not sent again.
- `overdue [--today YYYY-MM-DD] [--area REGION] [--kind KIND]`: list what is overdue (governance.overdue).
- `programme [--round CODE] [--file PATH]`: load the programme (governance.programme; idempotent).
- `scan [--round CODE] [--month YYYY-MM]`: the early-warning scan of one month (default: the latest month with
  data); the analytics worker also runs it after each refresh of a month of lines.
- `evaluate --year YYYY --user USERNAME [--round CODE]`: an annual evaluation run of the round's default indicator
  system, recorded as run by that (ministry) user.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
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
    from tradepilot.governance.common import today as local_today
    from tradepilot.governance.overdue import send_reminders, upcoming

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
    from tradepilot.governance.common import today as local_today
    from tradepilot.governance.models import AreaTask, SupervisionNotice
    from tradepilot.governance.overdue import overdue_in

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


# --- early warning: scan ---------------------------------------------------------------------------------------

def _scan_arguments(parser) -> None:
    parser.add_argument("--round", help="the pilot round's code (default: the newest round with areas)")
    parser.add_argument("--month", help="the month to scan, YYYY-MM (default: the latest month with data)")


def _scan(command: BaseCommand, round=None, month=None, **options) -> None:
    from tradepilot.governance.early_warning import latest_month, pick_round, scan
    from tradepilot.governance.warning_kinds import WarningError

    rnd = pick_round(round)
    if rnd is None or (round and rnd.code != round):
        raise CommandError(f"--round: no pilot round {round!r} with areas." if round else "No pilot round has areas.")
    if month:
        try:
            year, mm = (int(part) for part in month.split("-"))
        except ValueError:
            raise CommandError(f"--month: '{month}' is not a month (YYYY-MM).") from None
    else:
        period = latest_month()
        if period is None:
            command.stdout.write("No month has data: nothing to scan.")
            return
        year, mm = divmod(period, 100)
    try:
        alerts = scan(rnd, year, mm)
    except WarningError as exc:
        raise CommandError("; ".join(e["message"] for e in exc.errors)) from None
    levels = {}
    for alert in alerts:
        levels[alert.level] = levels.get(alert.level, 0) + 1
    summary = ", ".join(f"{level}: {n}" for level, n in sorted(levels.items())) or "none"
    command.stdout.write(f"{year}-{mm:02d}: {len(alerts)} alert(s) at or above a threshold ({summary}).")


# --- evaluation: evaluate ----------------------------------------------------------------------------------------

def _evaluate_arguments(parser) -> None:
    parser.add_argument("--year", type=int, required=True, help="the year to evaluate")
    parser.add_argument("--user", required=True, help="the ministry user the run is recorded for")
    parser.add_argument("--round", help="the pilot round's code (default: the newest round with areas)")


def _evaluate(command: BaseCommand, year, user, round=None, **options) -> None:
    from django.contrib.auth import get_user_model

    from tradepilot.governance.early_warning import pick_round
    from tradepilot.governance.evaluation import EvaluationError, ensure_default_system, run_evaluation

    rnd = pick_round(round)
    if rnd is None or (round and rnd.code != round):
        raise CommandError(f"--round: no pilot round {round!r} with areas." if round else "No pilot round has areas.")
    actor = get_user_model().objects.filter(username=user).first()
    if actor is None:
        raise CommandError(f"--user: no user {user!r}.")
    try:
        run = run_evaluation(ensure_default_system(rnd), year, actor)
    except EvaluationError as exc:
        raise CommandError("; ".join([str(exc)] + [e.get("message", "") for e in exc.errors])) from None
    except PermissionDenied:
        raise CommandError(f"--user: {user} may not run evaluations (the ministry does).") from None
    for result in run.results.select_related("area").order_by("rank"):
        command.stdout.write(f"{result.rank:3} {result.area.name_zh:10} {result.total}")


SUBCOMMANDS: dict[str, Subcommand] = {
    "remind": Subcommand("remind the bureaus of deadlines in the next days", _remind_arguments, _remind),
    "overdue": Subcommand("list what is overdue", _overdue_arguments, _overdue),
    "programme": Subcommand("load (or reload) the programme from its data files", _programme_arguments, _programme),
    "scan": Subcommand("run the early-warning scan of a month", _scan_arguments, _scan),
    "evaluate": Subcommand("run the annual performance evaluation", _evaluate_arguments, _evaluate),
}


class Command(BaseCommand):
    help = "Pilot governance jobs: " + ", ".join(SUBCOMMANDS) + "."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="subcommand")
        for name, spec in SUBCOMMANDS.items():
            spec.add_arguments(sub.add_parser(name, help=spec.help))

    def handle(self, *args, subcommand, **options):
        SUBCOMMANDS[subcommand].handle(self, **options)
