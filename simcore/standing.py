"""Seller standing: rating, the platform's rolling seller metrics, warnings and suspensions.

The rules and their parameters are documented on :class:`simcore.schema.SellerRating` and
:class:`simcore.schema.Penalties`. The platform's periodic review is the process
:func:`seller_review`; suspending a seller cancels its open orders through the order book.
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from typing import TYPE_CHECKING

import simpy

from simcore.schema import Penalties, SellerRating

if TYPE_CHECKING:  # the order book imports this module; only the type goes the other way
    from simcore.orders import OrderBook

#: Cancel reasons the platform holds against the seller.
SELLER_RESPONSIBLE = frozenset(
    {"out_of_stock", "pricing_error", "shipping_restriction", "ship_deadline_missed"}
)


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
        self.good = [0] * n_sellers
        self.bad = [0] * n_sellers
        self.rating = [rating.prior] * n_sellers
        self.active = [True] * n_sellers
        # Rolling records (event hours, ascending) the platform's review looks at; typed arrays
        # because a large run has tens of thousands of sellers (an empty deque is ten times the
        # size of an empty array).
        self.cleared = [array("d") for _ in range(n_sellers)]
        self.cancelled = [array("d") for _ in range(n_sellers)]
        self.rulings = [array("d") for _ in range(n_sellers)]
        self.warned_at = [math.nan] * n_sellers
        self.suspended_until = [0.0] * n_sellers
        self.suspended_count = 0  # sellers suspended right now
        # Penalty history: (hour, seller) of each warning and each suspension.
        self.warned_log: list[tuple[float, int]] = []
        self.suspended_log: list[tuple[float, int]] = []

    def _rate(self, s: int) -> None:
        good, bad = self.good[s], self.bad[s]
        self.rating[s] = (good + self.prior_good) / (good + bad + self.prior_weight)

    def order_cleared(self, s: int, now: float) -> None:
        """An order was handed to seller ``s`` (the denominator of its cancellation rate)."""
        self.cleared[s].append(now)

    def order_good(self, s: int) -> None:
        """An order of seller ``s`` completed without a dispute lost by the seller."""
        self.good[s] += 1
        self._rate(s)

    def seller_cancelled(self, s: int, now: float) -> None:
        """Seller ``s`` was responsible for a cancellation."""
        self.cancelled[s].append(now)
        self.bad[s] += 1
        self._rate(s)

    def dispute_lost(self, s: int, now: float, ruled: bool) -> None:
        """Seller ``s`` lost a dispute; ``ruled`` when the platform decided it (a
        seller-responsibility ruling) rather than the seller settling."""
        if ruled:
            self.rulings[s].append(now)
        self.bad[s] += 1
        self._rate(s)

    def ruling_share(self, s: int) -> float:
        """Rulings against seller ``s`` per order cleared, over the penalty window."""
        n = len(self.cleared[s])
        return len(self.rulings[s]) / n if n else 0.0

    def review(self, now: float, book: OrderBook) -> None:
        """The platform's periodic look at every seller: reinstate, warn, suspend."""
        cfg = self.cfg
        since = now - cfg.window_days * 24.0
        grace = cfg.grace_days * 24.0
        for s in range(len(self.rating)):
            if not self.active[s]:
                if self.suspended_until[s] <= now:
                    self.active[s] = True
                    self.suspended_count -= 1
                    self.warned_at[s] = math.nan
                    # A reinstated seller starts a clean window.
                    del self.cleared[s][:], self.cancelled[s][:], self.rulings[s][:]
                continue
            for q in (self.cleared[s], self.cancelled[s], self.rulings[s]):
                if q and q[0] < since:
                    del q[: bisect_left(q, since)]
            n = len(self.cleared[s])
            # A seller with fewer than min_orders in the window is not judged on its rate.
            rate = len(self.cancelled[s]) / n if n >= cfg.min_orders else math.nan
            rulings = len(self.rulings[s])
            warned = self.warned_at[s]
            if not rate >= cfg.warn_cancel_rate and rulings < cfg.warn_rulings:  # NaN: not judged
                if now - warned >= cfg.window_days * 24.0:  # a clean window lifts a warning
                    self.warned_at[s] = math.nan
                continue
            if math.isnan(warned):
                self.warned_at[s] = now
                self.warned_log.append((now, s))
            elif now - warned >= grace and (
                rate >= cfg.suspend_cancel_rate or rulings >= cfg.suspend_rulings
            ):
                self._suspend(s, now, book)

    def _suspend(self, s: int, now: float, book: OrderBook) -> None:
        days = self.cfg.suspension_days
        self.active[s] = False
        self.suspended_until[s] = math.inf if days is None else now + days * 24.0
        self.suspended_count += 1
        self.suspended_log.append((now, s))
        book.cancel_open_orders(s, "seller_suspended")


def seller_review(env: simpy.Environment, standing: SellerStanding, book: OrderBook, interval_h: float):
    """Process: the platform reviews every seller each ``interval_h`` hours."""
    while True:
        yield env.timeout(interval_h)
        standing.review(env.now, book)
