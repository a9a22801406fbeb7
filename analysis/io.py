"""Reading a run folder written by ``simcore run`` back into frames."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simcore.errors import InputError

#: The files of a run folder the exporters and the trace read.
RUN_FILES = ("orders.parquet", "events.parquet", "sellers.parquet", "scenario.yaml")


class RunInputError(InputError):
    """Bad input to an export, a trace or a report: a folder that is not a run, an unknown order
    or format, an output path that cannot be written. The message names the path or value and
    what to do."""

    what = "input"


def locate_run(run_dir: str | Path, files: tuple[str, ...] = RUN_FILES) -> dict[str, Path]:
    """The paths of ``files`` in the run folder ``run_dir``.

    Raises:
        RunInputError: ``run_dir`` is missing, not a folder, or lacks some of ``files``.
    """
    d = Path(run_dir)
    if not d.is_dir():
        what = "does not exist" if not d.exists() else "is not a folder"
        raise RunInputError(f"{d}: {what}; give a folder written by `simcore run SCENARIO --out DIR`")
    missing = [f for f in files if not (d / f).is_file()]
    if missing:
        raise RunInputError(
            f"{d}: not a simcore run folder (missing {', '.join(missing)}); "
            "write one with `simcore run SCENARIO --out DIR`"
        )
    return {f: d / f for f in files}


@dataclass(frozen=True)
class RunFiles:
    """The outputs of one run as read from disk (same fields as ``simcore.RunResult``)."""

    orders: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame
    sellers: pd.DataFrame
    kpis: dict[str, Any]
    warmup_days: float
    lost_visits: pd.DataFrame | None = None


def load_run(out_dir: str | Path) -> RunFiles:
    """Load ``orders/events/timeseries/sellers.parquet``, ``kpis.json`` and the warm-up from
    ``scenario.yaml``, and ``lost_visits.parquet`` when the run wrote one (None for outputs
    of versions before it).

    Raises:
        FileNotFoundError: a file of the run is missing.
    """
    import yaml

    d = Path(out_dir)
    scenario = yaml.safe_load((d / "scenario.yaml").read_text(encoding="utf-8"))
    return RunFiles(
        orders=pd.read_parquet(d / "orders.parquet"),
        events=pd.read_parquet(d / "events.parquet"),
        timeseries=pd.read_parquet(d / "timeseries.parquet"),
        sellers=pd.read_parquet(d / "sellers.parquet"),
        kpis=json.loads((d / "kpis.json").read_text(encoding="utf-8")),
        warmup_days=float(scenario.get("warmup_days", 0.0)),
        lost_visits=pd.read_parquet(lost) if (lost := d / "lost_visits.parquet").exists() else None,
    )
