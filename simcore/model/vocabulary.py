"""Entities (state only) and the integer codes recorded for categories.

Behaviour lives in the process modules; history lives in the recorder. Categories are recorded
as small integers and turned into pandas categoricals once, when the run is collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class State(IntEnum):
    """Order state machine. Terminal states: COMPLETED, CANCELLED."""

    PLACED = 0
    PAYING = 1
    VERIFYING = 2
    SCREENING = 3
    AWAITING_SHIPMENT = 4
    SHIPPED = 5
    DELIVERED = 6
    COMPLETED = 7
    CANCELLED = 8


#: Legal transitions. CANCELLED is reachable only before shipment.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.PLACED: frozenset({State.PAYING, State.CANCELLED}),
    State.PAYING: frozenset({State.VERIFYING, State.SCREENING, State.CANCELLED}),
    State.VERIFYING: frozenset({State.SCREENING, State.CANCELLED}),
    State.SCREENING: frozenset({State.AWAITING_SHIPMENT, State.CANCELLED}),
    State.AWAITING_SHIPMENT: frozenset({State.SHIPPED, State.CANCELLED}),
    # A parcel that never arrives is closed straight from SHIPPED (dispute or guarantee expiry).
    State.SHIPPED: frozenset({State.DELIVERED, State.COMPLETED}),
    State.DELIVERED: frozenset({State.COMPLETED}),
    State.COMPLETED: frozenset(),
    State.CANCELLED: frozenset(),
}

STATUSES = ("open", "completed", "cancelled")
STATUS_OPEN, STATUS_COMPLETED, STATUS_CANCELLED = range(3)

INITIATORS = ("", "buyer", "seller", "system")
INITIATOR = {name: i for i, name in enumerate(INITIATORS)}

#: Cancel reasons, exact vocabulary, grouped by who cancels.
REASONS_BY_INITIATOR: dict[str, tuple[str, ...]] = {
    "seller": ("out_of_stock", "pricing_error", "shipping_restriction"),
    "buyer": ("change_of_mind", "better_deal", "wrong_item"),
    "system": (
        "payment_failed",
        "verification_timeout",
        "fraud_suspected",
        "prohibited_item",
        "ship_deadline_missed",
        "address_conflict",
        "seller_suspended",
    ),
}
#: System reasons by which the platform's screens stop an order before the seller handles it:
#: the gateway (payment, verification) and the referee (prohibited items, fraud screen, address
#: check). What ``fraud_caught_share`` counts; a missed deadline or a seller's suspension is not
#: a defence against fraud.
SCREEN_REASONS: tuple[str, ...] = (
    "payment_failed",
    "verification_timeout",
    "fraud_suspected",
    "prohibited_item",
    "address_conflict",
)
REASONS: tuple[str, ...] = ("",) + tuple(r for rs in REASONS_BY_INITIATOR.values() for r in rs)
REASON = {name: i for i, name in enumerate(REASONS)}
INITIATOR_OF_REASON = {r: ini for ini, rs in REASONS_BY_INITIATOR.items() for r in rs}

ACTORS = ("buyer", "seller", "gateway", "platform")
ACTOR = {name: i for i, name in enumerate(ACTORS)}

ACTIVITIES = (
    "placed",
    "payment_submitted",
    "payment_declined",
    "payment_authorized",
    "verification_requested",
    "verification_completed",
    "paid",
    "fraud_review_started",
    "fraud_review_passed",
    "address_flagged",
    "address_fixed",
    "screening_passed",
    "cancel_requested",
    "cancel_rejected",
    "cancel_auto_approved",
    "seller_processing",
    "shipped",
    "delivered",
    "completed",
    "cancelled",
    "refund_scheduled",
    "refund_paid",
    "dispute_opened",
    "dispute_review_started",
    "dispute_reviewed",
    "dispute_agreed",
    "dispute_escalated",
    "dispute_ruled",
    "dispute_refund_scheduled",
    "dispute_refund_paid",
)
ACTIVITY = {name: i for i, name in enumerate(ACTIVITIES)}

#: What a buyer disputes: a seller cancellation they find suspicious, a cancellation refund
#: that is late or short, a parcel that has not arrived, an item not as described.
DISPUTE_REASONS = (
    "",
    "suspicious_cancellation",
    "refund_late",
    "refund_wrong_amount",
    "not_delivered",
    "not_as_described",
)
DISPUTE_REASON = {name: i for i, name in enumerate(DISPUTE_REASONS)}
#: Disputes about a cancellation refund: the platform's matter (no seller), decided at review.
REFUND_DISPUTE_REASONS = ("refund_late", "refund_wrong_amount")
#: How a dispute ends (the buyer's claim paid in full, in part, or not at all).
DISPUTE_OUTCOMES = ("", "full_refund", "partial_refund", "rejected")
DISPUTE_OUTCOME = {name: i for i, name in enumerate(DISPUTE_OUTCOMES)}
#: The stage at which a dispute ended (refund disputes are decided at the review).
DISPUTE_STAGES = ("", "review", "negotiation", "intervention")

PAYMENT_METHODS = ("card", "wallet")
REFUND_METHODS = ("", "original", "wallet")
DECLINE_CAUSES = ("", "incorrect_details", "unverified_account", "issuer_decline")
DECLINE_CAUSE = {name: i for i, name in enumerate(DECLINE_CAUSES)}


class Order:
    """One order's live state. Recorded facts (timestamps, outcomes) go to the recorder.

    Attributes are set once at placement except ``state`` (with ``closed``: True once
    cancelled or completed, when processes waiting on the order stop), ``reserved``, ``paid``,
    ``refund_due``, ``disputed`` and ``dispute_outcome``; the draws are dropped (None) once the
    stages that use them are over.
    ``screen_draws`` holds the referee's random numbers for this order (prohibited check,
    review decision, address fix, standard-normal score noise) and ``pay_draws`` the gateway's,
    both drawn at placement so the same arrival meets the same luck under every strategy.
    ``after_draws`` holds the numbers of what may follow the order (parcel loss, disputes,
    churn; the indices are named in :mod:`simcore.model.disputes`). ``refund_due`` is the hour a scheduled
    cancellation refund lands (None before one is scheduled or once it has landed) and
    ``disputed`` is True once the buyer has opened a dispute (at most one per order) and
    ``dispute_outcome`` its :data:`DISPUTE_OUTCOME` code once resolved (0 before).
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
        "velocity_flag",
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
        "refund_due",
        "disputed",
        "dispute_outcome",
    )

    def __init__(
        self,
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
        velocity_flag: bool,
        cancel_reason: str | None,
        address_conflict: bool,
        neglected: bool,
        screen_draws: Sequence[float] | None,
        pay_draws: Sequence[float] | None,
        after_draws: Sequence[float] | None,
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
        self.velocity_flag = velocity_flag
        self.cancel_reason = cancel_reason
        self.address_conflict = address_conflict
        self.neglected = neglected
        self.screen_draws = screen_draws
        self.pay_draws = pay_draws
        self.after_draws = after_draws
        self.state = State.PLACED
        self.closed = False
        self.reserved = True
        self.paid = False
        self.refund_due = None
        self.disputed = False
        self.dispute_outcome = 0

    def advance(self, new: State) -> None:
        """Move to ``new``; an illegal transition is a model bug, not bad input."""
        if new not in TRANSITIONS[self.state]:
            raise RuntimeError(f"order {self.id}: illegal transition {self.state.name} -> {new.name}")
        self.state = new
        self.closed = new >= State.COMPLETED  # COMPLETED and CANCELLED are the last states
