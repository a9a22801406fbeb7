"""The scenario schema: every key a scenario file may hold, its type, rule and default.

All defaults live here. A scenario file is validated once, at the edge, into a frozen
:class:`Scenario`; model code reads typed attributes and never guesses a default.
Probabilities are shares in [0, 1]; money is in US dollars; times are distribution specs
(see :mod:`simcore.distributions`) unless the key names its unit (``_days``, ``_hours``).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationInfo, field_validator

from simcore.distributions import Duration, Exponential, Gamma, Lognormal, Triangular

Share = Annotated[float, Field(ge=0.0, le=1.0)]
PositiveFloat = Annotated[float, Field(gt=0.0)]
NonNegFloat = Annotated[float, Field(ge=0.0)]
#: How often a periodic seller or platform action may recur: at most hourly, in days. A
#: near-zero interval would make the clock stall on one action forever.
IntervalDays = Annotated[float, Field(ge=1.0 / 24.0)]
#: Log-odds of the fraud risk score. The logistic saturates by +-40; with every term within +-50
#: and noise_sd <= 20 the score's exp() cannot overflow (|z| < 709).
LogOdds = Annotated[float, Field(ge=-50.0, le=50.0)]
#: Longest span counted in business days: ten years. The calendar steps business days through
#: numpy's int64 day counts, which overflow (a crash mid-run) for absurd spans like 1e300.
MAX_BDAYS = 3650.0


class _Frozen(BaseModel):
    # NaN passes no comparison and infinity passes every lower bound (``gt=0``), so either would
    # slip through the rules below into the run; no scenario number is meaningfully infinite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _h(mean: float, unit: str = "hours") -> Exponential:
    return Exponential(dist="exponential", mean=mean, unit=unit)


# --------------------------------------------------------------------------- buyers


class Promotion(_Frozen):
    """A sale window (e.g. 11.11) that multiplies the arrival rate."""

    name: str = Field("promotion", description="Label of the window.")
    start: dt.date = Field(description="First day of the promotion.")
    days: PositiveFloat = Field(1.0, description="Length of the window in days.")
    multiplier: PositiveFloat = Field(description="Arrival-rate multiplier inside the window.")


class ArrivalProfile(_Frozen):
    """A shaped arrival profile. Hour and weekday multipliers are rescaled to mean 1, so
    ``buyers.orders_per_hour`` stays the mean rate outside promotions."""

    hour_of_day: list[PositiveFloat] | None = Field(
        None, min_length=24, max_length=24, description="24 relative rates, hour 0 first."
    )
    weekday: list[PositiveFloat] | None = Field(
        None, min_length=7, max_length=7, description="7 relative rates, Monday first."
    )
    promotions: list[Promotion] = Field(default_factory=list, description="Sale windows (e.g. 11.11).")

    @field_validator("hour_of_day", "weekday")
    @classmethod
    def _finite_mean(cls, v: list[float] | None) -> list[float] | None:
        # Rescaling to mean 1 divides by the sum: an infinite sum would make every rate 0.
        if v is not None and not math.isfinite(sum(v)):
            raise ValueError(f"relative rates must have a finite sum (got sum {sum(v)})")
        return v


class BuyerCancellation(_Frozen):
    """Buyer-initiated cancel requests before shipment (probabilities per order)."""

    change_of_mind: Share = Field(0.008, description="Orders the buyer asks to cancel: changed their mind.")
    better_deal: Share = Field(0.006, description="Orders the buyer asks to cancel: found a better deal.")
    wrong_item: Share = Field(0.005, description="Orders the buyer asks to cancel: ordered the wrong item.")
    double_check: bool = Field(False, description="Buyer strategy: double-check the order before paying.")
    double_check_wrong_item_factor: Share = Field(
        0.3, description="Multiplier on wrong_item when double_check is on."
    )
    request_time: Duration = Field(
        default_factory=lambda: _h(18.0), description="Time from placement to the cancel request."
    )


class Fraudsters(_Frozen):
    """How fraudulent orders look (the signals the referee screens for)."""

    population: int = Field(300, ge=1, description="Fraudulent accounts.")
    ring_size: int = Field(10, ge=1, description="Fraudulent accounts sharing one device/IP.")
    verified_share: Share = Field(0.3, description="Fraudulent accounts that passed identity checks.")
    stolen_card_share: Share = Field(0.7, description="Fraud orders paid with a stolen card.")
    amount_multiplier: PositiveFloat = Field(2.5, description="Fraud baskets are this many times larger.")
    verification_abandon_share: Share = Field(
        0.9, description="Fraudsters who cannot complete an extra verification."
    )


class Trust(_Frozen):
    """Buyer trust in the platform (0-1) and what it does to repeat purchases.

    Every legitimate buyer starts at ``initial``. Bad experiences lower trust by their loss
    (a paid order cancelled by the seller or the system, a refund later than
    ``refund_patience_bdays`` or short, a dispute lost); each good order (completed without a
    dispute) raises it by ``good_order_gain``. A buyer arrives to buy with probability
    ``min(1, trust / initial)`` (fewer repeat purchases after a bad experience) and, after each
    bad experience, leaves for good with probability ``churn_share * (1 - trust)``.
    """

    initial: Annotated[float, Field(gt=0.0, le=1.0)] = Field(0.8, description="Trust of a new buyer.")
    good_order_gain: Share = Field(0.03, description="Trust gained per good order (capped at 1).")
    cancellation_loss: Share = Field(
        0.15, description="Trust lost when the seller or the system cancels the buyer's paid order."
    )
    refund_late_loss: Share = Field(0.1, description="Trust lost when a refund is later than the patience.")
    refund_wrong_loss: Share = Field(0.15, description="Trust lost when a refund is paid short.")
    dispute_lost_loss: Share = Field(0.25, description="Trust lost when the buyer's dispute is rejected.")
    churn_share: Share = Field(
        0.3, description="Churn probability after a bad experience, multiplied by (1 - trust)."
    )
    refund_patience_bdays: PositiveFloat = Field(
        15.0, le=MAX_BDAYS, description="Business days after which a buyer considers a refund late."
    )


class RatingAvoidance(_Frozen):
    """Buyers steering clear of poorly rated sellers' listings."""

    below: Share = Field(0.9, description="Seller ratings under this put buyers off.")
    share: Share = Field(0.5, description="Buyers who skip listings of sellers rated under 'below'.")


class Buyers(_Frozen):
    """Buyer population, arrivals and buyer behaviour."""

    orders_per_hour: PositiveFloat = Field(12.5, description="Mean order arrival rate (orders/hour).")
    arrival_profile: Annotated[
        Annotated[Literal["flat"], Tag("flat")] | Annotated[ArrivalProfile, Tag("profile")],
        # A mapping is a profile, anything else must be 'flat': one clear error, not one per branch.
        Discriminator(lambda v: "profile" if isinstance(v, dict | ArrivalProfile) else "flat"),
    ] = Field("flat", description="'flat', or a shaped profile (hour of day, weekday, promotions).")
    population: int = Field(25000, ge=1, description="Legitimate buyer accounts.")
    verified_share: Share = Field(0.8, description="Accounts with a verified identity.")
    card_share: Share = Field(0.85, description="Orders paid by card; the rest from the wallet balance.")
    fraud_rate: Share = Field(0.012, description="Share of orders placed by fraudsters.")
    fraud: Fraudsters = Field(default_factory=Fraudsters)
    item_price_usd: Lognormal = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=18.0, sd=22.0),
        description="Unit price of a listing in USD (unit key ignored).",
    )
    extra_items_mean: NonNegFloat = Field(
        0.3, le=100.0, description="Quantity is 1 + Poisson(extra_items_mean)."
    )
    cancel: BuyerCancellation = Field(default_factory=BuyerCancellation)
    retry_probability: Share = Field(0.7, description="Chance a buyer retries after a failed payment.")
    retry_delay: Duration = Field(default_factory=lambda: _h(10.0, "minutes"))
    verification_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=5.0, sd=7.0),
        description="Time a buyer takes to complete an extra payment verification.",
    )
    verification_abandon_share: Share = Field(
        0.15, description="Legitimate buyers who never complete an extra verification."
    )
    confirm_time: Duration = Field(
        default_factory=lambda: _h(3.0, "days"),
        description="Time from delivery to the buyer confirming receipt.",
    )
    trust: Trust = Field(default_factory=Trust)
    low_rating: RatingAvoidance = Field(default_factory=RatingAvoidance)


# --------------------------------------------------------------------------- sellers


class SellerStrategy(_Frozen):
    """Inventory and pricing practices of sellers."""

    sync_interval_days: IntervalDays | None = Field(
        90.0,
        description="Full stock count resetting records to physical stock (at most hourly); null = never.",
    )
    low_stock_alert: bool = Field(True, description="Reorder when recorded stock hits reorder_point.")
    reorder_point: int = Field(4, ge=0, description="Units on record that trigger a reorder (with alerts).")
    reorder_quantity: int = Field(12, ge=1, description="Units per replenishment order.")
    restock_lead_time: Duration = Field(
        default_factory=lambda: Gamma(dist="gamma", mean=6.0, sd=2.0, unit="days")
    )
    repricing_interval_days: IntervalDays = Field(
        14.0, description="Sellers re-set prices to the exchange rate this often (at most hourly)."
    )


class Pricing(_Frozen):
    """Listing margins, price errors and exchange-rate drift."""

    error_listing_share: Share = Field(0.002, description="Listings with a price typo (sold at a loss).")
    margin_mean: float = Field(0.15, description="Mean listing margin over cost, as a share.")
    margin_sd: NonNegFloat = Field(0.06, description="Standard deviation of listing margins.")
    fx_daily_volatility: NonNegFloat = Field(
        0.005,
        le=1.0,
        description="Daily log-volatility of the listing-to-cost currency exchange rate.",
    )
    loss_tolerance: NonNegFloat = Field(
        0.03, description="Sellers cancel when the margin falls below minus this share."
    )


class Sellers(_Frozen):
    """Seller population, catalogs, stock records and behaviour."""

    count: int = Field(400, ge=1, description="Sellers.")
    skus_per_seller: int = Field(40, ge=1, description="Listings (SKUs) per seller.")
    popularity_skew: NonNegFloat = Field(1.0, description="Zipf exponent of SKU popularity.")
    # Poisson means: numpy refuses means past ~9e18; a million units is already far past a listing.
    initial_stock_mean: PositiveFloat = Field(12.0, le=1e6, description="Mean units per SKU at start.")
    inventory_accuracy: Share = Field(
        0.35, description="Share of SKU stock records that match physical stock at start."
    )
    inventory_accuracy_concentration: Annotated[float, Field(ge=0.1)] | None = Field(
        None,
        description="Spread of record accuracy across sellers: each seller's accuracy is Beta with "
        "mean inventory_accuracy and this concentration (a + b); smaller = wider. null = all alike.",
    )
    phantom_share: Share = Field(
        0.7, description="Of inaccurate records, the share that overstate physical stock."
    )
    record_error_mean: PositiveFloat = Field(3.0, le=1e6, description="Mean size of a record error (units).")
    # Each unit lost is one simulation event: 1 per SKU a day is ~30x the default and already
    # 2.4 million events over the baseline.
    shrinkage_per_sku_day: NonNegFloat = Field(
        0.03, le=1.0, description="Unrecorded losses (theft, damage, mis-picks) per SKU per day."
    )
    strategy: SellerStrategy = Field(default_factory=SellerStrategy)
    pricing: Pricing = Field(default_factory=Pricing)
    dishonest_share: Share = Field(
        0.1, description="Sellers who report out_of_stock to dodge an unprofitable sale."
    )
    first_look_time: Duration = Field(
        default_factory=lambda: _h(12.0), description="Paid order to the seller first handling it."
    )
    handling_time: Duration = Field(
        default_factory=lambda: Gamma(dist="gamma", mean=2.0, sd=1.0, unit="days"),
        description="First look to hand-over to the carrier.",
    )
    neglect_share: Share = Field(0.001, description="Orders any seller never ships.")
    unreliable_share: Share = Field(0.05, description="Sellers who are unreliable.")
    unreliable_neglect_share: Share = Field(
        0.05, description="Further share of an unreliable seller's orders never shipped."
    )
    handling_speed_sd: NonNegFloat = Field(
        0.2,
        le=10.0,
        description="Spread of per-seller handling-time multipliers (lognormal, mean 1).",
    )
    cancel_response_time: Duration = Field(
        default_factory=lambda: _h(20.0), description="Seller's time to answer a buyer cancel request."
    )
    cancel_approval_share: Share = Field(0.85, description="Answered cancel requests approved.")


# --------------------------------------------------------------------------- shipping


class Destination(_Frozen):
    """A destination country: demand weight, shipping cost and the sellers' cost cap."""

    weight: PositiveFloat = Field(1.0, description="Relative share of buyers living there.")
    shipping_cost_usd: Lognormal = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=5.0, sd=3.0),
        description="Carrier quote per order in USD (unit key ignored).",
    )
    cost_cap_usd: PositiveFloat = Field(35.0, description="Sellers refuse to ship above this quote.")
    transit_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=12.0, sd=6.0, unit="days")
    )


def _default_destinations() -> dict[str, Destination]:
    return {"US": Destination(weight=1.0)}


class Shipping(_Frozen):
    """Routes and carriers."""

    blocked_route_share: Share = Field(
        0.005, description="Share of seller-to-destination routes that cannot be served."
    )
    lost_share: Share = Field(0.003, description="Parcels that never arrive.")
    destinations: dict[str, Destination] = Field(
        default_factory=_default_destinations, min_length=1, description="Destination countries by code."
    )


# --------------------------------------------------------------------------- payment


class Gateway(_Frozen):
    """The payment gateway: a queue with ``servers`` parallel authorisation slots."""

    servers: int = Field(2, ge=1, description="Authorisations processed in parallel.")
    service_time: Duration = Field(default_factory=lambda: _h(30.0, "seconds"))


class Verification(_Frozen):
    """The extra verification step (3-D Secure, ID check) some payments must pass."""

    share: Share = Field(0.02, description="Verified-account card payments asked to verify.")
    unverified_share: Share = Field(0.10, description="Unverified-account card payments asked to verify.")
    stolen_card_share: Share = Field(0.6, description="Stolen-card payments asked to verify.")
    window_hours: PositiveFloat = Field(24.0, description="Time allowed to complete the step.")


class Payment(_Frozen):
    """Payment authorisation, failures, retries and verification."""

    # Every order draws 4 uniforms per possible attempt, whatever happens (common random numbers).
    max_retries: int = Field(2, ge=0, le=20, description="Extra attempts after a failed payment.")
    gateway: Gateway = Field(default_factory=Gateway)
    incorrect_details_rate: Share = Field(0.015, description="Attempts failing on mistyped details.")
    unverified_decline_rate: Share = Field(0.04, description="Unverified-account attempts rejected.")
    issuer_decline_rate: Share = Field(0.035, description="Attempts declined by the card issuer.")
    stolen_card_decline_rate: Share = Field(0.3, description="Stolen-card attempts declined.")
    decline_persistence: Share = Field(
        0.5, description="Chance a retry after an issuer decline is declined again."
    )
    verification: Verification = Field(default_factory=Verification)


# --------------------------------------------------------------------------- platform


class FraudScreening(_Frozen):
    """Risk scoring, thresholds and the manual review queue.

    The score is ``sigmoid(intercept + sum of signal weights + fraud_signal * is_fraud + noise)``:
    the listed signals are the ones the platform can see; ``fraud_signal`` stands for the other
    features a risk model learns.
    """

    intercept: LogOdds = Field(-3.25, description="Log-odds of the risk score with no signal present.")
    weight_large_order: LogOdds = Field(1.2, description="Log-odds added by an unusually large order.")
    weight_velocity: LogOdds = Field(1.5, description="Log-odds added by a high-velocity device.")
    weight_unverified: LogOdds = Field(0.6, description="Log-odds added by an unverified account.")
    weight_stolen_card: LogOdds = Field(
        1.5, description="Log-odds added by a stolen card (card-network flag)."
    )
    fraud_signal: LogOdds = Field(3.0, description="Log-odds added by fraud the other model features see.")
    noise_sd: NonNegFloat = Field(
        1.5, le=20.0, description="Standard deviation of the score's noise (log-odds)."
    )
    large_order_usd: PositiveFloat = Field(150.0, description="Orders above this are 'unusually large'.")
    velocity_window_hours: PositiveFloat = Field(24.0, description="Window of the velocity signal.")
    velocity_limit: int = Field(3, ge=1, description="Orders per device in the window that raise a flag.")
    review_threshold: Share = Field(0.35, description="Scores at or above go to manual review.")
    decline_threshold: Share = Field(0.75, description="Scores at or above are cancelled outright.")
    analysts: int = Field(1, ge=1, description="Analysts staffing the manual review queue.")
    review_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=30.0, sd=20.0, unit="minutes")
    )
    review_sensitivity: Share = Field(0.8, description="Reviewed fraud orders the analyst stops.")
    review_false_positive_rate: Share = Field(0.12, description="Reviewed legit orders rejected.")

    # Cross-field rules are field validators (not model validators) so that they are reported
    # at the key's line and together with every other problem.
    @field_validator("decline_threshold")
    @classmethod
    def _thresholds(cls, v: float, info: ValidationInfo) -> float:
        review = info.data.get("review_threshold")
        if review is not None and v < review:
            raise ValueError(
                f"must be >= review_threshold (got decline_threshold={v}, review_threshold={review})"
            )
        return v


class Prohibited(_Frozen):
    """Prohibited listings (weapons, counterfeits...) and the platform's checks."""

    listing_share: Share = Field(0.003, description="Listings that are prohibited items.")
    detection_rate: Share = Field(0.9, description="Orders of prohibited listings the check catches.")


class AddressConflict(_Frozen):
    """Conflicting shipping information the platform flags."""

    rate: Share = Field(0.006, description="Orders with conflicting shipping information.")
    fix_share: Share = Field(0.5, description="Buyers who fix the address within the window.")
    fix_window_hours: PositiveFloat = Field(48.0, description="Time the buyer has to fix it.")
    fix_time: Duration = Field(default_factory=lambda: _h(12.0))


class CustomerService(_Frozen):
    """Customer-service agents who review disputes and decide those that escalate."""

    agents: int = Field(2, ge=1, description="Agents working disputes in parallel.")
    review_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=3.0, sd=2.0),
        description="Agent time for the initial review of a dispute.",
    )
    intervention_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=6.0, sd=4.0),
        description="Agent time to decide an escalated dispute.",
    )


class DisputePropensity(_Frozen):
    """Chance that a buyer opens a dispute after each kind of trouble."""

    disguised_cancellation: Share = Field(
        0.3, description="After a seller cancellation whose stated reason hides the real one."
    )
    seller_cancellation: Share = Field(0.03, description="After an honest seller cancellation.")
    refund_late: Share = Field(0.3, description="When a refund is later than the buyer's patience.")
    refund_wrong_amount: Share = Field(0.6, description="When a refund lands short.")
    not_delivered: Share = Field(
        0.5, description="When a parcel has not arrived by not_delivered_after_days."
    )
    not_as_described: Share = Field(
        0.004, description="Delivered orders the buyer disputes as not as described."
    )


class Ruling(_Frozen):
    """How an agent decides an escalated dispute.

    The buyer wins with probability ``merit_win`` (claim founded) or ``no_merit_win`` (not),
    plus ``evidence_weight * (evidence - 0.5)`` and ``history_weight`` times the seller's
    share of orders ruled against them in the penalty window. A win on thin evidence
    (below ``partial_below``) on a goods dispute is settled as a partial refund.
    """

    merit_win: Share = Field(0.5, description="Base chance a founded claim wins.")
    no_merit_win: Share = Field(0.1, description="Base chance an unfounded claim wins.")
    evidence_weight: NonNegFloat = Field(0.3, description="Weight of evidence quality (0-1) on winning.")
    history_weight: NonNegFloat = Field(2.0, description="Weight of the seller's ruling record.")
    partial_below: Share = Field(
        0.4, description="Evidence below this turns a goods win into a partial refund."
    )


class Disputes(_Frozen):
    """Disputes: when buyers open them and how the three stages run.

    Stages: initial review by an agent, negotiation between buyer and seller (at most
    ``negotiation_days``), then platform intervention (evidence gathering, ``intervention_delay``,
    then an agent's decision). Cancelled-order disputes claim what the buyer has not got back;
    goods disputes (not delivered, not as described) claim the order amount.
    """

    propensity: DisputePropensity = Field(default_factory=DisputePropensity)
    open_delay: Duration = Field(
        default_factory=lambda: _h(2.0, "days"), description="Trouble noticed to dispute opened."
    )
    not_delivered_after_days: PositiveFloat = Field(
        45.0, description="Days after shipment a buyer waits for a parcel before disputing."
    )
    not_as_described_merit: Share = Field(
        0.5, description="Share of not-as-described claims that are founded."
    )
    negotiation_days: PositiveFloat = Field(7.0, description="Window for buyer and seller to agree.")
    seller_accepts_founded: Share = Field(0.25, description="Sellers who accept a founded claim.")
    seller_accepts_unfounded: Share = Field(0.05, description="Sellers who accept an unfounded claim.")
    dishonest_accept_factor: Share = Field(0.4, description="Multiplier on acceptance for dishonest sellers.")
    partial_offer_share: Share = Field(
        0.4, description="Of goods claims not accepted, those where the seller offers a partial refund."
    )
    partial_accept_share: Share = Field(0.6, description="Buyers who take a partial-refund offer.")
    partial_refund_share: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.5, description="Mean share of the claim a partial refund pays (drawn in +-0.2 around it)."
    )
    intervention_delay: Duration = Field(
        default_factory=lambda: Triangular(dist="triangular", low=1, mode=3, high=6.5, unit="days"),
        description="Escalation to the agent's decision, before agent time (evidence gathering).",
    )
    ruling: Ruling = Field(default_factory=Ruling)

    @field_validator("partial_refund_share")
    @classmethod
    def _partial(cls, v: float) -> float:
        if not 0.25 <= v <= 0.75:
            raise ValueError(f"must be in [0.25, 0.75] so that draws stay inside (0, 1) (got {v})")
        return v


class SellerRating(_Frozen):
    """A seller's rating: the smoothed share of good orders.

    ``rating = (good + prior * prior_weight) / (good + bad + prior_weight)``; a good order is
    completed (a parcel that arrived) without a dispute or with the buyer's claim rejected; a bad
    one is a seller-responsible cancellation (seller reasons and missed ship-by deadlines) or a
    goods or suspicious-cancellation dispute settled or ruled against the seller.
    """

    prior: Share = Field(0.97, description="Rating of a new seller.")
    prior_weight: PositiveFloat = Field(20.0, description="Orders' worth of weight of the prior.")


class Penalties(_Frozen):
    """The platform's watch over sellers: warnings, then suspension.

    Every ``review_interval_days`` the platform looks at each seller's last ``window_days``:
    the seller-responsible cancellation rate (over orders cleared for the seller) and the
    disputes ruled against the seller. A seller past either warning line is warned; a warned
    seller past a suspension line (warned at least ``grace_days`` before) is suspended for
    ``suspension_days`` (null = for good): listings hidden, open orders cancelled
    (``seller_suspended``) and refunded. A warning lapses after a clean window; a reinstated
    seller starts with a clean window.
    """

    window_days: PositiveFloat = Field(30.0, description="Rolling window of the seller metrics.")
    min_orders: int = Field(20, ge=1, description="Orders in the window before rates are judged.")
    warn_cancel_rate: Share = Field(0.04, description="Cancellation rate that draws a warning.")
    suspend_cancel_rate: Share = Field(0.08, description="Cancellation rate that suspends a warned seller.")
    warn_rulings: int = Field(2, ge=1, description="Disputes ruled against the seller that draw a warning.")
    suspend_rulings: int = Field(4, ge=1, description="Rulings that suspend a warned seller.")
    grace_days: NonNegFloat = Field(7.0, description="Time a warned seller has to improve.")
    suspension_days: PositiveFloat | None = Field(
        30.0, description="Length of a suspension; null = for good."
    )
    review_interval_days: Annotated[float, Field(ge=1.0 / 24.0)] = Field(
        1.0, description="How often the platform reviews sellers (at most hourly)."
    )

    @field_validator("suspend_cancel_rate")
    @classmethod
    def _cancel_lines(cls, v: float, info: ValidationInfo) -> float:
        warn = info.data.get("warn_cancel_rate")
        if warn is not None and v < warn:
            raise ValueError(f"must be >= warn_cancel_rate (got {v} < {warn})")
        return v

    @field_validator("suspend_rulings")
    @classmethod
    def _ruling_lines(cls, v: int, info: ValidationInfo) -> int:
        warn = info.data.get("warn_rulings")
        if warn is not None and v < warn:
            raise ValueError(f"must be >= warn_rulings (got {v} < {warn})")
        return v


class Platform(_Frozen):
    """The platform referee: deadlines, screening and automatic rules."""

    ship_by_days: PositiveFloat = Field(
        7.0,
        description="Orders unshipped this long after clearance (payment and screening done) are cancelled.",
    )
    cancel_auto_approve_hours: PositiveFloat = Field(
        48.0, description="Unanswered buyer cancel requests are approved after this."
    )
    fraud: FraudScreening = Field(default_factory=FraudScreening)
    prohibited: Prohibited = Field(default_factory=Prohibited)
    address_conflict: AddressConflict = Field(default_factory=AddressConflict)
    delivery_guarantee_days: PositiveFloat = Field(
        60.0, description="Lost parcels not disputed are closed this long after shipment."
    )
    customer_service: CustomerService = Field(default_factory=CustomerService)
    disputes: Disputes = Field(default_factory=Disputes)
    seller_rating: SellerRating = Field(default_factory=SellerRating)
    penalties: Penalties = Field(default_factory=Penalties)


# --------------------------------------------------------------------------- refunds


class Refunds(_Frozen):
    """Refunds of paid-then-cancelled orders and of disputes (same methods and delays)."""

    wallet_share: Share = Field(0.3, description="Card payers who take the refund to the wallet.")
    card_delay_bdays: Duration = Field(
        default_factory=lambda: Triangular(dist="triangular", low=3, mode=7, high=20, unit="days"),
        description="Business days to a refund on the original method (unit must be days).",
    )
    wallet_delay: Duration = Field(default_factory=lambda: _h(2.0))
    wrong_amount_rate: Share = Field(
        0.01, description="Cancellation refunds paid with a wrong (short) amount."
    )

    @field_validator("card_delay_bdays")
    @classmethod
    def _bdays(cls, v):
        if v.unit != "days":
            raise ValueError(f"counts business days: unit must be days (got {v.unit})")
        if v.mean_in_unit() > MAX_BDAYS:
            raise ValueError(f"mean must be at most {MAX_BDAYS:g} business days (got {v.mean_in_unit():g})")
        return v


# --------------------------------------------------------------------------- scenario


class Scenario(_Frozen):
    """A whole scenario. See README "Scenario reference" for the meaning of each key."""

    extends: str | None = Field(
        None, description="Parent scenario file (relative path); resolved by the loader."
    )
    name: str = Field("scenario", description="Short name shown in reports and plots.")
    description: str = Field("", description="What the scenario varies and why.")
    seed: int = Field(1, ge=0, le=2**63 - 1, description="Root seed of every random stream.")
    start: dt.date = Field(dt.date(2026, 1, 5), description="Calendar date of simulated hour 0.")
    horizon_days: PositiveFloat = Field(120.0, description="Simulated days; orders arrive until then.")
    # Validated when defaulted too: a short horizon_days with the default warm-up is wrong.
    warmup_days: NonNegFloat = Field(
        20.0, validate_default=True, description="KPIs count orders placed after this."
    )
    cooldown_days: NonNegFloat = Field(
        0.0, description="KPIs ignore orders placed in the last cooldown_days (still open)."
    )
    buyers: Buyers = Field(default_factory=Buyers)
    sellers: Sellers = Field(default_factory=Sellers)
    shipping: Shipping = Field(default_factory=Shipping)
    payment: Payment = Field(default_factory=Payment)
    platform: Platform = Field(default_factory=Platform)
    refunds: Refunds = Field(default_factory=Refunds)

    @field_validator("warmup_days")
    @classmethod
    def _warmup(cls, v: float, info: ValidationInfo) -> float:
        # Checked alone as well as with cooldown_days (below), which is only validated when set.
        horizon = info.data.get("horizon_days")
        if horizon is not None and v >= horizon:
            raise ValueError(f"must be < horizon_days (got warmup_days={v} >= horizon_days={horizon})")
        return v

    @field_validator("cooldown_days")
    @classmethod
    def _window(cls, v: float, info: ValidationInfo) -> float:
        horizon, warmup = info.data.get("horizon_days"), info.data.get("warmup_days")
        if horizon is not None and warmup is not None and warmup + v >= horizon:
            raise ValueError(
                f"warmup_days + cooldown_days must be < horizon_days (got {warmup} + {v} >= {horizon})"
            )
        return v

    @property
    def horizon_hours(self) -> float:
        return self.horizon_days * 24.0

    @property
    def kpi_window_hours(self) -> tuple[float, float]:
        """(first, last) placement hour of the orders KPIs count."""
        return self.warmup_days * 24.0, (self.horizon_days - self.cooldown_days) * 24.0
