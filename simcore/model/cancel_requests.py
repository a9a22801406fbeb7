"""Buyers asking to cancel before shipment, and the seller's (or the platform's) answer."""

from __future__ import annotations

import simpy

from simcore.engine.proc import Proc, Unwatched
from simcore.model.context import RunContext
from simcore.model.draws import CANCEL_APPROVE, CANCEL_REQUEST_TIME, CANCEL_RESPONSE_TIME
from simcore.model.order import Order
from simcore.model.orderbook import OrderBook
from simcore.model.vocabulary import ACTIVITY, ACTOR, State

_SHIPPED = State.SHIPPED  # bound once: an enum class's attribute costs ~70 ns (orderbook)


class CancelRequests:
    """Starts the cancel request of each order placed with a cancel intention.

    The request's time after placement, the seller's answer time after it and the seller's yes
    or no come with the order (``Order.after_draws``, :mod:`simcore.model.draws`).

    Args:
        ctx: The run context.
        book: The order book (cancels).
    """

    def __init__(self, ctx: RunContext, *, book: OrderBook):
        scn = ctx.scn
        self.env = ctx.env
        self.book = book
        self.approval_share = scn.sellers.cancel_approval_share
        self.auto_approve_h = scn.platform.cancel_auto_approve_hours

    def start(self, o: Order) -> None:
        """Start the request process of ``o`` (whose ``cancel_reason`` is set)."""
        env, d = self.env, o.after_draws
        Unwatched(
            env,
            cancel_request(
                env,
                o,
                self.book,
                request_time=d[CANCEL_REQUEST_TIME],
                response_time=d[CANCEL_RESPONSE_TIME],
                approve=d[CANCEL_APPROVE] < self.approval_share,
                auto_approve_h=self.auto_approve_h,
            ),
        )


def cancel_request(
    env: simpy.Environment,
    o: Order,
    book: OrderBook,
    *,
    request_time: float,
    response_time: float,
    approve: bool,
    auto_approve_h: float,
) -> Proc[None]:
    """Process: a buyer asks to cancel ``o`` (reason ``o.cancel_reason``) before shipment.

    Unpaid orders are cancelled at once. Paid ones go to the seller, who answers after
    ``response_time`` hours (approving if ``approve``); unanswered after ``auto_approve_h`` the
    platform approves. After shipment the buyer can no longer cancel (the request is never made):
    a buyer who still wants out may refuse the parcel or send it back
    (:meth:`simcore.model.sellers.SellerDesk.fulfil`).
    """
    reason = o.cancel_reason
    assert reason is not None
    yield env.timeout(request_time)
    if o.closed or o.state >= _SHIPPED:
        return
    rec = book.rec
    o.cancel_asked = True
    rec.set("cancel_requested_at", o.id, env.now)
    rec.event(env.now, o.id, ACTIVITY["cancel_requested"], ACTOR["buyer"])
    if not o.paid:
        book.cancel(o, reason)
        return
    if response_time >= auto_approve_h:
        yield env.timeout(auto_approve_h)
        if o.state < _SHIPPED and not o.closed:
            rec.event(env.now, o.id, ACTIVITY["cancel_auto_approved"], ACTOR["platform"])
            book.cancel(o, reason)
        return
    yield env.timeout(response_time)
    if o.closed or o.state >= _SHIPPED:
        return
    if approve:
        book.cancel(o, reason)
    else:
        rec.event(env.now, o.id, ACTIVITY["cancel_rejected"], ACTOR["seller"])
