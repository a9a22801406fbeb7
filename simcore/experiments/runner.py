"""Running one scenario: load it if need be, admit it (the memory check), build its world, run
it and collect the result. No file I/O beyond reading a scenario file it is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from simcore.experiments.admission import check_volume
from simcore.model.world import World
from simcore.results.collect import RunResult, collect
from simcore.scenario.loader import load_scenario
from simcore.scenario.schema import Scenario


def run(
    scenario: Scenario | str | Path,
    seed: int | None = None,
    *,
    overrides: Mapping[str, Any] | None = None,
    replication: int = 0,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Run one scenario to its horizon.

    Args:
        scenario: A :class:`Scenario` or a path to a scenario file.
        seed: Root seed; the scenario's ``seed`` when None.
        overrides: Dotted overrides applied when ``scenario`` is a path.
        replication: Replication number (common random numbers across strategies).
        progress: Called with the number of simulated days done, once per day.

    Returns:
        The run's orders, events, timeseries, sellers and KPIs.

    Raises:
        ScenarioError: bad scenario input, or a run too large for memory (:func:`check_volume`).
        ValueError: ``overrides`` given with a :class:`Scenario` (they apply to files).
    """
    source = None
    if not isinstance(scenario, Scenario):
        source = str(scenario)
        scenario = load_scenario(scenario, overrides)
    elif overrides:
        raise ValueError("overrides apply to scenario files; use load_scenario(path, overrides)")
    check_volume(scenario, source=source)
    return collect(World(scenario, seed=seed, replication=replication).run(progress=progress))
