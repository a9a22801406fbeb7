"""Untroubled parcels: delivery and the buyer's confirmation, without a process per order.

Most shipped orders meet no trouble: the parcel is not lost and the buyer will not dispute it
(both decided at shipment from the order's own draws). From then on nothing can happen to such
an order but its delivery after the transit time and the buyer's confirmation after
``buyers.confirm_time``; no other process waits on it or can change it. Holding an order
object and a clock event for each of them over the weeks in transit was the largest part of a
long run's memory (benchmarks/bench_run.py), so these parcels are rows of one heap instead,
``(hour due, 2 * order id + stage)``, and the desk wakes at the earliest. Outcomes, recorded
events and random draws are the same as with a process per order, in the same order.
"""

from __future__ import annotations

import heapq

import simpy

from simcore.clock import delay_to
from simcore.distributions import Sampler
from simcore.entities import ACTIVITY, ACTOR, STATUS_COMPLETED
from simcore.recorder import Recorder
from simcore.standing import SellerStanding
from simcore.trust import BuyerTrust

_DELIVER, _CONFIRM = 0, 1
_DELIVERED, _COMPLETED = ACTIVITY["delivered"], ACTIVITY["completed"]
_SELLER, _BUYER = ACTOR["seller"], ACTOR["buyer"]


class Parcels:
    """Delivers untroubled parcels and closes their orders when the buyer confirms.

    Args:
        env: The environment.
        rec: The recorder (the order's buyer and seller are read from its columns).
        confirm: Hours from delivery to the buyer's confirmation.
        trust: Buyer trust (a good order raises it).
        standing: Seller standing (a good order raises the rating).
    """

    def __init__(
        self,
        env: simpy.Environment,
        rec: Recorder,
        confirm: Sampler,
        trust: BuyerTrust,
        standing: SellerStanding,
    ):
        self.env = env
        self.rec = rec
        self.confirm = confirm
        self.trust = trust
        self.standing = standing
        self.due: list[tuple[float, int]] = []  # heap of (hour, 2 * order id + stage)
        self.wakes: list[float] = []  # heap of the hours the desk is set to wake at
        self._waking = False

    def __len__(self) -> int:
        """Parcels in transit or awaiting confirmation."""
        return len(self.due)

    def ship(self, oid: int, transit_h: float) -> None:
        """Order ``oid`` has shipped; its parcel arrives in ``transit_h`` hours."""
        self._add(self.env.now + transit_h, 2 * oid + _DELIVER)

    def _add(self, t: float, key: int) -> None:
        heapq.heappush(self.due, (t, key))
        if not self._waking and (not self.wakes or t < self.wakes[0]):
            self._wake_at(t)

    def _wake_at(self, t: float) -> None:
        heapq.heappush(self.wakes, t)
        self.env.timeout(delay_to(self.env.now, t)).callbacks.append(self._wake)

    def _wake(self, _event: simpy.Event) -> None:
        """Callback: deliver and close what is due now, then wake again at the next due hour
        (a wake-up set for a parcel that was overtaken finds nothing due and does nothing)."""
        env, due, rec = self.env, self.due, self.rec
        now = env.now
        heapq.heappop(self.wakes)
        self._waking = True
        while due and due[0][0] <= now:
            _, key = heapq.heappop(due)
            oid = key >> 1
            if key & 1 == _DELIVER:
                rec.event(now, oid, _DELIVERED, _SELLER)
                rec.set("delivered_at", oid, now)
                self._add(now + self.confirm(), 2 * oid + _CONFIRM)
            else:
                rec.event(now, oid, _COMPLETED, _BUYER)
                rec.set("completed_at", oid, now)
                rec.set("status", oid, STATUS_COMPLETED)
                # An undisputed good order (OrderBook.complete).
                self.trust.reward(rec.orders["buyer_id"][oid])
                self.standing.order_good(rec.orders["seller_id"][oid])
        self._waking = False
        if due and (not self.wakes or due[0][0] < self.wakes[0]):
            self._wake_at(due[0][0])
