"""Calibration files: a base scenario, the uncertain parameters (uniform priors over ranges), the
observed targets (a KPI's value and its uncertainty), and the history-matching method.

Validated like a sweep file: every problem at its line, exit code 2, nothing run; each
parameter's ends are built into validated scenarios when the file is read.
:func:`read_calibration` returns the :class:`Calibration` that
:mod:`simcore.experiments.calibrate` runs.

```yaml
base: baseline.yaml
seed: 7
set: {horizon_days: 120}
parameters:                                   # uniform priors over ranges
  buyers.fraud_rate: {low: 0.002, high: 0.05, scale: log}
  payment.issuer_decline_rate: {low: 0.01, high: 0.1}
targets:                                      # observed KPIs: value and its uncertainty (sd)
  cancellation_rate_by_reason.fraud_suspected: {value: 0.012, sd: 0.001}
  payment_failure_rate: {value: 0.032, sd: 0.003}
method: {waves: 4, runs_per_wave: 200, replications: 3, cutoff: 3}
```
"""

from __future__ import annotations

import datetime as dt
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
from simcore.results.registry import check_kpis
from simcore.scenario.loader import load_scenario
from simcore.scenario.schema import Scenario


class Parameter(Frozen):
    """An uncertain input: uniform over ``low``-``high`` (``scale: log``: uniform in its log)."""

    low: float
    high: float
    scale: Literal["linear", "log"] = "linear"

    @model_validator(mode="after")
    def _range(self) -> Parameter:
        if not self.high > self.low:
            raise ValueError(f"high must be > low (got low={self.low:g}, high={self.high:g})")
        if self.scale == "log" and self.low <= 0.0:
            raise ValueError(f"a log scale needs low > 0 (got {self.low:g})")
        return self

    def value(self, u: float) -> float:
        """The parameter at ``u`` in [0, 1] of its prior's range (log-uniform if ``log``)."""
        if self.scale == "log":
            return float(math.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low))))
        return float(self.low + u * (self.high - self.low))

    def unit(self, x: np.ndarray) -> np.ndarray:
        """Values ``x`` back to [0, 1] coordinates."""
        x = np.asarray(x, dtype=float)
        if self.scale == "log":
            return (np.log(x) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (x - self.low) / (self.high - self.low)


class Target(Frozen):
    """An observed KPI: its ``value`` and the ``sd`` of that observation (> 0)."""

    value: float
    sd: float = Field(gt=0.0)


class TargetsFrom(Frozen):
    """Targets computed from an observed orders table (CSV or Parquet, relative to the
    calibration file): the ``kpis`` of the orders placed in ``window`` (first day, last day
    exclusive), each with its bootstrap standard error as its sd. ``columns`` maps the table's
    names to simcore's order columns, ``values`` a column's values to simcore's
    (``status: {canceled: cancelled}``)."""

    orders: str
    window: tuple[dt.date, dt.date]
    kpis: list[str] = Field(min_length=1)
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    resamples: int = Field(100, ge=20, le=10_000)

    @model_validator(mode="after")
    def _checks(self) -> TargetsFrom:
        if not self.window[1] > self.window[0]:
            first, last = self.window
            raise ValueError(f"window: the last day must be after the first (got {first} to {last})")
        check_kpis(self.kpis)
        return self


class Method(Frozen):
    """History matching's waves: ``runs_per_wave`` points each run ``replications`` times;
    a point is ruled out when its implausibility (the ``rule``: the largest over targets, or
    the second largest) exceeds ``cutoff``; ``discrepancy``: the model's own error per target
    (sd, default 0)."""

    waves: int = Field(4, ge=1, le=50)
    runs_per_wave: int = Field(200, ge=4, le=100_000)
    replications: int = Field(3, ge=2, le=1000)
    cutoff: float = Field(3.0, gt=0.0)
    rule: Literal["max", "second_max"] = "max"
    discrepancy: dict[str, float] = Field(default_factory=dict)

    @field_validator("discrepancy")
    @classmethod
    def _non_negative(cls, v: dict[str, float]) -> dict[str, float]:
        bad = {k: x for k, x in v.items() if not (math.isfinite(x) and x >= 0.0)}
        if bad:
            raise ValueError(f"discrepancies are sds >= 0 (got {bad})")
        return v


class CalibrationSpec(Frozen):
    """The keys of a calibration file (see the module docs)."""

    base: str
    seed: int = Field(0, ge=0, le=2**63 - 1)
    set: dict[str, Any] = Field(default_factory=dict)
    parameters: dict[str, Parameter] = Field(min_length=1)
    targets: dict[str, Target] = Field(default_factory=dict)
    targets_from: TargetsFrom | None = None
    method: Method = Field(default_factory=Method)

    @field_validator("targets")
    @classmethod
    def _known(cls, v: dict[str, Target]) -> dict[str, Target]:
        check_kpis(v)
        return v

    @model_validator(mode="after")
    def _rules(self) -> CalibrationSpec:
        if (not self.targets) == (self.targets_from is None):
            raise ValueError("give targets, or targets_from (an observed orders table), not both")
        # targets_from's are computed when the file is read (read_calibration).
        names = self.targets_from.kpis if self.targets_from is not None else list(self.targets)
        extra = sorted(set(self.method.discrepancy) - set(names))
        if extra:
            raise ValueError(f"method.discrepancy names {', '.join(extra)}, which are not targets")
        if self.method.rule == "second_max" and len(names) < 2:
            raise ValueError("method.rule second_max needs at least two targets")
        return self


@dataclass(frozen=True)
class Point:
    """A parameter setting: ``values`` (dotted key -> value), its scenario and hash."""

    values: dict[str, float]
    scenario: Scenario
    hash: str

    @property
    def label(self) -> dict[str, Any]:
        """How messages name it: its parameter values."""
        return dict(self.values)


@dataclass(frozen=True)
class Calibration:
    """A validated calibration file: its path, keys and resolved base scenario."""

    path: Path
    spec: CalibrationSpec
    base: Path

    @property
    def names(self) -> list[str]:
        """The targets' KPIs, in file order."""
        return list(self.spec.targets)

    def with_targets(self, targets: dict[str, Target]) -> Calibration:
        """This calibration with other targets (a twin's, say); their KPIs must be known."""
        check_kpis(targets)
        return Calibration(self.path, self.spec.model_copy(update={"targets": dict(targets)}), self.base)

    def point(self, unit: np.ndarray) -> Point:
        """The setting at ``unit`` (one [0, 1] coordinate per parameter), as a validated scenario."""
        values = {k: p.value(float(u)) for (k, p), u in zip(self.spec.parameters.items(), unit, strict=True)}
        scn = load_scenario(self.base, {**self.spec.set, **values}, overrides_dir=self.path.parent)
        return Point(values, scn, scenario_hash(scn))


def read_calibration(path: str | Path) -> Calibration:
    """Read and validate a calibration file, including a scenario at each corner of the prior.

    Raises:
        ScenarioError: every problem found, each at its line.
    """
    path = Path(path)
    spec, origins, base = read_spec(path, CalibrationSpec)
    if spec.targets_from is not None:  # the window first: computing the targets takes seconds
        _same_window(Calibration(path, spec, base), origins)
        spec = _observed(spec, path, origins)
    cal = Calibration(path, spec, base)
    problems: list[str] = []
    d = len(spec.parameters)
    corners = [np.zeros(d), np.ones(d)] + [np.eye(d)[i] for i in range(d)]
    for unit in corners:
        try:
            check_volume(cal.point(unit).scenario)
        except ScenarioError as exc:
            for line in exc.problems:
                problems.append(_locate(line, path, origins, list(spec.parameters)))
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return cal


def _same_window(cal: Calibration, origins: dict) -> None:
    """Raise unless the runs' KPI window is the observed table's: KPIs over other days (another
    season, a holiday in one and not the other) are not the same quantity."""
    tf = cal.spec.targets_from
    assert tf is not None
    try:
        scn = cal.point(np.zeros(len(cal.spec.parameters))).scenario
    except ScenarioError:
        return  # the prior's corners are checked, and their problems located, after
    lo, hi = scn.kpi_window_hours
    runs = (scn.start + dt.timedelta(hours=lo), scn.start + dt.timedelta(hours=hi))
    if runs != tuple(tf.window):
        where = at(cal.path, origins, "targets_from", "window")
        days = (tf.window[1] - tf.window[0]).days
        first = (tf.window[0] - scn.start).days
        raise ScenarioError(
            f"{where}: targets_from.window: the observed orders' window {tf.window[0]} to {tf.window[1]} is "
            f"not the runs' KPI window {runs[0]} to {runs[1]}; set warmup_days: {first} and "
            f"horizon_days: {first + days} + cooldown_days (or move start) so that they match"
        )


def _observed(spec: CalibrationSpec, path: Path, origins: dict) -> CalibrationSpec:
    """The spec with its targets computed from ``targets_from``'s orders table.

    Raises:
        ScenarioError: the table cannot be read, lacks a KPI's columns, or has too few orders.
    """
    from simcore.results.observed import observed_targets, read_orders

    tf = spec.targets_from
    assert tf is not None
    where = at(path, origins, "targets_from")
    table = (path.parent / tf.orders).resolve()
    try:
        orders = read_orders(table, tf.columns, tf.values)
        found = observed_targets(orders, tf.window, tf.kpis, tf.resamples, spec.seed)
    except (OSError, ValueError) as exc:
        raise ScenarioError(f"{where}: targets_from: {exc}") from None
    targets = {}
    for name, (value, sd) in found.items():
        if not (math.isfinite(value) and math.isfinite(sd) and sd > 0.0):
            raise ScenarioError(
                f"{where}: targets_from: {name}: value {value!r} with sd {sd!r} in {table}: a target "
                "needs a value and an sd > 0 (no order of the window sets it?)"
            )
        targets[name] = Target(value=value, sd=sd)
    return spec.model_copy(update={"targets": targets})


def _locate(line: str, path: Path, origins: dict, parameters: list[str]) -> str:
    """A scenario problem found at a corner of the prior, at the calibration file's line."""
    found = overridden(line, parameters)
    if found is None:
        return f"{path}: base scenario: {line}"
    body, key = found
    if key is None:
        return f"{at(path, origins, 'set')}: set: {body}"
    return f"{at(path, origins, 'parameters', key)}: parameters (at a corner of the prior): {body}"
