"""Responses of two keys issue 19 added that had none tested on their own: a fraud ring's
``burst_gap`` (the velocity signal's reach) and the carriers' ``pickup_capacity_factor`` (a
shipment delay, not a ship-by miss)."""

from __future__ import annotations

import pandas as pd
import pytest

import simcore
from simcore.model.load import _velocity_share
from tests.conftest import quiet, shipped

DAY = 24.0


def _velocity(gap_hours: float) -> tuple[float, float, int]:
    scn = shipped(
        "baseline",
        {
            "horizon_days": 45,
            "cooldown_days": 5,
            "buyers.fraud_rate": 0.03,  # ~400 fraud orders: the share's sd ~0.025
            "buyers.fraud.burst_gap": {"dist": "exponential", "mean": gap_hours, "unit": "hours"},
        },
    )
    fraud = simcore.run(scn).orders
    fraud = fraud[fraud["is_fraud"]]
    return float(fraud["signal_velocity"].mean()), _velocity_share(scn), len(fraud)


@pytest.mark.statistical
def test_slower_bursts_slip_past_the_velocity_window():
    # Measured at writing: 1 h gaps flag 52.8% of fraud orders (51.2% predicted), 12 h gaps 36.4%
    # (30.1% predicted: the closed form ignores a ring's earlier bursts and errs low). Bands: 2.5
    # sd below the prediction to 4 sd above it; the fall between the two at least 0.1 (measured
    # 0.16, ~4.5 sd of the difference).
    fast, fast_pred, n = _velocity(1.0)
    slow, slow_pred, _ = _velocity(12.0)
    assert n > 250
    for measured, predicted in ((fast, fast_pred), (slow, slow_pred)):
        assert predicted - 0.06 < measured < predicted + 0.10, (measured, predicted)
    assert slow < fast - 0.1


def _hours(res: simcore.RunResult, col: str) -> pd.Series:
    return (res.orders[col] - pd.Timestamp(res.scenario.start)) / pd.Timedelta(hours=1)


@pytest.mark.trace
def test_a_carriers_pickup_capacity_delays_shipments_but_misses_no_deadline():
    # 2 orders an hour to one destination (48 a day), pickups at 1.0x: at most 48 parcels leave
    # a day; Poisson-busy days push the rest to later days. The ship-by deadline is the seller's
    # handover (cleared + 2 h first look + 1 day handling, well within 2 days), so no order
    # misses it however long the carrier takes.
    res = simcore.run(
        quiet(
            {
                "horizon_days": 20,
                "buyers.orders_per_hour": 2.0,
                "platform.ship_by_days": 2,
                "shipping.pickup_capacity_factor": 1.0,
            }
        )
    )
    shipped_h = _hours(res, "shipped_at").dropna()
    per_day = (shipped_h // DAY).astype(int).value_counts()
    assert per_day.max() == 48 and (per_day == 48).sum() >= 3
    handover = _hours(res, "cleared_at") + 2.0 + DAY
    waited = (shipped_h - handover.loc[shipped_h.index]).round(6)
    assert waited.min() >= 0.0 and waited.max() >= DAY  # whole days at the carrier
    assert (res.orders["cancel_reason"] != "ship_deadline_missed").all()
    unlimited = simcore.run(
        quiet({"horizon_days": 20, "buyers.orders_per_hour": 2.0, "platform.ship_by_days": 2})
    )
    free_wait = _hours(unlimited, "shipped_at") - (_hours(unlimited, "cleared_at") + 2.0 + DAY)
    assert free_wait.dropna().abs().max() < 1e-6  # no carrier limit: ships at the handover
