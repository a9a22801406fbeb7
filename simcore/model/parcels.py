"""Untroubled parcels: delivery and the buyer's confirmation, without a clock event.

Most shipped orders meet no trouble: the parcel is not lost and the buyer will not dispute it
(both decided at shipment from the order's own draws). From then on nothing can happen to such
an order but its delivery after the transit time and the buyer's confirmation after
``buyers.confirm_time``, and nothing waits on either. Their only effects on the rest of the
model are the confirmation's: the buyer's trust and the seller's rating rise.

So their hours are known at shipment (the buyer's confirmation delay came with the order,
``Order.after_draws``), and so is what the order's records will say once the clock stops at the
run's horizon (:meth:`World.run` runs it there): the delivery's and the confirmation's event
rows, ``delivered_at``, ``completed_at`` and the completed status are written at shipment, for
what falls before the horizon (nothing reads them while the clock runs). What must wait is the
confirmation's effect on trust and the rating: a row ``(hour due, order id)`` of a due-queue
(:class:`simcore.engine.duequeue.DueQueue`), not a process or clock events (those were two of a
run's eight clock events per order and, over the weeks in transit, the largest part of its
memory; benchmarks/bench_run.py). :meth:`Parcels.settle` applies, in time order, the
confirmations due by a given hour, and refuses an hour past the horizon (the records would be
missing what falls after it). :class:`simcore.model.reputation.Reputation` calls it before
anything reads or changes trust or ratings. Outcomes are therefore those of a process per
order (only two confirmations due at the very same hour are taken by order id rather than by
scheduling order; tests/engine/test_mechanics.py); the event-log rows are recorded out of time
order, with their own hours, and the log is put in time order when the run is collected.
"""

from __future__ import annotations

from simcore.engine.duequeue import DueQueue
from simcore.model.context import RunContext
from simcore.model.standing import SellerStanding
from simcore.model.trust import BuyerTrust
from simcore.model.vocabulary import ACTIVITY, ACTOR, STATUS_COMPLETED

_DELIVERED, _COMPLETED = ACTIVITY["delivered"], ACTIVITY["completed"]
_SELLER, _BUYER, _PLATFORM = ACTOR["seller"], ACTOR["buyer"], ACTOR["platform"]


class Parcels:
    """Delivers untroubled parcels and closes their orders when the buyer confirms.

    Args:
        ctx: The run context (the order's buyer and seller are read from the recorder).
        trust: Buyer trust (a good order raises it).
        standing: Seller standing (a good order raises the rating).
        horizon_h: Where the clock stops (hours; the run's horizon): what falls at or after it
            is not recorded.

    Attributes:
        queue: The confirmations waiting; its ``due_at`` is the hour before which none is due
            (a reader before it has nothing to settle).
    """

    def __init__(self, ctx: RunContext, *, trust: BuyerTrust, standing: SellerStanding, horizon_h: float):
        self.rec = ctx.rec
        self.auto_confirm_h = ctx.scn.platform.auto_confirm_days * 24.0
        self.horizon_h = horizon_h
        self.trust = trust
        self.standing = standing
        self.queue = DueQueue()
        cols = ctx.rec.orders
        self._delivered_at, self._completed_at, self._status = (
            cols["delivered_at"],
            cols["completed_at"],
            cols["status"],
        )
        self._buyer_id, self._seller_id = cols["buyer_id"], cols["seller_id"]

    def ship(self, oid: int, now: float, transit_h: float, confirm_h: float) -> None:
        """Order ``oid`` shipped at hour ``now``; its parcel arrives ``transit_h`` hours later
        and the buyer confirms it ``confirm_h`` hours after that (the platform does, at
        ``auto_confirm_days``, if that comes first)."""
        delivered = now + transit_h
        if delivered >= self.horizon_h:
            return  # nothing of it happens within the run
        rec = self.rec
        rec.event(delivered, oid, _DELIVERED, _SELLER)
        self._delivered_at[oid] = delivered
        if confirm_h < self.auto_confirm_h:  # the buyer's own confirmation delay
            t, actor = delivered + confirm_h, _BUYER
        else:
            t, actor = delivered + self.auto_confirm_h, _PLATFORM
        if t >= self.horizon_h:
            return
        rec.event(t, oid, _COMPLETED, actor)
        self._completed_at[oid] = t
        self._status[oid] = STATUS_COMPLETED
        self.queue.push(t, oid)

    def settle(self, now: float, *, before: bool = False) -> None:
        """Apply, in time order, the confirmations due at or before hour ``now`` (strictly
        before it with ``before``: the clock stops short of its horizon).

        Raises:
            RuntimeError: ``now`` is past the horizon (a clock run on past it: the parcels'
                records stop at the horizon; set ``horizon_h`` to where the clock stops).
        """
        if now > self.horizon_h:
            raise RuntimeError(
                f"parcels settled at hour {now} past the horizon {self.horizon_h}: their records "
                "stop there (Parcels.horizon_h is where the clock stops)"
            )
        due = self.queue
        if not due.any_due(now, before):
            return  # nothing due: the common case
        reward, order_good = self.trust.reward, self.standing.order_good
        buyer_id, seller_id = self._buyer_id, self._seller_id
        for _, oid in due.pop_due(now, before):
            # An undisputed good order (OrderBook.complete), written to the state directly:
            # this is the settling that Reputation's writes wait for.
            reward(buyer_id[oid])
            order_good(seller_id[oid])
