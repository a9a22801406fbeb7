"""Output files of a run: the frames as Parquet, the KPIs as JSON and the resolved scenario.

``write_outputs`` writes only the files it is asked to, into a temporary folder first, so a
failed write leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import yaml

from simcore.results.collect import RunResult
from simcore.results.kpis import WINDOW_KEY
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


def kpis_document(result: RunResult) -> dict:
    """``kpis.json``: the window the KPIs count, ``kpi_window_days`` = [first, last) placement day
    of their orders (warm-up, horizon less the cool-down), then the KPIs."""
    lo, hi = result.scenario.kpi_window_hours
    return {WINDOW_KEY: [lo / 24.0, hi / 24.0], **result.kpis}


def write_outputs(
    result: RunResult,
    out_dir: str | Path,
    extra: Mapping[str, Callable[[Path], object]] | None = None,
    replaces: Iterable[str] = (),
) -> list[Path]:
    """Write ``orders.parquet``, ``events.parquet``, ``timeseries.parquet``, ``sellers.parquet``,
    ``lost_visits.parquet``, ``kpis.json`` and the resolved ``scenario.yaml`` into ``out_dir``
    (created if needed).

    Files are written to a temporary folder beside ``out_dir``. When ``out_dir`` does not exist
    yet, that folder becomes it in one rename, so an interrupted or failed write leaves no
    ``out_dir`` at all. Into an existing folder the files are moved one by one once all are
    written (each move atomic; an interruption between two moves leaves some files new), and
    the files of ``replaces`` that this write did not make are removed, so that nothing of an
    earlier run stays beside this one's (a figure drawn then and not now).

    Args:
        result: The run.
        out_dir: Target folder.
        extra: More files, as ``{file name: writer(path)}`` (e.g. a figure's ``savefig``).
        replaces: Names of the optional files a run may leave in ``out_dir`` (other files there,
            a researcher's own, are left alone).

    Returns:
        The paths written.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Made with the process's umask (mkdtemp's 0o700 would become the output folder's mode).
    tmp = out_dir.parent / f".{out_dir.name}.{uuid.uuid4().hex[:12]}.tmp"
    tmp.mkdir()
    try:
        result.orders.to_parquet(tmp / "orders.parquet", index=False)
        result.events.to_parquet(tmp / "events.parquet", index=False)
        result.timeseries.to_parquet(tmp / "timeseries.parquet", index=False)
        result.sellers.to_parquet(tmp / "sellers.parquet", index=False)
        result.lost_visits.to_parquet(tmp / "lost_visits.parquet", index=False)
        (tmp / "kpis.json").write_text(json.dumps(kpis_document(result), indent=2) + "\n", encoding="utf-8")
        (tmp / "scenario.yaml").write_text(resolved_yaml(result), encoding="utf-8")
        for name, writer in (extra or {}).items():
            writer(tmp / name)
        names = sorted(f.name for f in tmp.iterdir())
        if out_dir.exists():
            for name in names:
                os.replace(tmp / name, out_dir / name)
            for name in set(replaces) - set(names):
                (out_dir / name).unlink(missing_ok=True)
        else:
            os.rename(tmp, out_dir)  # the folder appears whole, in one step
        return [out_dir / name for name in names]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
