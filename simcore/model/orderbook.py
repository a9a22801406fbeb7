"""The order book: state transitions, the open orders of each seller, and the one way an
order gets cancelled.

Every process that ends an order early calls :meth:`OrderBook.cancel`; it enforces the state
machine (nothing is cancelled after shipment, nothing twice), releases reserved stock, records
initiator and reason, starts a refund when money was taken, and tells the seller's standing and
the dispute desk (trust, suspicious cancellations, refund trouble) what happened.
"""

from __future__ import annotations

from collections.abc import Callable

from simcore.engine.columns import Column
from simcore.model.context import RunContext
from simcore.model.disputes import DisputeDesk
from simcore.model.draws import CHURN_PAYMENT
from simcore.model.inventory import Inventory
from simcore.model.order import Order
from simcore.model.refunds import RefundDesk
from simcore.model.reputation import Reputation
from simcore.model.vocabulary import (
    ACTIVITY,
    ACTOR,
    DISPUTE_OUTCOME,
    INITIATOR,
    INITIATOR_OF_REASON,
    PAYMENT_REASONS,
    REASON,
    STATUS_CANCELLED,
    STATUS_COMPLETED,
    STATUS_REFUNDED,
    STATUS_RETURNED,
    TRANSITIONS,
    State,
)

_CANCELLABLE = frozenset(
    {State.PLACED, State.PAYING, State.VERIFYING, State.SCREENING, State.AWAITING_SHIPMENT}
)
# Enum members bound once: reading ``State.X`` on the enum class costs ~70 ns under Python 3.11
# (an attribute lookup through the enum's metaclass), and step() runs ~4 times per order.
_AWAITING_SHIPMENT, _SHIPPED, _COMPLETED, _CANCELLED, _REFUNDED, _RETURNED = (
    State.AWAITING_SHIPMENT,
    State.SHIPPED,
    State.COMPLETED,
    State.CANCELLED,
    State.REFUNDED,
    State.RETURNED,
)
# The steps every order takes (paying, paid, clear, ship): their codes bound once.
_PAYING, _SCREENING = State.PAYING, State.SCREENING
_SUBMITTED, _PAID = ACTIVITY["payment_submitted"], ACTIVITY["paid"]
_SCREENING_PASSED, _SHIPPED_ACT = ACTIVITY["screening_passed"], ACTIVITY["shipped"]
_BUYER, _SELLER, _GATEWAY, _PLATFORM = ACTOR["buyer"], ACTOR["seller"], ACTOR["gateway"], ACTOR["platform"]
_ACTOR_OF_INITIATOR = {"buyer": ACTOR["buyer"], "seller": ACTOR["seller"], "system": ACTOR["platform"]}
_REJECTED = DISPUTE_OUTCOME["rejected"]
_PAYMENT_TROUBLE = frozenset(PAYMENT_REASONS)


class OrderBook:
    """Shared order bookkeeping for the processes of one run.

    Args:
        ctx: The run context.
        inventory: Stock (reservations released on cancellation).
        refunds: Refunds of paid orders cancelled.
        reputation: Trust and standing (seller-responsible cancellations, good orders).
        disputes: Told of every cancellation (suspicious ones and refund trouble are disputed).
    """

    def __init__(
        self,
        ctx: RunContext,
        *,
        inventory: Inventory,
        refunds: RefundDesk,
        reputation: Reputation,
        disputes: DisputeDesk,
    ):
        self.env = ctx.env
        self.rec = ctx.rec
        self.inv = inventory
        self.refunds = refunds
        self.reputation = reputation
        self.disputes = disputes
        # Unshipped orders of each seller by id (cancelled if the seller is suspended).
        self.open: list[dict[int, Order]] = [{} for _ in range(ctx.scn.sellers.count)]
        self.payment_loss = ctx.scn.buyers.trust.payment_failure_loss
        #: The reasons held against the seller (``platform.penalties.seller_responsible``).
        self.seller_responsible = frozenset(ctx.scn.platform.penalties.seller_responsible)
        #: Called with an order that failed payment or verification: the buyer may order again
        #: (:meth:`simcore.model.placement.OrderDesk.order_again`, wired once both exist).
        self.after_payment_trouble: Callable[[Order], None] | None = None
        cols = ctx.rec.orders  # the columns of the steps every order takes, bound once
        self._paid_at, self._cleared_at = cols["paid_at"], cols["cleared_at"]
        self._shipped_at = cols["shipped_at"]

    def register(self, o: Order) -> None:
        """A new order joins its seller's open orders."""
        self.open[o.seller][o.id] = o

    def step(self, o: Order, state: State, activity: str, actor: str, column: str | None = None) -> float:
        """Advance ``o`` to ``state``, log ``activity`` and stamp ``column`` with the time.

        Returns:
            The hour now (the clock's, read once).
        """
        stamp = None if column is None else self.rec.orders[column]
        return self._step(o, state, ACTIVITY[activity], ACTOR[actor], stamp)

    def _step(self, o: Order, state: State, activity: int, actor: int, stamp: Column | None) -> float:
        """:meth:`step` with the activity's and actor's codes and the column itself: the steps
        every order takes bind them once (three dict lookups a step saved)."""
        if state not in TRANSITIONS[o.state]:
            o.advance(state)  # raises: an illegal transition is a model bug
        o.state = state
        o.closed = state >= _COMPLETED
        now = self.env.now
        self.rec.event(now, o.id, activity, actor)
        if stamp is not None:
            stamp[o.id] = now
        return now

    def paying(self, o: Order) -> None:
        """The buyer submitted the payment of ``o``."""
        self._step(o, _PAYING, _SUBMITTED, _BUYER, None)

    def paid(self, o: Order) -> None:
        """The payment of ``o`` went through (and its verification, if asked): on to screening."""
        self._step(o, _SCREENING, _PAID, _GATEWAY, self._paid_at)

    def clear(self, o: Order) -> None:
        """Payment and screening done: the order is the seller's to ship."""
        now = self._step(o, _AWAITING_SHIPMENT, _SCREENING_PASSED, _PLATFORM, self._cleared_at)
        self.reputation.order_cleared(o.seller, now)

    def ship(self, o: Order) -> float:
        """The seller shipped ``o``: it leaves the seller's open orders. Returns the hour."""
        now = self._step(o, _SHIPPED, _SHIPPED_ACT, _SELLER, self._shipped_at)
        del self.open[o.seller][o.id]
        return now

    def cancel_open_orders(self, seller: int, reason: str) -> None:
        """Cancel every unshipped order of ``seller`` (e.g. on suspension)."""
        for o in list(self.open[seller].values()):
            self.cancel(o, reason)

    def release_stock(self, o: Order) -> None:
        """``o`` no longer holds its units (picked or cancelled); a no-op the second time."""
        if o.reserved:
            self.inv.release(o.sku, o.qty)
            o.reserved = False

    def cancel(self, o: Order, reason: str, true_reason: str | None = None) -> bool:
        """Cancel ``o`` for ``reason`` if it is still cancellable.

        Args:
            o: The order.
            reason: One of the cancel-reason vocabulary; it fixes the initiator.
            true_reason: The real reason when the stated one is a cover (a dishonest seller
                claiming ``out_of_stock`` to dodge a ``pricing_error``).

        Returns:
            True if this call cancelled the order; False if it had shipped or already ended.
        """
        if o.state not in _CANCELLABLE:
            return False
        o.state = _CANCELLED
        o.closed = True
        initiator = INITIATOR_OF_REASON[reason]
        now, rec, oid = self.env.now, self.rec, o.id
        rec.set("status", oid, STATUS_CANCELLED)
        rec.set("cancel_initiator", oid, INITIATOR[initiator])
        rec.set("cancel_reason", oid, REASON[reason])
        rec.set("true_reason", oid, REASON[true_reason or reason])
        rec.set("cancelled_at", oid, now)
        rec.event(now, oid, ACTIVITY["cancelled"], _ACTOR_OF_INITIATOR[initiator])
        self.release_stock(o)
        del self.open[o.seller][oid]
        if reason in self.seller_responsible:
            self.reputation.seller_cancelled(o.seller, now, reason)
        refund = self.refunds.schedule(o) if o.paid else None
        if not o.paid and o.authorised and o.card:  # funds held, never taken: the bank lets go
            self.refunds.release_hold(o)
        if reason in _PAYMENT_TROUBLE:
            # Frustration (the seed's chain: verification fails, the order is cancelled, the
            # buyer is let down), then perhaps a new order paid the other way.
            self.reputation.hit_buyer(o.buyer, self.payment_loss, o.after_draws[CHURN_PAYMENT], now)
            if self.after_payment_trouble is not None:
                self.after_payment_trouble(o)
        self.disputes.after_cancel(o, reason, refund)
        return True

    def complete(self, o: Order, actor: str = "buyer") -> None:
        """Close delivered ``o`` as completed: confirmed by the buyer, or closed by the platform
        (a dispute's end, auto-confirmation). An undisputed order raises the buyer's trust, and
        an order without a dispute the seller paid out on raises the seller's rating."""
        self.step(o, _COMPLETED, "completed", actor, "completed_at")
        self.rec.set("status", o.id, STATUS_COMPLETED)
        now = self.env.now
        if not o.disputed:
            self.reputation.reward_buyer(o.buyer, now)
        if not o.disputed or o.dispute_outcome == _REJECTED:
            self.reputation.credit_seller(o.seller, now)

    def close_lost(self, o: Order) -> None:
        """Close ``o``, whose parcel never arrived, as refunded (buyer protection): the platform
        refunds what dispute awards have not paid, unless the cardholder charged it back. Neither
        the buyer's trust nor the seller's rating rises."""
        self.step(o, _REFUNDED, "parcel_lost", "platform")
        self.rec.set("status", o.id, STATUS_REFUNDED)
        if o.charged_back:
            return
        owed = round(o.amount - o.awarded, 2)
        if owed > 0.0:
            self.refunds.refund_lost(o, owed)

    def close_returned(self, o: Order, shipping_usd: float, payer: int) -> None:
        """Close ``o`` as returned: the parcel the buyer refused or sent back is back with the
        seller, its units go back on the shelf, the buyer is refunded in full, and the return's
        shipping (``shipping_usd``) is paid by ``payer`` (a ``RETURN_PAYERS`` code)."""
        now = self.step(o, _RETURNED, "returned", "seller", "returned_at")
        rec, oid = self.rec, o.id
        rec.set("status", oid, STATUS_RETURNED)
        rec.set("return_shipping_usd", oid, shipping_usd)
        rec.set("return_shipping_payer", oid, payer)
        self.inv.put_back(o.sku, o.qty, now)
        self.refunds.refund_return(o)
