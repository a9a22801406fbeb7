"""Chargebacks: the holder of a card a fraudster paid with claims the payment back.

A fraudster pays with someone else's card. Once the order has shipped the goods are gone, and
when the cardholder notices the charge (``payment.chargebacks.delay`` after the payment, within
the network's ``window_days``) the issuer takes the money back from the platform: a
chargeback. The party that ``liability`` names loses the amount and pays the fee (the results
layer books both: :mod:`simcore.results.ledger`). A charge reported while the order is still
unshipped stops it: the platform cancels it as ``fraud_suspected`` and refunds the card, so no
chargeback follows. An order whose money went back already (cancelled, or a lost parcel
refunded) is not charged back.
"""

from __future__ import annotations

from simcore.engine.proc import Proc, Unwatched
from simcore.model.context import RunContext
from simcore.model.draws import CHARGEBACK, CHARGEBACK_DELAY
from simcore.model.order import Order
from simcore.model.orderbook import OrderBook
from simcore.model.vocabulary import ACTIVITY, ACTOR, State

_SHIPPED, _CANCELLED = State.SHIPPED, State.CANCELLED
_CHARGED_BACK, _GATEWAY = ACTIVITY["charged_back"], ACTOR["gateway"]


class ChargebackDesk:
    """Files the chargebacks of fraudulent card payments.

    Whether the cardholder charges back and when come with the order (``Order.after_draws``,
    :mod:`simcore.model.draws`).

    Args:
        ctx: The run context (``payment.chargebacks``).
        book: The order book (cancels a fraudulent order reported before it shipped).
    """

    def __init__(self, ctx: RunContext, *, book: OrderBook):
        c = ctx.scn.payment.chargebacks
        self.env = ctx.env
        self.rec = ctx.rec
        self.book = book
        self.share = c.share
        self.window_h = c.window_days * 24.0

    def watch(self, o: Order) -> None:
        """``o``, a fraudulent order paid by card, has just been paid: start its chargeback, if
        its cardholder will file one within the window."""
        d = o.after_draws
        delay = d[CHARGEBACK_DELAY]
        if d[CHARGEBACK] < self.share and delay <= self.window_h:
            Unwatched(self.env, self._file(o, delay))

    def _file(self, o: Order, delay_h: float) -> Proc[None]:
        """Process: the cardholder reports the charge ``delay_h`` hours after the payment."""
        yield self.env.timeout(delay_h)
        if o.state < _SHIPPED:  # still unshipped: the platform stops the order and refunds the card
            self.book.cancel(o, "fraud_suspected")
            return
        if o.state >= _CANCELLED:  # cancelled, or a lost parcel refunded: the money is back
            return
        now, oid = self.env.now, o.id
        o.charged_back = True
        self.rec.orders["charged_back_at"][oid] = now
        self.rec.event(now, oid, _CHARGED_BACK, _GATEWAY)
