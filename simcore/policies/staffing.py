"""Staffing: how many servers a desk has at each hour (the fraud analysts, the customer-service
agents, the payment gateway's authorisation slots).

Interface (:class:`Staffing`): ``servers(day, hour, base)`` returns the desk's headcount
(an int >= 0) for the clock hour starting at ``hour`` (0-23) of calendar date ``day``;
``base`` is the desk's key (``platform.fraud.analysts``, ``platform.customer_service.agents``,
``payment.gateway.servers``) at the run's scale. The desk (:mod:`simcore.model.staffing`) asks
once an hour, on the hour; a change takes effect then. Servers added take waiting requests at
once; servers removed finish what they are serving first (no one is interrupted). Zero servers
is allowed: the queue waits for the next shift.

A policy with ``constant = True`` is not asked at all: the desk keeps ``base`` (the default,
which leaves a run exactly as it was before staffing could vary, at no cost).

Built-in kinds: ``constant`` (the key's count at every hour: the default) and ``schedule``
(params ``by_hour``, 24 headcounts by hour of day, and ``by_date``, headcounts for single dates
as one number for the whole day or 24 by hour; hours neither names keep the key's count). A
schedule's headcounts are the scenario's, at scale 1: at ``scale`` k each is multiplied by k
(rounded half up, as :mod:`simcore.scenario.scale` scales the keys; 0 stays 0). A researcher's
class answers at the run's scale (``base`` is).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from simcore.policies.loading import build
from simcore.scenario.scale import count_at_scale
from simcore.scenario.schema.policy import PolicySpec


class Staffing(Protocol):
    """What a staffing policy provides."""

    def servers(self, day: dt.date, hour: int, base: int) -> int:
        """The desk's headcount from ``hour`` (0-23) of ``day`` for an hour (``base``: the key's)."""
        ...


class Constant:
    """The key's count at every hour (``constant``, the default): never asked."""

    constant = True

    def servers(self, day: dt.date, hour: int, base: int) -> int:
        return base


class Schedule:
    """Headcounts by hour of day (``by_hour``) and by date (``by_date``), the key's count at
    hours neither names; both at scale 1, multiplied by ``scale``.

    Args:
        by_hour: 24 headcounts, hour 0 first, or None (the key's count).
        by_date: ISO date -> a headcount for the whole day or 24 by hour.
        scale: The run's market scale (:mod:`simcore.scenario.scale`).
    """

    constant = False

    def __init__(
        self,
        by_hour: Sequence[int] | None = None,
        by_date: Mapping[str, int | Sequence[int]] | None = None,
        scale: float = 1.0,
    ):
        self.by_hour = None if by_hour is None else [_at_scale(_count(n), scale) for n in _day(by_hour)]
        self.by_date: dict[dt.date, list[int]] = {}
        for day, counts in (by_date or {}).items():
            hours = [counts] * 24 if isinstance(counts, int) else counts
            self.by_date[dt.date.fromisoformat(str(day))] = [_at_scale(_count(n), scale) for n in _day(hours)]

    def servers(self, day: dt.date, hour: int, base: int) -> int:
        counts = self.by_date.get(day, self.by_hour)
        return base if counts is None else counts[hour]


def _day(hours: Sequence[int]) -> Sequence[int]:
    if isinstance(hours, str | bytes) or len(hours) != 24:
        raise ValueError(f"a day's headcounts are 24 numbers, hour 0 first (got {hours!r})")
    return hours


def _count(n: object) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"a headcount is a whole number >= 0 (got {n!r})")
    return n


def _at_scale(n: int, k: float) -> int:
    """``n`` at scale ``k``, as the staff keys are scaled, except that nobody stays nobody."""
    return 0 if n == 0 else count_at_scale(n, k)


def staffing(spec: PolicySpec, scale: float = 1.0) -> Staffing:
    """The policy a desk's ``staffing`` key names, at the run's ``scale``."""

    def schedule(by_hour: Sequence[int] | None = None, by_date: Mapping[str, Any] | None = None) -> Schedule:
        return Schedule(by_hour, by_date, scale)

    builtins: dict[str, Callable[..., Staffing]] = {"constant": Constant, "schedule": schedule}
    policy: Staffing = build(spec, builtins)
    return policy
