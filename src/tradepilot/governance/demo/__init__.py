"""Demo data for pilot governance, built after the programme is loaded and the demo users exist.

Each part of the app has a module here with `build(ctx: DemoContext) -> str` (returns a one-line summary);
`build_all` runs them in order: programme tracking first (later parts read it).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from tradepilot.core.models import PilotArea, PilotRound


@dataclass
class DemoContext:
    round: PilotRound
    today: dt.date
    seed: int = 20181231
    say: object = print
    areas: dict = field(default_factory=dict)  # region code -> PilotArea

    def rng(self, *parts) -> random.Random:
        return random.Random("|".join(str(p) for p in (self.seed, *parts)))

    def user(self, username: str):
        return get_user_model().objects.filter(username=username).first()


def build_all(today: dt.date | None = None, say=print) -> list[str]:
    """Build every part's demo data once: a database that already has governance records is left alone."""
    from tradepilot.governance.models import WorkPlan

    if WorkPlan.objects.exists():
        return ["governance records exist: no governance demo data generated"]
    from tradepilot.governance.demo import evaluation, measures, programme, results, tracking, warning

    summaries = []
    for rnd in PilotRound.objects.all():
        if not hasattr(rnd, "programme"):
            continue
        ctx = DemoContext(round=rnd, today=today or dt.date.today(), say=say)
        ctx.areas = {a.region.code: a for a in PilotArea.objects.filter(round=rnd).select_related("region")}
        for part in (programme, tracking, measures, results, evaluation, warning):
            summaries.append(part.build(ctx))
    return [s for s in summaries if s]
