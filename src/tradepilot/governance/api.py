"""Governance API operations, mounted at /api/v1/governance. Each part of the app keeps its own router."""

from ninja import Router

from tradepilot.governance import (
    evaluation_api,
    measures_api,
    programme_api,
    results_api,
    tracking_api,
    warning_api,
)

router = Router(tags=["governance"])
router.add_router("", programme_api.router)
router.add_router("", tracking_api.router)
router.add_router("", measures_api.router)
router.add_router("", results_api.router)
router.add_router("", evaluation_api.router)
router.add_router("", warning_api.router)
