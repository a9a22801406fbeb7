"""Stock and records in steady state, and the inventory-accuracy axis: the derivation of the
record-error rates against what is known exactly, the reorder policy by days of demand, the
baseline's stock KPIs bin by bin over a year, and ``sellers.inventory_accuracy`` measured back."""

from __future__ import annotations

import math

import numpy as np
import pytest

import simcore
from simcore.model.inventory import stock_policy
from simcore.model.records import accuracy_share, derive_rates, error_size_table
from simcore.model.world import World
from tests.conftest import SCENARIOS, in_workers, quiet, seed, shipped

SHIPPED_BASELINE = SCENARIOS / "baseline.yaml"  # its own seed, not moved by SIMCORE_TEST_SEED

# --------------------------------------------------------------------------- the derivation


def test_accuracy_share_is_the_chance_of_no_error_since_a_count_at_a_uniform_age():
    # Known exactly: with errors Poisson(lam) a day and the age U(0, T), P(no error) =
    # E[exp(-lam U T)] = (1 - exp(-lam T)) / (lam T). Checked here by quadrature, not the formula.
    for x in (1e-12, 0.01, 0.5, 1.0, 3.0, 40.0):
        u = (np.arange(200_000) + 0.5) / 200_000  # midpoint rule over the age
        # The midpoint rule errs by about x^2 / (24 N^2) relative: 2e-9 at x = 40.
        assert accuracy_share(np.array([x]))[0] == pytest.approx(np.exp(-x * u).mean(), rel=1e-8)
    assert accuracy_share(np.array([0.0]))[0] == 1.0


def _catalog(n_sellers: int = 30, per: int = 20, rng_seed: int = 5):
    rng = np.random.default_rng(seed(rng_seed))
    transactions = rng.pareto(1.2, n_sellers * per) * 0.01  # a long tail, as Zipf demand gives
    losses = 0.015 * transactions
    return transactions, losses


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_derived_rates_hold_every_sellers_target(share):
    t, loss = _catalog()
    target = np.linspace(0.02, 0.98, 30)
    rates = derive_rates(target, t, loss, 20, 90.0, share)
    achieved = accuracy_share(rates.total_per_day * 90.0).reshape(30, 20).mean(axis=1)
    # Where losses alone keep a seller below its target (a best-seller in the Pareto tail), it
    # makes no other errors and stays at what the losses leave.
    losses_only = accuracy_share(loss * 90.0).reshape(30, 20).mean(axis=1)
    np.testing.assert_allclose(achieved, np.minimum(target, losses_only), atol=1e-9)
    assert np.sum(losses_only > target) >= 25  # most targets are reached: the test is not vacuous
    # The rates add up: picks and receipts at p each, drift, losses.
    picks = np.repeat(rates.pick_p, 20) * t
    np.testing.assert_allclose(picks + rates.drift_per_day + loss, rates.total_per_day, rtol=1e-12)
    assert np.all(rates.pick_p <= 1.0) and np.all(rates.drift_per_day >= 0.0)


def test_errors_with_transactions_rise_with_sales():
    t, loss = _catalog()
    rates = derive_rates(np.full(30, 0.9), t, loss, 20, 90.0, 1.0)
    assert rates.pick_p[0] < 1.0  # the premise: transactions carry every error
    fast, slow = np.argmax(t[:20]), np.argmin(t[:20])
    assert rates.total_per_day[fast] > 10 * rates.total_per_day[slow]
    assert rates.drift_per_day[:20].max() == pytest.approx(0.0, abs=1e-12)


def test_a_target_losses_alone_miss_gets_no_other_errors_and_a_perfect_one_none():
    t, _ = _catalog()
    heavy = np.full_like(t, 0.1)  # 9 losses a quarter: at most 11% of records stay accurate
    rates = derive_rates(np.full(30, 0.5), t, heavy, 20, 90.0, 0.5)
    assert np.all(rates.pick_p == 0.0) and np.all(rates.drift_per_day == 0.0)
    rates = derive_rates(np.ones(30), t, np.zeros_like(t), 20, 90.0, 0.5)
    assert np.all(rates.total_per_day == 0.0)


@pytest.mark.parametrize("mean", [1.0, 3.0, 12.5])
def test_error_sizes_are_one_plus_poisson_with_the_scenarios_mean(mean):
    table = error_size_table(mean)
    w = (np.arange(100_000) + 0.5) / 100_000  # uniforms on a grid: the inverse CDF's mean
    sizes = 1 + np.searchsorted(np.asarray(table), w, side="right")
    assert sizes.mean() == pytest.approx(mean, abs=1e-3)
    assert sizes.min() == 1
    lam = mean - 1.0
    assert np.mean(sizes == 1) == pytest.approx(math.exp(-lam), abs=1e-4)


# --------------------------------------------------------------------------- the reorder policy


def test_reorder_point_and_quantity_are_days_of_each_skus_own_demand():
    world = World(shipped("baseline"))
    inv = world._running[1].inventory
    units = inv.units_per_day
    top, slow = int(np.argmax(units)), int(np.argmin(units))
    # The baseline: 10 days to reorder, 30 days a replenishment, floors of 4 and 12 units.
    assert inv.point[top] == math.ceil(units[top] * 10) > 4
    assert inv.quantity[top] == math.ceil(units[top] * 30) > 12
    assert (inv.point[slow], inv.quantity[slow]) == (4, 12)
    # Units a day sum to the arrivals' mean rate times the mean basket (12.5 an hour, 1 + 0.3).
    assert units.sum() == pytest.approx(12.5 * 24 * 1.3)


def test_without_alerts_the_seller_reorders_only_an_empty_listing():
    world = World(shipped("baseline", {"sellers.strategy.low_stock_alert": False}))
    inv = world._running[1].inventory
    assert set(inv.point) == {0}
    point, quantity = stock_policy(world._running[0], inv.units_per_day)
    assert set(point.tolist()) == {0} and quantity.min() == 12


def test_a_count_that_finds_a_sku_at_its_reorder_point_reorders_it():
    world = World(
        quiet(
            {
                "sellers.strategy.sync_interval_days": 5,
                "sellers.strategy.low_stock_alert": True,
                "buyers.orders_per_hour": 1e-6,  # nothing sold: the shelf moves by the receipt only
            }
        )
    )
    ctx, parts = world._running
    inv, restocker = parts.inventory, parts.restocker
    sku = 3  # seller 0's fourth listing: its physical stock is let run down unrecorded
    assert inv.point[sku] == 4 and inv.recorded[sku] > 4  # the floor; 1,000 units on record
    inv.physical[sku] = 4
    assert not any(inv.on_order[:4])
    restocker.count(0)
    assert inv.recorded[sku] == 4
    assert list(inv.on_order[:4]) == [0, 0, 0, 1]
    restocker.check(sku)  # a second check at this hour orders nothing more
    ctx.env.run(until=40 * 24.0)  # the lead time (gamma, mean 6 days) has passed
    assert inv.physical[sku] == 4 + inv.quantity[sku] and not inv.on_order[sku]


# --------------------------------------------------------------------------- record errors


def test_a_pick_mis_keys_the_record_by_the_orders_own_draw():
    world = World(quiet({"sellers.inventory_accuracy": 0.5, "sellers.phantom_share": 0.5}))
    ctx, parts = world._running
    inv = parts.inventory
    p = inv.pick_error_p[0]
    assert 0.0 < p < 1.0
    before = (inv.physical[0], inv.recorded[0])
    inv.pick(0, 2, 0.0, u=p + (1 - p) / 2)  # no error: record and shelf both lose 2
    assert (inv.physical[0], inv.recorded[0]) == (before[0] - 2, before[1] - 2)
    inv.pick(0, 1, 0.0, u=p * 0.25)  # an error, overstating (first half of the errors)
    assert inv.recorded[0] - inv.physical[0] >= before[1] - before[0] + 1
    rec, phys = inv.recorded[1], inv.physical[1]
    inv.pick(1, 1, 0.0, u=p * 0.75)  # an error, understating
    assert inv.recorded[1] - inv.physical[1] <= rec - phys - 1


# --------------------------------------------------------------------------- the steady state


def _oos(result: simcore.RunResult) -> np.ndarray:
    # Stock-outs, whatever the seller said (asked to, the buyer cancelled them as a change of mind).
    o = result.orders
    return ((o["status"] == "cancelled") & (o["true_reason"] == "out_of_stock")).to_numpy()


#: The year test's 30-day bins after the warm-up.
YEAR_BINS = 12


def _year_bins(replication: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One replication of the baseline over a year after its warm-up (in a worker process): per
    30-day bin, its stock-out cancellations, its orders and its mean daily record accuracy."""
    warmup = int(shipped("baseline").warmup_days)
    scn = shipped("baseline", {"horizon_days": warmup + 30 * YEAR_BINS, "cooldown_days": 0})
    result = simcore.run(scn, replication=replication)
    h = result.orders["placed_hour"].to_numpy() - warmup * 24.0
    keep = h >= 0
    b = (h[keep] // (30 * 24)).astype(int)
    oos = np.bincount(b, weights=_oos(result)[keep], minlength=YEAR_BINS)[:YEAR_BINS]
    n = np.bincount(b, minlength=YEAR_BINS)[:YEAR_BINS]
    ts = result.timeseries
    day = ts["day"].to_numpy()
    a = ts["inventory_accuracy"].to_numpy()
    acc = np.array(
        [a[(day > warmup + 30 * i) & (day <= warmup + 30 * (i + 1))].mean() for i in range(YEAR_BINS)]
    )
    return oos, n, acc


@pytest.mark.slow
@pytest.mark.statistical
def test_the_baseline_holds_its_stock_kpis_steady_for_a_year():
    # Five replications of the baseline over 365 days after its warm-up (run in worker
    # processes), in 30-day bins, pooled. Tolerances are the issue's. Why five: one
    # replication's bins carry ~15% noise (about 130 out-of-stock cancellations a bin, clustered
    # on best-sellers); pooled over five, ~7%, so a 25% band is over three standard deviations
    # for each of the twelve bins. Measured at writing: bins 1.10-1.25% of orders, last three /
    # first three 0.95, largest deviation 8%; accuracy per bin 0.374-0.383.
    reps = 5
    oos, n, acc = (np.sum(part, axis=0) for part in zip(*in_workers(_year_bins, range(reps)), strict=True))
    share, acc = oos / n, acc / reps
    assert share[-3:].mean() == pytest.approx(share[:3].mean(), rel=0.15), share
    assert np.max(np.abs(share / share.mean() - 1.0)) <= 0.25, share
    assert np.max(np.abs(acc - acc.mean())) <= 0.03, acc


# --------------------------------------------------------------------------- the accuracy axis


def _axis_kpis(overrides: dict, replication: int) -> tuple[float, float]:
    """Measured record accuracy and out-of-stock cancellation rate of one baseline run (in a worker
    process)."""
    k = simcore.run(shipped("baseline", overrides), replication=replication).kpis
    return k["inventory_record_accuracy"], k["cancellation_rate_by_reason"]["out_of_stock"]


#: The accuracy axis's settings: three levels under the baseline's quarterly counts, and 0.5
#: counted weekly.
AXIS = {
    "0.2": {"sellers.inventory_accuracy": 0.2},
    "0.5": {"sellers.inventory_accuracy": 0.5},
    "0.9": {"sellers.inventory_accuracy": 0.9},
    "0.5 weekly": {"sellers.inventory_accuracy": 0.5, "sellers.strategy.sync_interval_days": 7},
}


@pytest.fixture(scope="module")
def axis() -> dict[str, tuple[float, float]]:
    """Per setting of AXIS, the mean measured record accuracy and out-of-stock cancellation rate
    over 2 replications: the eight runs in worker processes, once for both tests that read them
    (the 0.5 runs are the reference of each)."""
    reps = 2
    jobs = [(overrides, r) for overrides in AXIS.values() for r in range(reps)]
    out = iter(in_workers(_axis_kpis, *zip(*jobs, strict=True)))
    return {name: tuple(np.mean([next(out) for _ in range(reps)], axis=0).tolist()) for name in AXIS}


@pytest.mark.slow
@pytest.mark.statistical
def test_inventory_accuracy_is_the_long_run_share_of_accurate_records(axis):
    # +-0.05 (the issue's): the derivation ignores corrections when a shelf is found short, which
    # raise measured accuracy by up to ~0.03 (measured at writing: 0.234, 0.520, 0.900 over three
    # seeds); two replications of ~25,000 orders make the seed's part ~0.005.
    measured = {a: axis[str(a)] for a in (0.2, 0.5, 0.9)}
    for setting, (acc, _) in measured.items():
        assert acc == pytest.approx(setting, abs=0.05), measured
    oos = [measured[a][1] for a in (0.2, 0.5, 0.9)]
    assert oos[0] > oos[1] > oos[2], measured  # measured at writing: 1.7%, 0.78%, 0.17%
    assert oos[0] >= 2.5 * oos[2], measured


@pytest.mark.slow
@pytest.mark.statistical
def test_counting_weekly_keeps_records_above_the_setting_and_shelves_stocked(axis):
    reference, weekly = axis["0.5"], axis["0.5 weekly"]
    assert weekly[0] > 0.6, weekly  # measured at writing: 0.94
    assert weekly[1] < reference[1], (weekly, reference)  # 0.05% against 0.78%


@pytest.mark.slow
def test_the_start_only_accuracy_keeps_its_meaning_under_its_own_name():
    scn = shipped(
        "baseline",
        {
            "sellers.initial_record_accuracy": 0.95,
            "sellers.inventory_accuracy": 0.35,
            "sellers.inventory_accuracy_concentration": None,
            "horizon_days": 120,
        },
    )
    acc = simcore.run(scn).timeseries["inventory_accuracy"].to_numpy()
    assert acc[0] > 0.9  # day 1: the start-only share
    assert acc[-30:].mean() == pytest.approx(0.35, abs=0.07)  # then the long-run share


def _pilot_series(pilot: simcore.Scenario, replication: int):
    """A warm-up pilot's daily series (analysis.warmup.warmup_series; in a worker process)."""
    from analysis.warmup import warmup_series
    from simcore.experiments.runner import run

    return warmup_series(run(pilot, replication=replication))


#: The warm-up test's seeds: the shipped one (None) and two others.
PILOT_ROOTS = (None, 1, 2)
PILOTS = 5


@pytest.fixture(scope="module")
def pilots() -> dict[int | None, list]:
    """Per root of PILOT_ROOTS, the daily series of its PILOTS pilots: the 15 runs in worker
    processes at once."""
    scenarios = []
    for root in PILOT_ROOTS:
        moved = {} if root is None else {"seed": seed(root)}
        scenarios.append(
            simcore.load_scenario(SHIPPED_BASELINE, {"warmup_days": 0, "cooldown_days": 0, **moved})
        )
    jobs = [(scn, r) for scn in scenarios for r in range(PILOTS)]
    series = in_workers(_pilot_series, *zip(*jobs, strict=True))
    return {root: series[i * PILOTS : (i + 1) * PILOTS] for i, root in enumerate(PILOT_ROOTS)}


@pytest.mark.slow
@pytest.mark.statistical
@pytest.mark.parametrize("root", PILOT_ROOTS)
def test_simcore_warmup_finds_no_start_transient_on_the_baseline(root, pilots):
    # What `simcore warmup scenarios/baseline.yaml` does: 5 pilots of the scenario's horizon with
    # no warm-up, MSER-5 on the mean of the daily out-of-stock (and cancelled) shares; for the
    # shipped seed and two others (moved by SIMCORE_TEST_SEED). MSER's cut is itself noisy on a
    # share of a few cancellations a day, so one seed alone would not show the start is right.
    # Measured at writing: 0 days for the shipped seed and seeds 1, 2, 20261112-20261114 (with
    # the start the prehistory replaced, 10-30 days by seed). Over 96 seeds the out-of-stock share
    # is 1.20% of orders in days 0-10 and 1.17% in days 10-40.
    from analysis.warmup import suggest_warmup

    SHIPPED_WARMUP_DAYS = simcore.load_scenario(SHIPPED_BASELINE).warmup_days
    series = pilots[root]  # 5 pilots (the `pilots` fixture runs the three seeds' at once)
    suggestion = suggest_warmup(series)
    oos = suggestion.by_series.set_index("column").loc["out_of_stock_share"]
    assert oos.truncation_days <= 10 and not oos.at_limit
    # The cancelled share: MSER's cut also reacts to swells mid-run, which no warm-up removes.
    # Sellers' ratings start at the prior for every seller, and picky buyers learn to avoid the
    # poor sellers (blocked routes, unreliable) over the first days: the first 10 days cancel
    # ~0.7 points more (seed 1 at writing; before December 2026 a steady ~0.25 points of
    # suspensions later in the run hid it). The baseline's 10-day warm-up removes it: what the
    # KPI window must show is no transient, days 10-20 within 3 standard errors of the rest, the
    # error from the spread of the 10-day blocks' means (5 pilots: 10-day blocks of ~2,500 orders).
    # (Days with no order resolved yet, at the pilots' ends, have no share: left out.)
    cancelled = np.nanmean([s["cancelled_share"].to_numpy() for s in series], axis=0)
    blocks = np.nanmean(cancelled[: len(cancelled) // 10 * 10].reshape(-1, 10), axis=1)
    blocks = blocks[~np.isnan(blocks)]
    warmup = int(SHIPPED_WARMUP_DAYS // 10)
    rest = blocks[warmup + 1 :]
    assert abs(blocks[warmup] - rest.mean()) < 3 * rest.std(ddof=1)
