"""Staffing over time: a desk's headcount set on the hour from its staffing policy
(:mod:`simcore.policies.staffing`).

A desk (the gateway's servers, the fraud analysts, the customer-service agents) works as one or
more teams, each a :class:`simcore.engine.station.Station`, recorded by one monitor
(:func:`simcore.engine.station.teams`). When the policy changes the desk's headcount, the teams
share it as the key's count is shared (as evenly as it goes, the first teams taking the
remainder; a team may be left with nobody, and its queue waits), and the monitor integrates the
servers over time, so a desk's utilisation is busy time over staffed time.
"""

from __future__ import annotations

import datetime as dt

import simpy

from simcore.engine.monitor import QueueMonitor
from simcore.engine.proc import Proc
from simcore.engine.station import Station
from simcore.errors import ScenarioError
from simcore.policies.staffing import Staffing, staffing
from simcore.scenario.schema.policy import PolicySpec


def shifts(
    env: simpy.Environment,
    start: dt.date,
    stations: list[Station],
    monitor: QueueMonitor,
    policy: Staffing,
    base: int,
    key: str,
) -> Proc[None]:
    """Process: every hour on the hour, from hour 0 (midnight of ``start``), the desk's
    headcount from ``policy``, shared among its distinct ``stations`` (a list per team, which
    may name one station more than once) and told to ``monitor``.

    Args:
        env: The environment (hours).
        start: The calendar date of hour 0.
        stations: The desk's teams (:func:`simcore.engine.station.teams`).
        monitor: The desk's monitor.
        policy: The desk's staffing policy.
        base: The desk's count key at the run's scale (what ``policy`` is told).
        key: The staffing key, for the error a bad answer gets.

    Raises:
        ScenarioError: the policy answered something other than a whole number >= 0.
    """
    distinct = list(dict.fromkeys(stations))  # each station once, in team order
    current = monitor.servers
    hour = 0
    while True:
        day = start + dt.timedelta(days=hour // 24)
        n = policy.servers(day, hour % 24, base)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ScenarioError(
                f"{key}: the policy's servers({day.isoformat()}, {hour % 24}, {base}) returned "
                f"{n!r}; it must return a whole number >= 0"
            )
        if n != current:
            monitor.resize(env.now, n)
            size, extra = divmod(n, len(distinct))
            for i, station in enumerate(distinct):
                station.set_servers(size + (i < extra))
            current = n
        hour += 1
        yield env.timeout(hour - env.now)


def start_staffing(
    env: simpy.Environment,
    start: dt.date,
    scale: float,
    desks: list[tuple[str, list[Station], PolicySpec, int]],
) -> None:
    """Start the shifts of each desk whose staffing is not constant.

    Args:
        env: The environment.
        start: The calendar date of hour 0.
        scale: The run's market scale (a schedule's headcounts are at scale 1).
        desks: Per desk: its staffing key, its teams, the key's policy spec and the desk's
            count key at the run's scale.
    """
    for key, stations, spec, base in desks:
        policy = staffing(spec, scale)
        if getattr(policy, "constant", False):
            continue  # the count key at every hour: nothing to ask, nothing to change
        env.process(shifts(env, start, stations, stations[0].monitor, policy, base, key))
