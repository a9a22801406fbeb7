"""Columnar recording of orders, events, queues and daily snapshots.

Everything is appended to typed ``array.array`` columns (8 bytes or less per value) with integer
codes for categories, and turned into DataFrames once, by :mod:`simcore.results.collect`. A million-order
run costs tens of bytes per order per column, not a dict per event.
"""

from __future__ import annotations

import math
from array import array

import numpy as np

NAN = math.nan

#: Order columns and their array typecodes ('d' float64 hours, 'q' int64, 'b' int8 code).
ORDER_COLUMNS: dict[str, str] = {
    "buyer_id": "q",
    "seller_id": "q",
    "sku_id": "q",
    "destination": "b",
    "quantity": "q",
    "amount": "d",
    "placed_at": "d",
    "is_fraud": "b",
    "stolen_card": "b",
    "buyer_verified": "b",
    "payment_method": "b",
    "payment_attempts": "b",
    "payment_decline_cause": "b",
    "risk_score": "d",
    "paid_at": "d",
    "cleared_at": "d",
    "cancel_requested_at": "d",
    "shipped_at": "d",
    "delivered_at": "d",
    "completed_at": "d",
    "status": "b",
    "cancel_initiator": "b",
    "cancel_reason": "b",
    "true_reason": "b",
    "cancelled_at": "d",
    "refund_amount": "d",
    "refund_method": "b",
    "refund_delay_bdays": "d",
    "refunded_at": "d",
    "dispute_reason": "b",
    "dispute_opened_at": "d",
    "dispute_escalated_at": "d",
    "dispute_resolved_at": "d",
    "dispute_outcome": "b",
    "dispute_stage": "b",
    "dispute_claim_amount": "d",
    "dispute_refund_amount": "d",
    "dispute_refund_method": "b",
    "dispute_refund_delay_bdays": "d",
    "dispute_refunded_at": "d",
}


class QueueMonitor:
    """Time-weighted queue length, busy servers and per-request waits of one service station.

    Statistics count from ``t0`` (the warm-up end) so the initial empty state does not bias them.
    :class:`simcore.engine.station.Station` records every request, grant and release here.
    """

    __slots__ = ("servers", "t0", "_last", "_q", "_busy", "area_q", "area_busy", "req_t", "wait")

    def __init__(self, servers: int, t0: float):
        self.servers = servers
        self.t0 = t0
        self._last = 0.0
        self._q = 0
        self._busy = 0
        self.area_q = 0.0
        self.area_busy = 0.0
        self.req_t = array("d")
        self.wait = array("d")

    def update(self, now: float, queue_len: int, busy: int) -> None:
        start = self._last if self._last > self.t0 else self.t0
        if now > start:
            self.area_q += self._q * (now - start)
            self.area_busy += self._busy * (now - start)
        self._last = now
        self._q = queue_len
        self._busy = busy

    def waited(self, requested_at: float, now: float) -> None:
        self.req_t.append(requested_at)
        self.wait.append(now - requested_at)

    @property
    def queue_len(self) -> int:
        return self._q

    def summary(self, t_end: float) -> dict[str, float]:
        """Mean/p90 wait (hours), time-average queue length and utilisation over [t0, t_end]."""
        self.update(t_end, self._q, self._busy)
        req_t = np.frombuffer(self.req_t, dtype=float)
        wait = np.frombuffer(self.wait, dtype=float)[req_t >= self.t0]
        span = max(t_end - self.t0, 1e-12)
        return {
            "mean_wait_hours": float(wait.mean()) if wait.size else 0.0,
            "p90_wait_hours": float(np.quantile(wait, 0.9)) if wait.size else 0.0,
            "mean_queue_length": self.area_q / span,
            "utilization": self.area_busy / (self.servers * span),
            "requests": int(wait.size),
        }


#: Order columns known at placement, in :meth:`Recorder.new_order`'s argument order.
PLACEMENT_COLUMNS = (
    "buyer_id",
    "seller_id",
    "sku_id",
    "destination",
    "quantity",
    "amount",
    "placed_at",
    "is_fraud",
    "stolen_card",
    "buyer_verified",
    "payment_method",
)
#: Order rows added at a time: columns grow by a block of blanks, so that placing an order sets
#: its known values in place instead of appending to all 40 columns.
_ROWS = 8192


class Recorder:
    """Append-only columns for one run.

    ``orders`` maps each :data:`ORDER_COLUMNS` name to its column; the first ``n_orders`` rows
    are the orders placed (the rest are blanks not yet used).
    """

    def __init__(self, warmup_hours: float):
        self.orders = {name: array(code) for name, code in ORDER_COLUMNS.items()}
        self.n_orders = 0
        self._blank = {code: array(code, [NAN if code == "d" else 0]) * _ROWS for code in "dqb"}
        self._placement = tuple(self.orders[name] for name in PLACEMENT_COLUMNS)
        self.ev_time = array("d")
        # Order ids as int32 (4 bytes of a row's 14; widened when collected): the event log is
        # the largest record of a run, and simcore.experiments.admission refuses runs anywhere near 2**31 orders.
        self.ev_order = array("i")
        self.ev_activity = array("b")
        self.ev_actor = array("b")
        self.daily: dict[str, array] = {}
        self.lost_at = array("d")  # hours of arrivals that found nothing in stock
        self.forgone_at = array("d")  # hours of arrivals whose buyer had churned or lost trust
        self.queues: dict[str, QueueMonitor] = {}
        self.warmup_hours = warmup_hours
        # True once simcore.results.collect has made the order columns the frame's (timestamps in place).
        self.collected = False

    def queue(self, name: str, servers: int) -> QueueMonitor:
        mon = QueueMonitor(servers, self.warmup_hours)
        self.queues[name] = mon
        return mon

    def new_order(
        self,
        buyer: int,
        seller: int,
        sku: int,
        destination: int,
        quantity: int,
        amount: float,
        placed_at: float,
        is_fraud: bool,
        stolen_card: bool,
        buyer_verified: bool,
        payment_method: int,
    ) -> int:
        """Add one order row with the :data:`PLACEMENT_COLUMNS` values (USD, hours, codes); its
        other timestamps start as NaN and codes as 0. Returns the order id (the row)."""
        oid = self.n_orders
        c = self._placement
        if oid == len(c[0]):
            for col in self.orders.values():
                col.extend(self._blank[col.typecode])
        self.n_orders = oid + 1
        c[0][oid] = buyer
        c[1][oid] = seller
        c[2][oid] = sku
        c[3][oid] = destination
        c[4][oid] = quantity
        c[5][oid] = amount
        c[6][oid] = placed_at
        c[7][oid] = is_fraud
        c[8][oid] = stolen_card
        c[9][oid] = buyer_verified
        c[10][oid] = payment_method
        return oid

    def set(self, column: str, oid: int, value: float) -> None:
        self.orders[column][oid] = value

    def event(self, t: float, oid: int, activity: int, actor: int) -> None:
        self.ev_time.append(t)
        self.ev_order.append(oid)
        self.ev_activity.append(activity)
        self.ev_actor.append(actor)

    def snapshot(self, **values: float) -> None:
        """One row of the daily time series (called once per simulated day).

        Columns are typed arrays ('q' for a value that is an int on the first day, else 'd'):
        a list would keep each day's numbers as objects, which outlive the run among the
        orders freed at its end and keep the allocator from returning their memory."""
        daily = self.daily
        for k, v in values.items():
            column = daily.get(k)
            if column is None:
                column = daily[k] = array("q" if isinstance(v, int) else "d")
            column.append(v)
