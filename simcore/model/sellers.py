"""Sellers handling paid orders: stock, price and route checks, picking, shipping.

A seller first looks at a cleared order after ``first_look_time``. Then, in order:
a blocked route or a carrier quote above the destination's cap -> ``shipping_restriction``;
a sale below cost (a price typo, the exchange rate's drift, the supplier's cost rises:
:mod:`simcore.model.pricing`; the cause recorded) -> ``pricing_error``; physical stock short of
the quantity -> ``out_of_stock`` (the record is corrected on the spot). A dishonest seller
dodges any sale at a loss (an honest one ships a loss within ``loss_tolerance``) and covers it
with ``out_of_stock``, leaving the listing's record as it was (the buyer may see it still on
sale). Any seller may instead ask the buyer to cancel (``change_of_mind``, counted as the
buyer's). The true reason is kept. Otherwise the units are picked and the
order ships after ``handling_time``, on a day the seller has a handover slot and works and
its carrier a pickup slot (:mod:`simcore.model.capacity`). The platform cancels orders the
seller has not handed over ``ship_by_days`` after it cleared them for the seller, extended over
holidays (``ship_deadline_missed``).

After shipment a ``shipping.lost_share`` of parcels never arrive. A buyer whose parcel has not
arrived ``not_delivered_after_days`` after shipment may dispute it; a delivered order may be
disputed as not as described before the buyer confirms it (fraudsters dispute nothing:
:mod:`simcore.model.disputes`). Buyer protection: when the delivery guarantee expires on a lost
parcel (or its dispute ends, if later) the platform refunds what the dispute has not, and the
order closes as refunded; it is never completed. The platform closes a not-as-described order
when its dispute ends. A late parcel disputed as not delivered is confirmed by the buyer as
usual, but only once the dispute is over.
"""

from __future__ import annotations

import math

import numpy as np

from simcore.engine.proc import Proc
from simcore.errors import ScenarioError
from simcore.model.capacity import DailySlots, closed_days, extended, reopened
from simcore.model.context import RunContext
from simcore.model.disputes import DisputeDesk
from simcore.model.draws import (
    ASK_BUYER,
    CANCEL_REQUEST_TIME,
    CONFIRM,
    FIRST_LOOK,
    HANDLING,
    LOST,
    NOT_AS_DESCRIBED,
    NOT_DELIVERED,
    NOT_DELIVERED_WAIT,
    OPEN_DELAY,
    QUOTE,
    RECORD_ERROR,
    RETURN,
    RETURN_TIME,
    TRANSIT,
)
from simcore.model.inventory import Inventory, Restocker
from simcore.model.order import Order
from simcore.model.orderbook import OrderBook
from simcore.model.parcels import Parcels
from simcore.model.pricing import Costs
from simcore.model.traits import SellerTraits
from simcore.model.vocabulary import ACTIVITY, ACTOR, RETURN_PAYERS, State
from simcore.policies.stock import count_trigger

_PROCESSING, _SELLER = ACTIVITY["seller_processing"], ACTOR["seller"]


class SellerDesk:
    """Fulfilment behaviour of all sellers (per-seller traits are held in lists).

    Every duration comes with the order (``Order.after_draws``, :mod:`simcore.model.draws`): the
    first look, the handling, the carrier's quote, the transit, the buyer's wait before
    disputing a parcel that has not come, the buyer's confirmation, and the lead time of a
    reorder the order's pick triggers.

    Args:
        ctx: The run context (``sellers``, ``shipping``, ``platform``).
        book: The order book.
        inventory: The stock.
        restocker: Reorders what runs low.
        costs: Prices against costs (a sale below cost).
        traits: The sellers' traits.
        parcels: Untroubled parcels.
        disputes: Opens disputes of troubled parcels.
    """

    def __init__(
        self,
        ctx: RunContext,
        *,
        book: OrderBook,
        inventory: Inventory,
        restocker: Restocker,
        costs: Costs,
        traits: SellerTraits,
        parcels: Parcels,
        disputes: DisputeDesk,
    ):
        scn = ctx.scn
        s, destinations = scn.sellers, scn.shipping.destinations
        self.env = ctx.env
        self.book = book
        self.rec = ctx.rec
        self.inv = inventory
        self.restocker = restocker
        self.costs = costs
        self.blocked = traits.blocked
        self.dishonest = traits.dishonest
        self.speed = traits.speed
        self.parcels = parcels
        self.disputes = disputes
        self.lost_share = scn.shipping.lost_share
        d = scn.platform.disputes
        self.p_not_delivered = d.propensity.not_delivered
        self.p_not_as_described = d.propensity.not_as_described
        self.guarantee_h = scn.platform.delivery_guarantee_days * 24.0
        self.auto_confirm_h = scn.platform.auto_confirm_days * 24.0
        self.caps = [dest.cost_cap_usd for dest in destinations.values()]
        self.ship_by_h = scn.platform.ship_by_days * 24.0
        self.loss_tolerance = s.pricing.loss_tolerance
        self.ask_buyer_share = s.ask_buyer_to_cancel_share
        self.cause_col = ctx.rec.orders["pricing_error_cause"]
        self.return_share = scn.buyers.cancel.return_share
        r = scn.platform.returns
        self.late_payer = RETURN_PAYERS.index(r.late_request_payer)
        self.ignored_payer = RETURN_PAYERS.index(r.ignored_request_payer)
        self.placed_at = ctx.rec.orders["placed_at"]
        self.quote_exponent = scn.shipping.quote_quantity_exponent
        # A count after a stock-out (simcore.policies.stock): None when counts are periodic only.
        trigger = count_trigger(s.strategy)
        self.count_after_stockout = (
            None if getattr(trigger, "periodic", False) else trigger.count_after_stockout
        )
        self.trigger_kind = s.strategy.count_trigger.label
        # Capacity and the calendar (simcore.model.capacity): None / empty when unlimited.
        holidays = s.holidays
        self.closed = closed_days([(h.start, h.days) for h in holidays], scn.start)
        self.extend = [
            (
                (h.start - scn.start).days * 24.0,
                ((h.start - scn.start).days + math.ceil(h.days)) * 24.0,
                h.days if h.ship_by_extension_days is None else h.ship_by_extension_days,
            )
            for h in holidays
            if h.extend_ship_by
        ]
        per = inventory.skus_per_seller
        orders_a_day = scn.buyers.orders_per_hour * 24.0
        cap = s.daily_capacity
        if cap is not None or self.closed:
            share = inventory.demand_share.reshape(-1, per).sum(axis=1)
            limit = [
                # (less a hair: a share summing to 1 + 1e-16 is not a day's 49th slot)
                math.inf if cap is None else max(cap.min_per_day, math.ceil(cap.factor * m - 1e-9))
                for m in (share * orders_a_day).tolist()
            ]
            # A handover is booked no later than its ship-by deadline, extensions included.
            ahead = scn.platform.ship_by_days + sum(days for _, _, days in self.extend) + 2
            self.seller_slots: DailySlots | None = DailySlots(limit, self.closed, math.ceil(ahead))
        else:
            self.seller_slots = None
        weights = np.array([dest.weight for dest in destinations.values()])
        factors = [
            dest.pickup_capacity_factor or scn.shipping.pickup_capacity_factor
            for dest in destinations.values()
        ]
        pickups = [
            math.inf if f is None else max(1, math.ceil(f * orders_a_day * w - 1e-9))
            for f, w in zip(factors, (weights / weights.sum()).tolist(), strict=True)
        ]
        # Pickups have no deadline: a year's ring, and a parcel past it ships at its handover.
        self.pickups = None if all(math.isinf(c) for c in pickups) else DailySlots(pickups, horizon_days=400)

    def _problem(self, o: Order, now: float) -> str | None:
        """The real reason the seller, looking at ``o`` at hour ``now``, will not ship it, else
        None. A sale at a loss records its cause, and the seller, having noticed, reprices."""
        inv, s = self.inv, o.seller
        if self.blocked[s][o.dest]:
            return "shipping_restriction"
        # Heavier baskets cost more to ship, less than in proportion (shipping.quote_quantity_exponent).
        if o.after_draws[QUOTE] * o.qty**self.quote_exponent > self.caps[o.dest]:
            return "shipping_restriction"
        profit = self.costs.profit(o.sku, s)
        # An honest seller ships a small loss; a dishonest one dodges any.
        if profit < (0.0 if self.dishonest[s] else -self.loss_tolerance):
            self.cause_col[o.id] = self.costs.cause(o.sku, s)
            self.costs.reprice(s)
            return "pricing_error"
        if inv.short(o.sku, o.qty, now):  # the record is corrected on the spot
            return "out_of_stock"
        return None

    def _count_after_stockout(self, seller: int, now: float) -> None:
        """``seller`` found a SKU short: it counts all its stock now if the trigger says so."""
        assert self.count_after_stockout is not None
        days = (now - self.inv.counted_at[seller]) / 24.0
        try:
            count = self.count_after_stockout(days)
        except Exception as exc:  # a researcher's policy failing is bad input, not a crash of ours
            raise ScenarioError(
                f"sellers.strategy.count_trigger: kind {self.trigger_kind} raised "
                f"{type(exc).__name__}: {exc} (days since the count {days:.6g})"
            ) from None
        if not isinstance(count, bool | np.bool_):
            raise ScenarioError(
                f"sellers.strategy.count_trigger: kind {self.trigger_kind} answered {count!r}; "
                "count_after_stockout answers True or False"
            )
        if count:
            self.restocker.count(seller)

    def _cover(self, o: Order, true: str) -> str:
        """The reason stated when the seller will not ship ``o`` for ``true``. Any seller may ask
        the buyer to cancel instead (``ask_buyer_to_cancel_share``: the buyer's cancellation,
        ``change_of_mind``, which the platform does not hold against the seller); a dishonest
        one covers a loss with ``out_of_stock``; otherwise the truth."""
        if o.after_draws[ASK_BUYER] < self.ask_buyer_share:
            return "change_of_mind"
        if self.dishonest[o.seller] and true == "pricing_error":
            return "out_of_stock"
        return true

    def fulfil(self, o: Order) -> Proc[None]:
        """Process: from cleared to completed, or cancelled on the way.

        The ship-by clock starts now, when the platform clears the order: a seller cannot ship
        an order still in payment verification or fraud review, so the platform's own delays
        do not count against the seller.
        """
        env, book, rec, inv = self.env, self.book, self.rec, self.inv
        now = env.now  # read once after each wait
        deadline = now + self.ship_by_h
        d = o.after_draws
        first = d[FIRST_LOOK]
        handling = d[HANDLING] * self.speed[o.seller]
        if self.closed:  # holidays: the first look waits for the sellers to be back
            if self.extend:
                deadline = extended(now, deadline, self.extend)
            look = reopened(now + first, self.closed)
            if look != now + first:
                first = look - now
        if o.neglected or now + first >= deadline:
            yield env.timeout(deadline - now)
            book.cancel(o, "ship_deadline_missed")
            return
        yield env.timeout(first)
        if o.closed:
            return
        now = env.now
        rec.event(now, o.id, _PROCESSING, _SELLER)
        problem = self._problem(o, now)
        if problem is not None:
            book.cancel(o, self._cover(o, problem), problem)
            self.restocker.check(o.sku, d)
            if problem == "out_of_stock" and self.count_after_stockout is not None:
                self._count_after_stockout(o.seller, now)
            return
        inv.pick(o.sku, o.qty, now, d[RECORD_ERROR])
        book.release_stock(o)
        self.restocker.check(o.sku, d)
        slots, pickups = self.seller_slots, self.pickups
        ship_at = None  # the carrier's pickup, when it comes after the handover
        if slots is not None or pickups is not None:
            # The seller hands the parcel over on the first day it has a slot (and is open): the
            # ship-by deadline is the seller's, on the handover. The destination's carrier picks
            # it up on the first day it has room: the parcel ships then, late or not.
            ready = now + handling
            hand = ready if slots is None else slots.slot(o.seller, ready, now)
            if hand <= deadline:
                if slots is not None:
                    slots.book(o.seller, hand)
                if pickups is not None:
                    ship_at = pickups.slot(o.dest, hand, now)
                    if math.isinf(ship_at):  # beyond a year of booked pickups: no wait counted
                        ship_at = hand
                    else:
                        pickups.book(o.dest, ship_at)
            if hand != ready:
                handling = hand - now
        if now + handling > deadline:
            yield env.timeout(deadline - now)
            # The order never ships on this path: whoever cancelled it (the deadline, a
            # suspension, the buyer), the picked units go back on the shelf.
            book.cancel(o, "ship_deadline_missed")
            inv.put_back(o.sku, o.qty, env.now)
            return
        if ship_at is not None and ship_at != now + handling:
            handling = ship_at - now
        yield env.timeout(handling)
        if o.closed:
            inv.put_back(o.sku, o.qty, env.now)
            return
        now = book.ship(o)
        lost = d[LOST] < self.lost_share
        transit = d[TRANSIT]
        # Only a buyer who meant to cancel may send it back (most orders: no call at all).
        back = None if lost or o.cancel_reason is None else self._sent_back(o, now, transit)
        if back is not None:
            yield from self._return(o, transit, *back)
            return
        # The wait of a buyer who disputes a parcel that has not come (hours after shipment).
        disputes = not o.is_fraud and d[NOT_DELIVERED] < self.p_not_delivered
        wait = d[NOT_DELIVERED_WAIT] if disputes else math.inf
        if self._troubled(o, lost, transit, wait):
            yield from self._deliver(o, now, lost, transit, wait)
            return
        # Most parcels: nothing but the delivery and the buyer's confirmation can happen to the
        # order now, and nothing else waits on it (simcore.model.parcels).
        self.parcels.ship(o.id, now, transit, d[CONFIRM])

    def _sent_back(self, o: Order, now: float, transit: float) -> tuple[float, int] | None:
        """(hour the buyer wants out, who pays the return) if the buyer of ``o`` (who meant to
        cancel: ``cancel_reason`` is set), shipped at hour ``now`` with ``transit`` hours to go,
        still wants to cancel and will refuse or return the parcel, else None.

        A buyer with a cancel intention who asked before shipment (the seller refused, or shipped
        before answering) wants out now, and the seller, who shipped anyway, is at fault; one
        whose request would come only after shipment wants out then, a change of mind of their
        own. A ``return_share`` of them refuse the parcel or send it back, unless they would
        have confirmed it first: then they keep it, a parcel like any other."""
        d = o.after_draws
        if d[RETURN] >= self.return_share:  # the caller has checked cancel_reason
            return None
        if o.cancel_asked:
            return now, self.ignored_payer
        wants_out = self.placed_at[o.id] + d[CANCEL_REQUEST_TIME]
        if wants_out >= now + transit + min(d[CONFIRM], self.auto_confirm_h):
            return None
        return wants_out, self.late_payer

    def _return(self, o: Order, transit: float, wants_out: float, payer: int) -> Proc[None]:
        """Process: the parcel of ``o``, ``transit`` hours on its way, is refused at delivery if
        the buyer wants out by then (hour ``wants_out``), else delivered and sent back when they
        do (before they would confirm it: :meth:`_sent_back`). Back after the order's
        ``returns.transit_time``: refunded in full, the shipping paid by ``payer``."""
        env, book, d = self.env, self.book, o.after_draws
        yield env.timeout(transit)
        now = env.now
        if wants_out > now:  # delivered; the buyer sends it back before confirming
            book.step(o, State.DELIVERED, "delivered", "seller", "delivered_at")
            yield env.timeout(wants_out - now)
        self.rec.event(env.now, o.id, ACTIVITY["return_started"], ACTOR["buyer"])
        yield env.timeout(d[RETURN_TIME])
        # The return goes back by the order's own carrier quote (heavier baskets cost more).
        book.close_returned(o, round(d[QUOTE] * o.qty**self.quote_exponent, 2), payer)

    def _troubled(self, o: Order, lost: bool, transit: float, wait: float) -> bool:
        """Whether the parcel of ``o`` is ``lost`` or will be disputed (as not delivered, its
        ``transit`` hours past the buyer's ``wait``, or as not as described)."""
        # _not_as_described, inline: this runs for every parcel shipped.
        return (
            lost
            or transit > wait
            or (not o.is_fraud and o.after_draws[NOT_AS_DESCRIBED] < self.p_not_as_described)
        )

    def _not_as_described(self, o: Order) -> bool:
        """Whether the buyer of ``o`` will dispute it as not as described once delivered."""
        return not o.is_fraud and o.after_draws[NOT_AS_DESCRIBED] < self.p_not_as_described

    def _deliver(self, o: Order, shipped: float, lost: bool, transit: float, wait: float) -> Proc[None]:
        """Process: from shipment (at hour ``shipped``) to the end of a parcel that is ``lost``,
        or will be disputed as not delivered (``wait`` hours after shipment, inf if the buyer
        would not) or as not as described; ``transit`` hours when it arrives."""
        env, book, d = self.env, self.book, o.after_draws
        dispute = None
        if (lost or transit > wait) and wait < math.inf:
            dispute = env.process(self.disputes.open_later(o, "not_delivered", wait))
        if lost:
            # Buyer protection: refunded when the guarantee expires, or when the dispute ends if
            # that comes later (what the dispute awarded is not paid twice).
            if dispute is not None:
                yield dispute
            left = shipped + self.guarantee_h - env.now
            if left > 0.0:
                yield env.timeout(left)
            book.close_lost(o)
            return
        yield env.timeout(transit)
        book.step(o, State.DELIVERED, "delivered", "seller", "delivered_at")
        if dispute is not None:
            if not dispute.triggered:
                yield dispute  # the buyer confirms only once the dispute is over
        elif self._not_as_described(o):
            yield env.process(self.disputes.open_later(o, "not_as_described", d[OPEN_DELAY]))
            book.complete(o, "platform")
            return
        # The buyer confirms, or the platform does once auto_confirm_days have passed.
        if d[CONFIRM] < self.auto_confirm_h:
            yield env.timeout(d[CONFIRM])
            book.complete(o)
        else:
            yield env.timeout(self.auto_confirm_h)
            book.complete(o, "platform")
