"""Repeat purchases and churn over a fixed exposure (``buyers.follow_up_days``): computed by
hand on a small frame, null when the run is too short, and independent of the run's length."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simcore.experiments.admission import unfollowed
from simcore.results.kpis import _buyer_kpis
from tests.conftest import in_workers, kpis_of, shipped

DAY = 24.0


def _orders(rows: list[tuple[int, float, bool]]) -> pd.DataFrame:
    """(buyer, placement day, fraud) rows as the orders frame's columns the KPIs read."""
    buyer, day, fraud = zip(*rows, strict=True)
    return pd.DataFrame(
        {"buyer_id": np.array(buyer), "placed_hour": np.array(day) * DAY, "is_fraud": np.array(fraud)}
    )


def test_the_cohort_is_first_orders_in_the_window_each_followed_a_fixed_time():
    # Window days 10-20, followed 5 days, horizon day 30.
    orders = _orders(
        [
            (0, 12.0, False), (0, 16.0, False),  # first in the window, again 4 days later: repeat
            (1, 11.0, False), (1, 17.0, False),  # again 6 days later: not within 5
            (2, 5.0, False), (2, 12.0, False),  # first order before the window: not in the cohort
            (3, 19.0, False),  # one order only; churned 2 days later
            (4, 25.0, False),  # first order after the window: not in the cohort
            (5, 14.0, True), (5, 15.0, True),  # a fraudster: never in the cohort
        ]
    )  # fmt: skip
    churned_at = np.full(5, np.nan)
    churned_at[3] = 21.0 * DAY
    churned_at[1] = 27.0 * DAY  # 16 days after the first order: not within 5
    k = _buyer_kpis(orders, churned_at, (10 * DAY, 20 * DAY), 5 * DAY, 30 * DAY)
    assert k["repeat_purchase_rate"] == pytest.approx(1 / 3)  # buyers 0, 1, 3: buyer 0 returned
    assert k["buyer_churn_rate"] == pytest.approx(1 / 3)  # buyer 3 left within 5 days


def test_a_run_too_short_to_follow_its_buyers_measures_neither_and_says_so():
    orders = _orders([(0, 12.0, False), (0, 13.0, False)])
    k = _buyer_kpis(orders, np.full(1, np.nan), (10 * DAY, 20 * DAY), 15 * DAY, 30 * DAY)
    assert k == {"buyer_churn_rate": None, "repeat_purchase_rate": None}
    scn = shipped("baseline", {"horizon_days": 60, "cooldown_days": 10})
    (warning,) = unfollowed(scn)
    assert "buyers.follow_up_days: 90" in warning and "raise horizon_days to 140" in warning
    assert unfollowed(shipped("baseline")) == []  # 90 + 90 days fit in its 186


@pytest.mark.slow
@pytest.mark.statistical
def test_repeat_purchases_and_churn_do_not_grow_with_the_run():
    # Counted to the horizon, the repeat rate was 0.31 over 60 days and 0.667 over 150 (issue
    # 17). Followed a fixed 90 days, 150- and 240-day runs (windows days 10-54 and 10-144) give
    # the same rates: Welch 99% intervals on the difference over 4 replications each hold 0.
    # Measured at writing: repeat 0.655 and 0.651, churn 0.0099 and 0.0109 (one run each).
    # The eight runs share out among worker processes, the longer ones first.
    horizons = [240.0] * 4 + [150.0] * 4
    runs = in_workers(kpis_of, [shipped("baseline", {"horizon_days": h}) for h in horizons], [0, 1, 2, 3] * 2)
    rates = np.array([[k["repeat_purchase_rate"], k["buyer_churn_rate"]] for k in runs])
    long, short = rates[:4], rates[4:]
    for j, name in enumerate(("repeat_purchase_rate", "buyer_churn_rate")):
        a, b = short[:, j], long[:, j]
        diff = b.mean() - a.mean()
        se = math.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        half = stats.t.ppf(0.995, len(a) + len(b) - 2) * se
        assert abs(diff) <= half, (name, a, b)
