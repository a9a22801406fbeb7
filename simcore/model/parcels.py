"""Untroubled parcels: delivery and the buyer's confirmation, without a clock event.

Most shipped orders meet no trouble: the parcel is not lost and the buyer will not dispute it
(both decided at shipment from the order's own draws). From then on nothing can happen to such
an order but its delivery after the transit time and the buyer's confirmation after
``buyers.confirm_time``, and nothing waits on either. Their only effects on the rest of the
model are the confirmation's: the buyer's trust and the seller's rating rise.

So these parcels are rows, ``(hour due, 4 * order id + kind)``, of a due-queue
(:class:`simcore.engine.duequeue.DueQueue`), not processes or clock events (those were two of a
run's eight clock events per order and, over the weeks in transit, the largest part of its
memory; benchmarks/bench_run.py). :meth:`Parcels.settle` applies, in time order, whatever fell
due by a given hour. :class:`simcore.model.reputation.Reputation` calls it before anything
reads or changes trust or ratings. The buyer's confirmation delay came with the order
(``Order.after_draws``), so both hours are known at shipment, and so is what the order's
records will say. A parcel confirmed before the run's horizon (nearly all) has them written
then (the delivery's and the confirmation's event rows, ``delivered_at``, ``completed_at``, the
completed status: nothing reads them while the clock runs, and :meth:`World.run` runs it to
the horizon) and one row, for the confirmation's effect. One that may outlive the horizon has
a row for its delivery and one for its confirmation, each recorded if and when the clock gets
there. Outcomes are therefore those of a process per order (only two rows due at the very same
hour are taken by order id rather than by scheduling order; tests/engine/test_mechanics.py);
the event-log rows are recorded out of time order, with their own hours, and the log is put
in time order when the run is collected.
"""

from __future__ import annotations

from simcore.engine.duequeue import DueQueue
from simcore.model.context import RunContext
from simcore.model.standing import SellerStanding
from simcore.model.trust import BuyerTrust
from simcore.model.vocabulary import ACTIVITY, ACTOR, STATUS_COMPLETED

_DELIVERED, _COMPLETED = ACTIVITY["delivered"], ACTIVITY["completed"]
_SELLER, _BUYER, _PLATFORM = ACTOR["seller"], ACTOR["buyer"], ACTOR["platform"]
#: A row's kind (its key's two low bits): a delivery to record; a confirmation to record and
#: apply, by the buyer or by the platform; a confirmation recorded at shipment, to apply.
_DELIVER, _BY_BUYER, _BY_PLATFORM, _APPLY = 0, 1, 2, 3


class Parcels:
    """Delivers untroubled parcels and closes their orders when the buyer confirms.

    Args:
        ctx: The run context (the order's buyer and seller are read from the recorder).
        trust: Buyer trust (a good order raises it).
        standing: Seller standing (a good order raises the rating).
        horizon_h: The run's horizon (hours): a parcel confirmed before it is recorded at
            shipment.

    Attributes:
        queue: The rows waiting; its ``due_at`` is the hour before which none is due (a reader
            before it has nothing to settle).
    """

    def __init__(self, ctx: RunContext, *, trust: BuyerTrust, standing: SellerStanding, horizon_h: float):
        self.rec = ctx.rec
        self.auto_confirm_h = ctx.scn.platform.auto_confirm_days * 24.0
        self.horizon_h = horizon_h
        self.trust = trust
        self.standing = standing
        self.queue = self._due = DueQueue()
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
        if confirm_h < self.auto_confirm_h:  # the buyer's own confirmation delay
            t, kind = delivered + confirm_h, _BY_BUYER
        else:
            t, kind = delivered + self.auto_confirm_h, _BY_PLATFORM
        if t >= self.horizon_h:  # may outlive the run: each step recorded when the clock gets there
            self._due.push(delivered, 4 * oid + _DELIVER)
            self._due.push(t, 4 * oid + kind)
            return
        rec = self.rec
        rec.event(delivered, oid, _DELIVERED, _SELLER)
        self._delivered_at[oid] = delivered
        self._record_completed(t, oid, kind)
        self._due.push(t, 4 * oid + _APPLY)

    def _record_completed(self, t: float, oid: int, kind: int) -> None:
        """Record that order ``oid`` completed at hour ``t``, confirmed as ``kind`` says."""
        self.rec.event(t, oid, _COMPLETED, _BUYER if kind == _BY_BUYER else _PLATFORM)
        self._completed_at[oid] = t
        self._status[oid] = STATUS_COMPLETED

    def settle(self, now: float, *, before: bool = False) -> None:
        """Apply, in time order, the deliveries and confirmations due at or before hour ``now``
        (strictly before it with ``before``: the clock stops short of its horizon)."""
        due = self._due
        if not due.any_due(now, before):
            return  # nothing due: the common case
        reward, order_good = self.trust.reward, self.standing.order_good
        buyer_id, seller_id = self._buyer_id, self._seller_id
        for t, key in due.pop_due(now, before):
            oid, kind = key >> 2, key & 3
            if kind == _DELIVER:
                self.rec.event(t, oid, _DELIVERED, _SELLER)
                self._delivered_at[oid] = t
                continue
            if kind != _APPLY:
                self._record_completed(t, oid, kind)
            # An undisputed good order (OrderBook.complete), written to the state directly:
            # this is the settling that Reputation's writes wait for.
            reward(buyer_id[oid])
            order_good(seller_id[oid])
