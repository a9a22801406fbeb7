"""The three seed axes, and the shipped strategy scenarios, move their KPIs the right way under
one seed (common random numbers)."""

from __future__ import annotations

import pytest
from conftest import SCENARIOS

import simcore

SHORT = {"horizon_days": 60, "warmup_days": 10, "cooldown_days": 10}


def reason_count(overrides: dict, reason: str, scenario: str = "baseline.yaml") -> int:
    res = simcore.run(simcore.load_scenario(SCENARIOS / scenario, {**SHORT, **overrides}))
    return res.kpis["cancellations_by_reason"][reason]


@pytest.mark.parametrize(
    ("key", "low", "high", "reason"),
    [
        ("sellers.inventory_accuracy", 0.9, 0.1, "out_of_stock"),
        ("buyers.fraud_rate", 0.005, 0.05, "fraud_suspected"),
        ("shipping.blocked_route_share", 0.0, 0.05, "shipping_restriction"),
    ],
)
def test_seed_axis_moves_its_reason(key, low, high, reason):
    """Worse inventory records, more fraud, more blocked routes -> more of their reason."""
    better = reason_count({key: low}, reason)
    worse = reason_count({key: high}, reason)
    assert worse > better * 1.3 and worse - better >= 20, (better, worse)


def test_axis_is_monotone_over_three_levels():
    counts = [
        reason_count({"shipping.blocked_route_share": s}, "shipping_restriction") for s in (0.0, 0.03, 0.08)
    ]
    assert counts[0] < counts[1] < counts[2]


def _kpis(name: str) -> dict:
    return simcore.run(simcore.load_scenario(SCENARIOS / name, SHORT)).kpis


@pytest.fixture(scope="module")
def short_baseline() -> dict:
    return _kpis("baseline.yaml")


def test_poor_inventory_raises_out_of_stock_and_lowers_accuracy(short_baseline):
    k = _kpis("poor_inventory.yaml")
    assert (
        k["cancellations_by_reason"]["out_of_stock"]
        > 2 * short_baseline["cancellations_by_reason"]["out_of_stock"]
    )
    assert k["inventory_record_accuracy"] < short_baseline["inventory_record_accuracy"]


def test_frequent_sync_raises_accuracy_and_lowers_out_of_stock(short_baseline):
    k = _kpis("frequent_sync.yaml")
    assert k["inventory_record_accuracy"] > short_baseline["inventory_record_accuracy"] + 0.2
    assert (
        k["cancellations_by_reason"]["out_of_stock"]
        < short_baseline["cancellations_by_reason"]["out_of_stock"]
    )


def test_fraud_wave_raises_fraud_cancellations(short_baseline):
    k = _kpis("fraud_wave.yaml")
    assert (
        k["cancellation_rate_by_reason"]["fraud_suspected"]
        > 1.5 * short_baseline["cancellation_rate_by_reason"]["fraud_suspected"]
    )


def test_strict_filter_catches_more_and_declines_more_legit(short_baseline):
    k = _kpis("strict_fraud_filter.yaml")
    assert k["false_decline_rate"] > short_baseline["false_decline_rate"]
    assert k["fraud_caught_share"] >= short_baseline["fraud_caught_share"]
    assert (
        k["queues"]["fraud_review"]["utilization"] > short_baseline["queues"]["fraud_review"]["utilization"]
    )


def test_tight_shipping_raises_shipping_restrictions(short_baseline):
    k = _kpis("tight_shipping.yaml")
    assert (
        k["cancellation_rate_by_reason"]["shipping_restriction"]
        > 3 * short_baseline["cancellation_rate_by_reason"]["shipping_restriction"]
    )


def test_promotion_peak_loads_gateway_and_review_queue():
    promo = simcore.run(SCENARIOS / "promo_1111.yaml")
    flat = simcore.run(
        simcore.load_scenario(SCENARIOS / "promo_1111.yaml", {"buyers.arrival_profile.promotions": []})
    )
    for q in ("gateway", "fraud_review"):
        assert promo.kpis["queues"][q]["mean_wait_hours"] > 2 * flat.kpis["queues"][q]["mean_wait_hours"], q
    ts = promo.timeseries.set_index("date")["orders_placed"]
    assert ts.idxmax().strftime("%m-%d") == "11-11"
    assert ts.max() > 5 * ts.median()
