"""Sweep files: a base scenario, overrides, a design over scenario keys, strategies, replications.

A sweep file names a base scenario, overrides for every run (``set``), a design over scenario
keys (``grid``, ``zip`` or ``sample``: Latin hypercube, random, or SALib's Morris and Sobol'
designs), named strategies crossed with every design cell, and a number of replications. It is
validated like a scenario, every arm's scenario included, with errors pointed at the sweep
file's line; :func:`read_sweep` returns the :class:`Sweep` that :mod:`simcore.experiments.sweep` runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simcore.errors import ScenarioError
from simcore.experiments.admission import check_volume
from simcore.scenario.loader import load_scenario, validation_problems
from simcore.scenario.schema import Scenario
from simcore.scenario.yamlfile import read_yaml

#: Most arms (design cells x strategies) a sweep may have: each is validated when the sweep is
#: read (~20 ms), so 10,000 take a few minutes before the first run.
MAX_ARMS = 10_000
#: Most runs (arms x replications) a sweep may ask for.
MAX_RUNS = 1_000_000


class _Frozen(BaseModel):
    # NaN and infinity pass every comparison-based bound, so they are refused outright.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Range(_Frozen):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.high > self.low:
            raise ValueError(f"high must be > low (got low={self.low}, high={self.high})")
        return self


class Sample(_Frozen):
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


class SweepSpec(_Frozen):
    """The keys of a sweep file (see the module docs)."""

    base: str = Field(description="Base scenario file, relative to the sweep file.")
    replications: int = Field(ge=1, le=100_000)
    seed: int = Field(0, ge=0, le=2**63 - 1)  # stored as a 64-bit integer in every run file
    set: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, NonEmptyList] | None = None
    zip: dict[str, NonEmptyList] | None = None
    sample: Sample | None = None
    strategies: dict[str, dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _one_design(self) -> SweepSpec:
        given = [k for k in ("grid", "zip", "sample") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of grid, zip or sample (got {', '.join(given)})")
        if self.zip is not None and len({len(v) for v in self.zip.values()}) > 1:
            lengths = {k: len(v) for k, v in self.zip.items()}
            raise ValueError(f"zip lists must have equal lengths (got {lengths})")
        return self

    @field_validator("strategies")
    @classmethod
    def _names(cls, v: dict | None) -> dict | None:
        if v is not None:
            if not v:
                raise ValueError("name at least one strategy (or leave strategies out)")
            bad = [name for name in v if not name.replace("_", "").replace("-", "").isalnum()]
            if bad:
                raise ValueError(f"strategy names may hold letters, digits, '_' and '-' (got {bad})")
        return v


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the design cells and strategies, ready to run.

    Attributes:
        path: The sweep file.
        spec: Its keys.
        base: The base scenario file (resolved).
        cells: One ``{dotted key: value}`` per design cell (``[{}]`` without a design).
        strategies: ``{name: overrides}`` (``{"base": {}}`` without strategies).
        varied: The dotted keys the design varies, in file order.
        scenarios: Every arm's validated scenario by (cell_id, strategy), built once, when the
            sweep is read, and shipped to the workers as is (they read no files).
        hashes: Every arm's :func:`scenario_hash`, by (cell_id, strategy).
    """

    path: Path
    spec: SweepSpec
    base: Path
    cells: list[dict[str, Any]]
    strategies: dict[str, dict[str, Any]]
    varied: list[str]
    scenarios: dict[tuple[int, str], Scenario]
    hashes: dict[tuple[int, str], str]

    def scenario(self, cell_id: int, strategy: str) -> Scenario:
        return self.scenarios[cell_id, strategy]

    def tasks(self) -> list[tuple[int, str, int]]:
        """Every run as (cell_id, strategy, replication)."""
        reps = range(self.spec.replications)
        return [(c, s, r) for c in range(len(self.cells)) for s in self.strategies for r in reps]

    def with_replications(self, replications: int) -> Sweep:
        """The same sweep with another number of replications (replication r keeps its seed)."""
        return replace(self, spec=self.spec.model_copy(update={"replications": replications}))


def _cell_count(spec: SweepSpec) -> int:
    """Design cells, counted without building them (a hostile grid could have 10^20)."""
    if spec.grid is not None:
        return math.prod(len(v) for v in spec.grid.values())
    if spec.zip is not None:
        return len(next(iter(spec.zip.values())))
    if spec.sample is not None:
        d, n = len(spec.sample.params), spec.sample.n
        return {"morris": n * (d + 1), "sobol": n * (d + 2)}.get(spec.sample.method, n)
    return 1


def _design(spec: SweepSpec) -> tuple[list[dict[str, Any]], list[str]]:
    if spec.grid is not None:
        keys = list(spec.grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*spec.grid.values())], keys
    if spec.zip is not None:
        keys = list(spec.zip)
        return [dict(zip(keys, combo, strict=True)) for combo in zip(*spec.zip.values(), strict=True)], keys
    if spec.sample is not None:
        s = spec.sample
        keys = list(s.params)
        if s.method in ("morris", "sobol"):
            points = salib_sample(s, spec.seed)
            return [{k: float(v) for k, v in zip(keys, row, strict=True)} for row in points], keys
        if s.method == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(spec.seed)).random(s.n)
        else:
            unit = np.random.default_rng(spec.seed).random((s.n, len(keys)))
        lows = np.array([s.params[k].low for k in keys])
        highs = np.array([s.params[k].high for k in keys])
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


def read_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file, including every arm's scenario.

    Raises:
        ScenarioError: every problem found: the sweep's own keys, and every design cell or
            strategy whose overrides break a scenario rule (named by the key's line in the file).
    """
    path = Path(path)
    data, origins = read_yaml(path)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(validation_problems(exc, data, origins, str(path))) from None
    base = (path.parent / spec.base).resolve()
    if not base.is_file():
        origin = origins.get(("base",))
        where = f"{path}:{origin[1]}" if origin else str(path)
        raise ScenarioError(f"{where}: base: file not found (got {spec.base!r})")
    strategies = spec.strategies if spec.strategies is not None else {"base": {}}
    arms = _cell_count(spec) * len(strategies)
    runs = arms * spec.replications
    if arms > MAX_ARMS or runs > MAX_RUNS:
        raise ScenarioError(
            f"{path}: sweep too large: {arms:,} arms (design cells x strategies) and {runs:,} runs "
            f"(limits {MAX_ARMS:,} arms, {MAX_RUNS:,} runs); split it into several sweeps"
        )
    try:
        cells, varied = _design(spec)
    except ScenarioError as exc:
        raise ScenarioError([f"{path}: {line}" for line in exc.problems]) from None
    scenarios: dict[tuple[int, str], Scenario] = {}
    problems: list[str] = []
    too_large: list[str] = []
    for cell_id, cell in enumerate(cells):
        for name, strategy in strategies.items():
            try:
                scn = load_scenario(base, {**spec.set, **cell, **strategy})
            except ScenarioError as exc:
                for line in exc.problems:
                    problem = _locate(line, path, origins, spec, cell, name, strategy)
                    if problem not in problems:
                        problems.append(problem)
                continue
            try:
                check_volume(scn)
            except ScenarioError as exc:
                too_large.append(f"{path}: design cell {cell}, strategy {name!r}: {exc.problems[0]}")
            scenarios[cell_id, name] = scn
    if too_large:  # one line per arm would drown the message when the base itself is too large
        more = f" (and {len(too_large) - 1} more arms)" if len(too_large) > 1 else ""
        problems.append(too_large[0] + more)
    if problems:
        raise ScenarioError(problems)
    hashes = {arm: scenario_hash(scn) for arm, scn in scenarios.items()}
    return Sweep(path, spec, base, cells, strategies, varied, scenarios, hashes)


def _locate(
    line: str, path: Path, origins: dict, spec: SweepSpec, cell: dict, name: str, strategy: dict
) -> str:
    """A scenario problem found through an arm's overrides, pointed at the sweep file's line."""
    if not line.startswith("--set"):
        return f"{path}: base scenario: {line}"
    body = line.split(": ", 1)[1]
    dotted = body.split(": ", 1)[0]

    def owner(keys: dict) -> str | None:
        return next((k for k in keys if dotted == k or dotted.startswith(k + ".")), None)

    design = "grid" if spec.grid is not None else "zip" if spec.zip is not None else "sample"
    if (k := owner(strategy)) is not None:
        key, label = ("strategies", name, k), f"strategy {name!r}"
    elif (k := owner(cell)) is not None:
        key = ("sample", "params", k) if design == "sample" else (design, k)
        label = f"design cell {cell}"
    else:
        k = owner(spec.set) or dotted
        key, label = ("set", k), "set"
    origin = origins.get(key) or origins.get(key[:1])
    where = f"{path}:{origin[1]}" if origin else str(path)
    return f"{where}: {label}: {body}"


def scenario_hash(scn: Scenario) -> str:
    """A short fingerprint of everything a run depends on (the seed is stored beside it)."""
    # The scenario's own seed is left out: a sweep runs with its own seed (stored beside).
    text = json.dumps(
        scn.model_dump(mode="json", exclude={"extends", "name", "description", "seed"}), sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]
