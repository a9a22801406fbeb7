"""Tier 3: invariants over random scenarios (hypothesis) and bit-for-bit determinism, and what
common random numbers keep the same between strategies run on one seed."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simcore
from tests.conftest import quiet, seed, shipped

pytestmark = pytest.mark.property

#: Who cancels for each reason (README, "The model"), spelled out here rather than imported from
#: the model's vocabulary, so that the recorded initiators are checked against the rule.
INITIATOR_OF_REASON = {
    "change_of_mind": "buyer",
    "better_deal": "buyer",
    "wrong_item": "buyer",
    "out_of_stock": "seller",
    "pricing_error": "seller",
    "shipping_restriction": "seller",
    "payment_failed": "system",
    "verification_timeout": "system",
    "fraud_suspected": "system",
    "prohibited_item": "system",
    "ship_deadline_missed": "system",
    "address_conflict": "system",
    "seller_suspended": "system",
}

shares = st.floats(0.0, 1.0)
small = st.floats(0.0, 0.3)


def check_invariants(res: simcore.RunResult) -> None:
    o, ev = res.orders, res.events
    # One terminal state per order.
    assert set(o["status"].unique()) <= {"open", "completed", "cancelled", "refunded", "returned"}
    cancelled = o["status"] == "cancelled"
    assert (o["cancel_reason"].notna() == cancelled).all()
    assert (o["cancel_initiator"].notna() == cancelled).all()
    assert (o["cancelled_at"].notna() == cancelled).all()
    assert (o["completed_at"].notna() == (o["status"] == "completed")).all()
    # Initiator matches the stated reason's group. A stated reason hides a true one only where a
    # dishonest seller covers a loss with out_of_stock, or a seller asks the buyer to cancel
    # (change_of_mind) for a reason of its own.
    for reason, ini in zip(
        o.loc[cancelled, "cancel_reason"], o.loc[cancelled, "cancel_initiator"], strict=True
    ):
        assert INITIATOR_OF_REASON[reason] == ini
    disguised = cancelled & (o["true_reason"] != o["cancel_reason"])
    covered = disguised & (o["cancel_reason"] == "out_of_stock")
    asked = disguised & (o["cancel_reason"] == "change_of_mind")
    assert (covered | asked)[disguised].all()
    assert set(o.loc[covered, "true_reason"]) <= {"pricing_error"}
    assert set(o.loc[asked, "true_reason"]) <= {"out_of_stock", "pricing_error", "shipping_restriction"}
    # A pricing error (true) records its cause; nothing else does.
    pricing = cancelled & (o["true_reason"] == "pricing_error")
    assert (o["pricing_error_cause"].notna() == pricing).all()
    # Nothing is cancelled after shipment.
    assert not (cancelled & o["shipped_at"].notna()).any()
    # Refunds: only for paid orders cancelled, lost (refunded) or returned; never above the amount.
    refunded = o["refund_method"].notna()
    assert (o.loc[refunded, "paid_at"].notna()).all()
    assert o.loc[refunded, "status"].isin(["cancelled", "refunded", "returned"]).all()
    assert (o.loc[refunded, "refund_amount"] <= o.loc[refunded, "amount"] + 1e-9).all()
    assert (o.loc[refunded, "refund_amount"] > 0).all()
    assert (o.loc[cancelled & o["paid_at"].notna(), "refund_method"].notna()).all()
    # Milestones in order.
    for a, b in [
        ("placed_at", "paid_at"),
        ("paid_at", "shipped_at"),
        ("shipped_at", "delivered_at"),
        ("delivered_at", "completed_at"),
        ("placed_at", "cancelled_at"),
        ("cancelled_at", "refunded_at"),
    ]:
        both = o[a].notna() & o[b].notna()
        assert (o.loc[both, a] <= o.loc[both, b]).all(), (a, b)
    # Event log in time order, globally and hence per order; every order starts with 'placed'.
    assert np.all(np.diff(ev["hour"].to_numpy()) >= 0)
    firsts = ev.groupby("order_id", observed=True)["activity"].first()
    assert (firsts == "placed").all() and len(firsts) == len(o)
    # Exactly one 'cancelled' event per cancelled order and none for the others.
    n_cancel_events = (ev["activity"] == "cancelled").groupby(ev["order_id"]).sum()
    assert (n_cancel_events.reindex(o["order_id"], fill_value=0).to_numpy() == cancelled.to_numpy()).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fraud=small,
    accuracy=shares,
    blocked=small,
    issuer=small,
    cancel=small,
    verify=shares,
    intercept=st.floats(-6.0, 2.0),
    wrong=shares,
    wallet=shares,
    retries=st.integers(0, 3),
    typo=small,
    dishonest=shares,
    neglect=small,
    seed=st.integers(0, 2**32 - 1),
)
def test_invariants_hold_for_random_scenarios(
    fraud,
    accuracy,
    blocked,
    issuer,
    cancel,
    verify,
    intercept,
    wrong,
    wallet,
    retries,
    typo,
    dishonest,
    neglect,
    seed,
):
    scn = quiet(
        {
            "seed": seed,
            "horizon_days": 12,
            "buyers.orders_per_hour": 2.0,
            "buyers.fraud_rate": fraud,
            "sellers.inventory_accuracy": accuracy,
            "sellers.initial_stock_mean": 3.0,
            "sellers.phantom_share": 0.8,
            "shipping.blocked_route_share": blocked,
            "payment.issuer_decline_rate": issuer,
            "payment.max_retries": retries,
            "buyers.retry_probability": 0.5,
            "buyers.cancel.change_of_mind": cancel,
            "buyers.cancel.better_deal": cancel / 2,
            "payment.verification.share": verify,
            "buyers.verification_abandon_share": 0.5,
            "platform.fraud.intercept": intercept,
            "platform.fraud.noise_sd": 1.0,
            "refunds.wrong_amount_rate": wrong,
            "refunds.wallet_share": wallet,
            "sellers.pricing.error_listing_share": typo,
            "sellers.dishonest_share": dishonest,
            "sellers.neglect_share": neglect,
            "platform.address_conflict.rate": 0.05,
            "platform.prohibited.listing_share": 0.05,
            "sellers.handling_time": {"dist": "gamma", "mean": 3, "sd": 2, "unit": "days"},
            "sellers.cancel_response_time": {"dist": "exponential", "mean": 30, "unit": "hours"},
            "sellers.cancel_approval_share": 0.7,
        }
    )
    check_invariants(simcore.run(scn))


@pytest.mark.slow
def test_baseline_invariants(baseline_result):
    check_invariants(baseline_result)


def _assert_same(a: simcore.RunResult, b: simcore.RunResult) -> None:
    pd.testing.assert_frame_equal(a.orders, b.orders)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    assert json.dumps(a.kpis, sort_keys=True) == json.dumps(b.kpis, sort_keys=True)


@pytest.mark.slow
def test_same_seed_same_numbers_bit_for_bit():
    scn = shipped("baseline", {"horizon_days": 40, "cooldown_days": 5})
    _assert_same(simcore.run(scn), simcore.run(scn))


@pytest.mark.slow
def test_progress_reporting_does_not_change_results():
    scn = shipped("baseline", {"horizon_days": 30, "cooldown_days": 5})
    days = []
    _assert_same(simcore.run(scn), simcore.run(scn, progress=days.append))
    assert days[-1] == 30 and len(days) == 30


def test_seed_argument_overrides_scenario_seed():
    scn = quiet({"seed": 1})
    a, b = simcore.run(scn, seed=seed(2)), simcore.run(quiet({"seed": 2}))
    _assert_same(a, b)
    assert a.seed == seed(2) != scn.seed
    assert not simcore.run(scn).orders["amount"].equals(a.orders["amount"])


def test_replications_differ_and_repeat():
    scn = quiet()
    r0, r1 = simcore.run(scn, replication=0), simcore.run(scn, replication=1)
    assert not r0.orders["placed_hour"].equals(r1.orders["placed_hour"])
    _assert_same(r1, simcore.run(scn, replication=1))


def _matched(base: str, alt: str) -> pd.DataFrame:
    """Orders of two scenarios run on one seed, matched by arrival time (lost sales drop out)."""
    short = {"horizon_days": 40, "cooldown_days": 8}
    a = simcore.run(shipped(base, short)).orders
    b = simcore.run(shipped(alt, short)).orders
    return a.merge(b, on="placed_hour", suffixes=("_a", "_b"))


def test_common_random_numbers_keep_buyers_baskets_and_payment_luck_across_strategies():
    # Weekly stock counts change what is in stock, nothing about buyers or payments.
    m = _matched("baseline", "frequent_sync")
    assert len(m) > 9_000
    assert (m["buyer_id_a"] == m["buyer_id_b"]).all()
    assert (m["is_fraud_a"] == m["is_fraud_b"]).all()
    # Listing choice differs only where the first candidate's stock differs.
    assert (m["sku_id_a"] == m["sku_id_b"]).mean() > 0.8
    same_basket = m["sku_id_a"] == m["sku_id_b"]
    # The payment luck is the same, its timing not (gateway service times are drawn in event
    # order): an order still paying at the horizon in either run has no outcome to compare (seed
    # offset 6 met one declined a third time in one run, between its second and third try in
    # the other).
    paying = ((m["status_a"] == "open") & m["paid_at_a"].isna()) | (
        (m["status_b"] == "open") & m["paid_at_b"].isna()
    )
    compared = same_basket & ~paying
    failed_a = m["cancel_reason_a"] == "payment_failed"
    failed_b = m["cancel_reason_b"] == "payment_failed"
    assert failed_a[compared].sum() > 100, "premise failed: few payment failures to compare"
    differ = compared & (failed_a != failed_b)
    assert not differ.any(), m.loc[differ, ["placed_hour", "order_id_a", "order_id_b"]]


def test_stricter_fraud_filter_declines_every_order_the_baseline_declines():
    # Same arrival, same score noise and review luck: lower thresholds can only add declines.
    # The rule holds for an order the screen judged on the same risk score in both runs, and
    # decided in both. Left out: orders not paid in both (durations such as a payment
    # verification are drawn in event order, so one may still be pending at the horizon);
    # orders whose score differs (a different listing makes a large order, or another order of
    # the device a lost sale in one run only changes the velocity signal: seed offset 8 met a
    # 340 USD basket declined in one run and a 22 USD one passed in the other); and orders still
    # waiting in the strict run's longer review queue at the horizon (offset 2 met one).
    m = _matched("baseline", "strict_fraud_filter")
    m = m[m["paid_at_a"].notna() & m["paid_at_b"].notna()]
    same_score = m["risk_score_a"] == m["risk_score_b"]
    assert same_score.mean() > 0.95, f"premise failed: {same_score.mean():.1%} of the scores are the same"
    in_review_b = (m["status_b"] == "open") & m["cleared_at_b"].isna()
    declined_a = m["cancel_reason_a"] == "fraud_suspected"
    declined_b = m["cancel_reason_b"] == "fraud_suspected"
    judged = same_score & ~in_review_b
    assert (declined_a & judged).sum() > 50
    spared = declined_a & judged & ~declined_b
    assert not spared.any(), m.loc[spared, ["placed_hour", "order_id_a", "order_id_b"]]
    assert declined_b.sum() > 2 * declined_a.sum()


def test_run_restores_the_callers_gc_settings():
    import gc

    before = gc.get_threshold()
    simcore.run(quiet({"horizon_days": 2}))
    assert gc.get_threshold() == before


def _kpis_json(replication: int) -> str:
    return json.dumps(simcore.run(quiet({"horizon_days": 5}), replication=replication).kpis, sort_keys=True)


def test_same_numbers_whatever_the_number_of_workers():
    from concurrent.futures import ProcessPoolExecutor

    serial = [_kpis_json(r) for r in range(3)]
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = list(pool.map(_kpis_json, range(3)))
    assert parallel == serial


def test_list_prices_are_whole_cents_so_one_unit_needs_no_rounding():
    """OrderDesk.place takes a legitimate one-unit order's amount as the listing's price
    unrounded: that is round(price, 2) only if every price is whole cents already."""
    from simcore.model.world import World

    world = World(shipped("baseline", {"scale": 2}))
    prices = world._running[1].inventory.price  # type: ignore[index]
    assert len(prices) > 1000
    assert all(round(p * 1 * 1.0, 2) == p for p in prices)
