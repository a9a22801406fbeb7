"""A service station: a FIFO queue in front of identical servers (the gateway's authorisation
slots, the fraud analysts, the customer-service agents).

It does what a ``simpy.Resource`` used request-hold-release does, with fewer clock events: a
request that finds a server free takes it at once instead of through a granted-request event,
and a release hands the server straight to the first in line instead of through a release
event. Those events carry nothing another process could see (the time does not move), and they
were a fifth of a run's clock events (benchmarks/bench_run.py).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import simpy

from simcore.recorder import QueueMonitor


class Station:
    """``servers`` identical servers taking requests first come, first served.

    Args:
        env: The environment.
        monitor: Where waits, queue length and busy servers are recorded.

    Attributes:
        queue: The requests waiting for a server (its length is the queue length).
        busy: Servers serving now.
    """

    __slots__ = ("env", "servers", "monitor", "queue", "busy")

    def __init__(self, env: simpy.Environment, monitor: QueueMonitor):
        self.env = env
        self.servers = monitor.servers
        self.monitor = monitor
        self.queue: deque[simpy.Event] = deque()
        self.busy = 0

    def serve(self, service_hours: float, on_start: Callable[[], object] | None = None):
        """Process: queue for a server, hold it ``service_hours``, release it, recording the
        wait and every change of queue length and busy servers. ``on_start()``, if given, is
        called when a server takes the request."""
        env, mon = self.env, self.monitor
        t_req = env.now
        if self.busy < self.servers:  # a free server means nobody is waiting
            self.busy += 1
            mon.update(t_req, 0, self.busy)
            mon.waited(t_req, t_req)
        else:
            turn = env.event()
            self.queue.append(turn)
            mon.update(t_req, len(self.queue), self.busy)
            yield turn  # a releasing server passes itself on: ``busy`` stays as it is
            mon.waited(t_req, env.now)
        if on_start is not None:
            on_start()
        yield env.timeout(service_hours)
        if self.queue:
            self.queue.popleft().succeed()
        else:
            self.busy -= 1
        mon.update(env.now, len(self.queue), self.busy)
