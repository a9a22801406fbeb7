"""The posterior over history matching's last region: a quadratic emulator of each target's
mean, fitted to the runs inside the region, and importance weights on a dense sample of it.

Why an emulator: the last wave alone gives a few dozen settings, each mean noisy by its few
replications, so importance weights on them pile onto a handful of settings (an effective sample
of 3-5 in a 2-parameter twin) and the 90% interval jumps between them. Inside the last region,
small by then, each target's mean is smooth in the parameters: a full quadratic in them (a
second-order response surface, Box & Draper 2007, the regression part of Vernon et al. 2010's
emulators), fitted by least squares to every replication of every setting in the region, from
every wave, averages the runs' noise out. numpy's least squares is all it takes; a
Gaussian process (scikit-learn) would follow a rougher surface, which a region this small does
not have, at the cost of a dependency and kernel choices.

The emulator's uncertainty enters each draw's likelihood: the variance of the fitted mean at it,
the replications' common noise (common random numbers: replication ``r`` of every setting shares
its streams, so the surface as a whole is as uncertain as a mean of ``R`` runs), and its lack of
fit, the residual variance beyond the runs' own (pooled over settings; under common random numbers
the residuals miss the replications' shared part, so this catches a gross misfit only). Without
enough settings for the fit (twice its terms), the posterior falls back to the runs themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import qmc

#: Draws of the dense sample over the last region.
DRAWS = 4000
#: The runs' variance at a draw is at least this share of their pooled variance (a plane fitted
#: through noisy sample variances can dip towards zero at an edge of the region).
FLOOR = 0.25


@dataclass(frozen=True)
class Emulator:
    """Each target's mean as a quadratic in the region's coordinates ``(u - lo) / (hi - lo)``.

    Attributes:
        lo, hi: The region (the prior's [0, 1] coordinates), shape (d,).
        coef: Shape (terms, targets).
        gram_inv: ``(X'X)^-1`` of the fit, shape (terms, terms).
        residual_var: The fit's residual variance per target (runs' noise + lack of fit).
        noise_var: The runs' own variance per target, pooled over settings.
        noise_coef: That variance as a linear function of the coordinates, shape (d + 1, targets).
        settings: Settings the fit used.
        replications: Runs per setting.
    """

    lo: np.ndarray
    hi: np.ndarray
    coef: np.ndarray
    gram_inv: np.ndarray
    residual_var: np.ndarray
    noise_var: np.ndarray
    noise_coef: np.ndarray
    settings: int
    replications: int

    def predict(self, unit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The emulated mean at ``unit`` (n, d) and its variance (n, targets).

        Three parts: the fitted mean's variance from the fit (``h`` times the residual
        variance); the replications' common noise, the runs' variance there over ``R``:
        replication ``r`` of every setting shares its random numbers, so their noise does not
        average out over settings and the whole surface is as uncertain as a mean of ``R`` runs
        (bounded by the runs' own variance, which holds it); and the lack of fit, the residual
        variance beyond the runs'.
        """
        v = (unit - self.lo) / (self.hi - self.lo)
        x = _features(v)
        h = np.einsum("ij,jk,ik->i", x, self.gram_inv, x)
        # The runs' variance where they are (a rate's variance grows with the rate), floored.
        local = np.column_stack([np.ones(len(v)), v]) @ self.noise_coef
        local = np.maximum(local, FLOOR * self.noise_var[None, :])
        lack = np.maximum(self.residual_var - self.noise_var, 0.0)
        var = h[:, None] * self.residual_var + local / self.replications + lack
        return x @ self.coef, var

    def summary(self, names: list[str]) -> dict[str, dict[str, float]]:
        """Per target: the residual sd and the runs' own sd (close when the quadratic fits)."""
        return {
            n: {
                "residual_sd": float(np.sqrt(self.residual_var[j])),
                "runs_sd": float(np.sqrt(self.noise_var[j])),
            }
            for j, n in enumerate(names)
        }


def _features(v: np.ndarray) -> np.ndarray:
    """1, each coordinate, and each product of two (squares included): shape (n, terms)."""
    n, d = v.shape
    cols = [np.ones(n)] + [v[:, i] for i in range(d)]
    cols += [v[:, i] * v[:, j] for i in range(d) for j in range(i, d)]
    return np.column_stack(cols)


def fit(unit: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> Emulator | None:
    """Fit the emulator to settings ``unit`` (n, d) inside ``lo``-``hi`` with KPIs ``y``
    (n, replications, targets); None with too few settings (fewer than twice the terms) or a
    degenerate region. Settings with a KPI a run could not compute are left out."""
    ok = np.isfinite(y).all(axis=(1, 2))
    unit, y = unit[ok], y[ok]
    n, reps, targets = y.shape
    d = unit.shape[1]
    terms = 1 + d + d * (d + 1) // 2
    if n < 2 * terms or not np.all(hi > lo):
        return None
    x = np.repeat(_features((unit - lo) / (hi - lo)), reps, axis=0)
    flat = y.reshape(n * reps, targets)
    coef, *_ = np.linalg.lstsq(x, flat, rcond=None)
    residual_var = ((flat - x @ coef) ** 2).sum(axis=0) / (n * reps - terms)
    each = y.var(axis=1, ddof=1)
    noise_var = each.mean(axis=0)
    # The runs' variance varies over the region (heteroscedastic): a plane through each
    # setting's sample variance (Andrianakis et al. 2017 emulate it too), so that the noise at a
    # draw is the noise near it, not the region's average.
    linear = np.column_stack([np.ones(n), (unit - lo) / (hi - lo)])
    noise_coef, *_ = np.linalg.lstsq(linear, each, rcond=None)
    return Emulator(lo, hi, coef, np.linalg.pinv(x.T @ x), residual_var, noise_var, noise_coef, n, reps)


def draws(lo: np.ndarray, hi: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``DRAWS`` settings uniform over the region (a Latin hypercube), shape (DRAWS, d)."""
    return lo + qmc.LatinHypercube(d=len(lo), seed=rng).random(DRAWS) * (hi - lo)


def log_likelihood(
    z: np.ndarray, var: np.ndarray, mean: np.ndarray, extra: np.ndarray | float = 0.0
) -> np.ndarray:
    """The Gaussian log-likelihood of targets ``z`` (targets,) at means ``mean`` (n, targets)
    with variances ``var`` + ``extra`` (up to a constant; -inf where a mean is NaN)."""
    total = var + extra
    out = -0.5 * ((z - mean) ** 2 / total + np.log(total)).sum(axis=1)
    return np.where(np.isnan(out), -np.inf, out)


def normalised(logw: np.ndarray) -> np.ndarray:
    """Weights summing to 1 from log-weights (all zero if none is finite)."""
    if not np.isfinite(logw).any():
        return np.zeros(len(logw))
    w = np.exp(logw - logw.max())
    return w / w.sum()
