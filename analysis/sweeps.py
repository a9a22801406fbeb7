"""Sweep results as tidy tables: loading a store, confidence intervals, paired differences.

A sweep store (``simcore sweep ... --out DIR``) holds one Parquet file of tidy KPI rows per
run. :func:`load_sweep` stacks them with the design; :func:`summarize` gives each cell,
strategy and KPI its mean and confidence interval over replications; :func:`compare` pairs
each strategy's replication with the baseline strategy's replication of the same number, which
shares its random numbers (common random numbers), and summarises the differences, with
:func:`crn_factor`, how much sharper the pairing made each comparison.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from simcore.experiments.store import LAYOUT, arm_key, belongs, read_run, run_file

ID_COLUMNS = ("cell_id", "strategy", "replication", "seed")


def load_sweep(store: str | Path) -> pd.DataFrame:
    """A sweep store as one tidy long frame: the runs of the sweep as last run into it.

    Files left from an earlier run of the store (another seed, base scenario or simcore version,
    or replications beyond the last run's count) are left out, so the frame holds exactly the
    runs the last ``simcore sweep`` command stands for. Stores of an earlier layout (run files
    named by design cell) are read as they are.

    Columns: ``cell_id, strategy, replication, seed``, one column per varied key (named by its
    dotted key; a value that is not a number or a string, such as a distribution, as its JSON
    text), ``kpi`` (nested KPIs flattened with dots) and ``value`` (float; NaN where a ratio is
    undefined).

    Raises:
        FileNotFoundError: ``store`` is not a sweep store, or holds no finished run.
        ValueError: a run file of the sweep is unreadable or fails its checksum (rerun the sweep
            command: it recomputes such runs).
    """
    store = Path(store)
    design = json.loads((store / "design.json").read_text(encoding="utf-8"))
    if design.get("layout", 1) >= LAYOUT:
        tables, bad = _arm_tables(store, design)
    else:
        tables, bad = _legacy_tables(store, design)
    if bad:
        raise ValueError(
            f"{store}: {len(bad)} run file(s) damaged; rerun the sweep command to recompute them:\n"
            + "\n".join(bad)
        )
    if not tables:
        raise FileNotFoundError(f"{store}: no finished runs of the sweep in runs/")
    df = pd.concat(tables, ignore_index=True)
    cells = pd.DataFrame([{k: _label(v) for k, v in c.items()} for c in design["cells"]])
    df = df.merge(cells.reset_index(names="cell_id"), on="cell_id", how="left") if design["varied"] else df
    order = [*ID_COLUMNS, *design["varied"], "kpi", "value"]
    return df[order].sort_values(["cell_id", "strategy", "replication", "kpi"], ignore_index=True)


def _arm_tables(store: Path, design: dict) -> tuple[list[pd.DataFrame], list[str]]:
    """Each arm's run files (named by its scenario hash and the seed), labelled with its design
    cell and strategy: the replications of the sweep as last run that have finished."""
    seed, tables, bad = design["seed"], [], []
    for label, scn_hash in design["scenario_hashes"].items():
        cell, _, strategy = label.partition("/")
        for r in range(design["replications"]):
            file = run_file(store, arm_key(scn_hash, seed), r)
            if not file.exists():
                continue
            try:
                table = read_run(file)
            except ValueError as exc:
                bad.append(str(exc))
                continue
            if belongs(table.schema.metadata, scn_hash, seed):
                frame = table.to_pandas()
                frame.insert(0, "strategy", strategy)
                frame.insert(0, "cell_id", int(cell))
                tables.append(frame)
    return tables, bad


def _legacy_tables(store: Path, design: dict) -> tuple[list[pd.DataFrame], list[str]]:
    """The run files of a layout-1 store (named by design cell, strategy and replication, which
    they also hold as columns)."""
    hashes = design.get("scenario_hashes")
    tables, bad = [], []
    for f in sorted((store / "runs").glob("c*.parquet")):
        try:
            table = read_run(f)
        except ValueError as exc:
            bad.append(str(exc))
            continue
        if hashes is not None:  # stores written before the manifest named its runs hold only them
            cell, strategy, rep = (table.column(c)[0].as_py() for c in ("cell_id", "strategy", "replication"))
            expected = hashes.get(f"{cell}/{strategy}")
            if expected is None or rep >= design["replications"]:
                continue
            if not belongs(table.schema.metadata, expected, design["seed"]):
                continue
        tables.append(table.to_pandas())
    return tables, bad


def _label(value):
    """A design value as a groupable label: numbers and strings as they are, others as JSON."""
    return (
        value if value is None or isinstance(value, int | float | str) else json.dumps(value, sort_keys=True)
    )


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    from scipy import stats

    n = values.size
    mean = float(values.mean()) if n else np.nan
    if n < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + confidence / 2.0, n - 1) * values.std(ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def _bootstrap_interval(
    values: np.ndarray, confidence: float, resamples: int, seed: int
) -> tuple[float, float, float]:
    n = values.size
    mean = float(values.mean()) if n else np.nan
    if n < 2:
        return mean, np.nan, np.nan
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    lo, hi = np.quantile(means, [0.5 - confidence / 2.0, 0.5 + confidence / 2.0])
    return mean, float(lo), float(hi)


def _interval_rows(groups, confidence: float, bootstrap: bool, resamples: int, seed: int) -> list[tuple]:
    rows = []
    for key, values in groups:
        v = values.to_numpy(dtype=float)
        v = v[~np.isnan(v)]
        if bootstrap:
            mean, lo, hi = _bootstrap_interval(v, confidence, resamples, seed)
        else:
            mean, lo, hi = _t_interval(v, confidence)
        rows.append((*key, mean, lo, hi, int(v.size)))
    return rows


def summarize(
    df: pd.DataFrame,
    confidence: float = 0.95,
    bootstrap: bool = False,
    resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean and confidence interval of every KPI per cell and strategy, over replications.

    Args:
        df: From :func:`load_sweep`.
        confidence: Interval level.
        bootstrap: Percentile bootstrap instead of the t-interval (for skewed KPIs).
        resamples, seed: Bootstrap resamples and their seed (results are reproducible).

    Returns:
        Columns ``cell_id``, the varied keys, ``strategy, kpi, mean, ci_low, ci_high, n``
        (``n`` counts replications with a defined value; intervals need n >= 2).
    """
    varied = [c for c in df.columns if c not in (*ID_COLUMNS, "kpi", "value")]
    keys = ["cell_id", *varied, "strategy", "kpi"]
    groups = df.groupby(keys, sort=True, dropna=False)["value"]
    rows = _interval_rows(groups, confidence, bootstrap, resamples, seed)
    return pd.DataFrame(rows, columns=[*keys, "mean", "ci_low", "ci_high", "n"])


def crn_factor(arm: np.ndarray, base: np.ndarray) -> float:
    """How many times smaller in variance common random numbers made a paired comparison.

    ``(s_A^2 + s_B^2) / s_D^2``: the sample variances (over replications) of the arm's values
    ``A_r`` and the baseline's ``B_r``, whose sum is what the difference of two independent
    replications would vary by, over the sample variance of the paired differences
    ``D_r = A_r - B_r``. It equals ``1 + 2 cov(A, B) / s_D^2``: above 1 when common random
    numbers move both arms together, 1 when they do nothing, below 1 when they move the arms
    apart. Replications where either value is NaN are left out.

    The factor estimates a ratio of *variances*; a confidence interval's width shrinks by its
    square root (a factor of 100 makes the interval 10 times narrower). It is itself a ratio
    of sample variances and is noisy with few replications: for independent normal arms of
    equal variance it is ``(1 + F) / 2`` with ``F ~ F(R-1, R-1)``, which with R = 10
    replications lies between 0.6 and 2.5 for the middle 95% of sweeps although the true
    factor is 1. Read its order of magnitude, not its first digit.

    Args:
        arm: The arm's KPI values, one per replication (KPI units).
        base: The baseline's values of the same replications, in the same order.

    Returns:
        The factor (dimensionless); ``inf`` when the paired differences do not vary but the
        arms do (identical arms: the difference is exact); NaN when neither varies, or with
        fewer than 2 replications where both are defined.

    Raises:
        ValueError: ``arm`` and ``base`` differ in length.
    """
    a, b = np.asarray(arm, dtype=float), np.asarray(base, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"crn_factor: {a.size} arm values but {b.size} baseline values")
    both = ~(np.isnan(a) | np.isnan(b))
    a, b = a[both], b[both]
    if a.size < 2:
        return np.nan
    together, paired = _variance(a) + _variance(b), _variance(a - b)
    if paired == 0.0:
        return np.inf if together > 0.0 else np.nan
    return together / paired


def _variance(values: np.ndarray) -> float:
    """The sample variance (ddof 1), exactly 0 for equal values: ``np.var`` can leave a few ulps
    when the mean is not representable, which would turn an exact difference into a huge finite
    factor instead of ``inf``."""
    return 0.0 if np.ptp(values) == 0.0 else float(values.var(ddof=1))


def compare(
    df: pd.DataFrame,
    baseline: str = "status_quo",
    confidence: float = 0.95,
    bootstrap: bool = False,
    resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Paired differences (strategy minus ``baseline``) per cell, strategy and KPI.

    Replication ``r`` of a strategy is paired with replication ``r`` of the baseline in the same
    cell: they share random numbers, so the difference's interval is far narrower than the
    two separate intervals suggest. Two identical arms differ by exactly 0. ``crn_factor`` says
    how much narrower: see :func:`crn_factor` (a variance ratio, so the interval's width
    shrinks by its square root, and a noisy one with few replications).

    Returns:
        Columns ``cell_id``, the varied keys, ``strategy, kpi, diff_mean, ci_low, ci_high,
        crn_factor, n`` (``n`` counts replications where both arms are defined; the interval
        and the factor need n >= 2; the factor is ``inf`` for identical arms).

    Raises:
        KeyError: ``baseline`` is not a strategy of the sweep.
    """
    if baseline not in set(df["strategy"]):
        raise KeyError(
            f"baseline strategy {baseline!r} not in the sweep (have {sorted(set(df['strategy']))})"
        )
    varied = [c for c in df.columns if c not in (*ID_COLUMNS, "kpi", "value")]
    ref = df[df["strategy"] == baseline][["cell_id", "replication", "kpi", "value"]]
    arms = df[df["strategy"] != baseline]
    paired = arms.merge(ref, on=["cell_id", "replication", "kpi"], suffixes=("", "_base"))
    paired["diff"] = paired["value"] - paired["value_base"]
    keys = ["cell_id", *varied, "strategy", "kpi"]
    groups = paired.groupby(keys, sort=True, dropna=False)
    rows = _interval_rows(groups["diff"], confidence, bootstrap, resamples, seed)
    # The same groupby iterates in the same order, so the factors line up with the rows.
    factors = [
        crn_factor(g["value"].to_numpy(dtype=float), g["value_base"].to_numpy(dtype=float)) for _, g in groups
    ]
    out = pd.DataFrame(rows, columns=[*keys, "diff_mean", "ci_low", "ci_high", "n"])
    out.insert(out.columns.get_loc("n"), "crn_factor", np.array(factors, dtype=float))
    return out
