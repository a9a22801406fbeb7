"""Seller catalogs: physical vs recorded stock, record drift, stock counts and restocking.

Stock lives in flat per-SKU lists (index = SKU id) because the event loop reads and writes
single SKUs; the daily accuracy snapshot is one pass over them. A record is *accurate* when
recorded on-hand equals physical on-hand. Units reserved by placed orders stay in both until
the seller picks them. Physical stock is read or changed only after :meth:`Inventory.settle`,
which applies the unrecorded losses due by then.
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import simpy

from simcore.scenario.distributions import Sampler
from simcore.scenario.schema import Sellers


class Inventory:
    """Per-SKU stock state and the listing attributes sellers set.

    Args:
        cfg: ``scenario.sellers``.
        rng: Stream ``inventory.build`` used once to lay out catalogs and initial stock.
        price_rng: Stream ``inventory.prices`` for listing prices and margins.
        item_price: Lognormal spec of unit prices (USD).
        prohibited_share: Share of listings that are prohibited items.
        accuracy_rng: Stream ``sellers.record_accuracy``: each seller's record accuracy when
            ``inventory_accuracy_concentration`` is set.
    """

    def __init__(self, cfg: Sellers, rng, price_rng, item_price, prohibited_share: float, accuracy_rng):
        n_sellers, per = cfg.count, cfg.skus_per_seller
        n = n_sellers * per
        self.n_skus = n
        self.skus_per_seller = per  # seller s lists SKUs s * per .. (s + 1) * per - 1
        # Per-SKU attributes that are not small integers are typed arrays: a Python float or
        # large int in a list costs 32-36 bytes, and a large run has millions of SKUs.

        physical = rng.poisson(cfg.initial_stock_mean, n) + 1
        error = rng.poisson(max(cfg.record_error_mean - 1.0, 0.0), n) + 1
        acc, conc = cfg.inventory_accuracy, cfg.inventory_accuracy_concentration
        if conc is not None and 0.0 < acc < 1.0:
            # Sellers keep records more or less well: Beta-distributed accuracy around the mean.
            acc = np.repeat(accuracy_rng.beta(acc * conc, (1.0 - acc) * conc, n_sellers), per)
        self.seller_accuracy = np.broadcast_to(acc, (n,))[::per].astype(float)
        wrong = rng.random(n) >= acc
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

        sigma2 = np.log1p((item_price.sd / item_price.mean) ** 2)
        mu = np.log(item_price.mean) - sigma2 / 2.0
        self.price = array("d", np.round(price_rng.lognormal(mu, np.sqrt(sigma2), n), 2).tobytes())
        margin = price_rng.normal(cfg.pricing.margin_mean, cfg.pricing.margin_sd, n)
        typo = price_rng.random(n) < cfg.pricing.error_listing_share
        # A price typo (a missing digit) sells far below cost until the seller fixes the listing.
        self.margin = array("d", np.where(typo, -0.5, margin).tobytes())
        self.true_margin = array("d", margin.astype(float).tobytes())
        self.prohibited = bytearray((price_rng.random(n) < prohibited_share).astype(np.uint8).tobytes())
        self._next_loss = math.inf  # hour of the next unrecorded loss (none until shrinkage starts)

    def start_shrinkage(self, rate_per_sku_day: float, gap: Sampler, pick: Sampler) -> None:
        """Start unrecorded losses (theft, damage, mis-picks) at hour 0: a Poisson process of
        ``rate_per_sku_day`` per SKU, each loss taking one unit (if any) from a SKU picked
        uniformly; physical stock drops, the record does not. ``gap`` draws Exp(1) variates,
        ``pick`` U[0, 1).

        Nothing sees a loss until physical stock is looked at, so losses are not clock events
        (there are about as many as orders in the baseline): :meth:`settle` applies those due,
        in time order, whenever physical stock is read or changed. Stock ends up exactly as if
        each loss had been applied at its hour.
        """
        self._loss_rate = rate_per_sku_day * self.n_skus / 24.0  # losses per hour, whole market
        if self._loss_rate <= 0:
            return
        self._gap = gap
        self._pick = pick
        # Hours accumulate as the clock would add each gap to the time of the previous loss.
        self._next_loss = 0.0 + gap() / self._loss_rate

    def settle(self, now: float) -> None:
        """Apply the unrecorded losses due at or before hour ``now``."""
        t = self._next_loss
        if t > now:
            return
        phys, n, rate, gap, pick = self.physical, self.n_skus, self._loss_rate, self._gap, self._pick
        while t <= now:
            sku = int(pick() * n)
            if phys[sku] > 0:
                phys[sku] -= 1
            t += gap() / rate
        self._next_loss = t

    def accuracy(self, now: float) -> float:
        """Share of SKU records equal to physical stock at hour ``now``."""
        self.settle(now)
        same = np.frombuffer(self.physical, np.int64) == np.frombuffer(self.recorded, np.int64)
        return int(np.count_nonzero(same)) / self.n_skus


def stock_count(inv: Inventory, seller: int, now: float) -> None:
    """A seller's full count: records reset to physical stock (Fleisch & Tellkamp)."""
    lo = seller * inv.skus_per_seller
    hi = lo + inv.skus_per_seller
    inv.settle(now)
    inv.recorded[lo:hi] = inv.physical[lo:hi]


def restock(env: simpy.Environment, inv: Inventory, sku: int, quantity: int, lead_time_h: float):
    """A replenishment order arriving after its lead time; received stock is recorded."""
    inv.on_order[sku] = True
    yield env.timeout(lead_time_h)
    inv.settle(env.now)
    inv.physical[sku] += quantity
    inv.recorded[sku] += quantity
    inv.on_order[sku] = False


class Restocker:
    """Triggers replenishment when a listing runs low.

    With low-stock alerts the seller reorders at ``reorder_point`` units on record; without,
    only when the listing shows nothing left.
    """

    def __init__(self, env: simpy.Environment, inv: Inventory, cfg: Sellers, lead_time: Sampler):
        s = cfg.strategy
        self.env = env
        self.inv = inv
        self.point = s.reorder_point if s.low_stock_alert else 0
        self.quantity = s.reorder_quantity
        self.lead_time = lead_time

    def check(self, sku: int) -> None:
        inv = self.inv
        if not inv.on_order[sku] and inv.recorded[sku] - inv.reserved[sku] <= self.point:
            self.env.process(restock(self.env, inv, sku, self.quantity, self.lead_time()))


class Fx:
    """Listing-to-cost exchange rate (geometric random walk, daily steps) and each seller's
    rate at their last repricing."""

    def __init__(self, n_sellers: int):
        self.rate = 1.0
        self.ref: list[float] = [1.0] * n_sellers


def fx_walk(env: simpy.Environment, fx: Fx, volatility: float, normal: Sampler):
    while True:
        yield env.timeout(24.0)
        fx.rate *= float(np.exp(volatility * normal() - volatility**2 / 2.0))


def reprice(fx: Fx, inv: Inventory, seller: int) -> None:
    """A seller re-sets the catalog's prices to today's exchange rate, fixing any price typo."""
    lo = seller * inv.skus_per_seller
    hi = lo + inv.skus_per_seller
    fx.ref[seller] = fx.rate
    inv.margin[lo:hi] = inv.true_margin[lo:hi]
