"""The enterprise registry, keyed by the unified social credit code (GB 32100-2015)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tradepilot.core.models import Industry, Region


class EnterpriseQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def key_contacts(self):
        return self.filter(is_active=True, is_key_contact=True)


class Enterprise(models.Model):
    class RegistrationType(models.TextChoices):
        DOMESTIC = "domestic", _("Domestic enterprise")
        FOREIGN = "foreign", _("Foreign-invested (foreign control ≥ 50%)")
        HMT = "hmt", _("Hong Kong, Macao or Taiwan-invested")

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="enterprises", verbose_name=_("region"))
    industry = models.ForeignKey(
        Industry, null=True, blank=True, on_delete=models.PROTECT, verbose_name=_("industry (GB/T 4754)")
    )
    registration_type = models.CharField(
        _("registration type"), max_length=16, choices=RegistrationType.choices, default=RegistrationType.DOMESTIC
    )
    established = models.DateField(_("established"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    is_key_contact = models.BooleanField(_("key-contact enterprise"), default=False)
    key_contact_year = models.PositiveSmallIntegerField(_("key-contact since"), null=True, blank=True)
    is_systemic = models.BooleanField(_("systemically important"), default=False)
    systemic_year = models.PositiveSmallIntegerField(_("systemically important since"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivation_reason = models.CharField(max_length=300, blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(auto_now=True)

    objects = EnterpriseQuerySet.as_manager()
    scope_enterprise_path = ""

    class Meta:
        ordering = ["name"]
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        indexes = [models.Index(fields=["region", "is_active", "is_key_contact"])]

    def __str__(self) -> str:
        return self.name

    def delete(self, *args, **kwargs):
        # Enterprises carry reported data and audit history: they are deactivated, never deleted.
        raise PermissionError("Enterprises are deactivated, never deleted.")
