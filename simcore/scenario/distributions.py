"""Distribution specs: every duration in a scenario (and a few amounts), as YAML states it.

A spec is written in YAML as a mapping tagged by ``dist``, e.g.
``{dist: exponential, mean: 2, unit: hours}``. Specs are frozen pydantic models that know their
rules, mean and unit, and draw a block of values from a generator; the model never samples
from a spec one value at a time but asks its run context for a sampler
(:meth:`simcore.model.context.RunContext.sampler`), which draws from one named stream in blocks
and returns values in hours, the simulation clock's unit.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

TimeUnit = Literal["seconds", "minutes", "hours", "days"]

#: Hours per unit: the simulation clock runs in hours.
HOURS_PER_UNIT: dict[str, float] = {
    "seconds": 1.0 / 3600.0,
    "minutes": 1.0 / 60.0,
    "hours": 1.0,
    "days": 24.0,
}


class DistSpec(BaseModel):
    # No NaN or infinite parameters: NaN fails no rule below and infinity passes every lower bound.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    unit: TimeUnit = Field("hours", description="Unit of the parameters: seconds, minutes, hours or days.")

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` values in the spec's own unit."""
        raise NotImplementedError

    def mean_in_unit(self) -> float:
        """Theoretical mean in the spec's own unit."""
        raise NotImplementedError

    def quantile_in_unit(self, q: float) -> float:
        """The ``q`` quantile (0 <= q < 1) in the spec's own unit."""
        raise NotImplementedError

    @property
    def mean_hours(self) -> float:
        """Theoretical mean in hours."""
        return self.mean_in_unit() * HOURS_PER_UNIT[self.unit]

    def quantile_hours(self, q: float) -> float:
        """The ``q`` quantile in hours (how long all but a share ``1 - q`` of draws last)."""
        return self.quantile_in_unit(q) * HOURS_PER_UNIT[self.unit]

    def cdf_hours(self, x: float) -> float:
        """P(draw < ``x`` hours), by bisection on :meth:`quantile_hours` (to ~1e-12; computed
        once per run, so generic rather than fast). A constant's is 0 or 1."""
        lo, hi = 0.0, 1.0
        for _ in range(45):
            mid = (lo + hi) / 2.0
            if self.quantile_hours(mid) < x:
                lo = mid
            else:
                hi = mid
        if lo < 1e-12 or hi > 1.0 - 1e-12:  # exactly 0 or 1: a constant, or x beyond every draw
            return round(lo)
        return (lo + hi) / 2.0

    def factor_to(self, unit: TimeUnit) -> float:
        """What a value in the spec's own unit is multiplied by to be in ``unit``."""
        return HOURS_PER_UNIT[self.unit] / HOURS_PER_UNIT[unit]


class Constant(DistSpec):
    """Always ``value``."""

    dist: Literal["constant"]
    value: float = Field(ge=0)

    def draw(self, rng, n):
        return np.full(n, self.value)

    def mean_in_unit(self):
        return self.value

    def quantile_in_unit(self, q):
        return self.value


class Exponential(DistSpec):
    """Exponential with the given ``mean``."""

    dist: Literal["exponential"]
    mean: float = Field(gt=0)

    def draw(self, rng, n):
        return rng.exponential(self.mean, n)

    def mean_in_unit(self):
        return self.mean

    def quantile_in_unit(self, q):
        return -self.mean * math.log1p(-q)


class Lognormal(DistSpec):
    """Lognormal parametrised by its own ``mean`` and standard deviation ``sd`` (not log-scale)."""

    dist: Literal["lognormal"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)

    @model_validator(mode="after")
    def _representable(self):
        # The log-scale variance log(1 + (sd/mean)^2) overflows for extreme ratios, and the draws
        # would then all be NaN.
        try:
            sigma2 = math.log1p((self.sd / self.mean) ** 2)
        except OverflowError:
            sigma2 = math.inf
        if not math.isfinite(sigma2):
            raise ValueError(f"sd / mean is too large for a lognormal (got mean={self.mean}, sd={self.sd})")
        return self

    def draw(self, rng, n):
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        mu = math.log(self.mean) - sigma2 / 2.0
        return rng.lognormal(mu, math.sqrt(sigma2), n)

    def mean_in_unit(self):
        return self.mean

    def quantile_in_unit(self, q):
        sigma2 = math.log1p((self.sd / self.mean) ** 2)
        log_q = math.log(self.mean) - sigma2 / 2.0 + math.sqrt(sigma2) * NormalDist().inv_cdf(q)
        return math.exp(log_q) if log_q < 709.0 else math.inf  # exp overflows past ~709.78


class Gamma(DistSpec):
    """Gamma parametrised by ``mean`` and standard deviation ``sd``."""

    dist: Literal["gamma"]
    mean: float = Field(gt=0)
    sd: float = Field(gt=0)

    @model_validator(mode="after")
    def _representable(self):
        # Shape (mean/sd)^2 and scale sd^2/mean must be finite and positive, or numpy raises or
        # draws NaN or zeros.
        try:
            shape, scale = (self.mean / self.sd) ** 2, self.sd**2 / self.mean
        except OverflowError:
            shape = scale = math.inf
        if not (0 < shape < math.inf and 0 < scale < math.inf):
            raise ValueError(
                f"mean / sd is out of range for a gamma: shape (mean/sd)^2 and scale sd^2/mean must "
                f"be finite and > 0 (got mean={self.mean}, sd={self.sd})"
            )
        return self

    def draw(self, rng, n):
        shape = (self.mean / self.sd) ** 2
        return rng.gamma(shape, self.sd**2 / self.mean, n)

    def mean_in_unit(self):
        return self.mean

    def quantile_in_unit(self, q):
        # Imported here: scipy on a run's path cost the million-order run ~55 MiB, and only the
        # cool-down's derivation asks for a gamma quantile.
        from scipy import special

        # scale = sd^2 / mean, written so that sd^2 cannot overflow where the scale does not.
        return float(special.gammaincinv((self.mean / self.sd) ** 2, q) * (self.sd / self.mean) * self.sd)


class Uniform(DistSpec):
    """Uniform on [``low``, ``high``]."""

    dist: Literal["uniform"]
    low: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError(f"high must be >= low (got low={self.low}, high={self.high})")
        return self

    def draw(self, rng, n):
        return rng.uniform(self.low, self.high, n)

    def mean_in_unit(self):
        return (self.low + self.high) / 2.0

    def quantile_in_unit(self, q):
        return self.low + q * (self.high - self.low)


class Triangular(DistSpec):
    """Triangular on [``low``, ``high``] with peak at ``mode``."""

    dist: Literal["triangular"]
    low: float = Field(ge=0)
    mode: float = Field(ge=0)
    high: float = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self):
        if not (self.low <= self.mode <= self.high) or self.low == self.high:
            raise ValueError(
                "needs low <= mode <= high and low < high "
                f"(got low={self.low}, mode={self.mode}, high={self.high})"
            )
        return self

    def draw(self, rng, n):
        return rng.triangular(self.low, self.mode, self.high, n)

    def mean_in_unit(self):
        return (self.low + self.mode + self.high) / 3.0

    def quantile_in_unit(self, q):
        a, c, b = self.low, self.mode, self.high
        if q < (c - a) / (b - a):
            return a + math.sqrt(q * (b - a) * (c - a))
        return b - math.sqrt((1.0 - q) * (b - a) * (b - c))


class Empirical(DistSpec):
    """Discrete distribution over ``values`` with optional ``weights`` (normalised; equal if omitted)."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights(self):
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights must have one entry per value (got {len(self.weights)} weights "
                    f"for {len(self.values)} values)"
                )
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
            if not math.isfinite(sum(self.weights)):
                # Normalising would divide by infinity and leave every probability 0.
                raise ValueError(f"weights must have a finite sum (got sum {sum(self.weights)})")
        return self

    def _p(self) -> np.ndarray | None:
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def draw(self, rng, n):
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._p())

    def mean_in_unit(self):
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())

    def quantile_in_unit(self, q):
        v = np.asarray(self.values, dtype=float)
        p = np.full(v.size, 1.0 / v.size) if self._p() is None else self._p()
        order = np.argsort(v, kind="stable")
        cdf = np.cumsum(p[order])
        return float(v[order][min(int(np.searchsorted(cdf, q, side="left")), v.size - 1)])


Duration = Annotated[
    Constant | Exponential | Lognormal | Gamma | Uniform | Triangular | Empirical,
    Field(discriminator="dist"),
]
"""A duration: one of the distribution specs above, tagged by ``dist``."""

DIST_NAMES = ("constant", "exponential", "lognormal", "gamma", "uniform", "triangular", "empirical")
