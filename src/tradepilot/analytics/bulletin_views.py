"""The monthly bulletin page and its PDF and XLSX downloads (`?format=html|pdf|xlsx`)."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _

from tradepilot.analytics import bulletin as bulletins
from tradepilot.analytics import dashboard
from tradepilot.core.models import PilotArea, Region
from tradepilot.core.scoping import visible_region_paths

logger = logging.getLogger(__name__)

FORMATS = ("html", "pdf", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _choices(user) -> dict:
    """Regions and pilot areas the user may ask a bulletin for (the form on the page)."""
    scope = visible_region_paths(user)
    regions = Region.objects.filter(level__lte=Region.Level.CITY)
    areas = PilotArea.objects.select_related("region").order_by("round__start_date", "order")
    if scope:
        regions = regions.filter(path__startswith=scope)
        areas = areas.filter(region__path__startswith=scope)
    else:
        regions = regions.filter(level=Region.Level.PROVINCE)
    return {"regions": regions.order_by("path"), "pilot_areas": areas, "user_scope": scope}


class _MissingGlyphs(logging.Filter):
    """Counts WeasyPrint's one-warning-per-character ".notdef glyph" messages instead of letting them through."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if ".notdef glyph" in record.getMessage():
            self.count += 1
            return False
        return True


def render_pdf(html: str, base_url: str) -> bytes:
    import weasyprint

    started = time.perf_counter()
    missing = _MissingGlyphs()
    weasyprint_logger = logging.getLogger("weasyprint")
    weasyprint_logger.addFilter(missing)
    try:
        # The bulletin is self-contained (inline CSS and SVG): fetch nothing but data: URLs.
        pdf = weasyprint.HTML(string=html, base_url=base_url,
                              url_fetcher=weasyprint.URLFetcher(allowed_protocols=("data",))).write_pdf()
    finally:
        weasyprint_logger.removeFilter(missing)
    if missing.count:
        logger.warning("bulletin PDF: %d characters had no font; install a CJK font on the server "
                       "(Debian: fonts-noto-cjk)", missing.count)
    logger.info("bulletin PDF rendered in %.2f s (%d bytes)", time.perf_counter() - started, len(pdf))
    return pdf


def _bad_request(request, fmt: str, field: str, message: str) -> HttpResponse:
    if fmt == "html":
        return render(request, "analytics/bulletin.html", {
            "base_template": "base.html", "bulletin": None, "error": {"field": field, "message": message},
            **_choices(request.user)}, status=400)
    return HttpResponse(f"{field}: {message}", status=400, content_type="text/plain; charset=utf-8")


@login_required
def bulletin(request):
    dashboard.require_dashboard_user(request.user)
    fmt = (request.GET.get("format") or "html").strip()
    if fmt not in FORMATS:
        return _bad_request(request, "html", "format", _("Choose html, pdf or xlsx."))
    try:
        b = bulletins.build(request.user, request.GET)
    except dashboard.ParameterError as exc:
        return _bad_request(request, fmt, exc.field, exc.message)

    if fmt == "xlsx":
        response = HttpResponse(bulletins.to_xlsx(b), content_type=XLSX_TYPE)
    else:
        context = {"bulletin": b, "indicators_url": request.build_absolute_uri(reverse("analytics:indicators")),
                   "base_template": "analytics/bulletin_pdf.html" if fmt == "pdf" else "base.html"}
        if fmt == "html":
            return render(request, "analytics/bulletin.html", {**context, **_choices(request.user),
                                                               "query": urlencode(b.params)})
        html = render_to_string("analytics/bulletin.html", context, request=request)
        response = HttpResponse(render_pdf(html, request.build_absolute_uri("/")), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{b.filename(fmt)}"'
    return response
