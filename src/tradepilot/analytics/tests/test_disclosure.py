"""Tests for statistical disclosure control (primary rules, complementary suppression, exact recoverability).

The recoverability claims are checked independently of the module's elimination: for every suppressed cell the
test looks for a second non-negative table, different in that cell, that agrees with every published cell and
every additivity equation (own dense Fraction solver, the candidate verified by substitution).
"""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from tradepilot.analytics.disclosure import (
    DOMINANCE,
    EMPTY,
    FEW,
    SECONDARY,
    SINGLETON,
    TOTAL_KEY,
    CellStat,
    Protection,
    Rules,
    Table,
    apply,
    cell_key,
    col_key,
    primary_reason,
    protect_series,
    protect_table,
    recoverable,
    recoverable_series,
    row_key,
    rules_from_settings,
    singleton_recoverable,
)

D = Decimal


def stat(value, contributors, largest) -> CellStat:
    return CellStat(D(value), contributors, D(largest))


# ---------------------------------------------------------------------------------------------------- helpers



def _total(micro, select) -> CellStat:
    """A margin's stats from per-enterprise contributions: an enterprise in several cells counts once."""
    per = {}
    for (r, c), contributions in micro.items():
        if select(r, c):
            for enterprise, value in contributions.items():
                per[enterprise] = per.get(enterprise, 0) + value
    return CellStat.from_contributions(per.values())

def aggregate(micro, row_keys=None, col_keys=None, *, rows=True, cols=True, grand=True):
    """{(r, c): {enterprise: value}} → (cells, row_totals, col_totals, grand_total), totals summed per enterprise."""
    row_keys = sorted(set(row_keys or ()) | {r for r, _ in micro})
    col_keys = sorted(set(col_keys or ()) | {c for _, c in micro})

    def total(select):
        return _total(micro, select)

    cells = {key: CellStat.from_contributions(contributions.values()) for key, contributions in micro.items()}
    row_totals = {r: total(lambda a, _b, r=r: a == r) for r in row_keys} if rows else None
    col_totals = {c: total(lambda _a, b, c=c: b == c) for c in col_keys} if cols else None
    grand_total = total(lambda _a, _b: True) if grand else None
    return cells, row_totals, col_totals, grand_total


def spread(tag, value, n):
    """`value` split over `n` distinct enterprises (names prefixed by `tag`), the first takes the remainder."""
    share, rest = divmod(value, n)
    return {f"{tag}-{i}": share + (rest if i == 0 else 0) for i in range(n)}


def published(cells, row_totals, col_totals, grand_total):
    """Every published key with its statistic (independent of the module's Table)."""
    rows = {r for r, _ in cells} | set(row_totals or ())
    cols = {c for _, c in cells} | set(col_totals or ())
    stats = {cell_key(r, c): s for (r, c), s in cells.items()}
    if row_totals is not None:
        stats.update({row_key(r): row_totals.get(r, EMPTY) for r in rows})
    if col_totals is not None:
        stats.update({col_key(c): col_totals.get(c, EMPTY) for c in cols})
    if grand_total is not None:
        stats[TOTAL_KEY] = grand_total
    return stats


def equations(cells, row_totals, col_totals, grand_total):
    """The public additivity equations as {key: coefficient} (parts +1, total -1), written out independently."""
    rows = {r for r, _ in cells} | set(row_totals or ())
    cols = {c for _, c in cells} | set(col_totals or ())
    eqs = []
    if row_totals is not None:
        for r in rows:
            eqs.append({row_key(r): -1, **{cell_key(r, c): 1 for (rr, c) in cells if rr == r}})
    if col_totals is not None:
        for c in cols:
            eqs.append({col_key(c): -1, **{cell_key(r, c): 1 for (r, cc) in cells if cc == c}})
    if grand_total is not None:
        if row_totals is not None:
            eqs.append({TOTAL_KEY: -1, **{row_key(r): 1 for r in rows}})
        if col_totals is not None:
            eqs.append({TOTAL_KEY: -1, **{col_key(c): 1 for c in cols}})
        if row_totals is None and col_totals is None:
            eqs.append({TOTAL_KEY: -1, **{cell_key(r, c): 1 for (r, c) in cells}})
    return eqs


def solve(rows, rhs, unknowns):
    """One solution of the linear system (dense Gauss-Jordan over Fractions), or None if inconsistent."""
    m = [[Fraction(row.get(u, 0)) for u in unknowns] + [Fraction(b)] for row, b in zip(rows, rhs, strict=True)]
    pivot_cols, top = [], 0
    for col in range(len(unknowns)):
        pivot = next((i for i in range(top, len(m)) if m[i][col] != 0), None)
        if pivot is None:
            continue
        m[top], m[pivot] = m[pivot], m[top]
        m[top] = [x / m[top][col] for x in m[top]]
        for i in range(len(m)):
            if i != top and m[i][col] != 0:
                factor = m[i][col]
                m[i] = [a - factor * b for a, b in zip(m[i], m[top], strict=True)]
        pivot_cols.append(col)
        top += 1
    if any(m[i][-1] != 0 for i in range(top, len(m))):
        return None
    solution = dict.fromkeys(unknowns, Fraction(0))
    for i, col in enumerate(pivot_cols):
        solution[unknowns[col]] = m[i][-1]
    return solution


def alternative_table(table, suppressed, key, fixed=()):
    """A non-negative table agreeing with every published cell (and with `fixed` suppressed keys) and with every
    equation, but with a different value for `key`; None if there is none (the key is determined)."""
    cells, row_totals, col_totals, grand_total = table
    stats = published(*table)
    eqs = equations(*table)
    unknowns = sorted(suppressed, key=repr)
    extra = [{key: 1}] + [{k: 1} for k in fixed]
    direction = solve(eqs + extra, [0] * len(eqs) + [1] + [0] * len(fixed), unknowns)
    if direction is None:
        return None
    values = {k: Fraction(s.value) for k, s in stats.items()}
    shrink = [values[k] / (2 * -d) for k, d in direction.items() if d < 0]
    t = min(shrink) if shrink else Fraction(1)
    other = dict(values)
    for k, d in direction.items():
        other[k] = values[k] + t * d
    # Verified by substitution, so a wrong solver cannot make a claim pass.
    assert all(v >= 0 for v in other.values())
    assert other[key] != values[key]
    assert all(other[k] == values[k] for k in stats if k not in suppressed or k in fixed)
    for eq in eqs:
        assert sum(coef * other[k] for k, coef in eq.items()) == 0
    return other


def determined(table, suppressed):
    """Suppressed keys without an alternative table: the independent verdict on exact recoverability."""
    return {k for k in suppressed if alternative_table(table, suppressed, k) is None}


def aliases(table):
    """Union-find over equations with exactly two non-empty members (a total equal to its only part)."""
    stats = published(*table)
    parent = {k: k for k in stats}

    def find(k):
        while parent[k] != k:
            k = parent[k]
        return k

    for eq in equations(*table):
        members = [k for k in eq if not stats[k].is_empty]
        if len(members) == 2:
            parent[find(members[0])] = find(members[1])
    return find


def insider_exposed(table, suppressed):
    """Independent verdict: for each suppressed one-contributor key s, what its enterprise determines."""
    stats = published(*table)
    find = aliases(table)
    outright = determined(table, suppressed)
    found = {}
    for s in suppressed:
        if stats[s].contributors != 1 or s in outright:
            continue
        exposed = {k for k in suppressed if k != s and k not in outright and find(k) != find(s)
                   and alternative_table(table, suppressed, k, fixed=[s]) is None}
        if exposed:
            found[s] = exposed
    return found


def line_counts(table, suppressed):
    """Number of suppressed members per equation (non-empty members only)."""
    stats = published(*table)
    return [sum(k in suppressed for k in eq if not stats[k].is_empty) for eq in equations(*table)]


# ---------------------------------------------------------------------------------------------------- primary rules


def test_few_contributors_boundary():
    rules = Rules()
    assert primary_reason(stat(100, 1, 100), rules) == FEW
    assert primary_reason(stat(100, 2, 50), rules) == FEW
    assert primary_reason(stat(100, 3, 34), rules) is None
    assert primary_reason(stat(100, 3, 34), Rules(min_contributors=4)) == FEW
    assert primary_reason(stat(100, 1, 100), Rules(min_contributors=1)) == DOMINANCE   # still 100 % one firm
    assert primary_reason(stat(100, 2, 50), Rules(min_contributors=2)) is None


def test_dominance_boundary_is_strict():
    rules = Rules()
    assert primary_reason(stat(100, 5, 85), rules) is None          # exactly 85 %: publishable
    assert primary_reason(stat(100, 5, "85.01"), rules) == DOMINANCE
    assert primary_reason(stat("1000.00", 5, "850.00"), rules) is None
    assert primary_reason(stat("1000.00", 5, "850.01"), rules) == DOMINANCE
    assert primary_reason(stat(100, 5, 60), Rules(dominance=D("0.5"))) == DOMINANCE
    assert primary_reason(stat(100, 2, 90), rules) == FEW               # frequency is reported first


def test_empty_cell_is_never_sensitive():
    assert primary_reason(stat(0, 0, 0), Rules()) is None
    assert primary_reason(EMPTY, Rules(min_contributors=10, dominance=D("0.01"))) is None
    assert primary_reason(stat(0, 4, 0), Rules()) is None               # zero-valued: no dominance share
    assert primary_reason(stat(0, 2, 0), Rules()) == FEW


def test_cellstat_rejects_inconsistent_statistics():
    with pytest.raises(ValueError):
        stat(-1, 3, 0)
    with pytest.raises(ValueError):
        stat(10, 3, 11)                                                 # largest above the value
    with pytest.raises(ValueError):
        stat(5, 0, 0)                                                   # value without contributors
    with pytest.raises(ValueError):
        stat(10, 1, 6)                                                  # one contributor is the whole cell
    with pytest.raises(ValueError):
        stat(100, 3, 20)                                                # three of at most 20 cannot make 100
    with pytest.raises(TypeError):
        CellStat(1.5, 3, D(1))
    assert CellStat.from_contributions([D(5), 3, "2"]) == stat(10, 3, 5)
    assert CellStat.from_contributions([]) == EMPTY


def test_rules_validation():
    assert Rules(dominance="0.9").dominance == D("0.9")
    with pytest.raises(ValueError):
        Rules(min_contributors=0)
    with pytest.raises(ValueError):
        Rules(dominance=D("1.5"))
    with pytest.raises(ValueError):
        Rules(dominance=D(0))


def test_rules_from_settings(settings):
    settings.ANALYTICS_DISCLOSURE = {"min_contributors": 5, "dominance": "0.7"}
    assert rules_from_settings() == Rules(min_contributors=5, dominance=D("0.7"))
    settings.ANALYTICS_DISCLOSURE = {"dominance": 0.6}
    assert rules_from_settings() == Rules(min_contributors=3, dominance=D("0.6"))
    del settings.ANALYTICS_DISCLOSURE
    assert rules_from_settings() == Rules(min_contributors=3, dominance=D("0.85"))
    settings.ANALYTICS_DISCLOSURE = {"min_contributor": 5}
    with pytest.raises(ImproperlyConfigured):
        rules_from_settings()
    settings.ANALYTICS_DISCLOSURE = {"dominance": "2"}
    with pytest.raises(ImproperlyConfigured):
        rules_from_settings()


# ---------------------------------------------------------------------------------------------------- 2-way tables


def three_by_three(values, overrides=None, **flags):
    """3×3 microdata: each cell `values[(r, c)]` spread over 4 enterprises unless overridden."""
    micro = {key: spread(f"e{key[0]}{key[1]}", value, 4) for key, value in values.items()}
    micro.update(overrides or {})
    return aggregate(micro, **flags)


GRID = {(1, 1): 70, (1, 2): 80, (1, 3): 90,
        (2, 1): 40, (2, 3): 60,
        (3, 1): 30, (3, 2): 35, (3, 3): 95}


def test_single_sensitive_cell_gets_a_rectangle_of_complements():
    table = three_by_three(GRID, {(2, 2): {"giant": 200, "a": 10, "b": 10, "c": 10}})
    protection = protect_table(*table)
    assert protection.suppressed == {
        cell_key(2, 1): SECONDARY, cell_key(2, 2): DOMINANCE,
        cell_key(3, 1): SECONDARY, cell_key(3, 2): SECONDARY,
    }
    assert len(protection.complementary) >= 3
    assert recoverable(protection, *table) == set()
    assert determined(table, protection.suppressed) == set()
    # Without the corner the pattern is an L: row 3 and column 2's equations expose the cells.
    assert recoverable(set(protection.suppressed) - {cell_key(3, 2)}, *table) != set()


def test_naive_row_only_complement_leaves_the_column_open():
    table = three_by_three(GRID, {(2, 2): {"giant": 200, "a": 10, "b": 10, "c": 10}})
    naive = {cell_key(2, 2), cell_key(2, 1)}           # primary + smallest of its row, nothing else
    assert recoverable(naive, *table) == naive
    assert determined(table, naive) == naive
    protection = protect_table(*table)
    for c in (1, 2):
        assert sum(protection.is_suppressed(cell_key(r, c)) for r in (1, 2, 3)) >= 2
    assert recoverable(protection, *table) == set()


def test_row_whose_only_other_member_is_its_total():
    # Row 3 holds a single non-empty cell, (3, 2), the smallest of column 2 and so its complement: in row 3 the
    # only unsuppressed member left is the row total, which must go too (it is the same figure).
    values = {k: v for k, v in GRID.items() if k not in [(3, 1), (3, 3)]}
    table = three_by_three(values, {(2, 2): {"giant": 200, "a": 10, "b": 10, "c": 10}})
    protection = protect_table(*table)
    assert protection.reason(cell_key(3, 2)) == SECONDARY
    assert protection.reason(row_key(3)) == SECONDARY
    assert protection.reason(row_key(1)) == SECONDARY             # row totals' own equation with the grand total
    assert not protection.is_suppressed(cell_key(3, 1))            # empty cells are never complements
    assert not protection.is_suppressed(cell_key(3, 3))
    assert recoverable(protection, *table) == set()
    assert determined(table, protection.suppressed) == set()
    assert all(n != 1 for n in line_counts(table, protection.suppressed))
    assert recoverable(set(protection.suppressed) - {row_key(3)}, *table) >= {cell_key(3, 2)}


def test_sensitive_cell_alone_in_its_row_makes_the_total_sensitive_too():
    values = {k: v for k, v in GRID.items() if k[0] != 1}
    table = three_by_three(values, {(1, 1): {"x": 50, "y": 40}})
    protection = protect_table(*table)
    assert protection.reason(cell_key(1, 1)) == FEW
    assert protection.reason(row_key(1)) == FEW                    # same figure, same statistic
    assert recoverable(protection, *table) == set()
    assert determined(table, protection.suppressed) == set()


def test_sensitive_row_total():
    values = {k: v for k, v in GRID.items() if k[0] != 1}
    table = three_by_three(values, {(1, 1): {"x": 20, "y": 30}, (1, 2): {"x": 25, "y": 15}})
    protection = protect_table(*table)
    assert protection.reason(row_key(1)) == FEW                    # two enterprises in the whole row
    assert protection.reason(cell_key(1, 1)) == FEW
    # the grand-total-over-rows equation must not leave row 1's total alone
    others = [protection.is_suppressed(k) for k in (row_key(2), row_key(3), TOTAL_KEY)]
    assert sum(others) >= 1
    assert recoverable(protection, *table) == set()
    assert determined(table, protection.suppressed) == set()


def test_dominated_grand_total_and_margins():
    micro = {(r, c): spread(f"e{r}{c}", 40, 4) for r in (1, 2) for c in (1, 2)}
    micro[(2, 2)] = {"giant": 1000, "g2": 5, "g3": 5}
    table = aggregate(micro)
    protection = protect_table(*table)
    for key in (cell_key(2, 2), row_key(2), col_key(2), TOTAL_KEY):
        assert protection.reason(key) == DOMINANCE
    assert recoverable(protection, *table) == set()
    assert determined(table, protection.suppressed) == set()


def chain_table():
    """Every line has 0 or ≥ 2 primary suppressions, yet the equations pin down cell (1, 3).

    Suppressed: the 2×2 block rows 1-2 × columns 1-2, the cycle (3,3) – column 3 – grand total – row 3, and the
    bridge (1, 3) between them. Rows 1+2 minus columns 1+2 leaves exactly (1, 3).
    """
    micro = {}
    for key in [(1, 1), (1, 2), (1, 3), (2, 1), (2, 2)]:
        micro[key] = spread(f"e{key[0]}{key[1]}", 10, 2)               # few
    for key in [(2, 3), (3, 1), (3, 2)]:
        micro[key] = {f"e{key[0]}{key[1]}-{i}": v for i, v in enumerate((3, 3, 4))}
    micro[(3, 3)] = {"giant": 1000, "small": 5}                         # few; dominates row 3, col 3, total
    return aggregate(micro)


def test_chain_pattern_needs_the_exact_safety_net():
    table = chain_table()
    primary = Table.two_way(*table).primary()
    assert primary == {
        cell_key(1, 1): FEW, cell_key(1, 2): FEW, cell_key(1, 3): FEW, cell_key(2, 1): FEW, cell_key(2, 2): FEW,
        cell_key(3, 3): FEW, row_key(3): DOMINANCE, col_key(3): DOMINANCE, TOTAL_KEY: DOMINANCE,
    }
    assert sorted(set(line_counts(table, primary))) == [2, 3]          # steps 2 and 3 have nothing to do
    assert all(s.contributors != 1 for s in published(*table).values())
    assert recoverable(primary, *table) == {cell_key(1, 3)}
    assert determined(table, primary) == {cell_key(1, 3)}

    protection = protect_table(*table)
    assert set(protection.suppressed) == set(primary) | {row_key(1)}
    assert protection.reason(row_key(1)) == SECONDARY
    assert recoverable(protection, *table) == set()
    assert determined(table, protection.suppressed) == set()


def test_singleton_cell_needs_a_third_suppression_in_its_line():
    table = three_by_three(GRID, {(2, 2): {"alone": 100}})
    rectangle = {cell_key(2, 1), cell_key(2, 2), cell_key(3, 1), cell_key(3, 2)}
    assert recoverable(rectangle, *table) == set()                     # safe from outsiders ...
    exposed = singleton_recoverable(rectangle, *table)                 # ... not from the single contributor
    assert exposed == {cell_key(2, 2): rectangle - {cell_key(2, 2)}}
    assert insider_exposed(table, rectangle) == exposed

    protection = protect_table(*table)
    # Step 3 puts the third suppression in the singleton's own lines: (2, 3) in row 2, (1, 2) in column 2.
    assert protection.suppressed == {
        cell_key(1, 1): SECONDARY, cell_key(1, 2): SINGLETON, cell_key(1, 3): SECONDARY,
        cell_key(2, 1): SECONDARY, cell_key(2, 2): FEW, cell_key(2, 3): SINGLETON,
        cell_key(3, 1): SECONDARY, cell_key(3, 2): SECONDARY,
    }
    assert recoverable(protection, *table) == set()
    assert singleton_recoverable(protection, *table) == {}
    assert insider_exposed(table, protection.suppressed) == {}


def test_singleton_exposure_across_lines_is_caught_by_the_exact_check():
    """The single contributor of (1, 3) computes (3, 1) although no line holds just the two of them.

    Suppressed: the block rows 1-2 × columns 1-2, the cycle (3,3) – column 3 – total – row 3, and the two cells
    (1, 3) and (3, 1) joining them. Knowing (1, 3), rows 1 + 2 minus column 2 give (1, 1) + (2, 1), and column 1
    then gives (3, 1).
    """
    micro = {key: spread(f"e{key[0]}{key[1]}", 10, 2) for key in [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1)]}
    micro[(1, 3)] = {"alone": 10}
    micro[(2, 3)] = {"p": 3, "q": 3, "r": 4}
    micro[(3, 2)] = {"u": 3, "v": 3, "w": 4}
    micro[(3, 3)] = {"giant": 1000, "small": 5}
    table = aggregate(micro)
    primary = Table.two_way(*table).primary()
    assert set(primary) == {cell_key(r, c) for r, c in micro} - {cell_key(2, 3), cell_key(3, 2)} | {
        row_key(3), col_key(3), TOTAL_KEY}
    stats = published(*table)
    for eq in equations(*table):          # step 3 sees nothing: no line with a singleton and one other
        hidden = [k for k in eq if k in primary]
        assert len(hidden) != 1
        assert not (len(hidden) == 2 and any(stats[k].contributors == 1 for k in hidden))
    assert recoverable(primary, *table) == set()
    assert singleton_recoverable(primary, *table) == {cell_key(1, 3): {cell_key(3, 1)}}
    assert insider_exposed(table, primary) == {cell_key(1, 3): {cell_key(3, 1)}}

    protection = protect_table(*table)
    assert set(protection.suppressed) == set(primary) | {cell_key(3, 2)}
    assert protection.reason(cell_key(3, 2)) == SINGLETON
    assert singleton_recoverable(protection, *table) == {}
    assert insider_exposed(table, protection.suppressed) == {}
    assert recoverable(protection, *table) == set()


def test_two_singletons_in_a_series():
    cells = {"a": stat(50, 1, 50), "b": stat(70, 1, 70), "c": stat(200, 4, 50), "d": stat(300, 5, 80)}
    total = stat(620, 11, 80)
    protection = protect_series(cells, total)
    assert protection.suppressed == {("cell", "a"): FEW, ("cell", "b"): FEW, ("cell", "c"): SINGLETON}
    table = Table.series(cells, total)
    assert table.singleton_recoverable({("cell", "a"), ("cell", "b")}) == {
        ("cell", "a"): {("cell", "b")}, ("cell", "b"): {("cell", "a")}}
    assert table.singleton_recoverable(protection) == {}
    assert recoverable_series(protection, cells, total) == set()


def test_series_with_and_without_total():
    cells = {"x": stat(90, 3, 80), "y": stat(300, 5, 70), "z": stat(200, 4, 60)}
    total = stat(590, 12, 80)
    protection = protect_series(cells, total)
    assert protection.suppressed == {("cell", "x"): DOMINANCE, ("cell", "z"): SECONDARY}
    assert recoverable_series({("cell", "x")}, cells, total) == {("cell", "x")}
    assert recoverable_series(protection, cells, total) == set()
    assert protect_series(cells).suppressed == {("cell", "x"): DOMINANCE}   # no total, no equation


def test_only_column_totals_published():
    table = three_by_three(GRID, {(2, 2): {"giant": 200, "a": 10, "b": 10, "c": 10}}, rows=False, grand=False)
    protection = protect_table(*table)
    assert protection.suppressed == {cell_key(2, 2): DOMINANCE, cell_key(3, 2): SECONDARY}
    assert recoverable(protection, *table) == set()


def test_grand_total_without_margins_is_an_equation():
    table = three_by_three(GRID, {(2, 2): {"giant": 200, "a": 10, "b": 10, "c": 10}}, rows=False, cols=False)
    protection = protect_table(*table)
    assert protection.suppressed == {cell_key(2, 2): DOMINANCE, cell_key(3, 1): SECONDARY}
    assert recoverable({cell_key(2, 2)}, *table) == {cell_key(2, 2)}
    assert protect_table(table[0]).suppressed == {cell_key(2, 2): DOMINANCE}   # nothing published but cells


def test_ties_are_broken_by_key_order_and_result_is_deterministic():
    values = dict.fromkeys([(r, c) for r in "abc" for c in "xyz"], 40)
    del values[("b", "y")]
    table = three_by_three(values, {("b", "y"): {"giant": 200, "s1": 10, "s2": 10, "s3": 10}})
    protection = protect_table(*table)
    assert protection.suppressed == {
        cell_key("a", "x"): SECONDARY, cell_key("a", "y"): SECONDARY,
        cell_key("b", "x"): SECONDARY, cell_key("b", "y"): DOMINANCE,
    }
    cells, row_totals, col_totals, grand_total = table
    for seed in range(5):
        rnd = random.Random(seed)
        shuffled = [dict(rnd.sample(list(m.items()), len(m))) for m in (cells, row_totals, col_totals)]
        again = protect_table(shuffled[0], shuffled[1], shuffled[2], grand_total)
        assert list(again.suppressed.items()) == list(protection.suppressed.items())


def aggregate_unsorted(micro):
    rows = list(dict.fromkeys(r for r, _ in micro))
    cols = list(dict.fromkeys(c for _, c in micro))

    def total(select):
        return _total(micro, select)

    cells = {key: CellStat.from_contributions(v.values()) for key, v in micro.items()}
    return (cells, {r: total(lambda a, _b, r=r: a == r) for r in rows},
            {c: total(lambda _a, b, c=c: b == c) for c in cols}, total(lambda _a, _b: True))


def test_incomparable_labels_are_ordered_deterministically():
    micro = {(r, c): spread(f"e{r}{c}", 40, 4) for r in (1, "two", None) for c in ("x", 2)}
    micro[("two", 2)] = {"alone": 40}
    cells, row_totals, col_totals, grand_total = aggregate_unsorted(micro)
    first = protect_table(cells, row_totals, col_totals, grand_total)
    again = protect_table(dict(reversed(cells.items())), dict(reversed(row_totals.items())),
                          dict(reversed(col_totals.items())), grand_total)
    assert list(first.suppressed.items()) == list(again.suppressed.items())
    assert recoverable(first, cells, row_totals, col_totals, grand_total) == set()


def test_inconsistent_tables_are_rejected():
    cells, row_totals, col_totals, grand_total = three_by_three(GRID)
    with pytest.raises(ValueError, match="sum"):
        protect_table(cells, {**row_totals, 1: stat(1, 12, 1)}, col_totals, grand_total)
    bad = row_totals[1]
    with pytest.raises(ValueError, match="contributors"):
        protect_table(cells, {**row_totals, 1: CellStat(bad.value, 3, bad.value)}, col_totals, grand_total)
    with pytest.raises(ValueError):
        protect_table({(1,): stat(1, 3, 1)})
    with pytest.raises(KeyError):
        recoverable({cell_key(9, 9)}, cells, row_totals, col_totals, grand_total)


def test_apply_and_publish():
    protection = Protection({cell_key(1, 1): FEW})
    assert apply(protection, cell_key(1, 1), D(5)) is None
    assert apply(protection, cell_key(1, 2), D(7)) == D(7)
    assert protection.publish({cell_key(1, 1): 5, row_key(1): 12}) == {cell_key(1, 1): None, row_key(1): 12}
    assert protection.primary == {cell_key(1, 1)} and protection.complementary == set()


def test_forty_by_forty_table():
    rnd = random.Random(7)
    micro = {}
    for enterprise in range(8000):
        for _ in range(rnd.randint(1, 3)):
            key = (rnd.randrange(40), rnd.randrange(40))
            value = rnd.randint(1, 1000) * (80 if rnd.random() < 0.003 else 1)
            micro.setdefault(key, {})
            micro[key][enterprise] = micro[key].get(enterprise, 0) + value
    table = aggregate(micro)
    protection = protect_table(*table)
    assert len(protection.primary) >= 10
    stats = published(*table)
    assert all(protection.reason(k) == primary_reason(s) for k, s in stats.items() if primary_reason(s))
    assert recoverable(protection, *table) == set()
    assert singleton_recoverable(protection, *table) == {}
    assert all(n != 1 for n in line_counts(table, protection.suppressed))


# ---------------------------------------------------------------------------------------------------- properties


@st.composite
def random_tables(draw):
    n_rows, n_cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    n_enterprises = draw(st.integers(1, 9))
    value = st.one_of(st.integers(1, 100), st.integers(1, 5000))
    entries = draw(st.lists(st.tuples(st.integers(0, n_enterprises - 1), st.integers(0, n_rows - 1),
                                       st.integers(0, n_cols - 1), value), max_size=30))
    micro = {}
    for enterprise, r, c, v in entries:
        micro.setdefault((r, c), {})
        micro[(r, c)][enterprise] = micro[(r, c)].get(enterprise, 0) + v
    rows, cols, grand = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    cells, row_totals, col_totals, grand_total = aggregate(micro, range(n_rows), range(n_cols),
                                                           rows=rows, cols=cols, grand=grand)
    if draw(st.booleans()):   # explicit empty cells instead of missing ones
        cells = {(r, c): cells.get((r, c), EMPTY) for r in range(n_rows) for c in range(n_cols)}
    return cells, row_totals, col_totals, grand_total


@settings(max_examples=200, deadline=None)
@given(random_tables())
def test_random_tables_are_protected(table):
    protection = protect_table(*table)
    stats = published(*table)
    for key, s in stats.items():
        reason = primary_reason(s, Rules())
        if reason:
            assert protection.reason(key) == reason
        if s.is_empty:
            assert not protection.is_suppressed(key)
    assert set(protection.suppressed) <= set(stats)
    assert recoverable(protection, *table) == set()
    assert determined(table, protection.suppressed) == set()
    assert singleton_recoverable(protection, *table) == {}
    assert insider_exposed(table, protection.suppressed) == {}
    assert all(n != 1 for n in line_counts(table, protection.suppressed))


@settings(max_examples=200, deadline=None)
@given(random_tables(), st.randoms(use_true_random=False))
def test_recoverable_agrees_with_independent_check(table, rnd):
    stats = published(*table)
    candidates = sorted((k for k, s in stats.items() if not s.is_empty), key=repr)
    suppressed = {k for k in candidates if rnd.random() < 0.5}
    assert recoverable(suppressed, *table) == determined(table, suppressed)
    assert singleton_recoverable(suppressed, *table) == insider_exposed(table, suppressed)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.integers(0, 6), st.lists(st.integers(1, 1000), min_size=1, max_size=4), max_size=7),
       st.booleans())
def test_random_series_are_protected(contributions, with_total):
    cells = {k: CellStat.from_contributions(v) for k, v in contributions.items()}
    total = CellStat.from_contributions([x for v in contributions.values() for x in v]) if with_total else None
    protection = protect_series(cells, total)
    for k, s in cells.items():
        if not with_total:
            assert protection.is_suppressed(("cell", k)) == (primary_reason(s) is not None)
        if primary_reason(s):
            assert protection.reason(("cell", k)) == primary_reason(s)
    table = Table.series(cells, total)
    assert table.recoverable(protection) == set()
    assert table.singleton_recoverable(protection) == {}
