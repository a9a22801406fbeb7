"""The ``sellers`` and ``shipping`` sections: catalogs, stock records, strategies, routes."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from simcore.scenario.distributions import Duration, Gamma, Lognormal
from simcore.scenario.schema.common import (
    FrozenModel,
    IntervalDays,
    NonNegFloat,
    PositiveFloat,
    Share,
    exp_hours,
)
from simcore.scenario.schema.policy import PolicySpec


class ReorderRuleSpec(PolicySpec):
    """The sellers' reorder rule (``simcore.policies.stock``): each SKU's reorder point and
    quantity from its expected demand. Built-in kinds: ``days_of_cover`` (the strategy's
    ``reorder_point_days``, ``reorder_quantity_days``, ``reorder_point``, ``reorder_quantity``:
    the default) and ``fixed`` (params ``point`` >= 0 and ``quantity`` >= 1 units, every SKU
    alike)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {
        "days_of_cover": frozenset(),
        "fixed": frozenset({"point", "quantity"}),
    }
    METHODS: ClassVar[tuple[str, ...]] = ("levels",)

    @model_validator(mode="after")
    def _fixed_params(self) -> ReorderRuleSpec:
        if self.kind != "fixed":
            return self
        for name, low in (("point", 0), ("quantity", 1)):
            v = self.params.get(name)
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= 10**9:
                raise ValueError(f"kind 'fixed' needs params.{name}, whole units in [{low}, 1e9] (got {v!r})")
        return self


class CountTriggerSpec(PolicySpec):
    """What triggers a seller's stock count besides the schedule (``simcore.policies.stock``).
    Built-in kinds: ``periodic`` (the schedule only: the default) and ``after_stockout`` (also a
    count when the seller finds a SKU short of an order, unless it counted within param
    ``min_gap_days``, default 7)."""

    KINDS: ClassVar[dict[str, frozenset[str]]] = {
        "periodic": frozenset(),
        "after_stockout": frozenset({"min_gap_days"}),
    }
    METHODS: ClassVar[tuple[str, ...]] = ("count_after_stockout",)

    @model_validator(mode="after")
    def _gap(self) -> CountTriggerSpec:
        v = self.params.get("min_gap_days", 7.0)
        if self.kind == "after_stockout" and (
            isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 3650.0
        ):
            raise ValueError(
                f"kind 'after_stockout': params.min_gap_days must be days in [0, 3650] (got {v!r})"
            )
        return self


class SellerStrategy(FrozenModel):
    """Inventory and pricing practices of sellers."""

    sync_interval_days: IntervalDays | None = Field(
        90.0,
        description="Full stock count resetting records to physical stock (at most hourly); null = never.",
    )
    low_stock_alert: bool = Field(
        True,
        description="Reorder when stock on record (less reserved) falls to the SKU's reorder point; "
        "false = only when the listing shows nothing left.",
    )
    # Days of cover: each SKU's reorder point and quantity follow its own expected demand
    # (units a day), so best-sellers and slow movers are both kept in stock. Bounds: ten years of
    # demand, and a billion units (stock is int64; either is far past any listing).
    reorder_point_days: NonNegFloat = Field(
        10.0,
        le=3650.0,
        description="Reorder point as days of the SKU's expected demand (cover for the lead time "
        "and its spread).",
    )
    reorder_quantity_days: PositiveFloat = Field(
        30.0, le=3650.0, description="Units per replenishment order, as days of the SKU's expected demand."
    )
    reorder_point: int = Field(
        4, ge=0, le=10**9, description="Least reorder point in units (slow movers' floor)."
    )
    reorder_quantity: int = Field(
        12, ge=1, le=10**9, description="Least units per replenishment order (slow movers' floor)."
    )
    restock_lead_time: Duration = Field(
        default_factory=lambda: Gamma(dist="gamma", mean=6.0, sd=2.0, unit="days")
    )
    repricing_interval_days: IntervalDays = Field(
        14.0, description="Sellers re-set prices to the exchange rate this often (at most hourly)."
    )
    reorder_rule: ReorderRuleSpec = Field(
        default_factory=lambda: ReorderRuleSpec(kind="days_of_cover"),
        description=(
            "Each SKU's reorder point and quantity: days_of_cover (the four keys above), fixed "
            "(params point, quantity: units, every SKU alike), or a researcher's module:Class "
            "(simcore.policies.stock)."
        ),
    )
    count_trigger: CountTriggerSpec = Field(
        default_factory=lambda: CountTriggerSpec(kind="periodic"),
        description=(
            "What triggers a stock count besides sync_interval_days: periodic (nothing), "
            "after_stockout (a count when a SKU is found short, unless one within params "
            "min_gap_days), or a researcher's module:Class (simcore.policies.stock)."
        ),
    )


class Pricing(FrozenModel):
    """Listing margins and what erodes them: price typos, supplier cost rises, exchange-rate drift.

    Each listing has the seller's target margin (gamma: always above cost). Between repricings
    the margin a sale earns erodes as the exchange rate drifts and the seller's supplier raises
    costs, and a listing edited with a typo sells far below cost; a repricing restores the
    target margin.
    """

    typos_per_listing_year: NonNegFloat = Field(
        0.1, description="Price typos a listing gets a year (each sells far below cost until fixed)."
    )
    error_listing_share: Share | None = Field(
        None,
        description=(
            "Listings with a price typo at the start. Unset (null): the steady share, "
            "typos_per_listing_year x half the repricing interval."
        ),
    )
    margin_mean: PositiveFloat = Field(0.15, description="Mean target margin over cost, as a share.")
    margin_sd: NonNegFloat = Field(0.06, description="Standard deviation of target margins (0: all alike).")
    supplier_increases_per_year: NonNegFloat = Field(
        2.0, description="Times a year a seller's supplier raises its costs."
    )
    supplier_increase_mean: NonNegFloat = Field(
        0.08, le=10.0, description="Mean size of a supplier cost rise, as a share (exponential)."
    )
    fx_daily_volatility: NonNegFloat = Field(
        0.005,
        le=1.0,
        description="Daily log-volatility of the listing-to-cost currency exchange rate.",
    )
    fx_currencies: int = Field(
        1,
        ge=1,
        le=1000,
        description=(
            "Currencies sellers buy in, each rate its own random walk (seller s buys in currency "
            "s mod this); 1: one rate for the market."
        ),
    )
    loss_tolerance: NonNegFloat = Field(
        0.03, description="Sellers cancel when the margin falls below minus this share."
    )
    typo_margin: Annotated[float, Field(gt=-1.0, lt=0.0)] = Field(
        -0.5,
        description=(
            "The margin over cost a listing with a price typo (a missing digit) sells at, as a "
            "share (-0.5: half its cost); an assumption."
        ),
    )


class DailyCapacity(FrozenModel):
    """How many orders a seller can hand over a day: ``factor`` times its mean orders a day
    (its listings' share of the mean arrival rate), rounded up, at least ``min_per_day``."""

    factor: Annotated[float, Field(ge=1.0, le=1e6)] = Field(
        description="Capacity as a multiple of the seller's mean orders a day."
    )
    min_per_day: int = Field(5, ge=1, description="The least capacity of any seller (orders a day).")


class Holiday(FrozenModel):
    """Days sellers do not work: no first looks, no handovers (carriers keep working)."""

    name: str = Field("holiday", description="Label of the holiday.")
    start: dt.date = Field(description="First day of the holiday.")
    days: Annotated[float, Field(gt=0.0, le=366.0)] = Field(
        description="Length in days (a part day closes the whole day)."
    )
    extend_ship_by: bool = Field(
        True,
        description=(
            "The platform moves the ship-by deadline of orders whose ship-by window overlaps the "
            "holiday later by ship_by_extension_days (else the holiday counts against the seller)."
        ),
    )
    ship_by_extension_days: Annotated[float, Field(gt=0.0, le=366.0)] | None = Field(
        None,
        description=(
            "Days the deadline moves (null: the holiday's length); more gives sellers time to "
            "work off the orders that waited."
        ),
    )


class Sellers(FrozenModel):
    """Seller population, catalogs, stock records and behaviour."""

    count: int = Field(400, ge=1, description="Sellers.")
    daily_capacity: DailyCapacity | None = Field(
        None, description="Orders a seller can hand over a day; null: no limit."
    )
    holidays: list[Holiday] = Field(
        default_factory=list, description="Days sellers do not work (Chinese New Year...)."
    )
    skus_per_seller: int = Field(40, ge=1, description="Listings (SKUs) per seller.")
    popularity_skew: NonNegFloat = Field(1.0, description="Zipf exponent of SKU popularity.")
    # Poisson means: numpy refuses means past ~9e18; a million units is already far past a listing.
    initial_stock_mean: Annotated[float, Field(gt=0.0, le=1e6)] | None = Field(
        None,
        description="Start every SKU with Poisson(mean) + 1 units and nothing on order; null = "
        "start in the replenishment policy's steady state (stock and orders in transit as the "
        "policy holds them).",
    )
    inventory_accuracy: Share = Field(
        0.35,
        description="Long-run share of SKU records that match physical stock when sellers count "
        "every accuracy_count_days; the record-error rates are derived from it.",
    )
    accuracy_count_days: IntervalDays = Field(
        90.0,
        le=3650.0,
        description="The count interval inventory_accuracy is measured under (a strategy's own "
        "sync_interval_days may differ: counting more often keeps records more accurate).",
    )
    initial_record_accuracy: Share | None = Field(
        None,
        description="Start-only: the share of records accurate at hour 0, each wrong one off by "
        "record_error_mean; null = the long-run state inventory_accuracy sets.",
    )
    transaction_error_share: Share = Field(
        0.25,
        description="Of record errors, the share made with transactions (picks, receipts), so "
        "inaccuracy rises with sales; the rest arise over time (misplaced, mis-keyed).",
    )
    inventory_accuracy_concentration: Annotated[float, Field(ge=0.1)] | None = Field(
        None,
        description="Spread of record accuracy across sellers: each seller's accuracy is Beta with "
        "mean inventory_accuracy and this concentration (a + b); smaller = wider. null = all alike.",
    )
    phantom_share: Share = Field(
        0.7, description="Of record errors, the share that overstate physical stock."
    )
    # Sizes are read off a table of Poisson(mean - 1) probabilities, whose first term exp(1 - mean)
    # underflows past ~700; 100 units is already far past any listing's record error.
    record_error_mean: PositiveFloat = Field(
        3.0, le=100.0, description="Mean size of a record error (units; 1 + Poisson)."
    )
    shrink_share: Share = Field(
        0.015,
        description="Unrecorded losses (theft, damage) as a share of units sold, spread over SKUs by "
        "their demand.",
    )
    # Each unit lost is one simulation event: 1 per SKU a day is already 5 million events over
    # the baseline.
    shrinkage_per_sku_day: NonNegFloat = Field(
        0.0, le=1.0, description="Further unrecorded losses per SKU per day, whatever its sales."
    )
    strategy: SellerStrategy = Field(default_factory=SellerStrategy)
    pricing: Pricing = Field(default_factory=Pricing)
    dishonest_share: Share = Field(
        0.1, description="Sellers who report out_of_stock to dodge any sale at a loss."
    )
    ask_buyer_to_cancel_share: Share = Field(
        0.2,
        description=(
            "Orders a seller will not ship where it asks the buyer to cancel instead (a "
            "seller-caused cancellation counted as the buyer's, not held against the seller)."
        ),
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
    pickup_capacity_factor: Annotated[float, Field(ge=1.0, le=1e6)] | None = Field(
        None,
        description="This destination's carrier capacity (overrides shipping.pickup_capacity_factor).",
    )


def _default_destinations() -> dict[str, Destination]:
    return {"US": Destination(weight=1.0)}


class Shipping(FrozenModel):
    """Routes and carriers."""

    blocked_route_share: Share = Field(
        0.005, description="Share of seller-to-destination routes that cannot be served."
    )
    lost_share: Share = Field(0.003, description="Parcels that never arrive.")
    pickup_capacity_factor: Annotated[float, Field(ge=1.0, le=1e6)] | None = Field(
        None,
        description=(
            "Each destination's carrier picks up at most this many times the destination's mean "
            "parcels a day (its weight's share of the mean arrival rate, at least 1); null: no "
            "limit. A destination's own pickup_capacity_factor overrides it."
        ),
    )
    quote_quantity_exponent: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.5,
        description=(
            "A basket of q items is quoted the one-item quote x q**exponent (0: any basket ships "
            "as one item; 1: each item as its own parcel); an assumption."
        ),
    )
    destinations: dict[str, Destination] = Field(
        default_factory=_default_destinations,
        min_length=1,
        max_length=127,  # an order's destination is recorded in one byte (int8)
        description="Destination countries by code (at most 127).",
    )
