"""What the scenario's sections share: bounded number types and the frozen base model."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from simcore.scenario.distributions import DistSpec, Exponential

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


class FrozenModel(BaseModel):
    """Base of every section: unknown keys are errors, values cannot change once validated."""

    # NaN passes no comparison and infinity passes every lower bound (``gt=0``), so either would
    # slip through the sections' rules into the run; no scenario number is meaningfully infinite.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def business_days(v: DistSpec) -> DistSpec:
    """Check a duration counted in business days: its unit is days and its mean at most
    :data:`MAX_BDAYS` (the body of the sections' business-day validators).

    Raises:
        ValueError: either rule broken (pydantic reports it at the key).
    """
    if v.unit != "days":
        raise ValueError(f"counts business days: unit must be days (got {v.unit})")
    if v.mean_in_unit() > MAX_BDAYS:
        raise ValueError(f"mean must be at most {MAX_BDAYS:g} business days (got {v.mean_in_unit():g})")
    return v


def exp_hours(mean: float, unit: str = "hours") -> Exponential:
    """An exponential duration of ``mean`` (in ``unit``), as the sections' defaults use."""
    return Exponential(dist="exponential", mean=mean, unit=unit)


def not_below(field: str, low: str) -> Any:
    """A validator of ``field`` refusing a value below the section's ``low`` field (declared
    before it): a suspension line under its warning line, a range's top under its bottom. A
    field validator, not a model validator, so that the problem is reported at the key's line
    with every other problem."""

    def check(cls: type, v: float, info: ValidationInfo) -> float:
        bottom = info.data.get(low)
        if bottom is not None and v < bottom:
            raise ValueError(f"must be >= {low} (got {v} < {bottom})")
        return v

    return field_validator(field)(classmethod(check))  # type: ignore[arg-type]
