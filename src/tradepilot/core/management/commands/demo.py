"""`tradepilot demo`: a ready-to-click demo on SQLite under var/ — migrate, reference data, synthetic data, demo
users (password `demo`), lock due periods, then the development server.

Only in demo mode (`TRADEPILOT_MODE=demo`, which `tradepilot demo` sets): it creates well-known passwords.
Idempotent: data is generated only into a database without enterprises, and existing users are left alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction
from django.utils import translation

from tradepilot.core.demo_data import generate
from tradepilot.core.models import Agency, Profile, Region, Role
from tradepilot.core.reference import load_all
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting import workflow
from tradepilot.reporting.models import Report, ReportForm, Status
from tradepilot.reporting.periods import latest_closed_period
from tradepilot.reporting.setup import load_defaults
from tradepilot.reporting.workflow import lock_due_reports

PASSWORD = "demo"
DEFAULT_PORT = 8000

#: username, role, region code, agency code, superuser, what the account shows.
STAFF_USERS = [
    ("ministry", Role.MINISTRY, None, None, True, "everything; overdue pilot tasks and 督办 notices, evaluation; admin"),
    ("bureau-beijing", Role.BUREAU, "110000", None, False, "Beijing; approval is final (single level)"),
    ("bureau-hangzhou", Role.BUREAU, "330100", None, False, "Hangzhou; first-level approval; files the pilot area's progress"),
    ("bureau-zhejiang", Role.BUREAU, "330000", None, False, "Zhejiang; accepts what Hangzhou approved"),
    ("auditor", Role.AUDITOR, None, None, False, "the audit log, read-only"),
    ("agency-customs", Role.AGENCY, None, "GACC", False, "national aggregates (GACC); confirms co-owned pilot tasks"),
]
ENTERPRISE_USER = "enterprise-demo"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def box(lines: list[str]) -> str:
    inner = max(_width(line) for line in lines)
    out = ["┌" + "─" * (inner + 2) + "┐"]
    out += [f"│ {_pad(line, inner)} │" for line in lines]
    out.append("└" + "─" * (inner + 2) + "┘")
    return "\n".join(out)


def table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(_width(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _ensure_user(username: str, role: str, *, region: str | None = None, agency: str | None = None,
                 superuser: bool = False):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"email": f"{username}@demo.example.cn", "is_staff": superuser, "is_superuser": superuser},
    )
    if created:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    profile, _ = Profile.objects.get_or_create(
        user=user,
        defaults={
            "role": role,
            "region": Region.objects.get(code=region) if region else None,
            "agency": Agency.objects.get(code=agency) if agency else None,
        },
    )
    return user, profile


def _latest_reports(enterprises) -> dict[int, Report]:
    period = latest_closed_period()
    return {
        r.enterprise_id: r
        for r in Report.objects.filter(enterprise__in=enterprises, form__code=ReportForm.Code.MONTHLY,
                                       year=period.year, month=period.month, is_current=True)
    }


def _todo_rank(report: Report | None) -> int:
    """How well a report suits "fill it in and submit it": a draft with lines, not started, an empty draft,
    returned; the rest would first have to be returned or revised."""
    if report is None:
        return 1
    if report.status == Status.DRAFT:
        return 0 if report.content_hash else 2
    order = [Status.RETURNED, Status.SUBMITTED, Status.APPROVED, Status.ACCEPTED, Status.LOCKED]
    return 3 + order.index(report.status) if report.status in order else 9


def pick_demo_enterprises() -> list[Enterprise]:
    """Two Beijing key-contact enterprises for `enterprise-demo`: the first with its latest-period report still
    to do (see `_todo_rank`), the second preferably with a returned report."""
    beijing = Region.objects.filter(code="110000").first()
    if beijing is None:
        return []
    candidates = list(Enterprise.objects.key_contacts().filter(region__path__startswith=beijing.path).order_by("uscc"))
    if not candidates:
        return []
    reports = _latest_reports(candidates)
    chosen = min(candidates, key=lambda e: _todo_rank(reports.get(e.pk)))
    others = [e for e in candidates if e != chosen]
    returned = [e for e in others if _todo_rank(reports.get(e.pk)) == 3]
    return [chosen] + (returned or others)[:1]


def make_report_to_file(enterprise: Enterprise, user) -> str:
    """Make sure the latest-period report of `enterprise` can be filled in and submitted by `user`: when it was
    already submitted the Beijing bureau returns it, when accepted the user opens a revision — through the
    workflow, so it is audited like any other action. Returns what was done."""
    report = _latest_reports([enterprise]).get(enterprise.pk)
    if report is None or report.status in (Status.DRAFT, Status.RETURNED):
        return ""
    User = get_user_model()
    reviewer = User.objects.filter(username="bureau-beijing").first()
    if reviewer is None or not workflow.can_approve(reviewer, report):
        reviewer = User.objects.get(username="ministry")
    if report.status in (Status.SUBMITTED, Status.APPROVED):
        workflow.return_report(report, reviewer, "演示：请核对第1行的伙伴国家（地区）后重新提交。")
        return "returned"
    if report.status in (Status.ACCEPTED, Status.LOCKED):
        try:
            workflow.revise(report, user, "演示：更正本月数据。")
        except workflow.ReportError:  # the period has locked
            return ""
        return "revised"
    return ""


class Command(BaseCommand):
    help = ("Prepare the demo (migrate, reference data, synthetic data, demo users with password 'demo') and run "
            "the development server. Demo mode only.")
    # The var/ directory, and so the SQLite file, may not exist yet: checks run inside migrate, after it is made.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help=f"port (default: $PORT, else {DEFAULT_PORT})")
        parser.add_argument("--no-serve", action="store_true", help="prepare the database only")
        parser.add_argument("--enterprises", type=int, default=300, help="enterprises to generate (default 300)")
        parser.add_argument("--months", type=int, default=24, help="months of reports (default 24)")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")

    def handle(self, *args, **options):
        if not getattr(settings, "DEMO_MODE", False):
            raise CommandError("tradepilot demo creates accounts with the password 'demo' and runs only in demo mode "
                               "(TRADEPILOT_MODE=demo).")
        port = self._port(options["port"])
        start = time.monotonic()
        self._ensure_dirs()

        self.stdout.write("Migrating the database …")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Loading reference data and report forms …")
        load_all()
        load_defaults()

        # Reviewers first, so that the generated approvals name them.
        accounts = [(u, r, d) for u, r, _reg, _ag, _su, d in STAFF_USERS]
        with transaction.atomic():
            for username, role, region, agency, superuser, _desc in STAFF_USERS:
                _ensure_user(username, role, region=region, agency=agency, superuser=superuser)

        if not Enterprise.objects.exists():
            self.stdout.write(f"Generating {options['enterprises']} enterprises × {options['months']} months of "
                              "reports …")
            t = time.monotonic()
            counts = generate(options["enterprises"], options["months"], options["seed"])
            self.stdout.write(f"  {counts['enterprises']} enterprises, {counts['reports']} reports, "
                              f"{counts['lines']} lines in {time.monotonic() - t:.1f} s")
        else:
            self.stdout.write("The database already has enterprises: no data generated.")

        names = self._ensure_enterprise_user()
        locked = lock_due_reports()
        self.stdout.write("Building the analytics store …")
        from tradepilot.analytics.store import rebuild

        totals = rebuild()
        self.stdout.write(f"  {sum(totals.values()):,} fact rows.")
        self.stdout.write("Pilot governance: work plans, progress, measures, results, evaluation, early warning …")
        from tradepilot.governance.demo import build_all

        for summary in build_all():
            self.stdout.write(f"  {summary}")
        self.stdout.write(f"Locked {locked} report{'s' if locked != 1 else ''} whose period has passed its lock "
                          f"date. Ready in {time.monotonic() - start:.1f} s.")

        period = latest_closed_period()
        accounts.insert(4, (ENTERPRISE_USER, Role.ENTERPRISE,
                            f"{len(names)} Beijing enterprise{'s' if len(names) != 1 else ''}; {period} report to file" if names
                            else "no enterprise linked"))
        with translation.override("en"):
            rows = [("username", "password", "role", "sees")]
            rows += [(u, PASSWORD, str(Role(r).label), d) for u, r, d in accounts]
        url = f"http://127.0.0.1:{port}/"
        lines = [f"Trade Pilot demo: {url}", ""] + table(rows)
        if names:
            lines += ["", f"{ENTERPRISE_USER} files for: " + names[0] + (f" (and {names[1]})" if len(names) > 1 else "")]
        lines += ["", f"Pilot governance: {url}governance/ (programme, tasks and progress, measures, results, "
                  "experiences, evaluation, early warning)"]
        self.stdout.write(box(lines))

        if options["no_serve"]:
            return
        workers = [self._start_worker("default"), self._start_worker("publication")]
        # SIGTERM (e.g. from a process manager) ends the server through SystemExit, so the workers stop too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, insecure_serving=True)
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=10)

    def _start_worker(self, queue: str) -> subprocess.Popen:
        """A background task worker beside the development server: "default" refreshes analytics after
        approvals, "publication" prepares the protected SDMX cubes."""
        self.stdout.write(f"Starting the background task worker for the {queue!r} queue …")
        return subprocess.Popen([sys.executable, "-m", "tradepilot.cli", "db_worker", "--queue-name", queue,
                                 "--interval", "0.5", "--no-startup-delay", "--no-reload"],
                                env={**os.environ, "TRADEPILOT_MODE": "demo"})

    def _port(self, value: int | None) -> int:
        if value is None:
            raw = os.environ.get("PORT", "").strip()
            try:
                value = int(raw) if raw else DEFAULT_PORT
            except ValueError:
                raise CommandError(f"PORT={raw!r} is not a port number.") from None
        if not 0 < value < 65536:
            raise CommandError(f"{value} is not a port number.")
        return value

    def _ensure_dirs(self) -> None:
        Path(settings.VAR_DIR).mkdir(parents=True, exist_ok=True)
        db = connections["default"].settings_dict
        if db["ENGINE"] == "django.db.backends.sqlite3" and str(db["NAME"]) not in ("", ":memory:") \
                and not str(db["NAME"]).startswith("file:"):
            Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True)

    @transaction.atomic
    def _ensure_enterprise_user(self) -> list[str]:
        user, profile = _ensure_user(ENTERPRISE_USER, Role.ENTERPRISE)
        linked = list(profile.enterprises.order_by("uscc"))
        if linked:  # the one with the latest report still to file first
            period = latest_closed_period()
            done = set(Report.objects.filter(enterprise__in=linked, year=period.year, month=period.month,
                                             is_current=True, submitted_at__isnull=False)
                       .values_list("enterprise_id", flat=True))
            linked.sort(key=lambda e: e.pk in done)
        else:
            linked = pick_demo_enterprises()
            profile.enterprises.set(linked)
            # Their past submissions were made by this user.
            Report.objects.filter(enterprise__in=linked, submitted_at__isnull=False, submitted_by__isnull=True) \
                .update(submitted_by=user)
            if linked:
                make_report_to_file(linked[0], user)
        return [e.name for e in linked]
