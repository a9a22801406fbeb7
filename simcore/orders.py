"""The order book: state transitions and the one way an order gets cancelled.

Every process that ends an order early calls :meth:`OrderBook.cancel`; it enforces the state
machine (nothing is cancelled after shipment, nothing twice), releases reserved stock, records
initiator and reason, and starts a refund when money was taken.
"""

from __future__ import annotations

import simpy

from simcore.entities import (
    ACTIVITY,
    ACTOR,
    INITIATOR,
    INITIATOR_OF_REASON,
    REASON,
    STATUS_CANCELLED,
    STATUS_COMPLETED,
    Order,
    State,
)
from simcore.inventory import Inventory, Restocker
from simcore.recorder import Recorder
from simcore.refunds import RefundDesk

_CANCELLABLE = frozenset(
    {State.PLACED, State.PAYING, State.VERIFYING, State.SCREENING, State.AWAITING_SHIPMENT}
)
_ACTOR_OF_INITIATOR = {"buyer": ACTOR["buyer"], "seller": ACTOR["seller"], "system": ACTOR["platform"]}


class OrderBook:
    """Shared order bookkeeping for the processes of one run."""

    def __init__(
        self, env: simpy.Environment, rec: Recorder, inv: Inventory, restocker: Restocker, refunds: RefundDesk
    ):
        self.env = env
        self.rec = rec
        self.inv = inv
        self.restocker = restocker
        self.refunds = refunds

    def step(self, o: Order, state: State, activity: str, actor: str, column: str | None = None):
        """Advance ``o`` to ``state``, log ``activity`` and stamp ``column`` with the time."""
        o.advance(state)
        now = self.env.now
        self.rec.event(now, o.id, ACTIVITY[activity], ACTOR[actor])
        if column is not None:
            self.rec.set(column, o.id, now)

    def release_stock(self, o: Order) -> None:
        if o.reserved:
            self.inv.reserved[o.sku] -= o.qty
            o.reserved = False

    def cancel(self, o: Order, reason: str, true_reason: str | None = None) -> bool:
        """Cancel ``o`` for ``reason`` if it is still cancellable.

        Args:
            o: The order.
            reason: One of the cancel-reason vocabulary; it fixes the initiator.
            true_reason: The real reason when the stated one is a cover (a dishonest seller
                claiming ``out_of_stock`` to dodge a ``pricing_error``).

        Returns:
            True if this call cancelled the order; False if it had shipped or already ended.
        """
        if o.state not in _CANCELLABLE:
            return False
        o.state = State.CANCELLED
        initiator = INITIATOR_OF_REASON[reason]
        now, rec, oid = self.env.now, self.rec, o.id
        rec.set("status", oid, STATUS_CANCELLED)
        rec.set("cancel_initiator", oid, INITIATOR[initiator])
        rec.set("cancel_reason", oid, REASON[reason])
        rec.set("true_reason", oid, REASON[true_reason or reason])
        rec.set("cancelled_at", oid, now)
        rec.event(now, oid, ACTIVITY["cancelled"], _ACTOR_OF_INITIATOR[initiator])
        self.release_stock(o)
        if o.paid:
            self.env.process(self.refunds.refund(o))
        return True

    def complete(self, o: Order) -> None:
        self.step(o, State.COMPLETED, "completed", "buyer", "completed_at")
        self.rec.set("status", o.id, STATUS_COMPLETED)
