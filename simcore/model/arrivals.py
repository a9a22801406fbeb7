"""Arrivals: the non-homogeneous Poisson process of order arrivals, by thinning."""

from __future__ import annotations

from collections.abc import Callable

import simpy

from simcore.engine.clock import wait_until
from simcore.engine.proc import Proc
from simcore.engine.samplers import Sampler
from simcore.model.demand import ArrivalRate


def arrivals(
    env: simpy.Environment,
    rate: ArrivalRate,
    gap: Sampler,
    thin: Sampler,
    until_h: float,
    place: Callable[[], object],
) -> Proc[None]:
    """Process: non-homogeneous Poisson arrivals by thinning (Lewis & Shedler), calling
    ``place()`` at each arrival until hour ``until_h``: candidate gaps at the profile's peak
    rate, each kept with probability rate(t) / peak. ``gap`` draws Exp(1), ``thin`` U[0, 1)."""
    peak = rate.max_rate
    flat = rate.flat
    t = env.now
    # Candidates come in time order, so the rate is asked for only when one passes the hour
    # until which the last answer holds (~2 candidates an arrival, one call an hour).
    rate_now, holds_until = 0.0, -1.0
    while True:
        # Candidate hours accumulate as the clock would add each gap; candidates that thinning
        # rejects change nothing, so they are walked past without a clock event.
        t += gap() / peak
        if t >= until_h:
            return
        if not flat:
            if t >= holds_until:
                rate_now, holds_until = rate.held(t)
            if thin() * peak >= rate_now:
                continue
        now = env.now
        if now + (t - now) == t:  # one delay lands on t (wait_until, without its generator)
            yield env.timeout(t - now)
        else:
            yield from wait_until(env, t)
        place()
