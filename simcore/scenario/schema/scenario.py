"""The ``refunds`` section and the whole :class:`Scenario`."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator, model_validator

from simcore.scenario.distributions import Duration, Triangular
from simcore.scenario.schema.buyers import Buyers
from simcore.scenario.schema.common import (
    FrozenModel,
    NonNegFloat,
    PositiveFloat,
    Share,
    business_days,
    exp_hours,
    not_below,
)
from simcore.scenario.schema.platform import Payment, Platform
from simcore.scenario.schema.sellers import Sellers, Shipping
from simcore.scenario.timelines import QUANTILE as PROMISE_QUANTILE
from simcore.scenario.timelines import settle_days


class Refunds(FrozenModel):
    """Refunds of paid-then-cancelled orders and of disputes (same methods and delays)."""

    wallet_share: Share = Field(0.3, description="Card payers who take the refund to the wallet.")
    card_delay_bdays: Duration = Field(
        default_factory=lambda: Triangular(dist="triangular", low=3, mode=7, high=20, unit="days"),
        description="Business days to a refund on the original method (unit must be days).",
    )
    wallet_delay: Duration = Field(default_factory=lambda: exp_hours(2.0))
    wrong_amount_rate: Share = Field(
        0.01, description="Cancellation refunds paid with a wrong (short) amount."
    )
    wrong_amount_paid_min: Share = Field(
        0.5, description="Least share of the amount a short refund pays (uniform to the max); an assumption."
    )
    wrong_amount_paid_max: Annotated[float, Field(ge=0.0, lt=1.0)] = Field(
        0.95, description="Most share of the amount a short refund pays; an assumption."
    )

    _paid_range = not_below("wrong_amount_paid_max", "wrong_amount_paid_min")

    @field_validator("card_delay_bdays")
    @classmethod
    def _bdays(cls, v):
        return business_days(v)


# --------------------------------------------------------------------------- scenario


class Scenario(FrozenModel):
    """A whole scenario. docs/scenario-reference.md (``simcore schema --markdown``) lists every key."""

    extends: str | None = Field(
        None, description="Parent scenario file (relative path); resolved by the loader."
    )
    name: str = Field("scenario", description="Short name shown in reports and plots.")
    description: str = Field("", description="What the scenario varies and why.")
    seed: int = Field(1, ge=0, le=2**63 - 1, description="Root seed of every random stream.")
    # Bounded so that a typo (1e9) is an error, not a memory check; 1,000 x the baseline is 12.5
    # million orders a day, far past what one machine runs.
    scale: float = Field(
        1.0,
        gt=0.0,
        le=1000.0,
        description=(
            "Market size: multiplies demand (buyers.orders_per_hour), the buyer populations, "
            "sellers.count and the staff (payment.gateway.servers, platform.fraud.analysts, "
            "platform.customer_service.agents; rounded, at least 1), so a market grows or shrinks "
            "whole. The section keys keep their scale-1 values (simcore.scenario.scale)."
        ),
    )
    start: dt.date = Field(dt.date(2026, 1, 5), description="Calendar date of simulated hour 0.")
    horizon_days: PositiveFloat = Field(120.0, description="Simulated days; orders arrive until then.")
    # Validated when defaulted too: a short horizon_days with the default warm-up is wrong.
    warmup_days: NonNegFloat = Field(
        20.0, validate_default=True, description="KPIs count orders placed after this."
    )
    # None (unset) is replaced when validated by the days an order's outcome can still change
    # (simcore.scenario.timelines.settle_days), so a validated scenario always holds a number.
    cooldown_days: NonNegFloat | None = Field(
        None,
        description=(
            "KPIs ignore orders placed in the last cooldown_days, whose outcome may still change "
            "after the horizon. Unset or null: derived from the scenario's timelines, the latest "
            "an order's outcome can change (simcore.scenario.timelines); a shorter one censors."
        ),
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
    def _window(cls, v: float | None, info: ValidationInfo) -> float | None:
        horizon, warmup = info.data.get("horizon_days"), info.data.get("warmup_days")
        if v is not None and horizon is not None and warmup is not None and warmup + v >= horizon:
            raise ValueError(
                f"warmup_days + cooldown_days must be < horizon_days (got {warmup} + {v} >= {horizon})"
            )
        return v

    @model_validator(mode="after")
    def _derived_cooldown(self) -> Scenario:
        if self.cooldown_days is None:
            settle = settle_days(self)
            if not math.isfinite(settle):
                raise ValueError(
                    "cooldown_days: unset, so derived from the scenario's timelines, but an order's "
                    "outcome can change for longer than a number can hold (a duration far too long); "
                    "shorten it, or set cooldown_days (outcomes after it are censored)"
                )
            if self.warmup_days + settle >= self.horizon_days:
                raise ValueError(
                    f"cooldown_days: unset, so derived from the scenario's timelines: an order's "
                    f"outcome can change up to {settle:g} days after it is placed, and warmup_days + "
                    f"{settle:g} >= horizon_days (got {self.warmup_days:g} + {settle:g} >= "
                    f"{self.horizon_days:g}); set horizon_days above {self.warmup_days + settle:g}, "
                    "or set cooldown_days (outcomes after it are censored)"
                )
            # Frozen: set once here, at validation, as the field's value.
            object.__setattr__(self, "cooldown_days", settle)
        return self

    @property
    def refund_patience_bdays(self) -> float:
        """Business days after which a buyer considers a refund late: ``buyers.trust
        .refund_patience_bdays`` when set, else the platform's promise, the 99th percentile of
        ``refunds.card_delay_bdays`` (a buyer expects what the platform says; AliExpress promises
        3-20 business days, CALIBRATION)."""
        set_ = self.buyers.trust.refund_patience_bdays
        if set_ is not None:
            return set_
        return self.refunds.card_delay_bdays.quantile_in_unit(PROMISE_QUANTILE)

    @property
    def horizon_hours(self) -> float:
        return self.horizon_days * 24.0

    @property
    def kpi_window_hours(self) -> tuple[float, float]:
        """(first, last) placement hour of the orders KPIs count."""
        cooldown = self.cooldown_days if self.cooldown_days is not None else 0.0  # set when validated
        return self.warmup_days * 24.0, (self.horizon_days - cooldown) * 24.0
