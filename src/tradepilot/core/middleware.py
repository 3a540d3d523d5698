"""Request middleware of the platform.

- `ChineseFirstMiddleware`: the interface language is zh-Hans unless the user chose another with the language
  switch. Django's LocaleMiddleware would follow the browser's Accept-Language; a national platform answers in
  Chinese by default, so that header is ignored and only the language cookie (set by /i18n/setlang/) counts.
- `RefuseNulMiddleware`: a request carrying the NUL character (U+0000) in a query parameter, a form field or a JSON
  string is refused with 400 naming the parameter, before any view runs. PostgreSQL text cannot hold NUL (the
  query would fail as a 500) while SQLite would store it; no field of the platform has a use for it.
"""

from __future__ import annotations

import json

from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

from tradepilot.core.api_base import error_body

NUL = "\x00"


class ChineseFirstMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.META.pop("HTTP_ACCEPT_LANGUAGE", None)
        return self.get_response(request)


def _nul_in_json(value, path: str = "") -> str | None:
    """The dotted path of the first string (or key) in a JSON document that holds NUL, or None."""
    if isinstance(value, str):
        return (path or "body") if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return inner
            if (found := _nul_in_json(item, inner)) is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            if (found := _nul_in_json(item, f"{path}.{i}" if path else str(i))) is not None:
                return found
    return None


def nul_parameter(request) -> str | None:
    """The name of the first query parameter, form field or JSON string of the request that holds NUL."""
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in v for v in values):
            return name
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return None
    if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        for name, values in request.POST.lists():  # uploaded files' contents are not looked at
            if NUL in name or any(NUL in v for v in values):
                return name
    elif request.content_type == "application/json" and (b"\\u0000" in request.body or b"\x00" in request.body):
        try:
            return _nul_in_json(json.loads(request.body)) or "body"
        except ValueError:
            return "body"
    return None


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = nul_parameter(request)
        if name is None:
            return self.get_response(request)
        message = _("The text contains a NUL character (U+0000), which no field accepts.")
        if request.path.startswith("/api/"):
            return JsonResponse(error_body(message, "invalid_character", [
                {"row": None, "field": name, "value": "", "code": "invalid_character", "message": message}]),
                status=400)
        return HttpResponseBadRequest(f"{name}: {message}", content_type="text/plain; charset=utf-8")
