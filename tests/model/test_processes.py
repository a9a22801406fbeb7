"""Tier 1: exact traces of each process on tiny deterministic scenarios (tests/conftest.QUIET),
with a few invariants (tier 3) and rates against their expected values (tier 4) of the same
mechanisms; each test is marked with its tier. Expected times are counted by hand."""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import simcore
from simcore.engine.calendar import Calendar
from tests.conftest import NO_SIGNALS, const, quiet

GATEWAY_H = 30.0 / 3600.0  # constant 30 s authorisation in QUIET


def trace(result: simcore.RunResult, order_id: int = 0) -> list[tuple[float, str]]:
    """(hours since placement, activity) for one order, rounded to the millisecond."""
    ev = result.events[result.events.order_id == order_id]
    t0 = ev["hour"].iloc[0]
    return [(round(h - t0, 6), a) for h, a in zip(ev["hour"], ev["activity"], strict=True)]


def first_order(result: simcore.RunResult):
    return result.orders.iloc[0]


def settled(result: simcore.RunResult, days_before_end: float = 10.0):
    """Orders placed early enough to have reached their end state before the horizon."""
    o = result.orders
    return o[o["placed_hour"] < (result.scenario.horizon_days - days_before_end) * 24.0]


def at(result: simcore.RunResult, activity: str, order_id: int = 0) -> float:
    """Hours after placement of ``activity`` for one order."""
    return next(h for h, a in trace(result, order_id) if a == activity)


def r6(x: float) -> float:
    return round(x, 6)


@pytest.mark.trace
def test_happy_path_exact_trace():
    res = simcore.run(quiet())
    g = r6(GATEWAY_H)
    assert trace(res) == [
        (0.0, "placed"),
        (0.0, "payment_submitted"),
        (g, "payment_authorized"),
        (g, "paid"),
        (g, "screening_passed"),
        (r6(GATEWAY_H + 2.0), "seller_processing"),
        (r6(GATEWAY_H + 26.0), "shipped"),
        (r6(GATEWAY_H + 26.0 + 120.0), "delivered"),
        (r6(GATEWAY_H + 26.0 + 144.0), "completed"),
    ]
    o = first_order(res)
    assert o["status"] == "completed"
    assert math.isnan(o["refund_amount"])
    assert o["payment_attempts"] == 1


@pytest.mark.trace
def test_payment_declined_without_retry_is_payment_failed_and_not_refunded():
    res = simcore.run(quiet({"payment.issuer_decline_rate": 1.0}))
    g = r6(GATEWAY_H)
    assert trace(res) == [
        (0.0, "placed"),
        (0.0, "payment_submitted"),
        (g, "payment_declined"),
        (g, "cancelled"),
    ]
    o = first_order(res)
    assert (o["status"], o["cancel_initiator"], o["cancel_reason"]) == (
        "cancelled",
        "system",
        "payment_failed",
    )
    assert o["payment_decline_cause"] == "issuer_decline"
    assert pd_isna(o["paid_at"]) and math.isnan(o["refund_amount"])


def pd_isna(x) -> bool:
    import pandas as pd

    return bool(pd.isna(x))


@pytest.mark.trace
def test_retries_then_give_up_after_max_retries():
    res = simcore.run(
        quiet(
            {
                "payment.issuer_decline_rate": 1.0,
                "payment.decline_persistence": 1.0,
                "payment.max_retries": 2,
                "buyers.retry_probability": 1.0,
            }
        )
    )
    g, d = GATEWAY_H, 0.1
    expected = [(0.0, "placed"), (0.0, "payment_submitted")]
    t = 0.0
    for attempt in range(3):
        t += g
        expected.append((r6(t), "payment_declined"))
        if attempt < 2:
            t += d
    expected.append((r6(t), "cancelled"))
    assert trace(res) == expected
    assert first_order(res)["payment_attempts"] == 3


@pytest.mark.statistical
def test_retry_after_mistyped_details_succeeds():
    # Decline persistence only applies after issuer declines; a typo fixed on retry goes through.
    res = simcore.run(
        quiet(
            {"payment.incorrect_details_rate": 0.5, "payment.max_retries": 5, "buyers.retry_probability": 1.0}
        )
    )
    o = res.orders
    failed = o[o["cancel_reason"] == "payment_failed"]
    # Only orders that failed all six attempts (probability 0.5**6 = 1/64) are lost: ~5.6 of
    # ~360 orders. 5% (18) is 5 sd above that (binomial tail 2e-5); no retries would lose 50%.
    assert (failed["payment_attempts"] == 6).all()
    assert len(failed) < 0.05 * len(o)
    assert (o.loc[o["status"] != "cancelled", "payment_attempts"] > 1).any()


@pytest.mark.trace
def test_verification_timeout_cancels_unpaid_after_window_and_the_bank_releases_the_hold():
    res = simcore.run(
        quiet(
            {
                "payment.verification.share": 1.0,
                "buyers.verification_abandon_share": 1.0,
                "buyers.payment_failure_reorder_share": 0.0,
                "payment.bank_hold_release_bdays": const(8.0, "days"),
            }
        )
    )
    g = r6(GATEWAY_H)
    placed = first_order(res)["placed_hour"]
    # The authorised card payment was never taken: its hold goes 8 business days later.
    released = Calendar(res.scenario.start).add_business_days(placed + GATEWAY_H + 24.0, 8.0) - placed
    assert trace(res) == [
        (0.0, "placed"),
        (0.0, "payment_submitted"),
        (g, "payment_authorized"),
        (g, "verification_requested"),
        (r6(GATEWAY_H + 24.0), "cancelled"),
        (r6(released), "bank_hold_released"),
    ]
    o = first_order(res)
    assert o["cancel_reason"] == "verification_timeout" and o["bank_hold_release_bdays"] == 8.0
    assert pd_isna(o["paid_at"]) and pd_isna(o["refund_method"])


@pytest.mark.trace
def test_verification_completed_within_window_then_paid():
    res = simcore.run(quiet({"payment.verification.share": 1.0}))
    tr = trace(res)
    assert tr[3:6] == [
        (r6(GATEWAY_H), "verification_requested"),
        (r6(GATEWAY_H + 1.0), "verification_completed"),
        (r6(GATEWAY_H + 1.0), "paid"),
    ]
    assert first_order(res)["status"] == "completed"


@pytest.mark.trace
def test_fraud_decline_refunds_card_after_business_days():
    res = simcore.run(quiet({"platform.fraud.intercept": 50.0}))
    g = GATEWAY_H
    o = first_order(res)
    assert trace(res)[:6] == [
        (0.0, "placed"),
        (0.0, "payment_submitted"),
        (r6(g), "payment_authorized"),
        (r6(g), "paid"),
        (r6(g), "cancelled"),
        (r6(g), "refund_scheduled"),
    ]
    assert (o["cancel_initiator"], o["cancel_reason"]) == ("system", "fraud_suspected")
    assert o["refund_method"] == "original" and o["refund_amount"] == o["amount"]
    assert o["refund_delay_bdays"] == 5.0
    # Counted by hand: QUIET starts on Monday 2026-01-05, and the first order (at 0.5 an hour)
    # is cancelled on a weekday of that week; 5 business days from a weekday are a week to the
    # hour (Monday 02:00 + 5 business days = the next Monday 02:00).
    assert o["placed_hour"] + g < 5 * 24.0, "premise failed: order 0 cancelled after Friday 2026-01-09"
    assert trace(res)[6] == (r6(g + 7 * 24.0), "refund_paid")


@pytest.mark.trace
def test_wallet_refund_lands_within_hours():
    res = simcore.run(quiet({"platform.fraud.intercept": 50.0, "refunds.wallet_share": 1.0}))
    o = first_order(res)
    assert o["refund_method"] == "wallet"
    assert trace(res)[-1] == (r6(GATEWAY_H + 1.0), "refund_paid")


@pytest.mark.property
def test_wrong_amount_refund_is_short_never_over():
    res = simcore.run(quiet({"platform.fraud.intercept": 50.0, "refunds.wrong_amount_rate": 1.0}))
    o = res.orders
    assert ((o["refund_amount"] < o["amount"]) & (o["refund_amount"] >= 0.5 * o["amount"] - 0.01)).all()


#: Every order scores sigmoid(0) = 0.5, between the review (0.35) and decline (0.75) thresholds,
#: and every analyst passes it: every signal is switched off.
REVIEW_EVERY_ORDER = {
    **NO_SIGNALS,
    "platform.fraud.intercept": 0.0,
    "platform.fraud.review_false_positive_rate": 0.0,
}


@pytest.mark.trace
def test_fraud_review_queue_passes_with_no_false_positives():
    res = simcore.run(quiet({**REVIEW_EVERY_ORDER, "platform.fraud.review_time": const(20, "minutes")}))
    g = GATEWAY_H
    assert trace(res)[3:7] == [
        (r6(g), "paid"),
        (r6(g), "fraud_review_started"),
        (r6(g + 1 / 3), "fraud_review_passed"),
        (r6(g + 1 / 3), "screening_passed"),
    ]
    assert (res.orders["status"] != "cancelled").all()
    assert res.kpis["queues"]["fraud_review"]["requests"] == (res.orders["paid_at"].notna()).sum()


@pytest.mark.trace
def test_fraud_review_rejects_all_with_full_false_positive_rate():
    res = simcore.run(
        quiet({"platform.fraud.intercept": 0.0, "platform.fraud.review_false_positive_rate": 1.0})
    )
    assert (settled(res)["cancel_reason"] == "fraud_suspected").all()
    assert res.kpis["false_decline_rate"] > 0.99


@pytest.mark.trace
def test_prohibited_item_cancelled_and_delisted():
    res = simcore.run(
        quiet({"platform.prohibited.listing_share": 1.0, "platform.prohibited.detection_rate": 1.0})
    )
    assert (settled(res)["cancel_reason"] == "prohibited_item").all()
    # Detected listings are delisted: each SKU is ordered at most once.
    assert res.orders["sku_id"].is_unique


@pytest.mark.trace
def test_address_conflict_unfixed_cancels_at_window():
    res = simcore.run(
        quiet({"platform.address_conflict.rate": 1.0, "platform.address_conflict.fix_share": 0.0})
    )
    o = first_order(res)
    assert o["cancel_reason"] == "address_conflict"
    assert at(res, "cancelled") == r6(GATEWAY_H + 48.0)
    assert at(res, "refund_scheduled") == r6(GATEWAY_H + 48.0)


@pytest.mark.trace
def test_address_conflict_fixed_goes_on():
    res = simcore.run(
        quiet(
            {
                "platform.address_conflict.rate": 1.0,
                "platform.address_conflict.fix_share": 1.0,
                "platform.address_conflict.fix_time": const(12.0),
            }
        )
    )
    assert [a for _, a in trace(res)][4:7] == ["address_flagged", "address_fixed", "screening_passed"]
    assert first_order(res)["status"] == "completed"


def _phantom_stock(extra: dict | None = None) -> simcore.Scenario:
    # Every SKU holds 1 unit but records 1 + 4 phantom units: the second order of a SKU finds none.
    return quiet(
        {
            "sellers.initial_stock_mean": 1e-9,
            "sellers.inventory_accuracy": 0.0,
            "sellers.phantom_share": 1.0,
            "sellers.record_error_mean": 4.0,
            **(extra or {}),
        }
    )


@pytest.mark.trace
def test_phantom_stock_causes_out_of_stock_at_first_look():
    res = simcore.run(_phantom_stock())
    o = res.orders
    oos = o[o["cancel_reason"] == "out_of_stock"]
    assert len(oos) > 0
    assert (oos["cancel_initiator"] == "seller").all()
    assert (oos["true_reason"] == "out_of_stock").all()
    first_oos = oos.iloc[0]
    tr = trace(res, int(first_oos["order_id"]))
    assert [a for _, a in tr][-4:] == ["seller_processing", "cancelled", "refund_scheduled", "refund_paid"]
    assert tr[-3][0] == r6(GATEWAY_H + 2.0)


@pytest.mark.trace
def test_price_typo_is_pricing_error_for_honest_and_out_of_stock_for_dishonest():
    honest = simcore.run(quiet({"sellers.pricing.error_listing_share": 1.0}))
    reasons = honest.orders["cancel_reason"].dropna()
    assert set(reasons) == {"pricing_error"}
    # The seller fixes the catalog after the first loss-making order: at most one per seller
    # before the (14-day) repricing.
    assert honest.orders.loc[honest.orders.cancel_reason.notna(), "seller_id"].is_unique

    dishonest = simcore.run(
        quiet({"sellers.pricing.error_listing_share": 1.0, "sellers.dishonest_share": 1.0})
    )
    c = dishonest.orders[dishonest.orders.cancel_reason.notna()]
    assert set(c["cancel_reason"]) == {"out_of_stock"}
    assert set(c["true_reason"]) == {"pricing_error"}
    assert dishonest.kpis["disguised_cancellations"] == len(c)


@pytest.mark.trace
def test_blocked_routes_and_cost_caps_are_shipping_restrictions():
    blocked = simcore.run(quiet({"shipping.blocked_route_share": 1.0}))
    assert (settled(blocked)["cancel_reason"] == "shipping_restriction").all()
    capped = simcore.run(quiet({"shipping.destinations.US.cost_cap_usd": 0.5}))
    assert (settled(capped)["cancel_reason"] == "shipping_restriction").all()
    assert (settled(capped)["cancel_initiator"] == "seller").all()


@pytest.mark.trace
def test_neglected_order_cancelled_at_ship_by_deadline():
    res = simcore.run(quiet({"sellers.neglect_share": 1.0, "platform.ship_by_days": 3}))
    o = first_order(res)
    assert o["cancel_reason"] == "ship_deadline_missed" and o["cancel_initiator"] == "system"
    assert at(res, "cancelled") == r6(GATEWAY_H + 72.0)


@pytest.mark.trace
def test_slow_handling_misses_deadline_and_stock_goes_back():
    res = simcore.run(quiet({"sellers.handling_time": const(10, "days"), "platform.ship_by_days": 7}))
    o = first_order(res)
    assert o["cancel_reason"] == "ship_deadline_missed"
    assert at(res, "cancelled") == r6(GATEWAY_H + 168.0)
    assert res.orders["shipped_at"].isna().all()


@pytest.mark.trace
@pytest.mark.parametrize("reason", ["change_of_mind", "better_deal", "wrong_item"])
def test_buyer_cancel_approved_by_seller(reason):
    res = simcore.run(quiet({f"buyers.cancel.{reason}": 1.0}))
    o = first_order(res)
    assert (o["cancel_initiator"], o["cancel_reason"]) == ("buyer", reason)
    # request 1 h after placement, seller answers 5 h later
    assert [x for x in trace(res) if x[1] in ("cancel_requested", "cancelled")] == [
        (1.0, "cancel_requested"),
        (6.0, "cancelled"),
    ]


@pytest.mark.trace
def test_unanswered_cancel_request_auto_approved_after_48h():
    res = simcore.run(
        quiet(
            {
                "buyers.cancel.change_of_mind": 1.0,
                "sellers.cancel_response_time": const(100.0),
                "sellers.handling_time": const(5, "days"),
            }
        )
    )
    tr = trace(res)
    assert (49.0, "cancel_auto_approved") in tr and (49.0, "cancelled") in tr


@pytest.mark.trace
def test_rejected_cancel_request_order_goes_on():
    res = simcore.run(quiet({"buyers.cancel.change_of_mind": 1.0, "sellers.cancel_approval_share": 0.0}))
    assert (6.0, "cancel_rejected") in trace(res)
    assert first_order(res)["status"] == "completed"


@pytest.mark.trace
def test_no_cancel_after_shipment():
    res = simcore.run(quiet({"buyers.cancel.change_of_mind": 1.0, "buyers.cancel.request_time": const(30.0)}))
    assert (res.orders["status"] != "cancelled").all()
    assert "cancel_requested" not in set(res.events["activity"])


@pytest.mark.trace
def test_unpaid_order_cancelled_by_buyer_at_once_without_refund():
    res = simcore.run(
        quiet(
            {
                "buyers.cancel.better_deal": 1.0,
                "buyers.cancel.request_time": const(1.0, "seconds"),
                "payment.gateway.service_time": const(1.0, "minutes"),
            }
        )
    )
    o = first_order(res)
    assert o["cancel_reason"] == "better_deal"
    assert pd_isna(o["paid_at"]) and pd_isna(o["refund_method"])


@pytest.mark.statistical
def test_double_check_strategy_lowers_wrong_item_cancellations():
    base = {"buyers.cancel.wrong_item": 0.5, "horizon_days": 30}
    off = simcore.run(quiet(base)).kpis["cancellations_by_reason"]["wrong_item"]
    on = simcore.run(quiet({**base, "buyers.cancel.double_check": True})).kpis["cancellations_by_reason"][
        "wrong_item"
    ]
    # Same seed, same buyers: the double check keeps 0.3 of the ~180 wrong-item cancellations
    # (binomial, 54 +- 6); half of them (90) is ~6 sd away.
    assert on < 0.5 * off


@pytest.mark.statistical
def test_restocking_with_alerts_refills_stock():
    # 5 units per SKU and ~1,400 orders on 20 SKUs: without restocking most arrivals would be lost.
    scn = {
        "buyers.orders_per_hour": 2.0,
        "sellers.initial_stock_mean": 4.0,
        "sellers.strategy.low_stock_alert": True,
        "sellers.strategy.reorder_point": 2,
        "sellers.strategy.restock_lead_time": const(1, "days"),
    }
    with_alerts = simcore.run(quiet(scn))
    assert with_alerts.kpis["lost_sales"] < 0.2 * len(with_alerts.orders)
    # Without alerts sellers still restock when the listing shows nothing left, later. Paired on
    # one seed (the same arrivals and listings tried): over 40 seeds the alerts saved 44 +- 9 lost
    # sales (33 against 77; fewest 26), so a gap of 0 is ~5 sd out. (At QUIET's 0.5 orders an
    # hour both ran to 0-3 lost sales and the sign was a coin toss: offsets 4, 5 and 6 failed.)
    late = simcore.run(quiet({**scn, "sellers.strategy.low_stock_alert": False}))
    assert late.kpis["lost_sales"] > with_alerts.kpis["lost_sales"]


@pytest.mark.statistical
def test_inventory_accuracy_measured_matches_configured_without_drift():
    res = simcore.run(
        quiet(
            {
                "sellers.inventory_accuracy": 0.5,
                "sellers.count": 50,
                "sellers.skus_per_seller": 40,
                "buyers.orders_per_hour": 0.01,
            }
        )
    )
    # 2,000 records, each accurate with probability 0.5 (sd of the share 0.011): 0.05 is 4.5 sd,
    # a two-sided binomial tail of 8e-6.
    assert res.timeseries["inventory_accuracy"].iloc[0] == pytest.approx(0.5, abs=0.05)


@pytest.mark.property
def test_stock_counts_restore_accuracy():
    res = simcore.run(
        quiet(
            {
                "sellers.initial_record_accuracy": 0.2,  # start-only: no errors after hour 0
                "sellers.strategy.sync_interval_days": 2,
                "sellers.shrinkage_per_sku_day": 0.0,
            }
        )
    )
    assert res.timeseries["inventory_accuracy"].iloc[-1] == 1.0


@pytest.mark.property
def test_shrinkage_erodes_accuracy():
    # Records all accurate at the start (start-only), then only unrecorded losses.
    res = simcore.run(
        quiet(
            {
                "sellers.shrinkage_per_sku_day": 0.2,
                "sellers.count": 20,
                "sellers.initial_record_accuracy": 1.0,
            }
        )
    )
    acc = res.timeseries["inventory_accuracy"].to_numpy()
    assert acc[0] < 1.0 and acc[-1] < acc[0]
    assert np.all(np.diff(acc) <= 1e-12)


@pytest.mark.trace
def test_review_backlog_longer_than_ship_by_does_not_count_against_sellers():
    # One analyst, 3-day reviews, every order reviewed: the backlog runs far past ship_by_days.
    # The ship-by clock starts at clearance, so sellers (1-day handling) still ship in time.
    res = simcore.run(
        quiet(
            {**REVIEW_EVERY_ORDER, "platform.fraud.review_time": const(3, "days"), "platform.ship_by_days": 3}
        )
    )
    o = res.orders
    assert res.kpis["cancellations_by_reason"]["ship_deadline_missed"] == 0
    waited = (o["cleared_at"] - o["paid_at"]).dt.total_seconds() / 3600
    assert waited.max() > 5 * 24
    shipped = o[o["shipped_at"].notna()]
    assert ((shipped["shipped_at"] - shipped["cleared_at"]).dt.total_seconds() / 3600 <= 72).all()


@pytest.mark.property
def test_a_world_runs_once_and_lets_go_of_its_clock():
    # After the horizon the world frees the environment and what was in flight (for the
    # frames' memory): nothing of the run is left but its record. Running it again is a
    # mistake, said plainly.
    import gc
    import weakref

    from simcore.model.world import World
    from simcore.results.collect import collect

    world = World(quiet({"horizon_days": 3.0}))
    env = weakref.ref(world._running[0].env)
    record = world.run()
    gc.collect()
    assert env() is None and world._running is None
    assert len(collect(record).orders) > 0
    with pytest.raises(RuntimeError, match="has run already"):
        world.run()
    # Collecting turns the recorder's hour columns into the frame's timestamps, in place.
    with pytest.raises(RuntimeError, match="collected already"):
        collect(record)


_MALLINFO_PROBE = """
import ctypes, sys
class Info(ctypes.Structure):  # glibc >= 2.33 mallinfo2
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]
libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = Info
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, (ctypes.c_size_t,)
libc.free.argtypes = (ctypes.c_void_p,)
if sys.argv[1] == "hold":
    from simcore.engine.tuning import hold_mmap_threshold
    assert hold_mmap_threshold() and hold_mmap_threshold()  # applied, and idempotent
libc.free(libc.malloc(16 << 20))  # a large temporary, freed (as a run's world build does)
mapped = libc.mallinfo2().hblks
libc.malloc(1 << 20)  # a column of a growing recorder
print(libc.mallinfo2().hblks - mapped)
"""


@pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's mmap threshold"
)
def test_large_blocks_stay_mapped_after_a_large_free():
    # glibc raises its mmap threshold when a mapped block is freed, and later 1 MiB blocks come
    # from the heap, where growing columns leave holes (simcore.engine.tuning). Held, they stay mapped.
    def new_mappings(how: str) -> int:
        # Without the MALLOC_* tunables Dask's LocalCluster leaves in os.environ (an earlier test's):
        # glibc fixes the threshold itself when any is set.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
        out = subprocess.run(
            [sys.executable, "-c", _MALLINFO_PROBE, how], capture_output=True, text=True, env=env
        )
        if "mallinfo2" in out.stderr:
            pytest.skip("glibc before 2.33 has no mallinfo2")
        assert out.returncode == 0, out.stderr
        return int(out.stdout)

    assert new_mappings("dynamic") == 0
    assert new_mappings("hold") == 1


@pytest.mark.statistical
def test_relisting_keeps_the_prohibited_share_steady():
    # Taken down for good, prohibited listings run out: catches fall over the run. Relisted 30
    # days later from a steady start, the two halves catch nearly alike. 10% of listings
    # prohibited for counts. Measured at writing (3 seeds): without relisting 305-313 catches in
    # days 0-30 and 135-164 in days 30-60 (a fall of ~50%); with it 261-284 and 226-249 (6-14%
    # fewer in the second half: the steady start leaves out orders that never reach the check).
    # Bounds: a fall past 40% without, within 30% with (a Poisson sd of the difference ~9%).
    def halves(relist):
        from tests.conftest import shipped

        scn = shipped(
            "baseline",
            {
                "horizon_days": 60,
                "cooldown_days": 0,
                "platform.prohibited.listing_share": 0.1,
                "platform.prohibited.relist_days": relist,
            },
        )
        o = simcore.run(scn).orders
        caught = o[o["cancel_reason"] == "prohibited_item"]["placed_hour"]
        return (caught < 30 * 24).sum(), (caught >= 30 * 24).sum()

    first, second = halves(None)
    assert second < 0.6 * first, (first, second)
    first, second = halves(30.0)
    assert abs(second - first) < 0.3 * first, (first, second)
