"""Calibration results (``simcore calibrate ... --out DIR``): loading them back and drawing them.

:func:`load_calibration` reads ``result.json`` (the posterior's summaries, the share not ruled
out by wave, the predictive check), ``posterior.parquet`` (draws over the last wave's box with
their weights), ``waves.parquet`` (every setting run, its means and implausibility) and
``calibration.yaml``. Three figures: the posterior's pairs plot, implausibility by wave, and
the predictive check against the targets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml


@dataclass(frozen=True)
class CalibrationResult:
    """A calibration store read back.

    Attributes:
        status: ``matched`` or ``no_match`` (every setting of a wave ruled out).
        result: ``result.json``: ``parameters`` (mean, q05, q50, q95), ``nroy_share`` per wave,
            ``waves``, ``runs``, ``effective_sample_size``, ``predictive`` per target,
            ``correlation`` between parameters, ``posterior`` (how it was made: ``emulator``
            with its fit per target, or ``runs``).
        posterior: Draws over the last wave's box (the emulator's, or the settings run), one
            column per parameter, and ``weight``.
        waves: Every setting run: ``wave``, the parameters, ``mean.<target>``,
            ``implausibility.<target>``, ``implausibility`` (the rule's), ``nroy``.
        spec: The calibration file as resolved.
        calibrated: The text of ``calibrated.yaml``.
    """

    status: str
    result: dict[str, Any]
    posterior: pd.DataFrame
    waves: pd.DataFrame
    spec: dict[str, Any]
    calibrated: str

    @property
    def parameters(self) -> list[str]:
        return list(self.result["parameters"])

    def draws(self, n: int = 1000, seed: int = 0) -> pd.DataFrame:
        """``n`` settings resampled from the posterior by weight (for plots and further runs)."""
        w = self.posterior["weight"].to_numpy()
        idx = np.random.default_rng(seed).choice(len(w), size=n, p=w / w.sum())
        return self.posterior.iloc[idx][self.parameters].reset_index(drop=True)


def load_calibration(folder: str | Path) -> CalibrationResult:
    """Read a calibration store.

    Raises:
        FileNotFoundError: ``folder`` has no ``result.json`` (not a calibration store, or one
            that has not finished).
    """
    folder = Path(folder)
    if not (folder / "result.json").is_file() or not (folder / "calibration.yaml").is_file():
        raise FileNotFoundError(f"{folder}: no result.json; run `simcore calibrate FILE --out {folder}`")
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    return CalibrationResult(
        status=result["status"],
        result=result,
        posterior=pd.read_parquet(folder / "posterior.parquet"),
        waves=pd.read_parquet(folder / "waves.parquet"),
        spec=yaml.safe_load((folder / "calibration.yaml").read_text(encoding="utf-8")) or {},
        calibrated=(folder / "calibrated.yaml").read_text(encoding="utf-8"),
    )


def pairs_figure(res: CalibrationResult, n: int = 2000, truth: dict[str, float] | None = None):
    """The posterior's pairs plot: each parameter's histogram on the diagonal, each pair's
    draws below it (resampled by weight), the prior's range as the axes'; ``truth`` (a twin's
    known values) marked in red."""
    import matplotlib.pyplot as plt

    keys = res.parameters
    d = len(keys)
    draws = res.draws(n)
    prior = res.spec.get("parameters", {})
    fig, axes = plt.subplots(d, d, figsize=(2.6 * d + 0.6, 2.6 * d + 0.4), squeeze=False)
    for i, ki in enumerate(keys):
        for j, kj in enumerate(keys):
            ax = axes[i][j]
            if j > i:
                ax.axis("off")
                continue
            if i == j:
                log = prior.get(ki, {}).get("scale") == "log"
                edges = prior.get(ki, {"low": draws[ki].min(), "high": draws[ki].max()})
                lo_, hi_ = edges["low"], edges["high"]
                bins = np.geomspace(lo_, hi_, 40) if log else np.linspace(lo_, hi_, 40)
                ax.hist(draws[ki], bins=bins, color="#457b9d")
                ax.set_yticks([])
                if truth and ki in truth:
                    ax.axvline(truth[ki], color="#d62828", lw=1.5)
            else:
                ax.scatter(draws[kj], draws[ki], s=3, alpha=0.3, color="#457b9d")
                if truth and ki in truth and kj in truth:
                    ax.plot([truth[kj]], [truth[ki]], marker="+", ms=14, mew=2, color="#d62828")
                if ki in prior:
                    ax.set_ylim(prior[ki]["low"], prior[ki]["high"])
                    if prior[ki].get("scale") == "log":
                        _log_axis(ax.yaxis, ax.set_yscale)
            if kj in prior:
                ax.set_xlim(prior[kj]["low"], prior[kj]["high"])
                if prior[kj].get("scale") == "log":
                    _log_axis(ax.xaxis, ax.set_xscale)
            if i == d - 1:
                ax.set_xlabel(kj, fontsize=8)
            if j == 0 and i > 0:
                ax.set_ylabel(ki, fontsize=8)
    title = "posterior (axes: the prior's ranges)" + ("; red: the truth" if truth else "")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig


def _log_axis(axis, set_scale) -> None:
    """A log axis labelled at 1, 2 and 5 of each decade, in plain numbers (matplotlib's
    default labels every minor tick of a short range as 2x10^-3, 3x10^-3, ..., on top of
    each other)."""
    from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

    set_scale("log")
    axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FormatStrFormatter("%g"))
    axis.set_minor_formatter(NullFormatter())


def implausibility_figure(res: CalibrationResult):
    """Each wave's settings by implausibility (the rule's), the cutoff as a line, with the share
    of the prior not ruled out after each wave."""
    import matplotlib.pyplot as plt

    cutoff = float(res.spec.get("method", {}).get("cutoff", 3.0))
    fig, (a, b) = plt.subplots(1, 2, figsize=(9.5, 3.6))
    w = res.waves
    for wave, sub in w.groupby("wave"):
        x = np.full(len(sub), float(wave)) + np.random.default_rng(int(wave)).uniform(-0.2, 0.2, len(sub))
        colours = np.where(sub["nroy"], "#2a9d8f", "#c0c0c0")
        a.scatter(x, np.minimum(sub["implausibility"], 50.0), s=8, c=colours)
    a.axhline(cutoff, color="#e76f51", lw=1, label=f"cutoff {cutoff:g}")
    a.set_yscale("log")
    a.set_xticks(sorted(w["wave"].unique()))
    a.set_xlabel("wave")
    a.set_ylabel("implausibility (capped at 50)")
    a.legend(fontsize=8)
    shares = res.result["nroy_share"]
    b.plot(range(1, len(shares) + 1), shares, marker="o", color="#457b9d")
    b.set_yscale("log")
    b.set_xticks(range(1, len(shares) + 1))
    b.set_xlabel("wave")
    b.set_ylabel("share of the prior not ruled out")
    fig.tight_layout()
    return fig


def predictive_figure(res: CalibrationResult):
    """Per target: the simulated KPI's posterior median and 90% interval against the target's
    value and its two-sd band."""
    import matplotlib.pyplot as plt

    pred = res.result["predictive"]
    fig, axes = plt.subplots(1, len(pred), figsize=(3.2 * len(pred) + 0.4, 3.2), squeeze=False)
    for ax, (name, p) in zip(axes[0], pred.items(), strict=True):
        band = (p["target"] - 2 * p["target_sd"], p["target"] + 2 * p["target_sd"])
        ax.axhspan(*band, color="#e9c46a", alpha=0.4)
        ax.axhline(p["target"], color="#e76f51", lw=1.2, label="target (2 sd)")
        ax.errorbar([0], [p["q50"]], yerr=[[p["q50"] - p["q05"]], [p["q95"] - p["q50"]]], fmt="o", capsize=5)
        ax.set_xticks([])
        ax.set_title(name, fontsize=8)
        ax.legend(fontsize=7)
    fig.suptitle("predictive check: simulated median and 90% interval at posterior draws", fontsize=9)
    fig.tight_layout()
    return fig
