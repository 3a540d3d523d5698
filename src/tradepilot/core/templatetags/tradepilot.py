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
    # pilot governance
    "plan:create": _("work plan drafted"),
    "plan:submit": _("work plan submitted"),
    "plan:approve": _("work plan approved"),
    "plan:return": _("work plan returned"),
    "task:status": _("task status changed"),
    "progress:create": _("progress report filed"),
    "progress:update": _("progress report updated"),
    "progress:confirmed": _("progress confirmed by the department"),
    "progress:disputed": _("progress disputed by the department"),
    "evidence:add": _("evidence attached"),
    "evidence:delete": _("evidence removed"),
    "notice:issue": _("supervision notice issued"),
    "notice:reply": _("supervision notice answered"),
    "notice:close": _("supervision notice closed"),
    "measure:update": _("opening measure record changed"),
    "measure_effect:create": _("measure effect added"),
    "measure_effect:update": _("measure effect changed"),
    "measure_effect:delete": _("measure effect removed"),
    "results.create": _("results report opened"),
    "results.narrative": _("results narrative changed"),
    "results.pull_figures": _("results figures pulled"),
    "results.submit": _("results report submitted"),
    "results.approve": _("results report accepted"),
    "results.return": _("results report returned"),
    "experience.create": _("experience case written"),
    "experience.update": _("experience case changed"),
    "experience.submit": _("experience case submitted"),
    "experience.publish": _("experience case published"),
    "experience.return": _("experience case returned"),
    "experience.adopt": _("experience adopted by another area"),
    "evaluation_system:create": _("indicator system created"),
    "evaluation_indicator:create": _("evaluation indicator added"),
    "evaluation_indicator:update": _("evaluation indicator changed"),
    "evaluation_indicator:delete": _("evaluation indicator removed"),
    "evaluation:run": _("evaluation run"),
    "warning:rule_update": _("early-warning indicator changed"),
    "warning:fire": _("alert fired"),
    "warning:rescan": _("alert updated by a scan"),
    "warning:acknowledge": _("alert acknowledged"),
    "warning:handle": _("alert handled"),
}


@register.filter
def action_label(code: str) -> str:
    return ACTIONS.get(code, code)
