"""The selection procedures against systems with known means (normal outputs, slippage
configurations): the probability of a correct selection, and of correct feasibility decisions,
is at least what they promise, with and without common random numbers.

Tolerance: each guarantee is checked over 500 macro-replications. Under the promise p >= 0.95,
the count correct is at least Binomial(500, 0.95); the test asks for at least 0.95 - 3 sd
(~0.921), so a procedure that keeps its promise fails with probability < 0.2%, and one whose
true rate is 0.90 fails with probability > 90%. (Both procedures are conservative: measured
rates are near 0.99.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simcore.experiments.selection import (
    FEASIBLE,
    INFEASIBLE,
    Constraint,
    check_feasibility,
    region_h2,
    select_best,
)

MACRO = 500
FLOOR = 0.95 - 3 * math.sqrt(0.95 * 0.05 / MACRO)


class Systems:
    """``k`` systems with normal outputs of known means, sd 1, replication ``r`` sharing a
    common normal (weight ``rho``) across systems when ``crn`` (correlation ``rho``)."""

    def __init__(self, means: np.ndarray, rng: np.random.Generator, crn: bool, rho: float = 0.8):
        self.means, self.rng, self.crn, self.rho = np.asarray(means, float), rng, crn, rho
        self.rows: list[np.ndarray] = []

    def _grow(self, n: int) -> None:
        while len(self.rows) < n:
            own = self.rng.standard_normal(len(self.means))
            if self.crn:
                common = self.rng.standard_normal()
                own = math.sqrt(self.rho) * common + math.sqrt(1 - self.rho) * own
            self.rows.append(self.means + own)

    def data(self, ids, n):
        self._grow(n)
        block = np.array(self.rows[:n])
        return {i: block[:, [i]] for i in ids}


def test_the_region_constant_matches_kim_and_nelson():
    # KN's eta = ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1) / 2 and h^2 = 2 eta (n0 - 1): for
    # alpha 0.05, k 5, n0 10 that is 9 x ((0.025)^(-2/9) - 1) = 11.30.
    assert region_h2(10, 0.05 / 4) == pytest.approx(9 * (0.025 ** (-2 / 9) - 1))
    with pytest.raises(ValueError):
        region_h2(1, 0.05)


@pytest.mark.statistical
@pytest.mark.parametrize("crn", [False, True])
def test_kn_picks_the_best_under_slippage_as_often_as_it_promises(crn):
    k, delta, alpha = 5, 0.5, 0.05
    means = np.full(k, delta)
    means[2] = 0.0  # the best (least), the others exactly delta worse: the hardest case
    rng = np.random.default_rng(20261207)
    correct, reps = 0, []
    for _ in range(MACRO):
        sys = Systems(means, rng, crn)
        sel = select_best(range(k), sys.data, 0, True, alpha, delta, n0=10, n_max=10_000)
        correct += sel.survivors == [2]
        reps.append(len(sys.rows))
    assert correct / MACRO >= FLOOR
    if crn:  # paired differences of correlated outputs vary less: far fewer replications
        assert np.mean(reps) < 0.5 * _mean_reps_without_crn(means, delta, alpha)


def _mean_reps_without_crn(means, delta, alpha) -> float:
    rng = np.random.default_rng(7)
    reps = []
    for _ in range(100):
        sys = Systems(means, rng, crn=False)
        select_best(range(len(means)), sys.data, 0, True, alpha, delta, n0=10, n_max=10_000)
        reps.append(len(sys.rows))
    return float(np.mean(reps))


def test_kn_maximises_and_stops_at_the_cap_with_the_survivors():
    rng = np.random.default_rng(1)
    sys = Systems(np.array([0.0, 3.0, 1.0]), rng, crn=False)
    assert select_best(range(3), sys.data, 0, False, 0.05, 0.5, n0=10, n_max=1000).survivors == [1]
    # Two equal systems cannot be told apart: at the cap both survive.
    sys = Systems(np.array([0.0, 0.0, 5.0]), rng, crn=False)
    sel = select_best(range(3), sys.data, 0, True, 0.05, 0.2, n0=10, n_max=40)
    assert sorted(sel.survivors) == [0, 1] and sel.replications[2] < 40


@pytest.mark.statistical
@pytest.mark.parametrize("crn", [False, True])
def test_feasibility_decisions_are_right_as_often_as_promised(crn):
    # Four systems against E[Y] <= 0 with tolerance 0.3: two at -0.3 (feasible, at the zone's
    # edge), two at +0.3 (infeasible); each decision's error at most beta = 0.05 / 4.
    means = np.array([-0.3, 0.3, -0.3, 0.3])
    con = Constraint(output=0, bound=0.0, upper=True, tolerance=0.3)
    beta = 0.05 / 4
    rng = np.random.default_rng(99)
    all_right = 0
    for _ in range(MACRO):
        sys = Systems(means, rng, crn)
        d = check_feasibility(range(4), sys.data, [con], beta, n0=10, n_max=10_000)
        all_right += [d.status[i] for i in range(4)] == [FEASIBLE, INFEASIBLE, FEASIBLE, INFEASIBLE]
    assert all_right / MACRO >= FLOOR


def test_a_min_bound_and_several_constraints():
    rng = np.random.default_rng(3)
    means = np.array([[1.0, 5.0], [1.0, 1.0], [-1.0, 5.0]])  # outputs: Y0 <= 0.5? no; Y1 >= 3

    def data(ids, n):
        return {i: means[i] + 0.1 * rng.standard_normal((n, 2)) for i in ids}

    cons = [
        Constraint(output=0, bound=2.0, upper=True, tolerance=0.2),
        Constraint(output=1, bound=3.0, upper=False, tolerance=0.2),
    ]
    d = check_feasibility(range(3), data, cons, 0.01, n0=5, n_max=100)
    assert d.status == {0: FEASIBLE, 1: INFEASIBLE, 2: FEASIBLE}
    assert d.by_constraint[1][1] == INFEASIBLE


def test_a_system_at_its_bound_stays_undecided_until_the_cap():
    rng = np.random.default_rng(5)
    sys = Systems(np.array([0.0]), rng, crn=False)
    con = Constraint(output=0, bound=0.0, upper=True, tolerance=0.01)
    d = check_feasibility([0], sys.data, [con], 0.01, n0=10, n_max=60, batch=5)
    assert d.status[0] == "undecided" and d.replications[0] == 60
