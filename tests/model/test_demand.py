"""The arrival-rate profile (demand): flat, shaped by hour and weekday, promotions; and the
orders a run places under it."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore.engine.calendar import Calendar
from simcore.model.demand import ArrivalRate
from tests.conftest import quiet

MONDAY = dt.date(2026, 1, 5)  # QUIET's start date, a Monday
DAY = 24.0
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def at(weekday: int, hour_of_day: float, week: int = 0) -> float:
    """Simulation hour of ``weekday`` (0 = Monday) at ``hour_of_day`` in week ``week``."""
    return (7 * week + weekday) * DAY + hour_of_day


# ---------------------------------------------------------------------------------- arrival rate

HOUR_SHAPE = [1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 5, 5, 6, 8, 9, 7, 4, 2]
WEEKDAY_SHAPE = [1.0, 1.0, 1.1, 1.2, 1.4, 2.0, 1.5]


def rate_of(profile, orders_per_hour: float = 10.0) -> ArrivalRate:
    scn = quiet({"buyers.orders_per_hour": orders_per_hour, "buyers.arrival_profile": profile})
    return ArrivalRate(scn, Calendar(scn.start))


@pytest.mark.trace
def test_flat_rate_is_constant():
    rate = rate_of("flat", 12.5)
    assert rate.flat
    assert rate.max_rate == 12.5
    assert {rate(h) for h in np.linspace(0, 24 * 30, 1001)} == {12.5}


@pytest.mark.trace
def test_shaped_profile_averages_to_orders_per_hour_over_a_week():
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "weekday": WEEKDAY_SHAPE}, 10.0)
    assert not rate.flat
    # The rate is constant within each hour: integrate hour by hour over whole weeks.
    for week in range(3):
        hourly = [rate(week * 168 + h + 0.5) for h in range(168)]
        assert np.mean(hourly) == pytest.approx(10.0, rel=1e-12)


@pytest.mark.trace
def test_shaped_profile_follows_hour_and_weekday_factors():
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "weekday": WEEKDAY_SHAPE}, 10.0)
    # Ratios within a day follow hour_of_day; across days at one hour they follow weekday.
    assert rate(at(WED, 20.5)) / rate(at(WED, 0.5)) == pytest.approx(9.0)
    assert rate(at(SAT, 13.2)) / rate(at(MON, 13.2)) == pytest.approx(2.0)
    assert rate(at(SUN, 13.2, week=4)) / rate(at(MON, 13.2)) == pytest.approx(1.5)
    # Absolute level: base * (hour factor / its mean) * (weekday factor / its mean).
    expected = 10.0 * (9 / np.mean(HOUR_SHAPE)) * (2.0 / np.mean(WEEKDAY_SHAPE))
    assert rate(at(SAT, 20.0)) == pytest.approx(expected)


@pytest.mark.trace
def test_promotion_multiplies_inside_its_half_open_window():
    promo = {"name": "sale", "start": "2026-01-08", "days": 2, "multiplier": 3.0}  # a Thursday
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "promotions": [promo]}, 10.0)
    plain = rate_of({"hour_of_day": HOUR_SHAPE}, 10.0)
    lo, hi = at(THU, 0), at(SAT, 0)
    for h in np.arange(0, 24 * 14, 0.25):
        factor = 3.0 if lo <= h < hi else 1.0
        assert rate(h) == pytest.approx(factor * plain(h)), h
    assert rate(lo) == pytest.approx(3 * plain(lo))
    assert rate(hi) == pytest.approx(plain(hi))


@pytest.mark.trace
def test_a_window_that_ends_within_an_hour_ends_there():
    # 0.1 days is 2.4 hours: the window's last hour is cut at hour 2.4 of its day, and what the
    # rate says holds until then, not until the whole hour.
    promo = {"start": "2026-01-06", "days": 0.1, "multiplier": 50.0}  # day 1: hours 24-26.4
    rate = rate_of({"promotions": [promo]}, 10.0)
    assert rate.held(26.0) == (500.0, pytest.approx(26.4))  # (1 + 0.1) days in hours
    assert rate.held(26.5) == (10.0, 27.0)
    assert rate.held(23.5) == (10.0, 24.0)
    # The arrival process asks only when the last answer runs out: in the 0.6 hours after the
    # window, 6 orders are expected at 10 an hour, 300 had the window's rate run to hour 27.
    scn = quiet(
        {**PLENTY, "buyers.orders_per_hour": 10.0, "horizon_days": 2}
        | {"buyers.arrival_profile": {"promotions": [promo]}}
    )
    placed = simcore.run(scn).orders["placed_hour"]
    after = int(((placed >= 26.4) & (placed < 27.0)).sum())
    inside = int(((placed >= 24.0) & (placed < 26.4)).sum())
    assert after < 25 and 900 < inside < 1500, (after, inside)  # Poisson(6); Poisson(1200)


def _max_over_grid(rate: ArrivalRate, days: int = 28) -> float:
    return max(rate(h) for h in np.arange(0, 24 * days, 0.25))


@pytest.mark.property
def test_max_rate_bounds_the_rate_and_is_attained():
    promo = {"start": "2026-01-10", "days": 1, "multiplier": 2.5}  # a Saturday: the peak day
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "weekday": WEEKDAY_SHAPE, "promotions": [promo]})
    peak = _max_over_grid(rate)
    assert peak <= rate.max_rate * (1 + 1e-12)
    assert peak == pytest.approx(rate.max_rate)


@pytest.mark.property
def test_max_rate_with_a_slowdown_promotion():
    promo = {"start": "2026-01-06", "days": 3, "multiplier": 0.5}
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "promotions": [promo]})
    assert _max_over_grid(rate) == pytest.approx(rate.max_rate)


OVERLAPPING = [
    {"name": "week", "start": "2026-01-06", "days": 2, "multiplier": 3.0},
    {"name": "flash", "start": "2026-01-07", "days": 1, "multiplier": 2.0},
]


@pytest.mark.property
def test_max_rate_bounds_overlapping_promotions():
    rate = rate_of({"promotions": OVERLAPPING}, 10.0)
    assert rate(at(WED, 12)) == pytest.approx(60.0)  # 10 * 3 * 2: both windows cover Wednesday
    assert _max_over_grid(rate, days=7) <= rate.max_rate


# ---------------------------------------------------------------------------------- arrivals in a run

#: Enough stock that no arrival is lost (QUIET's 20 SKUs hold ~1000 units each).
PLENTY = {"sellers.initial_stock_mean": 1e6}

# Tolerances: order counts are Poisson (variance = mean) and shares of a Poisson process's
# orders binomial given their number; every check allows 4 standard errors, a two-sided 99.994%
# level under the normal approximation (means of 240 to 6,720 orders). A rate 10% off moves the
# two-week count by 8 SE and a promotion day's by 2.7 to 3.8 SE.


@pytest.mark.statistical
@pytest.mark.slow
def test_shaped_run_places_orders_per_hour_times_hours():
    lam, days = 20.0, 14  # two whole weeks, so the weekday shape averages out
    scn = quiet(
        {
            **PLENTY,
            "buyers.orders_per_hour": lam,
            "buyers.arrival_profile": {"hour_of_day": HOUR_SHAPE, "weekday": WEEKDAY_SHAPE},
            "horizon_days": days,
        }
    )
    result = simcore.run(scn, replication=1)
    assert result.kpis["lost_sales"] == 0
    n, expected = len(result.orders), lam * 24 * days
    assert abs(n - expected) < 4 * math.sqrt(expected), (n, expected)  # Poisson count
    # The shape is followed too: weekend share of orders = weekend share of the weekly rate.
    placed = result.orders["placed_hour"].to_numpy()
    weekend = np.isin((placed // 24).astype(int) % 7, [SAT, SUN]).mean()
    p = sum(WEEKDAY_SHAPE[5:]) / sum(WEEKDAY_SHAPE)
    assert abs(weekend - p) < 4 * math.sqrt(p * (1 - p) / n), (weekend, p)
    evening = np.isin((placed % 24).astype(int), [19, 20, 21]).mean()
    p = sum(HOUR_SHAPE[19:22]) / sum(HOUR_SHAPE)
    assert abs(evening - p) < 4 * math.sqrt(p * (1 - p) / n), (evening, p)


@pytest.mark.statistical
@pytest.mark.slow
def test_promotion_day_shows_more_orders():
    lam, mult = 10.0, 3.0
    promo = {"name": "11.11", "start": "2026-01-12", "days": 1, "multiplier": mult}  # day 8
    scn = quiet(
        {**PLENTY, "buyers.orders_per_hour": lam, "buyers.arrival_profile": {"promotions": [promo]}}
        | {"horizon_days": 14}
    )
    result = simcore.run(scn, replication=2)
    ts = result.timeseries.set_index("day")["orders_placed"]
    assert result.timeseries.loc[result.timeseries["day"] == 8, "date"].iloc[0] == pd.Timestamp("2026-01-12")
    promo_day, others = ts.loc[8], ts.drop(index=8)
    expected = mult * lam * 24
    assert abs(promo_day - expected) < 4 * math.sqrt(expected), (promo_day, expected)
    assert abs(others.mean() - lam * 24) < 4 * math.sqrt(lam * 24 / len(others)), others.mean()
    assert promo_day > others.max()


@pytest.mark.statistical
@pytest.mark.slow
def test_overlapping_promotions_multiply_orders():
    lam = 10.0
    scn = quiet(
        {**PLENTY, "buyers.orders_per_hour": lam, "buyers.arrival_profile": {"promotions": OVERLAPPING}}
        | {"horizon_days": 5}
    )
    ts = simcore.run(scn, replication=3).timeseries.set_index("day")["orders_placed"]
    expected = lam * 3.0 * 2.0 * 24  # day 3 (Wednesday) is inside both windows
    assert abs(ts.loc[3] - expected) < 4 * math.sqrt(expected), (ts.loc[3], expected)
