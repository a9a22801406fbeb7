"""Runs that start on each weekday (every other simulation in the suite starts on a Monday).

The calendar's business days (simcore/engine/calendar.py) and the weekday arrival profile
(simcore/model/demand.py) both turn hours into weekdays from ``start``; a start taken for a
Monday would shift every weekend. Checked on QUIET runs starting Monday 2026-01-05 to Sunday
2026-01-11, against expectations worked out by hand:

- Card refunds (every paid order cancelled at the seller's first look): 5 business days are a
  week to the hour from a weekday; from a Saturday or Sunday they count from the next Monday
  00:00, so they land the Monday after, at 00:00 (the end of the fifth business day, Friday
  24:00, is Monday 00:00 on a clock that stands still on weekends). 2.5 business days:
  counted with a day-by-day walk over the standard library's weekdays.
- Arrivals with a weekday profile open only on weekends: every order placed on a Saturday
  or Sunday, as many as the weekend days in the horizon allow.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import simcore
from tests.conftest import const, quiet

#: Start dates and their weekdays, by hand (2026-01-05 is a Monday).
STARTS = {
    "Monday": dt.date(2026, 1, 5),
    "Tuesday": dt.date(2026, 1, 6),
    "Wednesday": dt.date(2026, 1, 7),
    "Thursday": dt.date(2026, 1, 8),
    "Friday": dt.date(2026, 1, 9),
    "Saturday": dt.date(2026, 1, 10),
    "Sunday": dt.date(2026, 1, 11),
}
# Every carrier quote is above the cap: each paid order is cancelled 'shipping_restriction' 2 h
# after payment and refunded to the card.
CANCELLED = {"shipping.destinations.US.cost_cap_usd": 0.5, "horizon_days": 15}
HOUR = pd.Timedelta(hours=1)


@pytest.mark.trace
def test_the_start_dates_fall_on_their_weekdays():
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    assert [names[d.weekday()] for d in STARTS.values()] == list(STARTS)


def add_business_days(t: dt.datetime, bdays: float) -> dt.datetime:
    """``t`` plus ``bdays`` business days, walking day by day (standard library weekdays): a
    weekend start moves to the next Monday 00:00; a landing at the very end of a business day
    is the next business day's 00:00."""
    left = dt.timedelta(days=bdays)
    while t.weekday() >= 5:
        t = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time())
    while True:
        midnight = dt.datetime.combine(t.date() + dt.timedelta(days=1), dt.time())
        if left < midnight - t:
            return t + left
        left -= midnight - t
        t = midnight
        while t.weekday() >= 5:
            t += dt.timedelta(days=1)


def next_monday(d: dt.date) -> dt.date:
    return d + dt.timedelta(days=7 - d.weekday())


def refunds(start: dt.date, bdays: float) -> pd.DataFrame:
    res = simcore.run(
        quiet({**CANCELLED, "start": start.isoformat(), "refunds.card_delay_bdays": const(bdays, "days")})
    )
    o = res.orders
    assert (o["cancel_reason"].dropna() == "shipping_restriction").all()
    landed = o[o["refunded_at"].notna()]
    assert len(landed) > 50  # 0.5 orders an hour, about a week of landings
    assert (landed["refund_method"] == "original").all()
    return landed


@pytest.mark.trace
@pytest.mark.parametrize("day", list(STARTS))
def test_five_business_days_are_a_week_from_a_weekday_and_the_monday_after_from_a_weekend(day):
    landed = refunds(STARTS[day], 5.0)
    on_weekend = landed["cancelled_at"].dt.day_of_week >= 5  # pandas' weekday of the timestamp
    weekday = landed[~on_weekend]
    assert ((weekday["refunded_at"] - weekday["cancelled_at"]) / HOUR).round(3).eq(168.0).all()
    weekend = landed[on_weekend]
    monday_after = [
        pd.Timestamp(next_monday(c.date()) + dt.timedelta(days=7)) for c in weekend["cancelled_at"]
    ]
    assert weekend["refunded_at"].tolist() == monday_after
    assert weekend["refund_delay_bdays"].eq(5.0).all()
    # Both kinds occur: the horizon's first weekend falls in its first 7 days, and its refunds
    # land by day 14 (from a Monday start: Saturday day 5 -> Monday day 14, 00:00).
    assert len(weekday) > 0 and len(weekend) > 0


@pytest.mark.trace
def test_a_saturday_start_counts_from_monday():
    # Start Saturday 2026-01-10: orders cancelled that weekend count from Monday 2026-01-12
    # 00:00 and land Monday 2026-01-19 00:00.
    landed = refunds(STARTS["Saturday"], 5.0)
    first_weekend = landed[landed["cancelled_at"] < pd.Timestamp("2026-01-12")]
    assert len(first_weekend) > 5
    assert (first_weekend["refunded_at"] == pd.Timestamp("2026-01-19 00:00")).all()


@pytest.mark.trace
@pytest.mark.parametrize("day", list(STARTS))
def test_two_and_a_half_business_days_from_any_start(day):
    landed = refunds(STARTS[day], 2.5)
    start = dt.datetime.combine(STARTS[day], dt.time())
    # The cancellation hour: the exact placement hour plus the (millisecond) time to cancel.
    cancelled_h = landed["placed_hour"] + (landed["cancelled_at"] - landed["placed_at"]) / HOUR
    expected = [add_business_days(start + dt.timedelta(hours=h), 2.5) for h in cancelled_h]
    got = [
        start + dt.timedelta(hours=h)
        for h in landed["placed_hour"] + (landed["refunded_at"] - landed["placed_at"]) / HOUR
    ]
    assert max(abs((g - e).total_seconds()) for g, e in zip(got, expected, strict=True)) < 0.01
    # Nothing lands on a Saturday or a Sunday.
    assert (landed["refunded_at"].dt.day_of_week < 5).all()


# ---------------------------------------------------------------- weekday-shaped arrivals

#: Weekday factors, Monday first, rescaled to mean 1 by the model: (5e-9 + 2) / 7 is the mean,
#: so Saturday and Sunday run at 3.5 times orders_per_hour and weekdays at ~2e-8 of it.
WEEKENDS_ONLY = {
    "horizon_days": 10,
    "buyers.orders_per_hour": 2.0,
    "buyers.arrival_profile": {"weekday": [1e-9] * 5 + [1.0, 1.0]},
}
#: Saturdays and Sundays among the 10 days from each start, by hand: days 5-6 from a Monday,
#: 4-5 from a Tuesday, 3-4 from a Wednesday, 2-3 and 9 from a Thursday, 1-2 and 8-9 from a
#: Friday, 0-1 and 7-8 from a Saturday, 0 and 6-7 from a Sunday.
WEEKEND_DAYS = {
    "Monday": 2,
    "Tuesday": 2,
    "Wednesday": 2,
    "Thursday": 3,
    "Friday": 4,
    "Saturday": 4,
    "Sunday": 3,
}


@pytest.mark.statistical
@pytest.mark.parametrize("day", list(STARTS))
def test_weekend_only_arrivals_fall_on_the_weekend_days_of_the_horizon(day):
    res = simcore.run(quiet({**WEEKENDS_ONLY, "start": STARTS[day].isoformat()}))
    placed = res.orders["placed_at"]
    assert (placed.dt.day_of_week >= 5).all()
    # Each weekend day in the horizon gets orders, and no other date does.
    start = pd.Timestamp(STARTS[day])
    weekend_dates = {
        (start + pd.Timedelta(days=i)).date()
        for i in range(10)
        if (start + pd.Timedelta(days=i)).day_of_week >= 5
    }
    assert len(weekend_dates) == WEEKEND_DAYS[day]
    assert set(placed.dt.date) == weekend_dates
    # Poisson count: mean 2 * 3.5 * 24 = 168 a weekend day; within 5 standard deviations.
    mean = 168.0 * WEEKEND_DAYS[day]
    assert abs(len(placed) + res.kpis["lost_sales"] + res.kpis["orders_forgone"] - mean) < 5 * mean**0.5
