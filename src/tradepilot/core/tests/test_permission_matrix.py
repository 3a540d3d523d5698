"""The permission matrix: every page URL and every API operation × every role, against a literal table.

The project rule: which rows a user may see is decided in one place (`core.scoping`); an enterprise never sees
another's data, a bureau sees only its region, and an object outside the scope answers 404. This module checks
that rule from the outside, through HTTP, for everything the application routes:

- `WEB` lists every Django URL (walked from the resolver; admin, i18n, static and the API operations are left out)
  as "METHOD namespace:name", with a "[variant]" where one URL does several things (the report page's actions).
- `API` lists every operation of `tradepilot.api.api` as "METHOD /path" (from the OpenAPI schema).
- `test_every_url_has_a_matrix_row` / `test_every_api_operation_has_a_matrix_row` fail when a URL or an operation
  is added without a row (or a row is left behind for one that was removed).
- `test_cell` runs one request per (row, role), each in a fresh database state (the `world` fixture is
  function-scoped and rolled back after each test), so state-changing operations do not leak into one another.

Operations on a specific object target the Beijing enterprise `bj` or its report, owned by `ent_bj`; `ent_bj2`
is another Beijing enterprise's user, `bureau_hz` / `bureau_zj` are bureaus of another region, so the table shows
who gets 404.

Outcome classes:

- ``ok``      2xx, or a redirect (other than an anonymous user's redirect to the login page); where a page answers a
              refused action with a redirect or a re-rendered form plus a message, the cell also checks the effect
              in the database and counts "nothing happened" as ``denied`` (or ``missing`` when the message says
              the target was not found);
- ``denied``  401/403, or an anonymous user redirected to the login page;
- ``missing`` 404, the object is outside the user's scope (or does not exist for them). For bulk operations
              (bulk approve, reminders, imports) that answer 200 per item, ``missing`` means the out-of-scope
              target was reported "not found" / "unknown enterprise" or left untouched;
- ``bad``     400/409/422: allowed to try but invalid in that state (used sparingly);
- ``error``   5xx: never expected.

A cell that shows an application bug keeps its *correct* expectation, wrapped in `Bug(...)`, which marks it
`xfail(strict=True)` until the application is fixed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from tradepilot.api import api as ninja_api
from tradepilot.core.models import AuditLog, Notification
from tradepilot.core.notifications import notify
from tradepilot.core.tokens import issue_token
from tradepilot.enterprises.models import Enterprise
from tradepilot.enterprises.uscc import make_uscc
from tradepilot.reporting import imports, services, workflow
from tradepilot.reporting.models import ExchangeRate, ImportBatch, Report, Status
from tradepilot.reporting.periods import Period

ROLES = ("anonymous", "ministry", "auditor", "agency", "bureau_bj", "bureau_hz", "bureau_zj", "ent_bj", "ent_bj2")
O, D, M, B = "ok", "denied", "missing", "bad"  # noqa: E741 - one letter keeps the table readable
CLASSES = {O, D, M, B}

TODAY = dt.date(2026, 10, 25)
PERIOD = "2026-10"  # open on TODAY: due 2026-11-10, locks 2026-11-30
ANNUAL_YEAR = "2026"  # the annual forms of 2026 are due in 2027, so open on TODAY
API_ROOT = "/api/v1"
RATES = {"USD": "7.10000000", "EUR": "7.70000000", "JPY": "0.04800000", "HKD": "0.91000000"}


@dataclass(frozen=True)
class Bug:
    """A cell where the application is wrong today: `expected` is the correct outcome; the cell is a strict xfail."""

    expected: str
    reason: str


# --- the expectation table ---------------------------------------------------------------------------------------
# Columns: anonymous, ministry, auditor, agency, bureau_bj, bureau_hz, bureau_zj, ent_bj (own), ent_bj2 (other).

WEB: dict[str, tuple] = {
    #                                     anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
    "GET home":                           (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET login":                          (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "POST logout":                        (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET core:notifications":             (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "POST core:notifications":            (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET core:audit_log":                 (D,  O,       O,      D,     D,     D,     D,     D,     D),
    "GET enterprises:list":               (D,  O,       O,      D,     O,     O,     O,     D,     D),
    "GET enterprises:register":           (D,  O,       D,      D,     O,     O,     O,     D,     D),
    # register an enterprise in Beijing: only the ministry and the Beijing bureau may
    "POST enterprises:register":          (D,  O,       D,      D,     O,     D,     D,     D,     D),
    "GET enterprises:detail":             (D,  O,       O,      M,     O,     M,     M,     O,     M),
    # deactivate bj
    "POST enterprises:detail":            (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "GET enterprises:edit":               (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST enterprises:edit":              (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "GET reporting:my_reports":           (D,  D,       D,      D,     D,     D,     D,     O,     O),
    # open bj's report for PERIOD: the role check (enterprise users only) comes before the scope check
    "POST reporting:open_report":         (D,  D,       D,      D,     D,     D,     D,     O,     M),
    "GET reporting:report":               (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "POST reporting:report [save]":       (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "POST reporting:report [submit]":     (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "POST reporting:report [approve]":    (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST reporting:report [accept]":     (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST reporting:report [return]":     (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST reporting:report [revise]":     (D,  D,       D,      M,     D,     M,     M,     O,     M),
    # the same URL serves the annual forms (bj's basic registration for ANNUAL_YEAR)
    "GET reporting:report [annual]":      (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "POST reporting:report [annual save]": (D, D,       D,      M,     D,     M,     M,     O,     M),
    "GET reporting:report_export":        (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "GET reporting:workbench":            (D,  O,       O,      D,     O,     O,     O,     D,     D),
    "POST reporting:bulk_approve":        (D,  O,       D,      D,     O,     M,     M,     D,     D),
    "GET reporting:completeness":         (D,  O,       O,      O,     O,     O,     O,     D,     D),
    # remind Beijing's non-reporters: another region's bureau reaches nobody there
    "POST reporting:remind":              (D,  O,       D,      D,     O,     M,     M,     D,     D),
    "GET reporting:ministry_overview":    (D,  O,       O,      O,     D,     D,     D,     D,     D),
    "GET reporting:rates":                (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "POST reporting:rates":               (D,  O,       D,      D,     D,     D,     D,     D,     D),
    "GET reporting:import_upload":        (D,  O,       O,      O,     O,     O,     O,     O,     O),
    # upload a file with a row for bj: bureaus and the ministry may import for enterprises in their scope
    "POST reporting:import_upload":       (D,  O,       D,      D,     O,     M,     M,     O,     M),
    # ent_bj's own import batch: nobody else's, whatever their role
    "GET reporting:import_preview":       (D,  M,       M,      M,     M,     M,     M,     O,     M),
    "POST reporting:import_preview":      (D,  M,       M,      M,     M,     M,     M,     O,     M),
    "GET reporting:template":             (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET reporting:form_template":        (D,  O,       O,      O,     O,     O,     O,     O,     O),
    # dashboards drilled down to Beijing: bureaus of other regions get 404; enterprises have no dashboards
    "GET analytics:dashboard":            (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "GET analytics:download":             (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "GET analytics:indicators":           (D,  O,       O,      O,     O,     O,     O,     D,     D),
    "GET analytics:bulletin":             (D,  O,       O,      O,     O,     M,     M,     D,     D),
    # the anomaly list is for reviewers (each bureau within its region)
    "GET analytics:anomalies":            (D,  O,       O,      D,     O,     O,     O,     D,     D),
    # SDMX 2.1 structure paths (/sdmx/dataflow/..., /sdmx/codelist/...) that SDMX clients use; public, outside the
    # OpenAPI schema (the same queries are documented under /sdmx/structure/...)
    "GET api:by_type":                    (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET api:by_agency":                  (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET api:by_id":                      (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET api:by_version":                 (O,  O,       O,      O,     O,     O,     O,     O,     O),
    # the API's own pages (not operations): the schema and docs are public; the root is a 404 placeholder
    "GET api:openapi-json":               (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET api:openapi-view":               (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET api:api-root":                   (M,  M,       M,      M,     M,     M,     M,     M,     M),
}

API: dict[str, tuple] = {
    #                                           anon ministry auditor agency bur_bj bur_hz bur_zj ent_bj ent_bj2
    "GET /reference/regions":                   (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reference/pilot-areas":               (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reference/ebops":                     (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reference/countries":                 (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reference/currencies":                (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reference/modes":                     (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reference/industries":                (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reference/agencies":                  (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /me":                                  (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /notifications":                       (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /audit-log":                           (D,  O,       O,      D,     D,     D,     D,     D,     D),
    "GET /enterprises":                         (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "POST /enterprises":                        (D,  O,       D,      D,     O,     D,     D,     D,     D),
    "GET /enterprises/{enterprise_id}":         (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "PATCH /enterprises/{enterprise_id}":       (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST /enterprises/{enterprise_id}/active": (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST /enterprises/validate-uscc":          (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /reports":                             (D,  O,       O,      O,     O,     O,     O,     O,     O),
    # open bj's report: only its own users; a national role is refused, an out-of-scope one gets 404
    "POST /reports":                            (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "GET /reports/{report_id}":                 (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "PUT /reports/{report_id}/lines":           (D,  D,       D,      M,     D,     M,     M,     O,     M),
    # the annual forms' content (bj's annual reports for ANNUAL_YEAR)
    "PUT /reports/{report_id}/basic":           (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "PUT /reports/{report_id}/fats-inward":     (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "PUT /reports/{report_id}/fats-outward":    (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "POST /reports/{report_id}/validate":       (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "POST /reports/{report_id}/explanations":   (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "POST /reports/{report_id}/submit":         (D,  D,       D,      M,     D,     M,     M,     O,     M),
    "POST /reports/{report_id}/approve":        (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST /reports/{report_id}/accept":         (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST /reports/{report_id}/return":         (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "POST /reports/{report_id}/revise":         (D,  D,       D,      M,     D,     M,     M,     O,     M),
    # per-report results: "Not found." for a report outside the scope
    "POST /reports/bulk-approve":               (D,  O,       D,      M,     O,     M,     M,     D,     M),
    "GET /reports/{report_id}/history":         (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "GET /reports/{report_id}/changes":         (D,  O,       O,      M,     O,     M,     M,     O,     M),
    "POST /imports":                            (D,  O,       D,      D,     O,     M,     M,     O,     M),
    "GET /imports/{batch_id}":                  (D,  M,       M,      M,     M,     M,     M,     O,     M),
    "POST /imports/{batch_id}/commit":          (D,  M,       M,      M,     M,     M,     M,     O,     M),
    "GET /exchange-rates":                      (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "POST /exchange-rates/upload":              (D,  O,       D,      D,     D,     D,     D,     D,     D),
    "GET /completeness":                        (D,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /completeness/non-reporters":          (D,  O,       O,      D,     O,     O,     O,     O,     O),
    "POST /completeness/remind":                (D,  O,       D,      D,     O,     M,     M,     D,     D),
    "GET /analytics/indicators":                (D,  O,       O,      O,     O,     O,     O,     D,     D),
    # drilled down to Beijing, as the dashboard rows
    "GET /analytics/headline":                  (D,  O,       O,      O,     O,     M,     M,     D,     D),
    "GET /analytics/panels/{name}":             (D,  O,       O,      O,     O,     M,     M,     D,     D),
    # SDMX publication: public, every value protected; the matrix world has no approved trade, and SDMX REST
    # answers "no results" with 404 (the data itself is tested in analytics/tests/test_sdmx.py)
    "GET /sdmx/data/{flow}":                    (M,  M,       M,      M,     M,     M,     M,     M,     M),
    "GET /sdmx/data/{flow}/{key}":              (M,  M,       M,      M,     M,     M,     M,     M,     M),
    "GET /sdmx/structure/{resource}":           (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /sdmx/structure/{resource}/{agency}":  (O,  O,       O,      O,     O,     O,     O,     O,     O),
    "GET /sdmx/structure/{resource}/{agency}/{resource_id}": (O, O, O, O,   O,     O,     O,     O,     O),
    "GET /sdmx/structure/{resource}/{agency}/{resource_id}/{version}": (O, O, O, O, O, O,  O,     O,     O),
    # role check (bureaus, ministry) before the scope check
    "POST /lock-exceptions":                    (D,  O,       D,      D,     O,     M,     M,     D,     D),
}


# --- the world each cell runs in ---------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    """Keep PERIOD open whatever the real date (the reporting clock is `periods.today`)."""
    monkeypatch.setattr("tradepilot.reporting.periods.today", lambda: TODAY)


@pytest.fixture(scope="module")
def reference_once(django_db_setup, django_db_blocker):
    """Reference data and exchange rates, loaded once for this module inside a transaction rolled back at its end.

    Each test still runs in its own (nested) transaction, rolled back after it, with a fresh `world`; loading the
    reference data (and 180 rates) for each of the ~800 tests would double the module's runtime.
    """
    from tradepilot.core.models import Currency
    from tradepilot.core.reference import load_all
    from tradepilot.reporting.setup import load_defaults
    from tradepilot.testing.shared_data import module_transaction

    with module_transaction(django_db_blocker):
        load_all()
        load_defaults()
        from tradepilot.governance.programme import load_programme

        load_programme()
        currencies = {c.code: c for c in Currency.objects.filter(code__in=RATES)}
        ExchangeRate.objects.bulk_create(
            ExchangeRate(currency=currencies[code], year=y, month=m, cny_per_unit=rate)
            for code, rate in RATES.items() for y in (2025, 2026) for m in range(1, 13)
        )
        yield


@pytest.fixture
def reference(reference_once, db):
    """Overrides the conftest fixture for this module (`world` depends on it): already loaded."""


@pytest.fixture
def rates(reference):
    """Overrides the conftest fixture for this module: already loaded."""


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def import_csv(enterprise: Enterprise) -> SimpleUploadedFile:
    content = ("uscc,period,direction,service,partner,mode,related_party,amount,currency,note\n"
               f"{enterprise.uscc},{PERIOD},X,SI2,US,1,N,1000,USD,\n")
    return SimpleUploadedFile("lines.csv", content.encode(), content_type="text/csv")


def rates_csv() -> SimpleUploadedFile:
    return SimpleUploadedFile("rates.csv", f"period,currency,rate,units\n{PERIOD},USD,7.2,1\n".encode(),
                              content_type="text/csv")


class Ctx:
    """One cell: the world, the acting role, and the target objects (bj's report in draft, as a nil return)."""

    def __init__(self, world, role: str):
        self.w = world
        self.role = role
        self.user = None if role == "anonymous" else getattr(world, role)
        self.form = services.monthly_form()
        self.period = Period.parse(PERIOD)
        self.bj_report = self._draft(world.bj, world.ent_bj, nil_return=True)
        self.hz_report = self._draft(world.hz, world.ent_hz)
        self.note = notify(world.ent_bj, "matrix notification")
        self.batch: ImportBatch | None = None
        self._gov = None

    @property
    def gov(self):
        """Governance targets (Beijing's and Hangzhou's pilot areas, area tasks …), made on first use."""
        if self._gov is None:
            from tradepilot.governance.tests.matrix_world import GovTargets

            self._gov = GovTargets(self)
        return self._gov

    def _draft(self, enterprise, owner, nil_return=False) -> Report:
        report, _ = services.get_or_create_report(enterprise, self.form, self.period, owner)
        if nil_return:
            services.replace_lines(report, [], owner, nil_return=True)
        return Report.objects.get(pk=report.pk)

    # states of bj's report

    def refresh(self) -> Report:
        self.bj_report = Report.objects.select_related("enterprise__region", "form").get(pk=self.bj_report.pk)
        return self.bj_report

    def submitted(self) -> None:
        workflow.submit(self.bj_report, self.w.ent_bj)
        self.refresh()

    def approved(self) -> None:
        """Beijing is single-level (approval is acceptance), so the approved state is set directly."""
        self.submitted()
        Report.objects.filter(pk=self.bj_report.pk).update(status=Status.APPROVED, approved_at=timezone.now(),
                                                           approved_by=self.w.bureau_bj)
        self.refresh()

    def accepted(self) -> None:
        self.submitted()
        workflow.approve(self.bj_report, self.w.bureau_bj)
        assert self.refresh().status == Status.ACCEPTED

    def annual(self, form_code: str) -> None:
        """Make bj's annual report of `form_code` the target (instead of the monthly one)."""
        from tradepilot.reporting.models import ReportForm

        form = ReportForm.objects.get(code=form_code)
        report, _ = services.get_or_create_report(self.w.bj, form, Period.parse(ANNUAL_YEAR), self.w.ent_bj)
        self.bj_report = report

    def with_batch(self) -> None:
        """ent_bj's previewed import batch for bj."""
        self.batch = imports.store_upload(import_csv(self.w.bj), self.w.ent_bj, "monthly")
        imports.dry_run(self.batch, self.w.ent_bj)
        self.batch.refresh_from_db()
        assert self.batch.state == ImportBatch.State.PREVIEWED, self.batch.errors

    # clients

    def web(self) -> Client:
        client = Client(raise_request_exception=False)
        if self.user is not None:
            client.force_login(self.user)
        return client

    def api(self, method: str, path: str, data=None, *, files: dict | None = None) -> HttpResponse:
        client = Client(raise_request_exception=False)
        headers = {"Authorization": f"Bearer {issue_token(self.user)}"} if self.user is not None else {}
        url = API_ROOT + path
        if files is not None:
            return client.post(url, files, headers=headers)
        if method == "GET":
            return client.get(url, data or {}, headers=headers)
        return getattr(client, method.lower())(url, data or {}, content_type="application/json", headers=headers)


# --- how each row is exercised -----------------------------------------------------------------------------------

def _nothing(ctx: Ctx) -> None:
    return None


@dataclass
class Op:
    request: Callable[[Ctx], HttpResponse]
    prepare: Callable[[Ctx], None] = _nothing
    # Refines an "ok" HTTP answer by what actually happened (see the module docstring).
    judge: Callable[[Ctx, HttpResponse], str] | None = None
    # The judge also reads 4xx answers whose body tells "not yours" from "invalid" (the import dry run).
    judge_bad: bool = False
    # The page redirects to the login page by design (logout): a redirect is "ok" even for anonymous users.
    public_redirect: bool = False


def not_found_texts() -> set[str]:
    """The workflow's "Not found." as the user reads it: requests are answered in LANGUAGE_CODE by default."""
    with translation.override(settings.LANGUAGE_CODE):
        return {"Not found.", gettext("Not found.")}


def messages_of(response) -> list[str]:
    request = getattr(response, "wsgi_request", None)
    return [str(m) for m in get_messages(request)] if request is not None else []


def effect(happened: Callable[[Ctx], bool]) -> Callable[[Ctx, HttpResponse], str]:
    def judge(ctx: Ctx, response) -> str:
        if happened(ctx):
            return O
        texts = not_found_texts()
        return M if any(t in m for m in messages_of(response) for t in texts) else D

    return judge


def reminded_ent_bj(ctx: Ctx, response) -> str:
    """ent_bj has a reminder (besides the fixture's notification): Beijing's non-reporters were reached."""
    return O if Notification.objects.filter(user=ctx.w.ent_bj).exclude(pk=ctx.note.pk).exists() else M


def judge_import_batch(ctx: Ctx, response) -> str:
    batch = ImportBatch.objects.filter(user=ctx.user).order_by("-pk").first() if ctx.user else None
    if batch is None:
        return D
    if batch.state == ImportBatch.State.PREVIEWED:
        return O
    return M if any(e.get("code") == "unknown_enterprise" for e in batch.errors) else B


def judge_import_api(ctx: Ctx, response) -> str:
    if response.status_code not in (200, 400):
        return http_class(response, anonymous=False, public_redirect=False)
    body = response.json()
    if body["ok"]:
        return O
    return M if any(e.get("code") == "unknown_enterprise" for e in body["errors"]) else B


def judge_bulk_api(ctx: Ctx, response) -> str:
    (result,) = [r for r in response.json() if r["report_id"] == ctx.bj_report.pk]
    if result["ok"]:
        return O
    return M if result["message"] in not_found_texts() else D


def status_is(*statuses: str) -> Callable[[Ctx], bool]:
    return lambda ctx: ctx.refresh().status in statuses


def report_url(ctx: Ctx) -> str:
    return reverse("reporting:report", args=[ctx.bj_report.pk])


def enterprise_form(ctx: Ctx, **overrides) -> dict:
    data = {"uscc": "", "name": "矩阵测试企业", "name_en": "", "region": "110000", "industry": "",
            "registration_type": "domestic", "established": "", "address": "", "contact_name": "",
            "contact_phone": "", "contact_email": "", "key_contact_year": "2018", "systemic_year": "",
            "is_key_contact": "on", "reason": "matrix"}
    data.update(overrides)
    return data


NEW_USCC = make_uscc("110000", 99)
RENAMED = "北京矩阵改名有限公司"

WEB_OPS: dict[str, Op] = {
    "GET home": Op(lambda c: c.web().get(reverse("home"))),
    "GET login": Op(lambda c: c.web().get(reverse("login"))),
    "POST logout": Op(lambda c: c.web().post(reverse("logout")), public_redirect=True),
    "GET core:notifications": Op(lambda c: c.web().get(reverse("core:notifications"))),
    "POST core:notifications": Op(lambda c: c.web().post(reverse("core:notifications"))),
    "GET core:audit_log": Op(lambda c: c.web().get(reverse("core:audit_log"))),
    "GET enterprises:list": Op(lambda c: c.web().get(reverse("enterprises:list"))),
    "GET enterprises:register": Op(lambda c: c.web().get(reverse("enterprises:register"))),
    "POST enterprises:register": Op(
        lambda c: c.web().post(reverse("enterprises:register"), enterprise_form(c, uscc=NEW_USCC)),
        judge=effect(lambda c: Enterprise.objects.filter(uscc=NEW_USCC).exists())),
    "GET enterprises:detail": Op(lambda c: c.web().get(reverse("enterprises:detail", args=[c.w.bj.pk]))),
    "POST enterprises:detail": Op(
        lambda c: c.web().post(reverse("enterprises:detail", args=[c.w.bj.pk]), {"active": "0", "reason": "matrix"}),
        judge=effect(lambda c: not Enterprise.objects.get(pk=c.w.bj.pk).is_active)),
    "GET enterprises:edit": Op(lambda c: c.web().get(reverse("enterprises:edit", args=[c.w.bj.pk]))),
    "POST enterprises:edit": Op(
        lambda c: c.web().post(reverse("enterprises:edit", args=[c.w.bj.pk]), enterprise_form(c, name=RENAMED)),
        judge=effect(lambda c: Enterprise.objects.get(pk=c.w.bj.pk).name == RENAMED)),
    "GET reporting:my_reports": Op(lambda c: c.web().get(reverse("reporting:my_reports"))),
    "POST reporting:open_report": Op(
        lambda c: c.web().post(reverse("reporting:open_report"), {"enterprise": c.w.bj.pk, "period": PERIOD})),
    "GET reporting:report": Op(lambda c: c.web().get(report_url(c))),
    "POST reporting:report [save]": Op(
        lambda c: c.web().post(report_url(c), {"action": "save"}),
        judge=effect(lambda c: not c.refresh().nil_return)),
    "POST reporting:report [submit]": Op(
        lambda c: c.web().post(report_url(c), {"action": "submit", "nil_return": "on"}),
        judge=effect(status_is(Status.SUBMITTED))),
    "POST reporting:report [approve]": Op(
        lambda c: c.web().post(report_url(c), {"action": "approve"}), prepare=Ctx.submitted,
        judge=effect(status_is(Status.APPROVED, Status.ACCEPTED))),
    "POST reporting:report [accept]": Op(
        lambda c: c.web().post(report_url(c), {"action": "accept"}), prepare=Ctx.approved,
        judge=effect(status_is(Status.ACCEPTED))),
    "POST reporting:report [return]": Op(
        lambda c: c.web().post(report_url(c), {"action": "return", "reason": "matrix"}), prepare=Ctx.submitted,
        judge=effect(status_is(Status.RETURNED))),
    "POST reporting:report [revise]": Op(
        lambda c: c.web().post(report_url(c), {"action": "revise", "reason": "matrix"}), prepare=Ctx.accepted,
        judge=effect(lambda c: Report.objects.filter(enterprise=c.w.bj, version=2).exists())),
    "GET reporting:report [annual]": Op(lambda c: c.web().get(report_url(c)), prepare=lambda c: c.annual("basic")),
    "POST reporting:report [annual save]": Op(
        lambda c: c.web().post(report_url(c), {"action": "save", "name": c.w.bj.name,
                                               "registration_type": "domestic", "employees": "10"}),
        prepare=lambda c: c.annual("basic"),
        judge=effect(lambda c: AuditLog.objects.filter(report=c.bj_report, action="update:basic").exists())),
    "GET reporting:report_export": Op(
        lambda c: c.web().get(reverse("reporting:report_export", args=[c.bj_report.pk, "csv"]))),
    "GET reporting:workbench": Op(lambda c: c.web().get(reverse("reporting:workbench"))),
    "POST reporting:bulk_approve": Op(
        lambda c: c.web().post(reverse("reporting:bulk_approve"), {"report": [c.bj_report.pk]}),
        prepare=Ctx.submitted, judge=effect(status_is(Status.ACCEPTED))),
    "GET reporting:completeness": Op(lambda c: c.web().get(reverse("reporting:completeness"), {"period": PERIOD})),
    "POST reporting:remind": Op(
        lambda c: c.web().post(reverse("reporting:remind"), {"period": PERIOD, "region": "110000"}),
        judge=reminded_ent_bj),
    "GET reporting:ministry_overview": Op(lambda c: c.web().get(reverse("reporting:ministry_overview"))),
    "GET analytics:dashboard": Op(lambda c: c.web().get(reverse("analytics:dashboard"), {"region": "110000"})),
    "GET analytics:download": Op(lambda c: c.web().get(reverse("analytics:download", args=["components", "csv"]),
                                                       {"region": "110000"})),
    "GET analytics:indicators": Op(lambda c: c.web().get(reverse("analytics:indicators"))),
    "GET analytics:bulletin": Op(lambda c: c.web().get(reverse("analytics:bulletin"), {"region": "110000"})),
    "GET analytics:anomalies": Op(lambda c: c.web().get(reverse("analytics:anomalies"))),
    "GET reporting:rates": Op(lambda c: c.web().get(reverse("reporting:rates"))),
    "POST reporting:rates": Op(
        lambda c: c.web().post(reverse("reporting:rates"), {"file": rates_csv()}),
        judge=effect(lambda c: ExchangeRate.objects.filter(currency__code="USD", year=2026, month=10,
                                                           cny_per_unit="7.2").exists())),
    "GET reporting:import_upload": Op(lambda c: c.web().get(reverse("reporting:import_upload"))),
    "POST reporting:import_upload": Op(
        lambda c: c.web().post(reverse("reporting:import_upload"), {"file": import_csv(c.w.bj)}),
        judge=judge_import_batch),
    "GET reporting:import_preview": Op(
        lambda c: c.web().get(reverse("reporting:import_preview", args=[c.batch.pk])), prepare=Ctx.with_batch),
    "POST reporting:import_preview": Op(
        lambda c: c.web().post(reverse("reporting:import_preview", args=[c.batch.pk])), prepare=Ctx.with_batch,
        judge=lambda c, r: O if ImportBatch.objects.get(pk=c.batch.pk).state == ImportBatch.State.COMMITTED else B),
    "GET reporting:template": Op(lambda c: c.web().get(reverse("reporting:template", args=["csv"]))),
    "GET reporting:form_template": Op(
        lambda c: c.web().get(reverse("reporting:form_template", args=["fats_in", "xlsx"]))),
    "GET api:by_type": Op(lambda c: c.web().get(f"{API_ROOT}/sdmx/codelist")),
    "GET api:by_agency": Op(lambda c: c.web().get(f"{API_ROOT}/sdmx/dataflow/all")),
    "GET api:by_id": Op(lambda c: c.web().get(f"{API_ROOT}/sdmx/datastructure/all/DSD_SERVICES_TRADE")),
    "GET api:by_version": Op(lambda c: c.web().get(f"{API_ROOT}/sdmx/datastructure/all/DSD_SERVICES_TRADE/latest")),
    "GET api:openapi-json": Op(lambda c: c.web().get(reverse("api:openapi-json"))),
    "GET api:openapi-view": Op(lambda c: c.web().get(reverse("api:openapi-view"))),
    "GET api:api-root": Op(lambda c: c.web().get(reverse("api:api-root"))),
}


FATS_IN = {
    "ultimate_parent_country": "DE", "activity": "65", "turnover": "52000.00", "services_sales": "30000",
    "services_sales_by_component": {"SI": "21000", "SJ": "9000"}, "employment": 420, "compensation": "8100.5",
    "value_added": "12500", "exports": "9800", "imports": "3100", "total_assets": "64000", "rd_expenditure": "2300",
}


def rid(c: Ctx) -> int:
    return c.bj_report.pk


API_OPS: dict[str, Op] = {
    **{f"GET /reference/{name}": Op(lambda c, name=name: c.api("GET", f"/reference/{name}"))
       for name in ("regions", "pilot-areas", "ebops", "countries", "currencies", "modes", "industries", "agencies")},
    "GET /me": Op(lambda c: c.api("GET", "/me")),
    "GET /notifications": Op(lambda c: c.api("GET", "/notifications")),
    "GET /audit-log": Op(lambda c: c.api("GET", "/audit-log")),
    "GET /enterprises": Op(lambda c: c.api("GET", "/enterprises")),
    "POST /enterprises": Op(lambda c: c.api("POST", "/enterprises", {"uscc": NEW_USCC, "name": "矩阵测试企业",
                                                                      "region": "110000"})),
    "GET /enterprises/{enterprise_id}": Op(lambda c: c.api("GET", f"/enterprises/{c.w.bj.pk}")),
    "PATCH /enterprises/{enterprise_id}": Op(
        lambda c: c.api("PATCH", f"/enterprises/{c.w.bj.pk}", {"name": RENAMED, "reason": "matrix"})),
    "POST /enterprises/{enterprise_id}/active": Op(
        lambda c: c.api("POST", f"/enterprises/{c.w.bj.pk}/active", {"active": False, "reason": "matrix"})),
    "POST /enterprises/validate-uscc": Op(lambda c: c.api("POST", "/enterprises/validate-uscc", {"code": c.w.bj.uscc})),
    "GET /reports": Op(lambda c: c.api("GET", "/reports")),
    "POST /reports": Op(lambda c: c.api("POST", "/reports", {"enterprise_id": c.w.bj.pk, "period": PERIOD})),
    "GET /reports/{report_id}": Op(lambda c: c.api("GET", f"/reports/{rid(c)}")),
    "PUT /reports/{report_id}/lines": Op(
        lambda c: c.api("PUT", f"/reports/{rid(c)}/lines", {"lines": [], "nil_return": False})),
    "PUT /reports/{report_id}/basic": Op(
        lambda c: c.api("PUT", f"/reports/{rid(c)}/basic", {"name": c.w.bj.name, "registration_type": "domestic",
                                                        "employees": 10}),
        prepare=lambda c: c.annual("basic")),
    "PUT /reports/{report_id}/fats-inward": Op(
        lambda c: c.api("PUT", f"/reports/{rid(c)}/fats-inward", FATS_IN), prepare=lambda c: c.annual("fats_in")),
    "PUT /reports/{report_id}/fats-outward": Op(
        lambda c: c.api("PUT", f"/reports/{rid(c)}/fats-outward", {"affiliates": [], "nil_return": True}),
        prepare=lambda c: c.annual("fats_out")),
    "POST /reports/{report_id}/validate": Op(lambda c: c.api("POST", f"/reports/{rid(c)}/validate")),
    "POST /reports/{report_id}/explanations": Op(
        lambda c: c.api("POST", f"/reports/{rid(c)}/explanations", {"explanations": {"M-MOM-X": "matrix"}})),
    "POST /reports/{report_id}/submit": Op(lambda c: c.api("POST", f"/reports/{rid(c)}/submit")),
    "POST /reports/{report_id}/approve": Op(lambda c: c.api("POST", f"/reports/{rid(c)}/approve", {"note": ""}),
                                            prepare=Ctx.submitted),
    "POST /reports/{report_id}/accept": Op(lambda c: c.api("POST", f"/reports/{rid(c)}/accept", {"note": ""}),
                                           prepare=Ctx.approved),
    "POST /reports/{report_id}/return": Op(
        lambda c: c.api("POST", f"/reports/{rid(c)}/return", {"reason": "matrix"}), prepare=Ctx.submitted),
    "POST /reports/{report_id}/revise": Op(
        lambda c: c.api("POST", f"/reports/{rid(c)}/revise", {"reason": "matrix"}), prepare=Ctx.accepted),
    "POST /reports/bulk-approve": Op(lambda c: c.api("POST", "/reports/bulk-approve", {"report_ids": [rid(c)]}),
                                     prepare=Ctx.submitted, judge=judge_bulk_api),
    "GET /reports/{report_id}/history": Op(lambda c: c.api("GET", f"/reports/{rid(c)}/history")),
    "GET /reports/{report_id}/changes": Op(lambda c: c.api("GET", f"/reports/{rid(c)}/changes")),
    "POST /imports": Op(lambda c: c.api("POST", "/imports", files={"file": import_csv(c.w.bj)}),
                        judge=judge_import_api, judge_bad=True),
    "GET /imports/{batch_id}": Op(lambda c: c.api("GET", f"/imports/{c.batch.pk}"), prepare=Ctx.with_batch),
    "POST /imports/{batch_id}/commit": Op(lambda c: c.api("POST", f"/imports/{c.batch.pk}/commit"),
                                          prepare=Ctx.with_batch),
    "GET /exchange-rates": Op(lambda c: c.api("GET", "/exchange-rates", {"period": PERIOD})),
    "POST /exchange-rates/upload": Op(lambda c: c.api("POST", "/exchange-rates/upload", files={"file": rates_csv()})),
    "GET /completeness": Op(lambda c: c.api("GET", "/completeness", {"period": PERIOD})),
    "GET /analytics/indicators": Op(lambda c: c.api("GET", "/analytics/indicators")),
    "GET /sdmx/data/{flow}": Op(lambda c: c.api("GET", "/sdmx/data/SERVICES_TRADE", {"startPeriod": "2026-01"})),
    "GET /sdmx/data/{flow}/{key}": Op(lambda c: c.api("GET", "/sdmx/data/SERVICES_TRADE/M.CN.W1.S.C._T")),
    "GET /sdmx/structure/{resource}": Op(lambda c: c.api("GET", "/sdmx/structure/codelist")),
    "GET /sdmx/structure/{resource}/{agency}": Op(lambda c: c.api("GET", "/sdmx/structure/dataflow/all")),
    "GET /sdmx/structure/{resource}/{agency}/{resource_id}": Op(
        lambda c: c.api("GET", "/sdmx/structure/datastructure/all/DSD_SERVICES_TRADE")),
    "GET /sdmx/structure/{resource}/{agency}/{resource_id}/{version}": Op(
        lambda c: c.api("GET", "/sdmx/structure/datastructure/all/DSD_SERVICES_TRADE/latest")),
    "GET /analytics/headline": Op(lambda c: c.api("GET", "/analytics/headline", {"region": "110000"})),
    "GET /analytics/panels/{name}": Op(lambda c: c.api("GET", "/analytics/panels/components", {"region": "110000"})),
    "GET /completeness/non-reporters": Op(lambda c: c.api("GET", "/completeness/non-reporters", {"period": PERIOD})),
    "POST /completeness/remind": Op(
        lambda c: c.api("POST", f"/completeness/remind?period={PERIOD}&region=110000"),
        judge=lambda c, r: O if r.json()["reminded"] > 0 else M),
    "POST /lock-exceptions": Op(lambda c: c.api("POST", "/lock-exceptions", {
        "enterprise_id": c.w.bj.pk, "period": PERIOD, "until": "2026-12-31", "reason": "matrix"})),
}

# The governance app's rows live beside it (governance/tests/matrix_*.py); they import Op, Ctx and the helpers above.
from tradepilot.governance.tests import matrix as governance_matrix  # noqa: E402

WEB.update(governance_matrix.WEB)
API.update(governance_matrix.API)
WEB_OPS.update(governance_matrix.WEB_OPS)
API_OPS.update(governance_matrix.API_OPS)


# --- classification ----------------------------------------------------------------------------------------------

def http_class(response, *, anonymous: bool, public_redirect: bool = False) -> str:
    status = response.status_code
    if status >= 500:
        return "error"
    if 300 <= status < 400:
        login = resolve_url(settings.LOGIN_URL)
        location = response.get("Location", "")
        if anonymous and not public_redirect and location.split("?")[0] == login:
            return D
        return O
    if 200 <= status < 300:
        return O
    if status in (401, 403):
        return D
    if status == 404:
        return M
    if status in (400, 409, 422):
        return B
    return f"HTTP {status}"


def run_cell(ctx: Ctx, op: Op) -> tuple[str, HttpResponse]:
    op.prepare(ctx)
    response = op.request(ctx)
    outcome = http_class(response, anonymous=ctx.user is None, public_redirect=op.public_redirect)
    if op.judge is not None and ctx.user is not None and (outcome == O or op.judge_bad):
        outcome = op.judge(ctx, response)
    return outcome, response


# --- enumeration -------------------------------------------------------------------------------------------------

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def api_operations() -> set[str]:
    """Every operation of the API as "METHOD /path", from its OpenAPI schema."""
    root = reverse("api:api-root").rstrip("/")
    ops = set()
    for path, methods in ninja_api.get_openapi_schema()["paths"].items():
        assert path.startswith(root + "/"), path
        for method in methods:
            if method.lower() in HTTP_METHODS:
                ops.add(f"{method.upper()} {path[len(root):]}")
    return ops


def _route_shape(route: str) -> str:
    """"reports/<int:report_id>" and "/reports/{report_id}" both become "reports/{report_id}"."""
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route).strip("/")


def url_names() -> set[str]:
    """Every named Django URL, walked recursively; admin, i18n, static and the API's operations left out."""
    api_prefix = reverse("api:api-root").lstrip("/")
    operation_routes = {_route_shape(op.split(" ", 1)[1]) for op in api_operations()}
    static_prefix = settings.STATIC_URL.lstrip("/")
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for p in patterns:
            route = prefix + str(p.pattern).lstrip("^")
            if route.startswith(("admin/", "i18n/", static_prefix)):
                continue
            if isinstance(p, URLResolver):
                ns = namespace
                if p.namespace:
                    ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
                walk(p.url_patterns, route, ns)
                continue
            if route.startswith(api_prefix) and _route_shape(route[len(api_prefix):]) in operation_routes:
                continue  # an API operation: covered by the API table
            name = p.name or f"<unnamed {route}>"
            names.add(f"{namespace}:{name}" if namespace else name)

    walk(get_resolver().url_patterns, "", None)
    return names


def test_every_url_has_a_matrix_row():
    in_table = {key.split(" ")[1] for key in WEB}
    assert url_names() == in_table


def test_every_api_operation_has_a_matrix_row():
    assert api_operations() == set(API)


def test_the_table_is_well_formed():
    assert set(WEB_OPS) == set(WEB)
    assert set(API_OPS) == set(API)
    for key, row in {**WEB, **API}.items():
        assert len(row) == len(ROLES), key
        for cell in row:
            assert (cell.expected if isinstance(cell, Bug) else cell) in CLASSES, (key, cell)


# --- the matrix --------------------------------------------------------------------------------------------------

def _cells():
    for kind, table in (("web", WEB), ("api", API)):
        for key, row in table.items():
            for role, cell in zip(ROLES, row, strict=True):
                marks = ()
                if isinstance(cell, Bug):
                    marks = (pytest.mark.xfail(strict=True, reason=cell.reason),)
                    cell = cell.expected
                yield pytest.param(kind, key, role, cell, marks=marks, id=f"{key} | {role}")


@pytest.mark.parametrize(("kind", "key", "role", "expected"), list(_cells()))
def test_cell(kind, key, role, expected, world, rates, media):
    ctx = Ctx(world, role)
    op = (WEB_OPS if kind == "web" else API_OPS)[key]
    outcome, response = run_cell(ctx, op)
    assert outcome == expected, (
        f"{key} as {role}: expected {expected}, got {outcome} "
        f"(HTTP {response.status_code} {response.get('Location', '')}) {response.content[:300]!r}"
    )



# --- the invariants, stated on the listings ----------------------------------------------------------------------
# Every listing shows exactly the rows of the viewer's scope; ent_bj2 and bureau_hz in particular never see bj's.

EMPTY_PERIOD = "2026-09"  # nobody has reported: every enterprise is a non-reporter


@pytest.fixture
def listed(world, rates, media):
    """A submitted report for each enterprise in PERIOD, and a notification for ent_bj."""
    form = services.monthly_form()
    reports = {}
    for key, owner in (("bj", world.ent_bj), ("bj2", world.ent_bj2), ("hz", world.ent_hz)):
        enterprise = getattr(world, key)
        report, _ = services.get_or_create_report(enterprise, form, Period.parse(PERIOD), owner)
        services.replace_lines(report, [], owner, nil_return=True)
        reports[key] = workflow.submit(report, owner)
    world.reports = reports
    world.note = notify(world.ent_bj, "matrix notification for ent_bj", url="/reporting/my/")
    return world


# What each role sees: enterprise keys. Agencies see national aggregates only, never enterprise rows.
VISIBLE = {
    "ministry": {"bj", "bj2", "hz"}, "auditor": {"bj", "bj2", "hz"}, "agency": set(),
    "bureau_bj": {"bj", "bj2"}, "bureau_hz": {"hz"}, "bureau_zj": {"hz"},
    "ent_bj": {"bj"}, "ent_bj2": {"bj2"},
}
SIGNED_IN = list(VISIBLE)


def api_get(user, path, **params):
    return Client().get(API_ROOT + path, params, headers={"Authorization": f"Bearer {issue_token(user)}"})


def page(user, url, **params):
    client = Client()
    client.force_login(user)
    return client.get(url, params)


def report_ids_in(html: str) -> set[int]:
    return {int(x) for x in re.findall(r"/reporting/reports/(\d+)/", html)}


def enterprise_ids_in(html: str) -> set[int]:
    return {int(x) for x in re.findall(r"/enterprises/(\d+)/", html)}


def assert_only(world, text: str, visible: set[str]) -> None:
    """`text` names the enterprises in `visible` (by credit code) and none of the others."""
    for key in ("bj", "bj2", "hz"):
        enterprise = getattr(world, key)
        if key in visible:
            assert enterprise.uscc in text, f"{key} missing"
        else:
            assert enterprise.uscc not in text and enterprise.name not in text, f"{key} leaked"


@pytest.mark.parametrize("role", SIGNED_IN)
def test_api_report_list_is_scoped(listed, role):
    user, expected = getattr(listed, role), {listed.reports[k].pk for k in VISIBLE[role]}
    body = api_get(user, "/reports", all_versions="true", limit=500).json()
    assert {r["id"] for r in body["items"]} == expected and body["count"] == len(expected)
    # Filters narrow the scope, never widen it.
    for params in ({"enterprise_id": listed.bj.pk}, {"region": "110000"}, {"q": "北京"}, {"status": "submitted"}):
        ids = {r["id"] for r in api_get(user, "/reports", **params).json()["items"]}
        assert ids <= expected, params


@pytest.mark.parametrize("role", SIGNED_IN)
def test_api_enterprise_list_is_scoped(listed, role):
    user, expected = getattr(listed, role), {getattr(listed, k).pk for k in VISIBLE[role]}
    body = api_get(user, "/enterprises", limit=500).json()
    assert {e["id"] for e in body["items"]} == expected and body["count"] == len(expected)
    for params in ({"region": "110000"}, {"q": listed.bj.uscc}, {"active": "true"}):
        assert {e["id"] for e in api_get(user, "/enterprises", **params).json()["items"]} <= expected, params


@pytest.mark.parametrize("role", ["ministry", "auditor", "bureau_bj", "bureau_hz", "bureau_zj"])
def test_workbench_page_is_scoped(listed, role):
    user, expected = getattr(listed, role), {listed.reports[k].pk for k in VISIBLE[role]}
    response = page(user, reverse("reporting:workbench"), status="")
    assert response.status_code == 200
    html = response.content.decode()
    assert report_ids_in(html) == expected
    assert_only(listed, html, VISIBLE[role])
    searched = page(user, reverse("reporting:workbench"), status="", q=listed.bj.uscc).content.decode()
    assert report_ids_in(searched) <= expected


@pytest.mark.parametrize("role", ["ministry", "auditor", "bureau_bj", "bureau_hz", "bureau_zj"])
def test_enterprise_list_page_and_csv_are_scoped(listed, role):
    user, visible = getattr(listed, role), VISIBLE[role]
    html = page(user, reverse("enterprises:list")).content.decode()
    assert enterprise_ids_in(html) == {getattr(listed, k).pk for k in visible}
    assert_only(listed, html, visible)
    csv_text = page(user, reverse("enterprises:list"), format="csv").content.decode("utf-8-sig")
    assert_only(listed, csv_text, visible)
    for params in ({"region": "110000"}, {"q": listed.bj.uscc}, {"active": "0"}):
        html = page(user, reverse("enterprises:list"), **params).content.decode()
        assert enterprise_ids_in(html) <= {getattr(listed, k).pk for k in visible}, params


@pytest.mark.parametrize("role", ["ent_bj2", "bureau_hz", "bureau_zj", "ent_bj", "agency", "bureau_bj"])
def test_listing_pages_refused_to_other_roles_show_nothing(listed, role):
    user = getattr(listed, role)
    for name in ("core:audit_log",) + (("reporting:workbench", "enterprises:list") if role.startswith("ent") else ()):
        response = page(user, reverse(name))
        assert response.status_code == 403, name
        assert_only(listed, response.content.decode(), set())
    response = api_get(user, "/audit-log")
    assert response.status_code == 403
    assert_only(listed, response.content.decode(), set())


@pytest.mark.parametrize("role", ["ministry", "auditor"])
def test_audit_log_page_and_api_show_the_national_log(listed, role):
    """The full log is for national roles; it is the positive control of the refusals above."""
    user = getattr(listed, role)
    entries = api_get(user, "/audit-log", limit=500).json()
    assert {e["report_id"] for e in entries} >= {r.pk for r in listed.reports.values()}
    html = page(user, reverse("core:audit_log")).content.decode()
    assert report_ids_in(html) == {r.pk for r in listed.reports.values()}


@pytest.mark.parametrize("role", SIGNED_IN)
def test_report_history_and_audit_are_scoped(listed, role):
    user, visible = getattr(listed, role), VISIBLE[role]
    for key, report in listed.reports.items():
        response = api_get(user, f"/reports/{report.pk}/history")
        if key not in visible:
            assert response.status_code == 404
            continue
        body = response.json()
        assert {v["id"] for v in body["versions"]} == {report.pk}
        assert {a["report_id"] for a in body["audit"]} == {report.pk}


@pytest.mark.parametrize("role", SIGNED_IN)
def test_completeness_non_reporters_are_scoped(listed, role):
    user, visible = getattr(listed, role), VISIBLE[role]
    expected = {getattr(listed, k).pk for k in visible}
    response = api_get(user, "/completeness/non-reporters", period=EMPTY_PERIOD)
    if role == "agency":
        assert response.status_code == 403
    else:
        assert {e["id"] for e in response.json()} == expected
        for region in ("110000", "330000", "330100"):
            ids = {e["id"] for e in api_get(user, "/completeness/non-reporters", period=EMPTY_PERIOD,
                                            region=region).json()}
            assert ids <= expected, region
    # The counts follow the region scope (agencies: national aggregates; enterprise users: none).
    counted = {"agency": 3, "ent_bj": 0, "ent_bj2": 0}.get(role, len(visible))
    total = api_get(user, "/completeness", period=EMPTY_PERIOD).json()["total"]
    assert total["expected"] == counted


@pytest.mark.parametrize("role", ["ministry", "auditor", "bureau_bj", "bureau_hz", "bureau_zj"])
def test_completeness_page_lists_only_scoped_non_reporters(listed, role):
    user, visible = getattr(listed, role), VISIBLE[role]
    for params in ({}, {"region": "110000"}, {"region": "330100"}):
        response = page(user, reverse("reporting:completeness"), period=EMPTY_PERIOD, **params)
        assert response.status_code == 200
        missing = response.context["missing"]
        assert {e.pk for e in missing} <= {getattr(listed, k).pk for k in visible}, params
        if not params:
            assert_only(listed, response.content.decode(), visible)


def test_my_reports_page_shows_only_own_enterprise(listed):
    # The page lists the months that have ended (PERIOD is still running on TODAY): open one for each enterprise.
    ended = {}
    for key, owner in (("bj", listed.ent_bj), ("bj2", listed.ent_bj2), ("hz", listed.ent_hz)):
        ended[key], _ = services.get_or_create_report(getattr(listed, key), services.monthly_form(),
                                                      Period.parse(EMPTY_PERIOD), owner)
    html = page(listed.ent_bj2, reverse("reporting:my_reports")).content.decode()
    assert report_ids_in(html) == {ended["bj2"].pk}
    assert listed.bj2.name in html
    assert listed.bj.name not in html and listed.hz.name not in html


def test_notifications_stay_personal(listed):
    other = listed.ent_bj2
    assert listed.note.pk not in {n["id"] for n in api_get(other, "/notifications").json()}
    assert listed.note.title not in page(other, reverse("core:notifications")).content.decode()
    client = Client()
    client.force_login(other)
    client.post(reverse("core:notifications"))
    listed.note.refresh_from_db()
    assert listed.note.read_at is None
    assert listed.note.pk in {n["id"] for n in api_get(listed.ent_bj, "/notifications").json()}


@pytest.mark.parametrize("via", ["api", "page"])
def test_reminders_reach_only_the_bureaus_region(listed, via):
    before = set(Notification.objects.values_list("pk", flat=True))
    if via == "api":
        response = Client().post(f"{API_ROOT}/completeness/remind?period={EMPTY_PERIOD}",
                                 headers={"Authorization": f"Bearer {issue_token(listed.bureau_hz)}"})
        assert response.json() == {"reminded": 1}
    else:
        client = Client()
        client.force_login(listed.bureau_hz)
        client.post(reverse("reporting:remind"), {"period": EMPTY_PERIOD})
    new = Notification.objects.exclude(pk__in=before)
    assert set(new.values_list("user__username", flat=True)) == {listed.ent_hz.username}


def test_the_audit_trail_of_a_listing_fixture_is_scoped_per_enterprise(listed):
    """The audit log's scoping keys: each report's entries carry its enterprise (what `scope()` filters on)."""
    for key, report in listed.reports.items():
        entries = AuditLog.objects.filter(report=report)
        assert entries.exists()
        assert set(entries.values_list("enterprise_id", flat=True)) == {getattr(listed, key).pk}
