"""An order's life from payment to its end: the main process of every order.

Placement starts it (:mod:`simcore.model.placement`); each stage is a desk's process, handed
the order in turn: the gateway's payment (and verification), the referee's screening, the
seller's fulfilment. A buyer's cancel request runs beside it (:mod:`simcore.model.cancel_requests`),
a dispute beside the fulfilment (:mod:`simcore.model.disputes`), and from the payment of a
fraudulent card order, its chargeback (:mod:`simcore.model.chargebacks`).
"""

from __future__ import annotations

from dataclasses import dataclass

from simcore.engine.proc import Proc
from simcore.model.cancel_requests import CancelRequests
from simcore.model.chargebacks import ChargebackDesk
from simcore.model.gateway import Gateway
from simcore.model.order import Order
from simcore.model.orderbook import OrderBook
from simcore.model.referee import Referee, Waits
from simcore.model.sellers import SellerDesk


@dataclass(frozen=True, kw_only=True)
class Stages:
    """The desks an order passes through, in order."""

    book: OrderBook
    cancels: CancelRequests
    gateway: Gateway
    chargebacks: ChargebackDesk
    referee: Referee
    sellers: SellerDesk

    def lifecycle(self, o: Order) -> Proc[None]:
        """The process of ``o`` through these stages (:func:`order_lifecycle`)."""
        return order_lifecycle(o, self)


def order_lifecycle(o: Order, stages: Stages) -> Proc[None]:
    """Process: one order from payment to its end (see each desk's module for its stage)."""
    book, gateway = stages.book, stages.gateway
    if o.cancel_reason is not None:
        stages.cancels.start(o)
    ok = yield from gateway.pay(o)
    if o.closed:
        return
    if not ok:
        book.cancel(o, "payment_failed")
        return
    if gateway.needs_verification(o) and not (yield from gateway.verify(o)):
        return
    o.paid = True
    o.pay_draws = ()  # payment is over: free what the order carried for it
    if o.is_fraud and o.card:  # someone else's card: its holder may charge the payment back
        stages.chargebacks.watch(o)
    book.paid(o)
    reason = stages.referee.screen(o)
    if isinstance(reason, Waits):  # a review, or an address to fix
        reason = yield from stages.referee.wait(o, reason)
    o.screen_draws = ()  # so is screening
    if o.closed:
        return
    if reason is not None:
        book.cancel(o, reason)
        return
    book.clear(o)
    yield from stages.sellers.fulfil(o)
