"""Clock helpers: waiting until an exact hour, and periodic rounds over many actors.

SimPy only offers relative waits (``env.timeout(delay)``), and the clock adds the delay in
floating point. Processes that keep their own schedule of hours use :func:`delay_to` so that
the clock lands on exactly the hour they computed, as it would had they waited step by step.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence

import simpy


def delay_to(now: float, t: float) -> float:
    """The delay that brings the clock from ``now`` to exactly ``t`` (>= ``now``):
    ``now + (t - now)`` can miss ``t`` by an ulp."""
    d = t - now
    while now + d < t:
        d = math.nextafter(d, math.inf)
    while now + d > t:
        d = math.nextafter(d, -math.inf)
    return d


def rounds(env: simpy.Environment, phases: Sequence[float], interval_h: float, act: Callable[[int], None]):
    """Process: ``act(i)`` at hour ``phases[i]`` and every ``interval_h`` hours after, for every i.

    The same hours, in the same order, as one process per i that waits its phase and then the
    interval over and over; but one process, not tens of thousands (one per seller), each with
    its frames.
    """
    due = [(float(phase), i) for i, phase in enumerate(phases)]
    heapq.heapify(due)
    while due:
        t, i = due[0]
        if t > env.now:
            yield env.timeout(delay_to(env.now, t))
        act(i)
        heapq.heapreplace(due, (t + interval_h, i))
