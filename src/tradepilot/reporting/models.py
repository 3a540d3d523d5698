"""Report forms, periods, reports and their lines, exchange rates, validation rules, imports.

A `Report` is one enterprise's return for one form and period, in one version. Its state moves
draft → submitted → (returned | approved) → accepted → locked; a revision after acceptance is a new version
pointing at the previous one. The workflow lives in `reporting.workflow`, validation in `reporting.validation`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tradepilot.core.models import Country, Currency, Industry, ServiceCategory, SupplyMode
from tradepilot.enterprises.models import Enterprise

MONEY = {"max_digits": 20, "decimal_places": 2}


class ReportForm(models.Model):
    """A form of the monitoring system with its own calendar settings."""

    class Code(models.TextChoices):
        MONTHLY = "monthly", _("Monthly service import/export report")
        BASIC = "basic", _("Annual basic-situation registration")
        FATS_IN = "fats_in", _("Annual inward FATS")
        FATS_OUT = "fats_out", _("Annual outward FATS")

    class Periodicity(models.TextChoices):
        MONTHLY = "M", _("Monthly")
        ANNUAL = "A", _("Annual")

    code = models.CharField(max_length=16, unique=True, choices=Code.choices)
    periodicity = models.CharField(max_length=1, choices=Periodicity.choices)
    due_day = models.PositiveSmallIntegerField(_("due day"), default=10)
    # Months after the period's end in which the due day falls: 1 = the following month.
    due_month_offset = models.PositiveSmallIntegerField(_("due month offset"), default=1)
    lock_after_days = models.PositiveSmallIntegerField(_("lock data entry N days after the deadline"), default=20)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("report form")
        verbose_name_plural = _("report forms")

    def __str__(self) -> str:
        return self.get_code_display()


class ExchangeRate(models.Model):
    """Monthly CNY central parity: `cny_per_unit` yuan for one unit of the currency."""

    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="rates")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField()
    cny_per_unit = models.DecimalField(max_digits=18, decimal_places=8, validators=[MinValueValidator(Decimal("0"))])
    source = models.CharField(max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-year", "-month", "currency__code"]
        unique_together = [("currency", "year", "month")]
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")

    def __str__(self) -> str:
        return f"{self.year}-{self.month:02d} {self.currency.code} {self.cny_per_unit}"


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    RETURNED = "returned", _("Returned")
    APPROVED = "approved", _("Approved")
    ACCEPTED = "accepted", _("Accepted")
    LOCKED = "locked", _("Locked")
    SUPERSEDED = "superseded", _("Superseded")


class ReportQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)

    def period(self, year: int, month: int | None):
        return self.filter(year=year, month=month or 0)


class Report(models.Model):
    enterprise = models.ForeignKey(Enterprise, on_delete=models.PROTECT, related_name="reports")
    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT, related_name="reports")
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(default=0, help_text="0 for annual forms")
    version = models.PositiveSmallIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="next")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True)
    nil_return = models.BooleanField(_("no transactions this period"), default=False)
    currency = models.ForeignKey(Currency, null=True, blank=True, on_delete=models.PROTECT)
    # Explanations the enterprise gives for warnings, keyed by rule code.
    explanations = models.JSONField(default=dict, blank=True)
    revision_reason = models.TextField(blank=True)
    return_reason = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    created = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = ReportQuerySet.as_manager()
    scope_enterprise_path = "enterprise"

    class Meta:
        ordering = ["-year", "-month", "enterprise__name"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "form", "year", "month", "version"], name="report_version_unique"),
            models.UniqueConstraint(
                fields=["enterprise", "form", "year", "month"],
                condition=models.Q(is_current=True),
                name="report_one_current",
            ),
        ]
        indexes = [models.Index(fields=["form", "year", "month", "status"])]
        verbose_name = _("report")
        verbose_name_plural = _("reports")

    def __str__(self) -> str:
        return f"{self.enterprise} {self.period_label} v{self.version}"

    @property
    def period_label(self) -> str:
        return f"{self.year}-{self.month:02d}" if self.month else f"{self.year}"

    @property
    def is_editable(self) -> bool:
        return self.status in {Status.DRAFT, Status.RETURNED}


class MonthlyLine(models.Model):
    class Direction(models.TextChoices):
        EXPORT = "X", _("Export")
        IMPORT = "M", _("Import")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    direction = models.CharField(_("direction"), max_length=1, choices=Direction.choices)
    service = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT, verbose_name=_("EBOPS code"))
    partner = models.ForeignKey(Country, on_delete=models.PROTECT, verbose_name=_("partner country"))
    mode = models.ForeignKey(SupplyMode, on_delete=models.PROTECT, verbose_name=_("mode of supply"))
    related_party = models.BooleanField(_("related party"), default=False)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, verbose_name=_("currency"))
    # Filled when the month has rates for the currency and USD; submission requires it.
    usd_amount = models.DecimalField(_("USD value"), null=True, blank=True, **MONEY)
    note = models.CharField(_("note"), max_length=300, blank=True)

    scope_enterprise_path = "report__enterprise"

    class Meta:
        ordering = ["report", "line_no"]
        verbose_name = _("monthly report line")
        verbose_name_plural = _("monthly report lines")

    def key(self) -> tuple:
        return (self.direction, self.service_id, self.partner_id, self.mode_id, self.related_party, self.currency_id)

    def __str__(self) -> str:
        return f"{self.report} #{self.line_no}"


class BasicRegistration(models.Model):
    """Annual confirmation of the enterprise's attributes, as reported."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="basic")
    name = models.CharField(_("name"), max_length=200)
    industry = models.ForeignKey(Industry, null=True, blank=True, on_delete=models.PROTECT)
    registration_type = models.CharField(max_length=16, choices=Enterprise.RegistrationType.choices)
    foreign_share = models.DecimalField(_("foreign ownership share (%)"), max_digits=5, decimal_places=2, null=True, blank=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    registered_capital = models.DecimalField(_("registered capital (CNY 10k)"), null=True, blank=True, **MONEY)
    main_services = models.CharField(_("main services"), max_length=300, blank=True)
    contact_name = models.CharField(max_length=100, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)

    def __str__(self) -> str:
        return f"{self.report} basic"


class FatsInward(models.Model):
    """Inward FATS (MSITS 2010 core and additional variables): the reporting enterprise is a foreign-controlled
    affiliate in China. Values in CNY 10k."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="fats_in")
    ultimate_parent_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey(Industry, on_delete=models.PROTECT, related_name="+")
    turnover = models.DecimalField(_("turnover"), **MONEY)
    services_sales = models.DecimalField(_("sales of services"), **MONEY)
    employment = models.PositiveIntegerField(_("employment"))
    compensation = models.DecimalField(_("compensation of employees"), **MONEY)
    value_added = models.DecimalField(_("value added"), **MONEY)
    exports = models.DecimalField(_("exports of goods and services"), **MONEY)
    imports = models.DecimalField(_("imports of goods and services"), **MONEY)
    total_assets = models.DecimalField(_("total assets"), **MONEY)
    rd_expenditure = models.DecimalField(_("R&D expenditure"), **MONEY)

    def __str__(self) -> str:
        return f"{self.report} inward FATS"


class FatsInwardServiceSales(models.Model):
    fats = models.ForeignKey(FatsInward, on_delete=models.CASCADE, related_name="service_sales")
    service = models.ForeignKey(ServiceCategory, on_delete=models.PROTECT)
    amount = models.DecimalField(**MONEY)

    class Meta:
        unique_together = [("fats", "service")]

    def __str__(self) -> str:
        return f"{self.fats} {self.service_id}"


class FatsOutwardAffiliate(models.Model):
    """Outward FATS: one overseas affiliate of the reporting enterprise. Values in CNY 10k."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="affiliates")
    name = models.CharField(_("affiliate name"), max_length=200)
    host_country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    activity = models.ForeignKey(Industry, on_delete=models.PROTECT, related_name="+")
    turnover = models.DecimalField(_("turnover"), **MONEY)
    employment = models.PositiveIntegerField(_("employment"))
    total_assets = models.DecimalField(_("total assets"), **MONEY)
    net_profit = models.DecimalField(_("net profit"), **MONEY)
    ownership_share = models.DecimalField(_("Chinese ownership share (%)"), max_digits=5, decimal_places=2)

    def __str__(self) -> str:
        return f"{self.report} {self.name}"


class LockException(models.Model):
    """A bureau lets one enterprise keep editing one period after the form has locked."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="lock_exceptions")
    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE)
    year = models.PositiveSmallIntegerField()
    month = models.PositiveSmallIntegerField(default=0)
    until = models.DateField()
    reason = models.CharField(max_length=300)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    granted_at = models.DateTimeField(default=timezone.now)

    scope_enterprise_path = "enterprise"

    class Meta:
        verbose_name = _("lock exception")
        verbose_name_plural = _("lock exceptions")

    def __str__(self) -> str:
        return f"{self.enterprise} {self.year}-{self.month:02d} until {self.until}"


class ValidationRule(models.Model):
    """A validation rule as data (after DHIS2): left ⟨operator⟩ right, with importance and a missing-value
    strategy. Expressions are evaluated by `reporting.validation`, which also documents their grammar."""

    class Operator(models.TextChoices):
        EQ = "==", "="
        NE = "!=", "≠"
        LT = "<", "<"
        LE = "<=", "≤"
        GT = ">", ">"
        GE = ">=", "≥"

    class Importance(models.TextChoices):
        ERROR = "error", _("Error (blocks submission)")
        WARNING = "warning", _("Warning (needs an explanation)")

    class MissingValueStrategy(models.TextChoices):
        SKIP_IF_ANY_VALUE_MISSING = "skip_if_any", _("Skip if any value is missing")
        SKIP_IF_ALL_VALUES_MISSING = "skip_if_all", _("Skip if all values are missing")
        NEVER_SKIP = "never", _("Never skip (missing counts as zero)")

    class Kind(models.TextChoices):
        COMPARISON = "comparison", _("Comparison")
        OUTLIER = "outlier", _("Robust outlier against own history")

    code = models.CharField(max_length=32, unique=True)
    form = models.ForeignKey(ReportForm, on_delete=models.CASCADE, related_name="rules")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COMPARISON)
    name_zh = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    instruction = models.TextField(blank=True, help_text="Shown to the enterprise when the rule fails.")
    left_expression = models.CharField(max_length=500)
    operator = models.CharField(max_length=2, choices=Operator.choices, default=Operator.LE)
    right_expression = models.CharField(max_length=500, blank=True)
    importance = models.CharField(max_length=8, choices=Importance.choices, default=Importance.WARNING)
    missing_value_strategy = models.CharField(
        max_length=12, choices=MissingValueStrategy.choices, default=MissingValueStrategy.SKIP_IF_ANY_VALUE_MISSING
    )
    # Outlier rules: robust z-score threshold and the minimum history length before the rule applies.
    threshold = models.DecimalField(max_digits=6, decimal_places=2, default=Decimal("3.5"))
    min_history = models.PositiveSmallIntegerField(default=6)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["form", "code"]
        verbose_name = _("validation rule")
        verbose_name_plural = _("validation rules")

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"


class ImportBatch(models.Model):
    """An uploaded file: previewed (dry run) and then committed all-or-nothing."""

    class State(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        INVALID = "invalid", _("Has errors")
        COMMITTED = "committed", _("Committed")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    form = models.ForeignKey(ReportForm, on_delete=models.PROTECT)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    stored_path = models.CharField(max_length=500)
    state = models.CharField(max_length=12, choices=State.choices)
    row_count = models.PositiveIntegerField(default=0)
    report_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"
