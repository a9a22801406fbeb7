"""Sweep files: a base scenario, overrides, a design over scenario keys, strategies, replications.

A sweep file names a base scenario, overrides for every run (``set``), a design over scenario
keys (``grid``, ``zip`` or ``sample``: Latin hypercube, random, or SALib's Morris and Sobol'
designs), named strategies crossed with every design cell, and a number of replications. It is
validated like a scenario, every arm's scenario included, with errors pointed at the sweep
file's line; :func:`read_sweep` returns the :class:`Sweep` that :mod:`simcore.experiments.sweep` runs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator, model_validator

from simcore.errors import ScenarioError
from simcore.experiments.admission import check_volume
from simcore.experiments.designs import Frozen, NonEmptyList, Sample, count_cells, design_cells
from simcore.experiments.files import read_spec
from simcore.scenario.loader import OVERRIDE, load_scenario
from simcore.scenario.schema import Scenario

#: Most arms (design cells x strategies) a sweep may have: each is validated when the sweep is
#: read (~20 ms), so 10,000 take a few minutes before the first run.
MAX_ARMS = 10_000
#: Most runs (arms x replications) a sweep may ask for.
MAX_RUNS = 1_000_000


class SweepSpec(Frozen):
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


def read_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file, including every arm's scenario.

    Raises:
        ScenarioError: every problem found: the sweep's own keys, and every design cell or
            strategy whose overrides break a scenario rule (named by the key's line in the file).
    """
    path = Path(path)
    spec, origins, base = read_spec(path, SweepSpec)
    strategies = spec.strategies if spec.strategies is not None else {"base": {}}
    arms = count_cells(spec.grid, spec.zip, spec.sample) * len(strategies)
    runs = arms * spec.replications
    if arms > MAX_ARMS or runs > MAX_RUNS:
        raise ScenarioError(
            f"{path}: sweep too large: {arms:,} arms (design cells x strategies) and {runs:,} runs "
            f"(limits {MAX_ARMS:,} arms, {MAX_RUNS:,} runs); split it into several sweeps"
        )
    try:
        cells, varied = design_cells(spec.grid, spec.zip, spec.sample, spec.seed)
    except ScenarioError as exc:
        raise ScenarioError([f"{path}: {line}" for line in exc.problems]) from None
    scenarios: dict[tuple[int, str], Scenario] = {}
    problems: list[str] = []
    too_large: list[str] = []
    for cell_id, cell in enumerate(cells):
        for name, strategy in strategies.items():
            try:
                scn = load_scenario(base, {**spec.set, **cell, **strategy}, overrides_dir=path.parent)
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
    if not problems:
        problems += _one_window(path, scenarios, cells, strategies)
    if problems:
        raise ScenarioError(problems)
    hashes = {arm: scenario_hash(scn) for arm, scn in scenarios.items()}
    return Sweep(path, spec, base, cells, strategies, varied, scenarios, hashes)


def _one_window(
    path: Path,
    scenarios: dict[tuple[int, str], Scenario],
    cells: list[dict[str, Any]],
    strategies: dict[str, dict[str, Any]],
) -> list[str]:
    """A problem when the arms' KPIs would count different orders because their cool-downs
    differ: a design that varies a timeline (a deadline, a dispute's stages) moves each arm's
    derived cool-down, and arms compared over different windows are not compared like for like.
    A design that varies ``cooldown_days`` or ``horizon_days`` itself asks for it."""
    arms = [*cells, *strategies.values()]
    if any("cooldown_days" in d or "horizon_days" in d for d in arms):
        return []
    windows: dict[tuple[float, float], tuple[int, str]] = {}
    for arm, scn in scenarios.items():
        windows.setdefault(scn.kpi_window_hours, arm)
    if len(windows) < 2:
        return []
    shown = ", ".join(
        f"days [{lo / 24:g}, {hi / 24:g}) for design cell {cells[c]} strategy {s!r}"
        for (lo, hi), (c, s) in sorted(windows.items())
    )
    longest = max(scn.cooldown_days or 0.0 for scn in scenarios.values())
    return [
        f"{path}: set: the arms' KPIs would count orders placed in different windows ({shown}): "
        f"their derived cool-downs differ with the timelines the design varies; set cooldown_days "
        f"(at least {longest:g}, the longest) and horizon_days in set: so that every arm counts "
        "the same orders"
    ]


def _locate(
    line: str, path: Path, origins: dict, spec: SweepSpec, cell: dict, name: str, strategy: dict
) -> str:
    """A scenario problem found through an arm's overrides, pointed at the sweep file's line."""
    if not line.startswith(OVERRIDE):
        return f"{path}: base scenario: {line}"
    body = line.split(": ", 1)[1]
    dotted = body.split(": ", 1)[0]

    def owner(keys: dict) -> str | None:
        return next((k for k in keys if dotted == k or dotted.startswith(k + ".")), None)

    design = "grid" if spec.grid is not None else "zip" if spec.zip is not None else "sample"
    key: tuple[str, ...]
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
