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
        "_staffed",
        "_staffed_since",
        "_resized",
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
        #: When closed: (hour, queue area, busy area, requests granted, queue length, server
        #: area), else None.
        self._closed: tuple[float, float, float, int, int, float] | None = None
        # Server-hours from t0 to _staffed_since (staffing changes: servers x time, summed).
        self._staffed = 0.0
        self._staffed_since = t0
        self._resized = False

    def resize(self, now: float, servers: int) -> None:
        """From hour ``now`` the station has ``servers`` servers (a staffing change): the
        utilisation's denominator integrates the servers over time."""
        if now > self._staffed_since:
            self._staffed += self.servers * (now - self._staffed_since)
            self._staffed_since = now
        self.servers = servers
        self._resized = True

    def _server_hours(self, end: float) -> float:
        """Server-hours staffed from t0 to hour ``end``."""
        span = max(end - self.t0, 1e-12)
        if not self._resized:  # the constant's product, bit for bit as before staffing varied
            return self.servers * span
        return self._staffed + self.servers * max(end - self._staffed_since, 0.0)

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

    def took_free(self, now: float) -> None:
        """A request at hour ``now`` found a server free and took it: :meth:`shift` (one more
        busy) and :meth:`waited` (no wait) in one call, the one every uncontended request makes
        (most of a run's gateway requests)."""
        start = self._last if self._last > self.t0 else self.t0
        if now > start:
            self.area_q += self._q * (now - start)
            self.area_busy += self._busy * (now - start)
        self._last = now
        self._busy += 1
        self.req_t.append(now)
        self.wait.append(0.0)

    def handed_on(self, requested_at: float, now: float) -> None:
        """A server freed at hour ``now`` took the request waiting since ``requested_at``: its
        wait (:meth:`waited`) and one fewer in the queue (:meth:`shift`) in one call."""
        self.req_t.append(requested_at)
        self.wait.append(now - requested_at)
        start = self._last if self._last > self.t0 else self.t0
        if now > start:
            self.area_q += self._q * (now - start)
            self.area_busy += self._busy * (now - start)
        self._last = now
        self._q -= 1

    def waited(self, requested_at: float, now: float) -> None:
        """A request made at hour ``requested_at`` was granted at hour ``now``."""
        self.req_t.append(requested_at)
        self.wait.append(now - requested_at)

    @property
    def queue_len(self) -> int:
        """Requests waiting now (the station's queue length)."""
        return self._q

    def close(self, now: float) -> None:
        """End the statistics at hour ``now``: time after it, and requests granted after it, are
        not counted (as requests still waiting at the horizon are not)."""
        self.update(now, self._q, self._busy)
        self._closed = (now, self.area_q, self.area_busy, len(self.req_t), self._q, self._server_hours(now))

    @property
    def closed_at(self) -> float | None:
        """The hour the statistics were closed at, or None."""
        return None if self._closed is None else self._closed[0]

    def counted(self) -> tuple[np.ndarray, np.ndarray, int]:
        """(hour of each request, its wait) of the requests granted by the close (all granted so
        far if not closed; granted in time order, so a prefix), and the queue length then."""
        req_t = np.frombuffer(self.req_t, dtype=float)
        wait = np.frombuffer(self.wait, dtype=float)
        if self._closed is None:
            return req_t, wait, self._q
        n, queued = self._closed[3], self._closed[4]
        return req_t[:n], wait[:n], queued

    def summary(self, t_end: float) -> dict[str, float]:
        """Mean/p90 wait (hours) of the requests made from t0 and granted by the end, time-average
        queue length, utilisation (busy over staffed server-hours) and server-hours staffed
        from t0 to the end: the hour the monitor was closed at, else ``t_end``."""
        if self._closed is None:
            self.update(t_end, self._q, self._busy)
            end, area_q, area_busy = t_end, self.area_q, self.area_busy
            staffed = self._server_hours(t_end)
        else:
            end, area_q, area_busy = self._closed[:3]
            staffed = self._closed[5]
        req_t, waits, _ = self.counted()
        wait = waits[req_t >= self.t0]
        span = max(end - self.t0, 1e-12)
        return {
            "mean_wait_hours": float(wait.mean()) if wait.size else 0.0,
            "p90_wait_hours": float(np.quantile(wait, 0.9)) if wait.size else 0.0,
            "mean_queue_length": area_q / span,
            "utilization": area_busy / staffed if staffed > 0.0 else 0.0,
            "requests": int(wait.size),
            "server_hours": staffed,
        }
