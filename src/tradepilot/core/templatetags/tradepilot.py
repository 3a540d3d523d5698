"""Template helpers: readable labels for audit actions."""

from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

ACTIONS = {
    "create": _("created"),
    "submit": _("submitted"),
    "approve": _("approved"),
    "accept": _("accepted"),
    "return": _("returned"),
    "revise": _("revision opened"),
    "supersede": _("superseded by a revision"),
    "lock": _("locked"),
    "explain": _("explanations given"),
    "register": _("enterprise registered"),
    "update": _("enterprise changed"),
    "activate": _("enterprise reactivated"),
    "deactivate": _("enterprise deactivated"),
    "lock_exception": _("lock exception granted"),
    "rate:create": _("exchange rate published"),
    "rate:update": _("exchange rate changed"),
    "update_lines:form": _("lines changed in the form"),
    "update_lines:api": _("lines changed through the API"),
    "update_lines:import": _("lines imported from a file"),
    "update:basic": _("basic registration changed"),
    "update:fats_in": _("inward FATS changed"),
    "update:fats_out": _("outward FATS changed"),
    "seed": _("generated demo history"),
}


@register.filter
def action_label(code: str) -> str:
    return ACTIONS.get(code, code)
