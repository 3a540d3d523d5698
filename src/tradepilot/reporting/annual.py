"""The annual forms: basic-situation registration (基本情况登记) and FATS, inward and outward (MSITS 2010).

Each form's content is a plain dict in and out (the API, the web form and the tests use the same shape); every
field is checked here and every problem is reported with its path (`affiliates.2.ownership_share`). Saving
replaces the content in one transaction and records old → new in the audit log. Values are CNY 10k, `Decimal`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from tradepilot.core import audit
from tradepilot.core.models import Country, Industry, ServiceCategory
from tradepilot.enterprises.models import Enterprise
from tradepilot.reporting.lines import clean_text
from tradepilot.reporting.models import (
    BasicRegistration,
    FatsInward,
    FatsInwardServiceSales,
    FatsOutwardAffiliate,
    Report,
    ReportForm,
)
from tradepilot.reporting.services import ReportError, check_editable

MONEY_MAX = Decimal("1e17")
HUNDRED = Decimal(100)

FATS_IN_MONEY = ("turnover", "services_sales", "compensation", "value_added", "exports", "imports", "total_assets",
                 "rd_expenditure")
OUTWARD_MONEY = ("turnover", "total_assets")


class _Errors(list):
    def add(self, field: str, value, code: str, message: str):
        self.append({"row": None, "field": field, "value": clean_text(value)[:100], "code": code, "message": message})


def _money(data: dict, key: str, errors: _Errors, path: str, *, allow_negative: bool = False,
           required: bool = True) -> Decimal | None:
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            errors.add(path, raw, "required", _("This value is required."))
        return None
    try:
        value = Decimal(str(raw).replace(",", "").strip())
    except InvalidOperation:
        errors.add(path, raw, "invalid_number", _("'%(v)s' is not a number.") % {"v": raw})
        return None
    if not value.is_finite() or abs(value) >= MONEY_MAX:
        errors.add(path, raw, "invalid_number", _("The number is out of range."))
        return None
    if value < 0 and not allow_negative:
        errors.add(path, raw, "negative", _("The value cannot be negative."))
        return None
    if value != value.quantize(Decimal("0.01")):
        errors.add(path, raw, "too_precise", _("At most two decimal places."))
        return None
    return value.quantize(Decimal("0.01"))


def _count(data: dict, key: str, errors: _Errors, path: str, required: bool = True) -> int | None:
    raw = data.get(key)
    if raw in (None, ""):
        if required:
            errors.add(path, raw, "required", _("This value is required."))
        return None
    try:
        value = int(str(raw).strip())
    except ValueError:
        errors.add(path, raw, "invalid_integer", _("A whole number is required."))
        return None
    if value < 0:
        errors.add(path, raw, "negative", _("The value cannot be negative."))
        return None
    return value


def _share(data: dict, key: str, errors: _Errors, path: str, required: bool = True) -> Decimal | None:
    value = _money(data, key, errors, path, required=required)
    if value is not None and value > HUNDRED:
        errors.add(path, data.get(key), "out_of_range", _("A share is between 0 and 100 (%)."))
        return None
    return value


def _ref(model, field: str, data: dict, key: str, errors: _Errors, path: str, required: bool = True):
    code = clean_text(data.get(key)).upper() if model is not Industry else clean_text(data.get(key))
    if not code:
        if required:
            errors.add(path, code, "required", _("A code is required."))
        return None
    obj = model.objects.filter(**{field: code}).first()
    if obj is None:
        errors.add(path, code, "unknown_code", _("%(c)s is not a known code.") % {"c": code})
    return obj


def _raise(errors: _Errors):
    if errors:
        raise ReportError(_("Some values are invalid."), list(errors), code="invalid_content")


# --- basic-situation registration ------------------------------------------------------------------------------

BASIC_TEXT = ("name", "main_services", "contact_name", "contact_phone", "contact_email")


def basic_initial(enterprise: Enterprise) -> dict:
    """A new registration starts from the registry's current attributes, for the enterprise to confirm."""
    return {"name": enterprise.name, "industry": enterprise.industry.code if enterprise.industry else "",
            "registration_type": enterprise.registration_type, "foreign_share": None, "employees": None,
            "registered_capital": None, "main_services": "", "contact_name": enterprise.contact_name,
            "contact_phone": enterprise.contact_phone, "contact_email": enterprise.contact_email}


def basic_content(report: Report) -> dict:
    b = getattr(report, "basic", None)
    if b is None:
        return basic_initial(report.enterprise)
    return {"name": b.name, "industry": b.industry.code if b.industry else "", "registration_type": b.registration_type,
            "foreign_share": b.foreign_share, "employees": b.employees, "registered_capital": b.registered_capital,
            "main_services": b.main_services, "contact_name": b.contact_name, "contact_phone": b.contact_phone,
            "contact_email": b.contact_email}


def _clean_basic(data: dict) -> dict:
    errors = _Errors()
    out = {k: clean_text(data.get(k)) for k in BASIC_TEXT}
    if not out["name"]:
        errors.add("name", "", "required", _("A name is required."))
    out["industry"] = _ref(Industry, "code", data, "industry", errors, "industry", required=False)
    rt = clean_text(data.get("registration_type"))
    if rt not in Enterprise.RegistrationType.values:
        errors.add("registration_type", rt, "invalid_choice", _("Unknown registration type."))
    out["registration_type"] = rt
    out["foreign_share"] = _share(data, "foreign_share", errors, "foreign_share", required=False)
    if rt == Enterprise.RegistrationType.FOREIGN and out["foreign_share"] is not None and out["foreign_share"] < 50:
        errors.add("foreign_share", data.get("foreign_share"), "inconsistent",
                   _("A foreign-invested enterprise in these statistics has foreign control of at least 50%."))
    out["employees"] = _count(data, "employees", errors, "employees")
    out["registered_capital"] = _money(data, "registered_capital", errors, "registered_capital", required=False)
    _raise(errors)
    return out


@transaction.atomic
def save_basic(report: Report, data: dict, actor, reason: str = "") -> None:
    report = _editable(report, ReportForm.Code.BASIC, actor)
    values = _clean_basic(data)
    before = basic_content(report) if hasattr(report, "basic") else {}
    BasicRegistration.objects.update_or_create(report=report, defaults=values)
    report.refresh_from_db()
    _audit(actor, report, before, basic_content(report), reason)


# --- inward FATS -----------------------------------------------------------------------------------------------

def fats_in_content(report: Report) -> dict | None:
    f = getattr(report, "fats_in", None)
    if f is None:
        return None
    out = {k: getattr(f, k) for k in FATS_IN_MONEY}
    out.update(ultimate_parent_country=f.ultimate_parent_country.alpha2, activity=f.activity.code,
               employment=f.employment,
               services_sales_by_component={s.service.code: s.amount for s in f.service_sales.select_related("service")})
    return out


def _clean_fats_in(data: dict) -> tuple[dict, dict]:
    errors = _Errors()
    values = {k: _money(data, k, errors, k, allow_negative=(k == "value_added")) for k in FATS_IN_MONEY}
    values["employment"] = _count(data, "employment", errors, "employment")
    values["ultimate_parent_country"] = _ref(Country, "alpha2", data, "ultimate_parent_country", errors,
                                             "ultimate_parent_country")
    if values["ultimate_parent_country"] is not None and values["ultimate_parent_country"].alpha2 == "CN":
        errors.add("ultimate_parent_country", "CN", "domestic_parent",
                   _("Inward FATS covers affiliates controlled from outside the Chinese mainland."))
    values["activity"] = _ref(Industry, "code", data, "activity", errors, "activity")
    components = {}
    for code, amount in (data.get("services_sales_by_component") or {}).items():
        path = f"services_sales_by_component.{code}"
        category = ServiceCategory.objects.filter(code=str(code).upper(), level=1).first()
        if category is None:
            errors.add(path, code, "unknown_component", _("%(c)s is not an EBOPS 2010 standard component.") % {"c": code})
            continue
        value = _money({"v": amount}, "v", errors, path)
        if value is not None:
            components[category] = value
    if values["services_sales"] is not None and values["turnover"] is not None \
            and values["services_sales"] > values["turnover"]:
        errors.add("services_sales", data.get("services_sales"), "exceeds_turnover",
                   _("Sales of services cannot exceed turnover."))
    if components and values["services_sales"] is not None \
            and sum(components.values(), Decimal(0)) != values["services_sales"]:
        errors.add("services_sales_by_component", str(sum(components.values(), Decimal(0))), "sum_mismatch",
                   _("The components must add up to the sales of services (%(t)s).") % {"t": values["services_sales"]})
    _raise(errors)
    return values, components


@transaction.atomic
def save_fats_in(report: Report, data: dict, actor, reason: str = "") -> None:
    report = _editable(report, ReportForm.Code.FATS_IN, actor)
    values, components = _clean_fats_in(data)
    before = fats_in_content(report) or {}
    fats, _created = FatsInward.objects.update_or_create(report=report, defaults=values)
    fats.service_sales.all().delete()
    FatsInwardServiceSales.objects.bulk_create(
        FatsInwardServiceSales(fats=fats, service=c, amount=a) for c, a in components.items())
    report.refresh_from_db()
    _audit(actor, report, before, fats_in_content(report), reason)


# --- outward FATS ----------------------------------------------------------------------------------------------

def fats_out_content(report: Report) -> list[dict]:
    return [{"name": a.name, "host_country": a.host_country.alpha2, "activity": a.activity.code,
             "turnover": a.turnover, "employment": a.employment, "total_assets": a.total_assets,
             "net_profit": a.net_profit, "ownership_share": a.ownership_share}
            for a in report.affiliates.select_related("host_country", "activity").order_by("id")]


def _clean_affiliates(items: list[dict]) -> list[dict]:
    errors = _Errors()
    out = []
    for i, data in enumerate(items, start=1):
        p = f"affiliates.{i}."
        row = {"name": clean_text(data.get("name"))}
        if not row["name"]:
            errors.add(p + "name", "", "required", _("A name is required."))
        row["host_country"] = _ref(Country, "alpha2", data, "host_country", errors, p + "host_country")
        if row["host_country"] is not None and row["host_country"].alpha2 == "CN":
            errors.add(p + "host_country", "CN", "domestic_host", _("An overseas affiliate is outside the Chinese mainland."))
        row["activity"] = _ref(Industry, "code", data, "activity", errors, p + "activity")
        for k in OUTWARD_MONEY:
            row[k] = _money(data, k, errors, p + k)
        row["net_profit"] = _money(data, "net_profit", errors, p + "net_profit", allow_negative=True)
        row["employment"] = _count(data, "employment", errors, p + "employment")
        row["ownership_share"] = _share(data, "ownership_share", errors, p + "ownership_share")
        if row["ownership_share"] is not None and row["ownership_share"] <= 50:
            errors.add(p + "ownership_share", data.get("ownership_share"), "not_controlled",
                       _("FATS covers affiliates in which Chinese ownership exceeds 50%."))
        out.append(row)
    _raise(errors)
    return out


@transaction.atomic
def save_fats_out(report: Report, items: list[dict], actor, *, nil_return: bool = False, reason: str = "") -> None:
    report = _editable(report, ReportForm.Code.FATS_OUT, actor)
    rows = _clean_affiliates(items)
    if nil_return and rows:
        raise ReportError(_("A nil return cannot list affiliates."), code="nil_with_lines")
    before = {"affiliates": fats_out_content(report), "nil_return": report.nil_return}
    report.affiliates.all().delete()
    FatsOutwardAffiliate.objects.bulk_create(FatsOutwardAffiliate(report=report, **r) for r in rows)
    if report.nil_return != nil_return:
        report.nil_return = nil_return
        report.save(update_fields=["nil_return", "updated"])
    after = {"affiliates": fats_out_content(report), "nil_return": nil_return}
    _audit(actor, report, before, after, reason)


# --- shared ----------------------------------------------------------------------------------------------------

def _editable(report: Report, form_code: str, actor) -> Report:
    report = Report.objects.select_for_update().select_related("form", "enterprise").get(pk=report.pk)
    if report.form.code != form_code:
        raise ReportError(_("This report is not a %(f)s.") % {"f": ReportForm.Code(form_code).label}, code="wrong_form")
    check_editable(report, actor)
    return report


def _flatten(content) -> dict:
    if isinstance(content, dict) and "affiliates" in content:
        flat = {"nil_return": content["nil_return"]}
        for i, a in enumerate(content["affiliates"], start=1):
            flat.update({f"affiliate {i}.{k}": v for k, v in a.items()})
        return flat
    if isinstance(content, dict):
        flat = {k: v for k, v in content.items() if not isinstance(v, dict)}
        for k, v in content.items():
            if isinstance(v, dict):
                flat.update({f"{k}.{c}": a for c, a in v.items()})
        return flat
    return {}


def _audit(actor, report: Report, before, after, reason: str) -> None:
    changes = audit.diff(_flatten(before), _flatten(after))
    if changes:
        audit.record(actor, f"update:{report.form.code}", report, changes=changes, reason=reason,
                     enterprise=report.enterprise, report=report)


def content_errors(report: Report) -> list[dict]:
    """What stops an annual report from being submitted: its content is missing."""
    code = report.form.code
    missing = (
        (code == ReportForm.Code.BASIC and not hasattr(report, "basic"))
        or (code == ReportForm.Code.FATS_IN and not hasattr(report, "fats_in"))
        or (code == ReportForm.Code.FATS_OUT and not report.nil_return and not report.affiliates.exists())
    )
    if missing:
        return [{"row": None, "field": "content", "value": "", "code": "empty",
                 "message": _("Fill in the form (or declare a nil return where the form allows it) before submitting.")}]
    return []


def copy_content(old: Report, new: Report) -> None:
    """A revision starts from the accepted version's content."""
    basic = getattr(old, "basic", None)
    if basic is not None:
        basic.pk = None
        basic.report = new
        basic.save()
    fats = getattr(old, "fats_in", None)
    if fats is not None:
        sales = list(fats.service_sales.all())
        fats.pk = None
        fats.report = new
        fats.save()
        for s in sales:
            s.pk, s.fats = None, fats
        FatsInwardServiceSales.objects.bulk_create(sales)
    affiliates = list(old.affiliates.all())
    for a in affiliates:
        a.pk, a.report = None, new
    FatsOutwardAffiliate.objects.bulk_create(affiliates)


def content(report: Report):
    code = report.form.code
    if code == ReportForm.Code.BASIC:
        return basic_content(report)
    if code == ReportForm.Code.FATS_IN:
        return fats_in_content(report)
    if code == ReportForm.Code.FATS_OUT:
        return {"affiliates": fats_out_content(report), "nil_return": report.nil_return}
    return None
