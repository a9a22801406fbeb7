"""Running a scenario and writing its outputs.

``run`` does no file I/O; ``write_outputs`` writes only the files it is asked to, into a
temporary folder first, so a failed write leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from simcore.results.collect import RunResult, collect
from simcore.scenario.loader import load_scenario
from simcore.model.world import Model
from simcore.scenario.schema import Scenario
from simcore.version import __version__
from simcore.experiments.admission import check_volume


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
        The run's orders, events, timeseries and KPIs.

    Raises:
        ScenarioError: bad scenario input, or a run too large for memory (:func:`check_volume`).
    """
    source = None
    if not isinstance(scenario, Scenario):
        source = str(scenario)
        scenario = load_scenario(scenario, overrides)
    elif overrides:
        raise ValueError("overrides apply to scenario files; use load_scenario(path, overrides)")
    check_volume(scenario, source=source)
    model = Model(scenario, seed=seed, replication=replication)
    model.run(progress=progress)
    return collect(model)


def kpi_names(scn: Scenario) -> set[str]:
    """The flattened KPI names (``simcore.results.kpis.flatten_kpis``) a run of ``scn`` produces.

    Found from a two-day probe run at a trickle of demand (well under a second): the names do
    not depend on volume, and a probe cannot drift from what runs produce as a list would.
    """
    from simcore.results.kpis import flatten_kpis

    data = scn.model_dump()
    data.update(horizon_days=2.0, warmup_days=0.0, cooldown_days=0.0)
    data["buyers"]["orders_per_hour"] = 1.0
    return set(flatten_kpis(run(Scenario.model_validate(data)).kpis))


def resolved_yaml(result: RunResult) -> str:
    """The scenario as run (seed included), loadable again, with the package version."""
    data = result.scenario.model_dump(mode="json", exclude={"extends"})
    data["seed"] = result.seed
    header = (
        f"# Resolved scenario written by simcore {__version__}.\n"
        f"# Re-run with: simcore run scenario.yaml --out DIR  (seed {result.seed})\n"
    )
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_outputs(
    result: RunResult, out_dir: str | Path, extra: Mapping[str, Callable[[Path], object]] | None = None
) -> list[Path]:
    """Write ``orders.parquet``, ``events.parquet``, ``timeseries.parquet``, ``sellers.parquet``,
    ``kpis.json`` and the resolved ``scenario.yaml`` into ``out_dir`` (created if needed).

    Files are written to a temporary folder beside ``out_dir`` and moved in only when all are
    written.

    Args:
        result: The run.
        out_dir: Target folder.
        extra: More files, as ``{file name: writer(path)}`` (e.g. a figure's ``savefig``).

    Returns:
        The paths written.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        result.orders.to_parquet(tmp / "orders.parquet", index=False)
        result.events.to_parquet(tmp / "events.parquet", index=False)
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.sellers.to_parquet(tmp / "sellers.parquet", index=False)
        (tmp / "kpis.json").write_text(json.dumps(result.kpis, indent=2) + "\n", encoding="utf-8")
        (tmp / "scenario.yaml").write_text(resolved_yaml(result), encoding="utf-8")
        for name, writer in (extra or {}).items():
            writer(tmp / name)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for f in sorted(tmp.iterdir()):
            target = out_dir / f.name
            os.replace(f, target)
            written.append(target)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
