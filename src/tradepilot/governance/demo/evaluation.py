"""Demo data: the default indicator system of the round, run for the latest full year with trade in the analytics
store (so the quantitative indicators have figures) and for 2019 (the pilot's first full year: governance records
only, the quantitative indicators explain that there is no data)."""

from __future__ import annotations

from tradepilot.analytics import queries
from tradepilot.governance import evaluation

PILOT_YEAR = 2019


def latest_full_trade_year(before: int) -> int | None:
    """The latest year before `before` with trade in all twelve months in the store."""
    months: dict[int, int] = {}
    for period in queries.periods(queries.Filter()):
        months[period // 100] = months.get(period // 100, 0) + 1
    full = [y for y, n in months.items() if n == 12 and y < before]
    return max(full) if full else None


def build(ctx) -> str:
    ministry = ctx.user("ministry")
    if ministry is None:
        return "evaluation: no ministry user, nothing run"
    system = evaluation.ensure_default_system(ctx.round, ministry)
    years = [PILOT_YEAR]
    trade_year = latest_full_trade_year(ctx.today.year)
    if trade_year is not None and trade_year != PILOT_YEAR:
        years.append(trade_year)
    runs = [evaluation.run_evaluation(system, year, ministry) for year in years]
    leaders = []
    for run in runs:
        top = run.results.select_related("area").order_by("rank", "area__order").first()
        leaders.append(f"{run.year}: {top.area.name_zh} {top.total}" if top else f"{run.year}: -")
    return f"evaluation: {system.indicators.count()} indicators; runs {', '.join(leaders)}"
