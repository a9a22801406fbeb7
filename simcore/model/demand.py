"""Demand: the order arrival rate over time (the arrival process is :mod:`simcore.model.arrivals`).

Free of SimPy, so the admission check can integrate the rate before any run.
"""

from __future__ import annotations

import math

from simcore.engine.calendar import Calendar
from simcore.scenario.schema import ArrivalProfile, Scenario


class ArrivalRate:
    """The order arrival rate (orders/hour) as a function of simulation time.

    ``flat`` is a constant ``orders_per_hour``. A shaped profile multiplies it by an hour-of-day
    factor, a weekday factor (each rescaled to mean 1) and the multiplier of any promotion window
    covering that hour. ``max_rate`` bounds the rate for thinning.

    Args:
        scn: The scenario (``buyers.orders_per_hour`` and ``buyers.arrival_profile``).
        calendar: The run's calendar (weekdays).
    """

    def __init__(self, scn: Scenario, calendar: Calendar):
        base = scn.buyers.orders_per_hour
        profile = scn.buyers.arrival_profile
        self.base = base
        self.calendar = calendar
        self.promotions: list[tuple[float, float, float]] = []
        if isinstance(profile, ArrivalProfile):
            self.flat = False
            self.hour_factor = _normalised(profile.hour_of_day, 24)
            self.weekday_factor = _normalised(profile.weekday, 7)
            self.promotions = [
                (
                    (p.start - scn.start).days * 24.0,
                    ((p.start - scn.start).days + p.days) * 24.0,
                    p.multiplier,
                )
                for p in profile.promotions
            ]
        else:
            self.flat = True
            self.hour_factor = [1.0] * 24
            self.weekday_factor = [1.0] * 7
        # Overlapping windows multiply, so the peak is at some window's start; thinning needs a
        # true upper bound, or arrivals above it would be lost.
        peaks = [1.0]
        for lo, _, _ in self.promotions:
            peaks.append(math.prod(m for a, b, m in self.promotions if a <= lo < b))
        self.max_rate = base * max(self.hour_factor) * max(self.weekday_factor) * max(peaks)
        self._start_weekday = calendar.weekday(0.0)
        self._week = [[base * h * w for h in self.hour_factor] for w in self.weekday_factor]

    def __call__(self, hour: float) -> float:
        """Orders per hour at simulation hour ``hour``."""
        return self.held(hour)[0]

    def held(self, hour: float) -> tuple[float, float]:
        """The rate at simulation hour ``hour`` (orders/hour) and the hour until which it holds:
        the next whole hour, or a promotion window's edge before it (a window may end within an
        hour: ``days`` need not be whole). The arrival process asks once per stretch, not once
        per candidate."""
        if self.flat:
            return self.base, math.inf
        until = float(math.floor(hour) + 1)
        # The product base * hour factor * weekday factor, looked up by hour of the week.
        rate = self._week[(self._start_weekday + int(hour // 24)) % 7][int(hour % 24)]
        for lo, hi, mult in self.promotions:
            if lo <= hour < hi:
                rate *= mult
            if hour < lo < until:
                until = lo
            if hour < hi < until:
                until = hi
        return rate, until


def _normalised(values: list[float] | None, n: int) -> list[float]:
    if values is None:
        return [1.0] * n
    mean = sum(values) / n
    return [v / mean for v in values]
