"""Optimisation results (``simcore optimize ... --out DIR``): loading them back and drawing them.

:func:`load_optimization` reads ``result.json`` (the answer and the record behind it),
``optimization.yaml`` (the file as resolved) and the store's run files into an
:class:`OptimizationResult`; :func:`optimization_figure` draws every candidate's cost against
each constraint's KPI with the feasible region shaded, the chosen mix with its interval, and the
clean-up's replications per candidate checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from simcore.experiments.store import read_run

#: Candidate statuses, in the order figures and tables show them.
STATUSES = ("feasible", "undecided", "infeasible", "not checked", "screened out")
_COLOURS = {
    "feasible": "#2a9d8f",
    "undecided": "#e9c46a",
    "infeasible": "#e76f51",
    "not checked": "#8d99ae",
    "screened out": "#c0c0c0",
}


@dataclass(frozen=True)
class OptimizationResult:
    """An optimisation store read back.

    Attributes:
        status: ``optimal``, ``no_feasible`` or ``not_separable``.
        best: The chosen candidate (levers, cost, KPIs with intervals, p_feasible,
            replications), or None.
        tied: Candidates the clean-up could not tell apart from the answer.
        runs: Runs behind the answer.
        spec: The optimisation file as resolved (``optimization.yaml``).
        candidates: One row per candidate: one column per lever, ``cost``, ``status``,
            ``replications`` (clean-up), ``search_mean.<KPI>`` per KPI read, ``arm``.
        rounds: The clean-up's decisions in order.
        runs_frame: Every run's KPIs read: ``candidate`` (row of ``candidates``), ``phase``
            (search or clean-up), ``replication``, ``kpi``, ``value``.
    """

    status: str
    best: dict[str, Any] | None
    tied: list[dict[str, Any]]
    runs: int
    spec: dict[str, Any]
    candidates: pd.DataFrame
    rounds: list[dict[str, Any]]
    runs_frame: pd.DataFrame

    @property
    def constraints(self) -> dict[str, dict[str, float]]:
        return dict(self.spec.get("constraints") or {})


def load_optimization(folder: str | Path) -> OptimizationResult:
    """Read an optimisation store.

    Raises:
        FileNotFoundError: ``folder`` has no ``result.json`` (not an optimisation store, or one
            that has not finished).
        ValueError: a run file is damaged (rerun the command: it redoes such runs).
    """
    folder = Path(folder)
    result_file = folder / "result.json"
    if not result_file.is_file():
        raise FileNotFoundError(f"{folder}: no result.json; run `simcore optimize FILE --out {folder}`")
    result = json.loads(result_file.read_text(encoding="utf-8"))
    spec_file = folder / "optimization.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8")) if spec_file.is_file() else {}
    rows = []
    for rec in result["candidates"]:
        row = {**rec["levers"], "cost": rec["cost"], "status": rec["status"], "arm": rec["arm"]}
        row["replications"] = rec.get("replications", 0)
        for k, v in (rec.get("search_mean") or {}).items():
            row[f"search_mean.{k}"] = np.nan if v is None else v
        rows.append(row)
    candidates = pd.DataFrame(rows)
    s_reps = int(result.get("search_replications", 0))
    frames = []
    for i, arm in enumerate(candidates.get("arm", [])):
        for file in sorted((folder / "runs").glob(f"{arm}-r*.parquet")):
            table = read_run(file).to_pandas()
            table["candidate"] = i
            frames.append(table)
    runs_frame = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["replication", "seed", "kpi", "value", "candidate"])
    )
    runs_frame["phase"] = np.where(runs_frame["replication"] < s_reps, "search", "clean-up")
    runs_frame = runs_frame[["candidate", "phase", "replication", "kpi", "value"]]
    return OptimizationResult(
        status=result["status"],
        best=result["best"],
        tied=result["tied"],
        runs=int(result["runs"]),
        spec=spec or {},
        candidates=candidates,
        rounds=result.get("rounds", []),
        runs_frame=runs_frame,
    )


def optimization_figure(result: OptimizationResult):
    """Each candidate's cost against each constraint's KPI (search means; the feasible side of
    the bound shaded; the chosen mix with its clean-up interval), and the clean-up's
    replications per candidate checked, cheapest first."""
    import matplotlib.pyplot as plt

    cons = result.constraints
    panels = max(1, len(cons)) + 1
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.0), squeeze=False)
    c = result.candidates
    for ax, (name, bound) in zip(axes[0], cons.items(), strict=False):
        col = f"search_mean.{name}"
        for status in STATUSES:
            sub = c[c["status"] == status]
            if len(sub) and col in sub:
                ax.scatter(sub["cost"], sub[col], s=22, color=_COLOURS[status], label=status, zorder=3)
        lo, hi = ax.get_ylim()
        if "max" in bound:
            ax.axhspan(min(lo, bound["max"]), bound["max"], color="#2a9d8f", alpha=0.08, zorder=0)
            ax.axhline(bound["max"], color="#2a9d8f", lw=1)
        if "min" in bound:
            ax.axhspan(bound["min"], max(hi, bound["min"]), color="#2a9d8f", alpha=0.08, zorder=0)
            ax.axhline(bound["min"], color="#2a9d8f", lw=1)
        if result.best is not None and name in result.best["kpis"]:
            k = result.best["kpis"][name]
            ax.errorbar(
                [result.best["cost"]],
                [k["mean"]],
                yerr=[[k["mean"] - k["ci_low"]], [k["ci_high"] - k["mean"]]],
                fmt="*",
                ms=14,
                color="black",
                capsize=4,
                zorder=4,
                label="chosen (clean-up CI)",
            )
        ax.set_xlabel("cost")
        ax.set_ylabel(f"{name} (search mean)")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7, loc="best")
    ax = axes[0][-1]
    checked = c[c["replications"] > 0].sort_values("cost")
    colours = [_COLOURS.get(s, "#888888") for s in checked["status"]]
    ax.barh(range(len(checked)), checked["replications"], color=colours)
    for y, (_, row) in enumerate(checked.iterrows()):  # the mix, written on its bar
        ax.text(0.3, y, _label(row, result), va="center", fontsize=7)
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.set_xlabel("clean-up replications")
    ax.set_title(f"clean-up, cheapest first: {result.status}", fontsize=9)
    fig.tight_layout()
    return fig


def _label(row: pd.Series, result: OptimizationResult) -> str:
    levers = list((result.spec.get("levers") or {}).keys())
    parts = [f"{k.rsplit('.', 1)[-1]}={row[k]}" for k in levers if k in row]
    return f"{', '.join(parts)} (cost {row['cost']:g})"
