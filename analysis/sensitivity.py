"""Global sensitivity of a KPI to a sweep's sampled parameters (Morris screening, Sobol' indices).

A sweep whose design is ``sample: {method: morris | sobol, ...}`` runs the points SALib drew
for it (:func:`simcore.experiments.designs.salib_sample`), in SALib's order. Here each cell's
KPI is averaged over its replications and handed back to SALib's analyser with the same problem, so the
indices describe the model's mean response, not one replication's noise.

- Morris (elementary effects): ``mu_star`` ranks parameters by the mean absolute change of the
  KPI per step, scaled to the parameter's whole range (KPI units per range; SALib divides each
  step's change by the step's share of the range); ``mu`` keeps the sign; ``sigma`` large
  beside ``mu_star`` means interactions or curvature.
  Cheap: ``n * (parameters + 1)`` cells; for screening many parameters.
- Sobol' (variance-based): ``S1`` is the share of the KPI's variance due to the parameter alone,
  ``ST`` its share including interactions. ``n * (parameters + 2)`` cells; with ``n`` small the
  confidence intervals (``*_conf``, bootstrap) are wide and S1 can come out slightly negative.

Needs SALib (``pip install 'simcore[sensitivity]'``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.sweeps import load_sweep
from simcore.experiments.designs import Sample, salib_problem


def sensitivity(
    store: str | Path,
    kpi: str,
    strategy: str | None = None,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Sensitivity indices of ``kpi`` to each sampled parameter of a Morris or Sobol' sweep.

    Args:
        store: A finished sweep store whose design is ``sample`` with method ``morris`` or ``sobol``.
        kpi: A flattened KPI name (``cancellation_rate``, ``cancellations_by_reason.out_of_stock``).
        strategy: Only this strategy (default: every strategy of the sweep, one block each).
        confidence: Level of the bootstrap intervals SALib gives.
        seed: Seed of SALib's bootstrap resampling (results are reproducible).

    Returns:
        One row per strategy and parameter: ``strategy, kpi, parameter`` and, for Morris,
        ``mu, mu_star, mu_star_conf, sigma`` (in the KPI's units); for Sobol', ``S1, S1_conf,
        ST, ST_conf`` (shares of variance).

    Raises:
        ValueError: the store's design is not a Morris or Sobol' sample, the KPI is unknown, or
            some cell has no finished replication or an undefined KPI value.
    """
    store = Path(store)
    design = json.loads((store / "design.json").read_text(encoding="utf-8"))
    if design.get("sample", {}).get("method") not in ("morris", "sobol"):
        raise ValueError(f"{store}: sensitivity needs a sweep with sample: {{method: morris | sobol}}")
    sample = Sample.model_validate(design["sample"])
    problem = salib_problem(sample)
    df = load_sweep(store)
    if kpi not in set(df["kpi"]):
        raise ValueError(f"{store}: no KPI {kpi!r} in the results")
    if strategy is not None and strategy not in design["strategies"]:
        raise ValueError(f"{store}: no strategy {strategy!r} (have {', '.join(design['strategies'])})")
    strategies = [strategy] if strategy is not None else design["strategies"]
    x = np.array([[cell[k] for k in problem["names"]] for cell in design["cells"]], dtype=float)
    rows = []
    for name in strategies:
        mine = df[(df["kpi"] == kpi) & (df["strategy"] == name)]
        y = mine.groupby("cell_id")["value"].mean().reindex(range(len(design["cells"]))).to_numpy()
        missing = np.flatnonzero(np.isnan(y))
        if missing.size:
            raise ValueError(
                f"{store}: strategy {name!r}: {missing.size} cells have no finished run or an undefined "
                f"{kpi} (first: cell {int(missing[0])}); finish the sweep, or choose a KPI defined everywhere"
            )
        rows.append(_analyse(sample.method, problem, x, y, confidence, seed).assign(strategy=name, kpi=kpi))
    out = pd.concat(rows, ignore_index=True)
    first = ["strategy", "kpi", "parameter"]
    return out[first + [c for c in out.columns if c not in first]]


def _analyse(method: str, problem: dict, x: np.ndarray, y: np.ndarray, confidence: float, seed: int):
    from SALib.analyze import morris, sobol

    if method == "morris":
        res = morris.analyze(problem, x, y, num_levels=4, conf_level=confidence, seed=seed)
        cols = ("mu", "mu_star", "mu_star_conf", "sigma")
    else:
        # SALib's Sobol' analyser treats a seed of 0 as no seed at all: shift it.
        res = sobol.analyze(problem, y, calc_second_order=False, conf_level=confidence, seed=seed + 1)
        cols = ("S1", "S1_conf", "ST", "ST_conf")
    return pd.DataFrame({"parameter": problem["names"], **{c: np.asarray(res[c], dtype=float) for c in cols}})
