"""Reputation: buyers' trust and sellers' standing behind one object whose every write first
settles the parcels due by then.

Untroubled parcels raise trust and ratings when the buyer confirms, but they are settled lazily
(:mod:`simcore.model.parcels`): a confirmation due at 10:00 is applied when something next looks
at trust or ratings. So whatever changes trust or a rating (or reads them, as a buyer deciding
to order does) must first apply the confirmations due by now, in time order; a trust loss
applied before an earlier confirmation's gain would clip differently at 0 and 1 and draw churn
from another trust. That invariant lives here, in the one object the desks write through, not in
its callers.
"""

from __future__ import annotations

from simcore.model.parcels import Parcels
from simcore.model.standing import SellerStanding
from simcore.model.trust import BuyerTrust


class Reputation:
    """Trust and standing, written (and read by buyers deciding to order) settled.

    Args:
        trust: Buyer trust.
        standing: Seller standing.
        parcels: The untroubled parcels, whose confirmations are applied first.

    Attributes:
        trust, standing: The state, for reading (the review, collection, ratings a buyer
            compares right after :meth:`buys` has settled).
    """

    __slots__ = ("trust", "standing", "_settle", "_due", "order_cleared", "ruling_share", "churned")

    def __init__(self, *, trust: BuyerTrust, standing: SellerStanding, parcels: Parcels):
        self.trust = trust
        self.standing = standing
        self._settle = parcels.settle
        # Read before settling: a buyer arrives every few minutes, a confirmation falls due far
        # less often, and the check is then an attribute's read, not two calls.
        self._due = parcels.queue
        # Neither changes nor reads what a confirmation changes, so they need no settling and
        # are the standing's own methods (order_cleared runs once per order).
        #: ``order_cleared(seller, now)``: an order was handed to ``seller`` (the denominator of
        #: its cancellation rate).
        self.order_cleared = standing.order_cleared
        #: ``ruling_share(seller)``: rulings against ``seller`` per order cleared, in the window.
        self.ruling_share = standing.ruling_share
        #: ``churned(buyer)``: the buyer has left for good (only bad experiences change it).
        self.churned = trust.churned

    # ------------------------------------------------------------------ buyers

    def buys(self, buyer: int, u: float, now: float) -> bool:
        """Whether an arriving ``buyer`` goes on to order at hour ``now`` (``u`` uniform)."""
        if self._due.due_at <= now:
            self._settle(now)
        return self.trust.buys(buyer, u)

    def reward_buyer(self, buyer: int, now: float) -> None:
        """A good order: the buyer's trust rises."""
        self._settle(now)
        self.trust.reward(buyer)

    def hit_buyer(self, buyer: int, loss: float, u: float, now: float) -> None:
        """A bad experience: the buyer's trust falls by ``loss``; ``u`` draws churn."""
        self._settle(now)
        self.trust.hit(buyer, loss, u, now)

    # ------------------------------------------------------------------ sellers

    def credit_seller(self, seller: int, now: float) -> None:
        """An order of ``seller`` completed without a dispute the seller paid out on."""
        self._settle(now)
        self.standing.order_good(seller)

    def seller_cancelled(self, seller: int, now: float, reason: str) -> None:
        """``seller`` was responsible for a cancellation for ``reason``."""
        self._settle(now)
        self.standing.seller_cancelled(seller, now, reason)

    def dispute_lost(self, seller: int, now: float, *, ruled: bool) -> None:
        """``seller`` lost a dispute; ``ruled`` when the platform decided it."""
        self._settle(now)
        self.standing.dispute_lost(seller, now, ruled)
