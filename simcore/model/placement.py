"""Buyers: the population, order arrivals and placement, and buyer cancel requests."""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence

import numpy as np
import simpy

from simcore.engine.calendar import ArrivalRate
from simcore.engine.clock import wait_until
from simcore.model.disputes import AVOID, TRUST_BUY
from simcore.scenario.distributions import Sampler
from simcore.model.vocabulary import ACTIVITY, ACTOR, Order, State
from simcore.model.inventory import Inventory
from simcore.model.orderbook import OrderBook
from simcore.model.parcels import Parcels
from simcore.model.recorder import Recorder
from simcore.scenario.schema import Scenario
from simcore.model.standing import SellerStanding
from simcore.model.trust import BuyerTrust

#: Tries a buyer makes at finding an in-stock listing before giving up (a lost sale).
LISTING_TRIES = 3
#: Uniforms of ``orders.choices`` per arrival: seven placement decisions (fraud, buyer, card,
#: stolen card, cancel intention, address conflict, neglect), then three for the referee.
N_CHOICES = 10
_BUYER_REASONS = ("change_of_mind", "better_deal", "wrong_item")
_PLACED, _BUYER = ACTIVITY["placed"], ACTOR["buyer"]


class Population:
    """Buyer accounts: legitimate buyers ``0..population-1``, then fraudulent accounts.

    Destinations are drawn by ``shipping.destinations`` weights. Fraudsters share devices in
    rings of ``ring_size`` (the "many orders from one IP/device" signal); every legitimate buyer
    has a device of their own.
    """

    def __init__(self, scn: Scenario, rng: np.random.Generator):
        b = scn.buyers
        n_legit, n_fraud = b.population, b.fraud.population
        n = n_legit + n_fraud
        weights = np.array([d.weight for d in scn.shipping.destinations.values()], dtype=float)
        self.n_legit = n_legit
        self.n_fraud = n_fraud
        dest = rng.choice(len(weights), size=n, p=weights / weights.sum())
        self.dest = array("h", dest.astype(np.int16).tobytes())
        verified = rng.random(n) < b.verified_share
        verified[n_legit:] = rng.random(n_fraud) < b.fraud.verified_share
        self.verified = bytearray(verified.astype(np.uint8).tobytes())  # 0/1 flags
        self.ring_size = b.fraud.ring_size

    def device(self, buyer: int) -> int:
        """The device (or IP) ``buyer`` orders from: their own, or their fraud ring's."""
        n = self.n_legit
        return buyer if buyer < n else n + (buyer - n) // self.ring_size


class OrderDesk:
    """Creates orders at arrival times and starts their lifecycle.

    Every order draws the same fixed number of uniforms from each stream whatever happens to
    it, so two strategies run on one seed see the same buyers, baskets and intentions.
    """

    def __init__(
        self,
        env: simpy.Environment,
        scn: Scenario,
        rec: Recorder,
        pop: Population,
        inv: Inventory,
        pick_skus: Callable[[], Sequence[int]],
        choices: Callable[[], Sequence[float]],
        extra_items: Sampler,
        neglect_p: list[float],
        risk_noise: Sampler,
        pay_draws: Callable[[], Sequence[float]],
        after_draws: Callable[[], Sequence[float]],
        book: OrderBook,
        trust: BuyerTrust,
        standing: SellerStanding,
        parcels: Parcels,
        lifecycle: Callable[[Order], object],
    ):
        self.env = env
        self.scn = scn
        self.rec = rec
        self.pop = pop
        self.inv = inv
        self.pick_skus = pick_skus
        self.choices = choices
        self.extra_items = extra_items
        self.neglect_p = neglect_p
        self.risk_noise = risk_noise
        self.pay_draws = pay_draws
        self.after_draws = after_draws
        self.book = book
        self.trust = trust
        self.standing = standing
        self.parcels = parcels
        self.lifecycle = lifecycle
        b = scn.buyers
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

    def place(self) -> Order | None:
        """Place one order now.

        Returns None when the arriving buyer has churned or, with trust lowered, decides not to
        buy (a forgone order), or finds no listing in stock from an active seller they are
        willing to buy from (a lost sale).
        """
        pop, inv = self.pop, self.inv
        now = self.env.now
        self.parcels.settle(now)  # confirmations due by now raise trust and ratings first
        # Every per-order decision is drawn here, a fixed number per arrival, so that the same
        # arrival gets the same numbers under every strategy (common random numbers) even when
        # strategies differ in lost sales or in the order in which orders reach a desk.
        u_fraud, u_buyer, u_card, u_stolen, u_cancel, u_addr, u_neglect, *screen = self.choices()
        screen.append(self.risk_noise())
        pay = self.pay_draws()
        after = self.after_draws()
        qty = 1 + int(self.extra_items())
        is_fraud = u_fraud < self.fraud_rate
        buyer = pop.n_legit + int(u_buyer * pop.n_fraud) if is_fraud else int(u_buyer * pop.n_legit)
        # Every candidate is drawn, so the next arrival's draws do not depend on stock.
        candidates = self.pick_skus()
        if not self.trust.buys(buyer, after[TRUST_BUY]):
            self.rec.forgone_at.append(now)
            return None
        # Listings of suspended sellers are hidden; some buyers skip poorly rated sellers.
        active, rating, per = self.standing.active, self.standing.rating, inv.skus_per_seller
        delisted, recorded, reserved = inv.delisted, inv.recorded, inv.reserved
        picky = after[AVOID] < self.avoid_share
        sku = -1
        for c in candidates:
            s = c // per  # a seller's catalog is a block of consecutive SKU ids
            # Purchasable as the listing shows it (recorded less reserved, unless delisted),
            # from an active seller the buyer accepts.
            if (
                not delisted[c]
                and recorded[c] - reserved[c] >= qty
                and active[s]
                and not (picky and rating[s] < self.avoid_below)
            ):
                sku = c
                break
        if sku < 0:
            self.rec.lost_at.append(now)
            return None
        card = is_fraud or u_card < self.card_share  # fraudsters pay by card
        stolen = is_fraud and u_stolen < self.stolen_share
        amount = round(inv.price[sku] * qty * (self.fraud_multiplier if is_fraud else 1.0), 2)
        cancel_reason = None
        if not is_fraud and u_cancel < self.cancel_cum[-1]:
            for reason, edge in zip(_BUYER_REASONS, self.cancel_cum, strict=True):
                if u_cancel < edge:
                    cancel_reason = reason
                    break
        seller = sku // per
        dest = pop.dest[buyer]
        verified = pop.verified[buyer]
        oid = self.rec.new_order(
            buyer, seller, sku, dest, qty, amount, now, is_fraud, stolen, verified, 0 if card else 1
        )
        o = Order(
            oid,
            buyer,
            seller,
            sku,
            dest,
            qty,
            amount,
            is_fraud,
            stolen,
            card,
            verified,
            self._velocity(pop.device(buyer), now),
            cancel_reason,
            u_addr < self.address_conflict_rate,
            u_neglect < self.neglect_p[seller],
            screen,
            pay,
            after,
        )
        reserved[sku] += qty
        self.book.register(o)
        self.rec.event(now, oid, _PLACED, _BUYER)
        self.env.process(self.lifecycle(o))
        return o


def arrivals(
    env: simpy.Environment, rate: ArrivalRate, gap: Sampler, thin: Sampler, until_h: float, desk: OrderDesk
):
    """Non-homogeneous Poisson arrivals by thinning (Lewis & Shedler): candidate gaps at the
    profile's peak rate, each kept with probability rate(t) / peak. ``gap`` draws Exp(1)."""
    peak = rate.max_rate
    flat = rate.flat
    t = env.now
    while True:
        # Candidate hours accumulate as the clock would add each gap; candidates that thinning
        # rejects change nothing, so they are walked past without a clock event.
        t += gap() / peak
        if t >= until_h:
            return
        if not flat and thin() * peak >= rate(t):
            continue
        yield from wait_until(env, t)
        desk.place()


def cancel_request(
    env: simpy.Environment,
    o: Order,
    book: OrderBook,
    request_time: float,
    response_time: float,
    approve: bool,
    auto_approve_h: float,
):
    """Process: a buyer asks to cancel ``o`` (reason ``o.cancel_reason``) before shipment.

    Unpaid orders are cancelled at once. Paid ones go to the seller, who answers after
    ``response_time``; unanswered after ``auto_approve_h`` the platform approves. After shipment
    the buyer can no longer cancel (the request is never made).
    """
    yield env.timeout(request_time)
    if o.closed or o.state >= State.SHIPPED:
        return
    rec = book.rec
    rec.set("cancel_requested_at", o.id, env.now)
    rec.event(env.now, o.id, ACTIVITY["cancel_requested"], ACTOR["buyer"])
    if not o.paid:
        book.cancel(o, o.cancel_reason)
        return
    if response_time >= auto_approve_h:
        yield env.timeout(auto_approve_h)
        if o.state < State.SHIPPED and not o.closed:
            rec.event(env.now, o.id, ACTIVITY["cancel_auto_approved"], ACTOR["platform"])
            book.cancel(o, o.cancel_reason)
        return
    yield env.timeout(response_time)
    if o.closed or o.state >= State.SHIPPED:
        return
    if approve:
        book.cancel(o, o.cancel_reason)
    else:
        rec.event(env.now, o.id, ACTIVITY["cancel_rejected"], ACTOR["seller"])
