"""Choosing the best feasible system with a stated guarantee, on a noisy simulator.

Two fully sequential procedures, each deciding with a little more data at a time and stopping as
soon as the data allow, with an indifference zone (a difference too small to matter):

- **Feasibility** (Andradóttir & Kim 2010, procedure F^B, one constraint at a time): for system
  ``i`` and a constraint ``E[Y] <= q`` with tolerance ``eps``, after ``n0`` replications let
  ``S^2`` be the sample variance of ``Y``; with ``h^2 = (n0 - 1)((2 beta)^(-2 / (n0 - 1)) - 1)``
  and ``R(r) = max(0, h^2 S^2 / (2 eps) - eps r / 2)``, the sum ``D(r) = sum_j (Y_j - q)`` at
  ``D(r) <= -R(r)`` declares it feasible, at ``D(r) >= R(r)`` infeasible, and otherwise asks for
  another replication. A system with ``E[Y] <= q - eps`` is declared feasible, and one with
  ``E[Y] >= q + eps`` infeasible, each with probability at least ``1 - beta``; in between either
  answer is acceptable. (``E[Y] >= q`` is the same with ``q - Y``.)
- **Selection** (Kim & Nelson 2001, procedure KN): among ``k`` systems to minimise ``E[X]``, after
  ``n0`` replications let ``S^2_il`` be the sample variance of the paired differences
  ``X_i - X_l``; with ``h^2 = (n0 - 1)((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1)`` and
  ``W_il(r) = max(0, delta / (2 r) (h^2 S^2_il / delta^2 - r))``, system ``i`` is eliminated at
  ``r`` when ``mean_i(r) > mean_l(r) + W_il(r)`` for a surviving ``l``. The survivor is the best,
  or within ``delta`` of it, with probability at least ``1 - alpha``. Differences are paired by
  replication, so common random numbers (which make ``S^2_il`` small) save replications.

Both assume normal outputs (means of many orders are close to it). Checking after batches of
replications rather than after each one only looks at fewer stages, and the guarantees hold.
When the replications allowed run out first, the undecided systems are reported as such: the
caller says ``not_separable`` rather than guessing.

The functions here are pure: they are handed the data (``data(ids, n)`` returns the first ``n``
replications of each system asked for) and never run a simulation themselves, so they are
tested in seconds on systems with known means (tests/experiments/test_selection.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

#: ``data(ids, n)``: the first ``n`` replications of each system in ``ids``, as arrays of
#: shape (n, outputs), in the caller's order of outputs.
Data = Callable[[Sequence[int], int], Mapping[int, np.ndarray]]

FEASIBLE, INFEASIBLE, UNDECIDED = "feasible", "infeasible", "undecided"


def region_h2(n0: int, error: float) -> float:
    """``h^2 = (n0 - 1)((2 error)^(-2 / (n0 - 1)) - 1)``, the continuation region's constant of
    both procedures for a per-comparison error ``error`` (Kim & Nelson 2001's ``2 eta (n0 - 1)``)."""
    if n0 < 2:
        raise ValueError(f"the procedures need at least 2 first-stage replications (got {n0})")
    if not 0.0 < error < 0.5:
        raise ValueError(f"a per-comparison error must be in (0, 0.5) (got {error})")
    return (n0 - 1) * ((2.0 * error) ** (-2.0 / (n0 - 1)) - 1.0)


@dataclass(frozen=True)
class Constraint:
    """``E[output] <= bound`` (``upper``) or ``>= bound``, with indifference ``tolerance``.

    Attributes:
        output: Column of the data arrays.
        bound: The bound.
        upper: True for a ``max`` bound, False for a ``min``.
        tolerance: Means within this of the bound may be judged either way (> 0).
        name: For reports.
    """

    output: int
    bound: float
    upper: bool
    tolerance: float
    name: str = ""


@dataclass
class Decisions:
    """Feasibility of each system: ``status[i]`` one of FEASIBLE, INFEASIBLE, UNDECIDED;
    ``by_constraint[i][c]`` each constraint's; ``replications[i]`` how many were used."""

    status: dict[int, str] = field(default_factory=dict)
    by_constraint: dict[int, list[str]] = field(default_factory=dict)
    replications: dict[int, int] = field(default_factory=dict)


def check_feasibility(
    ids: Sequence[int],
    data: Data,
    constraints: Sequence[Constraint],
    beta: float,
    n0: int,
    n_max: int,
    batch: int = 1,
) -> Decisions:
    """Andradóttir & Kim's feasibility check for each system in ``ids`` and each constraint, each
    decision with error at most ``beta``.

    A system is FEASIBLE once every constraint is declared met, INFEASIBLE as soon as one is
    declared violated (its other constraints are not needed), and UNDECIDED if ``n_max``
    replications leave a constraint open.

    Args:
        ids: The systems.
        data: See :data:`Data`.
        constraints: The constraints.
        beta: Error of each decision (split the experiment's error over systems and constraints
            before calling: Bonferroni).
        n0: First-stage replications (>= 2).
        n_max: Most replications per system.
        batch: Replications added between checks.
    """
    out = Decisions()
    if not constraints:
        for i in ids:
            out.status[i], out.by_constraint[i], out.replications[i] = FEASIBLE, [], 0
        return out
    h2 = region_h2(n0, beta)
    first = data(list(ids), n0)
    state: dict[int, list[str]] = {i: [UNDECIDED] * len(constraints) for i in ids}
    var: dict[int, np.ndarray] = {}
    for i in ids:
        y = _signed(first[i], constraints)
        var[i] = y.var(axis=0, ddof=1)
    open_ids = list(ids)
    n = n0
    while True:
        rows = data(open_ids, n) if n > n0 else {i: first[i] for i in open_ids}
        still = []
        for i in open_ids:
            y = _signed(rows[i], constraints)
            total = y.sum(axis=0)  # sum of (bound - Y) for a max bound: > 0 is good
            for c, con in enumerate(constraints):
                if state[i][c] != UNDECIDED:
                    continue
                eps = con.tolerance
                r_bound = max(0.0, h2 * var[i][c] / (2.0 * eps) - eps * n / 2.0)
                if total[c] >= r_bound:  # the slack's sum left the region upwards: met
                    state[i][c] = FEASIBLE
                elif total[c] <= -r_bound:
                    state[i][c] = INFEASIBLE
            if INFEASIBLE in state[i] or UNDECIDED not in state[i] or n >= n_max:
                out.by_constraint[i] = list(state[i])
                out.status[i] = (
                    INFEASIBLE if INFEASIBLE in state[i] else UNDECIDED if UNDECIDED in state[i] else FEASIBLE
                )
                out.replications[i] = n
            else:
                still.append(i)
        open_ids = still
        if not open_ids:
            return out
        n = min(n + batch, n_max)


def _signed(rows: np.ndarray, constraints: Sequence[Constraint]) -> np.ndarray:
    """Each constraint's slack per replication: ``bound - Y`` for a max, ``Y - bound`` for a
    min (positive: met)."""
    cols = []
    for con in constraints:
        y = np.asarray(rows[:, con.output], dtype=float)
        cols.append(con.bound - y if con.upper else y - con.bound)
    return np.column_stack(cols)


@dataclass
class Selection:
    """KN's outcome: ``survivors`` (one when decided, several when the replications ran out),
    ``replications[i]`` at each system's elimination (or the end), ``eliminated_at`` rounds as
    (replications, [systems eliminated then])."""

    survivors: list[int]
    replications: dict[int, int]
    eliminated_at: list[tuple[int, list[int]]]


def select_best(
    ids: Sequence[int],
    data: Data,
    output: int,
    minimise: bool,
    alpha: float,
    delta: float,
    n0: int,
    n_max: int,
    batch: int = 1,
) -> Selection:
    """Kim & Nelson's procedure on paired differences: the system with the least (or greatest)
    mean of column ``output``, within ``delta``, with probability at least ``1 - alpha``.

    Args:
        ids: The systems (one alone is returned at once).
        data: See :data:`Data` (replication ``r`` of every system paired: the same random
            numbers under common random numbers).
        output: The column compared.
        minimise: Least mean wins; else greatest.
        alpha: The error of the selection.
        delta: The indifference zone (> 0).
        n0: First-stage replications (>= 2).
        n_max: Most replications per system.
        batch: Replications added between checks.
    """
    ids = list(ids)
    if len(ids) == 1:
        return Selection(ids, {ids[0]: 0}, [])
    k = len(ids)
    h2 = region_h2(n0, alpha / (k - 1))
    sign = 1.0 if minimise else -1.0
    first = data(ids, n0)
    x0 = {i: sign * np.asarray(first[i][:, output], dtype=float) for i in ids}
    s2 = {(i, j): float(np.var(x0[i] - x0[j], ddof=1)) for i in ids for j in ids if i != j}
    alive = list(ids)
    used: dict[int, int] = {}
    rounds: list[tuple[int, list[int]]] = []
    n = n0
    while True:
        rows = data(alive, n) if n > n0 else first
        mean = {i: float(sign * np.mean(np.asarray(rows[i][:n, output], dtype=float))) for i in alive}
        out = []
        for i in alive:
            for j in alive:
                if i == j:
                    continue
                w = max(0.0, delta / (2.0 * n) * (h2 * s2[i, j] / delta**2 - n))
                if mean[i] > mean[j] + w:
                    out.append(i)
                    break
        if out:
            rounds.append((n, out))
            for i in out:
                used[i] = n
            alive = [i for i in alive if i not in out]
        if len(alive) == 1 or n >= n_max:
            for i in alive:
                used[i] = n
            return Selection(alive, used, rounds)
        n = min(n + batch, n_max)
