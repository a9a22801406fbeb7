"""Sellers' and carriers' daily capacity and the holiday calendar (simcore/model/capacity.py):
the slot ledger by hand, the calendar's arithmetic, a holiday end to end, and 11.11 against
capacity (issue 19: ship-by misses on and after the peak at least twice ordinary days')."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import simcore
from simcore.model.capacity import DAY, DailySlots, closed_days, extended, reopened
from tests.conftest import const, quiet


def test_a_full_day_sends_the_next_parcel_to_the_next_day_at_the_same_time_of_day():
    slots = DailySlots([2, math.inf], horizon_days=8)
    for t in (10.0, 11.0):
        assert slots.slot(0, t, now=0.0) == t
        slots.book(0, t)
    assert slots.slot(0, 12.5, now=0.0) == DAY + 12.5  # day 0 full: day 1, same time of day
    slots.book(0, DAY + 12.5)
    assert slots.slot(0, DAY + 3.0, now=0.0) == DAY + 3.0  # day 1 has one slot left
    slots.book(0, DAY + 3.0)
    assert slots.slot(0, DAY + 4.0, now=0.0) == 2 * DAY + 4.0
    # A parcel ready earlier than the booked days still takes its own day when it has room.
    assert slots.slot(0, 5 * DAY + 1.0, now=0.0) == 5 * DAY + 1.0
    # Days gone by are forgotten: eight days on, day 8 (day 0's place in the ring) is empty.
    assert slots.slot(0, 8 * DAY + 1.0, now=8 * DAY) == 8 * DAY + 1.0
    # Past the ring: no slot (an hour no deadline reaches).
    for d in range(8, 16):
        for _ in range(2):
            slots.book(0, d * DAY)
    assert slots.slot(0, 8 * DAY, now=8 * DAY) == math.inf
    # No limit: always its own hour, and nothing is counted.
    for _ in range(100):
        slots.book(1, 7.0)
    assert slots.slot(1, 7.0, now=0.0) == 7.0 and not any(slots.booked[8:16])


def test_closed_days_take_no_parcel():
    closed = closed_days([(pd.Timestamp("2026-01-03").date(), 2.0)], pd.Timestamp("2026-01-01").date())
    assert closed == frozenset({2, 3})
    slots = DailySlots([math.inf], closed)
    assert slots.slot(0, 2 * DAY + 5.0, now=0.0) == 4 * DAY + 5.0
    assert slots.slot(0, DAY + 5.0, now=0.0) == DAY + 5.0
    assert reopened(3 * DAY + 1.0, closed) == 4 * DAY and reopened(1.0, closed) == 1.0
    # A ship-by window over the holiday (days 2-3) moves by its extension; one before it does not.
    holiday = [(2 * DAY, 4 * DAY, 2.0)]
    assert extended(DAY, 5 * DAY, holiday) == 7 * DAY
    assert extended(0.0, DAY + 5.0, holiday) == DAY + 5.0
    assert extended(3 * DAY, 6 * DAY, [(2 * DAY, 4 * DAY, 5.0)]) == 11 * DAY
    # Part days close the whole day.
    assert closed_days([(pd.Timestamp("2026-01-01").date(), 0.5)], pd.Timestamp("2026-01-01").date()) == {0}


#: A quiet market (from 5 January 2026) with a 5-day holiday from day 3: every order is looked
#: at after 1 h and handed over 2 h later.
HOLIDAY = {
    "horizon_days": 20,
    "buyers.orders_per_hour": 2.0,
    "sellers.first_look_time": const(1.0),
    "sellers.handling_time": const(2.0),
    "platform.ship_by_days": 2,
    "sellers.holidays": [{"name": "break", "start": "2026-01-08", "days": 5}],
}


def _hours(res: simcore.RunResult, column: str) -> pd.Series:
    return (res.orders[column] - pd.Timestamp(res.scenario.start)) / pd.Timedelta(hours=1)


@pytest.mark.trace
def test_sellers_do_nothing_on_a_holiday_and_the_platform_extends_the_deadline():
    res = simcore.run(quiet(HOLIDAY))
    assert str(res.scenario.start) == "2026-01-05"
    start, end = 3 * DAY, 8 * DAY  # 8-12 January: days 3-7
    shipped_h = _hours(res, "shipped_at").dropna()
    assert len(shipped_h) > 300
    assert not ((shipped_h >= start) & (shipped_h < end)).any()
    ev = res.events
    looks = ev.loc[ev["activity"] == "seller_processing", "hour"]
    assert not ((looks >= start) & (looks < end)).any()
    # Orders cleared during the break are looked at when it ends (hour 192) and shipped 2 h later.
    cleared = _hours(res, "cleared_at")
    during = (cleared >= start - 1.0) & (cleared < end - 1.0)  # their first look falls in it
    assert during.sum() > 100
    np.testing.assert_allclose(
        _hours(res, "shipped_at")[during & res.orders["shipped_at"].notna()], end + 2.0, atol=1e-6
    )
    # Extended deadlines: none missed.
    assert not (res.orders["cancel_reason"] == "ship_deadline_missed").any()
    # Not extended: the break counts against the sellers. Orders cleared from 3 h before it
    # (handed over in it) to 2 days before its end miss the deadline; none cleared otherwise.
    strict = simcore.run(
        quiet({**HOLIDAY, "sellers.holidays": [{**HOLIDAY["sellers.holidays"][0], "extend_ship_by": False}]})
    )
    missed = strict.orders["cancel_reason"] == "ship_deadline_missed"
    cleared_s = _hours(strict, "cleared_at")
    assert missed.sum() > 100
    assert ((cleared_s[missed] >= start - 3.0) & (cleared_s[missed] < end)).all()
    assert missed[(cleared_s >= start) & (cleared_s < end - 2 * DAY - 3.0)].all()


@pytest.mark.trace
def test_a_sellers_daily_capacity_holds_its_handovers():
    # One seller, 2 orders an hour (48 a day), capacity 1x: 48 handovers a day at most; days
    # busier than that (Poisson) push parcels to the next day, past the 2 h of handling.
    res = simcore.run(
        quiet(
            {
                **{k: v for k, v in HOLIDAY.items() if k != "sellers.holidays"},
                "sellers.count": 1,
                "platform.ship_by_days": 30,
                "sellers.daily_capacity": {"factor": 1.0, "min_per_day": 5},
            }
        )
    )
    per_day = (_hours(res, "shipped_at").dropna() // DAY).astype(int).value_counts()
    assert per_day.max() == 48 and (per_day == 48).sum() >= 3
    wait = _hours(res, "shipped_at") - _hours(res, "cleared_at")
    assert wait.max() > DAY


@pytest.mark.statistical
def test_promo_1111_misses_ship_by_twice_as_often_on_and_after_the_peak(promo_result):
    # Issue 19's criterion. Measured at writing (3 replications): 0.76% of orders cleared on
    # ordinary days (11 October - 7 November) missed their ship-by deadline, 2.89% of those
    # cleared 11-17 November (x3.8); mean hours to shipment 61 -> 106. One replication: ~60
    # misses on ordinary days and ~60 on the peak's, each a Poisson sd of ~13%: x3.8 is ~4 sd of
    # the ratio above 2.
    res = promo_result
    c = res.orders[res.orders["cleared_at"].notna()]
    day = c["cleared_at"].dt.floor("D")
    missed = c["cancel_reason"] == "ship_deadline_missed"
    hours = (c["shipped_at"] - c["cleared_at"]) / pd.Timedelta(hours=1)
    ordinary = (day >= "2026-10-11") & (day <= "2026-11-07")
    peak = (day >= "2026-11-11") & (day <= "2026-11-17")
    assert missed[peak].mean() >= 2 * missed[ordinary].mean(), (missed[peak].mean(), missed[ordinary].mean())
    assert hours[peak].mean() >= 1.3 * hours[ordinary].mean()
