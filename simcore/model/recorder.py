"""Columnar recording of orders, events, queues and daily snapshots.

Everything is appended to typed ``array.array`` columns (8 bytes or less per value) with integer
codes for categories, and turned into DataFrames once, by :mod:`simcore.results.collect`. A
million-order run costs tens of bytes per order per column, not a dict per event. The orders'
columns are those of :data:`simcore.model.columns.ORDER_COLUMNS`.
"""

from __future__ import annotations

from array import array
from typing import Any

from simcore.engine.columns import BlockColumns, Column, new_column
from simcore.engine.monitor import QueueMonitor
from simcore.model.columns import PLACEMENT, RECORDED, SPARSE
from simcore.model.vocabulary import QUEUES


class Recorder:
    """Append-only columns for one run.

    ``orders`` maps each recorded column's name to its typed array; the first ``n_orders`` rows
    are the orders placed (the rest are blanks not yet used). The event log is four columns
    (``ev_time`` hours, ``ev_order``, ``ev_activity`` and ``ev_actor`` codes).

    Args:
        warmup_hours: Hour from which the queue statistics count.
    """

    def __init__(self, warmup_hours: float):
        self._orders = BlockColumns(RECORDED, sparse=SPARSE)
        self.orders = self._orders.data
        self._placement: tuple[Column, ...] = tuple(self.orders[name] for name in PLACEMENT)
        self.ev_time = array("d")
        # Order ids as int32 (4 bytes of a row's 14; widened when collected): the event log is
        # the largest record of a run, and the admission check refuses runs near 2**31 orders.
        self.ev_order = array("i")
        self.ev_activity = new_column("b")
        self.ev_actor = new_column("b")
        self.daily: dict[str, array[Any]] = {}
        self.lost_at = array("d")  # hours of arrivals that found nothing in stock
        self.forgone_at = array("d")  # hours of arrivals whose buyer had churned or lost trust
        # Arrivals that did not become orders: arrival id, buyer and whether forgone (else a
        # lost sale), in arrival order, so that runs can be matched visit by visit.
        self.unplaced_arrival = array("i")
        self.unplaced_buyer = array("i")
        self.unplaced_forgone = new_column("b")
        self.queues: dict[str, QueueMonitor] = {}
        self.warmup_hours = warmup_hours
        # True once simcore.results has made the order columns the frame's (timestamps in place).
        self.collected = False

    @property
    def n_orders(self) -> int:
        """Orders placed so far (rows in use)."""
        return self._orders.rows

    def queue(self, name: str, servers: int) -> QueueMonitor:
        """The monitor of station ``name`` (one of ``QUEUES``) with ``servers`` servers.

        Raises:
            ValueError: not a known queue, or asked for twice.
        """
        if name not in QUEUES or name in self.queues:
            raise ValueError(f"queue {name!r}: not one of {QUEUES}, or monitored twice")
        mon = QueueMonitor(servers, self.warmup_hours)
        self.queues[name] = mon
        # Reported in the order an order meets the stations, whatever order they were built in.
        self.queues = {q: self.queues[q] for q in QUEUES if q in self.queues}
        return mon

    def visit_lost(self, arrival: int, t: float, buyer: int, *, forgone: bool) -> None:
        """Arrival ``arrival`` at hour ``t`` became no order: its ``buyer`` had churned or, with
        trust lowered, did not buy (``forgone``), or found nothing in stock (a lost sale)."""
        (self.forgone_at if forgone else self.lost_at).append(t)
        self.unplaced_arrival.append(arrival)
        self.unplaced_buyer.append(buyer)
        self.unplaced_forgone.append(forgone)

    def new_order(
        self,
        arrival_id: int,
        buyer_id: int,
        seller_id: int,
        sku_id: int,
        destination: int,
        quantity: int,
        amount: float,
        placed_at: float,
        is_fraud: bool,
        stolen_card: bool,
        buyer_verified: bool,
        payment_method: int,
        signals: int,
    ) -> int:
        """Add one order row with the columns known at placement (``simcore.model.columns
        .PLACEMENT``, whose names and order these parameters are; a test holds them equal): ids,
        USD, the hour, flags, codes and the fraud signals' mask. Its other timestamps start as NaN
        and codes as 0.
        Returns the order id (the row)."""
        oid = self._orders.new_row()
        c = self._placement
        c[0][oid] = arrival_id
        c[1][oid] = buyer_id
        c[2][oid] = seller_id
        c[3][oid] = sku_id
        c[4][oid] = destination
        c[5][oid] = quantity
        c[6][oid] = amount
        c[7][oid] = placed_at
        c[8][oid] = is_fraud
        c[9][oid] = stolen_card
        c[10][oid] = buyer_verified
        c[11][oid] = payment_method
        c[12][oid] = signals
        return oid

    def set(self, column: str, oid: int, value: float) -> None:
        """Set column ``column`` of order ``oid``."""
        self.orders[column][oid] = value

    def event(self, t: float, oid: int, activity: int, actor: int) -> None:
        """One event-log row: at hour ``t``, order ``oid``, ``activity`` by ``actor`` (codes)."""
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
