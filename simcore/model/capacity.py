"""Daily capacity and the holiday calendar: how many parcels a seller can hand over, and a
carrier pick up, in a day, and the days sellers do not work.

A seller hands over at most ``sellers.daily_capacity`` orders a day; each destination's carrier
picks up at most its ``pickup_capacity_factor`` times the destination's mean parcels a day.
Holidays (``sellers.holidays``) close the sellers: no first looks and no handovers on their days.
A :class:`DailySlots` books handovers first come, first served: a parcel ready on a day takes
a slot that day if the day is open and has room, else on the first later day that does (a
parcel is booked when its order is picked, for the day its handling ends; days that have passed
are forgotten).
"""

from __future__ import annotations

import datetime as dt
import math
from array import array
from collections.abc import Sequence

import numpy as np

DAY = 24.0


class DailySlots:
    """Handover slots per entity (seller or destination), ``capacity[e]`` a day, none on the
    ``closed`` days (day indices since the run's start).

    The slots booked are counted in a ring of ``horizon_days`` days per entity (one int16 a day:
    2 bytes x days x entities, where a dict per seller cost ~600 bytes each at a million
    orders), from the current day on: a parcel is never booked further ahead than its ship-by
    deadline, so a day beyond the ring is answered with an hour past any deadline.

    Args:
        capacity: Slots a day per entity (``math.inf``: no limit, only the closed days).
        closed: Day indices on which nothing is handed over.
        horizon_days: Days ahead a booking can reach (the ship-by days and extensions, and one).
    """

    __slots__ = ("capacity", "closed", "booked", "horizon", "_today", "_tomorrow", "_limited")

    def __init__(
        self, capacity: Sequence[float], closed: frozenset[int] = frozenset(), horizon_days: int = 64
    ):
        self.capacity = list(capacity)
        self.closed = closed
        self.horizon = max(2, int(horizon_days))
        self._limited = [not math.isinf(c) for c in self.capacity]
        # Slots booked, entity by entity, each a ring of days (a limit past 32,767 a day never
        # binds): one flat typed array, read an element at a time on every handover (a numpy
        # element costs ~100 ns where this costs ~30), cleared a day at a time through a view.
        self.booked = array("h", bytes(2 * len(self.capacity) * self.horizon))
        self._today = 0
        self._tomorrow = 1  # _today + 1: slot() calls _advance only once now / DAY reaches it

    def _advance(self, now: float) -> None:
        """Forget the days before ``now``'s: their columns come round again as later days."""
        today = math.floor(now / DAY)
        if today > self._today:
            ring = np.frombuffer(self.booked, np.int16).reshape(-1, self.horizon)
            for d in range(self._today, min(today, self._today + self.horizon)):
                ring[:, d % self.horizon] = 0
            del ring  # the view pins the array's buffer
            self._today = today
            self._tomorrow = today + 1

    def slot(self, e: int, t: float, now: float) -> float:
        """The hour at or after ``t`` (>= ``now``, the clock's hour) when entity ``e`` could hand
        over one more parcel (not booked): ``t`` if its day is open and has room, else the same
        time of day on the first later day that is open and has room (past the ring: inf)."""
        if now / DAY >= self._tomorrow:  # floor(now / DAY) > _today, without two calls a handover
            self._advance(now)
        day = math.floor(t / DAY)
        at, closed = day, self.closed
        if self._limited[e]:
            cap, booked, ring, last = self.capacity[e], self.booked, self.horizon, self._today + self.horizon
            base = e * ring
            while at in closed or booked[base + at % ring] >= cap:
                at += 1
                if at >= last:
                    return math.inf
        else:
            while at in closed:
                at += 1
        return t if at == day else at * DAY + (t - day * DAY)

    def book(self, e: int, hour: float) -> None:
        """Book the slot :meth:`slot` has just returned (``hour``) for entity ``e`` (the ring is
        current: :meth:`slot` advanced it to the clock's day)."""
        if not self._limited[e]:
            return  # no count kept: only the closed days limit it
        ring = self.horizon
        self.booked[e * ring + math.floor(hour / DAY) % ring] += 1


def closed_days(holidays: Sequence[tuple[dt.date, float]], start: dt.date) -> frozenset[int]:
    """Day indices (since ``start``) covered by the ``(first day, days)`` holidays (a part day
    closes the whole day)."""
    out: set[int] = set()
    for first, days in holidays:
        d0 = (first - start).days
        out.update(range(d0, d0 + math.ceil(days)))
    return frozenset(out)


def reopened(t: float, closed: frozenset[int]) -> float:
    """``t`` if its day is open, else the start of the next open day."""
    day = math.floor(t / DAY)
    if day not in closed:
        return t
    while day in closed:
        day += 1
    return day * DAY


def extended(cleared: float, deadline: float, extensions: Sequence[tuple[float, float, float]]) -> float:
    """``deadline`` moved later by each ``(start, end, days)`` holiday extension (hours, hours,
    days) whose holiday overlaps the ship-by window from ``cleared`` to the deadline (the
    platform extends ship-by deadlines over holidays)."""
    moved = deadline
    for start, end, days in extensions:
        if cleared < end and deadline > start:
            moved += days * DAY
    return moved
