"""The model's vocabulary: order states, and the names recorded for categories (integer codes).

Categories are recorded as small integers (their index in the tuples here) and turned into
pandas categoricals once, when the run is collected. Nothing here runs: the results layer and
``analysis`` read this module without importing SimPy.
"""

from __future__ import annotations

from enum import IntEnum


class State(IntEnum):
    """Order state machine. Terminal states: COMPLETED, CANCELLED, REFUNDED (shipped, then
    closed with the buyer's money back: a parcel lost for good, under buyer protection),
    RETURNED (shipped, refused or sent back by the buyer, refunded once it came back)."""

    PLACED = 0
    PAYING = 1
    VERIFYING = 2
    SCREENING = 3
    AWAITING_SHIPMENT = 4
    SHIPPED = 5
    DELIVERED = 6
    COMPLETED = 7
    CANCELLED = 8
    REFUNDED = 9
    RETURNED = 10


#: Legal transitions. CANCELLED is reachable only before shipment.
TRANSITIONS: dict[State, frozenset[State]] = {
    State.PLACED: frozenset({State.PAYING, State.CANCELLED}),
    State.PAYING: frozenset({State.VERIFYING, State.SCREENING, State.CANCELLED}),
    State.VERIFYING: frozenset({State.SCREENING, State.CANCELLED}),
    State.SCREENING: frozenset({State.AWAITING_SHIPMENT, State.CANCELLED}),
    State.AWAITING_SHIPMENT: frozenset({State.SHIPPED, State.CANCELLED}),
    # A parcel that never arrives is refunded when the delivery guarantee expires: a completed
    # order has always been delivered.
    # A parcel refused at delivery, or sent back after it, is returned once it is back.
    State.SHIPPED: frozenset({State.DELIVERED, State.REFUNDED, State.RETURNED}),
    State.DELIVERED: frozenset({State.COMPLETED, State.RETURNED}),
    State.COMPLETED: frozenset(),
    State.CANCELLED: frozenset(),
    State.REFUNDED: frozenset(),
    State.RETURNED: frozenset(),
}

STATUSES = ("open", "completed", "cancelled", "refunded", "returned")
STATUS_OPEN, STATUS_COMPLETED, STATUS_CANCELLED, STATUS_REFUNDED, STATUS_RETURNED = range(5)

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
#: The gateway's part of SCREEN_REASONS: a payment declined, or verification not completed.
PAYMENT_REASONS: tuple[str, ...] = ("payment_failed", "verification_timeout")
REASONS: tuple[str, ...] = ("",) + tuple(r for rs in REASONS_BY_INITIATOR.values() for r in rs)
REASON = {name: i for i, name in enumerate(REASONS)}
INITIATOR_OF_REASON = {r: ini for ini, rs in REASONS_BY_INITIATOR.items() for r in rs}
#: Cancel reasons the platform may hold against the seller (its rating and penalties):
#: ``platform.penalties.seller_responsible`` says which, all of these by default.
SELLER_RESPONSIBLE = frozenset(
    {"out_of_stock", "pricing_error", "shipping_restriction", "ship_deadline_missed"}
)

ACTORS = ("buyer", "seller", "gateway", "platform")
ACTOR = {name: i for i, name in enumerate(ACTORS)}
#: The service stations, in the order an order meets them (the order they are reported in).
QUEUES = ("gateway", "fraud_review", "customer_service")

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
    "parcel_lost",
    "charged_back",
    "bank_hold_released",
    "return_started",
    "returned",
    "fraud_review_expired",
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

#: What made a sale a loss (code 0: no pricing error): a price typo, the exchange rate's drift,
#: the supplier's cost rises, since the seller last repriced.
PRICING_CAUSES = ("", "typo", "exchange_rate", "supplier_cost")
PRICING_CAUSE = {name: i for i, name in enumerate(PRICING_CAUSES)}

#: Who pays a return's shipping (code 0: no return).
RETURN_PAYERS = ("", "buyer", "seller", "platform")

#: How an order was paid (code 0 card, 1 wallet) and how a refund is paid back.
PAYMENT_METHODS = ("card", "wallet")
REFUND_METHODS = ("", "original", "wallet")
DECLINE_CAUSES = ("", "incorrect_details", "unverified_account", "issuer_decline")
DECLINE_CAUSE = {name: i for i, name in enumerate(DECLINE_CAUSES)}

#: What the fraud screen can observe of an order (issue 19), in bit order of the order's signal
#: mask (bit i is ``SIGNALS[i]``; the orders table has one ``signal_<name>`` column each): an
#: unusually large amount, a device with several orders in a short window, an unverified account,
#: a card the network has flagged stolen, a young account, billing and shipping addresses that
#: differ, a device the account has not used before.
SIGNALS = (
    "large_order",
    "velocity",
    "unverified",
    "stolen_card",
    "new_account",
    "address_mismatch",
    "new_device",
)
SIGNAL_BIT = {name: 1 << i for i, name in enumerate(SIGNALS)}
REFUND_ORIGINAL, REFUND_WALLET = REFUND_METHODS.index("original"), REFUND_METHODS.index("wallet")
