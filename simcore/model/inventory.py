"""Seller catalogs: physical vs recorded stock, record errors, unrecorded losses, stock counts
and replenishment by days of demand.

Stock lives in flat per-SKU typed arrays (index = SKU id) because the event loop reads and
writes single SKUs; the daily accuracy snapshot is one pass over them. A record is *accurate*
when recorded on-hand equals physical on-hand. Units reserved by placed orders stay in both
until the seller picks them.

The world starts in the state its dynamics hold (unless the scenario sets the start-only
``initial_stock_mean`` or ``initial_record_accuracy``): each SKU's stock where its reorder policy
keeps it and each record as wrong as its errors since the seller's last count make it, found by
playing the stock's dynamics from that count (:mod:`simcore.model.prehistory`).

Physical stock and records change only through :class:`Inventory`'s methods, each of which first
applies the unrecorded losses and record drift due by then (:meth:`Inventory.settle`): they are
not clock events, and stock or records read or written without them would be stale.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_right
from collections.abc import Callable, Sequence

import numpy as np
import simpy

from simcore.engine.proc import Proc, Unwatched
from simcore.engine.samplers import BLOCK
from simcore.errors import ScenarioError
from simcore.model.context import RunContext
from simcore.model.draws import RECEIPT_ERROR, RESTOCK_LEAD
from simcore.model.prehistory import StockRules, prehistory, steady_stock
from simcore.model.records import derive_rates, error_size_table
from simcore.policies.stock import reorder_rule
from simcore.scenario.scale import copies
from simcore.scenario.schema import Scenario


class Inventory:
    """Per-SKU stock state and the listing attributes sellers set.

    Streams: ``inventory.build`` (catalog layout and the start-only stock and records, once),
    ``inventory.start`` (the steady-state start: the prehistory), ``inventory.prices`` (prices,
    margins, price typos, prohibited listings), ``sellers.record_accuracy`` (each seller's record
    accuracy when ``inventory_accuracy_concentration`` is set), and for the lazy processes
    (:meth:`start_shrinkage`) ``inventory.shrinkage.gap``,
    ``inventory.shrinkage.pick``, ``inventory.drift.gap``, ``inventory.drift.pick`` and
    ``inventory.drift.error``.

    Args:
        ctx: The run context (``sellers``, ``buyers``, ``platform.prohibited``).
        count_phase: Each seller's first stock count as a share of the count interval (the
            counts recur every ``sync_interval_days``): a record's age at the start follows it.
    """

    def __init__(self, ctx: RunContext, *, count_phase: np.ndarray):
        scn = ctx.scn
        cfg = scn.sellers
        rng = ctx.generator("inventory.build")
        price_rng = ctx.generator("inventory.prices")
        accuracy_rng = ctx.generator("sellers.record_accuracy")
        n_sellers, per = cfg.count, cfg.skus_per_seller
        n = n_sellers * per
        self.n_skus = n
        self.skus_per_seller = per  # seller s lists SKUs s * per .. (s + 1) * per - 1
        # Drawn whatever the start, in this order, so the catalog's layout below is the same.
        start_stock = rng.poisson(cfg.initial_stock_mean or 12.0, n) + 1
        start_error = rng.poisson(max(cfg.record_error_mean - 1.0, 0.0), n) + 1
        start_wrong, start_phantom = rng.random(n), rng.random(n)
        acc, conc = cfg.inventory_accuracy, cfg.inventory_accuracy_concentration
        accuracy: float | np.ndarray = acc
        if conc is not None and 0.0 < acc < 1.0:
            # Sellers keep records more or less well: Beta-distributed accuracy around the mean.
            accuracy = accuracy_rng.beta(acc * conc, (1.0 - acc) * conc, n_sellers)
        #: Each seller's long-run record accuracy under the reference counts (its target).
        self.seller_accuracy = np.broadcast_to(accuracy, (n_sellers,)).astype(float)

        # Popularity: Zipf over each seller's SKUs and over sellers, so some listings sell fast.
        # At scale k > 1, k sellers share each scale-1 rank (simcore.scenario.scale): a Zipf over k
        # times the sellers would give the top ranks more of the demand (its normaliser, a
        # harmonic sum, grows by less than k), so a larger market would not be the same market.
        # Each copy of the market (simcore.scenario.scale.copies) holds one seller of each rank.
        rank_sku = np.tile(np.arange(1, per + 1), n_sellers)
        order = rng.permutation(n_sellers)
        rank_seller = np.repeat(np.ceil((order + 1) / max(scn.scale, 1.0)), per)
        #: Each seller's copy of the market, whose desks' teams serve its orders.
        self.seller_copy: list[int] = (order % copies(scn.scale)).tolist()
        w = (rank_sku * rank_seller) ** -cfg.popularity_skew
        share = w / w.sum()
        # Cumulative, as picking a SKU by popularity needs it (searchsorted on a uniform).
        self.popularity_cdf = np.cumsum(share)
        self.demand_share = share
        self._share_total = share.sum()  # the daily accuracy's denominator (the shares are fixed)
        # Per-SKU arrays cost 14 MB each at a million orders' 1.8 million SKUs: the rates in units
        # are derived from the shares when needed, not kept.
        self._units_scale = scn.buyers.orders_per_hour * 24.0 * (1.0 + scn.buyers.extra_items_mean)
        self._basket = 1.0 + scn.buyers.extra_items_mean

        units = self.units_per_day
        point, quantity = stock_policy(ctx, units)
        self.point = point.tolist()  # read one SKU at a time by the restocker
        self.quantity = quantity.tolist()
        errors_per_day = self._error_rates(ctx, units, quantity)
        self._phantom = cfg.phantom_share
        self._sizes = error_size_table(cfg.record_error_mean)

        start = ctx.generator("inventory.start")
        rules = StockRules(
            units_per_day=units,
            point=point,
            quantity=quantity,
            lead=cfg.strategy.restock_lead_time,
            popularity_cdf=self.popularity_cdf,
            orders_per_day=scn.buyers.orders_per_hour * 24.0,
            extra_items_mean=scn.buyers.extra_items_mean,
            listing_tries=scn.buyers.listing_tries,
            skus_per_seller=per,
            pick_p=self.pick_error_p,
            loss_per_day=self._loss_per_day,
            drift_per_day=self._drift_per_day,
            errors_per_day=errors_per_day,
            mis_key=self._error,
            drift_sizes=lambda k: _signed_sizes(start.random(k), self._phantom, self._sizes),
        )
        #: (SKU, units, hours until arrival) of the replenishments in transit at the start.
        self.in_transit: list[tuple[int, int, float]] = []
        state = None
        if cfg.initial_record_accuracy is None:
            # Records as wrong, and shelves as full, as the dynamics hold them (the prehistory).
            state = prehistory(start, rules, self._record_age(count_phase, ctx))
            error = state.recorded - state.physical
        else:  # start-only: the share accurate at hour 0
            wrong = start_wrong >= cfg.initial_record_accuracy
            phantom = start_phantom < cfg.phantom_share
            error = np.where(wrong, np.where(phantom, start_error, -start_error), 0)
        if cfg.initial_stock_mean is not None:  # start-only: Poisson shelves, nothing on order
            physical, recorded = start_stock, np.maximum(start_stock + error, 0)
        elif state is not None:
            physical, recorded, self.in_transit = state.physical, state.recorded, state.in_transit
        else:  # the policy's stock on record, the shelf off by the start-only error
            recorded, self.in_transit = steady_stock(start, rules)
            physical = np.maximum(recorded - error, 0)
        # Typed arrays, so that the daily accuracy is one vectorised comparison.
        self.physical = array("q", physical.astype(np.int64).tobytes())
        self.recorded = array("q", recorded.astype(np.int64).tobytes())
        self.reserved = array("q", bytes(8 * n))  # units held by orders placed, not picked
        self.on_order = bytearray(n)  # 0/1 flags
        #: Each seller's last full count (hour; before the start: as old as its records), and
        #: the counts it made during the run.
        self.counted_at = array("d", (-24.0 * self._record_age(count_phase, ctx)[::per]).tolist())
        self.counts = array("q", [0]) * n_sellers
        for sku, _, _ in self.in_transit:
            self.on_order[sku] = 1
        self.delisted = bytearray(n)

        self._list_prices(ctx, price_rng)
        # The lazy processes (none until start_shrinkage): hour of the next loss and drift.
        self._next_loss = math.inf
        self._next_drift = math.inf
        #: Hour of the next loss or drift, the earlier of the two (``settle(now)`` does nothing
        #: before it; callers on the hot path test it before calling).
        self.next_due = math.inf
        self._losses: Callable[[], tuple[float, int, int]] = _no_events
        self._drifts: Callable[[], tuple[float, int, int]] = _no_events
        self._loss_sku = self._drift_sku = self._drift_error = 0

    @property
    def units_per_day(self) -> np.ndarray:
        """Expected units sold a day, by SKU: the arrivals' mean rate spread by popularity."""
        return self.demand_share * self._units_scale

    def _list_prices(self, ctx: RunContext, price_rng: np.random.Generator) -> None:
        """Prices (USD), margins, price typos and prohibited listings, by SKU."""
        scn, cfg, n = ctx.scn, ctx.scn.sellers, self.n_skus
        item_price = scn.buyers.item_price_usd
        sigma2 = np.log1p((item_price.sd / item_price.mean) ** 2)
        mu = np.log(item_price.mean) - sigma2 / 2.0
        self.price = array("d", np.round(price_rng.lognormal(mu, np.sqrt(sigma2), n), 2).tobytes())
        p = cfg.pricing
        # The seller's target margin: gamma, so every listing is priced above its cost (drawn
        # whatever the sd, so that the stream's later draws do not depend on it).
        shape = (p.margin_mean / p.margin_sd) ** 2 if p.margin_sd > 0 else 1.0
        margin = price_rng.gamma(shape, p.margin_mean / shape, n)
        if p.margin_sd == 0:
            margin = np.full(n, p.margin_mean)
        typo = price_rng.random(n) < start_typo_share(scn)
        # A price typo (a missing digit) sells far below cost until the seller fixes the listing.
        self.typo_margin = scn.sellers.pricing.typo_margin
        self.margin = array("d", np.where(typo, self.typo_margin, margin).tobytes())
        self.true_margin = array("d", margin.astype(float).tobytes())
        prohibited = price_rng.random(n) < scn.platform.prohibited.listing_share
        self.prohibited = bytearray(prohibited.astype(np.uint8).tobytes())

    def _error_rates(self, ctx: RunContext, units: np.ndarray, quantity: np.ndarray) -> np.ndarray:
        """Derive the record-error rates from the sellers' target accuracies
        (:mod:`simcore.model.records`); return each SKU's errors a day, losses included."""
        cfg = ctx.scn.sellers
        transactions = units / self._basket + units / quantity  # picks and receipts a day
        self._loss_per_day = cfg.shrink_share * units + cfg.shrinkage_per_sku_day
        rates = derive_rates(
            self.seller_accuracy,
            transactions,
            self._loss_per_day,
            self.skus_per_seller,
            cfg.accuracy_count_days,
            cfg.transaction_error_share,
        )
        self.pick_error_p = rates.pick_p.tolist()  # by seller
        self._drift_per_day = rates.drift_per_day
        return rates.total_per_day

    # ------------------------------------------------------------------ the start

    def _record_age(self, count_phase: np.ndarray, ctx: RunContext) -> np.ndarray:
        """Each SKU record's age at the start: days since its seller last counted stock."""
        cfg = ctx.scn.sellers
        sync = cfg.strategy.sync_interval_days
        # The last count was one interval before the first; never counted: records start as
        # under the reference counts, then drift.
        age_days = count_phase * cfg.accuracy_count_days if sync is None else (1.0 - count_phase) * sync
        return np.repeat(age_days, self.skus_per_seller)

    # ------------------------------------------------------------------ losses and drift

    def start_shrinkage(self, ctx: RunContext) -> None:
        """Start, at hour 0, the unrecorded losses and the record drift.

        Losses (theft, damage: ``shrink_share`` of units sold, plus ``shrinkage_per_sku_day``) are
        a Poisson process over all SKUs, each loss taking one unit (if any) from a SKU picked in
        proportion to its loss rate: physical stock drops, the record does not. Drift (record
        errors that come with time, not transactions) is a Poisson process whose errors change a
        SKU's record by a signed size: up (overstating stock) with ``phantom_share``.

        Nothing sees either until stock or records are looked at, so they are not clock events:
        :meth:`settle` applies those due, in time order, whenever stock or records are read or
        changed. Both end up exactly as if each had been applied at its hour.
        """
        loss, drift = self._loss_per_day, self._drift_per_day
        # Only their samplers' cumulative shares are needed from here on (14 MB each at 1.8M SKUs).
        del self._loss_per_day, self._drift_per_day
        loss_rate = float(loss.sum()) / 24.0  # per hour, all SKUs
        drift_rate = float(drift.sum()) / 24.0
        loss_gap = ctx.generator("inventory.shrinkage.gap")
        loss_pick = ctx.generator("inventory.shrinkage.pick")
        drift_gap = ctx.generator("inventory.drift.gap")
        drift_pick = ctx.generator("inventory.drift.pick")
        drift_error = ctx.generator("inventory.drift.error")
        if loss_rate > 0:
            self._losses = _events(
                loss_gap, loss_rate, _sku_blocks(loss, loss_pick), lambda k: np.ones(k, np.int64)
            )
            self._next_loss, self._loss_sku, _ = self._losses()
        if drift_rate > 0:
            sizes, phantom = self._sizes, self._phantom
            self._drifts = _events(
                drift_gap,
                drift_rate,
                _sku_blocks(drift, drift_pick),
                lambda k: _signed_sizes(drift_error.random(k), phantom, sizes),
            )
            self._next_drift, self._drift_sku, self._drift_error = self._drifts()
        self.next_due = min(self._next_loss, self._next_drift)

    def settle(self, now: float) -> None:
        """Apply the unrecorded losses and record drift due at or before hour ``now``."""
        if self.next_due > now:
            return
        phys, rec, losses, drifts = self.physical, self.recorded, self._losses, self._drifts
        t_loss, loss_sku = self._next_loss, self._loss_sku
        t_drift, drift_sku, drift_error = self._next_drift, self._drift_sku, self._drift_error
        while True:
            if t_loss <= t_drift:
                if t_loss > now:
                    break
                if phys[loss_sku] > 0:
                    phys[loss_sku] -= 1
                t_loss, loss_sku, _ = losses()
            else:
                if t_drift > now:
                    break
                r = rec[drift_sku] + drift_error
                rec[drift_sku] = r if r > 0 else 0
                t_drift, drift_sku, drift_error = drifts()
        self._next_loss, self._loss_sku = t_loss, loss_sku
        self._next_drift, self._drift_sku, self._drift_error = t_drift, drift_sku, drift_error
        self.next_due = min(t_loss, t_drift)

    def _error(self, u: float, p: float) -> int:
        """The signed record error a transaction makes given its uniform ``u`` (0: none):
        ``u < p`` errs; the rest of ``u`` sets the direction and the size."""
        if u >= p:
            return 0
        v = u / p
        phantom = self._phantom
        if v < phantom:
            return 1 + bisect_right(self._sizes, v / phantom)
        return -1 - bisect_right(self._sizes, (v - phantom) / (1.0 - phantom))

    # ------------------------------------------------------------------ stock

    def accuracy(self, now: float) -> tuple[float, float]:
        """At hour ``now``: the share of SKU records equal to physical stock (as the field
        studies count them), and that share weighted by each SKU's demand."""
        if self.next_due <= now:
            self.settle(now)
        same = np.frombuffer(self.physical, np.int64) == np.frombuffer(self.recorded, np.int64)
        # Over the sum of all, not 1: summed in float, the shares' total may pass 1 by an ulp.
        weighted = float(self.demand_share.sum(where=same) / self._share_total)
        return int(np.count_nonzero(same)) / self.n_skus, weighted

    def reserve(self, sku: int, qty: int) -> None:
        """A placed order holds ``qty`` units of ``sku`` until the seller picks them."""
        self.reserved[sku] += qty

    def release(self, sku: int, qty: int) -> None:
        """An order no longer holds its ``qty`` units (picked, or cancelled)."""
        self.reserved[sku] -= qty

    def short(self, sku: int, qty: int, now: float) -> bool:
        """Whether the shelf holds fewer than ``qty`` units of ``sku`` at hour ``now``; if so,
        the seller, having looked, corrects the record to what is there."""
        if self.next_due <= now:
            self.settle(now)
        if self.physical[sku] < qty:
            self.recorded[sku] = self.physical[sku]
            return True
        return False

    def pick(self, sku: int, qty: int, now: float, u: float) -> None:
        """The seller takes ``qty`` units of ``sku`` off the shelf and off the record, mis-keying
        the record if the order's uniform ``u`` says so (the order's own draw: a lever that
        changes other orders leaves this one's error as it was)."""
        if self.next_due <= now:
            self.settle(now)
        self.physical[sku] -= qty
        p = self.pick_error_p[sku // self.skus_per_seller]
        rec = self.recorded[sku] - qty + (self._error(u, p) if u < p else 0)
        self.recorded[sku] = rec if rec > 0 else 0

    def put_back(self, sku: int, qty: int, now: float) -> None:
        """Picked units go back on the shelf (and on the record): the order never shipped, or
        its parcel came back (a return)."""
        if self.next_due <= now:
            self.settle(now)
        self.physical[sku] += qty
        self.recorded[sku] += qty

    def receive(self, sku: int, qty: int, now: float, u: float) -> None:
        """A replenishment of ``qty`` units arrives and is recorded, mis-keyed if its uniform
        ``u`` says so (drawn when it was ordered)."""
        if self.next_due <= now:
            self.settle(now)
        self.physical[sku] += qty
        err = self._error(u, self.pick_error_p[sku // self.skus_per_seller])
        rec = self.recorded[sku] + qty + err
        self.recorded[sku] = rec if rec > 0 else 0

    def count(self, seller: int, now: float) -> None:
        """A seller's full count: records reset to physical stock (Fleisch & Tellkamp)."""
        self.counted_at[seller] = now
        self.counts[seller] += 1
        lo = seller * self.skus_per_seller
        hi = lo + self.skus_per_seller
        if self.next_due <= now:
            self.settle(now)
        self.recorded[lo:hi] = self.physical[lo:hi]

    def delist(self, sku: int) -> None:
        """Take listing ``sku`` down (a prohibited item caught): buyers no longer see it."""
        self.delisted[sku] = True

    def relist(self, sku: int) -> None:
        """Put listing ``sku`` back up (its seller lists the prohibited item again)."""
        self.delisted[sku] = False

    def shows_stock(self, sku: int, now: float) -> bool:
        """Whether listing ``sku`` shows units for sale at hour ``now`` (what a buyer sees)."""
        if self.next_due <= now:
            self.settle(now)
        return not self.delisted[sku] and self.recorded[sku] - self.reserved[sku] > 0

    def typo(self, sku: int) -> None:
        """A seller's edit of listing ``sku`` leaves a price typo (until the next repricing)."""
        self.margin[sku] = self.typo_margin

    def reset_margins(self, seller: int) -> None:
        """A seller's catalog back to its target margins (a repricing fixes any price typo)."""
        lo = seller * self.skus_per_seller
        hi = lo + self.skus_per_seller
        self.margin[lo:hi] = self.true_margin[lo:hi]


def start_typo_share(scn: Scenario) -> float:
    """Listings with a price typo at the start: ``sellers.pricing.error_listing_share``, or the
    steady share when unset: a listing's typos a day times the half repricing interval a typo
    waits on average for its seller's repricing."""
    p = scn.sellers.pricing
    if p.error_listing_share is not None:
        return p.error_listing_share
    return min(1.0, p.typos_per_listing_year / 365.0 * scn.sellers.strategy.repricing_interval_days / 2.0)


def stock_policy(ctx: RunContext, units_per_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each SKU's reorder point and quantity (units), as the reorder rule
    (``sellers.strategy.reorder_rule``, :mod:`simcore.policies.stock`) sets them from its
    expected demand. Without low-stock alerts the seller reorders only when a listing shows
    nothing left (point 0).

    Raises:
        ScenarioError: a researcher's rule answered something other than two arrays of whole
            units, one per SKU (points >= 0, quantities >= 1).
    """
    s = ctx.scn.sellers.strategy
    spec = s.reorder_rule
    try:
        point, quantity = (np.asarray(a) for a in reorder_rule(s).levels(units_per_day.copy()))
    except Exception as exc:  # a researcher's rule failing is bad input, not a crash of ours
        raise ScenarioError(
            f"sellers.strategy.reorder_rule: kind {spec.label} raised {type(exc).__name__}: {exc}"
        ) from None
    n = len(units_per_day)
    for name, levels, low in (("points", point, 0), ("quantities", quantity, 1)):
        if levels.shape != (n,) or levels.dtype.kind not in "iu" or (n and int(levels.min()) < low):
            raise ScenarioError(
                f"sellers.strategy.reorder_rule: kind {spec.label} answered {name} of shape "
                f"{levels.shape} and dtype {levels.dtype}; it answers {n} whole numbers >= {low}, "
                "one per SKU"
            )
    point, quantity = point.astype(np.int64), quantity.astype(np.int64)
    if not s.low_stock_alert:
        point = np.zeros_like(point)
    return point, quantity


def _no_events() -> tuple[float, int, int]:
    return math.inf, 0, 0


def _events(
    gap_rng: np.random.Generator,
    rate: float,
    skus: Callable[[int], np.ndarray],
    changes: Callable[[int], np.ndarray],
) -> Callable[[], tuple[float, int, int]]:
    """The events of a Poisson process of ``rate`` an hour from hour 0, one per call, in time
    order: (hour, SKU, change), drawn in blocks. Each hour is the previous one plus an Exp(1)
    gap over the rate, added in order as the clock would add each gap (cumsum from the last)."""

    def blocks():
        t = 0.0
        while True:
            gaps = gap_rng.exponential(1.0, BLOCK) / rate
            hours = np.cumsum(np.concatenate(([t], gaps)))[1:]
            t = float(hours[-1])
            yield from zip(hours.tolist(), skus(BLOCK).tolist(), changes(BLOCK).tolist(), strict=True)

    return blocks().__next__


def _sku_blocks(rates: np.ndarray, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """``k`` SKUs drawn with probability proportional to ``rates`` (one uniform each)."""
    cdf = np.cumsum(rates / rates.sum())
    last = len(cdf) - 1
    return lambda k: np.minimum(np.searchsorted(cdf, rng.random(k), side="right"), last)


def _signed_sizes(u: np.ndarray, phantom: float, sizes: list[float]) -> np.ndarray:
    """Record errors from uniforms ``u``: up (overstating stock) when ``u < phantom``, by
    ``1 + Poisson`` units read off the cumulative ``sizes`` table."""
    up = u < phantom
    w = np.where(up, u / max(phantom, 1e-300), (u - phantom) / max(1.0 - phantom, 1e-300))
    size = 1 + np.searchsorted(np.asarray(sizes), w, side="right")
    return np.where(up, size, -size)


class Restocker:
    """Triggers replenishment when a listing runs low, and when a count finds it low.

    The seller reorders a SKU's own quantity when its stock on record (less reserved units) is
    at or below its own reorder point (:func:`stock_policy`) and nothing is on order. A reorder
    an order's pick (or cancellation) triggers takes its lead time and its receipt's record-error
    uniform from that order's draws (:mod:`simcore.model.draws`), so a lever that leaves the
    order alone leaves its reorder alone too. Reorders a count triggers, and those in transit at
    the start, draw them from ``inventory.count_restock_lead_time`` and
    ``inventory.receipt_errors``, in event order: they belong to the counting schedule, which
    the sync lever itself moves.

    Args:
        ctx: The run context (``sellers.strategy``).
        inventory: The stock.
    """

    def __init__(self, ctx: RunContext, *, inventory: Inventory):
        s = ctx.scn.sellers.strategy
        self.env = ctx.env
        self.inv = inventory
        self.lead_time = ctx.sampler(s.restock_lead_time, "inventory.count_restock_lead_time")
        self.receipt_error = ctx.uniform("inventory.receipt_errors")

    def start(self) -> None:
        """Send on their way the replenishments in transit at the start."""
        inv = self.inv
        for sku, qty, due_h in inv.in_transit:
            Unwatched(self.env, restock(self.env, inv, sku, qty, due_h, self.receipt_error()))
        # Those already at or below their reorder point (found empty shelves): the rest would
        # pass check() without ordering, and a million-order world has 1.8 million SKUs.
        shows = np.frombuffer(inv.recorded, np.int64) - np.frombuffer(inv.reserved, np.int64)
        for sku in np.flatnonzero(shows <= np.asarray(inv.point)).tolist():
            self.check(sku)

    def check(self, sku: int, after_draws: Sequence[float] | None = None) -> None:
        """Reorder ``sku`` if it shows its reorder point or fewer units and none are on order;
        ``after_draws``: those of the order whose pick or cancellation prompts the check
        (None for a count's)."""
        inv = self.inv
        if not inv.on_order[sku] and inv.recorded[sku] - inv.reserved[sku] <= inv.point[sku]:
            # Flagged now, not when the process first runs: another check at this hour (a count,
            # then a pick) must not order again.
            inv.on_order[sku] = True
            if after_draws is None:
                lead, u = self.lead_time(), self.receipt_error()
            else:
                lead, u = after_draws[RESTOCK_LEAD], after_draws[RECEIPT_ERROR]
            Unwatched(self.env, restock(self.env, inv, sku, inv.quantity[sku], lead, u))

    def count(self, seller: int) -> None:
        """A seller's full count (records reset to the shelf), then a reorder of every SKU the
        count finds at or below its reorder point."""
        inv = self.inv
        inv.count(seller, self.env.now)
        lo = seller * inv.skus_per_seller
        for sku in range(lo, lo + inv.skus_per_seller):
            self.check(sku)


def restock(
    env: simpy.Environment, inv: Inventory, sku: int, quantity: int, lead_time_h: float, u: float
) -> Proc[None]:
    """Process: a replenishment order (flagged on order by its caller) arriving after its lead
    time; received stock is recorded (mis-keyed if the uniform ``u`` says so)."""
    yield env.timeout(lead_time_h)
    inv.receive(sku, quantity, env.now, u)
    inv.on_order[sku] = False
