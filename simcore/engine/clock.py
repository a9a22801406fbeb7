"""Clock helpers: waiting until an exact hour, and periodic rounds over many actors.

SimPy only offers relative waits (``env.timeout(delay)``), and the clock adds the delay in
floating point. Processes that keep their own schedule of hours (the arrivals walking past
thinned candidates, the sellers' rounds) wait with :func:`wait_until`, so that the clock lands
on exactly the hour they computed, as it would had they waited step by step.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

import simpy

from simcore.engine.proc import Proc


def wait_until(env: simpy.Environment, t: float) -> Proc[None]:
    """Process steps: wait until exactly hour ``t`` (>= ``env.now``).

    From an hour ``m`` in [t/2, t] the delay ``t - m`` is exact (Sterbenz's lemma) and the
    clock lands on ``t``; from below ``t/2`` some hours cannot be reached by any single delay
    (every sum is a rounding tie). Then the clock first doubles its hour, each doubling exact
    too, until it is past ``t/2``: an extra step or two, needed only close to the start of a
    run (tests/test_mechanics.py).
    """
    now = env.now
    while now + (t - now) != t:  # never from hour 0
        yield env.timeout(now)
        now = env.now
    yield env.timeout(t - now)


def rounds(
    env: simpy.Environment, phases: Sequence[float], interval_h: float, act: Callable[[int], None]
) -> Proc[None]:
    """Process: ``act(i)`` at hour ``phases[i]`` and every ``interval_h`` hours after, for every i.

    The same hours, in the same order, as one process per i that waits its phase and then the
    interval over and over (only actors due at the very same hour go by index rather than by
    scheduling order); but one process, not tens of thousands (one per seller), each with its
    frames.
    """
    due = [(float(phase), i) for i, phase in enumerate(phases)]
    heapq.heapify(due)
    while due:
        t, i = due[0]
        if t > env.now:
            yield from wait_until(env, t)
        act(i)
        heapq.heapreplace(due, (t + interval_h, i))
