"""Statistical disclosure control for published tables of service-trade figures: cell suppression.

A published cell is a sum over enterprises. For each cell (interior cells and totals alike) we know its value, the
number of contributing enterprises and the largest single enterprise's contribution (`CellStat`). Suppression
happens in two stages, as in tau-ARGUS and the sdcTools family (sdcMicro for microdata, sdcTable for tables):

Primary suppression (`primary_reason`)
    * minimum-frequency rule: a cell with at least one but fewer than `Rules.min_contributors` (default 3)
      contributors is sensitive ("few");
    * (1, k) dominance rule: a cell whose largest contributor holds strictly more than `Rules.dominance` (default
      85 %) of its value is sensitive ("dominance"); exactly 85 % is still publishable;
    * a cell with 0 contributors (empty or structural zero) is never sensitive. Empty cells are treated as known
      to everyone: they are never suppressed and never used as complements. A zero-valued cell with contributors
      is only subject to the frequency rule (the dominance share 0/0 is undefined).

Secondary (complementary) suppression (`protect_table`, `protect_series`)
    The table's additivity equations are public knowledge: every published row total is the sum of its row, every
    column total the sum of its column, the grand total the sum of the row totals and of the column totals (only
    for the totals that are published; with a grand total but no margins, the grand total is the sum of all
    cells). The algorithm:

    1. primary suppression by the rules;
    2. every equation (line) with exactly one suppressed member gets a complement ("secondary"): its unsuppressed,
       non-empty member of smallest value, interior members before the line's total, ties by key order; repeated
       until stable;
    3. singleton problem: when a line has exactly two suppressed members and one of them has a single contributor,
       that contributor knows its own value and could subtract it; a third member of the line is suppressed
       ("singleton"), then back to 2;
    4. exact safety net: the equations restricted to the suppressed cells (the unknowns) are brought to reduced
       row echelon form with exact `fractions.Fraction` arithmetic. A suppressed cell is recoverable iff every
       vector of the null space is 0 in its coordinate (its unit vector lies in the row space). Each recoverable
       cell gets one more complement ("secondary") in a line through it (its row, else its column, else anywhere)
       and the algorithm goes back to 2. The same elimination also checks the single-contributor insider of
       step 3 exactly, over the whole system: a cell with one contributor s recovers a cell k iff k's null-space
       row is a multiple of s's; such k get a complement too ("singleton"). Cells that are the same figure as s
       (a total whose line has no other non-empty member) are not counted as disclosed by s.
       Suppressions only grow, so the loop terminates.

Guarantee: no suppressed cell can be computed exactly from the published cells through the table's own sums, and
no single-contributor cell's enterprise can compute another suppressed cell exactly from its own figure and the
published cells. Not claimed: protection against interval (linear-programming) attacks that use non-negativity to
bound a suppressed cell (the complements are the *smallest* cells, which minimises the information lost but not
the interval width; tau-ARGUS' "protection levels" are not implemented), coalitions of several contributors,
and equations from other published tables (linked tables must be protected together by the caller).

The module is pure Python (decimal, fractions, dataclasses); only `rules_from_settings` touches Django, lazily.

References: A. Hundepool et al., *Statistical Disclosure Control* (Wiley, 2012), ch. 4 (sensitivity rules,
secondary suppression, the singleton problem); the tau-ARGUS manual (CBS / Statistics Netherlands); the sdcMicro
and sdcTable R packages (Templ, Meindl, Kowarik).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeVar

__all__ = [
    "CellStat", "Rules", "Protection", "Table",
    "FEW", "DOMINANCE", "SECONDARY", "SINGLETON", "PRIMARY_REASONS", "TOTAL_KEY", "EMPTY",
    "cell_key", "row_key", "col_key", "series_key",
    "rules_from_settings", "primary_reason", "protect_table", "protect_series",
    "recoverable", "recoverable_series", "singleton_recoverable", "apply",
]

FEW = "few"
DOMINANCE = "dominance"
SECONDARY = "secondary"
SINGLETON = "singleton"
PRIMARY_REASONS = frozenset({FEW, DOMINANCE})

TOTAL_KEY: tuple = ("total",)

R = TypeVar("R")
C = TypeVar("C")
K = TypeVar("K")
V = TypeVar("V")
Key = tuple


def cell_key(row, col) -> tuple:
    """Key of an interior cell of a two-way table in `Protection.suppressed`."""
    return ("cell", row, col)


def row_key(row) -> tuple:
    """Key of a row total."""
    return ("row", row)


def col_key(col) -> tuple:
    """Key of a column total."""
    return ("col", col)


def series_key(key) -> tuple:
    """Key of a cell of a one-dimensional table (`protect_series`)."""
    return ("cell", key)


def _decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int | str):
        number = Decimal(value)
    else:
        raise TypeError(f"{what} must be a Decimal, int or str, not {type(value).__name__}")
    if not number.is_finite():
        raise ValueError(f"{what} must be finite, got {number}")
    return number


# ---------------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class CellStat:
    """What the rules need to know about one published cell (interior cell or total)."""

    value: Decimal
    contributors: int
    largest: Decimal          # largest single contributor's value in this cell

    def __post_init__(self):
        value = _decimal(self.value, "value")
        largest = _decimal(self.largest, "largest")
        if isinstance(self.contributors, bool) or not isinstance(self.contributors, int):
            raise TypeError(f"contributors must be an int, not {type(self.contributors).__name__}")
        n = self.contributors
        if n < 0 or value < 0 or largest < 0:
            raise ValueError(f"negative statistic: value={value}, contributors={n}, largest={largest}")
        if n == 0 and (value or largest):
            raise ValueError(f"a cell without contributors must be 0, got value={value}, largest={largest}")
        if largest > value:
            raise ValueError(f"largest contribution {largest} exceeds the cell value {value}")
        if n == 1 and largest != value:
            raise ValueError(f"a single contributor is the whole cell: largest {largest} != value {value}")
        if value > largest * n:
            raise ValueError(f"{n} contributors of at most {largest} cannot sum to {value}")
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "largest", largest)

    @property
    def is_empty(self) -> bool:
        return self.contributors == 0

    @classmethod
    def from_contributions(cls, contributions: Iterable) -> CellStat:
        """The statistic of a cell from its per-enterprise values (one value per contributing enterprise)."""
        values = [_decimal(v, "contribution") for v in contributions]
        return cls(sum(values, Decimal(0)), len(values), max(values, default=Decimal(0)))


EMPTY = CellStat(Decimal(0), 0, Decimal(0))


@dataclass(frozen=True)
class Rules:
    """Primary suppression rules."""

    min_contributors: int = 3          # primary: fewer than this many contributors (but > 0) is sensitive
    dominance: Decimal = Decimal("0.85")  # primary: largest / value > dominance is sensitive

    def __post_init__(self):
        if isinstance(self.min_contributors, bool) or not isinstance(self.min_contributors, int):
            raise TypeError("min_contributors must be an int")
        if self.min_contributors < 1:
            raise ValueError(f"min_contributors must be at least 1, got {self.min_contributors}")
        raw = self.dominance
        dominance = _decimal(str(raw) if isinstance(raw, float) else raw, "dominance")
        if not Decimal(0) < dominance <= Decimal(1):
            raise ValueError(f"dominance must be in (0, 1], got {dominance}")
        object.__setattr__(self, "dominance", dominance)


def rules_from_settings() -> Rules:
    """`Rules` from `settings.ANALYTICS_DISCLOSURE` (keys `min_contributors`, `dominance`); defaults if unset."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    conf = getattr(settings, "ANALYTICS_DISCLOSURE", None) or {}
    unknown = set(conf) - {"min_contributors", "dominance"}
    if unknown:
        raise ImproperlyConfigured(f"ANALYTICS_DISCLOSURE: unknown keys {sorted(unknown)}")
    try:
        return Rules(min_contributors=int(conf.get("min_contributors", 3)),
                     dominance=Decimal(str(conf.get("dominance", "0.85"))))
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise ImproperlyConfigured(f"ANALYTICS_DISCLOSURE: {exc}") from exc


def primary_reason(stat: CellStat, rules: Rules | None = None) -> str | None:
    """"few", "dominance" or None (publishable). A cell with 0 contributors is never sensitive."""
    rules = rules or Rules()
    if stat.contributors == 0:
        return None
    if stat.contributors < rules.min_contributors:
        return FEW
    if stat.value > 0 and stat.largest > rules.dominance * stat.value:
        return DOMINANCE
    return None


# ---------------------------------------------------------------------------------------------------- result


@dataclass
class Protection:
    """The outcome: suppressed keys with their reason (insertion in table order)."""

    suppressed: dict[Hashable, str] = field(default_factory=dict)  # key -> few | dominance | secondary | singleton

    def is_suppressed(self, key) -> bool:
        return key in self.suppressed

    def reason(self, key) -> str | None:
        return self.suppressed.get(key)

    @property
    def primary(self) -> set:
        return {key for key, reason in self.suppressed.items() if reason in PRIMARY_REASONS}

    @property
    def complementary(self) -> set:
        return {key for key, reason in self.suppressed.items() if reason not in PRIMARY_REASONS}

    def apply(self, key, value: V) -> V | None:
        """`value`, or None if `key` is suppressed."""
        return None if key in self.suppressed else value

    def publish(self, values: Mapping[Any, V]) -> dict[Any, V | None]:
        """A copy of `values` (keyed like `suppressed`) with suppressed entries replaced by None."""
        return {key: self.apply(key, value) for key, value in values.items()}


def apply(protection: Protection, key, value: V) -> V | None:
    """`value`, or None if `protection` suppresses `key`."""
    return protection.apply(key, value)


# ---------------------------------------------------------------------------------------------------- engine


def _ordered(items: Iterable) -> list:
    """Distinct items in a deterministic order: sorted if comparable, else by (type, repr), first-seen on ties."""
    unique = list(dict.fromkeys(items))
    try:
        return sorted(unique)
    except TypeError:
        return sorted(unique, key=lambda item: (type(item).__qualname__, repr(item)))


@dataclass(frozen=True)
class _Equation:
    total: Key
    parts: tuple[Key, ...]     # non-empty parts only (empty ones are known zeros)

    @property
    def members(self) -> tuple[Key, ...]:
        return (*self.parts, self.total)


class Table:
    """The published cells of one table, their statistics and the public additivity equations.

    Build with `Table.two_way(...)` or `Table.series(...)`. Keys are those of `Protection.suppressed`.
    """

    def __init__(self, stats: dict[Key, CellStat], equations: Iterable[tuple[Key, Iterable[Key]]],
                 interior: Iterable[Key]):
        self.stats = stats
        self.rank = {key: i for i, key in enumerate(stats)}
        self.interior = frozenset(interior)
        self.equations: list[_Equation] = []
        for total, parts in equations:
            parts = tuple(parts)
            self._validate(total, parts)
            if stats[total].is_empty:
                continue  # all parts empty too (validated): nothing unknown can ever be in it
            self.equations.append(_Equation(total, tuple(p for p in parts if not stats[p].is_empty)))
        self.lines_of: dict[Key, list[int]] = {key: [] for key in stats}
        for i, eq in enumerate(self.equations):
            for key in eq.members:
                self.lines_of[key].append(i)
        # Keys that are the same figure: a total whose line has a single non-empty part.
        self._alias = {key: key for key in stats}
        for eq in self.equations:
            if len(eq.parts) == 1:
                a, b = self._find(eq.total), self._find(eq.parts[0])
                if a != b:
                    self._alias[max(a, b, key=self.rank.__getitem__)] = min(a, b, key=self.rank.__getitem__)

    def _find(self, key: Key) -> Key:
        while self._alias[key] != key:
            key = self._alias[key]
        return key

    def _validate(self, total: Key, parts: tuple[Key, ...]) -> None:
        t = self.stats[total]
        stats = [self.stats[p] for p in parts]
        value = sum((s.value for s in stats), Decimal(0))
        if value != t.value:
            raise ValueError(f"{total}: value {t.value} is not the sum of its parts ({value})")
        if stats:
            if t.contributors < max(s.contributors for s in stats):
                raise ValueError(f"{total}: {t.contributors} contributors, fewer than one of its parts")
            if t.contributors > sum(s.contributors for s in stats):
                raise ValueError(f"{total}: {t.contributors} contributors, more than all its parts together")
            if t.largest < max(s.largest for s in stats):
                raise ValueError(f"{total}: largest contribution {t.largest} smaller than in one of its parts")
        elif t.contributors:
            raise ValueError(f"{total}: contributors but no parts")

    # -- builders

    @classmethod
    def two_way(cls, cells: Mapping[tuple[R, C], CellStat], row_totals: Mapping[R, CellStat] | None = None,
                col_totals: Mapping[C, CellStat] | None = None,
                grand_total: CellStat | None = None) -> Table:
        for pair in cells:
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise ValueError(f"cell keys must be (row, column) pairs, got {pair!r}")
        rows = _ordered([r for r, _ in cells] + list(row_totals or ()))
        cols = _ordered([c for _, c in cells] + list(col_totals or ()))
        stats: dict[Key, CellStat] = {}
        for r in rows:
            for c in cols:
                if (r, c) in cells:
                    stats[cell_key(r, c)] = _stat(cells[(r, c)])
        interior = list(stats)
        if row_totals is not None:
            for r in rows:
                stats[row_key(r)] = _stat(row_totals.get(r, EMPTY))
        if col_totals is not None:
            for c in cols:
                stats[col_key(c)] = _stat(col_totals.get(c, EMPTY))
        if grand_total is not None:
            stats[TOTAL_KEY] = _stat(grand_total)

        def present(keys):
            return [k for k in keys if k in stats]

        equations = []
        if row_totals is not None:
            equations += [(row_key(r), present(cell_key(r, c) for c in cols)) for r in rows]
        if col_totals is not None:
            equations += [(col_key(c), present(cell_key(r, c) for r in rows)) for c in cols]
        if grand_total is not None:
            if row_totals is not None:
                equations.append((TOTAL_KEY, [row_key(r) for r in rows]))
            if col_totals is not None:
                equations.append((TOTAL_KEY, [col_key(c) for c in cols]))
            if row_totals is None and col_totals is None:
                equations.append((TOTAL_KEY, interior))
        return cls(stats, equations, interior)

    @classmethod
    def series(cls, cells: Mapping[K, CellStat], total: CellStat | None = None) -> Table:
        stats: dict[Key, CellStat] = {series_key(k): _stat(cells[k]) for k in _ordered(cells)}
        interior = list(stats)
        equations = []
        if total is not None:
            stats[TOTAL_KEY] = _stat(total)
            equations.append((TOTAL_KEY, interior))
        return cls(stats, equations, interior)

    # -- protection

    def primary(self, rules: Rules | None = None) -> dict[Key, str]:
        rules = rules or Rules()
        found = {}
        for key, stat in self.stats.items():
            reason = primary_reason(stat, rules)
            if reason:
                found[key] = reason
        return found

    def protect(self, rules: Rules | None = None) -> Protection:
        suppressed = self.primary(rules)
        while True:
            self._complete_lines(suppressed)
            recovered, insiders = self._analyse(suppressed)
            targets = [(key, SECONDARY) for key in sorted(recovered, key=self.rank.__getitem__)]
            exposed = set().union(*insiders.values()) - recovered
            targets += [(key, SINGLETON) for key in sorted(exposed, key=self.rank.__getitem__)]
            additions = {}
            for key, reason in targets:
                chosen = self._choose_near(key, suppressed)
                if chosen is not None:
                    additions.setdefault(chosen, reason)
            if not additions:
                break  # nothing recoverable left (or nothing left to suppress)
            suppressed.update(additions)
        return Protection({key: suppressed[key] for key in sorted(suppressed, key=self.rank.__getitem__)})

    def _choose(self, eq: _Equation, suppressed: Mapping[Key, str]) -> Key | None:
        """Smallest unsuppressed non-empty part of the line (ties by table order), else its total, else None."""
        candidates = [p for p in eq.parts if p not in suppressed]
        if candidates:
            return min(candidates, key=lambda k: (self.stats[k].value, self.rank[k]))
        return eq.total if eq.total not in suppressed else None

    def _choose_near(self, key: Key, suppressed: Mapping[Key, str]) -> Key | None:
        """A complement for `key`: in the first line through it that has one, else the smallest anywhere."""
        for i in self.lines_of[key]:
            chosen = self._choose(self.equations[i], suppressed)
            if chosen is not None:
                return chosen
        candidates = [k for k, s in self.stats.items() if not s.is_empty and k not in suppressed]
        if not candidates:
            return None
        return min(candidates, key=lambda k: (k not in self.interior, self.stats[k].value, self.rank[k]))

    def _complete_lines(self, suppressed: dict[Key, str]) -> None:
        """Steps 2 (no line with a single suppression) and 3 (singleton lines), until stable."""
        while True:
            changed = False
            for eq in self.equations:
                if sum(m in suppressed for m in eq.members) == 1:
                    chosen = self._choose(eq, suppressed)
                    if chosen is not None:
                        suppressed[chosen] = SECONDARY
                        changed = True
            if changed:
                continue
            for eq in self.equations:
                hidden = [m for m in eq.members if m in suppressed]
                if len(hidden) == 2 and any(self.stats[m].contributors == 1 for m in hidden):
                    chosen = self._choose(eq, suppressed)
                    if chosen is not None:
                        suppressed[chosen] = SINGLETON
                        changed = True
            if not changed:
                return

    # -- exact recoverability

    def _check_keys(self, suppressed) -> list[Key]:
        keys = _keys_of(suppressed)
        unknown = [k for k in keys if k not in self.stats]
        if unknown:
            raise KeyError(f"not a published key of this table: {unknown[0]!r}")
        return sorted(set(keys), key=self.rank.__getitem__)

    def _null_rows(self, unknowns: list[Key]) -> dict[Key, dict[int, Fraction | int]]:
        """Per unknown, its row of a null-space basis (coefficients by free column) of the suppressed system."""
        index = {key: i for i, key in enumerate(unknowns)}
        pivots: dict[int, dict[int, Fraction | int]] = {}   # reduced row echelon form, by pivot column
        for eq in self.equations:
            row: dict[int, Fraction | int] = {index[p]: 1 for p in eq.parts if p in index}
            if eq.total in index:
                row[index[eq.total]] = -1
            for col in [c for c in row if c in pivots]:
                factor = row.get(col)
                if factor:
                    _axpy(row, -factor, pivots[col])
            if not row:
                continue
            lead = min(row)
            scale = row[lead]
            if scale == -1:
                row = {c: -v for c, v in row.items()}
            elif scale != 1:
                row = {c: Fraction(v) / scale for c, v in row.items()}
            for other in pivots.values():
                factor = other.get(lead)
                if factor:
                    _axpy(other, -factor, row)
            pivots[lead] = row
        null: dict[Key, dict[int, Fraction | int]] = {}
        for key, i in index.items():
            if i in pivots:
                null[key] = {c: -v for c, v in pivots[i].items() if c != i}
            else:
                null[key] = {i: 1}
        return null

    def _analyse(self, suppressed) -> tuple[set[Key], dict[Key, set[Key]]]:
        keys = self._check_keys(suppressed)
        known = {k for k in keys if self.stats[k].is_empty}
        unknowns = [k for k in keys if k not in known]
        null = self._null_rows(unknowns)
        recovered = known | {k for k, row in null.items() if not row}
        classes: dict[tuple, set[Key]] = {}
        direction = {}
        for key, row in null.items():
            if row:
                lead = row[min(row)]
                direction[key] = tuple(sorted((c, Fraction(v) / lead) for c, v in row.items()))
                classes.setdefault(direction[key], set()).add(key)
        insiders = {}
        for key in unknowns:
            if self.stats[key].contributors == 1 and key in direction:
                exposed = {k for k in classes[direction[key]] if self._find(k) != self._find(key)}
                if exposed:
                    insiders[key] = exposed
        return recovered, insiders

    def analyse(self, suppressed) -> tuple[set[Key], dict[Key, set[Key]]]:
        """`recoverable` and `singleton_recoverable` from one elimination (callers needing both save half)."""
        return self._analyse(suppressed)

    def recoverable(self, suppressed) -> set[Key]:
        """Suppressed keys whose value the published cells determine exactly through the equations.

        `suppressed` is a `Protection`, a mapping keyed by the keys, or an iterable of keys. Empty cells (0
        contributors) count as known, so they are returned if listed.
        """
        return self._analyse(suppressed)[0]

    def singleton_recoverable(self, suppressed) -> dict[Key, set[Key]]:
        """For each suppressed single-contributor key s, the other suppressed keys that s's enterprise computes
        exactly from its own figure and the published cells (keys that are the same figure as s excluded)."""
        return self._analyse(suppressed)[1]


def _axpy(target: dict[int, Any], factor, source: Mapping[int, Any]) -> None:
    """target += factor * source, dropping zeros."""
    for c, v in source.items():
        new = target.get(c, 0) + factor * v
        if new:
            target[c] = new
        else:
            target.pop(c, None)


def _stat(value) -> CellStat:
    if not isinstance(value, CellStat):
        raise TypeError(f"expected a CellStat, got {type(value).__name__}")
    return value


def _keys_of(suppressed) -> list:
    if isinstance(suppressed, Protection):
        return list(suppressed.suppressed)
    return list(suppressed)


# ---------------------------------------------------------------------------------------------------- API


def protect_table(cells: Mapping[tuple[R, C], CellStat], row_totals: Mapping[R, CellStat] | None = None,
                  col_totals: Mapping[C, CellStat] | None = None, grand_total: CellStat | None = None,
                  rules: Rules | None = None) -> Protection:
    """Primary and secondary suppression of a two-way table.

    Keys of the result: ("cell", r, c), ("row", r), ("col", c), ("total",). A missing (r, c) is an empty cell.
    `row_totals` None means rows have no published totals (likewise columns); `grand_total` None means not
    published. A row/column present among the cells but missing from a given totals mapping has an empty total,
    which fails validation unless the row is empty. Raises ValueError when totals are not additive or the
    statistics are inconsistent (a total with fewer contributors than one of its parts, ...).
    """
    return Table.two_way(cells, row_totals, col_totals, grand_total).protect(rules)


def protect_series(cells: Mapping[K, CellStat], total: CellStat | None = None,
                   rules: Rules | None = None) -> Protection:
    """Primary and secondary suppression of a one-dimensional table; keys ("cell", k) and ("total",)."""
    return Table.series(cells, total).protect(rules)


def recoverable(suppressed, cells: Mapping[tuple[R, C], CellStat], row_totals: Mapping[R, CellStat] | None = None,
                col_totals: Mapping[C, CellStat] | None = None,
                grand_total: CellStat | None = None) -> set[tuple]:
    """The suppressed keys of a two-way table that the published cells determine exactly.

    `suppressed`: a `Protection`, a mapping keyed by the keys, or an iterable of keys ("cell", r, c), ("row", r),
    ("col", c), ("total",); the other arguments as for `protect_table`. Only the structure matters (which keys
    are non-empty and which are suppressed), not the values. Empty result = safe against exact recovery.
    """
    return Table.two_way(cells, row_totals, col_totals, grand_total).recoverable(suppressed)


def recoverable_series(suppressed, cells: Mapping[K, CellStat], total: CellStat | None = None) -> set[tuple]:
    """`recoverable` for a one-dimensional table (keys ("cell", k) and ("total",))."""
    return Table.series(cells, total).recoverable(suppressed)


def singleton_recoverable(suppressed, cells: Mapping[tuple[R, C], CellStat],
                          row_totals: Mapping[R, CellStat] | None = None,
                          col_totals: Mapping[C, CellStat] | None = None,
                          grand_total: CellStat | None = None) -> dict[tuple, set[tuple]]:
    """For each suppressed single-contributor key of a two-way table, the other suppressed keys its enterprise
    can compute exactly (see `Table.singleton_recoverable`). Empty result = safe against single insiders."""
    return Table.two_way(cells, row_totals, col_totals, grand_total).singleton_recoverable(suppressed)
