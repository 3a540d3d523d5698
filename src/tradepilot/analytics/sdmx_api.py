"""SDMX REST endpoints for the protected service-trade aggregates (see `sdmx.py` for the DSD and key syntax).

Public: every operation has `auth=None`, because every published value has been through disclosure control.
The API mounts the router with `api.add_router("/sdmx/", router)`, which gives:

    GET /api/v1/sdmx/data/{flow}                        all data of the dataflow
    GET /api/v1/sdmx/data/{flow}/{key}                  e.g. data/SERVICES_TRADE/M.CN.W1.SC+SD.C._T
        ?startPeriod=2026-01&endPeriod=2026-06&format=sdmx-ml|sdmx-csv
    GET /api/v1/sdmx/structure/{type}[/{agency}[/{id}[/{version}]]]?references=none|children|descendants|…
        type: dataflow, datastructure, codelist, conceptscheme, or structure (all of them)
    GET /api/v1/sdmx/{type}[/{agency}[/{id}[/{version}]]]   the same at the SDMX 2.1 REST paths, which
        SDMX clients (e.g. sdmx1's Client) ask for; not in the OpenAPI schema

Format: the `format` parameter (sdmx-ml, sdmx-csv) wins; otherwise the Accept header
(`application/vnd.sdmx.structurespecificdata+xml;version=2.1`, `application/vnd.sdmx.data+csv;version=2.0.0`);
by default SDMX-ML. Errors use the API's JSON error shape with the statuses SDMX REST prescribes: 400 for a
bad key or period (the error's `field` names the dimension or parameter), 404 for an unknown dataflow or
structure and for a query without results, 406 for a format this service does not write.
"""

from __future__ import annotations

from django.http import HttpResponse, JsonResponse
from ninja import Query, Router

from tradepilot.analytics import sdmx
from tradepilot.core.api_base import error_body

router = Router(tags=["sdmx"], auth=None)

_XML_FORMATS = {"sdmx-ml", "xml", "structurespecificdata", "structurespecific"}
_CSV_FORMATS = {"sdmx-csv", "csv"}


def _error(exc: sdmx.QueryError, value: str = "") -> JsonResponse:
    errors = [{"row": None, "field": exc.field, "value": value[:100], "code": exc.code,
               "message": exc.detail}]
    return JsonResponse(error_body(exc.detail, exc.code, errors), status=exc.status)


def negotiate(fmt: str | None, accept: str | None) -> str:
    """"xml" or "csv" from the `format` parameter, else from the Accept header; QueryError 406 if neither
    names a format written here."""
    if fmt:
        wanted = fmt.strip().lower()
        if wanted in _XML_FORMATS:
            return "xml"
        if wanted in _CSV_FORMATS:
            return "csv"
        raise sdmx.QueryError(406, "not_acceptable", f"format: {fmt!r} is not sdmx-ml or sdmx-csv", "format")
    if not accept:
        return "xml"
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ("application/vnd.sdmx.data+csv", "text/csv"):
            return "csv"
        if media in ("application/vnd.sdmx.structurespecificdata+xml", "application/xml", "text/xml", "*/*",
                     "application/*"):
            return "xml"
    raise sdmx.QueryError(406, "not_acceptable", f"Accept: none of {accept!r} is written here; use "
                                                 f"{sdmx.MEDIA_DATA_XML} or {sdmx.MEDIA_DATA_CSV}", "Accept")


def _data(request, flow: str, key: str | None, start_period: str | None, end_period: str | None,
          fmt: str | None) -> HttpResponse:
    try:
        chosen = negotiate(fmt, request.headers.get("Accept"))
        body = sdmx.data_message(flow, key, start_period, end_period, fmt=chosen)
    except sdmx.QueryError as exc:
        value = {"flow": flow, "startPeriod": start_period, "endPeriod": end_period, "format": fmt}.get(
            exc.field, key)
        return _error(exc, value or "")
    media = sdmx.MEDIA_DATA_CSV if chosen == "csv" else sdmx.MEDIA_DATA_XML
    response = HttpResponse(body, content_type=media)
    response["Vary"] = "Accept"
    if chosen == "csv":
        response["Content-Disposition"] = f'inline; filename="{sdmx.FLOW_ID}.csv"'
    return response


@router.get("/data/{flow}", auth=None, summary="SDMX data: all of a dataflow")
def data_all(request, flow: str, start_period: str | None = Query(None, alias="startPeriod"),
             end_period: str | None = Query(None, alias="endPeriod"),
             fmt: str | None = Query(None, alias="format")):
    return _data(request, flow, None, start_period, end_period, fmt)


@router.get("/data/{flow}/{key}", auth=None, summary="SDMX data for a key (FREQ.REF_AREA.COUNTERPART_AREA."
                                                      "BOP_ITEM.ACCOUNTING_ENTRY.MODE_OF_SUPPLY)")
def data_key(request, flow: str, key: str, start_period: str | None = Query(None, alias="startPeriod"),
             end_period: str | None = Query(None, alias="endPeriod"),
             fmt: str | None = Query(None, alias="format")):
    return _data(request, flow, key, start_period, end_period, fmt)


def _structure(resource: str, agency: str = "all", resource_id: str = "all", version: str = "latest",
               references: str | None = None) -> HttpResponse:
    try:
        body = sdmx.structure_query(resource, agency, resource_id, version, references)
    except sdmx.QueryError as exc:
        return _error(exc, references if exc.field == "references" else f"{resource}/{agency}/{resource_id}")
    return HttpResponse(body, content_type=sdmx.MEDIA_STRUCTURE_XML)


@router.get("/structure/{resource}", auth=None, summary="SDMX structures of a type")
def structure_type(request, resource: str, references: str | None = None):
    return _structure(resource, references=references)


@router.get("/structure/{resource}/{agency}", auth=None, summary="SDMX structures of a type and agency")
def structure_agency(request, resource: str, agency: str, references: str | None = None):
    return _structure(resource, agency, references=references)


@router.get("/structure/{resource}/{agency}/{resource_id}", auth=None,
            summary="SDMX structure, latest version")
def structure_id(request, resource: str, agency: str, resource_id: str, references: str | None = None):
    return _structure(resource, agency, resource_id, references=references)


@router.get("/structure/{resource}/{agency}/{resource_id}/{version}", auth=None, summary="SDMX structure")
def structure_version(request, resource: str, agency: str, resource_id: str, version: str,
                      references: str | None = None):
    return _structure(resource, agency, resource_id, version, references)


def _register_sdmx21_paths(resource: str) -> None:
    """`/{resource}/{agency}/{id}/{version}` (SDMX 2.1 REST) for one structure type."""

    def by_type(request, references: str | None = None):
        return _structure(resource, references=references)

    def by_agency(request, agency: str, references: str | None = None):
        return _structure(resource, agency, references=references)

    def by_id(request, agency: str, resource_id: str, references: str | None = None):
        return _structure(resource, agency, resource_id, references=references)

    def by_version(request, agency: str, resource_id: str, version: str, references: str | None = None):
        return _structure(resource, agency, resource_id, version, references)

    for suffix, view in (("", by_type), ("/{agency}", by_agency), ("/{agency}/{resource_id}", by_id),
                         ("/{agency}/{resource_id}/{version}", by_version)):
        router.add_api_operation(f"/{resource}{suffix}", ["GET"], view, auth=None, include_in_schema=False,
                                 operation_id=f"sdmx21_{resource}_{view.__name__}")


for _resource in sdmx.STRUCTURE_TYPES:
    _register_sdmx21_paths(_resource)
