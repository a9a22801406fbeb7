"""The fraud review queue's discipline (``platform.fraud.review_queue``): exact traces of who an
analyst takes next under each built-in kind and a researcher's, the time limit to the second,
and the errors a bad discipline gets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore import ScenarioError
from tests.conftest import NO_SIGNALS, const, quiet

SAMPLE = "tests.policies.sample_policies"
#: Every order goes to review (thresholds 0 and 1), scores spread by the noise alone, one
#: analyst taking exactly 1 h per order while two orders an hour arrive: a queue that grows, so
#: the analyst always chooses among several.
ALL_REVIEWED = {
    **NO_SIGNALS,
    "horizon_days": 6,
    "buyers.orders_per_hour": 2.0,
    "platform.fraud.intercept": 0.0,
    "platform.fraud.noise_sd": 2.0,
    "platform.fraud.review_threshold": 0.0,
    "platform.fraud.decline_threshold": 1.0,
    "platform.fraud.review_false_positive_rate": 0.0,
    "platform.fraud.analysts": 1,
    "platform.fraud.review_time": const(1.0),
}


def _served(queue: dict) -> pd.DataFrame:
    """Per reviewed order: score, hour it entered the queue, hour the analyst took it."""
    res = simcore.run(quiet({**ALL_REVIEWED, "platform.fraud.review_queue": queue}))
    o, ev = res.orders, res.events
    start = pd.Timestamp(res.scenario.start)
    entered = (o["fraud_review_started_at"] - start) / pd.Timedelta(hours=1)
    passed = ev[ev["activity"] == "fraud_review_passed"].set_index("order_id")["hour"]
    out = pd.DataFrame({"score": o["risk_score"], "entered": entered}).loc[passed.index]
    out["taken"] = passed - 1.0
    return out.sort_values("taken")


def _chosen_among_waiting(served: pd.DataFrame, key: str, pick) -> int:
    """Checks that each order taken after a wait was ``pick`` of ``key`` among those waiting
    then; returns how many choices had more than one order waiting."""
    contested = 0
    rows = served.to_dict("index")
    for oid, r in rows.items():
        t = r["taken"]
        if t - r["entered"] < 1e-6:
            continue  # a free analyst took it at once
        waiting = served[(served["entered"] <= t + 1e-9) & (served["taken"] >= t - 1e-9)]
        if len(waiting) > 1:
            contested += 1
        assert r[key] == pick(waiting[key]), (oid, t)
    return contested


@pytest.mark.trace
def test_fifo_takes_the_longest_waiting():
    served = _served({"kind": "fifo"})
    assert _chosen_among_waiting(served, "entered", min) > 50


@pytest.mark.trace
def test_by_score_takes_the_riskiest_waiting():
    served = _served({"kind": "by_score"})
    assert _chosen_among_waiting(served, "score", max) > 50
    # The riskiest wait less than under fifo (the same orders and scores).
    fifo = _served({"kind": "fifo"})
    top = served["score"] >= served["score"].quantile(0.9)
    wait = served["taken"] - served["entered"]
    fifo_wait = (fifo["taken"] - fifo["entered"]).reindex(served.index)
    assert wait[top].mean() < 0.5 * fifo_wait[top].mean()


@pytest.mark.trace
def test_a_researchers_discipline_takes_its_order():
    # LowestScoreFirst: the least risky first (a lenient desk clearing easy cases).
    served = _served({"kind": f"{SAMPLE}:LowestScoreFirst"})
    assert _chosen_among_waiting(served, "score", min) > 50


@pytest.mark.trace
@pytest.mark.parametrize("on_timeout", ["pass", "decline"])
def test_a_time_limit_releases_the_order_to_the_second(on_timeout):
    hours = 3.0
    res = simcore.run(
        quiet(
            {
                **ALL_REVIEWED,
                "platform.fraud.review_queue": {
                    "kind": "time_limit",
                    "params": {"hours": hours, "on_timeout": on_timeout},
                },
            }
        )
    )
    o, ev = res.orders, res.events
    start = pd.Timestamp(res.scenario.start)
    entered = (o["fraud_review_started_at"] - start) / pd.Timedelta(hours=1)
    expired = ev[ev["activity"] == "fraud_review_expired"].set_index("order_id")["hour"]
    passed = ev[ev["activity"] == "fraud_review_passed"].set_index("order_id")["hour"]
    assert len(expired) > 50 and len(passed) > 50
    np.testing.assert_allclose(expired, entered[expired.index] + hours, atol=1e-6)
    # Nobody waited longer than the limit for the analyst.
    assert ((passed - 1.0) - entered[passed.index]).max() <= hours + 1e-6
    assert not set(expired.index) & set(passed.index)
    gone = o.loc[expired.index]
    if on_timeout == "decline":
        assert (gone["cancel_reason"] == "fraud_suspected").all()
        cancelled = (gone["cancelled_at"] - start) / pd.Timedelta(hours=1)
        np.testing.assert_allclose(cancelled, expired, atol=1e-6)
    else:
        assert gone["cleared_at"].notna().all() and (gone["cancel_reason"] != "fraud_suspected").all()
        cleared = (gone["cleared_at"] - start) / pd.Timedelta(hours=1)
        np.testing.assert_allclose(cleared, expired, atol=1e-6)


def test_fifo_is_the_default_and_changes_nothing():
    a = simcore.run(quiet(ALL_REVIEWED)).orders
    b = simcore.run(quiet({**ALL_REVIEWED, "platform.fraud.review_queue": {"kind": "fifo"}})).orders
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        ({"kind": "time_limit"}, "needs params.hours"),
        ({"kind": "time_limit", "params": {"hours": 0}}, "needs params.hours"),
        ({"kind": "time_limit", "params": {"hours": 2, "on_timeout": "review"}}, "on_timeout"),
        ({"kind": "by_score", "params": {"hours": 2}}, "takes no parameter hours"),
        ({"kind": f"{SAMPLE}:Shouting"}, "no method priority"),
    ],
)
def test_a_bad_discipline_is_a_scenario_error_at_its_key(queue, message):
    with pytest.raises(ScenarioError) as info:
        quiet({"platform.fraud.review_queue": queue})
    assert "platform.fraud.review_queue" in str(info.value) and message in str(info.value)
