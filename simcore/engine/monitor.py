"""Statistics of one service station: time-weighted queue length and busy servers, and the
wait of every request."""

from __future__ import annotations

from array import array

import numpy as np


class QueueMonitor:
    """Time-weighted queue length, busy servers and per-request waits of one service station.

    Statistics count from ``t0`` (the warm-up end) so the initial empty state does not bias them,
    and up to the hour :meth:`close` is called at (the KPI window's end; else the horizon), so
    they cover the hours whose orders the KPIs count. :class:`simcore.engine.station.Station`
    records every request, grant and release here.

    Args:
        servers: Servers at the station.
        t0: Hour from which the time averages and waits count.
    """

    __slots__ = (
        "servers",
        "t0",
        "_last",
        "_q",
        "_busy",
        "area_q",
        "area_busy",
        "req_t",
        "wait",
        "_closed",
    )

    def __init__(self, servers: int, t0: float):
        self.servers = servers
        self.t0 = t0
        self._last = 0.0
        self._q = 0
        self._busy = 0
        self.area_q = 0.0
        self.area_busy = 0.0
        self.req_t = array("d")  # hour of each request granted
        self.wait = array("d")  # its wait, hours
        #: (hour, area of the queue, area of the busy servers) when closed, else None.
        self._closed: tuple[float, float, float] | None = None

    def update(self, now: float, queue_len: int, busy: int) -> None:
        """The queue holds ``queue_len`` requests and ``busy`` servers serve from hour ``now``."""
        start = self._last if self._last > self.t0 else self.t0
        if now > start:
            self.area_q += self._q * (now - start)
            self.area_busy += self._busy * (now - start)
        self._last = now
        self._q = queue_len
        self._busy = busy

    def shift(self, now: float, queue_change: int, busy_change: int) -> None:
        """From hour ``now`` the queue holds ``queue_change`` more requests and ``busy_change``
        more servers serve (negative: fewer). Stations sharing one monitor (teams of one desk,
        :func:`simcore.engine.station.teams`) report their changes, so it holds the totals."""
        start = self._last if self._last > self.t0 else self.t0  # update()'s, inlined: hot path
        if now > start:
            self.area_q += self._q * (now - start)
            self.area_busy += self._busy * (now - start)
        self._last = now
        self._q += queue_change
        self._busy += busy_change

    def waited(self, requested_at: float, now: float) -> None:
        """A request made at hour ``requested_at`` was granted at hour ``now``."""
        self.req_t.append(requested_at)
        self.wait.append(now - requested_at)

    @property
    def queue_len(self) -> int:
        """Requests waiting now (the station's queue length)."""
        return self._q

    def close(self, now: float) -> None:
        """End the statistics at hour ``now``: later requests and time are not counted."""
        self.update(now, self._q, self._busy)
        self._closed = (now, self.area_q, self.area_busy)

    def summary(self, t_end: float) -> dict[str, float]:
        """Mean/p90 wait (hours) of the requests made in [t0, end), time-average queue length and
        utilisation over it; ``end`` is the hour the monitor was closed at, else ``t_end``."""
        if self._closed is None:
            self.update(t_end, self._q, self._busy)
            end, area_q, area_busy = t_end, self.area_q, self.area_busy
        else:
            end, area_q, area_busy = self._closed
        req_t = np.frombuffer(self.req_t, dtype=float)
        wait = np.frombuffer(self.wait, dtype=float)[(req_t >= self.t0) & (req_t < end)]
        span = max(end - self.t0, 1e-12)
        return {
            "mean_wait_hours": float(wait.mean()) if wait.size else 0.0,
            "p90_wait_hours": float(np.quantile(wait, 0.9)) if wait.size else 0.0,
            "mean_queue_length": area_q / span,
            "utilization": area_busy / (self.servers * span),
            "requests": int(wait.size),
        }
