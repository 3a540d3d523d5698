"""API operations of the governance app's results part."""

from ninja import Router

router = Router()
