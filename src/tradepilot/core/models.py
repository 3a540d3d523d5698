"""Reference data, roles, the audit log, API tokens and notifications.

Reference tables are loaded from the data files in `core/data/` by `core.reference.load_all()`; they are keyed
by their official codes so that loading is idempotent.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def in_language(zh: str, en: str) -> str:
    """The English text in the English interface (when there is one), the Chinese otherwise."""
    return en if en and (get_language() or "zh-hans").lower().startswith("en") else zh


class BilingualName(models.Model):
    """Reference rows carry a Chinese and an English name; `name` picks the active language."""

    name_zh = models.CharField(_("Chinese name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return in_language(self.name_zh, self.name_en)

    def __str__(self) -> str:
        return self.name


class Region(BilingualName):
    """A GB/T 2260 administrative division. `path` ("/110000/", "/330000/330100/") makes subtree scoping one
    indexed prefix match."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("Province")
        CITY = 2, _("City / new area")
        DISTRICT = 3, _("District")

    class Kind(models.TextChoices):
        PROVINCE = "province", _("Province")
        MUNICIPALITY = "municipality", _("Municipality")
        AUTONOMOUS_REGION = "autonomous_region", _("Autonomous region")
        SAR = "sar", _("Special administrative region")
        CITY = "city", _("City")
        SUB_PROVINCIAL_CITY = "sub_provincial_city", _("Sub-provincial city")
        NEW_AREA = "new_area", _("State-level new area")
        DISTRICT = "district", _("District")

    code = models.CharField(_("code"), max_length=6, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    path = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent else "/") + self.code + "/"
        super().save(*args, **kwargs)

    def ancestors(self, include_self: bool = True) -> list[Region]:
        codes = [c for c in self.path.strip("/").split("/") if c]
        if not include_self:
            codes = codes[:-1]
        by_code = {r.code: r for r in Region.objects.filter(code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    @property
    def province(self) -> Region:
        return self if self.level == self.Level.PROVINCE else self.ancestors()[0]

    def contains(self, other: Region) -> bool:
        return other.path.startswith(self.path)


class PilotRound(BilingualName):
    """One round of the pilot: its approving document and period. Later rounds are data, not code."""

    code = models.CharField(_("code"), max_length=32, unique=True)
    document = models.CharField(_("approving document"), max_length=200, blank=True)
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end"))

    class Meta:
        ordering = ["start_date"]
        verbose_name = _("pilot round")
        verbose_name_plural = _("pilot rounds")


class PilotArea(BilingualName):
    scope_area_path = ""  # governance scoping (core.scoping.scope_areas)

    round = models.ForeignKey(PilotRound, on_delete=models.CASCADE, related_name="areas")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="pilot_areas")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["round", "order"]
        unique_together = [("round", "region")]
        verbose_name = _("pilot area")
        verbose_name_plural = _("pilot areas")


class ServiceCategory(BilingualName):
    """EBOPS 2010: the 12 standard components (SA…SL) and their sub-components. Reports use leaf codes."""

    code = models.CharField(_("EBOPS code"), max_length=8, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    level = models.PositiveSmallIntegerField(default=1)
    is_leaf = models.BooleanField(default=True)
    knowledge_intensive = models.BooleanField(_("knowledge-intensive"), default=False)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("EBOPS 2010 service category")
        verbose_name_plural = _("EBOPS 2010 service categories")

    @property
    def component_code(self) -> str:
        return self.code[:2]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Country(BilingualName):
    """ISO 3166-1 countries and territories, with Chinese names (HK, MO, TW named as China's regions)."""

    alpha2 = models.CharField(max_length=2, unique=True)
    alpha3 = models.CharField(max_length=3, unique=True)
    numeric = models.CharField(max_length=3)

    class Meta:
        ordering = ["alpha2"]
        verbose_name = _("country or territory")
        verbose_name_plural = _("countries and territories")

    def __str__(self) -> str:
        return f"{self.alpha2} {self.name}"


class Currency(BilingualName):
    code = models.CharField(max_length=3, unique=True)
    numeric = models.CharField(max_length=3, blank=True)
    minor_units = models.SmallIntegerField(default=2)

    class Meta:
        ordering = ["code"]
        verbose_name = _("currency")
        verbose_name_plural = _("currencies")

    def __str__(self) -> str:
        return self.code


class SupplyMode(BilingualName):
    """GATS modes of supply. Modes 1, 2 and 4 appear in direct reports; mode 3 comes from FATS."""

    code = models.CharField(max_length=1, unique=True)
    in_direct_report = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("mode of supply")
        verbose_name_plural = _("modes of supply")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Industry(BilingualName):
    """GB/T 4754-2017 sections (A–T) and divisions (01–97)."""

    code = models.CharField(max_length=4, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")

    class Meta:
        ordering = ["code"]
        verbose_name = _("industry (GB/T 4754)")
        verbose_name_plural = _("industries (GB/T 4754)")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Agency(BilingualName):
    """Member units of the inter-ministerial joint conference on service trade development."""

    code = models.CharField(max_length=32, unique=True)
    abbreviation = models.CharField(max_length=32, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order"]
        verbose_name = _("member agency")
        verbose_name_plural = _("member agencies")


class Role(models.TextChoices):
    MINISTRY = "ministry", _("Ministry of Commerce")
    BUREAU = "bureau", _("Local commerce bureau")
    ENTERPRISE = "enterprise", _("Enterprise")
    AGENCY = "agency", _("Member agency")
    AUDITOR = "auditor", _("Auditor")


class Profile(models.Model):
    """A user's role and the scope it applies to (region for bureaus, enterprises for enterprise users)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.PROTECT)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT)
    enterprises = models.ManyToManyField("enterprises.Enterprise", blank=True, related_name="users")
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("user profile")
        verbose_name_plural = _("user profiles")

    def clean(self):
        if self.role == Role.BUREAU and not self.region_id:
            raise ValidationError({"region": _("A bureau user needs a region.")})
        if self.role == Role.AGENCY and not self.agency_id:
            raise ValidationError({"agency": _("An agency user needs an agency.")})

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"


class AuditLogQuerySet(models.QuerySet):
    def update(self, **kwargs):  # pragma: no cover - guarded by tests of the append-only rule
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditLog(models.Model):
    """Append-only record of every change to reported data: who, when, what, old → new, and why."""

    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    action = models.CharField(max_length=32, db_index=True)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300, blank=True)
    # Scoping keys, copied at write time so the log stays readable with the same rules as the data.
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    report = models.ForeignKey("reporting.Report", null=True, blank=True, on_delete=models.PROTECT, related_name="audit")
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    objects = AuditLogQuerySet.as_manager()
    scope_enterprise_path = "enterprise"

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the clear token is shown once when created."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    created = models.DateTimeField(default=timezone.now)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return self.title
