"""The three seed axes, and the shipped strategy scenarios, move their KPIs the right way under
one seed (common random numbers).

Tier 4: each comparison is of two runs on one seed, so that the noise in a difference is only
what the changed setting moves. The margins are checked against the spread of the comparison
over the seeds SIMCORE_TEST_SEED = 0..11 (mean +- sd of the 12, in the comments), and each sits
about 4 sd or more inside it: a seed fails about once in 10,000 or less (normal tails). A
setting the model ignored would give the same counts in both runs and fail every check.
"""

from __future__ import annotations

import pytest

import simcore
from tests.conftest import many_kpis, shipped

pytestmark = pytest.mark.statistical

#: The seed axes' runs: 60 days, KPIs over the 40 between warm-up and cool-down.
SHORT = {"horizon_days": 60, "warmup_days": 10, "cooldown_days": 10}
#: The strategy scenarios' runs: 90 days (70 counted), for poor_inventory's doubling of
#: out-of-stock cancellations to stand clear of the noise (at 60 days, 2.6 +- 0.28 times the
#: baseline's, 2.1 sd above 2: about a seed in 50 would fail; at 90 days 3.24 +- 0.22).
STRATEGY = {"horizon_days": 90, "warmup_days": 10, "cooldown_days": 10}
#: The inventory axis compares records all right with records nearly all wrong, and no stock
#: counts: the baseline counts every 90 days at a phase of each seller's own, which resets a
#: seller's records to the truth partway through most runs and blurs the axis (0.9 against 0.1
#: with counts: 1.48 +- 0.17 times as many out-of-stock cancellations, under 1.3 on offsets 6
#: and 10). "Nearly all wrong" is 0.02 (0.5% of records accurate, measured), not 0.0: a target
#: of 0 drives the derived error rates to their ceiling (about 110 errors a SKU a day), which
#: made that one run take 30 s where 0.02 takes 3; the out-of-stock count is ~10% lower (466
#: against 516 at the shipped seed).
NO_COUNTS = {"sellers.strategy.sync_interval_days": None}


def reason_counts(levels: list[dict], reason: str) -> list[int]:
    """The count of ``reason`` in a SHORT baseline run at each of ``levels`` (overrides), the runs
    in worker processes."""
    runs = many_kpis(shipped("baseline", {**SHORT, **overrides}) for overrides in levels)
    return [k["cancellations_by_reason"][reason] for k in runs]


@pytest.mark.parametrize(
    ("key", "low", "high", "reason", "fixed"),
    [
        # 27 +- 6 times as many (fewest 19.5), 456 +- 32 more: the ratio's line is 4.4 sd away,
        # the difference's 14.
        ("sellers.inventory_accuracy", 1.0, 0.02, "out_of_stock", NO_COUNTS),
        # 2.78 +- 0.14 times as many, 215 +- 13 more.
        ("buyers.fraud_rate", 0.005, 0.05, "fraud_suspected", {}),
        # 17 to 46 times as many (11 +- 3 against 266 +- 41), 182 more at the fewest.
        ("shipping.blocked_route_share", 0.0, 0.05, "shipping_restriction", {}),
    ],
)
def test_seed_axis_moves_its_reason(key, low, high, reason, fixed):
    """Worse inventory records, more fraud, more blocked routes -> more of their reason."""
    better, worse = reason_counts([{**fixed, key: low}, {**fixed, key: high}], reason)
    assert worse > better * 1.3 and worse - better >= 20, (better, worse)


@pytest.mark.slow
def test_axis_is_monotone_over_three_levels():
    counts = reason_counts(
        [{"shipping.blocked_route_share": s} for s in (0.0, 0.03, 0.08)], "shipping_restriction"
    )
    assert counts[0] < counts[1] < counts[2]


#: The shipped strategy scenarios compared with the baseline below.
STRATEGIES = ("poor_inventory", "frequent_sync", "fraud_wave", "strict_fraud_filter", "tight_shipping")


@pytest.fixture(scope="module")
def strategy_kpis() -> dict[str, dict]:
    """The KPIs of the baseline and of each strategy scenario over STRATEGY, the six runs made
    once for the module's tests, in worker processes."""
    names = ("baseline", *STRATEGIES)
    return dict(zip(names, many_kpis(shipped(name, STRATEGY) for name in names), strict=True))


@pytest.fixture(scope="module")
def short_baseline(strategy_kpis) -> dict:
    return strategy_kpis["baseline"]


def test_poor_inventory_raises_out_of_stock_and_lowers_accuracy(short_baseline, strategy_kpis):
    k = strategy_kpis["poor_inventory"]
    # 3.24 +- 0.22 times as many (5.7 sd above 2); accuracy 0.268 +- 0.005 lower.
    assert (
        k["cancellations_by_reason"]["out_of_stock"]
        > 2 * short_baseline["cancellations_by_reason"]["out_of_stock"]
    )
    assert k["inventory_record_accuracy"] < short_baseline["inventory_record_accuracy"]


def test_frequent_sync_raises_accuracy_and_lowers_out_of_stock(short_baseline, strategy_kpis):
    k = strategy_kpis["frequent_sync"]
    # Accuracy 0.564 +- 0.004 higher; 225 +- 16 fewer out-of-stock cancellations.
    assert k["inventory_record_accuracy"] > short_baseline["inventory_record_accuracy"] + 0.2
    assert (
        k["cancellations_by_reason"]["out_of_stock"]
        < short_baseline["cancellations_by_reason"]["out_of_stock"]
    )


def test_fraud_wave_raises_fraud_cancellations(short_baseline, strategy_kpis):
    k = strategy_kpis["fraud_wave"]
    # 2.06 +- 0.12 times the rate (4.5 sd above 1.5).
    assert (
        k["cancellation_rate_by_reason"]["fraud_suspected"]
        > 1.5 * short_baseline["cancellation_rate_by_reason"]["fraud_suspected"]
    )


def test_strict_filter_catches_more_and_declines_more_legit(short_baseline, strategy_kpis):
    k = strategy_kpis["strict_fraud_filter"]
    # False declines 0.024 +- 0.001 higher, fraud caught 0.055 +- 0.014 higher (4 sd; and on one
    # seed a lower threshold declines every order the baseline's declines: test_invariants),
    # analysts 0.34 +- 0.01 busier.
    assert k["false_decline_rate"] > short_baseline["false_decline_rate"]
    assert k["fraud_caught_share"] >= short_baseline["fraud_caught_share"]
    assert (
        k["queues"]["fraud_review"]["utilization"] > short_baseline["queues"]["fraud_review"]["utilization"]
    )


def test_tight_shipping_raises_shipping_restrictions(short_baseline, strategy_kpis):
    k = strategy_kpis["tight_shipping"]
    # 17 to 33 times the rate (23 +- 6).
    assert (
        k["cancellation_rate_by_reason"]["shipping_restriction"]
        > 3 * short_baseline["cancellation_rate_by_reason"]["shipping_restriction"]
    )


@pytest.mark.slow
def test_promotion_peak_loads_gateway_and_review_queue(promo_result):
    promo = promo_result
    flat = simcore.run(shipped("promo_1111", {"buyers.arrival_profile.promotions": []}))
    for q in ("gateway", "fraud_review"):
        assert promo.kpis["queues"][q]["mean_wait_hours"] > 2 * flat.kpis["queues"][q]["mean_wait_hours"], q
    ts = promo.timeseries.set_index("date")["orders_placed"]
    assert ts.idxmax().strftime("%m-%d") == "11-11"
    assert ts.max() > 5 * ts.median()
