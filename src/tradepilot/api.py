"""The `/api/v1` API: one NinjaAPI with bearer-token (or session) auth and JSON errors for every failure."""

from tradepilot.core.api_base import build_api

api = build_api()
