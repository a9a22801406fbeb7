"""Placement: an arrival becomes an order (or a lost sale, or a forgone order).

Every arrival draws the same fixed number of numbers from each of its streams whatever happens
to it (:mod:`simcore.model.draws`), so two strategies run on one seed see the same buyers,
baskets, intentions and durations.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np

from simcore.engine.proc import Proc, Unwatched
from simcore.engine.samplers import Sampler, block_sampler, row_sampler, table_rows
from simcore.model import draws
from simcore.model.buyers import Population
from simcore.model.context import RunContext, spec_sampler
from simcore.model.draws import (
    ADDRESS,
    AFTER_TIMES,
    AVOID,
    BUYER,
    CANCEL,
    CARD,
    FRAUD,
    NEGLECT,
    PAY_REORDER,
    PAY_REORDER_TIME,
    PAY_TIMES,
    QUOTE,
    REPAYMENT,
    SCREEN,
    SCREEN_TIMES,
    STOLEN,
    TRANSIT,
    TRUST_BUY,
    Durations,
)
from simcore.model.inventory import Inventory
from simcore.model.order import Order
from simcore.model.orderbook import OrderBook
from simcore.model.reputation import Reputation
from simcore.model.traits import SellerTraits
from simcore.model.vocabulary import ACTIVITY, ACTOR, REASONS_BY_INITIATOR

_BUYER_REASONS = REASONS_BY_INITIATOR["buyer"]
_PLACED, _BUYER = ACTIVITY["placed"], ACTOR["buyer"]


class OrderDesk:
    """Creates orders at arrival times and starts their lifecycle.

    Streams: ``orders.sku`` (listings tried, by popularity), ``orders.extra_items``, and those of
    the arrival's three rows (:mod:`simcore.model.draws`: ``orders.choices``,
    ``orders.risk_noise``, ``orders.payment``, ``orders.aftermath`` and one per duration, the
    destination's ``shipping.quotes`` and ``shipping.transit.NAME`` among them). Each arrival
    gets an id, its index among all arrivals (``arrival_id``), recorded for lost and forgone
    visits too.

    Args:
        ctx: The run context.
        population: The buyers.
        inventory: Listings, their stock on record and prices.
        traits: The sellers' traits (neglect).
        book: The order book (registers each order).
        reputation: Buyer trust and seller standing (who buys, whom buyers skip).
        lifecycle: The order's process, started at placement.
    """

    def __init__(
        self,
        ctx: RunContext,
        *,
        population: Population,
        inventory: Inventory,
        traits: SellerTraits,
        book: OrderBook,
        reputation: Reputation,
        lifecycle: Callable[[Order], Proc[None]],
    ):
        scn, b = ctx.scn, ctx.scn.buyers
        self.env = ctx.env
        self.rec = ctx.rec
        self.pop = population
        self.inv = inventory
        self.book = book
        self.reputation = reputation
        self.lifecycle = lifecycle
        self.neglect_p = traits.neglect_p
        cdf, last_sku = inventory.popularity_cdf, inventory.n_skus - 1
        sku_rng = ctx.generator("orders.sku")
        # Every candidate is drawn, so the next arrival's draws do not depend on stock.
        self.pick_skus = cast(
            Callable[[], Sequence[int]],  # rows of int64 SKU ids
            row_sampler(
                lambda n: np.minimum(np.searchsorted(cdf, sku_rng.random(n)), last_sku), b.listing_tries
            ),
        )
        # The arrival's three rows (simcore.model.draws), each column from its own stream.
        noise = ctx.generator("orders.risk_noise")
        self.choices = _rows(
            ctx, "orders.choices", draws.N_CHOICES, SCREEN_TIMES, lambda n: noise.standard_normal((n, 1))
        )
        items_rng = ctx.generator("orders.extra_items")
        self.extra_items = block_sampler(lambda n: items_rng.poisson(b.extra_items_mean, n))
        self.pay_draws = _rows(ctx, "orders.payment", draws.pay_width(scn.payment.max_retries), PAY_TIMES)
        self.after_draws = _rows(ctx, "orders.aftermath", draws.N_AFTER, AFTER_TIMES)
        # The destination's quote and transit time, drawn for every arrival (placed or not).
        destinations = scn.shipping.destinations
        quote_rng = ctx.generator("shipping.quotes")  # one stream for every destination's quotes
        self.quote: list[Sampler] = [
            spec_sampler(d.shipping_cost_usd, quote_rng, d.shipping_cost_usd.unit)
            for d in destinations.values()
        ]
        self.transit: list[Sampler] = [
            ctx.sampler(d.transit_time, f"shipping.transit.{name}") for name, d in destinations.items()
        ]
        # Arrivals so far: the next arrival's id (its index among the visits, whatever came of them).
        self.arrivals = 0
        wrong = b.cancel.wrong_item * (
            b.cancel.double_check_wrong_item_factor if b.cancel.double_check else 1.0
        )
        self.cancel_cum = np.cumsum([b.cancel.change_of_mind, b.cancel.better_deal, wrong]).tolist()
        self.avoid_below = b.low_rating.below
        self.avoid_share = b.low_rating.share
        self.velocity_window = scn.platform.fraud.velocity_window_hours
        self.velocity_limit = scn.platform.fraud.velocity_limit
        # Order hours of each device seen within the window; devices gone quiet are dropped
        # every window (most devices order once), as their next order starts afresh anyway.
        self.recent: dict[int, list[float]] = {}
        self._purge_at = self.velocity_window
        # Read once per arrival: bound here rather than looked up through the scenario.
        f = b.fraud
        self.fraud_rate, self.card_share = b.fraud_rate, b.card_share
        self.stolen_share, self.fraud_multiplier = f.stolen_card_share, f.amount_multiplier
        self.address_conflict_rate = scn.platform.address_conflict.rate
        # A new order after a failed payment: its payment row is drawn for its visit alone.
        self.reorder_share = b.payment_failure_reorder_share
        self.repayment = _keyed_row(ctx, REPAYMENT, draws.pay_width(scn.payment.max_retries), PAY_TIMES)
        self._ordered_again: set[int] = set()  # visits whose buyer has ordered again

    def _velocity(self, device: int, now: float) -> bool:
        """Whether ``device`` has ``velocity_limit`` orders (this one included) in the window."""
        if now >= self._purge_at:
            since = now - self.velocity_window
            self.recent = {d: q for d, q in self.recent.items() if q[-1] >= since}
            self._purge_at = now + self.velocity_window
        q = self.recent.get(device)
        if q is None:
            self.recent[device] = [now]
            return self.velocity_limit <= 1
        q.append(now)
        if q[0] < now - self.velocity_window:
            del q[: bisect_left(q, now - self.velocity_window)]
        return len(q) >= self.velocity_limit

    def _cancel_intention(self, u: float) -> str | None:
        """The reason a legitimate buyer will ask to cancel for (``u`` uniform), or None."""
        for reason, edge in zip(_BUYER_REASONS, self.cancel_cum, strict=True):
            if u < edge:
                return reason
        return None

    def place(self) -> Order | None:
        """Place one order now.

        Returns None when the arriving buyer has churned or, with trust lowered, decides not to
        buy (a forgone order), or finds no listing in stock from an active seller they are
        willing to buy from (a lost sale).
        """
        pop, inv, rep = self.pop, self.inv, self.reputation
        now = self.env.now
        # Every per-order decision and duration is drawn here, a fixed number per arrival, so
        # that the same arrival gets the same numbers under every strategy (common random
        # numbers) even when strategies differ in lost sales or in the order in which orders
        # reach a desk.
        arrival = self.arrivals
        self.arrivals = arrival + 1
        choice = self.choices()
        pay = self.pay_draws()
        after = self.after_draws()
        qty = 1 + int(self.extra_items())
        is_fraud = choice[FRAUD] < self.fraud_rate
        u_buyer = choice[BUYER]
        buyer = pop.n_legit + int(u_buyer * pop.n_fraud) if is_fraud else int(u_buyer * pop.n_legit)
        dest = pop.dest[buyer]
        after[QUOTE] = self.quote[dest]()
        after[TRANSIT] = self.transit[dest]()
        candidates = self.pick_skus()
        if not rep.buys(buyer, after[TRUST_BUY], now):
            self.rec.visit_lost(arrival, now, buyer, forgone=True)
            return None
        if inv.next_due <= now:
            inv.settle(now)  # records as their drift leaves them by now
        sku = self._listing(candidates, qty, after[AVOID] < self.avoid_share)
        if sku < 0:
            self.rec.visit_lost(arrival, now, buyer, forgone=False)
            return None
        card = is_fraud or choice[CARD] < self.card_share  # fraudsters pay by card
        stolen = is_fraud and choice[STOLEN] < self.stolen_share
        price = inv.price[sku]
        # Prices are whole cents already (Inventory._list_prices): one unit at its price needs
        # no rounding, and round(x, 2) costs ~0.2 us (a correctly rounded decimal conversion).
        if qty == 1 and not is_fraud:
            amount = price
        else:
            amount = round(price * qty * (self.fraud_multiplier if is_fraud else 1.0), 2)
        seller = sku // inv.skus_per_seller
        verified = bool(pop.verified[buyer])
        # In simcore.model.columns.PLACEMENT's order.
        oid = self.rec.new_order(
            arrival, buyer, seller, sku, dest, qty, amount, now, is_fraud, stolen, verified, 0 if card else 1
        )
        u_cancel = choice[CANCEL]
        # Order.__init__ on a bare instance rather than Order(...): under Python 3.11 calling a
        # class packs these 18 keywords into a dict and unpacks them again (~0.5 us an order, 1% of
        # a run); calling the function takes them as they are. The same constructor either way.
        o = Order.__new__(Order)
        Order.__init__(
            o,
            id=oid,
            buyer=buyer,
            seller=seller,
            sku=sku,
            dest=dest,
            qty=qty,
            amount=amount,
            is_fraud=is_fraud,
            stolen_card=stolen,
            card=card,
            verified=verified,
            velocity_flag=self._velocity(pop.device(buyer), now),
            cancel_reason=None
            if is_fraud or u_cancel >= self.cancel_cum[-1]
            else self._cancel_intention(u_cancel),
            address_conflict=choice[ADDRESS] < self.address_conflict_rate,
            neglected=choice[NEGLECT] < self.neglect_p[seller],
            screen_draws=choice[SCREEN],
            pay_draws=pay,
            after_draws=after,
        )
        inv.reserve(sku, qty)
        self.book.register(o)
        self.rec.event(now, oid, _PLACED, _BUYER)
        Unwatched(self.env, self.lifecycle(o))
        return o

    def order_again(self, o: Order) -> None:
        """``o`` failed payment or verification: with ``payment_failure_reorder_share`` its buyer
        orders the same again after ``payment_failure_reorder_time``, paying the other way (card
        <-> wallet). Once per visit (a new order that fails too is not retried); fraudsters
        move on."""
        if o.is_fraud or o.after_draws[PAY_REORDER] >= self.reorder_share:
            return
        arrival = int(self.rec.orders["arrival_id"][o.id])
        if arrival in self._ordered_again:
            return
        self._ordered_again.add(arrival)
        Unwatched(self.env, self._order_again(o, arrival))

    def _order_again(self, o: Order, arrival: int) -> Proc[None]:
        """Process: the buyer of failed ``o`` (visit ``arrival``) orders again, if they have not
        churned and the listing still shows the units; the visit's other draws carry over (its
        screening, seller and aftermath draws were not used), its payment row is its own."""
        yield self.env.timeout(o.after_draws[PAY_REORDER_TIME])
        inv, now = self.inv, self.env.now
        if self.reputation.churned(o.buyer):
            return
        if inv.next_due <= now:
            inv.settle(now)
        sku, qty = o.sku, o.qty
        if self._listing((sku,), qty, picky=False) < 0:
            return  # gone meanwhile: the visit ends with the failed order
        card = not o.card
        amount = round(inv.price[sku] * qty, 2)
        method = 0 if card else 1
        oid = self.rec.new_order(
            arrival, o.buyer, o.seller, sku, o.dest, qty, amount, now, False, False, o.verified, method
        )
        again = Order.__new__(Order)
        Order.__init__(
            again,
            id=oid,
            buyer=o.buyer,
            seller=o.seller,
            sku=sku,
            dest=o.dest,
            qty=qty,
            amount=amount,
            is_fraud=False,
            stolen_card=False,
            card=card,
            verified=o.verified,
            velocity_flag=self._velocity(self.pop.device(o.buyer), now),
            cancel_reason=None,
            address_conflict=o.address_conflict,
            neglected=o.neglected,
            screen_draws=o.screen_draws,
            pay_draws=self.repayment(arrival),
            after_draws=o.after_draws,
        )
        inv.reserve(sku, qty)
        self.book.register(again)
        self.rec.event(now, oid, _PLACED, _BUYER)
        Unwatched(self.env, self.lifecycle(again))

    def _listing(self, candidates: Sequence[int], qty: int, picky: bool) -> int:
        """The first candidate listing the buyer can buy ``qty`` of, or -1 (a lost sale).

        Purchasable as the listing shows it (recorded less reserved, unless delisted), from an
        active seller (suspended sellers' listings are hidden) the buyer accepts (a ``picky``
        buyer skips sellers rated under ``low_rating.below``). Ratings are read settled: the
        buyer's :meth:`Reputation.buys` has settled the parcels due by now.
        """
        inv, standing = self.inv, self.reputation.standing
        active, rating, per = standing.active, standing.rating, inv.skus_per_seller
        delisted, recorded, reserved = inv.delisted, inv.recorded, inv.reserved
        for c in candidates:
            s = c // per  # a seller's catalog is a block of consecutive SKU ids
            if (
                not delisted[c]
                and recorded[c] - reserved[c] >= qty
                and active[s]
                and not (picky and rating[s] < self.avoid_below)
            ):
                return c
        return -1


def _rows(
    ctx: RunContext,
    stream: str,
    uniforms: int,
    durations: tuple[Durations, ...],
    *between: Callable[[int], np.ndarray],
) -> Callable[[], array[float]]:
    """An arrival's row: ``uniforms`` uniforms of ``stream``, the ``between`` columns, then
    ``durations``, each group drawn from its own stream (:mod:`simcore.model.draws`)."""
    u_rng = ctx.generator(stream)
    parts = [lambda n: u_rng.random((n, uniforms)), *between, *(_columns(ctx, d) for d in durations)]
    return table_rows(lambda n: np.hstack([p(n) for p in parts]))


def _keyed_row(
    ctx: RunContext, stream: str, uniforms: int, durations: tuple[Durations, ...]
) -> Callable[[int], array[float]]:
    """One arrival's row of ``stream`` keyed by its id (:meth:`simcore.engine.streams.Streams.keyed`):
    ``uniforms`` uniforms, then ``durations`` in their units, all from the arrival's generator."""
    keyed = ctx.streams.keyed(stream)
    specs = []  # (spec, factor to the column's unit, draws an arrival)
    for d in durations:
        assert d.spec is not None, "a keyed row has no column filled at placement"
        spec = d.spec(ctx.scn)
        specs.append((spec, spec.factor_to(d.unit), d.count(ctx.scn)))

    def row(arrival: int) -> array[float]:
        rng = keyed(arrival)
        parts = [rng.random(uniforms)] + [spec.draw(rng, n) * factor for spec, factor, n in specs]
        return array("f", np.concatenate(parts).astype(np.float32).tobytes())

    return row


def _columns(ctx: RunContext, d: Durations) -> Callable[[int], np.ndarray]:
    """The ``(n, count)`` columns of ``d`` for ``n`` arrivals."""
    count = d.count(ctx.scn)
    if d.spec is None:  # BY_DESTINATION: filled at placement from the destination's sampler
        return lambda n: np.zeros((n, count))
    spec = d.spec(ctx.scn)
    rng, factor = ctx.generator(d.stream), spec.factor_to(d.unit)
    # Row-major: an arrival's ``count`` draws are consecutive in the stream.
    return lambda n: (spec.draw(rng, n * count) * factor).reshape(n, count)
