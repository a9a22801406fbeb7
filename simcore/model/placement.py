"""Placement: an arrival becomes an order (or a lost sale, or a forgone order).

Every arrival draws the same fixed number of numbers from each of its streams whatever happens
to it (:mod:`simcore.model.draws`), so two strategies run on one seed see the same buyers,
baskets, intentions and durations.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from typing import Any, cast

import numpy as np

from simcore.engine.proc import Proc, Unwatched
from simcore.engine.samplers import Sampler, block_sampler, row_sampler, table_rows
from simcore.errors import ScenarioError
from simcore.model import draws
from simcore.model.buyers import Population
from simcore.model.context import RunContext, spec_sampler
from simcore.model.draws import (
    ADDRESS,
    AFTER_TIMES,
    AVOID,
    BURST,
    BUYER,
    CANCEL,
    CARD,
    FRAUD,
    MISMATCH,
    NEGLECT,
    NEW_ACCOUNT,
    NEW_DEVICE,
    PAY_REORDER,
    PAY_REORDER_TIME,
    PAY_TIMES,
    QUOTE,
    REPAYMENT,
    SCREEN,
    SCREEN_TIMES,
    STOLEN,
    STOLEN_FLAGGED,
    TRANSIT,
    TRUST_BUY,
    Durations,
)
from simcore.model.inventory import Inventory
from simcore.model.order import Order
from simcore.model.orderbook import OrderBook
from simcore.model.reputation import Reputation
from simcore.model.traits import SellerTraits
from simcore.model.vocabulary import ACTIVITY, ACTOR, REASONS_BY_INITIATOR, SIGNAL_BIT
from simcore.policies.visibility import visibility
from simcore.scenario.distributions import DistSpec
from simcore.scenario.schema import Scenario

_BUYER_REASONS = REASONS_BY_INITIATOR["buyer"]
_PLACED, _BUYER = ACTIVITY["placed"], ACTOR["buyer"]
_LARGE, _VELOCITY, _UNVERIFIED = SIGNAL_BIT["large_order"], SIGNAL_BIT["velocity"], SIGNAL_BIT["unverified"]
_STOLEN_CARD, _NEW_ACCOUNT = SIGNAL_BIT["stolen_card"], SIGNAL_BIT["new_account"]
_MISMATCH, _NEW_DEVICE = SIGNAL_BIT["address_mismatch"], SIGNAL_BIT["new_device"]
#: A fraud ring's burst is at most this many orders (the Poisson tail beyond is dropped).
MAX_BURST = 200


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
        #: Per destination, per seller: hidden from that destination's buyers
        #: (``platform.listing_visibility``); None when every listing is shown everywhere.
        self.hidden_at = _hidden(scn, traits.blocked)
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
        self.fraud_card_share, self.fraud_cancel_share = f.card_share, f.cancel_share
        self.address_conflict_rate = scn.platform.address_conflict.rate
        # A new order after a failed payment: its payment row is drawn for its visit alone.
        self.reorder_share = b.payment_failure_reorder_share
        self.repayment = _keyed_row(ctx, REPAYMENT, draws.pay_width(scn.payment.max_retries), PAY_TIMES)
        self._ordered_again: set[int] = set()  # visits whose buyer has ordered again
        # What the fraud screen observes, by (legitimate, fraud): the chance of each signal.
        pf = scn.platform.fraud
        self.large_order_usd = pf.large_order_usd
        self.flagged_share = scn.payment.stolen_card_flagged_share
        young_h = pf.new_account_days * 24.0
        self.new_account_p = (b.account_age.cdf_hours(young_h), f.account_age.cdf_hours(young_h))
        self.mismatch_p = (b.address_mismatch_share, f.address_mismatch_share)
        self.new_device_p = (b.new_device_share, f.new_device_share)
        # Rings order in bursts of 1 + Poisson(m - 1) orders from one device: a share of the
        # arrivals starts a burst such that fraud stays fraud_rate of the orders placed
        # (p m / (p m + 1 - p) = fraud_rate).
        m, r = f.burst_orders_mean, b.fraud_rate
        self.burst_start = r / (m * (1.0 - r) + r)
        self.burst_cdf = _poisson_cdf(m - 1.0, MAX_BURST - 1)
        self.bursts = m > 1.0
        self.ring_burst = ctx.streams.keyed(draws.RING_BURST)
        self.burst_gap = f.burst_gap
        self.ring_size = f.ring_size
        self.listing_tries, self.extra_items_mean = b.listing_tries, b.extra_items_mean
        self.popularity_cdf, self.last_sku = cdf, last_sku
        self.burst_layouts = (
            _layout(ctx, draws.N_CHOICES, SCREEN_TIMES, normals=1),
            _layout(ctx, draws.pay_width(scn.payment.max_retries), PAY_TIMES),
            _layout(ctx, draws.N_AFTER, AFTER_TIMES),
        )
        self.dest_specs = [(d.shipping_cost_usd, d.transit_time) for d in destinations.values()]

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

    def _signals(
        self, choice: Sequence[float], is_fraud: bool, stolen: bool, verified: bool, amount: float
    ) -> int:
        """The signal mask of an order (bits of ``SIGNAL_BIT``) but for velocity, from its
        choices row: what the platform can observe, drawn by whether the order is fraud."""
        f = 1 if is_fraud else 0
        mask = 0 if verified else _UNVERIFIED
        if amount > self.large_order_usd:
            mask |= _LARGE
        if stolen and choice[STOLEN_FLAGGED] < self.flagged_share:
            mask |= _STOLEN_CARD
        if choice[NEW_ACCOUNT] < self.new_account_p[f]:
            mask |= _NEW_ACCOUNT
        if choice[MISMATCH] < self.mismatch_p[f]:
            mask |= _MISMATCH
        if choice[NEW_DEVICE] < self.new_device_p[f]:
            mask |= _NEW_DEVICE
        return mask

    def _fraud_cancel(self, u: float) -> str | None:
        """A fraudster's cancel intention from the order's uniform ``u``: ``change_of_mind``
        with ``buyers.fraud.cancel_share``, else none."""
        return "change_of_mind" if u < self.fraud_cancel_share else None

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
        is_fraud = choice[FRAUD] < self.burst_start
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
        sku = self._listing(candidates, qty, after[AVOID] < self.avoid_share, dest)
        if sku < 0:
            self.rec.visit_lost(arrival, now, buyer, forgone=False)
            return None
        if is_fraud:  # by card (stolen or not), else a taken-over account's wallet
            card = choice[CARD] < self.fraud_card_share
            stolen = card and choice[STOLEN] < self.stolen_share
        else:
            card, stolen = choice[CARD] < self.card_share, False
        price = inv.price[sku]
        # Prices are whole cents already (Inventory._list_prices): one unit at its price needs
        # no rounding, and round(x, 2) costs ~0.2 us (a correctly rounded decimal conversion).
        if qty == 1 and not is_fraud:
            amount = price
        else:
            amount = round(price * qty * (self.fraud_multiplier if is_fraud else 1.0), 2)
        seller = sku // inv.skus_per_seller
        verified = bool(pop.verified[buyer])
        signals = self._signals(choice, is_fraud, stolen, verified, amount)
        if self._velocity(pop.device(buyer), now):
            signals |= _VELOCITY
        # In simcore.model.columns.PLACEMENT's order.
        oid = self.rec.new_order(
            arrival,
            buyer,
            seller,
            sku,
            dest,
            qty,
            amount,
            now,
            is_fraud,
            stolen,
            verified,
            0 if card else 1,
            signals,
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
            signals=signals,
            cancel_reason=self._fraud_cancel(u_cancel)
            if is_fraud
            else None
            if u_cancel >= self.cancel_cum[-1]
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
        if is_fraud and self.bursts:
            size = 1 + bisect_left(self.burst_cdf, choice[BURST])
            if size > 1:
                Unwatched(self.env, self._burst(o, arrival, size))
        return o

    def _burst(self, first: Order, arrival: int, size: int) -> Proc[None]:
        """Process: the ring of ``first`` (visit ``arrival``) places ``size - 1`` more orders from
        the same device, each from the ring's next account, ``burst_gap`` apart. Each follow-up's
        numbers come from the ``orders.ring_burst`` generator keyed by the visit, a fixed count
        whatever happens to it; one that finds nothing in stock is skipped (recorded nowhere:
        the visit is the first order's)."""
        env, pop, inv = self.env, self.pop, self.inv
        rng = self.ring_burst(arrival)
        gap = self.burst_gap
        gap_factor = gap.factor_to("hours")
        ring = (first.buyer - pop.n_legit) // self.ring_size
        base = pop.n_legit + ring * self.ring_size
        members = min(self.ring_size, pop.n_legit + pop.n_fraud - base)
        layouts = self.burst_layouts
        for k in range(1, size):
            yield env.timeout(float(gap.draw(rng, 1)[0]) * gap_factor)
            candidates = np.minimum(
                np.searchsorted(self.popularity_cdf, rng.random(self.listing_tries)), self.last_sku
            ).tolist()
            qty = 1 + int(rng.poisson(self.extra_items_mean))
            choice, pay, after = (_draw_row(rng, layout) for layout in layouts)
            buyer = base + (first.buyer - base + k) % members
            dest = pop.dest[buyer]
            quote, transit = self.dest_specs[dest]
            after[QUOTE] = float(quote.draw(rng, 1)[0])
            after[TRANSIT] = float(transit.draw(rng, 1)[0]) * transit.factor_to("hours")
            now = env.now
            if inv.next_due <= now:
                inv.settle(now)
            sku = self._listing(candidates, qty, False, dest)
            if sku < 0:
                continue
            card = choice[CARD] < self.fraud_card_share
            stolen = card and choice[STOLEN] < self.stolen_share
            amount = round(inv.price[sku] * qty * self.fraud_multiplier, 2)
            seller = sku // inv.skus_per_seller
            verified = bool(pop.verified[buyer])
            signals = self._signals(choice, True, stolen, verified, amount)
            if self._velocity(pop.device(buyer), now):
                signals |= _VELOCITY
            self._open(
                arrival,
                now,
                buyer=buyer,
                seller=seller,
                sku=sku,
                dest=dest,
                qty=qty,
                amount=amount,
                is_fraud=True,
                stolen_card=stolen,
                card=card,
                verified=verified,
                signals=signals,
                cancel_reason=self._fraud_cancel(choice[CANCEL]),
                address_conflict=choice[ADDRESS] < self.address_conflict_rate,
                neglected=choice[NEGLECT] < self.neglect_p[seller],
                screen_draws=choice[SCREEN],
                pay_draws=pay,
                after_draws=after,
            )

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
        if self._listing((sku,), qty, False, o.dest) < 0:
            return  # gone meanwhile: the visit ends with the failed order
        card = not o.card
        amount = round(inv.price[sku] * qty, 2)
        # Observed as the failed order was, but for the device's recent orders.
        signals = o.signals & ~_VELOCITY
        if self._velocity(self.pop.device(o.buyer), now):
            signals |= _VELOCITY
        self._open(
            arrival,
            now,
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
            signals=signals,
            cancel_reason=None,
            address_conflict=o.address_conflict,
            neglected=o.neglected,
            screen_draws=o.screen_draws,
            pay_draws=self.repayment(arrival),
            after_draws=o.after_draws,
        )

    def _open(self, arrival: int, now: float, **order: Any) -> Order:
        """Record, build and start an order placed off the arrival process (a ring's follow-up,
        a new order after a failed payment) for visit ``arrival`` at hour ``now``; ``order`` is
        :class:`Order`'s keyword arguments but ``id``. (:meth:`place` does the same inline: it
        runs for every arrival.)"""
        oid = self.rec.new_order(
            arrival,
            order["buyer"],
            order["seller"],
            order["sku"],
            order["dest"],
            order["qty"],
            order["amount"],
            now,
            order["is_fraud"],
            order["stolen_card"],
            order["verified"],
            0 if order["card"] else 1,
            order["signals"],
        )
        o = Order(id=oid, **order)
        self.inv.reserve(o.sku, o.qty)
        self.book.register(o)
        self.rec.event(now, oid, _PLACED, _BUYER)
        Unwatched(self.env, self.lifecycle(o))
        return o

    def _listing(self, candidates: Sequence[int], qty: int, picky: bool, dest: int) -> int:
        """The first candidate listing the buyer can buy ``qty`` of, or -1 (a lost sale).

        Purchasable as the listing shows it (recorded less reserved, unless delisted), from an
        active seller (suspended sellers' listings are hidden) the buyer accepts (a ``picky``
        buyer skips sellers rated under ``low_rating.below``), shown to buyers in destination
        ``dest`` (``platform.listing_visibility``). Ratings are read settled: the buyer's
        :meth:`Reputation.buys` has settled the parcels due by now.
        """
        inv, standing = self.inv, self.reputation.standing
        active, rating, per = standing.active, standing.rating, inv.skus_per_seller
        delisted, recorded, reserved = inv.delisted, inv.recorded, inv.reserved
        hidden = self.hidden_at  # None when every listing is shown everywhere (the default)
        for c in candidates:
            s = c // per  # a seller's catalog is a block of consecutive SKU ids
            if (
                not delisted[c]
                and recorded[c] - reserved[c] >= qty
                and active[s]
                and not (picky and rating[s] < self.avoid_below)
                and (hidden is None or not hidden[dest][s])
            ):
                return c
        return -1


def _hidden(scn: Scenario, blocked: list[list[bool]]) -> list[list[bool]] | None:
    """The visibility policy's answer by destination then seller, or None when it shows all.

    Raises:
        ScenarioError: a researcher's policy answered something other than a boolean array of
            the sellers-by-destinations shape.
    """
    spec = scn.platform.listing_visibility
    policy = visibility(spec)
    if getattr(policy, "show_all", False):
        return None
    routes = np.array(blocked, dtype=bool).reshape(len(blocked), len(scn.shipping.destinations))
    try:
        hidden = np.asarray(policy.hidden(routes.copy(), list(scn.shipping.destinations)))
    except Exception as exc:  # a researcher's policy failing is bad input, not a crash of ours
        raise ScenarioError(
            f"platform.listing_visibility: kind {spec.label} raised {type(exc).__name__}: {exc}"
        ) from None
    if hidden.shape != routes.shape or hidden.dtype != bool:
        raise ScenarioError(
            f"platform.listing_visibility: kind {spec.label} answered an array of shape "
            f"{hidden.shape} and dtype {hidden.dtype}; it answers booleans of shape {routes.shape} "
            "(sellers by destinations)"
        )
    return hidden.T.tolist()


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
    assert all(d.spec is not None for d in durations), "a keyed row has no column filled at placement"
    layout = _layout(ctx, uniforms, durations)
    return lambda arrival: _draw_row(keyed(arrival), layout)


#: A row's layout for drawing it from one generator: uniforms, standard normals, then each
#: duration group as (spec or None for a destination's column, factor to its unit, count).
_Layout = tuple[int, int, list[tuple[DistSpec | None, float, int]]]


def _layout(ctx: RunContext, uniforms: int, durations: tuple[Durations, ...], normals: int = 0) -> _Layout:
    """The layout of a row of ``uniforms`` uniforms, ``normals`` normals and ``durations``."""
    groups: list[tuple[DistSpec | None, float, int]] = []
    for d in durations:
        spec = None if d.spec is None else d.spec(ctx.scn)
        groups.append((spec, 1.0 if spec is None else spec.factor_to(d.unit), d.count(ctx.scn)))
    return uniforms, normals, groups


def _draw_row(rng: np.random.Generator, layout: _Layout) -> array[float]:
    """One row of ``layout`` from ``rng``, as the row samplers give it (single precision); a
    destination's columns are 0, for the caller to fill."""
    uniforms, normals, groups = layout
    # (No normals draws nothing, and a factor of 1 changes nothing: neither costs a numpy call.)
    parts = [rng.random(uniforms), rng.standard_normal(normals)] if normals else [rng.random(uniforms)]
    for spec, factor, n in groups:
        if spec is None:
            parts.append(np.zeros(n))
        else:
            x = spec.draw(rng, n)
            parts.append(x if factor == 1.0 else x * factor)
    return array("f", np.concatenate(parts).astype(np.float32).tobytes())


def _poisson_cdf(mean: float, top: int) -> list[float]:
    """P(X <= k) for k = 0..top - 1 of X ~ Poisson(``mean``): ``1 + bisect_left(cdf, u)`` is
    then 1 + X by inversion of a uniform u, capped at ``top + 1``."""
    cdf, pk, total = [], math.exp(-mean), 0.0
    for k in range(top):
        total += pk
        cdf.append(total)
        pk *= mean / (k + 1)
    return cdf


def _columns(ctx: RunContext, d: Durations) -> Callable[[int], np.ndarray]:
    """The ``(n, count)`` columns of ``d`` for ``n`` arrivals."""
    count = d.count(ctx.scn)
    if d.spec is None:  # BY_DESTINATION: filled at placement from the destination's sampler
        return lambda n: np.zeros((n, count))
    spec = d.spec(ctx.scn)
    rng, factor = ctx.generator(d.stream), spec.factor_to(d.unit)
    # Row-major: an arrival's ``count`` draws are consecutive in the stream.
    return lambda n: (spec.draw(rng, n * count) * factor).reshape(n, count)
