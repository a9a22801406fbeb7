"""The calendar: weekdays, business days (against numpy's busday functions and hand-computed
dates) and timestamps."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.engine.calendar import Calendar
from tests.conftest import seed

MONDAY = dt.date(2026, 1, 5)  # QUIET's start date, a Monday
CAL = Calendar(MONDAY)
DAY = 24.0


def at(weekday: int, hour_of_day: float, week: int = 0) -> float:
    """Simulation hour of ``weekday`` (0 = Monday) at ``hour_of_day`` in week ``week``."""
    return (7 * week + weekday) * DAY + hour_of_day


MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


# ---------------------------------------------------------------------------------- weekdays


@pytest.mark.trace
@pytest.mark.parametrize(
    ("hour", "weekday"),
    [(0.0, MON), (23.999, MON), (24.0, TUE), (at(FRI, 23.5), FRI), (at(SAT, 0), SAT), (at(SUN, 12), SUN)]
    + [(at(MON, 0, week=1), MON), (at(THU, 7, week=10), THU)],
)
def test_weekday_of_hour(hour, weekday):
    assert CAL.weekday(hour) == weekday


@pytest.mark.trace
def test_weekday_follows_the_start_date():
    wednesday = Calendar(dt.date(2026, 1, 7))
    assert [wednesday.weekday(d * DAY + 1) for d in range(8)] == [2, 3, 4, 5, 6, 0, 1, 2]


@pytest.mark.property
@settings(max_examples=100, deadline=None)
@given(day=st.integers(0, 3650), hour=st.floats(0, 23.99))
def test_weekday_agrees_with_datetime(day, hour):
    assert CAL.weekday(day * DAY + hour) == (MONDAY + dt.timedelta(days=day)).weekday()


# ---------------------------------------------------------------------------------- business days


@pytest.mark.trace
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


@pytest.mark.trace
def test_fractional_business_day_skips_the_weekend():
    # Friday 20:00 + 0.5 business day = 12 business hours: 4 on Friday, 8 on Monday.
    assert CAL.add_business_days(at(FRI, 20), 0.5) == pytest.approx(at(MON, 8, week=1))


@pytest.mark.trace
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


@pytest.mark.property
def test_more_business_days_never_land_earlier():
    # Monday 10:00 + 0.9 bday is Monday 10:00 + 21.6 h; + 1.0 bday must not come before it.
    start = at(MON, 10)
    assert CAL.add_business_days(start, 1.0) >= CAL.add_business_days(start, 0.9)


@pytest.mark.property
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


@pytest.mark.trace
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


@pytest.mark.property
def test_timestamp_in_place_equals_a_fresh_result():
    # simcore.results.collect converts the recorder's hour columns in place; over several slices
    # (calendar._SLICE rows each), with NaN among them, the result must be the fresh one.
    rng = np.random.default_rng(seed(3))
    hours = rng.uniform(0.0, 24.0 * 400, (1 << 18) * 2 + 5)
    hours[rng.random(hours.size) < 0.3] = np.nan
    fresh = CAL.timestamp(hours)
    same = CAL.timestamp(hours, out=hours.view("datetime64[ms]"))
    assert np.shares_memory(same, hours)
    np.testing.assert_array_equal(same, fresh)


@pytest.mark.trace
def test_timestamp_of_empty_and_all_nan():
    assert CAL.timestamp(np.array([])).size == 0
    assert np.isnat(CAL.timestamp(np.array([np.nan, np.nan]))).all()


def _numpy_business_hours(start: dt.date, hour: float) -> float:
    """The reference: business hours to ``hour`` by numpy's busday functions."""
    s64 = np.datetime64(start, "D")
    day_index = int(hour // 24)
    day = s64 + np.timedelta64(day_index, "D")
    time_of_day = hour - day_index * 24.0 if np.is_busday(day) else 0.0
    return int(np.busday_count(s64, day)) * 24.0 + time_of_day


@pytest.mark.property
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
