"""API operations of the governance app's evaluation part."""

from ninja import Router

router = Router()
