"""Reading a run folder written by ``simcore run`` back into frames."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class RunFiles:
    """The outputs of one run as read from disk (same fields as ``simcore.RunResult``)."""

    orders: pd.DataFrame
    events: pd.DataFrame
    timeseries: pd.DataFrame
    sellers: pd.DataFrame
    kpis: dict[str, Any]
    warmup_days: float


def load_run(out_dir: str | Path) -> RunFiles:
    """Load ``orders/events/timeseries/sellers.parquet``, ``kpis.json`` and the warm-up from
    ``scenario.yaml``.

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
    )
