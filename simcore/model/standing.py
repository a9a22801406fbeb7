"""Seller standing: rating, the platform's rolling seller metrics, warnings and suspensions.

The rules and their parameters are documented on :class:`simcore.scenario.schema.SellerRating`
and :class:`simcore.scenario.schema.Penalties`. :meth:`SellerStanding.review` is the platform's
periodic look at every seller; it returns the sellers it suspends, whose open orders the review
process (:mod:`simcore.model.review`) then cancels. Writes that change a rating go through
:class:`simcore.model.reputation.Reputation`, which settles due parcels first.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterator

import numpy as np

from simcore.scenario.schema import Penalties, SellerRating


class SellerStanding:
    """Per-seller rating, rolling records and penalty state.

    Args:
        rating: The ``platform.seller_rating`` section.
        penalties: The ``platform.penalties`` section.
        n_sellers: Sellers in the run.
    """

    def __init__(self, rating: SellerRating, penalties: Penalties, n_sellers: int):
        self.cfg = penalties
        self.prior_good = rating.prior * rating.prior_weight
        self.prior_weight = rating.prior_weight
        # Typed arrays, written in place: a list would hold a new float or int object per
        # update, and those that outlive the run keep the allocator from returning the memory
        # of the orders freed around them when it ends (see _Rolling).
        self.good = array("q", bytes(8 * n_sellers))
        self.bad = array("q", bytes(8 * n_sellers))
        self.rating = array("d", [rating.prior]) * n_sellers
        self.active = [True] * n_sellers
        # Rolling records the platform's review looks at, counted per seller.
        self.cleared = _Rolling(n_sellers)
        self.cancelled = _Rolling(n_sellers)
        self.rulings = _Rolling(n_sellers)
        self.warned_at = array("d", [math.nan]) * n_sellers
        self.suspended_until = array("d", [0.0]) * n_sellers
        self.suspended_count = 0  # sellers suspended right now
        # Penalty history: each warning and each suspension.
        self.warned_log = PenaltyLog()
        self.suspended_log = PenaltyLog()

    def _rate(self, s: int) -> None:
        good, bad = self.good[s], self.bad[s]
        self.rating[s] = (good + self.prior_good) / (good + bad + self.prior_weight)

    def order_cleared(self, s: int, now: float) -> None:
        """An order was handed to seller ``s`` (the denominator of its cancellation rate)."""
        self.cleared.add(s, now)

    def order_good(self, s: int) -> None:
        """An order of seller ``s`` completed without a dispute lost by the seller."""
        self.good[s] += 1
        self._rate(s)

    def seller_cancelled(self, s: int, now: float) -> None:
        """Seller ``s`` was responsible for a cancellation."""
        self.cancelled.add(s, now)
        self.bad[s] += 1
        self._rate(s)

    def dispute_lost(self, s: int, now: float, ruled: bool) -> None:
        """Seller ``s`` lost a dispute; ``ruled`` when the platform decided it (a
        seller-responsibility ruling) rather than the seller settling."""
        if ruled:
            self.rulings.add(s, now)
        self.bad[s] += 1
        self._rate(s)

    def ruling_share(self, s: int) -> float:
        """Rulings against seller ``s`` per order cleared, over the penalty window."""
        n = self.cleared.count[s]
        return self.rulings.count[s] / n if n else 0.0

    def review(self, now: float) -> list[int]:
        """The platform's periodic look at every seller: reinstate, warn, suspend.

        Returns:
            The sellers suspended now, in seller order (their open orders are to be cancelled).
        """
        cfg = self.cfg
        since = now - cfg.window_days * 24.0
        grace = cfg.grace_days * 24.0
        records = (self.cleared, self.cancelled, self.rulings)
        # Records that have left the window no longer count for an active seller (a suspended
        # seller's stay as they were until its reinstatement clears them).
        active = np.array(self.active, dtype=bool)
        for r in records:
            r.expire(since, active)
        cleared, cancelled, rulings_of = (r.count for r in records)
        suspended = []
        for s in self._to_review(now, active).tolist():
            if not self.active[s]:
                if self.suspended_until[s] <= now:
                    self.active[s] = True
                    self.suspended_count -= 1
                    self.warned_at[s] = math.nan
                    # A reinstated seller starts a clean window.
                    for r in records:
                        r.clear(s)
                continue
            n = cleared[s]
            # A seller with fewer than min_orders in the window is not judged on its rate.
            rate = cancelled[s] / n if n >= cfg.min_orders else math.nan
            rulings = rulings_of[s]
            warned = self.warned_at[s]
            if not rate >= cfg.warn_cancel_rate and rulings < cfg.warn_rulings:  # NaN: not judged
                if now - warned >= cfg.window_days * 24.0:  # a clean window lifts a warning
                    self.warned_at[s] = math.nan
                continue
            if math.isnan(warned):
                self.warned_at[s] = now
                self.warned_log.append(now, s)
            elif now - warned >= grace and (
                rate >= cfg.suspend_cancel_rate or rulings >= cfg.suspend_rulings
            ):
                self._suspend(s, now)
                suspended.append(s)
        return suspended

    def _to_review(self, now: float, active: np.ndarray) -> np.ndarray:
        """The sellers :meth:`review` may change at hour ``now``, in seller order: all but those
        active, unwarned and under both warning lines, which it would pass over untouched (most
        sellers on most days; the review runs daily over tens of thousands at scale). The same
        division and comparisons as the review's, vectorised, so the same sellers pass."""
        cfg = self.cfg
        cleared, cancelled, rulings = (
            np.frombuffer(r.count, np.int64) for r in (self.cleared, self.cancelled, self.rulings)
        )
        rate = np.divide(
            cancelled, cleared, out=np.full(cleared.size, math.nan), where=cleared >= cfg.min_orders
        )
        with np.errstate(invalid="ignore"):  # NaN rates: not judged, as in the review
            over = (rate >= cfg.warn_cancel_rate) | (rulings >= cfg.warn_rulings)
        warned = ~np.isnan(np.frombuffer(self.warned_at, np.float64))
        return np.flatnonzero(~active | over | warned)

    def _suspend(self, s: int, now: float) -> None:
        days = self.cfg.suspension_days
        self.active[s] = False
        self.suspended_until[s] = math.inf if days is None else now + days * 24.0
        self.suspended_count += 1
        self.suspended_log.append(now, s)


class PenaltyLog:
    """The hour and seller of each warning (or each suspension), in time order; iterates as
    ``(hour, seller)`` pairs."""

    __slots__ = ("hours", "sellers")

    def __init__(self) -> None:
        self.hours = array("d")
        self.sellers = array("q")

    def append(self, now: float, s: int) -> None:
        self.hours.append(now)
        self.sellers.append(s)

    def __len__(self) -> int:
        return len(self.hours)

    def __iter__(self) -> Iterator[tuple[float, int]]:
        return zip(self.hours, self.sellers, strict=True)

    def __reversed__(self) -> Iterator[tuple[float, int]]:
        return zip(reversed(self.hours), reversed(self.sellers), strict=True)


class _Rolling:
    """Every seller's records of one kind (event hours) in the platform's rolling window, and
    how many each seller has there (``count``, read by the review and by dispute rulings).

    One time-ordered log for all sellers rather than an array per seller: tens of thousands of
    small arrays growing all run long reallocate small blocks among the orders in flight, and
    those blocks, outliving the run, keep Python's allocator from returning the orders' memory
    when the run ends (its arenas are returned only when empty; benchmarks/README.md). The
    clock appends in time order, so the records that have left the window are a stretch of the
    log after those already gone.
    """

    __slots__ = ("hours", "sellers", "count", "_start", "_from")

    def __init__(self, n_sellers: int):
        self.hours = array("d")
        self.sellers = array("q")
        self.count = array("q", bytes(8 * n_sellers))
        self._start = 0  # first record of the log still in the window
        self._from = array("q", bytes(8 * n_sellers))  # a seller's records start here

    def add(self, s: int, now: float) -> None:
        self.hours.append(now)
        self.sellers.append(s)
        self.count[s] += 1

    def clear(self, s: int) -> None:
        """Forget seller ``s``'s records (a reinstatement)."""
        self.count[s] = 0
        self._from[s] = len(self.hours)

    def expire(self, since: float, active: np.ndarray) -> None:
        """Records older than ``since`` (hours) leave the window: they no longer count for the
        sellers where ``active`` is True, and the log forgets them."""
        start = self._start
        end = bisect_left(self.hours, since, start)
        # Views of the log and the counts (the log cannot shrink while they live).
        sellers = np.frombuffer(self.sellers, np.int64)[start:end]
        counted = np.arange(start, end) >= np.frombuffer(self._from, np.int64)[sellers]
        gone = np.bincount(sellers[counted], minlength=active.size)
        count = np.frombuffer(self.count, np.int64)
        count -= np.where(active, gone, 0)
        del sellers, counted, count
        self._start = end
        if end > 4096 and 2 * end > len(self.hours):  # keep the log to about the window
            del self.hours[:end], self.sellers[:end]
            starts = np.frombuffer(self._from, np.int64)
            np.maximum(starts - end, 0, out=starts)
            del starts
            self._start = 0
