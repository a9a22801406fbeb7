"""The ``buyers`` section: arrivals, cancellations, fraudsters, trust."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from simcore.scenario.distributions import Duration, Lognormal
from simcore.scenario.schema.common import (
    MAX_BDAYS,
    FrozenModel,
    NonNegFloat,
    PositiveFloat,
    Share,
    exp_hours,
)


class Promotion(FrozenModel):
    """A sale window (e.g. 11.11) that multiplies the arrival rate."""

    name: str = Field("promotion", description="Label of the window.")
    start: dt.date = Field(description="First day of the promotion.")
    days: PositiveFloat = Field(1.0, description="Length of the window in days.")
    multiplier: PositiveFloat = Field(description="Arrival-rate multiplier inside the window.")


class ArrivalProfile(FrozenModel):
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


class BuyerCancellation(FrozenModel):
    """Buyer-initiated cancel requests before shipment (probabilities per order)."""

    change_of_mind: Share = Field(0.008, description="Orders the buyer asks to cancel: changed their mind.")
    better_deal: Share = Field(0.006, description="Orders the buyer asks to cancel: found a better deal.")
    wrong_item: Share = Field(0.005, description="Orders the buyer asks to cancel: ordered the wrong item.")
    double_check: bool = Field(False, description="Buyer strategy: double-check the order before paying.")
    double_check_wrong_item_factor: Share = Field(
        0.3, description="Multiplier on wrong_item when double_check is on."
    )
    request_time: Duration = Field(
        default_factory=lambda: exp_hours(18.0), description="Time from placement to the cancel request."
    )
    return_share: Share = Field(
        0.5,
        description=(
            "Buyers who still want out once the order has shipped (they asked too late, or the "
            "seller shipped anyway) who refuse delivery or send the item back."
        ),
    )


class Fraudsters(FrozenModel):
    """How fraudulent orders look (the signals the referee screens for)."""

    population: int = Field(300, ge=1, description="Fraudulent accounts.")
    ring_size: int = Field(10, ge=1, description="Fraudulent accounts sharing one device/IP.")
    verified_share: Share = Field(0.3, description="Fraudulent accounts that passed identity checks.")
    stolen_card_share: Share = Field(0.7, description="Fraud orders paid with a stolen card.")
    amount_multiplier: PositiveFloat = Field(2.5, description="Fraud baskets are this many times larger.")
    verification_abandon_share: Share = Field(
        0.9, description="Fraudsters who cannot complete an extra verification."
    )
    burst_orders_mean: Annotated[float, Field(ge=1.0, le=50.0)] = Field(
        4.0,
        description=(
            "Mean orders a ring places in one burst from its shared device: 1 + Poisson(mean - 1). "
            "1: every fraud order alone. buyers.fraud_rate stays the share of orders."
        ),
    )
    burst_gap: Duration = Field(
        default_factory=lambda: exp_hours(1.0),
        description="Time between a burst's orders (the first is the arrival).",
    )
    account_age: Duration = Field(
        default_factory=lambda: exp_hours(30.0, "days"),
        description="Age of the account a fraud order comes from (rings burn accounts and open new ones).",
    )
    address_mismatch_share: Share = Field(
        0.5, description="Fraud orders whose shipping address differs from the card's billing address."
    )
    new_device_share: Share = Field(
        0.6, description="Fraud orders from a device the account had not used before."
    )
    card_share: Share = Field(
        1.0,
        description=(
            "Fraud orders paid by card (stolen or not); the rest from a taken-over account's "
            "wallet: no chargeback follows, and the goods shipped are the fraud's loss."
        ),
    )
    cancel_share: Share = Field(
        0.0,
        description=(
            "Fraud orders whose fraudster asks to cancel (change_of_mind) before shipment, as a "
            "legitimate buyer's request; 0: fraudsters never cancel."
        ),
    )


class Trust(FrozenModel):
    """Buyer trust in the platform (0-1) and what it does to repeat purchases.

    Every legitimate buyer starts at ``initial``. Bad experiences lower trust by their loss
    (an order that failed payment or verification, a paid order cancelled by the seller or the
    system, a refund later than
    ``refund_patience_bdays``, by default the platform's own promise, or short, a dispute lost);
    each good order (completed without a dispute) raises it by ``good_order_gain``. A buyer
    arrives to buy with probability ``min(1, trust / initial)`` (fewer repeat purchases after a
    bad experience) and, after each bad experience, leaves for good with probability
    ``churn_share * (1 - trust)``.
    """

    initial: Annotated[float, Field(gt=0.0, le=1.0)] = Field(0.8, description="Trust of a new buyer.")
    good_order_gain: Share = Field(0.03, description="Trust gained per good order (capped at 1).")
    cancellation_loss: Share = Field(
        0.15, description="Trust lost when the seller or the system cancels the buyer's paid order."
    )
    refund_late_loss: Share = Field(0.1, description="Trust lost when a refund is later than the patience.")
    refund_wrong_loss: Share = Field(0.15, description="Trust lost when a refund is paid short.")
    dispute_lost_loss: Share = Field(0.25, description="Trust lost when the buyer's dispute is rejected.")
    payment_failure_loss: Share = Field(
        0.05, description="Trust lost when the buyer's order fails payment or verification."
    )
    churn_share: Share = Field(
        0.3, description="Churn probability after a bad experience, multiplied by (1 - trust)."
    )
    refund_patience_bdays: PositiveFloat | None = Field(
        None,
        le=MAX_BDAYS,
        description=(
            "Business days after which a buyer considers a refund late. Unset (null): the "
            "platform's promise, the 99th percentile of refunds.card_delay_bdays (a buyer expects "
            "what the platform says, and is late only when the platform is)."
        ),
    )


class RatingAvoidance(FrozenModel):
    """Buyers steering clear of poorly rated sellers' listings."""

    below: Share = Field(0.9, description="Seller ratings under this put buyers off.")
    share: Share = Field(0.5, description="Buyers who skip listings of sellers rated under 'below'.")


class Buyers(FrozenModel):
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
    account_age: Duration = Field(
        default_factory=lambda: exp_hours(180.0, "days"),
        description="Age of the account a legitimate order comes from.",
    )
    address_mismatch_share: Share = Field(
        0.08,
        description=(
            "Legitimate orders shipped to an address other than the card's billing address (gifts, work)."
        ),
    )
    new_device_share: Share = Field(
        0.1, description="Legitimate orders from a device the account had not used before."
    )
    buyers_per_device: int = Field(
        1,
        ge=1,
        le=10**6,
        description=(
            "Legitimate buyers sharing one device or IP address (a household, an office, a "
            "carrier's shared address): their orders count together in the velocity signal; 1: "
            "a device each."
        ),
    )
    item_price_usd: Lognormal = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=18.0, sd=22.0),
        description="Unit price of a listing in USD (unit key ignored).",
    )
    listing_tries: int = Field(
        3,
        ge=1,
        le=20,
        description=(
            "Listings a buyer looks at, drawn by popularity, before giving up (a lost sale): the "
            "first that shows enough units from an acceptable seller gets the order."
        ),
    )
    extra_items_mean: NonNegFloat = Field(
        0.3, le=100.0, description="Quantity is 1 + Poisson(extra_items_mean)."
    )
    cancel: BuyerCancellation = Field(default_factory=BuyerCancellation)
    retry_probability: Share = Field(0.7, description="Chance a buyer retries after a failed payment.")
    retry_delay: Duration = Field(default_factory=lambda: exp_hours(10.0, "minutes"))
    verification_time: Duration = Field(
        default_factory=lambda: Lognormal(dist="lognormal", mean=5.0, sd=7.0),
        description="Time a buyer takes to complete an extra payment verification.",
    )
    verification_abandon_share: Share = Field(
        0.15, description="Legitimate buyers who never complete an extra verification."
    )
    payment_failure_reorder_share: Share = Field(
        0.5,
        description=(
            "Legitimate buyers whose order failed payment or verification who order again, paying "
            "the other way (card <-> wallet)."
        ),
    )
    payment_failure_reorder_time: Duration = Field(
        default_factory=lambda: exp_hours(30.0, "minutes"),
        description="From the failed order's cancellation to the new order.",
    )
    confirm_time: Duration = Field(
        default_factory=lambda: exp_hours(3.0, "days"),
        description="Time from delivery to the buyer confirming receipt.",
    )
    trust: Trust = Field(default_factory=Trust)
    follow_up_days: PositiveFloat = Field(
        90.0,
        le=3650.0,
        description="Days each buyer is followed after their first order, for repeat_purchase_rate "
        "and buyer_churn_rate: a fixed exposure, so neither grows with the run's length.",
    )
    low_rating: RatingAvoidance = Field(default_factory=RatingAvoidance)
