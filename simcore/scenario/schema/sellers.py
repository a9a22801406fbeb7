"""The ``sellers`` and ``shipping`` sections: catalogs, stock records, strategies, routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from simcore.scenario.distributions import Duration, Gamma, Lognormal
from simcore.scenario.schema.common import (
    FrozenModel,
    IntervalDays,
    NonNegFloat,
    PositiveFloat,
    Share,
    exp_hours,
)


class SellerStrategy(FrozenModel):
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


class Pricing(FrozenModel):
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


class Sellers(FrozenModel):
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
        default_factory=lambda: exp_hours(12.0), description="Paid order to the seller first handling it."
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
        default_factory=lambda: exp_hours(20.0), description="Seller's time to answer a buyer cancel request."
    )
    cancel_approval_share: Share = Field(0.85, description="Answered cancel requests approved.")


# --------------------------------------------------------------------------- shipping


class Destination(FrozenModel):
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


class Shipping(FrozenModel):
    """Routes and carriers."""

    blocked_route_share: Share = Field(
        0.005, description="Share of seller-to-destination routes that cannot be served."
    )
    lost_share: Share = Field(0.003, description="Parcels that never arrive.")
    destinations: dict[str, Destination] = Field(
        default_factory=_default_destinations, min_length=1, description="Destination countries by code."
    )
