"""Calibration: from observed KPIs to the set of parameter settings that reproduce them.

**History matching in waves** (Andrianakis et al. 2015; McCulloch et al. 2022). A wave runs
``runs_per_wave`` settings, a Latin hypercube over its region of the prior (the whole prior
first), each ``replications`` times on common random numbers. For target ``j`` with observed
value ``z_j`` and sd ``s_j``, a setting's implausibility is

    I_j = |z_j - m_j| / sqrt(s_j^2 + V_j / R + d_j^2),

``m_j`` the mean of its ``R`` replications and ``V_j`` their sample variance, so ``V_j / R`` is
the variance of the simulated mean; ``d_j`` is the model discrepancy (``method.discrepancy``).
``s_j`` is the observed value's standard error as an estimate of what the market produces on
average over the window: it holds the market's own run-to-run randomness (for a twin made by the
model, the replication sd; for an orders table, a bootstrap by days). A setting whose largest
``I_j`` (``rule: max``; ``second_max``: the second largest, forgiving one target) exceeds
``cutoff`` (3: Pukelsheim's three-sigma rule, any unimodal distribution) is ruled out.

After each wave, the region not ruled out (NROY) is screened by an emulator
(:mod:`simcore.experiments.posterior`: a quadratic in the parameters per target, fitted to every
run inside the wave's box, from every wave): ``CANDIDATES`` settings over the box, each with its
emulated implausibility, the emulator's variance beside the target's (:func:`_region`).
``nroy_share`` is the box's volume times the share of candidates kept (at most the wave
before's); the next box bounds them, and the next wave's settings are spread over them, so a
wave fills the region not ruled out, not its box. Where the emulator cannot be fitted (fewer
settings than twice its terms) the runs screen alone: the next box is around the settings not
ruled out (:func:`_next_box`) and sampled whole.

**Then a posterior** over the last wave's box: 4,000 draws over it, weighted by the Gaussian
likelihood ``exp(-1/2 sum_j (z_j - f_j)^2 / (s_j^2 + d_j^2 + e_j))``, ``f_j`` the emulated mean
and ``e_j`` its variance (the prior is uniform over the box, so the weight is the likelihood
alone). The box holds the posterior's mass: it bounds the settings the emulator did not rule
out at three sigma. The predictive check weighs the runs inside the box by the same likelihood
at their settings: what runs give, their own noise included. Without an emulator, importance
weights on the runs themselves (ABC with a Gaussian kernel of ``s_j^2 + d_j^2``: sampling
``m_ij`` already spreads the effective likelihood by ``V / R``, Wilkinson 2013).

Reproducible: the hypercubes and candidates are drawn from the file's seed, the runs are keyed by setting and
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

from simcore.experiments import posterior as posterior_mod
from simcore.experiments.arms import Runs
from simcore.experiments.calibfile import Calibration
from simcore.experiments.executors import InlineExecutor
from simcore.experiments.files import claim_store
from simcore.experiments.store import arm_key, store_lock
from simcore.paths import write_atomic
from simcore.version import __version__

MATCHED, NO_MATCH = "matched", "no_match"
#: The next wave's box is the NROY settings' bounding box widened by this share of its width,
#: or by the wave's sample spacing if more.
MARGIN = 0.1
#: Candidate settings the emulator screens after each wave.
CANDIDATES = 20_000


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
    z, var = _targets(cal)
    reps = list(range(m.replications))
    lo, hi = np.zeros(d), np.ones(d)
    rng = np.random.default_rng(cal.spec.seed)
    points: list[dict[str, Any]] = []
    waves: list[dict[str, Any]] = []
    # Every wave's settings: the posterior uses all those inside the last box.
    seen_unit: list[np.ndarray] = []
    seen_y: list[np.ndarray] = []
    status = MATCHED
    design: np.ndarray | None = None  # the next wave's settings, chosen by the emulator
    for w in range(m.waves):
        if design is None:
            design = lo + qmc.LatinHypercube(d=d, seed=rng).random(m.runs_per_wave) * (hi - lo)
        unit, design = design, None
        settings = [cal.point(u) for u in unit]
        runs.ensure(settings, reps)
        y = np.stack([runs.values(p, reps, names) for p in settings])  # (points, reps, targets)
        mean = y.mean(axis=1)
        # The mean of R replications is uncertain by the runs' variance over R: a setting is
        # not ruled out on the noise of its own few runs.
        noise = y.var(axis=1, ddof=1) / len(reps)
        impl = np.abs(z - mean) / np.sqrt(var + noise)
        impl = np.where(np.isnan(impl), np.inf, impl)  # a KPI a run could not compute rules it out
        combined = _combine(impl, m.rule)
        nroy = combined <= m.cutoff
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
        seen_unit.append(unit)
        seen_y.append(y)
        region = _region(
            cal, np.concatenate(seen_unit), np.concatenate(seen_y), lo, hi, unit[nroy], len(unit), rng
        )
        # Never more than the wave before's: a wave samples inside what the one before left.
        share = region.share if not waves else min(region.share, waves[-1]["nroy_share"])
        waves.append(
            {
                "wave": w + 1,
                "runs": len(settings) * len(reps),
                "nroy": int(nroy.sum()),
                "nroy_share": share,
                "box": {k: [_value(cal, k, lo[i]), _value(cal, k, hi[i])] for i, k in enumerate(keys)},
                "screened_by": region.by,
            }
        )
        if not nroy.any():
            status = NO_MATCH
            break
        if w + 1 < m.waves:
            lo, hi, design = region.lo, region.hi, region.design
    # The last region's box is the last wave's (lo, hi are not moved after it), so its emulator,
    # fitted to the same runs, is the posterior's.
    posterior, predictive, correlation, fitted = _posterior(
        cal, np.concatenate(seen_unit), np.concatenate(seen_y), lo, hi, region.emulator, rng
    )
    result = {
        "status": status,
        "correlation": correlation,
        "parameters": {k: _summary(posterior[k], posterior["weight"]) for k in keys},
        "posterior": fitted,
        "nroy_share": [w["nroy_share"] for w in waves],
        "waves": waves,
        "runs": runs.done + runs.reused,
        "effective_sample_size": _ess(posterior["weight"]),
        "predictive": predictive,
        "simcore_version": __version__,
    }
    rows = [{k: float(col[i]) for k, col in posterior.items()} for i in range(len(posterior["weight"]))]
    return CalibrationOutcome(status, result, points, rows)


@dataclass
class _Region:
    """What a wave leaves not ruled out: its share of the prior, the box around it, the next
    wave's settings inside it (None: a Latin hypercube over the box), what screened it, and the
    emulator fitted to the runs in the wave's box (None: too few)."""

    share: float
    lo: np.ndarray
    hi: np.ndarray
    design: np.ndarray | None
    by: str
    emulator: posterior_mod.Emulator | None


def _region(
    cal: Calibration,
    unit: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    nroy_runs: np.ndarray,
    wave_size: int,
    rng: np.random.Generator,
) -> _Region:
    """The region a wave leaves, screened by the emulator fitted to every run inside the wave's
    box (``unit``: every setting run so far, ``y`` their KPIs), or by the runs themselves
    (``nroy_runs``: the wave's settings not ruled out, of ``wave_size``) when it cannot be fitted.

    Screening: ``CANDIDATES`` settings over the box, a candidate ruled out when its emulated
    implausibility (the emulator's variance beside the target's, the discrepancy's and the
    runs', :meth:`Emulator.predict`) passes the cutoff. The share is the box's volume times the
    share of candidates kept; the next box bounds them, widened by the candidates' spacing; the
    next wave's settings are spread over the kept candidates, so they fill the region not ruled
    out rather than its box.
    """
    m = cal.spec.method
    inside = _inside(unit, lo, hi)
    emulator = posterior_mod.fit(unit[inside], y[inside], lo, hi)
    volume = float(np.prod(hi - lo))
    if emulator is not None:
        z, var = _targets(cal)
        candidates = lo + qmc.LatinHypercube(d=len(lo), seed=rng).random(CANDIDATES) * (hi - lo)
        f, f_var = emulator.predict(candidates)
        impl = np.abs(z - f) / np.sqrt(var + f_var)
        kept = candidates[_combine(np.where(np.isnan(impl), np.inf, impl), m.rule) <= m.cutoff]
        if len(kept) >= m.runs_per_wave:
            pad = (hi - lo) / CANDIDATES ** (1.0 / len(lo))
            step = len(kept) / m.runs_per_wave
            design = kept[(np.arange(m.runs_per_wave) * step).astype(int)]
            new_lo, new_hi = np.maximum(kept.min(axis=0) - pad, lo), np.minimum(kept.max(axis=0) + pad, hi)
            return _Region(volume * len(kept) / CANDIDATES, new_lo, new_hi, design, "emulator", emulator)
    # Too few runs to fit, or too few candidates kept to fill a wave: the box around the runs
    # not ruled out, sampled whole.
    new_lo, new_hi = _next_box(nroy_runs, lo, hi, wave_size)
    return _Region(volume * len(nroy_runs) / wave_size, new_lo, new_hi, None, "runs", emulator)


def _targets(cal: Calibration) -> tuple[np.ndarray, np.ndarray]:
    """The targets' values, and what separates each from the model's mean: its variance plus
    the discrepancy's (see the module's docstring)."""
    names, disc = cal.names, cal.spec.method.discrepancy
    z = np.array([cal.spec.targets[n].value for n in names])
    var = np.array([cal.spec.targets[n].sd ** 2 + disc.get(n, 0.0) ** 2 for n in names])
    return z, var


def _inside(unit: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Which settings ``unit`` lie in the box ``lo``-``hi`` (to rounding)."""
    return np.all((unit >= lo - 1e-12) & (unit <= hi + 1e-12), axis=1)


def _combine(impl: np.ndarray, rule: str) -> np.ndarray:
    """Each setting's implausibility over targets: the largest, or the second largest."""
    ordered = np.sort(impl, axis=1)[:, ::-1]
    return ordered[:, 0] if rule == "max" or impl.shape[1] < 2 else ordered[:, 1]


def _posterior(
    cal: Calibration,
    unit: np.ndarray,
    y: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    emulator: posterior_mod.Emulator | None,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The posterior over the box ``lo``-``hi`` from every setting run (``unit``, KPIs ``y``:
    settings x replications x targets) and the ``emulator`` fitted to those inside it: its
    draws (per parameter, and ``weight``), the predictive check, the correlations, and how it
    was made."""
    names, keys = cal.names, list(cal.spec.parameters)
    z, var = _targets(cal)
    inside = _inside(unit, lo, hi)
    unit, y = unit[inside], y[inside]
    mean = y.mean(axis=1)
    if emulator is not None:
        at = posterior_mod.draws(lo, hi, rng)
        f, f_var = emulator.predict(at)
        weight = posterior_mod.normalised(posterior_mod.log_likelihood(z, var, f, f_var))
        # The runs inside the box, weighted by the emulator's likelihood at their settings: the
        # predictive check shows what runs give, their own noise included.
        g, g_var = emulator.predict(unit)
        run_weight = posterior_mod.normalised(posterior_mod.log_likelihood(z, var, g, g_var))
        fitted = {
            "method": "emulator",
            "settings": emulator.settings,
            "draws": len(at),
            "emulator": emulator.summary(names),
        }
    else:
        # Too few settings for the emulator: importance weights on the runs themselves (ABC
        # with a Gaussian kernel; the runs' noise is in their means already). Exact when the
        # runs are uniform over the box (waves sampled whole); where an earlier emulator spread
        # a wave over its region instead, the region's settings count more than their share.
        at = unit
        weight = run_weight = posterior_mod.normalised(posterior_mod.log_likelihood(z, var, mean))
        fitted = {"method": "runs", "settings": int(len(unit)), "draws": int(len(unit))}
    draws = {k: np.array([_value(cal, k, u) for u in at[:, i]]) for i, k in enumerate(keys)}
    predictive: dict[str, Any] = {}
    for j, n in enumerate(names):
        pred: dict[str, Any] = {**_summary(mean[:, j], run_weight), "target": float(z[j])}
        pred["target_sd"] = float(cal.spec.targets[n].sd)
        pred["covered"] = bool(pred["q05"] <= pred["target"] <= pred["q95"])
        predictive[n] = pred
    # Parameters that trade off against each other show it here (and in the pairs plot) rather
    # than as two sharp, independent answers.
    correlation: dict[str, dict[str, float | None]] = {}
    if weight.sum() > 0 and len(keys) > 1:
        values = np.column_stack([draws[k] for k in keys])
        centred = values - weight @ values
        cov = (centred * weight[:, None]).T @ centred
        sd = np.sqrt(np.diag(cov))
        for i, a in enumerate(keys):
            correlation[a] = {
                b: (float(cov[i, j] / (sd[i] * sd[j])) if sd[i] > 0 and sd[j] > 0 else None)
                for j, b in enumerate(keys)
            }
    return {**draws, "weight": weight}, predictive, correlation, fitted


def _ess(weight: np.ndarray) -> float:
    """Kish's effective sample size of normalised weights (0 if none)."""
    return float(1.0 / np.sum(weight**2)) if weight.sum() > 0 else 0.0


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
