"""API operations of the governance app's programme part."""

from ninja import Router

router = Router()
