"""The orders table, said once: every column's name, how the recorder stores it, what kind of
value it is, its vocabulary and unit, and what it means.

The recorder (:mod:`simcore.model.recorder`) takes its columns and typecodes from here, the
collection (:mod:`simcore.results.frames`) turns each kind into its frame dtype, and the column
reference in the README is checked against it. The tuple's order is the frame's column order:
identity, outcome, refund, dispute, milestones, detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from simcore.model.vocabulary import (
    DECLINE_CAUSES,
    DISPUTE_OUTCOMES,
    DISPUTE_REASONS,
    DISPUTE_STAGES,
    INITIATORS,
    PAYMENT_METHODS,
    PRICING_CAUSES,
    REASONS,
    REFUND_METHODS,
    RETURN_PAYERS,
    SIGNALS,
    STATUSES,
)

#: What a column holds, which fixes its frame dtype:
#: ``row`` the row number (int64, not recorded); ``id`` an entity id (int64; stored as int32);
#: ``count`` a whole number (int64); ``usd`` money (float64, NaN when none); ``number`` another float
#: (NaN when none); ``time`` an hour on the clock (datetime64[ms], NaT when it did not happen);
#: ``hour`` the placement hour as hours since the start (float64, not recorded: a copy of
#: ``placed_at``); ``code`` a category of :attr:`Column.codes`; ``destination`` a category of
#: the scenario's destinations; ``flag`` a bool; ``signal`` a bool read from the recorded mask of
#: the fraud signals (:data:`SIGNAL_MASK`), one column per signal.
Kind = Literal["row", "id", "count", "usd", "number", "time", "hour", "code", "destination", "flag", "signal"]


@dataclass(frozen=True)
class Column:
    """One column of the orders table.

    Attributes:
        name: The column's name, in the recorder and the frame.
        kind: See :data:`Kind`.
        store: The recorder's array typecode ('d' float64, 'i' int32, 'b' int8); None for
            columns the frame derives (``row``, ``hour``).
        meaning: One line for readers of the table, with the unit.
        codes: The categories of a ``code`` column, by code.
        optional: For a ``code`` column: code 0 means none (shown as missing).
        placement: Known when the order is placed (the recorder sets it then).
        sparse: A float column few orders set (under ~5%): recorded as the values written
            (:class:`simcore.engine.columns.SparseColumn`), not read during the run.
    """

    name: str
    kind: Kind
    store: str | None
    meaning: str
    codes: tuple[str, ...] = ()
    optional: bool = False
    placement: bool = False
    sparse: bool = False


def _code(name: str, codes: tuple[str, ...], meaning: str, optional: bool = True) -> Column:
    return Column(name, "code", "b", meaning, codes=codes, optional=optional)


def _time(name: str, meaning: str, sparse: bool = False) -> Column:
    return Column(name, "time", "d", meaning + " (timestamp; missing when it did not happen)", sparse=sparse)


#: The orders table, column by column, in frame order.
ORDER_COLUMNS: tuple[Column, ...] = (
    Column("order_id", "row", None, "order id (the row number; ids count placed orders)"),
    Column(
        "arrival_id",
        "id",
        "i",
        "the visit the order came from (its index among all arrivals, lost sales and forgone orders "
        "included): the same visit under every strategy run with one seed and replication",
        placement=True,
    ),
    Column("buyer_id", "id", "i", "buyer account (legitimate buyers first, then fraudulent)", placement=True),
    Column("seller_id", "id", "i", "seller", placement=True),
    Column("sku_id", "id", "i", "listing", placement=True),
    Column("destination", "destination", "b", "destination (scenario shipping.destinations)", placement=True),
    Column("quantity", "count", "i", "units ordered", placement=True),
    Column("amount", "usd", "d", "what the buyer pays (USD)", placement=True),
    Column("placed_at", "time", "d", "when the order was placed (timestamp)", placement=True),
    _code(
        "status",
        STATUSES,
        "open, completed, cancelled (before shipment), refunded (shipped, then refunded: a lost "
        "parcel) or returned (refused or sent back by the buyer, refunded once back)",
        optional=False,
    ),
    _code("cancel_initiator", INITIATORS, "who cancelled: buyer, seller or system"),
    _code("cancel_reason", REASONS, "the stated cancel reason"),
    _code(
        "true_reason",
        REASONS,
        "the real reason (differs when a dishonest seller covers a loss with out_of_stock, or asks the buyer "
        "to cancel)",
    ),
    _code(
        "pricing_error_cause",
        PRICING_CAUSES,
        "what made the sale a loss, for a true pricing_error: typo, exchange_rate or supplier_cost",
    ),
    _time("cancelled_at", "when the order was cancelled"),
    Column("is_fraud", "flag", "b", "placed by a fraudster", placement=True),
    Column(
        "refund_amount",
        "usd",
        "d",
        "refund paid by the platform: of a cancellation (USD; short for a wrong amount), of a "
        "lost parcel (what the dispute awards had not paid), or of a return",
    ),
    _code("refund_method", REFUND_METHODS, "original (the card) or wallet"),
    Column("refund_delay_bdays", "number", "d", "refund delay: business days to the card, days to a wallet"),
    _time("refunded_at", "when the refund landed"),
    _code("dispute_reason", DISPUTE_REASONS, "what the buyer disputed"),
    _time("dispute_opened_at", "when the dispute opened", sparse=True),
    _time("dispute_escalated_at", "when the buyer escalated it to the platform", sparse=True),
    _code("dispute_outcome", DISPUTE_OUTCOMES, "full_refund, partial_refund or rejected"),
    _code("dispute_stage", DISPUTE_STAGES, "where the dispute ended: review, negotiation or intervention"),
    _time("dispute_resolved_at", "when the dispute was resolved", sparse=True),
    Column("dispute_claim_amount", "usd", "d", "what the buyer claimed (USD)", sparse=True),
    Column("dispute_refund_amount", "usd", "d", "what the dispute awarded (USD)", sparse=True),
    _code("dispute_refund_method", REFUND_METHODS, "how the award was paid"),
    Column(
        "dispute_refund_delay_bdays",
        "number",
        "d",
        "award delay (business days to the card, days)",
        sparse=True,
    ),
    _time("dispute_refunded_at", "when the award landed", sparse=True),
    _time("paid_at", "when payment (and verification) completed"),
    _time("cleared_at", "when the platform cleared the order for the seller"),
    _time("shipped_at", "when the seller shipped"),
    _time("delivered_at", "when the parcel arrived"),
    _time("completed_at", "when the order completed"),
    _time("cancel_requested_at", "when the buyer asked to cancel", sparse=True),
    _time(
        "charged_back_at", "when the cardholder charged the payment back (fraud that shipped)", sparse=True
    ),
    _time("returned_at", "when a parcel the buyer refused or sent back was back", sparse=True),
    Column("return_shipping_usd", "usd", "d", "what the return's shipping cost (USD)", sparse=True),
    _code("return_shipping_payer", RETURN_PAYERS, "who paid the return's shipping"),
    Column(
        "coupon_usd",
        "usd",
        "d",
        "the coupon the platform gave the buyer after the cancellation (USD; platform.compensation)",
        sparse=True,
    ),
    Column(
        "bank_hold_release_bdays",
        "number",
        "d",
        "business days until the bank released the hold of a card payment authorised, then "
        "cancelled before it was taken",
        sparse=True,
    ),
    Column("stolen_card", "flag", "b", "paid with a stolen card", placement=True),
    Column("buyer_verified", "flag", "b", "the buyer's account is verified", placement=True),
    Column("payment_method", "code", "b", "card or wallet", codes=PAYMENT_METHODS, placement=True),
    *(
        Column(f"signal_{name}", "signal", None, f"the fraud screen saw the {meaning} signal")
        for name, meaning in zip(
            SIGNALS,
            (
                "large-order (amount above platform.fraud.large_order_usd)",
                "velocity (velocity_limit orders from the device within velocity_window_hours)",
                "unverified-account",
                "stolen-card (the network had flagged the card)",
                "new-account (younger than new_account_days)",
                "address-mismatch (shipping other than billing)",
                "new-device",
            ),
            strict=True,
        )
    ),
    Column("payment_attempts", "count", "b", "authorisation attempts made"),
    _code("payment_decline_cause", DECLINE_CAUSES, "why the last declined attempt was declined"),
    Column("risk_score", "number", "d", "the fraud screen's risk score (0-1; missing if never scored)"),
    _time("fraud_review_started_at", "when the order entered the fraud review queue", sparse=True),
    Column("placed_hour", "hour", None, "placement hour, hours since the start"),
)

#: The recorded mask of the fraud signals (bit i: ``SIGNALS[i]``), set at placement: the
#: ``signal_<name>`` columns of the frame read it.
SIGNAL_MASK = "signals"
#: The columns the recorder stores, with their typecodes.
RECORDED: dict[str, str] = {c.name: c.store for c in ORDER_COLUMNS if c.store is not None}
RECORDED[SIGNAL_MASK] = "b"
#: The float columns kept sparse while recording (few orders set them).
SPARSE: frozenset[str] = frozenset(c.name for c in ORDER_COLUMNS if c.sparse)
#: The columns known at placement, in :meth:`simcore.model.recorder.Recorder.new_order`'s order.
PLACEMENT: tuple[str, ...] = (*(c.name for c in ORDER_COLUMNS if c.placement), SIGNAL_MASK)
