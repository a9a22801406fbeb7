"""The calendar (weekdays, business days, timestamps), the arrival-rate profile, and the named
random streams behind every run."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from conftest import quiet
from hypothesis import given, settings
from hypothesis import strategies as st

import simcore
from simcore.engine.calendar import Calendar
from simcore.engine.streams import Streams
from simcore.model.demand import ArrivalRate

MONDAY = dt.date(2026, 1, 5)  # QUIET's start date, a Monday
CAL = Calendar(MONDAY)
DAY = 24.0


def at(weekday: int, hour_of_day: float, week: int = 0) -> float:
    """Simulation hour of ``weekday`` (0 = Monday) at ``hour_of_day`` in week ``week``."""
    return (7 * week + weekday) * DAY + hour_of_day


MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


# ---------------------------------------------------------------------------------- weekdays


@pytest.mark.parametrize(
    ("hour", "weekday"),
    [(0.0, MON), (23.999, MON), (24.0, TUE), (at(FRI, 23.5), FRI), (at(SAT, 0), SAT), (at(SUN, 12), SUN)]
    + [(at(MON, 0, week=1), MON), (at(THU, 7, week=10), THU)],
)
def test_weekday_of_hour(hour, weekday):
    assert CAL.weekday(hour) == weekday


def test_weekday_follows_the_start_date():
    wednesday = Calendar(dt.date(2026, 1, 7))
    assert [wednesday.weekday(d * DAY + 1) for d in range(8)] == [2, 3, 4, 5, 6, 0, 1, 2]


@settings(max_examples=100, deadline=None)
@given(day=st.integers(0, 3650), hour=st.floats(0, 23.99))
def test_weekday_agrees_with_datetime(day, hour):
    assert CAL.weekday(day * DAY + hour) == (MONDAY + dt.timedelta(days=day)).weekday()


# ---------------------------------------------------------------------------------- business days


@pytest.mark.parametrize(
    ("start", "bdays", "expected"),
    [
        pytest.param(at(MON, 10), 0, at(MON, 10), id="zero-bdays"),
        pytest.param(at(MON, 10), 0.5, at(MON, 22), id="fraction-added-as-hours"),
        pytest.param(at(FRI, 0), 1, at(MON, 0, week=1), id="fri-midnight+1=mon"),
        pytest.param(at(THU, 0), 3, at(TUE, 0, week=1), id="thu+3=tue-skips-weekend"),
        pytest.param(at(MON, 0), 10, at(MON, 0, week=2), id="mon+10=mon-two-weeks-on"),
        pytest.param(at(SAT, 10), 0, at(MON, 0, week=1), id="sat+0=monday-start"),
        pytest.param(at(SUN, 15), 0.25, at(MON, 6, week=1), id="sun+0.25=mon-06h"),
        pytest.param(at(SAT, 10), 1, at(TUE, 0, week=1), id="sat+1=tue-counts-from-monday"),
        pytest.param(at(SUN, 23), 2.5, at(WED, 12, week=1), id="sun+2.5=wed-12h"),
    ],
)
def test_add_business_days_exact(start, bdays, expected):
    assert CAL.add_business_days(start, bdays) == pytest.approx(expected, abs=1e-9)


def test_fractional_business_day_skips_the_weekend():
    # Friday 20:00 + 0.5 business day = 12 business hours: 4 on Friday, 8 on Monday.
    assert CAL.add_business_days(at(FRI, 20), 0.5) == pytest.approx(at(MON, 8, week=1))


@pytest.mark.parametrize(
    ("start", "bdays", "expected"),
    [
        pytest.param(at(FRI, 10), 1, at(MON, 10, week=1), id="fri-10h+1=mon-10h"),
        pytest.param(at(MON, 10), 1, at(TUE, 10), id="mon-10h+1=tue-10h"),
        pytest.param(at(MON, 6), 2.5, at(WED, 18), id="mon-06h+2.5=wed-18h"),
        pytest.param(at(THU, 15), 5, at(THU, 15, week=1), id="thu-15h+5=thu-15h"),
    ],
)
def test_add_business_days_keeps_time_of_day(start, bdays, expected):
    assert CAL.add_business_days(start, bdays) == pytest.approx(expected, abs=1e-9)


def test_more_business_days_never_land_earlier():
    # Monday 10:00 + 0.9 bday is Monday 10:00 + 21.6 h; + 1.0 bday must not come before it.
    start = at(MON, 10)
    assert CAL.add_business_days(start, 1.0) >= CAL.add_business_days(start, 0.9)


@settings(max_examples=150, deadline=None)
@given(day=st.integers(0, 400), hour=st.floats(0, 23.99), n=st.integers(0, 30))
def test_whole_business_days_land_on_a_weekday_n_business_days_on(day, hour, n):
    start = day * DAY + hour
    landing = CAL.add_business_days(start, n)
    assert landing >= start
    assert CAL.weekday(landing) < 5
    start_day = np.datetime64(MONDAY) + np.timedelta64(day, "D")
    landing_day = np.datetime64(MONDAY) + np.timedelta64(int(landing // DAY), "D")
    # busday_count counts from the first business day on or after start_day.
    assert np.busday_count(start_day, landing_day) == n


# ---------------------------------------------------------------------------------- timestamps


def test_timestamp_converts_hours_and_nan():
    ts = CAL.timestamp(np.array([0.0, 1.5, np.nan, at(MON, 0.25, week=1), 1 / 3_600_000]))
    assert ts.dtype == np.dtype("datetime64[ms]")
    expected = np.array(
        [
            "2026-01-05T00:00:00.000",
            "2026-01-05T01:30:00.000",
            "NaT",
            "2026-01-12T00:15:00.000",
            "2026-01-05T00:00:00.001",
        ],
        dtype="datetime64[ms]",
    )
    np.testing.assert_array_equal(ts, expected)
    assert np.isnat(ts[2]) and not np.isnat(ts[[0, 1, 3, 4]]).any()


def test_timestamp_in_place_equals_a_fresh_result():
    # simcore.results.collect converts the recorder's hour columns in place; over several slices
    # (calendar._SLICE rows each), with NaN among them, the result must be the fresh one.
    rng = np.random.default_rng(3)
    hours = rng.uniform(0.0, 24.0 * 400, (1 << 18) * 2 + 5)
    hours[rng.random(hours.size) < 0.3] = np.nan
    fresh = CAL.timestamp(hours)
    same = CAL.timestamp(hours, out=hours.view("datetime64[ms]"))
    assert np.shares_memory(same, hours)
    np.testing.assert_array_equal(same, fresh)


def test_timestamp_of_empty_and_all_nan():
    assert CAL.timestamp(np.array([])).size == 0
    assert np.isnat(CAL.timestamp(np.array([np.nan, np.nan]))).all()


# ---------------------------------------------------------------------------------- arrival rate

HOUR_SHAPE = [1, 1, 1, 1, 1, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 5, 5, 6, 8, 9, 7, 4, 2]
WEEKDAY_SHAPE = [1.0, 1.0, 1.1, 1.2, 1.4, 2.0, 1.5]


def rate_of(profile, orders_per_hour: float = 10.0) -> ArrivalRate:
    scn = quiet({"buyers.orders_per_hour": orders_per_hour, "buyers.arrival_profile": profile})
    return ArrivalRate(scn, Calendar(scn.start))


def test_flat_rate_is_constant():
    rate = rate_of("flat", 12.5)
    assert rate.flat
    assert rate.max_rate == 12.5
    assert {rate(h) for h in np.linspace(0, 24 * 30, 1001)} == {12.5}


def test_shaped_profile_averages_to_orders_per_hour_over_a_week():
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "weekday": WEEKDAY_SHAPE}, 10.0)
    assert not rate.flat
    # The rate is constant within each hour: integrate hour by hour over whole weeks.
    for week in range(3):
        hourly = [rate(week * 168 + h + 0.5) for h in range(168)]
        assert np.mean(hourly) == pytest.approx(10.0, rel=1e-12)


def test_shaped_profile_follows_hour_and_weekday_factors():
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "weekday": WEEKDAY_SHAPE}, 10.0)
    # Ratios within a day follow hour_of_day; across days at one hour they follow weekday.
    assert rate(at(WED, 20.5)) / rate(at(WED, 0.5)) == pytest.approx(9.0)
    assert rate(at(SAT, 13.2)) / rate(at(MON, 13.2)) == pytest.approx(2.0)
    assert rate(at(SUN, 13.2, week=4)) / rate(at(MON, 13.2)) == pytest.approx(1.5)
    # Absolute level: base * (hour factor / its mean) * (weekday factor / its mean).
    expected = 10.0 * (9 / np.mean(HOUR_SHAPE)) * (2.0 / np.mean(WEEKDAY_SHAPE))
    assert rate(at(SAT, 20.0)) == pytest.approx(expected)


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


def _max_over_grid(rate: ArrivalRate, days: int = 28) -> float:
    return max(rate(h) for h in np.arange(0, 24 * days, 0.25))


def test_max_rate_bounds_the_rate_and_is_attained():
    promo = {"start": "2026-01-10", "days": 1, "multiplier": 2.5}  # a Saturday: the peak day
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "weekday": WEEKDAY_SHAPE, "promotions": [promo]})
    peak = _max_over_grid(rate)
    assert peak <= rate.max_rate * (1 + 1e-12)
    assert peak == pytest.approx(rate.max_rate)


def test_max_rate_with_a_slowdown_promotion():
    promo = {"start": "2026-01-06", "days": 3, "multiplier": 0.5}
    rate = rate_of({"hour_of_day": HOUR_SHAPE, "promotions": [promo]})
    assert _max_over_grid(rate) == pytest.approx(rate.max_rate)


OVERLAPPING = [
    {"name": "week", "start": "2026-01-06", "days": 2, "multiplier": 3.0},
    {"name": "flash", "start": "2026-01-07", "days": 1, "multiplier": 2.0},
]


def test_max_rate_bounds_overlapping_promotions():
    rate = rate_of({"promotions": OVERLAPPING}, 10.0)
    assert rate(at(WED, 12)) == pytest.approx(60.0)  # 10 * 3 * 2: both windows cover Wednesday
    assert _max_over_grid(rate, days=7) <= rate.max_rate


# ---------------------------------------------------------------------------------- arrivals in a run

#: Enough stock that no arrival is lost (QUIET's 20 SKUs hold ~1000 units each).
PLENTY = {"sellers.initial_stock_mean": 1e6}


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


# ---------------------------------------------------------------------------------- random streams


def _draw(streams: Streams, name: str, n: int = 64) -> np.ndarray:
    return streams.generator(name).random(n)


def test_same_seed_replication_and_name_give_identical_draws():
    np.testing.assert_array_equal(
        _draw(Streams(7, 3), "buyer.arrivals"), _draw(Streams(7, 3), "buyer.arrivals")
    )


@pytest.mark.parametrize(
    ("other", "name"),
    [
        pytest.param(Streams(7, 4), "buyer.arrivals", id="other-replication"),
        pytest.param(Streams(8, 3), "buyer.arrivals", id="other-seed"),
        pytest.param(Streams(7, 3), "buyer.arrival", id="other-name"),
    ],
)
def test_streams_differ_by_seed_replication_and_name(other, name):
    assert not np.array_equal(_draw(Streams(7, 3), "buyer.arrivals"), _draw(other, name))


def test_replications_are_uncorrelated():
    a = Streams(1, 0).generator("x").standard_normal(20_000)
    b = Streams(1, 1).generator("x").standard_normal(20_000)
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / math.sqrt(a.size)


def test_adding_a_stream_shifts_no_other():
    alone = Streams(7, 0)
    x_alone = _draw(alone, "payment.outcome")
    crowded = Streams(7, 0)
    for name in ("new.stream", "another.one", "buyer.arrivals"):
        _draw(crowded, name, n=1000)
    np.testing.assert_array_equal(_draw(crowded, "payment.outcome"), x_alone)


def test_uniform_sampler_serves_the_named_stream():
    u = Streams(7, 2).uniform("gateway.decisions")
    draws = np.array([u() for _ in range(2000)])
    np.testing.assert_array_equal(draws, Streams(7, 2).generator("gateway.decisions").random(2000))
    assert ((draws >= 0) & (draws < 1)).all()


@pytest.mark.parametrize(
    "second", [lambda s: s.generator("a.b"), lambda s: s.uniform("a.b")], ids=["generator", "uniform"]
)
def test_requesting_a_stream_twice_raises(second):
    streams = Streams(7, 0)
    streams.generator("a.b")
    with pytest.raises(ValueError, match=r"random stream 'a\.b' requested twice"):
        second(streams)
    streams.generator("a.c")  # other names are still available


def _numpy_business_hours(start: dt.date, hour: float) -> float:
    """The reference: business hours to ``hour`` by numpy's busday functions."""
    s64 = np.datetime64(start, "D")
    day_index = int(hour // 24)
    day = s64 + np.timedelta64(day_index, "D")
    time_of_day = hour - day_index * 24.0 if np.is_busday(day) else 0.0
    return int(np.busday_count(s64, day)) * 24.0 + time_of_day


@settings(max_examples=300, deadline=None)
@given(
    weekday=st.integers(0, 6),
    hour=st.one_of(st.floats(0, 10_000), st.integers(0, 400).map(lambda d: d * 24.0)),
    bdays=st.one_of(st.floats(0, 40), st.integers(0, 40).map(float)),
)
def test_business_days_match_numpy(weekday, hour, bdays):
    # The calendar counts weekdays in integers; numpy's busday functions are the reference,
    # bit for bit, for every start weekday (weekend starts roll forward to Monday).
    start = dt.date(2026, 1, 5) + dt.timedelta(days=weekday)
    cal = Calendar(start)
    assert cal._business_hours(hour) == _numpy_business_hours(start, hour)
    s64 = np.datetime64(start, "D")
    target = _numpy_business_hours(start, hour) + bdays * 24.0
    day = int(target // 24)
    landing = np.busday_offset(s64, day, roll="forward")
    expected = float((landing - s64) / np.timedelta64(1, "h")) + (target - day * 24.0)
    assert cal.add_business_days(hour, bdays) == expected
