"""What every part of one run shares: the run context.

Desks are built from the context (``RefundDesk(ctx)``) and take their own named random streams
from it, so a desk's constructor names the streams it uses, in one place, and two desks can
never be handed each other's samplers by position.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from simcore.engine.calendar import Calendar
from simcore.engine.environment import Environment
from simcore.engine.samplers import Sampler, block_sampler
from simcore.engine.streams import Streams
from simcore.model.recorder import Recorder
from simcore.scenario.distributions import DistSpec, TimeUnit
from simcore.scenario.schema import Scenario


@dataclass(frozen=True, slots=True)
class RunContext:
    """The environment, scenario, random streams, recorder and calendar of one run.

    Attributes:
        env: The SimPy environment (hours).
        scn: The validated scenario.
        streams: The run's named random streams.
        rec: The run's recorder.
        calendar: Hours to dates and business days, from ``scn.start``.
    """

    env: simpy.Environment
    scn: Scenario
    streams: Streams
    rec: Recorder
    calendar: Calendar

    @classmethod
    def fresh(cls, scn: Scenario, seed: int, replication: int = 0) -> RunContext:
        """A new run's context: a new environment at hour 0, the streams of ``seed`` and
        ``replication``, an empty recorder (queue statistics from the warm-up's end) and the
        scenario's calendar."""
        return cls(
            env=Environment(),
            scn=scn,
            streams=Streams(seed, replication),
            rec=Recorder(warmup_hours=scn.warmup_days * 24.0),
            calendar=Calendar(scn.start),
        )

    def generator(self, stream: str) -> np.random.Generator:
        """The generator of stream ``stream`` (each name may be taken once per run)."""
        return self.streams.generator(stream)

    def uniform(self, stream: str) -> Sampler:
        """U[0, 1) draws from stream ``stream``, for decisions (``u() < p``)."""
        return self.streams.uniform(stream)

    def sampler(self, spec: DistSpec, stream: str, unit: TimeUnit = "hours") -> Sampler:
        """Draws of ``spec`` from stream ``stream``, converted to ``unit`` (hours by default)."""
        return spec_sampler(spec, self.generator(stream), unit)


def spec_sampler(spec: DistSpec, rng: np.random.Generator, unit: TimeUnit = "hours") -> Sampler:
    """Draws of ``spec`` from ``rng`` in blocks, converted to ``unit`` (hours by default)."""
    factor = spec.factor_to(unit)
    if factor == 1.0:  # the same values as multiplying by 1.0, without the array pass
        return block_sampler(lambda n: spec.draw(rng, n))
    return block_sampler(lambda n: spec.draw(rng, n) * factor)
