"""An arrival's own draws: which number of its rows makes which decision or times which wait.

Every arrival draws the same fixed number of numbers from each of its streams when it arrives,
whatever then happens to it, so that two strategies run with one seed give the same arrival
the same luck (common random numbers): a lever changes only the orders it reaches. That holds
for decisions (uniforms, read as ``u < p``) and for durations alike: the first look, the
handling, the carrier's quote and the transit, the buyer's confirmation, the refund's delay,
a dispute's times. Each number makes one decision or times one wait only, so they stay
independent. An arrival's draws come as three rows, each a table of columns drawn a block of
arrivals at a time (:func:`simcore.engine.samplers.table_rows`), each column from its own
named stream:

- the **choices** row: :data:`N_CHOICES` uniforms of ``orders.choices`` (placement, then the
  referee's), one standard normal of ``orders.risk_noise``, then the referee's durations.
  The referee's part (:data:`SCREEN`) is the order's ``screen_draws``.
- the **payment** row (``Order.pay_draws``, :class:`PayLayout`): four uniforms of
  ``orders.payment`` per possible attempt and two for verification, then each attempt's
  service time, each retry's delay and the verification time.
- the **aftermath** row (``Order.after_draws``): :data:`N_AFTER` uniforms of
  ``orders.aftermath``, then the durations of what follows payment (:data:`AFTER_TIMES`).

Two durations depend on the order's destination (the carrier's quote and the transit time):
their columns are filled at placement from the destination's own sampler, which every arrival
draws from, placed or not, in arrival order.

Changing a layout changes every run's numbers: add at the end of a row's part, never in between.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from simcore.scenario.distributions import Constant, DistSpec, TimeUnit
from simcore.scenario.schema import Scenario

# ---- orders.sku: the candidate listings: each arrival draws ``buyers.listing_tries`` of them by
# popularity (the tries a buyer makes at finding an in-stock listing before a lost sale).


@dataclass(frozen=True)
class Durations:
    """Columns of a row drawn from one stream: ``count`` draws per arrival of the scenario's
    ``spec``, in ``unit`` (hours unless said). A column of stream :data:`BY_DESTINATION` has no
    spec: placement fills it from the order's destination."""

    stream: str
    spec: Callable[[Scenario], DistSpec] | None
    unit: TimeUnit = "hours"
    count: Callable[[Scenario], int] = lambda scn: 1


# ---- the choices row: orders.choices, then the referee's part (``Order.screen_draws``)
#: Placement: fraudster or not, which buyer, card or wallet, stolen card, cancel intention,
#: address conflict, seller neglect; what the fraud screen observes (the network having flagged
#: a stolen card, a young account, billing and shipping addresses that differ, a new device);
#: the size of a fraud ring's burst.
FRAUD, BUYER, CARD, STOLEN, CANCEL, ADDRESS, NEGLECT = range(7)
STOLEN_FLAGGED, NEW_ACCOUNT, MISMATCH, NEW_DEVICE, BURST = range(7, 12)
#: Uniforms of placement per arrival.
N_PLACEMENT = 12
#: Uniforms of ``orders.choices`` per arrival: placement's, then the referee's three.
N_CHOICES = N_PLACEMENT + 3
#: The referee's (``Order.screen_draws``, in this order): prohibited-item detection, the
#: analyst's decision, the buyer fixing a conflicting address (uniforms), the score noise
#: N(0, 1), the analyst's review time and the buyer's time to fix the address (hours).
PROHIBITED, REVIEW, ADDRESS_FIX, SCORE_NOISE, REVIEW_TIME, FIX_TIME = range(6)
#: The durations after the score noise.
SCREEN_TIMES = (
    Durations("referee.review_time", lambda s: s.platform.fraud.review_time),
    Durations("buyers.address_fix_time", lambda s: s.platform.address_conflict.fix_time),
)
#: Width of the choices row, and the referee's part of it.
CHOICES_WIDTH = N_CHOICES + 1 + len(SCREEN_TIMES)
SCREEN = slice(N_PLACEMENT, CHOICES_WIDTH)


# ---- the payment row (``Order.pay_draws``)
#: Within each attempt's four uniforms: mistyped details, unverified account, issuer decline
#: (the first three, read as a slice), then the retry decision.
DETAILS, ACCOUNT, ISSUER, RETRY = range(4)
#: Uniforms per possible attempt.
PER_ATTEMPT = 4


def pay_width(max_retries: int) -> int:
    """Uniforms each order carries for the gateway's decisions: four per possible attempt (the
    first and ``max_retries`` retries), then the verification and abandonment decisions."""
    return PER_ATTEMPT * (max_retries + 1) + 2


class PayLayout(NamedTuple):
    """Positions in the payment row of a gateway allowing ``max_retries`` retries.

    Attributes:
        verify: Uniform: the payment is sent to verification.
        abandon: Uniform: the buyer gives up on verification.
        service: First of the ``max_retries + 1`` attempts' service times (hours).
        retry_delay: First of the ``max_retries`` retries' delays (hours).
        verify_time: The buyer's time to complete verification (hours), the row's last.
    """

    verify: int
    abandon: int
    service: int
    retry_delay: int
    verify_time: int

    @classmethod
    def of(cls, max_retries: int) -> PayLayout:
        u = pay_width(max_retries)
        return cls(u - 2, u - 1, u, u + max_retries + 1, u + 2 * max_retries + 1)


#: The durations of the payment row, after its uniforms.
PAY_TIMES = (
    Durations(
        "gateway.service_time",
        lambda s: s.payment.gateway.service_time,
        count=lambda s: s.payment.max_retries + 1,
    ),
    Durations("buyers.retry_delay", lambda s: s.buyers.retry_delay, count=lambda s: s.payment.max_retries),
    Durations("buyers.verification_time", lambda s: s.buyers.verification_time),
)


# ---- the aftermath row (``Order.after_draws``)
#: Parcel and dispute triggers: lost parcel, not-delivered, not-as-described, and disputes of a
#: seller cancellation, of a late refund, of a short refund.
LOST, NOT_DELIVERED, NOT_AS_DESCRIBED, CANCEL_DISPUTE, LATE_DISPUTE, SHORT_DISPUTE = range(6)
#: A dispute's course: evidence quality, merit of a not-as-described claim, the seller
#: accepting, when in the window the seller answers, a partial offer, the buyer taking it,
#: the share offered, the ruling.
EVIDENCE, MERIT, ACCEPT, AGREE_AT, PARTIAL_OFFER, PARTIAL_ACCEPT, PARTIAL_SHARE, RULING = range(6, 14)
#: The buyer: churn after a cancellation, a late refund, a short refund, a lost dispute;
#: ordering at all with lowered trust; skipping poorly rated sellers.
CHURN_CANCEL, CHURN_LATE, CHURN_SHORT, CHURN_DISPUTE, TRUST_BUY, AVOID = range(14, 20)
#: The seller's pick: whether it mis-keys the stock record, its direction and size
#: (simcore.model.inventory.Inventory.pick).
RECORD_ERROR = 20
#: A cancellation refund: the card payer choosing the wallet, paid short, the share paid; a
#: dispute's award: the card payer choosing the wallet.
REFUND_CHOOSES_WALLET, REFUND_SHORT, REFUND_SHORT_SHARE, AWARD_CHOOSES_WALLET = range(21, 25)
#: The seller approving the buyer's cancel request; the record error of the receipt of a
#: reorder this order triggers; the cardholder charging a fraudulent payment back; after a
#: failed payment or verification, the buyer churning and the buyer ordering again; a buyer who
#: wants out once the order shipped refusing or returning it; a dishonest seller asking the buyer
#: to cancel.
CANCEL_APPROVE, RECEIPT_ERROR, CHARGEBACK, CHURN_PAYMENT, PAY_REORDER, RETURN, ASK_BUYER = range(25, 32)
#: Uniforms of ``orders.aftermath`` per arrival.
N_AFTER = 32

#: The durations (hours unless said), after the uniforms: the buyer's cancel request after
#: placement and the seller's answer after it; the seller's first look after clearance and
#: its handling; the carrier's quote (USD) and the transit time, by the destination's
#: distributions; the lead time of a reorder this order's pick triggers; the buyer's wait
#: before disputing a parcel that has not come; the buyer's confirmation after delivery; a
#: cancellation refund's card delay (business days) and wallet delay, and a dispute award's;
#: the delay before the buyer opens a dispute (the second for a short refund, which may
#: follow a dispute of the cancellation); the agent's review, the evidence gathering and the
#: agent's decision; a fraudulent payment's chargeback after the payment; the bank's release of
#: a cancelled card payment's hold (business days); the buyer's new order after a failed payment;
#: a return's way back; a late refund's dispute after the buyer's patience.
(
    CANCEL_REQUEST_TIME,
    CANCEL_RESPONSE_TIME,
    FIRST_LOOK,
    HANDLING,
    QUOTE,
    TRANSIT,
    RESTOCK_LEAD,
    NOT_DELIVERED_WAIT,
    CONFIRM,
    REFUND_CARD_BDAYS,
    REFUND_WALLET_TIME,
    AWARD_CARD_BDAYS,
    AWARD_WALLET_TIME,
    OPEN_DELAY,
    SHORT_OPEN_DELAY,
    DISPUTE_REVIEW_TIME,
    INTERVENTION_DELAY,
    INTERVENTION_TIME,
    CHARGEBACK_DELAY,
    BANK_HOLD_BDAYS,
    PAY_REORDER_TIME,
    RETURN_TIME,
    LATE_OPEN_DELAY,
) = range(N_AFTER, N_AFTER + 23)


def _not_delivered_wait(s: Scenario) -> DistSpec:
    wait = s.platform.disputes.not_delivered_after_days
    # A number: every buyer waits as long (no draw); a duration: each buyer's own wait.
    return wait if isinstance(wait, DistSpec) else Constant(dist="constant", value=float(wait), unit="days")


#: A placeholder column, filled at placement by the order's destination (quote, transit).
BY_DESTINATION = "by destination"

#: The aftermath row's durations, in the order above.
AFTER_TIMES = (
    Durations("buyers.cancel_request_time", lambda s: s.buyers.cancel.request_time),
    Durations("sellers.cancel_response_time", lambda s: s.sellers.cancel_response_time),
    Durations("sellers.first_look_time", lambda s: s.sellers.first_look_time),
    Durations("sellers.handling_time", lambda s: s.sellers.handling_time),
    Durations(BY_DESTINATION, None),  # QUOTE
    Durations(BY_DESTINATION, None),  # TRANSIT
    Durations("inventory.restock_lead_time", lambda s: s.sellers.strategy.restock_lead_time),
    Durations("disputes.not_delivered_wait", _not_delivered_wait),
    Durations("buyers.confirm_time", lambda s: s.buyers.confirm_time),
    Durations("refunds.card_bdays", lambda s: s.refunds.card_delay_bdays, unit="days"),
    Durations("refunds.wallet_delay", lambda s: s.refunds.wallet_delay),
    Durations("disputes.award_card_bdays", lambda s: s.refunds.card_delay_bdays, unit="days"),
    Durations("disputes.award_wallet_delay", lambda s: s.refunds.wallet_delay),
    Durations("disputes.open_delay", lambda s: s.platform.disputes.open_delay, count=lambda s: 2),
    Durations("disputes.review_time", lambda s: s.platform.customer_service.review_time),
    Durations("disputes.intervention_delay", lambda s: s.platform.disputes.intervention_delay),
    Durations("disputes.intervention_time", lambda s: s.platform.customer_service.intervention_time),
    Durations("payment.chargeback_delay", lambda s: s.payment.chargebacks.delay),
    Durations("payment.bank_hold_bdays", lambda s: s.payment.bank_hold_release_bdays, unit="days"),
    Durations("buyers.payment_failure_reorder_time", lambda s: s.buyers.payment_failure_reorder_time),
    Durations("returns.transit_time", lambda s: s.platform.returns.transit_time),
    Durations("disputes.refund_late_open_delay", lambda s: s.platform.disputes.refund_late_open_delay),
)
#: Numbers in the aftermath row.
AFTER_WIDTH = LATE_OPEN_DELAY + 1

# ---- orders.repayment: the payment row of a buyer's new order after a failed payment, keyed by
# the arrival's id (simcore.engine.streams.Streams.keyed): drawn only for the few arrivals that
# need one, the same numbers for the same arrival under every strategy.
REPAYMENT = "orders.repayment"

# ---- orders.ring_burst: a fraud ring's orders after the first of a burst (Fraudsters.burst_*),
# keyed by the burst's arrival id: each follow-up's gap, listings, items and its three rows, in
# the layouts above (the destination's quote and transit drawn from the key's generator too).
RING_BURST = "orders.ring_burst"
