"""Twin experiments: targets the model makes itself at a known truth.

Before a calibration is pointed at a marketplace's data, a twin tells whether it can recover
what it should (Andrianakis et al. 2015, §3; in the spirit of simulation-based calibration,
Talts et al. 2018): run the model at chosen parameter values on seeds the calibration does not
use, take one run's KPIs as the observation and the runs' replication sd as its uncertainty,
calibrate, and see whether the posterior holds the truth.
"""

from __future__ import annotations

from concurrent.futures import Executor
from pathlib import Path

import numpy as np

from simcore.experiments.arms import Runs
from simcore.experiments.calibfile import Calibration, Target
from simcore.experiments.executors import InlineExecutor


def twin_targets(
    cal: Calibration,
    truth: dict[str, float],
    seed: int,
    store: str | Path,
    replications: int = 8,
    executor: Executor | None = None,
) -> dict[str, Target]:
    """The targets of ``cal`` as the model makes them at ``truth`` (a value for each of its
    parameters): replication 0 on ``seed`` is the observation; the sd of replications 1 to
    ``replications`` on that seed is each target's sd (the observation is one realisation, and
    that is how far one realisation strays). Runs are kept in ``store`` (a folder, made if
    needed) and read back, not run again.

    Raises:
        ValueError: ``truth`` does not name exactly ``cal``'s parameters, lies outside a prior,
            ``seed`` is the calibration's own, or a target's value or sd is not a number > 0.
        RunFailed: a run failed (its traceback is in ``store/failures``).
    """
    keys = list(cal.spec.parameters)
    if sorted(truth) != sorted(keys):
        raise ValueError(f"the truth names {sorted(truth)}, the calibration's parameters are {sorted(keys)}")
    outside = {
        k: v for k, v in truth.items() if not cal.spec.parameters[k].low <= v <= cal.spec.parameters[k].high
    }
    if outside:
        raise ValueError(f"the truth lies outside the prior at {outside}")
    if seed == cal.spec.seed:
        raise ValueError(f"seed {seed} is the calibration's own: a twin's observation needs other seeds")
    if replications < 2:
        raise ValueError(f"replications must be >= 2 for an sd (got {replications})")
    unit = np.array([float(cal.spec.parameters[k].unit(np.array(truth[k]))) for k in keys])
    point = cal.point(np.clip(unit, 0.0, 1.0))
    store = Path(store)
    (store / "runs").mkdir(parents=True, exist_ok=True)
    runs = Runs(store, seed, executor or InlineExecutor())
    y = runs.values(point, list(range(replications + 1)), cal.names)
    targets = {}
    for j, name in enumerate(cal.names):
        value, sd = float(y[0, j]), float(np.std(y[1:, j], ddof=1))
        if not (np.isfinite(value) and np.isfinite(sd) and sd > 0.0):
            raise ValueError(
                f"{name}: the twin's value {value!r} with sd {sd!r}: a target needs both, sd > 0"
            )
        targets[name] = Target(value=value, sd=sd)
    return targets
