"""The platform's periodic review of its sellers: warnings, suspensions, and the cancellation
of a suspended seller's open orders."""

from __future__ import annotations

import simpy

from simcore.engine.proc import Proc
from simcore.model.orderbook import OrderBook
from simcore.model.standing import SellerStanding


def seller_review(
    env: simpy.Environment, standing: SellerStanding, book: OrderBook, interval_h: float
) -> Proc[None]:
    """Process: every ``interval_h`` hours the platform reviews every seller
    (:meth:`SellerStanding.review`) and cancels the open orders of those it suspends
    (``seller_suspended``, in seller order)."""
    while True:
        yield env.timeout(interval_h)
        for seller in standing.review(env.now):
            book.cancel_open_orders(seller, "seller_suspended")
