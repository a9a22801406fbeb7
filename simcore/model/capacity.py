"""Daily capacity and the holiday calendar: how many parcels a seller can hand over, and a
carrier pick up, in a day, and the days sellers do not work.

A seller hands over at most ``sellers.daily_capacity`` orders a day; each destination's carrier
picks up at most its ``pickup_capacity_factor`` times the destination's mean parcels a day.
Holidays (``sellers.holidays``) close the sellers: no first looks and no handovers on their days.
A :class:`DailySlots` books handovers first come, first served: a parcel ready on a day takes
a slot that day if the day is open and has room, else on the first later day that does. Each
entity keeps a ledger of its booked days (a parcel is booked when its order is picked, for the
day its handling ends; days that have passed are forgotten).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

DAY = 24.0


class DailySlots:
    """Handover slots per entity (seller or destination), ``capacity[e]`` a day, none on the
    ``closed`` days (day indices since the run's start).

    Args:
        capacity: Slots a day per entity (``math.inf``: no limit, only the closed days).
        closed: Day indices on which nothing is handed over.
    """

    __slots__ = ("capacity", "closed", "booked", "_forget_before")

    def __init__(self, capacity: Sequence[float], closed: frozenset[int] = frozenset()):
        self.capacity = list(capacity)
        self.closed = closed
        # Per entity, slots booked by day; only entities with a finite capacity keep one.
        self.booked: list[dict[int, int]] = [{} for _ in self.capacity]
        self._forget_before = [0] * len(self.capacity)

    def slot(self, e: int, t: float) -> float:
        """The hour at or after ``t`` when entity ``e`` could hand over one more parcel (not
        booked): ``t`` if its day is open and has room, else the same time of day on the first
        later day that is open and has room."""
        day = math.floor(t / DAY)
        at, cap, booked, closed = day, self.capacity[e], self.booked[e], self.closed
        while at in closed or booked.get(at, 0) >= cap:
            at += 1
        return t if at == day else at * DAY + (t - day * DAY)

    def book(self, e: int, hour: float, now: float) -> None:
        """Book the slot :meth:`slot` returned (``hour``) for entity ``e`` at hour ``now``."""
        if math.isinf(self.capacity[e]):
            return  # no ledger: only the closed days limit it
        booked = self.booked[e]
        day = math.floor(hour / DAY)
        booked[day] = booked.get(day, 0) + 1
        today = math.floor(now / DAY)
        if today > self._forget_before[e] + 7 and len(booked) > 16:  # days gone by: forget them
            for d in [d for d in booked if d < today]:
                del booked[d]
            self._forget_before[e] = today


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
