"""Tables as the dashboards, downloads, bulletin and API show them: cells with labels, totals and protection.

`two_way()` and `one_way()` run the few `queries.cells` calls a table needs (cells, margins, grand total, each
with contributor counts), then, when `protect` is set, apply the disclosure rules (disclosure.py) so that a
suppressed value is `None` everywhere downstream: a template, a CSV, an XLSX or a JSON answer cannot leak what
is not in the object. Who gets protected tables is decided in `needs_protection()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tradepilot.analytics import disclosure, queries
from tradepilot.analytics.disclosure import CellStat
from tradepilot.analytics.labels import label
from tradepilot.analytics.queries import Filter
from tradepilot.core.models import Role
from tradepilot.core.roles import role_of


def needs_protection(user, *, export: bool = False) -> bool:
    """Everyone but the ministry sees protected tables; every download and publication is protected."""
    return export or role_of(user) != Role.MINISTRY


def _stat(cell: queries.Cell | None) -> CellStat:
    if cell is None:
        return CellStat(Decimal(0), 0, Decimal(0))
    return CellStat(cell.value, cell.contributors, cell.largest)


@dataclass
class Table:
    row_dim: str
    col_dim: str | None
    rows: list = field(default_factory=list)          # row codes, in display order
    cols: list = field(default_factory=list)
    values: dict = field(default_factory=dict)        # (row, col) or row → Decimal | None (suppressed)
    row_totals: dict = field(default_factory=dict)
    col_totals: dict = field(default_factory=dict)
    grand_total: Decimal | None = None
    suppressed: dict = field(default_factory=dict)    # disclosure key → reason
    protected: bool = False

    def row_label(self, code) -> str:
        return label(self.row_dim, code)

    def col_label(self, code) -> str:
        return label(self.col_dim, code) if self.col_dim else ""

    def value(self, row, col=None):
        return self.values.get((row, col) if self.col_dim else row)

    @property
    def suppressed_count(self) -> int:
        return len(self.suppressed)


def two_way(flt: Filter, row_dim: str, col_dim: str, *, protect: bool, limit_rows: int | None = None,
            engine=None) -> Table:
    inner = queries.cells(flt, [row_dim, col_dim], engine=engine)
    by_row = {c.key[0]: c for c in queries.cells(flt, [row_dim], engine=engine)}
    by_col = {c.key[0]: c for c in queries.cells(flt, [col_dim], engine=engine)}
    grand = queries.cells(flt, [], engine=engine)
    cells = {(c.key[0], c.key[1]): c for c in inner}
    rows = sorted(by_row, key=lambda r: -by_row[r].value)
    if limit_rows is not None and len(rows) > limit_rows:
        # Keep the largest rows; the others are folded away from this table (and from its equations).
        rows = rows[:limit_rows]
    cols = sorted(by_col)
    table = Table(row_dim, col_dim, rows, cols, protected=protect)
    stats = {(r, c): _stat(cells.get((r, c))) for r in rows for c in cols}
    row_stats = {r: _stat(by_row.get(r)) for r in rows}
    col_stats = {c: _stat(by_col.get(c)) for c in cols}
    grand_stat = _stat(grand[0] if grand else None)
    if limit_rows is not None and len(rows) < len(by_row):
        col_stats, grand_stat = None, None  # the margins no longer add up over the shown rows: not published
    table.values = {k: s.value for k, s in stats.items() if s.contributors}
    table.row_totals = {r: s.value for r, s in row_stats.items()}
    table.col_totals = {c: s.value for c, s in (col_stats or {}).items()}
    table.grand_total = grand_stat.value if grand_stat is not None else None
    if protect:
        protection = disclosure.protect_table(stats, row_stats, col_stats, grand_stat, disclosure.rules_from_settings())
        table.suppressed = dict(protection.suppressed)
        for key in protection.suppressed:
            kind = key[0]
            if kind == "cell":
                table.values[(key[1], key[2])] = None
            elif kind == "row":
                table.row_totals[key[1]] = None
            elif kind == "col":
                table.col_totals[key[1]] = None
            else:
                table.grand_total = None
    return table


def one_way(flt: Filter, dim: str, *, protect: bool, limit: int | None = None, engine=None,
            dataset=None, measure: str = "usd_cents") -> Table:
    extra = {"measure": measure} | ({"dataset": dataset} if dataset is not None else {})
    found = {c.key[0]: c for c in queries.cells(flt, [dim], engine=engine, **extra)}
    grand = queries.cells(flt, [], engine=engine, **extra)
    rows = sorted(found, key=lambda r: -found[r].value)
    shown = rows[:limit] if limit is not None else rows
    table = Table(dim, None, shown, protected=protect)
    stats = {r: _stat(found[r]) for r in shown}
    # With a top-N cut the total still covers everything, so the rest is published as one "other" line implicitly:
    # the equation is total = shown + rest; the rest is a cell the reader can compute, so it takes part.
    rest = None
    if len(shown) < len(rows):
        rest_rows = [found[r] for r in rows[len(shown):]]
        # Distinct contributors of the rest are unknown without another query; the largest row's count is a lower
        # bound, which can only make the rules stricter.
        rest = CellStat(sum((c.value for c in rest_rows), Decimal(0)), max(c.contributors for c in rest_rows),
                        max(c.largest for c in rest_rows))
        stats["__rest__"] = rest
    grand_stat = _stat(grand[0] if grand else None)
    table.values = {r: stats[r].value for r in shown}
    table.grand_total = grand_stat.value
    if protect:
        protection = disclosure.protect_series(stats, grand_stat, disclosure.rules_from_settings())
        table.suppressed = {k: v for k, v in protection.suppressed.items() if k != ("cell", "__rest__")}
        for key in protection.suppressed:
            if key[0] == "cell" and key[1] in table.values:
                table.values[key[1]] = None
            elif key == ("total",):
                table.grand_total = None
    return table
