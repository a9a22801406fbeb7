"""A service station: a FIFO queue in front of identical servers (the gateway's authorisation
slots, the fraud analysts, the customer-service agents).

It does what a ``simpy.Resource`` used request-hold-release does, with fewer clock events: a
request that finds a server free takes it at once instead of through a granted-request event,
and a release hands the server straight to the first in line instead of through a release
event. Those events carry nothing another process could see (the time does not move), and they
were a fifth of a run's clock events (benchmarks/bench_run.py).

A desk may work as several teams, each a station with its own queue, recorded by one monitor
(:func:`teams`): a market at ``scale`` k runs its staff as k teams, one per copy of the market,
so that scaling the market does not pool its queues (simcore.scenario.scale).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable

import simpy

from simcore.engine.monitor import QueueMonitor
from simcore.engine.proc import Proc


class Station:
    """``servers`` identical servers taking requests first come, first served.

    Args:
        env: The environment.
        monitor: Where waits, queue length and busy servers are recorded (shared by the
            stations of one desk's teams: it holds their totals).
        servers: Servers at this station; the monitor's when None (a desk of one team).

    Attributes:
        queue: The requests waiting for a server, as (hour requested, event fired when a server
            takes it); its length is the queue length.
        busy: Servers serving now.
    """

    __slots__ = ("env", "servers", "monitor", "queue", "busy")

    def __init__(self, env: simpy.Environment, monitor: QueueMonitor, servers: int | None = None):
        self.env = env
        self.servers = monitor.servers if servers is None else servers
        self.monitor = monitor
        self.queue: deque[tuple[float, simpy.Event]] = deque()
        self.busy = 0

    def request(self) -> simpy.Event | None:
        """Ask for a server now. Returns None when a server was free and is now taken, else
        an event to yield, which fires when a releasing server takes the request."""
        env, mon = self.env, self.monitor
        now = env.now
        if self.busy < self.servers:  # a free server means nobody is waiting
            self.busy += 1
            mon.took_free(now)
            return None
        turn = env.event()
        self.queue.append((now, turn))
        mon.shift(now, 1, 0)
        return turn

    def release(self) -> None:
        """Free a server: it takes the first request in line, if any (``busy`` stays), unless
        the station has fewer servers now than are busy (a shift ended: the server leaves)."""
        now, mon = self.env.now, self.monitor
        if self.queue and self.busy <= self.servers:
            requested_at, turn = self.queue.popleft()
            mon.handed_on(requested_at, now)
            turn.succeed()
        else:
            self.busy -= 1
            mon.shift(now, 0, -1)

    def set_servers(self, servers: int) -> None:
        """From now the station has ``servers`` servers (a staffing change): servers added take
        waiting requests at once; servers removed leave when they finish what they serve (no
        one is interrupted)."""
        self.servers = servers
        while self.busy < servers and self._take_next():
            pass

    def _take_next(self) -> bool:
        """A free server takes the first request in line; False if none waits."""
        if not self.queue:
            return False
        now, mon = self.env.now, self.monitor
        requested_at, turn = self.queue.popleft()
        self.busy += 1
        mon.waited(requested_at, now)
        turn.succeed()
        mon.shift(now, -1, 1)
        return True

    def serve(self, service_hours: float, on_start: Callable[[], object] | None = None) -> Proc[None]:
        """Process: queue for a server, hold it ``service_hours``, release it. ``on_start()``,
        if given, is called when a server takes the request. (The hot paths call
        :meth:`request` and :meth:`release` themselves, which saves a generator per visit.)"""
        turn = self.request()
        if turn is not None:
            yield turn
        if on_start is not None:
            on_start()
        yield self.env.timeout(service_hours)
        self.release()


class PriorityStation(Station):
    """A :class:`Station` whose queue is served lowest priority first (ties in the order they
    came), and whose waiting requests may be withdrawn (a time limit): the fraud review
    queue's disciplines (:mod:`simcore.policies.review_queue`).

    ``queue`` holds ``(priority, sequence, hour requested, event)``; a withdrawn request stays in
    it, marked, until it comes to the front (``len(queue)`` then overstates the line by those:
    :attr:`waiting` is the true count).
    """

    __slots__ = ("_seq", "_withdrawn", "waiting")

    def __init__(self, env: simpy.Environment, monitor: QueueMonitor, servers: int | None = None):
        super().__init__(env, monitor, servers)
        self.queue: list[tuple[float, int, float, simpy.Event]] = []  # type: ignore[assignment]
        self._seq = 0
        self._withdrawn: set[int] = set()  # ids of the events withdrawn
        self.waiting = 0

    def request(self, priority: float = 0.0) -> simpy.Event | None:  # type: ignore[override]
        """Ask for a server now, at ``priority`` (lowest served first)."""
        env, mon = self.env, self.monitor
        now = env.now
        if self.busy < self.servers:
            self.busy += 1
            mon.took_free(now)
            return None
        turn = env.event()
        heapq.heappush(self.queue, (priority, self._seq, now, turn))
        self._seq += 1
        self.waiting += 1
        mon.shift(now, 1, 0)
        return turn

    def withdraw(self, turn: simpy.Event) -> None:
        """Take waiting request ``turn`` out of the line (it leaves unserved; its wait is not
        counted among the granted requests')."""
        self._withdrawn.add(id(turn))
        self.waiting -= 1
        self.monitor.shift(self.env.now, -1, 0)

    def release(self) -> None:
        """Free a server: it takes the lowest-priority request still waiting, if any (unless a
        shift ended: see :meth:`Station.release`)."""
        now, mon = self.env.now, self.monitor
        nxt = self._pop() if self.busy <= self.servers else None
        if nxt is None:
            self.busy -= 1
            mon.shift(now, 0, -1)
            return
        requested_at, turn = nxt
        mon.handed_on(requested_at, now)
        turn.succeed()

    def _pop(self) -> tuple[float, simpy.Event] | None:
        """The lowest-priority request still waiting, out of the line; None if none waits."""
        queue = self.queue
        while queue:
            _, _, requested_at, turn = heapq.heappop(queue)
            if id(turn) in self._withdrawn:
                self._withdrawn.discard(id(turn))
                continue
            self.waiting -= 1
            return requested_at, turn
        return None

    def _take_next(self) -> bool:
        """A free server takes the lowest-priority request still waiting; False if none."""
        nxt = self._pop()
        if nxt is None:
            return False
        now, mon = self.env.now, self.monitor
        requested_at, turn = nxt
        self.busy += 1
        mon.waited(requested_at, now)
        turn.succeed()
        mon.shift(now, -1, 1)
        return True


def teams(env: simpy.Environment, monitor: QueueMonitor, count: int, priority: bool = False) -> list[Station]:
    """The monitor's servers split into ``count`` teams (as evenly as they go, the first teams
    taking the remainder), each its own station, as a list indexed by team: with fewer servers
    than teams, teams share stations (team i works at station i mod servers).

    Args:
        env: The environment.
        monitor: The desk's monitor: its ``servers`` are the desk's, its statistics the totals.
        count: Teams wanted (>= 1).
        priority: Build :class:`PriorityStation` teams.
    """
    kind = PriorityStation if priority else Station
    stations = [kind(env, monitor, size) for size in team_sizes(monitor.servers, count)]
    return [stations[i % len(stations)] for i in range(max(count, 1))]


def team_sizes(servers: int, count: int) -> list[int]:
    """Servers per team when ``servers`` are split into ``count`` teams as evenly as they go
    (the first teams take the remainder; no more teams than servers, at least one)."""
    n = max(1, min(count, servers))
    size, extra = divmod(servers, n)
    return [size + (i < extra) for i in range(n)]
