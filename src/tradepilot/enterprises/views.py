"""Enterprise registry pages: search, detail with reports and history, register, edit, deactivate."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from tradepilot.core.models import AuditLog, Industry, Region, Role
from tradepilot.core.roles import role_of
from tradepilot.core.scoping import get_scoped, scope
from tradepilot.enterprises import services
from tradepilot.enterprises.api import search
from tradepilot.enterprises.models import Enterprise

FORM_FIELDS = ("uscc", "name", "name_en", "region", "industry", "registration_type", "established", "address",
               "contact_name", "contact_phone", "contact_email", "key_contact_year", "systemic_year")
VIEW_ROLES = (Role.MINISTRY, Role.BUREAU, Role.AUDITOR)


def _flag(value) -> bool | None:
    return {"1": True, "0": False}.get(value or "")


@login_required
def enterprise_list(request):
    if role_of(request.user) not in VIEW_ROLES:
        raise PermissionDenied
    qs = search(scope(request.user, Enterprise.objects.select_related("region", "industry")),
                request.GET.get("q", "").strip(), request.GET.get("region") or None,
                _flag(request.GET.get("key_contact")), _flag(request.GET.get("systemic")),
                _flag(request.GET.get("active", "1")))
    if request.GET.get("format") == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="enterprises.csv"'
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(["uscc", "name", "region", "industry", "registration_type", "key_contact", "systemic", "active"])
        for e in qs.iterator():
            writer.writerow([e.uscc, e.name, e.region.code, e.industry.code if e.industry else "",
                             e.registration_type, e.is_key_contact, e.is_systemic, e.is_active])
        return response
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(request, "enterprises/list.html", {
        "page": page, "params": request.GET, "can_register": role_of(request.user) in (Role.MINISTRY, Role.BUREAU),
    })


@login_required
def enterprise_detail(request, pk: int):
    enterprise = get_scoped(request.user, Enterprise.objects.select_related("region", "industry"), pk=pk)
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        try:
            services.set_active(request.user, enterprise, active, request.POST.get("reason", ""))
            messages.success(request, _("Saved."))
        except services.EnterpriseError as exc:
            messages.error(request, exc.errors[0]["message"])
        return redirect("enterprises:detail", pk)
    reports = scope(request.user, enterprise.reports.filter(is_current=True).select_related("form"))[:36]
    history = AuditLog.objects.filter(enterprise=enterprise, report__isnull=True).select_related("actor")[:50]
    return render(request, "enterprises/detail.html", {
        "e": enterprise, "reports": reports, "history": history,
        "can_manage": services.can_manage(request.user, enterprise.region),
    })


def _form_data(post) -> dict:
    data = {k: (post.get(k) or "").strip() for k in FORM_FIELDS}
    for k in ("key_contact_year", "systemic_year"):
        # Digits become a number for the service to check; other text goes as it is, to be refused by name.
        data[k] = int(data[k]) if data[k].isdigit() else (data[k] or None)
    data["established"] = data["established"] or None
    data["is_key_contact"] = post.get("is_key_contact") == "on"
    data["is_systemic"] = post.get("is_systemic") == "on"
    return data


def _form_context(request, data, errors, enterprise=None):
    return {
        "data": data, "errors": {e["field"]: e["message"] for e in errors}, "enterprise": enterprise,
        "regions": Region.objects.filter(level__lte=3).order_by("path"),
        "industries": Industry.objects.filter(parent__isnull=False),
        "types": Enterprise.RegistrationType.choices,
    }


@login_required
def enterprise_register(request):
    if role_of(request.user) not in (Role.MINISTRY, Role.BUREAU):
        raise PermissionDenied
    data, errors, status = {}, [], 200
    if request.method == "POST":
        data = _form_data(request.POST)
        if not data["industry"]:
            data["industry"] = None
        try:
            enterprise = services.register(request.user, data)
            messages.success(request, _("Registered %(name)s.") % {"name": enterprise.name})
            return redirect("enterprises:detail", enterprise.pk)
        except services.EnterpriseError as exc:
            errors, status = exc.errors, exc.status  # 403 for a region outside the user's, else 400
        except Exception as exc:  # a malformed date reaches the model layer
            from django.core.exceptions import ValidationError

            if not isinstance(exc, ValidationError):
                raise
            errors, status = [{"field": "established", "message": _("Use the date format YYYY-MM-DD.")}], 400
    return render(request, "enterprises/form.html", _form_context(request, data, errors), status=status)


@login_required
def enterprise_edit(request, pk: int):
    enterprise = get_scoped(request.user, Enterprise.objects.select_related("region", "industry"), pk=pk)
    if not services.can_manage(request.user, enterprise.region):
        raise PermissionDenied
    errors, status = [], 200
    if request.method == "POST":
        data = _form_data(request.POST)
        data.pop("uscc")
        if not data["industry"]:
            data["industry"] = None
        try:
            services.update(request.user, enterprise, data, request.POST.get("reason", ""))
            messages.success(request, _("Saved."))
            return redirect("enterprises:detail", pk)
        except services.EnterpriseError as exc:
            errors, status = exc.errors, exc.status
        data["uscc"] = enterprise.uscc
    else:
        data = {k: getattr(enterprise, k) for k in FORM_FIELDS if k not in ("region", "industry")}
        data.update(region=enterprise.region.code, industry=enterprise.industry.code if enterprise.industry else "",
                    is_key_contact=enterprise.is_key_contact, is_systemic=enterprise.is_systemic,
                    established=enterprise.established.isoformat() if enterprise.established else "")
    return render(request, "enterprises/form.html", _form_context(request, data, errors, enterprise), status=status)
