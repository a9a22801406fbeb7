"""Untroubled parcels: delivery and the buyer's confirmation, without a clock event.

Most shipped orders meet no trouble: the parcel is not lost and the buyer will not dispute it
(both decided at shipment from the order's own draws). From then on nothing can happen to such
an order but its delivery after the transit time and the buyer's confirmation after
``buyers.confirm_time``, and nothing waits on either. Their only effects on the rest of the
model are the confirmation's: the buyer's trust and the seller's rating rise.

So these parcels are rows, ``(hour due, 2 * order id + stage)``, of a calendar queue (a bucket
per hour, made a heap when the clock reaches it), not processes or clock events (those were two
of a run's eight clock events per order and, over the weeks in transit, the largest part of its
memory; benchmarks/bench_run.py). :meth:`Parcels.settle` applies, in time order, whatever fell
due by a given hour, and is called before anything that reads or changes trust or ratings, and
before the confirmation time of a troubled parcel is drawn from the same stream. Outcomes and
random draws are therefore those of a process per order (only two rows due at the very same hour
are taken by order id rather than by scheduling order; tests/test_mechanics.py); the event-log
rows are recorded late, with their own hours, and the log is put back in time order when the run
is collected.
"""

from __future__ import annotations

import heapq
from array import array

from simcore.scenario.distributions import Sampler
from simcore.model.vocabulary import ACTIVITY, ACTOR, STATUS_COMPLETED
from simcore.model.recorder import Recorder
from simcore.model.standing import SellerStanding
from simcore.model.trust import BuyerTrust

_DELIVER, _CONFIRM = 0, 1
_DELIVERED, _COMPLETED = ACTIVITY["delivered"], ACTIVITY["completed"]
_SELLER, _BUYER = ACTOR["seller"], ACTOR["buyer"]


class Parcels:
    """Delivers untroubled parcels and closes their orders when the buyer confirms.

    Args:
        rec: The recorder (the order's buyer and seller are read from its columns).
        confirm: Hours from delivery to the buyer's confirmation.
        trust: Buyer trust (a good order raises it).
        standing: Seller standing (a good order raises the rating).
    """

    def __init__(self, rec: Recorder, confirm: Sampler, trust: BuyerTrust, standing: SellerStanding):
        self.rec = rec
        self.confirm = confirm
        self.trust = trust
        self.standing = standing
        # A calendar queue of (hour due, 2 * order id + stage): rows wait, unsorted, in the
        # bucket of their hour; a bucket is sorted (made a heap) only when the clock reaches
        # it. One heap of all the parcels in flight costs ~2 us a push and pop at tens of
        # thousands of rows (cache misses), a fifth of a clock event. A waiting bucket is two
        # typed arrays (hours due, keys): 16 bytes a row where a tuple of a float and an int
        # takes ~110, and a million-order run has hundreds of thousands of parcels in transit.
        self._buckets: dict[int, tuple[array, array]] = {}
        self._hour = 0  # the bucket being settled: hours [_hour, _hour + 1)
        self._current: list[tuple[float, int]] = []  # its heap

    def ship(self, oid: int, now: float, transit_h: float) -> None:
        """Order ``oid`` shipped at hour ``now``; its parcel arrives ``transit_h`` hours later."""
        self._add(now + transit_h, 2 * oid + _DELIVER)

    def _add(self, t: float, key: int) -> None:
        hour = int(t)
        if hour <= self._hour:  # the bucket being settled (a row is never due before it)
            heapq.heappush(self._current, (t, key))
        else:
            bucket = self._buckets.get(hour)
            if bucket is None:
                self._buckets[hour] = (array("d", (t,)), array("q", (key,)))
            else:
                bucket[0].append(t)
                bucket[1].append(key)

    def settle(self, now: float, *, before: bool = False) -> None:
        """Deliver and close, in time order, what is due at or before hour ``now`` (strictly
        before it with ``before``: the clock stops short of its horizon)."""
        cur, last = self._current, int(now)
        if self._hour >= last and not (cur and (cur[0][0] < now or (cur[0][0] == now and not before))):
            return  # nothing due: the common case, once per placement
        rec, trust, standing, confirm = self.rec, self.trust, self.standing, self.confirm
        event, cols = rec.event, rec.orders
        buyer_id, seller_id = cols["buyer_id"], cols["seller_id"]
        delivered_at, completed_at, status = cols["delivered_at"], cols["completed_at"], cols["status"]
        pop = heapq.heappop
        while True:
            due = self._current
            while due and (due[0][0] < now or (due[0][0] == now and not before)):
                t, key = pop(due)
                oid = key >> 1
                if key & 1 == _DELIVER:
                    event(t, oid, _DELIVERED, _SELLER)
                    delivered_at[oid] = t
                    self._add(t + confirm(), 2 * oid + _CONFIRM)
                else:
                    event(t, oid, _COMPLETED, _BUYER)
                    completed_at[oid] = t
                    status[oid] = STATUS_COMPLETED
                    # An undisputed good order (OrderBook.complete).
                    trust.reward(buyer_id[oid])
                    standing.order_good(seller_id[oid])
            if due or self._hour >= last:
                return  # the rest of this bucket is due after now
            # This hour is done: on to the next (an hour without parcels has no bucket).
            self._hour += 1
            bucket = self._buckets.pop(self._hour, None)
            if bucket:
                rows = list(zip(*bucket, strict=True))
                heapq.heapify(rows)
                self._current = rows
