"""The ``payment`` and ``platform`` sections: gateway, screening, disputes, seller rating."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from simcore.scenario.distributions import Constant, Duration, Lognormal, Triangular, Uniform
from simcore.scenario.schema.common import (
    FrozenModel,
    LogOdds,
    NonNegFloat,
    PositiveFloat,
    Share,
    business_days,
    exp_hours,
    not_below,
)
from simcore.scenario.schema.policy import PolicySpec


class StaffingSpec(PolicySpec):
    """A desk's staffing over time (``simcore.policies.staffing``): its headcount at each clock
    hour. Built-in kinds: ``constant`` (the desk's count key at every hour: the default) and
    ``schedule`` (params ``by_hour``: 24 headcounts by hour of day; ``by_date``: ISO date -> one
    headcount for the day, or 24 by hour; both at scale 1; hours neither names keep the count
    key's)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {
        "constant": frozenset(),
        "schedule": frozenset({"by_hour", "by_date"}),
    }
    METHODS: ClassVar[tuple[str, ...]] = ("servers",)

    @model_validator(mode="after")
    def _schedule_params(self) -> StaffingSpec:
        if self.kind != "schedule":
            return self
        by_hour, by_date = self.params.get("by_hour"), self.params.get("by_date")
        if by_hour is None and not by_date:
            raise ValueError("kind 'schedule' needs params.by_hour, params.by_date or both")
        if by_hour is not None:
            _headcounts(by_hour, "params.by_hour")
        if by_date is not None and not isinstance(by_date, dict):
            raise ValueError(f"params.by_date is a mapping of ISO dates to headcounts (got {by_date!r})")
        for day, counts in (by_date or {}).items():
            try:
                dt.date.fromisoformat(str(day))
            except ValueError:
                raise ValueError(f"params.by_date: {day!r} is not an ISO date (YYYY-MM-DD)") from None
            if isinstance(counts, list):
                _headcounts(counts, f"params.by_date[{day}]")
            elif isinstance(counts, bool) or not isinstance(counts, int) or counts < 0:
                raise ValueError(
                    f"params.by_date[{day}]: a headcount (a whole number >= 0) or 24 of them, "
                    f"hour 0 first (got {counts!r})"
                )
        return self


def _headcounts(counts: Any, where: str) -> None:
    """Raise unless ``counts`` is a list of 24 whole numbers >= 0."""
    if (
        not isinstance(counts, list)
        or len(counts) != 24
        or any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in counts)
    ):
        raise ValueError(f"{where}: 24 headcounts (whole numbers >= 0), hour 0 first (got {counts!r})")


def _constant_staff() -> StaffingSpec:
    return StaffingSpec(kind="constant")


#: What a desk's ``staffing`` key says, for its description.
_STAFFING = (
    "The {who}'s headcount by date and hour: constant (the count above at every hour), "
    "schedule (params by_hour: 24 headcounts; by_date: ISO date -> a headcount or 24; at "
    "scale 1), or a researcher's module:Class (simcore.policies.staffing)."
)


class Gateway(FrozenModel):
    """The payment gateway: a queue with ``servers`` parallel authorisation slots."""

    servers: int = Field(2, ge=1, description="Authorisations processed in parallel.")
    service_time: Duration = Field(default_factory=lambda: exp_hours(30.0, "seconds"))
    staffing: StaffingSpec = Field(
        default_factory=_constant_staff, description=_STAFFING.format(who="gateway's servers")
    )


class Verification(FrozenModel):
    """The extra verification step (3-D Secure, ID check) some payments must pass."""

    share: Share = Field(0.02, description="Verified-account card payments asked to verify.")
    unverified_share: Share = Field(0.10, description="Unverified-account card payments asked to verify.")
    stolen_card_share: Share = Field(0.6, description="Stolen-card payments asked to verify.")
    window_hours: PositiveFloat = Field(24.0, description="Time allowed to complete the step.")


class Chargebacks(FrozenModel):
    """Fraudulent card payments that shipped, charged back by the cardholder.

    A fraudster pays with someone else's card (``buyers.fraud.stolen_card_share`` of them with
    one the card network has already flagged). When such an order ships, the cardholder charges
    the payment back, ``delay`` after it, with probability ``share``, unless the network's
    ``window_days`` have passed. The goods are gone; the party that ``liability`` names loses
    the amount and pays ``fee_usd``. A charge reported while the order is still unshipped stops
    it instead: the platform cancels it (``fraud_suspected``) and refunds the card.
    """

    share: Share = Field(0.95, description="Shipped fraudulent card payments the cardholder charges back.")
    delay: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=25.0, sd=15.0, unit="days"),
        description="From the payment to the chargeback.",
    )
    window_days: PositiveFloat = Field(
        120.0, description="Days after the payment within which a cardholder may charge back."
    )
    fee_usd: NonNegFloat = Field(20.0, description="Fee per chargeback (USD), paid by the liable party.")
    liability: Literal["seller", "platform"] = Field(
        "platform", description="Who loses a chargeback's amount and fee: the seller or the platform."
    )


class Payment(FrozenModel):
    """Payment authorisation, failures, retries and verification."""

    # Every order draws 4 uniforms per possible attempt, whatever happens (common random numbers).
    max_retries: int = Field(2, ge=0, le=20, description="Extra attempts after a failed payment.")
    gateway: Gateway = Field(default_factory=Gateway)
    incorrect_details_rate: Share = Field(0.015, description="Attempts failing on mistyped details.")
    unverified_decline_rate: Share = Field(0.04, description="Unverified-account attempts rejected.")
    issuer_decline_rate: Share = Field(0.035, description="Attempts declined by the card issuer.")
    stolen_card_decline_rate: Share = Field(0.3, description="Stolen-card attempts declined.")
    stolen_card_flagged_share: Share = Field(
        0.5,
        description=(
            "Stolen cards the card network has already flagged (reported by the cardholder) when "
            "the order is placed: the fraud screen's stolen-card signal."
        ),
    )
    decline_persistence: Share = Field(
        0.5, description="Chance a retry after an issuer decline is declined again."
    )
    verification: Verification = Field(default_factory=Verification)
    bank_hold_release_bdays: Duration = Field(
        default_factory=lambda: Uniform(dist="uniform", low=7.0, high=10.0, unit="days"),
        description=(
            "Business days until the bank releases the hold of a card payment authorised and then "
            "cancelled before it was taken (unit must be days)."
        ),
    )
    chargebacks: Chargebacks = Field(default_factory=Chargebacks)

    @field_validator("bank_hold_release_bdays")
    @classmethod
    def _bdays(cls, v):
        return business_days(v)


# --------------------------------------------------------------------------- platform


class FraudDecisionSpec(PolicySpec):
    """The fraud decision (``simcore.policies.fraud``): a paid order's risk score, the review
    queue and a few facts of the order to ``decline``, ``review`` or ``pass``. Built-in kind:
    ``threshold`` (the section's ``decline_threshold`` and ``review_threshold``; no params)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {"threshold": frozenset()}
    METHODS: ClassVar[tuple[str, ...]] = ("decide",)


class ReviewQueueSpec(PolicySpec):
    """The fraud review queue's discipline (``simcore.policies.review_queue``): which waiting
    order an analyst takes next and how long one may wait. Built-in kinds: ``fifo`` (the
    default), ``by_score`` (riskiest first), ``time_limit`` (params ``hours`` > 0, ``on_timeout``
    ``pass`` or ``decline``, ``by_score`` true/false)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {
        "fifo": frozenset(),
        "by_score": frozenset(),
        "time_limit": frozenset({"hours", "on_timeout", "by_score"}),
    }
    METHODS: ClassVar[tuple[str, ...]] = ("priority",)

    @model_validator(mode="after")
    def _time_limit_params(self) -> ReviewQueueSpec:
        if self.kind != "time_limit":
            return self
        p = self.params
        hours = p.get("hours")
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0.0 < hours <= 1e6:
            raise ValueError(
                f"kind 'time_limit' needs params.hours, a number of hours in (0, 1e6] (got {hours!r})"
            )
        if p.get("on_timeout", "pass") not in ("pass", "decline"):
            raise ValueError(f"params.on_timeout must be pass or decline (got {p.get('on_timeout')!r})")
        if not isinstance(p.get("by_score", False), bool):
            raise ValueError(f"params.by_score must be true or false (got {p.get('by_score')!r})")
        return self


class FraudScreening(FrozenModel):
    """Risk scoring, thresholds and the manual review queue.

    The score is ``sigmoid(intercept + sum of the weights of the signals present + noise)`` over
    what the platform can observe of an order (``simcore.model.vocabulary.SIGNALS``); whether
    the order is fraud is not among them.
    """

    intercept: LogOdds = Field(-3.85, description="Log-odds of the risk score with no signal present.")
    weight_large_order: LogOdds = Field(2.0, description="Log-odds added by an unusually large order.")
    weight_velocity: LogOdds = Field(2.5, description="Log-odds added by a high-velocity device.")
    weight_unverified: LogOdds = Field(0.8, description="Log-odds added by an unverified account.")
    weight_stolen_card: LogOdds = Field(
        3.0, description="Log-odds added by a stolen card (card-network flag)."
    )
    weight_new_account: LogOdds = Field(
        1.2, description="Log-odds added by an account younger than new_account_days."
    )
    weight_address_mismatch: LogOdds = Field(
        1.4, description="Log-odds added by a shipping address other than the billing address."
    )
    weight_new_device: LogOdds = Field(1.2, description="Log-odds added by a device new to the account.")
    new_account_days: PositiveFloat = Field(
        30.0, le=36500.0, description="Accounts younger than this (days) raise the new-account signal."
    )
    noise_sd: NonNegFloat = Field(
        1.3, le=20.0, description="Standard deviation of the score's noise (log-odds)."
    )
    large_order_usd: PositiveFloat = Field(150.0, description="Orders above this are 'unusually large'.")
    velocity_window_hours: PositiveFloat = Field(24.0, description="Window of the velocity signal.")
    velocity_limit: int = Field(3, ge=1, description="Orders per device in the window that raise a flag.")
    review_threshold: Share = Field(0.35, description="Scores at or above go to manual review.")
    decline_threshold: Share = Field(0.75, description="Scores at or above are cancelled outright.")
    analysts: int = Field(1, ge=1, description="Analysts staffing the manual review queue.")
    staffing: StaffingSpec = Field(
        default_factory=_constant_staff, description=_STAFFING.format(who="analysts")
    )
    review_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=30.0, sd=20.0, unit="minutes")
    )
    review_sensitivity: Share = Field(0.8, description="Reviewed fraud orders the analyst stops.")
    review_false_positive_rate: Share = Field(0.12, description="Reviewed legit orders rejected.")
    analyst_cost_per_hour: NonNegFloat = Field(
        25.0, description="What an analyst costs per staffed hour (USD), in fraud_cost_usd."
    )
    review_queue: ReviewQueueSpec = Field(
        default_factory=lambda: ReviewQueueSpec(kind="fifo"),
        description=(
            "The review queue's discipline: fifo, by_score (riskiest first), time_limit (an order "
            "waiting params.hours leaves unreviewed: params.on_timeout pass or decline), or a "
            "researcher's module:Class (simcore.policies.review_queue)."
        ),
    )
    decision: FraudDecisionSpec = Field(
        default_factory=lambda: FraudDecisionSpec(kind="threshold"),
        description=(
            "The policy that turns a score into decline, review or pass: threshold (the two "
            "thresholds above), or a researcher's module:Class (simcore.policies.fraud)."
        ),
    )

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


class Prohibited(FrozenModel):
    """Prohibited listings (weapons, counterfeits...) and the platform's checks."""

    listing_share: Share = Field(0.003, description="Listings that are prohibited items.")
    detection_rate: Share = Field(0.9, description="Orders of prohibited listings the check catches.")
    relist_days: Annotated[float, Field(gt=0.0, le=36500.0)] | None = Field(
        30.0,
        description=(
            "Days after a prohibited listing is taken down before its seller lists it again "
            "(a new listing of the same item); null: taken down for good."
        ),
    )


class AddressConflict(FrozenModel):
    """Conflicting shipping information the platform flags."""

    rate: Share = Field(0.006, description="Orders with conflicting shipping information.")
    fix_share: Share = Field(0.5, description="Buyers who fix the address within the window.")
    fix_window_hours: PositiveFloat = Field(48.0, description="Time the buyer has to fix it.")
    fix_time: Duration = Field(default_factory=lambda: exp_hours(12.0))


class CustomerService(FrozenModel):
    """Customer-service agents who review disputes and decide those that escalate."""

    agents: int = Field(2, ge=1, description="Agents working disputes in parallel.")
    staffing: StaffingSpec = Field(
        default_factory=_constant_staff, description=_STAFFING.format(who="agents")
    )
    review_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=3.0, sd=2.0),
        description="Agent time for the initial review of a dispute.",
    )
    intervention_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=6.0, sd=4.0),
        description="Agent time to decide an escalated dispute.",
    )


class DisputePropensity(FrozenModel):
    """Chance that a buyer opens a dispute after each kind of trouble."""

    disguised_cancellation: Share = Field(
        0.3,
        description=(
            "After an out_of_stock cancellation whose listing still shows stock (what a buyer can "
            "see of a cover story)."
        ),
    )
    seller_cancellation: Share = Field(0.03, description="After any other seller cancellation.")
    refund_late: Share = Field(0.3, description="When a refund is later than the buyer's patience.")
    refund_wrong_amount: Share = Field(0.6, description="When a refund lands short.")
    not_delivered: Share = Field(
        0.5, description="When a parcel has not arrived by not_delivered_after_days."
    )
    not_as_described: Share = Field(
        0.004, description="Delivered orders the buyer disputes as not as described."
    )


class Ruling(FrozenModel):
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


class Disputes(FrozenModel):
    """Disputes: when buyers open them and how the three stages run.

    Stages: initial review by an agent, negotiation between buyer and seller (at most
    ``negotiation_days``), then platform intervention (evidence gathering, ``intervention_delay``,
    then an agent's decision). Cancelled-order disputes claim what the buyer has not got back;
    goods disputes (not delivered, not as described) claim the order amount.
    """

    propensity: DisputePropensity = Field(default_factory=DisputePropensity)
    open_delay: Duration = Field(
        default_factory=lambda: exp_hours(2.0, "days"), description="Trouble noticed to dispute opened."
    )
    refund_late_open_delay: Duration = Field(
        default_factory=lambda: Constant(dist="constant", value=0.0, unit="hours"),
        description=(
            "From a buyer's patience with a late refund running out to the dispute (0: at once; "
            "the patience is the buyer's own delay)."
        ),
    )
    # A number (every buyer waits as long) or a duration in days (buyers differ). Disputes can
    # open from about day 11 after shipment (CALIBRATION, AliExpress seller guides).
    not_delivered_after_days: PositiveFloat | Duration = Field(
        45.0,
        description=(
            "Days after shipment a buyer waits for a parcel that has not arrived before disputing: a "
            "number, or a duration spec in days (each buyer's wait drawn from it)."
        ),
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
    partial_refund_spread: Annotated[float, Field(ge=0.0, lt=0.5)] = Field(
        0.2, description="Half-width of the uniform share a partial refund pays; an assumption."
    )
    partial_refund_share: Annotated[float, Field(gt=0.0, lt=1.0)] = Field(
        0.5,
        description="Mean share of the claim a partial refund pays (uniform within +-partial_refund_spread).",
    )
    intervention_delay: Duration = Field(
        default_factory=lambda: Triangular(dist="triangular", low=1, mode=3, high=6.5, unit="days"),
        description="Escalation to the agent's decision, before agent time (evidence gathering).",
    )
    ruling: Ruling = Field(default_factory=Ruling)

    @field_validator("not_delivered_after_days")
    @classmethod
    def _wait_in_days(cls, v):
        if not isinstance(v, float | int):
            if v.unit != "days":
                raise ValueError(f"a wait in days: a duration's unit must be days (got {v.unit})")
            if v.mean_in_unit() <= 0.0:
                raise ValueError(f"a wait must be > 0 days (got a mean of {v.mean_in_unit():g})")
        return v

    @field_validator("partial_refund_share")
    @classmethod
    def _partial(cls, v: float, info: ValidationInfo) -> float:
        # The spread comes first, so that a share that breaks the rule is reported at the share.
        spread = info.data.get("partial_refund_spread")
        if spread is not None and not (v - spread > 0.0 and v + spread < 1.0):
            raise ValueError(
                f"partial_refund_share +- partial_refund_spread must stay inside (0, 1) (got {v} +- {spread})"
            )
        return v


class SellerRating(FrozenModel):
    """A seller's rating: the smoothed share of good orders.

    ``rating = (good + prior * prior_weight) / (good + bad + prior_weight)``; a good order is
    completed (a parcel that arrived) without a dispute or with the buyer's claim rejected; a bad
    one is a seller-responsible cancellation (seller reasons and missed ship-by deadlines) or a
    goods or suspicious-cancellation dispute settled or ruled against the seller.
    """

    prior: Share = Field(0.97, description="Rating of a new seller.")
    prior_weight: PositiveFloat = Field(20.0, description="Orders' worth of weight of the prior.")


#: The cancel reasons the seller is held responsible for (simcore.model.vocabulary's
#: SELLER_RESPONSIBLE; a test holds the two equal).
SellerReason = Literal["out_of_stock", "pricing_error", "shipping_restriction", "ship_deadline_missed"]


class PenaltyRuleSpec(PolicySpec):
    """The penalty rule (``simcore.policies.penalties``): a seller's record over the window to
    ``ok``, ``warn`` (over a warning line) or ``suspend`` (over a suspension line). Built-in
    kinds (no params; they read the section's lines): ``rates`` (every line a rate per order
    cleared, judged from ``min_orders`` orders) and ``counts`` (the rule before issue 19: the
    cancellation rate from ``min_orders``, rulings as raw counts whatever the volume)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {"rates": frozenset(), "counts": frozenset()}
    METHODS: ClassVar[tuple[str, ...]] = ("judge",)


class ReasonLines(FrozenModel):
    """Warning and suspension lines for one seller-responsible cancel reason, per order."""

    warn: Share = Field(description="Cancellations for the reason per order cleared that draw a warning.")
    suspend: Share = Field(description="The rate that suspends a warned seller.")

    _lines = not_below("suspend", "warn")


class Penalties(FrozenModel):
    """The platform's watch over sellers: warnings, then suspension.

    Every ``review_interval_days`` the platform looks at each seller's last ``window_days``:
    the seller-responsible cancellations and the disputes ruled against the seller, both per
    order cleared for the seller (under the default ``rule``, ``rates``), judged once the
    seller has ``min_orders`` orders in the window, and optionally the cancellations of single
    reasons (``reason_lines``). A seller past a warning line is warned; a warned seller past a
    suspension line (warned at least ``grace_days`` before) is suspended for
    ``suspension_days`` (null = for good): listings hidden, open orders cancelled
    (``seller_suspended``) and refunded. A warning lapses after a clean window; a reinstated
    seller starts with a clean window.
    """

    window_days: PositiveFloat = Field(30.0, description="Rolling window of the seller metrics.")
    min_orders: int = Field(20, ge=1, description="Orders in the window before rates are judged.")
    long_window_days: PositiveFloat | None = Field(
        120.0,
        description=(
            "A seller with fewer than min_orders orders in the window is judged over this longer "
            "window instead (eBay: 3 months, or 12 for sellers with fewer than 400 transactions); "
            "null: not judged."
        ),
    )
    warn_cancel_rate: Share = Field(0.04, description="Cancellation rate that draws a warning.")
    suspend_cancel_rate: Share = Field(0.08, description="Cancellation rate that suspends a warned seller.")
    warn_ruling_rate: Share = Field(
        0.01, description="Rulings against the seller per order cleared that draw a warning (rule rates)."
    )
    suspend_ruling_rate: Share = Field(
        0.02, description="Rulings per order cleared that suspend a warned seller (rule rates)."
    )
    warn_rulings: int = Field(
        2, ge=1, description="Disputes ruled against the seller that draw a warning (rule counts)."
    )
    suspend_rulings: int = Field(4, ge=1, description="Rulings that suspend a warned seller (rule counts).")
    seller_responsible: tuple[SellerReason, ...] = Field(
        ("out_of_stock", "pricing_error", "shipping_restriction", "ship_deadline_missed"),
        description=(
            "The cancel reasons held against the seller: counted in its cancellation rate and by "
            "reason, and lowering its rating (out_of_stock, pricing_error, shipping_restriction, "
            "ship_deadline_missed; AliExpress's and Amazon's seller-fault cancellations)."
        ),
    )
    reason_lines: dict[SellerReason, ReasonLines] = Field(
        default_factory=dict,
        description=(
            "Lines for single seller-responsible reasons (out_of_stock, pricing_error, "
            "shipping_restriction, ship_deadline_missed), per order cleared, besides the overall "
            "cancellation rate's (both built-in rules)."
        ),
    )
    confidence: Share | None = Field(
        0.9,
        description=(
            "Rule rates: a seller is past a line only when a one-sided binomial test says so at "
            "this confidence (P(count or more | orders, line) <= 1 - confidence); null: the bare "
            "rate."
        ),
    )
    rule: PenaltyRuleSpec = Field(
        default_factory=lambda: PenaltyRuleSpec(kind="rates"),
        description=(
            "The policy that judges a seller's record: rates (per order, the default), counts "
            "(rulings as raw counts), or a researcher's module:Class (simcore.policies.penalties)."
        ),
    )
    grace_days: NonNegFloat = Field(7.0, description="Time a warned seller has to improve.")
    suspension_days: PositiveFloat | None = Field(
        30.0, description="Length of a suspension; null = for good."
    )
    review_interval_days: Annotated[float, Field(ge=1.0 / 24.0)] = Field(
        1.0, description="How often the platform reviews sellers (at most hourly)."
    )

    @field_validator("seller_responsible")
    @classmethod
    def _distinct(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        twice = sorted({r for r in v if v.count(r) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(twice)} more than once")
        return v

    @field_validator("reason_lines")
    @classmethod
    def _lines_for_held_reasons(
        cls, v: dict[str, ReasonLines], info: ValidationInfo
    ) -> dict[str, ReasonLines]:
        held = info.data.get("seller_responsible")
        if held is not None:
            free = sorted(set(v) - set(held))
            if free:
                raise ValueError(
                    f"lines for {', '.join(free)}, which seller_responsible does not hold against the "
                    f"seller ({', '.join(held) or 'none'})"
                )
        return v

    _ruling_rate_lines = not_below("suspend_ruling_rate", "warn_ruling_rate")

    _cancel_lines = not_below("suspend_cancel_rate", "warn_cancel_rate")

    _ruling_lines = not_below("suspend_rulings", "warn_rulings")


Payer = Literal["buyer", "seller", "platform"]


class Returns(FrozenModel):
    """Orders the buyer refuses or sends back after shipment: who pays the return shipping (the
    order's own carrier quote) and how long the parcel takes to come back. The buyer's money is
    refunded in full when it has."""

    late_request_payer: Payer = Field(
        "buyer", description="Pays the return when the buyer asked to cancel only after shipment."
    )
    ignored_request_payer: Payer = Field(
        "seller",
        description="Pays the return when the buyer asked before shipment and the seller shipped anyway.",
    )
    transit_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=6.0, sd=3.0, unit="days"),
        description="From the refusal or the buyer's hand-over to the return's arrival.",
    )


class VisibilitySpec(PolicySpec):
    """Listing visibility (``simcore.policies.visibility``): which sellers' listings buyers of
    each destination see. Built-in kinds (no params): ``show_all`` (the default) and
    ``hide_unshippable`` (a seller's listings hidden where it does not ship)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {"show_all": frozenset(), "hide_unshippable": frozenset()}
    METHODS: ClassVar[tuple[str, ...]] = ("hidden",)


#: The cancel reasons of the seller and the system (simcore.model.vocabulary's; a test holds the
#: two equal): those a compensation may answer.
CompensatedReason = Literal[
    "out_of_stock",
    "pricing_error",
    "shipping_restriction",
    "payment_failed",
    "verification_timeout",
    "fraud_suspected",
    "prohibited_item",
    "ship_deadline_missed",
    "address_conflict",
    "seller_suspended",
]
_COMPENSATED: tuple[str, ...] = CompensatedReason.__args__  # type: ignore[attr-defined]


class CompensationSpec(PolicySpec):
    """Compensation after a cancellation (``simcore.policies.compensation``): a coupon for the
    buyer of a paid order the seller or the system cancelled, giving back some of the trust the
    cancellation cost, at the platform's expense. Built-in kinds: ``none`` (the default) and
    ``coupon`` (params ``usd`` >= 0 and ``share`` >= 0 of the order's amount, not both 0;
    ``trust`` 0-1 given back; ``reasons``, a list of the seller's and system's cancel reasons,
    all when unset)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {
        "none": frozenset(),
        "coupon": frozenset({"usd", "share", "trust", "reasons"}),
    }
    METHODS: ClassVar[tuple[str, ...]] = ("compensate",)

    @model_validator(mode="after")
    def _coupon_params(self) -> CompensationSpec:
        if self.kind != "coupon":
            return self
        p = self.params
        for name, top in (("usd", 1e6), ("share", 10.0), ("trust", 1.0)):
            v = p.get(name, 0.0)
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= top:
                raise ValueError(f"kind 'coupon': params.{name} must be a number in [0, {top:g}] (got {v!r})")
        if not (p.get("usd", 0.0) > 0.0 or p.get("share", 0.0) > 0.0):
            raise ValueError(
                "kind 'coupon' needs params.usd or params.share above 0 (a coupon worth nothing)"
            )
        reasons = p.get("reasons")
        if reasons is not None:
            if not isinstance(reasons, list) or not reasons:
                raise ValueError(
                    f"kind 'coupon': params.reasons is a non-empty list of cancel reasons (got {reasons!r})"
                )
            unknown = [r for r in reasons if r not in _COMPENSATED]
            if unknown:
                raise ValueError(
                    f"kind 'coupon': params.reasons {unknown!r}: not a seller's or the system's cancel "
                    f"reason ({', '.join(_COMPENSATED)})"
                )
        return self


class Platform(FrozenModel):
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
    auto_confirm_days: PositiveFloat = Field(
        7.0,
        description=(
            "The platform confirms a delivered order this many days after delivery when the buyer "
            "has not (the buyer's own confirmation time is capped by it)."
        ),
    )
    customer_service: CustomerService = Field(default_factory=CustomerService)
    disputes: Disputes = Field(default_factory=Disputes)
    returns: Returns = Field(default_factory=Returns)
    seller_rating: SellerRating = Field(default_factory=SellerRating)
    penalties: Penalties = Field(default_factory=Penalties)
    listing_visibility: VisibilitySpec = Field(
        default_factory=lambda: VisibilitySpec(kind="show_all"),
        description=(
            "Which listings buyers see, by destination: show_all (sellers cancel what they cannot "
            "ship, shipping_restriction), hide_unshippable (a seller's listings hidden where it does "
            "not ship), or a researcher's module:Class (simcore.policies.visibility)."
        ),
    )
    compensation: CompensationSpec = Field(
        default_factory=lambda: CompensationSpec(kind="none"),
        description=(
            "What the platform gives the buyer of a paid order the seller or the system cancelled: "
            "none, coupon (params usd, share of the amount, trust given back, reasons), or a "
            "researcher's module:Class (simcore.policies.compensation). Assumption: no published "
            "figure sizes a coupon's effect on trust."
        ),
    )
