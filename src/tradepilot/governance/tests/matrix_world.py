"""Targets of the governance rows of the permission matrix.

Beijing's pilot area is the target (as the Beijing enterprise `bj` is for reporting rows): `bureau_bj` is its own
bureau, `bureau_hz` the bureau of another area, `bureau_zj` a province whose subtree holds Hangzhou but not
Beijing; `agency` is customs (GACC). Objects are made on first use within the cell's transaction.
"""

from __future__ import annotations

from functools import cached_property

from tradepilot.core.models import PilotArea
from tradepilot.governance.models import AreaTask, Task

# 附件3: 深入改革通关监管制度和模式 … names 海关总署 (customs co-owns it); 强化地方服务贸易跨部门统筹协调决策机制
# names only the areas and the ministry.
CO_OWNED_TASK_TEXT = "深入改革通关监管制度和模式"
OTHER_TASK_TEXT = "强化地方服务贸易跨部门统筹协调决策机制"


class GovTargets:
    def __init__(self, ctx):
        self.ctx = ctx

    @cached_property
    def area_bj(self) -> PilotArea:
        return PilotArea.objects.select_related("region", "round").get(region__code="110000")

    @cached_property
    def area_hz(self) -> PilotArea:
        return PilotArea.objects.select_related("region", "round").get(region__code="330100")

    def _area_task(self, area: PilotArea, text: str) -> AreaTask:
        task = Task.objects.get(round=area.round, text_zh__startswith=text)
        return AreaTask.objects.get(area=area, task=task)

    @cached_property
    def task_co_owned(self) -> AreaTask:
        """Beijing × a task customs co-owns."""
        return self._area_task(self.area_bj, CO_OWNED_TASK_TEXT)

    @cached_property
    def task_other(self) -> AreaTask:
        """Beijing × a task customs does not co-own."""
        return self._area_task(self.area_bj, OTHER_TASK_TEXT)
