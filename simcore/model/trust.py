"""Buyer trust: falls after bad experiences, rises after good orders, drives repeat purchase
and churn (see :class:`simcore.scenario.schema.Trust` for the rules and their parameters)."""

from __future__ import annotations

import math
from array import array

from simcore.scenario.schema import Trust


class BuyerTrust:
    """Trust (0-1) and churn of every legitimate buyer; fraudulent accounts are not tracked.

    Args:
        cfg: The ``buyers.trust`` section.
        n_legit: Legitimate buyers (ids ``0..n_legit-1``).
    """

    __slots__ = ("cfg", "n", "trust", "churned_at", "churned_count", "bad", "good", "_initial", "_gain")

    def __init__(self, cfg: Trust, n_legit: int):
        self.cfg = cfg
        self.n = n_legit
        # Written in place: a list would hold a new float per update (see simcore.model.standing).
        self.trust = array("d", [cfg.initial]) * n_legit
        self.churned_at = array("d", [math.nan]) * n_legit  # hour the buyer left for good
        # Buyers churned so far (those with a churned_at), kept as they churn: the daily
        # snapshot reads it instead of passing over every buyer.
        self.churned_count = 0
        self.bad = 0  # bad experiences counted (all buyers)
        self.good = 0
        # Read at every arrival and every good order: bound here rather than read off the
        # scenario (a pydantic model's attribute costs ~30 ns, a plain object's ~10).
        self._initial, self._gain = cfg.initial, cfg.good_order_gain

    def buys(self, buyer: int, u: float) -> bool:
        """Whether an arriving buyer goes on to order (``u`` uniform in [0, 1))."""
        if buyer >= self.n:
            return True
        if not math.isnan(self.churned_at[buyer]):
            return False
        return u * self._initial < self.trust[buyer]

    def churned(self, buyer: int) -> bool:
        """Whether ``buyer`` has left for good (fraudulent accounts never do)."""
        return buyer < self.n and not math.isnan(self.churned_at[buyer])

    def hit(self, buyer: int, loss: float, u: float, now: float) -> None:
        """A bad experience: trust falls by ``loss``; the buyer churns if ``u`` says so."""
        if buyer >= self.n or loss <= 0.0:
            return
        t = self.trust[buyer] - loss
        t = self.trust[buyer] = t if t > 0.0 else 0.0
        self.bad += 1
        if u < self.cfg.churn_share * (1.0 - t) and math.isnan(self.churned_at[buyer]):
            self.churned_at[buyer] = now
            self.churned_count += 1

    def reward(self, buyer: int) -> None:
        """A good order: trust rises by ``good_order_gain`` (capped at 1)."""
        if buyer >= self.n:
            return
        t = self.trust[buyer] + self._gain
        self.trust[buyer] = t if t < 1.0 else 1.0
        self.good += 1
