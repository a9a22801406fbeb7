"""Calibration: from observed KPIs to the set of parameter settings that reproduce them.

**History matching in waves** (Andrianakis et al. 2015; McCulloch et al. 2022). A wave runs
``runs_per_wave`` settings, a Latin hypercube over its region of the prior (the whole prior
first), each ``replications`` times on common random numbers. For target ``j`` with observed
value ``z_j`` and sd ``s_j``, a setting's implausibility is

    I_j = |z_j - m_j| / sqrt(s_j^2 + V_j (1 + 1/R) + d_j^2),

``m_j`` the mean of its ``R`` replications, ``V_j`` their sample variance: the observation is
one realisation of a stochastic system, so the model's run-to-run variance (the ensemble
variability of Andrianakis et al.) stands beside the target's own, and the mean of the
replications is uncertain by ``V_j / R``; ``d_j`` is the model discrepancy
(``method.discrepancy``). A setting whose largest ``I_j`` (``rule: max``; ``second_max``: the
second largest, forgiving one target) exceeds ``cutoff`` (3: Pukelsheim's three-sigma rule, any
unimodal distribution) is ruled out. The next wave samples a box around the settings not ruled
out (NROY): per parameter, their range scaled to the support a uniform's points that far apart
imply, widened by the wave's sample spacing (:func:`_next_box`), within the wave's own box.
``nroy_share`` estimates, per wave, the share of the prior's volume still not ruled out: the
box's volume times the share of its settings not ruled out (at most the wave before's). No
emulator is fitted: every implausibility comes from runs (a Gaussian-process emulator would save
runs on an expensive model; here a run takes seconds and the runs are the evidence).

**Then a posterior** over the last wave's box: importance weights ``w_i ∝ exp(-1/2 sum_j
(z_j - m_ij)^2 / (s_j^2 + V_ij (1 + 1/R) + d_j^2))``, the targets' uncertainty as a Gaussian kernel. The
last wave's settings are uniform over the box, and the prior uniform over it, so the weight is
the kernel alone (ABC with a Gaussian acceptance kernel, as importance sampling). The box must
hold the posterior's mass: it holds every setting the previous wave did not rule out.

Reproducible: the hypercubes are drawn from the file's seed, the runs are keyed by setting and
replication, so the answer is the same whatever the workers or executor.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy.stats import qmc

from simcore.experiments.arms import Runs
from simcore.experiments.calibfile import Calibration, Point
from simcore.experiments.executors import InlineExecutor
from simcore.experiments.files import claim_store
from simcore.experiments.store import arm_key, store_lock
from simcore.paths import write_atomic
from simcore.version import __version__

MATCHED, NO_MATCH = "matched", "no_match"
#: The next wave's box is the NROY settings' bounding box widened by this share of its width,
#: or by the wave's sample spacing if more.
MARGIN = 0.1


@dataclass
class CalibrationOutcome:
    """What ``result.json`` holds (and the tables beside it)."""

    status: str
    result: dict[str, Any]
    points: list[dict[str, Any]]
    posterior: list[dict[str, Any]]


def calibrate(
    cal: Calibration,
    store: str | Path,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CalibrationOutcome:
    """Run ``cal``'s waves into ``store``; write ``result.json``, ``posterior.parquet``,
    ``waves.parquet`` (every setting run, its means and implausibility) and ``calibrated.yaml``.

    Raises:
        StoreError: another experiment holds the store, or it holds another calibration.
        RunFailed: a run failed (its traceback is in ``store/failures``).
    """
    store = Path(store)
    with store_lock(store):
        (store / "runs").mkdir(exist_ok=True)
        resolved = {**cal.spec.model_dump(mode="json"), "base": str(cal.base)}
        claim_store(store, "calibration.yaml", resolved, cal.path, "calibration")
        runs = Runs(store, cal.spec.seed, executor or InlineExecutor(), progress)
        out = _waves(cal, runs)
        _write(cal, store, out)
        return out


def _waves(cal: Calibration, runs: Runs) -> CalibrationOutcome:
    m = cal.spec.method
    names = cal.names
    keys = list(cal.spec.parameters)
    d = len(keys)
    z = np.array([cal.spec.targets[n].value for n in names])
    s2 = np.array([cal.spec.targets[n].sd ** 2 for n in names])
    disc2 = np.array([m.discrepancy.get(n, 0.0) ** 2 for n in names])
    reps = list(range(m.replications))
    lo, hi = np.zeros(d), np.ones(d)
    rng = np.random.default_rng(cal.spec.seed)
    points: list[dict[str, Any]] = []
    waves: list[dict[str, Any]] = []
    last: tuple[list[Point], np.ndarray, np.ndarray, np.ndarray] | None = None
    status = MATCHED
    for w in range(m.waves):
        unit = lo + qmc.LatinHypercube(d=d, seed=rng).random(m.runs_per_wave) * (hi - lo)
        settings = [cal.point(u) for u in unit]
        runs.ensure(settings, reps)
        y = np.stack([runs.values(p, reps, names) for p in settings])  # (points, reps, targets)
        mean = y.mean(axis=1)
        # The observation is one realisation of a stochastic system: the model's run-to-run
        # variance (the ensemble variability) belongs beside the target's own, and the mean of
        # the replications is itself uncertain by that variance over their number.
        spread = y.var(axis=1, ddof=1) * (1.0 + 1.0 / len(reps))
        impl = np.abs(z - mean) / np.sqrt(s2 + spread + disc2)
        impl = np.where(np.isnan(impl), np.inf, impl)  # a KPI a run could not compute rules it out
        ordered = np.sort(impl, axis=1)[:, ::-1]
        combined = ordered[:, 0] if m.rule == "max" or len(names) < 2 else ordered[:, 1]
        nroy = combined <= m.cutoff
        # The box times its share not ruled out; never more than the wave before's (a wave
        # samples inside what the one before left, so the region only shrinks).
        share = float(np.prod(hi - lo) * nroy.mean())
        if waves:
            share = min(share, waves[-1]["nroy_share"])
        waves.append(
            {
                "wave": w + 1,
                "runs": len(settings) * len(reps),
                "nroy": int(nroy.sum()),
                "nroy_share": share,
                "box": {k: [_value(cal, k, lo[i]), _value(cal, k, hi[i])] for i, k in enumerate(keys)},
            }
        )
        for i, p in enumerate(settings):
            points.append(
                {
                    "wave": w + 1,
                    **p.values,
                    **{f"mean.{n}": float(mean[i, j]) for j, n in enumerate(names)},
                    **{f"implausibility.{n}": float(impl[i, j]) for j, n in enumerate(names)},
                    "implausibility": float(combined[i]),
                    "nroy": bool(nroy[i]),
                    "arm": arm_key(p.hash, cal.spec.seed),
                }
            )
        last = (settings, mean, spread, unit)
        if not nroy.any():
            status = NO_MATCH
            break
        if w + 1 < m.waves:
            lo, hi = _next_box(unit[nroy], lo, hi, len(settings))
    assert last is not None
    settings, mean, spread, unit = last
    logw = -0.5 * ((z - mean) ** 2 / (s2 + spread + disc2)).sum(axis=1)
    logw = np.where(np.isnan(logw), -np.inf, logw)
    weight = np.exp(logw - logw.max()) if np.isfinite(logw).any() else np.zeros(len(logw))
    weight = weight / weight.sum() if weight.sum() > 0 else weight
    posterior = [{**p.values, "weight": float(wt)} for p, wt in zip(settings, weight, strict=True)]
    predictive: dict[str, dict[str, Any]] = {}
    for j, n in enumerate(names):
        pred: dict[str, Any] = {**_summary(mean[:, j], weight), "target": float(z[j])}
        pred["target_sd"] = float(np.sqrt(s2[j]))
        pred["covered"] = bool(pred["q05"] <= pred["target"] <= pred["q95"])
        predictive[n] = pred
    # The posterior's correlations: parameters that trade off against each other show it here
    # (and in the pairs plot) rather than as two sharp, independent answers.
    values = np.array([[p.values[k] for k in keys] for p in settings])
    correlation: dict[str, dict[str, float | None]] = {}
    if weight.sum() > 0 and len(keys) > 1:
        centred = values - weight @ values
        cov = (centred * weight[:, None]).T @ centred
        sd = np.sqrt(np.diag(cov))
        for i, a in enumerate(keys):
            correlation[a] = {
                b: (float(cov[i, j] / (sd[i] * sd[j])) if sd[i] > 0 and sd[j] > 0 else None)
                for j, b in enumerate(keys)
            }
    result = {
        "status": status,
        "correlation": correlation,
        "parameters": {k: _summary(np.array([p.values[k] for p in settings]), weight) for k in keys},
        "nroy_share": [w["nroy_share"] for w in waves],
        "waves": waves,
        "runs": runs.done + runs.reused,
        "effective_sample_size": float(1.0 / np.sum(weight**2)) if weight.sum() > 0 else 0.0,
        "predictive": predictive,
        "simcore_version": __version__,
    }
    return CalibrationOutcome(status, result, points, posterior)


def _next_box(inside: np.ndarray, lo: np.ndarray, hi: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The next wave's box around the ``inside`` settings (not ruled out) of a wave of ``n``
    in the box ``lo``-``hi`` (unit coordinates).

    Per parameter: the ``k`` settings' range scaled by ``(k + 1) / (k - 1)``, the unbiased
    estimate of a uniform's support from ``k`` points (a parameter the targets do not constrain
    keeps its whole box, not the few settings' chance spread), widened by the wave's sample
    spacing (the region may reach that far, to the nearest setting ruled out) or MARGIN of the
    width if more; the whole current box with fewer than 3 settings.
    """
    k, d = len(inside), inside.shape[1]
    if k < 3:
        return lo, hi
    a, b = inside.min(axis=0), inside.max(axis=0)
    half = (b - a) / 2.0 * (k + 1) / (k - 1)
    pad = np.maximum(MARGIN * (b - a), (hi - lo) / n ** (1.0 / d))
    mid = (a + b) / 2.0
    return np.clip(mid - half - pad, lo, hi), np.clip(mid + half + pad, lo, hi)


def _value(cal: Calibration, key: str, u: float) -> float:
    return cal.spec.parameters[key].value(float(u))


def _summary(x: np.ndarray, weight: np.ndarray) -> dict[str, float]:
    """Weighted mean and 5%, 50%, 95% quantiles of ``x`` (NaN when no weight)."""
    if weight.sum() <= 0:
        return {"mean": float("nan"), "q05": float("nan"), "q50": float("nan"), "q95": float("nan")}
    order = np.argsort(x, kind="stable")
    cum = np.cumsum(weight[order])
    cum = cum / cum[-1]

    def q(p: float) -> float:
        return float(x[order][min(int(np.searchsorted(cum, p)), len(x) - 1)])

    return {"mean": float(np.sum(weight * x)), "q05": q(0.05), "q50": q(0.5), "q95": q(0.95)}


def _write(cal: Calibration, store: Path, out: CalibrationOutcome) -> None:
    import pandas as pd

    def parquet(rows: list[dict[str, Any]], name: str) -> None:
        import io

        buf = io.BytesIO()
        pd.DataFrame(rows).to_parquet(buf, index=False)
        write_atomic(store / name, buf.getvalue())

    parquet(out.posterior, "posterior.parquet")
    parquet(out.points, "waves.parquet")
    write_atomic(store / "result.json", json.dumps(out.result, indent=2).encode("utf-8"))
    write_atomic(store / "calibrated.yaml", _calibrated(cal, store, out).encode("utf-8"))


def _calibrated(cal: Calibration, store: Path, out: CalibrationOutcome) -> str:
    """A scenario extending the base with the posterior medians, citing the calibration."""
    nested: dict[str, Any] = {"extends": os.path.relpath(cal.base, store.resolve())}
    for key, summary in out.result["parameters"].items():
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = float(f"{summary['q50']:.6g}")
    targets = cal.spec.targets.items()
    lines = [
        f"# Calibrated by simcore calibrate {__version__} from {cal.path} (seed {cal.spec.seed}):",
        f"# {len(out.result['waves'])} waves of history matching, {out.result['runs']} runs; the",
        "# posterior medians of " + ", ".join(out.result["parameters"]) + ".",
        "# Targets: " + ", ".join(f"{k} {t.value:g} (sd {t.sd:g})" for k, t in targets) + ".",
        f"# Status {out.status}; the posterior and its check are in result.json beside this file.",
    ]
    return "\n".join(lines) + "\n" + yaml.safe_dump(nested, sort_keys=False)
