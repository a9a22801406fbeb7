"""Replications until the confidence intervals are narrow enough (sequential procedure).

This module holds the rule; :func:`simcore.experiments.sweep.run_until` runs the rounds it asks for::

    rule = PrecisionRule(store, [parse_target("cancellation_rate=5%")], max_replications=200)
    run_until(sweep, store, rule, executor)
    rule.met, rule.replications, rule.table

A sweep starts with the replications its file asks for. After each round, the half-width of
the confidence interval of every chosen KPI is computed for every cell and strategy (or, with a
baseline strategy, for every paired difference against it); while any exceeds its target and
the cap allows, more replications are added to *every* arm, so arms stay paired replication
by replication (common random numbers) and :func:`analysis.compare` keeps all of them.

The next round's size comes from the widest interval: a half-width shrinks as 1/sqrt(n), so
``n * (half_width / target)**2`` replications are expected to meet the target (Law & Kelton,
*Simulation Modeling and Analysis*, 5th ed., section 9.4.1, the sequential procedure for an
absolute or relative precision). The estimate is checked by running, not trusted. Replication
``r`` always runs with the same seed, so the number of replications reached is the same
whatever the executor and the number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.sweeps import compare, load_sweep, summarize
from simcore.errors import ArgumentError


@dataclass(frozen=True)
class Target:
    """A precision target for one KPI.

    Attributes:
        kpi: A flattened KPI name, as in :func:`analysis.load_sweep` (``cancellation_rate``,
            ``cancellations_by_reason.out_of_stock``).
        half_width: The largest acceptable CI half-width: in the KPI's own units, or, when
            ``relative``, a relative error gamma (0.05 = 5%): the half-width is held to
            gamma / (1 + gamma) of the absolute mean, so the error relative to the true mean
            is at most gamma (Law & Kelton).
        relative: See ``half_width``.
    """

    kpi: str
    half_width: float
    relative: bool = False

    def __str__(self) -> str:
        width = f"{self.half_width * 100:g}%" if self.relative else f"{self.half_width:g}"
        return f"{self.kpi}={width}"


def parse_target(text: str) -> Target:
    """``KPI=HALF_WIDTH`` (absolute) or ``KPI=P%`` (relative to the mean), as ``--precision`` takes.

    Raises:
        ArgumentError: not of that form, or the width is not a positive finite number.
    """
    kpi, sep, value = text.partition("=")
    kpi, value = kpi.strip(), value.strip()
    relative = value.endswith("%")
    try:
        width = float(value[:-1] if relative else value) / (100.0 if relative else 1.0)
    except ValueError:
        width = math.nan
    if not sep or not kpi or not math.isfinite(width) or width <= 0:
        raise ArgumentError(
            f"precision target: expected KPI=HALF_WIDTH or KPI=P% with a positive number, "
            f"e.g. cancellation_rate=0.002 or cancellation_rate=5% (got {text!r})"
        )
    return Target(kpi, width, relative)


class PrecisionRule:
    """The ``more`` rule of :func:`simcore.experiments.sweep.run_until` behind ``--precision``.

    Called with the replications ``n`` of the round just finished, it reads the store, computes
    every target's interval per cell and strategy (or paired difference), keeps the result in
    :attr:`table`, and returns the next round's size, or None when every target is met or the
    cap is reached.

    Args:
        store: The sweep store being run.
        targets: From :func:`parse_target`.
        max_replications: Cap per arm.
        baseline: Apply the targets to paired differences against this strategy instead of to
            each arm's mean (what a strategy comparison needs).
        confidence: Interval level.

    Attributes:
        table: After a call, one row per cell, strategy and target KPI: the varied keys,
            ``mean`` (or ``diff_mean``), ``n``, ``half_width``, ``target`` (absolute), ``met``.
        replications: The ``n`` of the last call.
    """

    def __init__(
        self,
        store: str | Path,
        targets: Sequence[Target],
        max_replications: int,
        baseline: str | None = None,
        confidence: float = 0.95,
    ):
        self.store = Path(store)
        self.targets = list(targets)
        self.max_replications = max_replications
        self.baseline = baseline
        self.confidence = confidence
        self.table = pd.DataFrame()
        self.replications = 0

    @property
    def met(self) -> bool:
        """Every target met in every cell and strategy at the last check."""
        return not self.table.empty and bool(self.table["met"].all())

    def __call__(self, n: int) -> int | None:
        self.replications = n
        self.table = precision_table(self.store, n, self.targets, self.baseline, self.confidence)
        if self.met or n >= self.max_replications:
            return None
        return max(n + 1, _next_size(self.table, n, self.max_replications, self.confidence))


def precision_table(
    store: str | Path,
    replications: int,
    targets: Sequence[Target],
    baseline: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Each target KPI's CI half-width against its target, per cell and strategy, over the first
    ``replications`` replications in ``store`` (see :class:`PrecisionRule` for the columns)."""
    df = load_sweep(store)
    df = df[(df["replication"] < replications) & df["kpi"].isin([t.kpi for t in targets])]
    stats = summarize(df, confidence) if baseline is None else compare(df, baseline, confidence)
    centre = "mean" if baseline is None else "diff_mean"
    by_kpi = {t.kpi: t for t in targets}
    stats["half_width"] = (stats["ci_high"] - stats["ci_low"]) / 2.0
    scale = np.array([by_kpi[k].half_width for k in stats["kpi"]])
    relative = np.array([by_kpi[k].relative for k in stats["kpi"]])
    # Relative: Law & Kelton stop at gamma / (1 + gamma) of the mean, so that the error relative
    # to the true mean, not to the estimate, is at most gamma.
    stats["target"] = np.where(relative, scale / (1.0 + scale) * stats[centre].abs(), scale)
    # A zero-width interval meets any target, a zero relative target included (a KPI that is
    # the same in every replication); an undefined one (n < 2) meets none.
    stats["met"] = stats["half_width"] <= stats["target"]
    return stats.drop(columns=["ci_low", "ci_high"])


def _next_size(table: pd.DataFrame, n: int, cap: int, confidence: float) -> int:
    """The fewest replications expected to meet every target: the smallest i >= n with
    t_{i-1} * S / sqrt(i) <= target for each short row, S its standard deviation so far."""
    from scipy import stats

    short = table[~table["met"]]
    t_n = stats.t.ppf(0.5 + confidence / 2.0, n - 1) if n >= 2 else np.nan
    sd = (short["half_width"] * np.sqrt(n) / t_n).to_numpy(dtype=float)
    target = short["target"].to_numpy(dtype=float)
    if not (np.isfinite(sd).all() and (target > 0).all()):
        return min(cap, 2 * n)  # an undefined interval or a zero target gives no estimate: double
    i = np.arange(max(n, 2), cap + 1)
    half = stats.t.ppf(0.5 + confidence / 2.0, i - 1)[:, None] * sd[None, :] / np.sqrt(i)[:, None]
    ok = (half <= target[None, :]).all(axis=1)
    return int(i[ok.argmax()]) if ok.any() else cap
