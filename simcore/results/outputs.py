"""Output files of a run: the frames as Parquet, the KPIs as JSON and the resolved scenario.

``write_outputs`` writes only the files it is asked to, into a temporary folder first, so a
failed write leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

import yaml

from simcore.results.collect import RunResult
from simcore.version import __version__


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
