"""API operations of the governance app's measures part."""

from ninja import Router

router = Router()
