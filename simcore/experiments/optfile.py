"""Optimisation files: a base scenario, the levers (decision variables) and what each costs, the
constraints on KPIs, the objective, the search and the selection's guarantee.

An optimisation file is validated like a sweep file (:mod:`simcore.experiments.sweepfile`):
every problem is reported at its line, with exit code 2, before anything runs; every candidate a
grid or Latin hypercube proposes is built into a validated scenario when the file is read, and
each lever's extremes are validated for a TPE search (which proposes as it goes).
:func:`read_optimization` returns the :class:`Optimization` that
:mod:`simcore.experiments.optimize` runs.

```yaml
base: baseline.yaml
seed: 2026
set: {horizon_days: 120}
levers:
  sellers.strategy.sync_interval_days: {values: [7, 14, 30, 90], cost: {7: 40, 14: 20, 30: 8, 90: 0}}
  platform.fraud.analysts: {low: 1, high: 6, integer: true, cost_per_unit: 5}
constraints:
  cancellation_rate: {max: 0.06}
objective: cost                      # or {minimize: KPI} / {maximize: KPI}
search: {method: grid, budget: 60}   # grid | lhs | tpe
selection: {confidence: 0.95, indifference: {cost: 1, cancellation_rate: 0.002},
            replications: {first: 5, max: 60}}
```
"""

from __future__ import annotations

import importlib.util
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from simcore.errors import ScenarioError
from simcore.experiments.admission import check_volume
from simcore.experiments.designs import Frozen
from simcore.experiments.files import at, overridden, read_spec
from simcore.experiments.sweepfile import scenario_hash
from simcore.results.registry import KPI_BY_NAME, check_kpis, unknown_kpi
from simcore.scenario.loader import load_scenario
from simcore.scenario.schema import Scenario

#: The most candidates a search may try (each is validated when the file is read, ~20 ms).
MAX_CANDIDATES = 5_000
#: Grid points of a continuous range when ``points`` is not given.
RANGE_POINTS = 5
#: The objective that is the levers' summed cost.
COST = "cost"


class Lever(Frozen):
    """One decision variable: a list of ``values`` (each with its ``cost``), or a range
    ``low``-``high`` (``integer`` or not) costing ``cost_per_unit`` per unit of the value."""

    values: list[Any] | None = Field(None, min_length=1)
    cost: dict[Any, float] | None = None
    low: float | None = None
    high: float | None = None
    integer: bool = False
    cost_per_unit: float = Field(0.0, ge=0.0)
    points: int | None = Field(None, ge=2, le=1000)

    @model_validator(mode="after")
    def _one_kind(self) -> Lever:
        if self.values is not None:
            ranged = [k for k in ("low", "high", "cost_per_unit", "points") if k in self.model_fields_set]
            if ranged or self.integer:
                raise ValueError(f"give values (with cost) or a range (low, high), not both (got {ranged})")
            if len({repr(v) for v in self.values}) < len(self.values):
                raise ValueError(f"values repeat (got {self.values})")
            if self.cost is not None:
                priced = {repr(k) for k in self.cost}
                missing = [v for v in self.values if repr(v) not in priced]
                extra = [k for k in self.cost if repr(k) not in {repr(v) for v in self.values}]
                if missing or extra:
                    raise ValueError(
                        f"cost must price every value and nothing else (unpriced {missing}, "
                        f"not a value {extra})"
                    )
                if any(not math.isfinite(c) or c < 0 for c in self.cost.values()):
                    raise ValueError(f"costs are numbers >= 0 (got {self.cost})")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give values, or a range with both low and high")
        if self.cost is not None:
            raise ValueError("a range's cost is cost_per_unit (cost prices a list of values)")
        if not self.high > self.low:
            raise ValueError(f"high must be > low (got low={self.low:g}, high={self.high:g})")
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError(f"an integer range has whole ends (got {self.low:g}-{self.high:g})")
        return self

    def cost_of(self, value: Any) -> float:
        """What the lever costs at ``value``."""
        if self.values is not None:
            if self.cost is None:
                return 0.0
            return float(next(c for k, c in self.cost.items() if repr(k) == repr(value)))
        return self.cost_per_unit * float(value)

    def grid(self) -> list[Any]:
        """The lever's grid: its values, every integer of an integer range (or ``points`` of
        them), or ``points`` (default :data:`RANGE_POINTS`) evenly spaced."""
        if self.values is not None:
            return list(self.values)
        assert self.low is not None and self.high is not None
        if self.integer:
            whole = list(range(int(self.low), int(self.high) + 1))
            if self.points is None or self.points >= len(whole):
                return whole
            return sorted({int(round(x)) for x in np.linspace(self.low, self.high, self.points)})
        return [float(x) for x in np.linspace(self.low, self.high, self.points or RANGE_POINTS)]

    def at(self, u: float) -> Any:
        """The lever's value at ``u`` in [0, 1) (a sampled design's coordinate)."""
        if self.values is not None:
            return self.values[min(int(u * len(self.values)), len(self.values) - 1)]
        assert self.low is not None and self.high is not None
        if self.integer:
            return min(int(self.low + u * (self.high - self.low + 1)), int(self.high))
        return float(self.low + u * (self.high - self.low))

    def extremes(self) -> list[Any]:
        """The values a TPE search may reach at its ends (all of a list)."""
        if self.values is not None:
            return list(self.values)
        return [int(self.low), int(self.high)] if self.integer else [self.low, self.high]  # type: ignore[arg-type]


class Bound(Frozen):
    """A KPI's bound: ``max`` (at most) or ``min`` (at least)."""

    max: float | None = None
    min: float | None = None

    @model_validator(mode="after")
    def _one(self) -> Bound:
        if (self.max is None) == (self.min is None):
            raise ValueError("give one of max or min")
        return self


class Search(Frozen):
    """How candidates are proposed: ``grid`` (every combination of the levers' grids), ``lhs``
    (a Latin hypercube of ``budget`` points) or ``tpe`` (Optuna's TPE, ``budget`` trials,
    through ask/tell: the ``optimize`` extra). Each candidate runs ``replications`` times
    (default: the selection's first stage)."""

    method: Literal["grid", "lhs", "tpe"] = "grid"
    budget: int = Field(60, ge=1, le=MAX_CANDIDATES)
    replications: int | None = Field(None, ge=1, le=1000)


class Replications(Frozen):
    """The clean-up's replications per candidate: ``first`` (>= 2: the variances need two) and
    at most ``max``."""

    first: int = Field(5, ge=2, le=10_000)
    max: int = Field(60, ge=2, le=100_000)

    @model_validator(mode="after")
    def _ordered(self) -> Replications:
        if self.max < self.first:
            raise ValueError(f"max must be >= first (got first={self.first}, max={self.max})")
        return self


class SelectionSpec(Frozen):
    """The guarantee: with probability ``confidence``, the chosen candidate meets every
    constraint (or misses it by less than its indifference) and is the best of those that do,
    within the objective's indifference."""

    confidence: float = Field(0.95, ge=0.5, lt=1.0)
    indifference: dict[str, float] = Field(default_factory=dict)
    replications: Replications = Field(default_factory=Replications)
    #: Replications added between checks (more: fewer rounds, each filling the workers).
    batch: int | None = Field(None, ge=1, le=1000)

    @field_validator("indifference")
    @classmethod
    def _positive(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not (math.isfinite(x) and x > 0.0)}
        if bad:
            raise ValueError(f"tolerances are numbers > 0 (got {bad})")
        return v


class OptimizationSpec(Frozen):
    """The keys of an optimisation file (see the module docs)."""

    base: str = Field(description="Base scenario file, relative to the optimisation file.")
    seed: int = Field(0, ge=0, le=2**63 - 1)
    set: dict[str, Any] = Field(default_factory=dict)
    levers: dict[str, Lever] = Field(min_length=1)
    constraints: dict[str, Bound] = Field(default_factory=dict)
    objective: Literal["cost"] | dict[Literal["minimize", "maximize"], str] = "cost"
    search: Search = Field(default_factory=Search)
    selection: SelectionSpec = Field(default_factory=SelectionSpec)

    @field_validator("constraints")
    @classmethod
    def _known_kpis(cls, v: dict[str, Bound]) -> dict[str, Bound]:
        check_kpis(v)
        return v

    @field_validator("objective")
    @classmethod
    def _objective(cls, v: Any) -> Any:
        if isinstance(v, dict):
            if len(v) != 1:
                raise ValueError(f"give one of minimize or maximize (got {sorted(v)})")
            (kpi,) = v.values()
            if kpi not in KPI_BY_NAME:
                raise ValueError(unknown_kpi(kpi))
        return v

    @model_validator(mode="after")
    def _tolerances(self) -> OptimizationSpec:
        objective = self.objective.values() if isinstance(self.objective, dict) else ()
        known = {COST, *self.constraints, *objective}
        extra = sorted(set(self.selection.indifference) - known)
        if extra:
            raise ValueError(
                f"selection.indifference names {', '.join(extra)}: neither cost, a constraint nor the "
                "objective"
            )
        if isinstance(self.objective, dict):
            (kpi,) = self.objective.values()
            if kpi not in self.selection.indifference:
                raise ValueError(
                    f"selection.indifference: give {kpi}'s tolerance, the smallest difference in the "
                    "objective worth telling apart (no default: it is the objective's own unit)"
                )
        for name, bound in self.constraints.items():
            value = bound.max if bound.max is not None else bound.min
            if name not in self.selection.indifference and value == 0.0:
                raise ValueError(
                    f"selection.indifference: give {name}'s tolerance (its bound is 0, so no default "
                    "of 5% of the bound)"
                )
        return self


@dataclass(frozen=True)
class Candidate:
    """One mix of lever values: ``levers`` (dotted key -> value), its ``cost``, its scenario and
    that scenario's hash (the store's arm)."""

    levers: dict[str, Any]
    cost: float
    scenario: Scenario
    hash: str

    @property
    def label(self) -> dict[str, Any]:
        """How messages name it: its levers."""
        return self.levers


@dataclass(frozen=True)
class Optimization:
    """A validated optimisation file.

    Attributes:
        path: The file.
        spec: Its keys.
        base: The base scenario file (resolved).
        candidates: The grid's or hypercube's candidates, built and validated (empty for tpe,
            whose candidates come as it searches: :meth:`candidate`).
    """

    path: Path
    spec: OptimizationSpec
    base: Path
    candidates: list[Candidate]

    @property
    def objective_kpi(self) -> str | None:
        """The KPI the objective minimises or maximises; None for the cost."""
        obj = self.spec.objective
        return None if obj == COST else next(iter(obj.values()))  # type: ignore[union-attr]

    @property
    def minimise(self) -> bool:
        return not (isinstance(self.spec.objective, dict) and "maximize" in self.spec.objective)

    def tolerance(self, name: str) -> float:
        """The indifference of ``name`` (cost, a constraint or the objective's KPI): the file's,
        or 5% of a constraint's bound, or 1 for the cost."""
        given = self.spec.selection.indifference.get(name)
        if given is not None:
            return given
        if name == COST:
            return 1.0
        bound = self.spec.constraints.get(name)
        if bound is not None:
            return 0.05 * abs(bound.max if bound.max is not None else bound.min)  # type: ignore[arg-type]
        return 0.0

    def cost(self, levers: dict[str, Any]) -> float:
        return float(sum(self.spec.levers[k].cost_of(v) for k, v in levers.items()))

    def candidate(self, levers: dict[str, Any]) -> Candidate:
        """The candidate of ``levers`` (validated; raises ScenarioError at the file's levers)."""
        scn = load_scenario(self.base, {**self.spec.set, **levers}, overrides_dir=self.path.parent)
        return Candidate(dict(levers), self.cost(levers), scn, scenario_hash(scn))


def read_optimization(path: str | Path) -> Optimization:
    """Read and validate an optimisation file, including every candidate it will try (a grid's
    or hypercube's; for TPE, each lever's extremes).

    Raises:
        ScenarioError: every problem found, each at its line.
    """
    path = Path(path)
    spec, origins, base = read_spec(path, OptimizationSpec)
    if spec.search.method == "tpe" and importlib.util.find_spec("optuna") is None:
        raise ScenarioError(
            f"{at(path, origins, 'search', 'method')}: search.method: tpe needs Optuna, not installed "
            "(pip install 'simcore[optimize]'), or use grid or lhs"
        )
    opt = Optimization(path, spec, base, [])
    problems: list[str] = []
    if spec.search.method == "grid":
        size = math.prod(len(lv.grid()) for lv in spec.levers.values())
        if size > spec.search.budget:
            raise ScenarioError(
                f"{at(path, origins, 'search', 'budget')}: search.budget: the grid has {size:,} "
                f"candidates, more than the budget {spec.search.budget:,}; raise the budget, or give "
                "fewer values or points"
            )
        grids = [lv.grid() for lv in spec.levers.values()]
        mixes = [dict(zip(spec.levers, combo, strict=True)) for combo in itertools.product(*grids)]
    elif spec.search.method == "lhs":
        mixes = _hypercube(spec)
    else:
        # TPE proposes as it goes: check that each lever's extremes make valid scenarios.
        mixes = []
        for key, lever in spec.levers.items():
            for value in lever.extremes():
                _build(opt, {key: value}, origins, problems)
    candidates = []
    for levers in mixes:
        cand = _build(opt, levers, origins, problems)
        if cand is not None:
            candidates.append(cand)
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    windows = {c.scenario.kpi_window_hours for c in candidates}
    if len(windows) > 1 and "cooldown_days" not in spec.set:
        raise ScenarioError(
            f"{path}: set: the candidates' KPIs would count orders placed in different windows "
            "(their derived cool-downs differ with the levers); set cooldown_days and horizon_days "
            "in set: so that every candidate counts the same orders"
        )
    return Optimization(path, spec, base, candidates)


def _hypercube(spec: OptimizationSpec) -> list[dict[str, Any]]:
    """``budget`` points of a Latin hypercube over the levers (seeded by the file's seed),
    repeats dropped."""
    from scipy.stats import qmc

    design = qmc.LatinHypercube(d=len(spec.levers), seed=np.random.default_rng(spec.seed))
    u = design.random(spec.search.budget)
    seen: dict[str, dict[str, Any]] = {}
    for row in u:
        levers = {k: lv.at(float(x)) for (k, lv), x in zip(spec.levers.items(), row, strict=True)}
        seen.setdefault(repr(sorted(levers.items())), levers)
    return list(seen.values())


def _build(opt: Optimization, levers: dict[str, Any], origins: dict, problems: list[str]) -> Candidate | None:
    """The candidate of ``levers``, or None with its problems (at the lever's line) added."""
    try:
        cand = opt.candidate(levers)
        check_volume(cand.scenario)
        return cand
    except ScenarioError as exc:
        for line in exc.problems:
            problems.append(_locate(line, opt.path, origins, levers, opt.spec.set))
        return None


def _locate(line: str, path: Path, origins: dict, levers: dict[str, Any], fixed: dict[str, Any]) -> str:
    """A scenario problem found through a candidate's overrides, at the optimisation file's line."""
    found = overridden(line, levers)
    if found is None:
        return f"{path}: base scenario: {line}"
    body, lever = found
    if lever is not None:
        return f"{at(path, origins, 'levers', lever)}: levers: candidate {levers}: {body}"
    _, key = overridden(line, fixed) or (body, None)
    where = at(path, origins, "set", key) if key else at(path, origins, "set")
    return f"{where}: set: {body}"
