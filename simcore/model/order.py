"""An order's live state (state only: behaviour lives in the desks, history in the recorder)."""

from __future__ import annotations

from collections.abc import Sequence

from simcore.model.vocabulary import TRANSITIONS, State

_PLACED = State.PLACED  # bound once: an enum class's attribute costs ~70 ns (orderbook)


class Order:
    """One order's live state. Recorded facts (timestamps, outcomes) go to the recorder.

    Attributes are set once at placement except ``state`` (with ``closed``: True once
    cancelled, completed or refunded, when processes waiting on the order stop), ``reserved``,
    ``paid``, ``authorised``, ``refund_due``, ``disputed``, ``dispute_outcome``, ``awarded``,
    ``charged_back`` and ``cancel_asked``; the draws
    are dropped (None) once the stages that use them are over.

    ``screen_draws``, ``pay_draws`` and ``after_draws`` are the order's own random numbers
    (decisions and durations) for the referee, the gateway and what follows payment, drawn when
    the buyer arrived so that the same arrival meets the same luck under every strategy (their
    layout: :mod:`simcore.model.draws`).
    ``authorised`` is True once the gateway has authorised the payment (a card payment then holds
    the buyer's funds until it is taken or, if the order is cancelled first, released).
    ``refund_due`` is the hour a scheduled refund lands (None before one is scheduled or once
    it has landed); ``disputed`` is True once the buyer has opened a dispute (at most one per
    order), ``dispute_outcome`` its ``DISPUTE_OUTCOME`` code once resolved (0 before) and
    ``awarded`` what it awarded (USD, once scheduled). ``charged_back`` is True once the
    cardholder has charged the payment back (:mod:`simcore.model.chargebacks`): the buyer's
    money is then back, and nothing more is refunded. ``cancel_asked`` is True once the buyer
    has asked to cancel (before shipment).

    Args (keyword-only):
        id: Order id (its row in the recorder).
        buyer, seller, sku, dest: Buyer id, seller id, listing id, destination index.
        qty: Units; ``amount``: what the buyer pays (USD).
        is_fraud, stolen_card, card, verified: Placed by a fraudster; paid with a stolen card;
            paid by card (else wallet); from a verified account.
        signals: What the fraud screen observes: a mask of ``SIGNAL_BIT`` bits
            (:data:`simcore.model.vocabulary.SIGNALS`).
        cancel_reason: The reason the buyer will ask to cancel for, or None.
        address_conflict: The delivery address conflicts with the account's.
        neglected: The seller will neglect the order (it misses the ship-by deadline).
    """

    __slots__ = (
        "id",
        "buyer",
        "seller",
        "sku",
        "dest",
        "qty",
        "amount",
        "is_fraud",
        "stolen_card",
        "card",
        "verified",
        "signals",
        "cancel_reason",
        "address_conflict",
        "neglected",
        "screen_draws",
        "pay_draws",
        "after_draws",
        "state",
        "closed",
        "reserved",
        "paid",
        "authorised",
        "refund_due",
        "disputed",
        "dispute_outcome",
        "charged_back",
        "awarded",
        "cancel_asked",
    )

    def __init__(
        self,
        *,
        id: int,
        buyer: int,
        seller: int,
        sku: int,
        dest: int,
        qty: int,
        amount: float,
        is_fraud: bool,
        stolen_card: bool,
        card: bool,
        verified: bool,
        signals: int,
        cancel_reason: str | None,
        address_conflict: bool,
        neglected: bool,
        screen_draws: Sequence[float],
        pay_draws: Sequence[float],
        after_draws: Sequence[float],
    ):
        self.id = id
        self.buyer = buyer
        self.seller = seller
        self.sku = sku
        self.dest = dest
        self.qty = qty
        self.amount = amount
        self.is_fraud = is_fraud
        self.stolen_card = stolen_card
        self.card = card
        self.verified = verified
        self.signals = signals
        self.cancel_reason = cancel_reason
        self.address_conflict = address_conflict
        self.neglected = neglected
        # Typed as always present: the stages that read them run before they are dropped.
        self.screen_draws: Sequence[float] = screen_draws
        self.pay_draws: Sequence[float] = pay_draws
        self.after_draws: Sequence[float] = after_draws
        self.state = _PLACED
        self.closed = False
        self.reserved = True
        self.paid = False
        self.authorised = False
        self.refund_due: float | None = None
        self.disputed = False
        self.dispute_outcome = 0
        self.charged_back = False
        self.awarded = 0.0
        self.cancel_asked = False

    def advance(self, new: State) -> None:
        """Move to ``new``.

        Raises:
            RuntimeError: ``new`` is not reachable from the current state (a model bug, not
                bad input).
        """
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"order {self.id}: illegal transition {self.state.name} -> {new.name}")
        self.state = new
        self.closed = new >= State.COMPLETED  # COMPLETED, CANCELLED and REFUNDED are the last
