"""The fraud screen sees only what a platform can observe (issue 19): the signals, one
``signal_<name>`` column each, rings ordering in bursts from shared devices, and each signal
key moving what it claims to."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore.model.columns import ORDER_COLUMNS
from simcore.model.vocabulary import SIGNALS
from tests.conftest import seed, shipped


def _run(overrides: dict, days: int = 50, rep: int = 0) -> pd.DataFrame:
    scn = shipped("baseline", {"horizon_days": days, "cooldown_days": 0, **overrides})
    return simcore.run(scn, seed=seed(11), replication=rep).orders


def test_every_signal_has_its_boolean_column():
    names = [c.name for c in ORDER_COLUMNS if c.kind == "signal"]
    assert names == [f"signal_{s}" for s in SIGNALS]
    for required in ("large_order", "velocity", "unverified", "stolen_card"):
        assert f"signal_{required}" in names


def test_velocity_flags_a_fifth_of_fraud_and_almost_no_legitimate_orders(baseline_result):
    # Issue 19's criterion on the baseline: >= 20% of fraud orders, <= 1% of legitimate ones.
    # Measured at writing (seed 20261111): 50.5% and 0.04% (689 fraud orders, ~54,000 legitimate);
    # a binomial's sd at 689 orders is under 2 points, so 20% is ~15 sd below.
    o = baseline_result.orders
    by = o.groupby("is_fraud")["signal_velocity"].mean()
    assert by[True] >= 0.20
    assert by[False] <= 0.01


def test_signals_are_what_the_order_shows(baseline_result):
    o = baseline_result.orders
    f = baseline_result.scenario.platform.fraud
    assert (o["signal_large_order"] == (o["amount"] > f.large_order_usd)).all()
    assert (o["signal_unverified"] == ~o["buyer_verified"]).all()
    # The network flags stolen cards only, and not all of them.
    assert not (o["signal_stolen_card"] & ~o["stolen_card"]).any()
    stolen = o[o["stolen_card"]]
    assert 0.3 < stolen["signal_stolen_card"].mean() < 0.7  # flagged share 0.5, ~400 cards
    # Every signal is commoner among fraud orders than legitimate ones.
    by = o.groupby("is_fraud")[[f"signal_{s}" for s in SIGNALS]].mean()
    assert (by.loc[True] > by.loc[False]).all(), by


def test_the_score_is_a_function_of_the_signals_alone():
    # Without noise two orders with the same signals get the same score, fraud or not: the
    # screen has no term on the truth.
    o = _run({"platform.fraud.noise_sd": 0.0, "buyers.fraud_rate": 0.05}, days=30)
    scored = o.dropna(subset=["risk_score"])
    cols = [f"signal_{s}" for s in SIGNALS]
    spread = scored.groupby(cols)["risk_score"].agg(["min", "max"])
    assert (spread["max"] - spread["min"]).max() == 0.0
    # And both kinds of order share some signal patterns, so the check has teeth.
    kinds = scored.groupby(cols)["is_fraud"].nunique()
    assert (kinds == 2).any()


def test_rings_order_in_bursts_of_the_mean_size():
    # Bursts of 1 + Poisson(m - 1) orders share their arrival's id. At m = 4 the mean orders
    # per fraud visit is 4 (sd sqrt(3) a burst) less the few follow-ups that found no stock:
    # within 3 standard errors, with 0.3 more room below for those (~100 bursts).
    o = _run({"buyers.fraud_rate": 0.05}, days=30)
    per_visit = o[o["is_fraud"]].groupby("arrival_id").size()
    se = np.sqrt(3.0 / len(per_visit))
    assert 4.0 - 3 * se - 0.3 < per_visit.mean() < 4.0 + 3 * se, (per_visit.mean(), len(per_visit))
    # The burst's orders come from one device: consecutive accounts of one ring.
    scn = shipped("baseline")
    n_legit, ring = scn.buyers.population, scn.buyers.fraud.ring_size
    rings = o[o["is_fraud"]].assign(ring=lambda d: (d["buyer_id"] - n_legit) // ring)
    assert (rings.groupby("arrival_id")["ring"].nunique() == 1).all()
    # And fraud stays buyers.fraud_rate of the orders placed (3 sd of ~1,100 fraud orders).
    share = o["is_fraud"].mean()
    assert abs(share - 0.05) < 3 * np.sqrt(0.05 * 0.95 / len(o)) + 0.005, share


def test_without_bursts_the_velocity_signal_goes_quiet():
    lone = _run({"buyers.fraud.burst_orders_mean": 1.0, "buyers.fraud_rate": 0.05}, days=30)
    bursts = _run({"buyers.fraud_rate": 0.05}, days=30)
    fraud_velocity = [d[d["is_fraud"]]["signal_velocity"].mean() for d in (lone, bursts)]
    # Lone orders at 5% fraud still meet now and then: 30 rings placing ~0.5 orders a day each,
    # 3 in a day by chance for ~8% of them; bursts of 4 reach the limit on their 3rd order.
    assert fraud_velocity[0] < 0.15 and fraud_velocity[1] > 0.4, fraud_velocity
    assert lone[lone["is_fraud"]].groupby("arrival_id").size().max() == 1


@pytest.mark.parametrize(
    ("key", "low", "high", "signal", "who"),
    [
        ("platform.fraud.new_account_days", 7.0, 90.0, "new_account", None),
        ("buyers.fraud.address_mismatch_share", 0.2, 0.8, "address_mismatch", True),
        ("buyers.address_mismatch_share", 0.02, 0.2, "address_mismatch", False),
        ("buyers.fraud.new_device_share", 0.2, 0.8, "new_device", True),
        ("buyers.new_device_share", 0.02, 0.2, "new_device", False),
        ("payment.stolen_card_flagged_share", 0.2, 0.8, "stolen_card", True),
    ],
)
def test_each_signal_key_moves_its_signal(key, low, high, signal, who):
    # The same arrivals (common random numbers): raising the key can only add the signal to
    # orders of the kind it reaches, and leaves the other kind as it was.
    a, b = (_run({key: v, "buyers.fraud_rate": 0.05}, days=20) for v in (low, high))
    col = f"signal_{signal}"
    for fraud in (True, False):
        sa = a[a["is_fraud"] == fraud][col].mean()
        sb = b[b["is_fraud"] == fraud][col].mean()
        if who is None or who == fraud:
            assert sb > sa + 0.05, (fraud, sa, sb)
        else:
            assert sb == pytest.approx(sa, abs=0.01), (fraud, sa, sb)


def test_a_heavier_signal_weight_stops_more_fraud():
    # Velocity's weight: the ring's later orders score higher and more are declined.
    caught = []
    for w in (0.0, 5.0):
        o = _run({"platform.fraud.weight_velocity": w, "buyers.fraud_rate": 0.05}, days=30)
        flagged = o[o["is_fraud"] & o["signal_velocity"]]
        caught.append((flagged["cancel_reason"] == "fraud_suspected").mean())
    assert caught[1] > caught[0] + 0.2, caught
