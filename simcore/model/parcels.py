"""Untroubled parcels: delivery and the buyer's confirmation, without a clock event.

Most shipped orders meet no trouble: the parcel is not lost and the buyer will not dispute it
(both decided at shipment from the order's own draws). From then on nothing can happen to such
an order but its delivery after the transit time and the buyer's confirmation after
``buyers.confirm_time``, and nothing waits on either. Their only effects on the rest of the
model are the confirmation's: the buyer's trust and the seller's rating rise.

So these parcels are rows, ``(hour due, 2 * order id + stage, value)``, of a due-queue
(:class:`simcore.engine.duequeue.DueQueue`), not processes or clock events (those were two of a
run's eight clock events per order and, over the weeks in transit, the largest part of its
memory; benchmarks/bench_run.py). :meth:`Parcels.settle` applies, in time order, whatever fell
due by a given hour. :class:`simcore.model.reputation.Reputation` calls it before anything
reads or changes trust or ratings. The buyer's confirmation delay came with the order
(``Order.after_draws``): the delivery row carries it as its value, and the confirmation row's
value says who confirmed (1.0: the platform, ``auto_confirm_days`` after delivery). Outcomes are therefore
those of a process per order (only two rows due at the very same hour are taken by order id
rather than by scheduling order; tests/engine/test_mechanics.py); the event-log rows are
recorded late, with their own hours, and the log is put back in time order when the run is
collected.
"""

from __future__ import annotations

from simcore.engine.duequeue import DueQueue
from simcore.model.context import RunContext
from simcore.model.standing import SellerStanding
from simcore.model.trust import BuyerTrust
from simcore.model.vocabulary import ACTIVITY, ACTOR, STATUS_COMPLETED

_DELIVER, _CONFIRM = 0, 1
_DELIVERED, _COMPLETED = ACTIVITY["delivered"], ACTIVITY["completed"]
_SELLER, _BUYER, _PLATFORM = ACTOR["seller"], ACTOR["buyer"], ACTOR["platform"]


class Parcels:
    """Delivers untroubled parcels and closes their orders when the buyer confirms.

    Args:
        ctx: The run context (the order's buyer and seller are read from the recorder).
        trust: Buyer trust (a good order raises it).
        standing: Seller standing (a good order raises the rating).
    """

    def __init__(self, ctx: RunContext, *, trust: BuyerTrust, standing: SellerStanding):
        self.rec = ctx.rec
        self.auto_confirm_h = ctx.scn.platform.auto_confirm_days * 24.0
        self.trust = trust
        self.standing = standing
        self._due = DueQueue()

    def ship(self, oid: int, now: float, transit_h: float, confirm_h: float) -> None:
        """Order ``oid`` shipped at hour ``now``; its parcel arrives ``transit_h`` hours later
        and the buyer confirms it ``confirm_h`` hours after that (the platform does, at
        ``auto_confirm_days``, if that comes first)."""
        self._due.push(now + transit_h, 2 * oid + _DELIVER, confirm_h)

    def settle(self, now: float, *, before: bool = False) -> None:
        """Deliver and close, in time order, what is due at or before hour ``now`` (strictly
        before it with ``before``: the clock stops short of its horizon)."""
        due = self._due
        if not due.any_due(now, before):
            return  # nothing due: the common case
        rec, trust, standing = self.rec, self.trust, self.standing
        event, cols = rec.event, rec.orders
        buyer_id, seller_id = cols["buyer_id"], cols["seller_id"]
        delivered_at, completed_at, status = cols["delivered_at"], cols["completed_at"], cols["status"]
        for t, key, value in due.pop_due(now, before):
            oid = key >> 1
            if key & 1 == _DELIVER:
                event(t, oid, _DELIVERED, _SELLER)
                delivered_at[oid] = t
                # The row's value now says who confirms: 1.0 the platform (auto-confirmation).
                if value < self.auto_confirm_h:  # the buyer's own confirmation delay
                    due.push(t + value, 2 * oid + _CONFIRM)
                else:
                    due.push(t + self.auto_confirm_h, 2 * oid + _CONFIRM, 1.0)
            else:
                event(t, oid, _COMPLETED, _PLATFORM if value else _BUYER)
                completed_at[oid] = t
                status[oid] = STATUS_COMPLETED
                # An undisputed good order (OrderBook.complete), written to the state directly:
                # this is the settling that Reputation's writes wait for.
                trust.reward(buyer_id[oid])
                standing.order_good(seller_id[oid])
