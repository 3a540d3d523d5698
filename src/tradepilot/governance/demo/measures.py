"""Demo data: the opening measures in the pilot areas, and their quarterly effects.

Most areas put most measures into effect between 2018-Q4 and 2019-Q4, each by a local document titled after the
area (《杭州市深化服务贸易创新发展试点实施方案》, or implementing rules for the industry); the measures that only
"explore" (探索…) are less often in effect. The 144-hour visa-free transit measure names Guangdong, so it applies to
the Guangdong areas (深圳, 广州) and is not applicable elsewhere. Effects rise quarter by quarter from the quarter a
measure took effect to the end of the round (or today). Everything is drawn from `ctx.rng`, so the same seed gives
the same data.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction

from tradepilot.core import audit
from tradepilot.core.models import Profile, Role
from tradepilot.governance.measures import quarter_of, round_quarters
from tradepilot.governance.models import AreaMeasure, MeasureEffect, MeasureStatus

WINDOW = (dt.date(2018, 10, 1), dt.date(2019, 12, 31))  # when most measures took effect (2018-Q4 … 2019-Q4)
GUANGDONG = "44"  # province prefix of the region codes
CENT = Decimal("0.01")


def _guangdong_only(measure) -> bool:
    return "144" in measure.text_zh and "广东" in measure.text_zh


def _documents(area, measure, rng) -> str:
    place = area.region.name_zh
    if rng.random() < 0.7:
        return f"《{place}深化服务贸易创新发展试点实施方案》"
    return f"《{place}关于落实{measure.industry_zh}领域开放便利举措的实施细则》"


def _legal_basis(rnd, measure) -> str:
    regulation = measure.regulations.first()
    adjusted = f"{regulation.instrument_zh}的有关规定" if regulation is not None else "相关规定"
    return f"《国务院关于同意深化服务贸易创新发展试点的批复》（{rnd.document}）附件2：试点期内暂时调整实施{adjusted}"


def _effects(am, rnd, today, rng) -> list[MeasureEffect]:
    first = quarter_of(am.implemented_on)
    quarters = [q for q in round_quarters(rnd, until=today) if q >= first]
    enterprises = Decimal(rng.randint(2, 8))
    per_enterprise = Decimal(rng.randint(3, 12))
    per_transaction = Decimal(rng.randint(2000, 20000)) / 100  # 10,000 CNY
    out = []
    for year, quarter in quarters:
        transactions = (enterprises * per_enterprise).quantize(Decimal(1), ROUND_HALF_UP)
        amount = (transactions * per_transaction).quantize(CENT, ROUND_HALF_UP)
        for indicator, value in (("enterprises", enterprises), ("transactions", transactions), ("amount", amount)):
            out.append(MeasureEffect(area_measure=am, year=year, quarter=quarter, indicator=indicator,
                                     value=value.quantize(CENT)))
        growth = Decimal(rng.randint(108, 140)) / 100
        enterprises = max(enterprises + 1, (enterprises * growth).quantize(Decimal(1), ROUND_HALF_UP))
        per_transaction = (per_transaction * Decimal(rng.randint(98, 108)) / 100).quantize(CENT, ROUND_HALF_UP)
    return out


def build(ctx) -> str:
    rnd = ctx.round
    rows = list(AreaMeasure.objects.filter(area__round=rnd).select_related("area__region", "measure")
                .order_by("area__order", "measure__order"))
    if not rows or MeasureEffect.objects.filter(area_measure__area__round=rnd).exists():
        return ""
    bureaus = {p.region.code: p.user for p in Profile.objects.filter(role=Role.BUREAU, region__isnull=False)
               .select_related("region", "user")}
    start, end = max(WINDOW[0], rnd.start_date), min(WINDOW[1], ctx.today)
    last_measure = max(r.measure.order for r in rows)
    effects: list[MeasureEffect] = []
    with transaction.atomic():
        for am in rows:
            area, measure = am.area, am.measure
            rng = ctx.rng("measures", area.region.code, measure.code)
            old = {"status": am.status, "implemented_on": am.implemented_on, "enabling_document": "",
                   "legal_basis": "", "note": ""}
            if _guangdong_only(measure) and not area.region.code.startswith(GUANGDONG):
                am.status = MeasureStatus.NOT_APPLICABLE
                am.note = "该举措为推动广东全省实施144小时过境免签政策，不适用于本试点地区。"
            else:
                chance = 1.0 if _guangdong_only(measure) else (0.55 if measure.text_zh.startswith("探索") else 0.85)
                # Hangzhou leaves its last measure unfinished, so the demo has something for its bureau to do.
                if area.region.code == "330100" and measure.order == last_measure:
                    chance = 0.0
                roll = rng.random()
                if roll < chance and start <= end:
                    am.status = MeasureStatus.IMPLEMENTED
                    am.implemented_on = start + dt.timedelta(days=rng.randint(0, (end - start).days))
                    am.enabling_document = _documents(area, measure, rng)
                    am.legal_basis = _legal_basis(rnd, measure)
                elif roll < chance + (1 - chance) * 0.6:
                    am.status = MeasureStatus.IN_PROGRESS
                    am.enabling_document = f"《{area.region.name_zh}深化服务贸易创新发展试点实施方案》"
                    am.note = "配套细则已起草，正在征求有关部门意见。"
                else:
                    am.status = MeasureStatus.NOT_STARTED
            am.save()
            changes = audit.diff(old, {"status": am.status, "implemented_on": am.implemented_on,
                                       "enabling_document": am.enabling_document, "legal_basis": am.legal_basis,
                                       "note": am.note})
            if changes:
                audit.record(bureaus.get(area.region.code), "measure:update", am, changes=changes,
                             reason="演示数据")
            if am.status == MeasureStatus.IMPLEMENTED:
                effects += _effects(am, rnd, ctx.today, rng)
        MeasureEffect.objects.bulk_create(effects, batch_size=2000)
    counts = {s: sum(1 for r in rows if r.status == s) for s in MeasureStatus.values}
    return (f"opening measures: {counts['implemented']} implemented, {counts['in_progress']} in progress, "
            f"{counts['not_started']} not started, {counts['not_applicable']} not applicable; "
            f"{len(effects)} effect values")
