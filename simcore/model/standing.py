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

from simcore.errors import ScenarioError
from simcore.policies.penalties import LEVELS, PenaltyRule, penalty_rule
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
        # The decision is the policy's (simcore.policies.penalties); the review carries it out.
        self.rule: PenaltyRule = penalty_rule(penalties)
        self.rule_kind = penalties.rule.label
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
        # Seller-responsible reasons in a fixed order (the penalty rule's ``by_reason``).
        self.by_reason: dict[str, _Rolling] = {
            r: _Rolling(n_sellers) for r in sorted(penalties.seller_responsible)
        }
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

    def seller_cancelled(self, s: int, now: float, reason: str) -> None:
        """Seller ``s`` was responsible for a cancellation for ``reason``."""
        self.cancelled.add(s, now)
        self.by_reason[reason].add(s, now)
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
        since_long = now - (cfg.long_window_days or cfg.window_days) * 24.0
        grace = cfg.grace_days * 24.0
        records = (self.cleared, self.cancelled, self.rulings, *self.by_reason.values())
        # Records that have left the window no longer count for an active seller (a suspended
        # seller's stay as they were until its reinstatement clears them).
        active = np.array(self.active, dtype=bool)
        for r in records:
            r.expire(since, since_long, active)
        levels = self._levels()
        warned_at = np.frombuffer(self.warned_at, np.float64)
        suspended = []
        # Sellers active, unwarned and judged ok are passed over untouched (most sellers on
        # most days; the review runs daily over tens of thousands at scale).
        for s in np.flatnonzero(~active | (levels > 0) | ~np.isnan(warned_at)).tolist():
            if not self.active[s]:
                if self.suspended_until[s] <= now:
                    self.active[s] = True
                    self.suspended_count -= 1
                    self.warned_at[s] = math.nan
                    # A reinstated seller starts a clean window.
                    for r in records:
                        r.clear(s)
                continue
            level = levels[s]
            warned = self.warned_at[s]
            if level == 0:
                if now - warned >= cfg.window_days * 24.0:  # a clean window lifts a warning
                    self.warned_at[s] = math.nan
                continue
            if math.isnan(warned):
                self.warned_at[s] = now
                self.warned_log.append(now, s)
            elif now - warned >= grace and level == 2:
                self._suspend(s, now)
                suspended.append(s)
        return suspended

    def _levels(self) -> np.ndarray:
        """The penalty rule's answer for every seller: 0 ok, 1 warn, 2 suspend. A seller with
        fewer than ``min_orders`` orders in the window is judged on its long window's record."""
        logs = {"orders": self.cleared, "cancellations": self.cancelled, "rulings": self.rulings}
        logs |= self.by_reason
        short = np.frombuffer(self.cleared.count, np.int64) >= self.cfg.min_orders
        record = {
            k: np.where(short, np.frombuffer(log.count, np.int64), np.frombuffer(log.long, np.int64))
            for k, log in logs.items()
        }
        counts = [record.pop(k) for k in ("orders", "cancellations", "rulings")]
        by_reason = record
        rule = self.rule
        vectorised = getattr(rule, "levels", None)
        if vectorised is not None:
            return np.asarray(vectorised(*counts, by_reason), dtype=np.int8)
        levels = np.zeros(len(counts[0]), dtype=np.int8)
        for s, (n, c, k) in enumerate(zip(*(a.tolist() for a in counts), strict=True)):
            try:  # a researcher's rule failing is bad input, not a crash of ours
                answer = rule.judge(n, c, k, {r: int(a[s]) for r, a in by_reason.items()})
            except Exception as exc:
                raise ScenarioError(
                    f"platform.penalties.rule: kind {self.rule_kind} raised {type(exc).__name__}: {exc}"
                ) from None
            if answer not in LEVELS:
                raise ScenarioError(
                    f"platform.penalties.rule: kind {self.rule_kind} answered {answer!r}; a penalty "
                    f"rule answers one of {', '.join(LEVELS)}"
                )
            levels[s] = LEVELS.index(answer)
        return levels

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
    how many each seller has there (``count``, read by the review and by dispute rulings), and
    in the long window small sellers are judged over (``long``; ``platform.penalties
    .long_window_days``, equal to the window when unset).

    One time-ordered log for all sellers rather than an array per seller: tens of thousands of
    small arrays growing all run long reallocate small blocks among the orders in flight, and
    those blocks, outliving the run, keep Python's allocator from returning the orders' memory
    when the run ends (its arenas are returned only when empty; benchmarks/README.md). The
    clock appends in time order, so the records that have left a window are a stretch of the
    log after those already gone.
    """

    __slots__ = ("hours", "sellers", "count", "long", "_start", "_long_start", "_from")

    def __init__(self, n_sellers: int):
        self.hours = array("d")
        self.sellers = array("q")
        self.count = array("q", bytes(8 * n_sellers))
        self.long = array("q", bytes(8 * n_sellers))
        self._start = 0  # first record of the log still in the window
        self._long_start = 0  # first record still in the long window
        self._from = array("q", bytes(8 * n_sellers))  # a seller's records start here

    def add(self, s: int, now: float) -> None:
        self.hours.append(now)
        self.sellers.append(s)
        self.count[s] += 1
        self.long[s] += 1

    def clear(self, s: int) -> None:
        """Forget seller ``s``'s records (a reinstatement)."""
        self.count[s] = 0
        self.long[s] = 0
        self._from[s] = len(self.hours)

    def expire(self, since: float, since_long: float, active: np.ndarray) -> None:
        """Records older than ``since`` (``since_long``) hours leave the window (the long
        window): they no longer count there for the sellers where ``active`` is True, and the
        log forgets what has left both."""
        self._start = self._leave(self._start, since, self.count, active)
        self._long_start = self._leave(self._long_start, since_long, self.long, active)
        end = min(self._start, self._long_start)
        if end > 4096 and 2 * end > len(self.hours):  # keep the log to about the long window
            del self.hours[:end], self.sellers[:end]
            starts = np.frombuffer(self._from, np.int64)
            np.maximum(starts - end, 0, out=starts)
            del starts
            self._start -= end
            self._long_start -= end

    def _leave(self, start: int, since: float, counts: array[int], active: np.ndarray) -> int:
        """Take the records from ``start`` older than ``since`` off ``counts``; the new start."""
        end = bisect_left(self.hours, since, start)
        # Views of the log and the counts (the log cannot shrink while they live).
        sellers = np.frombuffer(self.sellers, np.int64)[start:end]
        counted = np.arange(start, end) >= np.frombuffer(self._from, np.int64)[sellers]
        gone = np.bincount(sellers[counted], minlength=active.size)
        count = np.frombuffer(counts, np.int64)
        count -= np.where(active, gone, 0)
        del sellers, counted, count
        return end
