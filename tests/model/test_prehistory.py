"""The stock's prehistory (``simcore.model.prehistory``) against what is known exactly: the
stationary stock position of a continuous-review policy, and the error a record accumulates from
drift alone; then the world's start against the level its dynamics hold."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import simcore
from simcore.model.prehistory import StockRules, prehistory
from simcore.model.world import World
from simcore.scenario.distributions import Constant
from tests.conftest import in_workers, seed, shipped


def _rules(n: int, **changes) -> StockRules:
    """``n`` identical listings, one unit a day each, no record errors; ``changes`` override."""
    per = 10
    fields = {
        "units_per_day": np.ones(n),
        "point": np.full(n, 2, np.int64),
        "quantity": np.full(n, 5, np.int64),
        "lead": Constant(dist="constant", value=0.01, unit="days"),
        "popularity_cdf": np.arange(1, n + 1) / n,
        "orders_per_day": float(n),
        "extra_items_mean": 0.0,
        "listing_tries": 3,
        "skus_per_seller": per,
        "pick_p": [0.0] * (n // per),
        "loss_per_day": np.zeros(n),
        "drift_per_day": np.zeros(n),
        "errors_per_day": np.zeros(n),
        "mis_key": lambda u, p: 0,
        "drift_sizes": lambda k: np.zeros(k, np.int64),
    }
    return StockRules(**{**fields, **changes})


def test_the_prehistory_keeps_the_stock_position_uniform_over_the_policys_levels():
    # Known exactly: under continuous review with unit demand and no lost sales, the stock
    # position (on hand plus on order) is uniform on point + 1 .. point + quantity. Lead times of
    # a quarter hour against a unit a day make a stock-out (a lost sale) all but impossible. The
    # prehistory starts there and plays 0-30 days of demand: double or missed reorders, or
    # demand taken twice, would move the mass. Chi-square over the 5 levels at 0.1%.
    n = 4000
    rules = _rules(n)
    rng = np.random.default_rng(seed(11))
    state = prehistory(rng, rules, rng.uniform(0.0, 30.0, n))
    position = state.physical.copy()
    for sku, units, _ in state.in_transit:
        position[sku] += units
    assert (state.recorded == state.physical).all()  # no errors: records stay true
    counts = np.bincount(position - 3, minlength=5)
    assert counts.sum() == n and len(counts) == 5, counts  # no position outside 3..7
    assert stats.chisquare(counts).pvalue > 0.001, counts


def test_drift_alone_leaves_each_record_off_by_its_compound_poisson_sum():
    # Known exactly: with no demand and no floor in reach (1,000 units a shelf), a record's error
    # after a days of drift at lam a day, each error +1 or -2 with probability 0.7 and 0.3, has
    # mean lam a (0.7 - 0.6) and variance lam a (0.7 + 1.2). Over 5,000 records the mean error is
    # held within four standard errors.
    n, lam = 5000, 0.2
    rng = np.random.default_rng(seed(12))
    age = rng.uniform(0.0, 90.0, n)

    def sizes(k: int) -> np.ndarray:
        return np.where(rng.random(k) < 0.7, 1, -2)

    rules = _rules(
        n,
        units_per_day=np.zeros(n),
        orders_per_day=0.0,
        point=np.full(n, 1000, np.int64),
        drift_per_day=np.full(n, lam),
        errors_per_day=np.full(n, lam),
        drift_sizes=sizes,
    )
    state = prehistory(rng, rules, age)
    error = state.recorded - state.physical
    mean, var = lam * age.mean() * 0.1, lam * age.mean() * 1.9
    assert error.mean() == pytest.approx(mean, abs=4.0 * np.sqrt(var / n))
    # The variance over records of mixed ages adds the spread of their means: rel 0.15 is about
    # five standard errors of a variance over 5,000 records.
    assert error.var() == pytest.approx(var + (0.1 * lam) ** 2 * age.var(), rel=0.15)


def test_records_with_all_but_certain_errors_start_wrong_without_playing_them_all():
    # Accuracy 0 asks for errors at 1e4 per count interval: the prehistory plays at most
    # MAX_ERRORS a record (it would otherwise play 80 million), and every record starts wrong.
    world = World(shipped("baseline", {"sellers.inventory_accuracy": 0.0}))
    inv = world._running[1].inventory
    accurate = np.frombuffer(inv.physical, np.int64) == np.frombuffer(inv.recorded, np.int64)
    assert accurate.mean() < 0.01


def _start_and_later(scn: simcore.Scenario, replication: int) -> tuple[float, float]:
    """A run's measured record accuracy on day 1 and its mean over days 31-60 (in a worker)."""
    acc = simcore.run(scn, replication=replication).timeseries["inventory_accuracy"].to_numpy()
    return float(acc[0]), float(acc[30:].mean())


@pytest.mark.statistical
@pytest.mark.parametrize("accuracy", [0.35, 0.9])
def test_records_start_as_accurate_as_the_dynamics_keep_them(accuracy):
    # The start's measured accuracy (day 1) against days 31-60's mean, two replications pooled.
    # A share over 16,000 records moves by ~0.004 a run; the tolerance, 0.015, is 3.5 of those.
    # Measured at writing (3 replications, 90 days): 0.381 on day 1 against 0.380 later at 0.35,
    # 0.898 against 0.898 at 0.9.
    window = {"horizon_days": 60, "warmup_days": 0, "cooldown_days": 0}
    scn = shipped("baseline", {**window, "sellers.inventory_accuracy": accuracy})
    first, later = zip(*in_workers(_start_and_later, [scn] * 2, range(2)), strict=True)
    assert np.mean(first) == pytest.approx(np.mean(later), abs=0.015), (first, later)
