"""Staffing over time (``platform.fraud.staffing`` and the other desks'): the review desk's
starts matched, request by request, against a reference queue with the same time-varying
headcount; staffed server-hours to the hour; the default leaving a run as it was; errors."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore import ScenarioError
from simcore.model.load import utilisation
from tests.conftest import NO_SIGNALS, const, quiet

SAMPLE = "tests.policies.sample_policies"
REVIEW_H = 0.737  # not a divisor of an hour: no review ends exactly on a shift change
#: Every order goes to review; an analyst takes REVIEW_H per order; one order an hour.
ALL_REVIEWED = {
    **NO_SIGNALS,
    "horizon_days": 6,
    "buyers.orders_per_hour": 1.0,
    "platform.fraud.intercept": 0.0,
    "platform.fraud.review_threshold": 0.0,
    "platform.fraud.decline_threshold": 1.0,
    "platform.fraud.review_false_positive_rate": 0.0,
    "platform.fraud.analysts": 1,
    "platform.fraud.review_time": const(REVIEW_H),
}
#: Nobody at night, one by day, two in the evening; three all day on the run's third day.
BY_HOUR = [0] * 6 + [1] * 12 + [2] * 6
SCHEDULE = {"kind": "schedule", "params": {"by_hour": BY_HOUR, "by_date": {"2026-01-07": 3}}}


def _headcount(hour: float, start: dt.date) -> int:
    day = start + dt.timedelta(days=int(hour // 24))
    return 3 if day == dt.date(2026, 1, 7) else BY_HOUR[int(hour % 24)]


def _reference_starts(requested: np.ndarray, service: float, servers) -> np.ndarray:
    """Start of service of each request (in request order) at a first-come-first-served desk
    whose headcount at hour t is ``servers(t)``, changing on the hour; a server over the
    headcount finishes its request and leaves."""
    starts: list[float] = []
    for t0 in requested:
        t = max(t0, starts[-1]) if starts else t0  # first come, first served
        while True:
            busy = sum(1 for s in starts if s <= t < s + service)
            if busy < servers(t):
                break
            # The next moment a server may free up or join: a service ending, or the next hour.
            ends = [s + service for s in starts if s + service > t]
            t = min([*ends, np.floor(t) + 1.0])
        starts.append(float(t))
    return np.array(starts)


@pytest.mark.trace
def test_reviews_start_as_a_desk_with_the_scheduled_headcount_would():
    res = simcore.run(quiet({**ALL_REVIEWED, "platform.fraud.staffing": SCHEDULE}))
    start = res.scenario.start
    o = res.orders
    entered = ((o["fraud_review_started_at"] - pd.Timestamp(start)) / pd.Timedelta(hours=1)).dropna()
    requested = np.sort(entered.to_numpy())
    expected = _reference_starts(requested, REVIEW_H, lambda t: _headcount(t, start))
    # The desk's monitor: every request granted, with its wait (the warm-up's too).
    mon = simcore_monitor(res)
    granted = mon["requested"] + mon["wait"]
    n = len(granted)
    assert n > 100
    np.testing.assert_allclose(mon["requested"], requested[:n], atol=1e-9)
    np.testing.assert_allclose(granted, expected[:n], atol=1e-6)
    # The schedule bit: nobody started a review in the night hours (a start at 06:00 reads a
    # hair under it, passed minus the review time), and on the third day three ran at once.
    night = (granted % 24 < 6 - 1e-6) & ((granted // 24) != 2)
    assert not night.any()
    assert _most_at_once(granted[(granted // 24) == 2]) == 3


def simcore_monitor(res: simcore.RunResult) -> dict[str, np.ndarray]:
    """The review desk's granted requests as the run's event log shows them: the hour each
    entered the queue and its wait for an analyst (review passed minus the review time)."""
    ev, o = res.events, res.orders
    start = pd.Timestamp(res.scenario.start)
    entered = (o["fraud_review_started_at"] - start) / pd.Timedelta(hours=1)
    passed = ev[ev["activity"] == "fraud_review_passed"].set_index("order_id")["hour"]
    taken = (passed - REVIEW_H).sort_values()
    req = entered[taken.index].to_numpy()
    order = np.argsort(req, kind="stable")
    return {"requested": req[order], "wait": (taken.to_numpy() - req)[order]}


def _most_at_once(starts: np.ndarray) -> int:
    # A review ending as another starts reads a hair apart (hours rebuilt from the event log).
    return max(int(((starts <= t + 1e-6) & (t < starts + REVIEW_H - 1e-6)).sum()) for t in starts)


def test_server_hours_and_cost_follow_the_schedule_to_the_hour():
    res = simcore.run(quiet({**ALL_REVIEWED, "platform.fraud.staffing": SCHEDULE}))
    lo, hi = res.scenario.kpi_window_hours
    staffed = sum(_headcount(h, res.scenario.start) for h in range(int(lo), int(hi)))
    q = res.kpis["queues"]["fraud_review"]
    assert q["server_hours"] == pytest.approx(staffed, rel=1e-12)
    assert 0.0 < q["utilization"] <= 1.0
    rate = res.scenario.platform.fraud.analyst_cost_per_hour
    assert res.kpis["fraud_review_cost_usd"] == pytest.approx(rate * staffed, rel=1e-12)


def test_constant_is_the_default_and_changes_nothing():
    a = simcore.run(quiet(ALL_REVIEWED))
    b = simcore.run(quiet({**ALL_REVIEWED, "platform.fraud.staffing": {"kind": "constant"}}))
    pd.testing.assert_frame_equal(a.orders, b.orders)
    lo, hi = a.scenario.kpi_window_hours
    assert a.kpis["queues"]["fraud_review"]["server_hours"] == hi - lo


def test_a_researchers_staffing_empties_the_night_and_the_waits_grow():
    day = simcore.run(quiet(ALL_REVIEWED))
    night_off = simcore.run(
        quiet({**ALL_REVIEWED, "platform.fraud.staffing": {"kind": f"{SAMPLE}:NightShiftOff"}})
    )
    mon = simcore_monitor(night_off)
    granted = mon["requested"] + mon["wait"]
    assert not ((granted % 24 >= 22) | (granted % 24 < 6 - 1e-6)).any()
    q, q0 = night_off.kpis["queues"]["fraud_review"], day.kpis["queues"]["fraud_review"]
    assert q["server_hours"] == pytest.approx(q0["server_hours"] * 16 / 24)
    assert q["mean_wait_hours"] > 2 * q0["mean_wait_hours"]


def test_the_schedule_scales_with_the_market():
    one = simcore.run(quiet({**ALL_REVIEWED, "horizon_days": 3, "platform.fraud.staffing": SCHEDULE}))
    two = simcore.run(
        quiet({**ALL_REVIEWED, "horizon_days": 3, "scale": 2, "platform.fraud.staffing": SCHEDULE})
    )
    hours = [q.kpis["queues"]["fraud_review"]["server_hours"] for q in (one, two)]
    assert hours[1] == pytest.approx(2 * hours[0])


def test_the_load_check_reads_the_schedules_mean_headcount():
    base = quiet({**ALL_REVIEWED, "horizon_days": 10})
    doubled = quiet(
        {
            **ALL_REVIEWED,
            "horizon_days": 10,
            "platform.fraud.staffing": {"kind": "schedule", "params": {"by_hour": [2] * 24}},
        }
    )
    assert utilisation(doubled)["fraud_review"] == pytest.approx(utilisation(base)["fraud_review"] / 2)
    researchers = quiet({**ALL_REVIEWED, "platform.fraud.staffing": {"kind": f"{SAMPLE}:NightShiftOff"}})
    assert "fraud_review" not in utilisation(researchers)


@pytest.mark.parametrize(
    ("staffing", "message"),
    [
        ({"kind": "schedule"}, "needs params.by_hour, params.by_date or both"),
        ({"kind": "schedule", "params": {"by_hour": [1] * 23}}, "24 headcounts"),
        ({"kind": "schedule", "params": {"by_hour": [1] * 23 + [-1]}}, "24 headcounts"),
        ({"kind": "schedule", "params": {"by_date": {"2026-13-01": 2}}}, "not an ISO date"),
        ({"kind": "schedule", "params": {"by_date": {"2026-01-07": 1.5}}}, "a headcount"),
        ({"kind": "constant", "params": {"by_hour": [1] * 24}}, "takes no parameter by_hour"),
        ({"kind": f"{SAMPLE}:Shouting"}, "no method servers"),
    ],
)
@pytest.mark.parametrize(
    "key", ["platform.fraud.staffing", "platform.customer_service.staffing", "payment.gateway.staffing"]
)
def test_a_bad_staffing_is_a_scenario_error_at_its_key(key, staffing, message):
    with pytest.raises(ScenarioError) as info:
        quiet({key: staffing})
    assert key in str(info.value) and message in str(info.value)


def test_a_policy_answering_a_negative_headcount_stops_the_run_with_its_key():
    with pytest.raises(ScenarioError, match=r"payment\.gateway\.staffing: .*returned -1"):
        simcore.run(
            quiet({"horizon_days": 2, "payment.gateway.staffing": {"kind": f"{SAMPLE}:NegativeStaff"}})
        )


def test_agents_and_gateway_servers_follow_their_schedules():
    res = simcore.run(
        quiet(
            {
                "horizon_days": 4,
                "payment.gateway.staffing": {"kind": "schedule", "params": {"by_hour": [3] * 24}},
                "platform.customer_service.staffing": {
                    "kind": "schedule",
                    "params": {"by_hour": [0] * 12 + [5] * 12},
                },
            }
        )
    )
    lo, hi = res.scenario.kpi_window_hours
    q = res.kpis["queues"]
    assert q["gateway"]["server_hours"] == pytest.approx(3 * (hi - lo))
    expected = sum(0 if h % 24 < 12 else 5 for h in range(int(lo), int(hi)))
    assert q["customer_service"]["server_hours"] == pytest.approx(expected)
