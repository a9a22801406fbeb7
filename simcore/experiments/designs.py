"""Experimental designs over scenario keys: full grids, zipped lists, and sampled designs
(Latin hypercube, independent uniforms, SALib's Morris and Sobol' designs).

A design is a list of cells, each ``{dotted scenario key: value}``; sweeps cross its cells
with named strategies (:mod:`simcore.experiments.sweepfile`).
"""

from __future__ import annotations

import itertools
import math
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from simcore.errors import ScenarioError

#: A design's list of values for one key: at least one.
#: Cells of a design, as ``{dotted key: value}``, and the keys it varies (in file order).
Cells = list[dict[str, Any]]


class Frozen(BaseModel):
    # NaN and infinity pass every comparison-based bound, so they are refused outright.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Range(Frozen):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.high > self.low:
            raise ValueError(f"high must be > low (got low={self.low}, high={self.high})")
        return self


class Sample(Frozen):
    """A sampled design over the ``params`` ranges.

    ``lhs`` and ``random`` give ``n`` points (Latin hypercube or independent uniforms).
    ``morris`` and ``sobol`` are designs for sensitivity analysis drawn by SALib (the
    ``sensitivity`` extra), read by :func:`analysis.sensitivity`: ``morris`` gives ``n``
    one-at-a-time trajectories of ``len(params) + 1`` points on a 4-level grid; ``sobol`` gives
    Saltelli's ``n * (len(params) + 2)`` points for first-order and total indices (``n`` a power
    of 2, as Sobol' sequences need).
    """

    method: Literal["lhs", "random", "morris", "sobol"] = "lhs"
    n: int = Field(ge=1, le=100_000)
    params: dict[str, Range] = Field(min_length=1)

    @field_validator("n")
    @classmethod
    def _sobol_power_of_two(cls, n: int, info: ValidationInfo) -> int:
        if info.data.get("method") == "sobol" and n & (n - 1):
            raise ValueError(f"must be a power of 2 for method sobol (got {n})")
        return n


NonEmptyList = Annotated[list[Any], Field(min_length=1)]


def count_cells(grid: dict[str, list] | None, zip_: dict[str, list] | None, sample: Sample | None) -> int:
    """Design cells, counted without building them (a hostile grid could have 10^20)."""
    if grid is not None:
        return math.prod(len(v) for v in grid.values())
    if zip_ is not None:
        return len(next(iter(zip_.values())))
    if sample is not None:
        d, n = len(sample.params), sample.n
        return {"morris": n * (d + 1), "sobol": n * (d + 2)}.get(sample.method, n)
    return 1


def design_cells(
    grid: dict[str, list] | None, zip_: dict[str, list] | None, sample: Sample | None, seed: int
) -> tuple[Cells, list[str]]:
    """The cells of the design given by one of ``grid``, ``zip_`` or ``sample`` (``seed`` draws a
    sampled design), and the keys it varies; one empty cell without a design.

    Raises:
        ScenarioError: a Morris or Sobol' design without SALib installed.
    """
    if grid is not None:
        keys = list(grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())], keys
    if zip_ is not None:
        keys = list(zip_)
        return [dict(zip(keys, combo, strict=True)) for combo in zip(*zip_.values(), strict=True)], keys
    if sample is not None:
        keys = list(sample.params)
        if sample.method in ("morris", "sobol"):
            points = salib_sample(sample, seed)
            return [{k: float(v) for k, v in zip(keys, row, strict=True)} for row in points], keys
        if sample.method == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(seed)).random(sample.n)
        else:
            unit = np.random.default_rng(seed).random((sample.n, len(keys)))
        lows = np.array([sample.params[k].low for k in keys])
        highs = np.array([sample.params[k].high for k in keys])
        points = lows + unit * (highs - lows)
        return [{k: float(v) for k, v in zip(keys, row, strict=True)} for row in points], keys
    return [{}], []


def salib_problem(sample: Sample) -> dict[str, Any]:
    """SALib's description of a sampled design's parameters."""
    keys = list(sample.params)
    return {
        "num_vars": len(keys),
        "names": keys,
        "bounds": [[sample.params[k].low, sample.params[k].high] for k in keys],
    }


def salib_sample(sample: Sample, seed: int) -> np.ndarray:
    """The design points of a ``morris`` or ``sobol`` sample (one row per cell, in SALib's order,
    which its analysers expect).

    Raises:
        ScenarioError: SALib is not installed.
    """
    try:
        from SALib.sample import morris, sobol
    except ImportError:
        raise ScenarioError(
            f"sample: method {sample.method} needs SALib "
            "(install it with: pip install 'simcore[sensitivity]')"
        ) from None
    problem = salib_problem(sample)
    if sample.method == "morris":
        return morris.sample(problem, sample.n, num_levels=4, seed=seed)
    # Second-order indices would need n*(2d+2) runs; first-order and total are what a screening
    # of a simulator's parameters reads.
    return sobol.sample(problem, sample.n, calc_second_order=False, scramble=True, seed=seed)
