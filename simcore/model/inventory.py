"""Seller catalogs: physical vs recorded stock, record drift, stock counts and restocking.

Stock lives in flat per-SKU typed arrays (index = SKU id) because the event loop reads and
writes single SKUs; the daily accuracy snapshot is one pass over them. A record is *accurate*
when recorded on-hand equals physical on-hand. Units reserved by placed orders stay in both
until the seller picks them.

Physical stock changes only through :class:`Inventory`'s methods, each of which first applies
the unrecorded losses due by then (:meth:`Inventory.settle`): losses are not clock events, and
physical stock read or written without them would be stale.
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import simpy

from simcore.engine.proc import Proc
from simcore.engine.samplers import Sampler
from simcore.model.context import RunContext
from simcore.scenario.distributions import Exponential

_EXP1 = Exponential(dist="exponential", mean=1.0)


class Inventory:
    """Per-SKU stock state and the listing attributes sellers set.

    Streams: ``inventory.build`` (catalog layout and initial stock, once), ``inventory.prices``
    (prices, margins, price typos, prohibited listings), ``sellers.record_accuracy`` (each
    seller's record accuracy when ``inventory_accuracy_concentration`` is set), and for the
    losses (:meth:`start_shrinkage`) ``inventory.shrinkage.gap`` and ``inventory.shrinkage.pick``.

    Args:
        ctx: The run context (``sellers``, ``buyers.item_price_usd``, ``platform.prohibited``).
    """

    def __init__(self, ctx: RunContext):
        scn = ctx.scn
        cfg = scn.sellers
        rng = ctx.generator("inventory.build")
        price_rng = ctx.generator("inventory.prices")
        accuracy_rng = ctx.generator("sellers.record_accuracy")
        n_sellers, per = cfg.count, cfg.skus_per_seller
        n = n_sellers * per
        self.n_skus = n
        self.skus_per_seller = per  # seller s lists SKUs s * per .. (s + 1) * per - 1
        # Per-SKU attributes that are not small integers are typed arrays: a Python float or
        # large int in a list costs 32-36 bytes, and a large run has millions of SKUs.

        physical = rng.poisson(cfg.initial_stock_mean, n) + 1
        error = rng.poisson(max(cfg.record_error_mean - 1.0, 0.0), n) + 1
        acc, conc = cfg.inventory_accuracy, cfg.inventory_accuracy_concentration
        accuracy: float | np.ndarray = acc
        if conc is not None and 0.0 < acc < 1.0:
            # Sellers keep records more or less well: Beta-distributed accuracy around the mean.
            accuracy = np.repeat(accuracy_rng.beta(acc * conc, (1.0 - acc) * conc, n_sellers), per)
        self.seller_accuracy = np.broadcast_to(accuracy, (n,))[::per].astype(float)
        wrong = rng.random(n) >= accuracy
        phantom = (rng.random(n) < cfg.phantom_share) | (physical <= error)
        recorded = np.where(wrong, np.where(phantom, physical + error, physical - error), physical)
        # Typed arrays, so that the daily accuracy is one vectorised comparison.
        self.physical = array("q", physical.astype(np.int64).tobytes())
        self.recorded = array("q", recorded.astype(np.int64).tobytes())
        self.reserved = array("q", bytes(8 * n))  # units held by orders placed, not picked
        self.on_order = bytearray(n)  # 0/1 flags
        self.delisted = bytearray(n)

        # Popularity: Zipf over each seller's SKUs and over sellers, so some listings sell fast.
        rank_sku = np.tile(np.arange(1, per + 1), n_sellers)
        rank_seller = np.repeat(rng.permutation(n_sellers) + 1, per)
        w = (rank_sku * rank_seller.astype(float)) ** -cfg.popularity_skew
        # Cumulative, as picking a SKU by popularity needs it (searchsorted on a uniform).
        self.popularity_cdf = np.cumsum(w / w.sum())

        item_price = scn.buyers.item_price_usd
        sigma2 = np.log1p((item_price.sd / item_price.mean) ** 2)
        mu = np.log(item_price.mean) - sigma2 / 2.0
        self.price = array("d", np.round(price_rng.lognormal(mu, np.sqrt(sigma2), n), 2).tobytes())
        margin = price_rng.normal(cfg.pricing.margin_mean, cfg.pricing.margin_sd, n)
        typo = price_rng.random(n) < cfg.pricing.error_listing_share
        # A price typo (a missing digit) sells far below cost until the seller fixes the listing.
        self.margin = array("d", np.where(typo, -0.5, margin).tobytes())
        self.true_margin = array("d", margin.astype(float).tobytes())
        prohibited = price_rng.random(n) < scn.platform.prohibited.listing_share
        self.prohibited = bytearray(prohibited.astype(np.uint8).tobytes())
        self._next_loss = math.inf  # hour of the next unrecorded loss (none until shrinkage starts)
        self._loss_rate = 0.0
        self._gap: Sampler | None = None
        self._pick: Sampler | None = None

    # ------------------------------------------------------------------ unrecorded losses

    def start_shrinkage(self, ctx: RunContext) -> None:
        """Start unrecorded losses (theft, damage, mis-picks) at hour 0: a Poisson process of
        ``sellers.shrinkage_per_sku_day`` per SKU, each loss taking one unit (if any) from a
        SKU picked uniformly; physical stock drops, the record does not.

        Nothing sees a loss until physical stock is looked at, so losses are not clock events
        (there are about as many as orders in the baseline): :meth:`settle` applies those due,
        in time order, whenever physical stock is read or changed. Stock ends up exactly as if
        each loss had been applied at its hour.
        """
        gap = ctx.sampler(_EXP1, "inventory.shrinkage.gap")
        pick = ctx.uniform("inventory.shrinkage.pick")
        self._loss_rate = ctx.scn.sellers.shrinkage_per_sku_day * self.n_skus / 24.0  # per hour, all SKUs
        if self._loss_rate <= 0:
            return
        self._gap, self._pick = gap, pick
        # Hours accumulate as the clock would add each gap to the time of the previous loss.
        self._next_loss = 0.0 + gap() / self._loss_rate

    def settle(self, now: float) -> None:
        """Apply the unrecorded losses due at or before hour ``now``."""
        t = self._next_loss
        if t > now:
            return
        phys, n, rate, gap, pick = self.physical, self.n_skus, self._loss_rate, self._gap, self._pick
        assert gap is not None and pick is not None  # a loss is due only once shrinkage started
        while t <= now:
            sku = int(pick() * n)
            if phys[sku] > 0:
                phys[sku] -= 1
            t += gap() / rate
        self._next_loss = t

    # ------------------------------------------------------------------ stock

    def accuracy(self, now: float) -> float:
        """Share of SKU records equal to physical stock at hour ``now``."""
        self.settle(now)
        same = np.frombuffer(self.physical, np.int64) == np.frombuffer(self.recorded, np.int64)
        return int(np.count_nonzero(same)) / self.n_skus

    def reserve(self, sku: int, qty: int) -> None:
        """A placed order holds ``qty`` units of ``sku`` until the seller picks them."""
        self.reserved[sku] += qty

    def release(self, sku: int, qty: int) -> None:
        """An order no longer holds its ``qty`` units (picked, or cancelled)."""
        self.reserved[sku] -= qty

    def short(self, sku: int, qty: int, now: float) -> bool:
        """Whether the shelf holds fewer than ``qty`` units of ``sku`` at hour ``now``; if so,
        the seller, having looked, corrects the record to what is there."""
        self.settle(now)
        if self.physical[sku] < qty:
            self.recorded[sku] = self.physical[sku]
            return True
        return False

    def pick(self, sku: int, qty: int, now: float) -> None:
        """The seller takes ``qty`` units of ``sku`` off the shelf (and off the record)."""
        self.settle(now)
        self.physical[sku] -= qty
        self.recorded[sku] -= qty

    def put_back(self, sku: int, qty: int, now: float) -> None:
        """Picked units go back on the shelf (and on the record): the order never shipped."""
        self.settle(now)
        self.physical[sku] += qty
        self.recorded[sku] += qty

    def receive(self, sku: int, qty: int, now: float) -> None:
        """A replenishment of ``qty`` units arrives and is recorded."""
        self.settle(now)
        self.physical[sku] += qty
        self.recorded[sku] += qty

    def count(self, seller: int, now: float) -> None:
        """A seller's full count: records reset to physical stock (Fleisch & Tellkamp)."""
        lo = seller * self.skus_per_seller
        hi = lo + self.skus_per_seller
        self.settle(now)
        self.recorded[lo:hi] = self.physical[lo:hi]

    def delist(self, sku: int) -> None:
        """Take listing ``sku`` down (a prohibited item caught): buyers no longer see it."""
        self.delisted[sku] = True

    def reset_margins(self, seller: int) -> None:
        """A seller's catalog back to its true margins (a repricing fixes any price typo)."""
        lo = seller * self.skus_per_seller
        hi = lo + self.skus_per_seller
        self.margin[lo:hi] = self.true_margin[lo:hi]


class Restocker:
    """Triggers replenishment when a listing runs low.

    With low-stock alerts the seller reorders at ``reorder_point`` units on record; without,
    only when the listing shows nothing left. Stream: ``inventory.restock_lead_time``.

    Args:
        ctx: The run context (``sellers.strategy``).
        inventory: The stock.
    """

    def __init__(self, ctx: RunContext, *, inventory: Inventory):
        s = ctx.scn.sellers.strategy
        self.env = ctx.env
        self.inv = inventory
        self.point = s.reorder_point if s.low_stock_alert else 0
        self.quantity = s.reorder_quantity
        self.lead_time = ctx.sampler(s.restock_lead_time, "inventory.restock_lead_time")

    def check(self, sku: int) -> None:
        """Reorder ``sku`` if it shows ``reorder_point`` units or fewer and none are on order."""
        inv = self.inv
        if not inv.on_order[sku] and inv.recorded[sku] - inv.reserved[sku] <= self.point:
            self.env.process(restock(self.env, inv, sku, self.quantity, self.lead_time()))


def restock(
    env: simpy.Environment, inv: Inventory, sku: int, quantity: int, lead_time_h: float
) -> Proc[None]:
    """Process: a replenishment order arriving after its lead time; received stock is recorded."""
    inv.on_order[sku] = True
    yield env.timeout(lead_time_h)
    inv.receive(sku, quantity, env.now)
    inv.on_order[sku] = False
