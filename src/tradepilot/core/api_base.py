"""The NinjaAPI instance's shared parts: authentication, error shape, pagination helpers.

Every error is JSON: `{"detail": message, "code": code, "errors": [{"row", "field", "value", "code", "message"}]}`.
Request-body validation errors name the field path (e.g. `lines.3.amount`).
"""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth
from pydantic import Field

from tradepilot.core.params import MAX_ROW_ID
from tradepilot.core.tokens import user_for_token


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


class ApiError(Exception):
    """Raised by API handlers to answer a 4xx with located errors."""

    def __init__(self, status: int, detail: str, code: str, errors: list | None = None):
        super().__init__(detail)
        self.status, self.detail, self.code, self.errors = status, detail, code, errors or []


#: A row id given as a query parameter (`?area_id=`): a positive integer in the databases' integer range, so that
#: a larger one is a 422 naming the parameter rather than SQLite's OverflowError or PostgreSQL's "out of range".
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]

MAX_PAGE = 500
# Beyond any table's size, and within every database's integer range for OFFSET.
MAX_OFFSET = 2**31 - 1


def page_slice(limit: int, offset: int, max_limit: int = MAX_PAGE) -> slice:
    """The rows a list operation answers (`qs[page_slice(limit, offset)]`): limit clamped to 1..max_limit and
    offset to 0..MAX_OFFSET, so whatever numbers a client sends it gets a page (maybe empty), never an error."""
    start = min(max(0, offset), MAX_OFFSET)
    return slice(start, start + max(1, min(limit, max_limit)))


def error_body(detail: str, code: str, errors: list | None = None) -> dict:
    return {"detail": detail, "code": code, "errors": errors or []}


def _loc(loc) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "form", "file", "payload")]
    return ".".join(parts)


def build_api() -> NinjaAPI:
    api = NinjaAPI(
        title="Trade Pilot API",
        version="1",
        description="服务贸易创新发展试点综合平台 — enterprise direct reporting, reference data, review workflow.",
        auth=[BearerToken(), django_auth],
        urls_namespace="api",
    )

    @api.exception_handler(NinjaValidationError)
    def on_validation(request, exc):
        errors = [
            {"row": None, "field": _loc(e.get("loc", ())), "value": str(e.get("input", ""))[:100] if "input" in e else "",
             "code": e.get("type", "invalid"), "message": e.get("msg", "")}
            for e in exc.errors
        ]
        return api.create_response(request, error_body("Invalid request.", "validation", errors), status=422)

    @api.exception_handler(Http404)
    def on_404(request, exc):
        return api.create_response(request, error_body("Not found.", "not_found"), status=404)

    @api.exception_handler(PermissionDenied)
    def on_403(request, exc):
        return api.create_response(request, error_body(str(exc) or "Forbidden.", "forbidden"), status=403)

    @api.exception_handler(AuthenticationError)
    def on_401(request, exc):
        return api.create_response(request, error_body("Authentication required.", "unauthorized"), status=401)

    @api.exception_handler(ApiError)
    def on_api_error(request, exc):
        return api.create_response(request, error_body(exc.detail, exc.code, exc.errors), status=exc.status)

    @api.exception_handler(HttpError)
    def on_http(request, exc):
        return api.create_response(request, error_body(str(exc), "error"), status=exc.status_code)

    from tradepilot.core.api import router as core_router
    from tradepilot.enterprises.api import router as enterprise_router
    from tradepilot.reporting.api import register_error_handlers
    from tradepilot.reporting.api import router as reporting_router

    api.add_router("/", core_router)
    api.add_router("/enterprises", enterprise_router)
    api.add_router("/", reporting_router)
    from tradepilot.analytics.api import router as analytics_router

    api.add_router("/", analytics_router)
    from tradepilot.analytics.sdmx_api import router as sdmx_router

    api.add_router("/sdmx/", sdmx_router)
    from tradepilot.governance.api import router as governance_router

    api.add_router("/governance", governance_router)
    register_error_handlers(api)
    return api


__all__ = ["MAX_PAGE", "ApiError", "RowId", "build_api", "error_body", "page_slice"]
