"""API operations of the governance app's warning part."""

from ninja import Router

router = Router()
