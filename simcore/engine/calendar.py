"""The simulation calendar: hours from a start date, weekdays and business days.

The clock runs in hours; hour 0 is midnight at the start of the start date.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

#: Values converted at a time by :meth:`Calendar.timestamp`.
_SLICE = 1 << 18


class Calendar:
    """Converts simulation hours to dates and counts business days (Monday-Friday).

    Args:
        start: Date of hour 0.
    """

    def __init__(self, start: dt.date):
        self.start = start
        self._start64 = np.datetime64(start, "D")
        self._start_weekday = w0 = start.weekday()
        # Business days (Monday-Friday) among the first r days, r = 0..6: a week has five.
        self._busy_before = [sum((w0 + j) % 7 < 5 for j in range(r)) for r in range(7)]

    def weekday(self, hour: float) -> int:
        """Weekday (0 = Monday) of simulation hour ``hour``."""
        return (self._start_weekday + int(hour // 24)) % 7

    def add_business_days(self, hour: float, bdays: float) -> float:
        """The hour ``bdays`` business days after ``hour``.

        Time moves on a business-hours clock that stands still on weekends: Friday 10:00 plus
        1 business day is Monday 10:00, plus 0.5 is Friday 22:00, plus 0.75 is Monday 04:00.
        A start on a weekend counts from the next Monday 00:00. The result never decreases as
        ``bdays`` grows.
        """
        target = self._business_hours(hour) + bdays * 24.0
        target_day = int(target // 24)
        return self._business_day(target_day) * 24.0 + (target - target_day * 24.0)

    def business_days_between(self, start: float, end: float) -> float:
        """Business days (weekend-free clock of :meth:`add_business_days`) from ``start`` to
        ``end`` (hours)."""
        return (self._business_hours(end) - self._business_hours(start)) / 24.0

    # Weekday arithmetic in plain integers: numpy's busday functions cost microseconds a call
    # and refunds call these for every cancellation (the same days as np.busday_count and
    # np.busday_offset with roll="forward", Monday-Friday, no holidays; tests/test_calendar.py).

    def _business_hours(self, hour: float) -> float:
        """Business hours from hour 0 to ``hour`` (weekends stand still)."""
        day_index = int(hour // 24)
        weeks, rest = divmod(day_index, 7)
        done = 5 * weeks + self._busy_before[rest]  # business days before this day
        busy = (self._start_weekday + day_index) % 7 < 5
        time_of_day = hour - day_index * 24.0 if busy else 0.0
        return done * 24.0 + time_of_day

    def _business_day(self, n: int) -> int:
        """Days from the start to business day ``n`` (0-based), counting from the first
        business day on or after the start."""
        w0 = self._start_weekday
        first = 0 if w0 < 5 else 7 - w0  # a weekend start rolls forward to Monday
        w1 = w0 if w0 < 5 else 0
        weeks, rest = divmod(n, 5)
        return first + 7 * weeks + rest + (2 if w1 + rest >= 5 else 0)

    def timestamp(self, hours: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Simulation hours -> numpy datetime64[ms] (NaN -> NaT).

        ``out`` (datetime64[ms], the shape of ``hours``) receives the result; it may be
        ``hours`` itself viewed as datetime64[ms], converting a column in place.
        """
        hours = np.asarray(hours, dtype=float)
        if out is None:
            out = np.empty(hours.shape, dtype="datetime64[ms]")
        flat_in, flat_out = hours.reshape(-1), out.reshape(-1)
        start = np.datetime64(self.start, "ms").astype(np.int64)
        # In slices, so that converting an event log of millions of rows needs no full-size
        # temporaries beyond the result. Each slice is read whole before it is written, which
        # is what makes ``out`` sharing the memory of ``hours`` safe.
        for lo in range(0, flat_in.size, _SLICE):
            h = flat_in[lo : lo + _SLICE]
            nan = np.isnan(h)
            ms = np.round(np.where(nan, 0.0, h) * 3_600_000.0).astype(np.int64)
            ms += start
            ms[nan] = np.iinfo(np.int64).min  # NaT
            flat_out[lo : lo + _SLICE] = ms.view("datetime64[ms]")
        return out
