"""API operations of the governance app's tracking part."""

from ninja import Router

router = Router()
