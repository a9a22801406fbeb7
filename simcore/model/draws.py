"""The per-order draw layout: which uniform of an arrival's rows makes which decision.

Every arrival draws the same fixed number of numbers from each of its streams when it arrives,
whatever then happens to it, so that two strategies run with one seed give the same arrival
the same luck (common random numbers). Each number makes one decision only, so that decisions
stay independent. The rows and their streams:

- ``orders.sku``: :data:`LISTING_TRIES` uniforms; the candidate listings, by popularity.
- ``orders.choices``: :data:`N_CHOICES` uniforms; the placement's decisions, then the referee's.
- ``orders.risk_noise``: one standard normal, appended to the referee's as :data:`SCORE_NOISE`.
- ``orders.payment``: :func:`pay_width` uniforms; four per possible payment attempt, then the
  verification decisions.
- ``orders.aftermath``: :data:`N_AFTER` uniforms; what may follow the order (parcel loss,
  disputes and their course, churn, the buyer's next purchase).

Changing a layout changes every run's numbers: add at the end of a row, never in between.
"""

from __future__ import annotations

# ---- orders.sku: the candidate listings
#: Tries a buyer makes at finding an in-stock listing before giving up (a lost sale): each
#: arrival draws this many candidates by popularity.
LISTING_TRIES = 3

# ---- orders.choices: placement, then the referee's part (``Order.screen_draws``)
#: Placement: fraudster or not, which buyer, card or wallet, stolen card, cancel intention,
#: address conflict, seller neglect.
FRAUD, BUYER, CARD, STOLEN, CANCEL, ADDRESS, NEGLECT = range(7)
#: Uniforms of ``orders.choices`` per arrival: the seven above, then the referee's three.
N_CHOICES = 10
#: The referee's part of an ``orders.choices`` row.
SCREEN = slice(7, N_CHOICES)
#: The referee's (``Order.screen_draws``, in this order): prohibited-item detection, the
#: analyst's decision, the buyer fixing a conflicting address, then the score noise N(0, 1).
PROHIBITED, REVIEW, ADDRESS_FIX, SCORE_NOISE = range(4)

# ---- orders.payment (``Order.pay_draws``)
#: Within each attempt's four: mistyped details, unverified account, issuer decline (the first
#: three, read as a slice), then the retry decision.
DETAILS, ACCOUNT, ISSUER, RETRY = range(4)
#: Uniforms per possible attempt.
PER_ATTEMPT = 4
#: After the attempts (negative indices): sent to verification, gives up on it.
VERIFY, ABANDON = -2, -1


def pay_width(max_retries: int) -> int:
    """Uniforms each order carries for the gateway: four per possible attempt (the first and
    ``max_retries`` retries), then the verification and abandonment decisions."""
    return PER_ATTEMPT * (max_retries + 1) + 2


# ---- orders.aftermath (``Order.after_draws``)
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
#: Uniforms of ``orders.aftermath`` per arrival.
N_AFTER = 21
