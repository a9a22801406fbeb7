"""Running arms an experiment adds as it goes (an optimisation's candidates, a calibration's
points) into the store, and reading their KPIs back.

An *arm* is anything with a validated ``scenario``, its ``hash`` (the store's key, with the
seed) and a ``label`` for messages. Replication ``r`` of every arm runs with the experiment's
seed and replication number ``r``: common random numbers. Runs finished in the store are read,
not run again, so a stopped experiment resumes where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from simcore.experiments.store import arm_key, is_finished, read_run, run_file, write_run
from simcore.experiments.sweep import CHUNK, run_chunk
from simcore.scenario.schema import Scenario


class Arm(Protocol):
    """What :class:`Runs` needs of an arm."""

    @property
    def scenario(self) -> Scenario: ...

    @property
    def hash(self) -> str: ...

    @property
    def label(self) -> dict[str, Any]: ...


class RunFailed(RuntimeError):
    """A simulation run failed: the optimisation stops (its traceback is in the store)."""


@dataclass
class Runs:
    """Runs candidates' replications on an executor into the store, and reads their KPIs back.

    Args:
        store: The store folder (locked by the caller).
        seed: The root seed of every run.
        executor: Where runs go.
        progress: Called with (runs finished, runs asked for) in each batch.
    """

    store: Path
    seed: int
    executor: Executor
    progress: Callable[[int, int], None] | None = None
    cache: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    done: int = 0
    reused: int = 0

    def ensure(self, cands: Sequence[Arm], reps: Sequence[int]) -> None:
        """Every arm in ``cands`` has replications ``reps`` (run now if not in the store)."""
        todo: list[tuple[Arm, list[int]]] = []
        for c in dict((c.hash, c) for c in cands).values():
            missing = []
            for r in reps:
                if (c.hash, r) in self.cache:
                    continue
                file = run_file(self.store, arm_key(c.hash, self.seed), r)
                if is_finished(file, c.hash, self.seed):
                    table = read_run(file)
                    kpi, value = table.column("kpi").to_pylist(), table.column("value").to_pylist()
                    self.cache[c.hash, r] = dict(zip(kpi, value, strict=True))
                    self.reused += 1
                else:
                    missing.append(r)
            if missing:
                todo.append((c, missing))
        total = sum(len(m) for _, m in todo)
        finished = 0
        futures: dict[Future, Arm] = {}
        for c, missing in todo:
            for i in range(0, len(missing), CHUNK):
                futures[self.executor.submit(run_chunk, c.scenario, self.seed, missing[i : i + CHUNK])] = c
        for f in as_completed(list(futures)):
            c = futures[f]
            for result in f.result():
                r = result["replication"]
                if "error" in result:
                    trace = self.store / "failures" / f"{arm_key(c.hash, self.seed)}-r{r:05d}.txt"
                    trace.parent.mkdir(exist_ok=True)
                    head = f"{c.label}, seed {self.seed}, replication {r}"
                    trace.write_text(f"{head}\n\n{result['trace']}", encoding="utf-8")
                    raise RunFailed(
                        f"a run failed ({c.label}, replication {r}): {result['error']}; traceback in {trace}"
                    )
                write_run(
                    run_file(self.store, arm_key(c.hash, self.seed), r),
                    replication=r,
                    seed=self.seed,
                    scenario_hash=c.hash,
                    kpis=result["kpis"],
                )
                self.cache[c.hash, r] = result["kpis"]
                self.done += 1
                finished += 1
                if self.progress is not None:
                    self.progress(finished, total)

    def values(self, c: Arm, reps: Sequence[int], names: Sequence[str]) -> np.ndarray:
        """KPIs ``names`` of arm ``c`` at replications ``reps``, shape (len(reps), len(names))
        (a KPI the run could not compute is NaN)."""
        self.ensure([c], reps)
        out = np.empty((len(reps), len(names)))
        for j, r in enumerate(reps):
            kpis = self.cache[c.hash, r]
            for k, name in enumerate(names):
                v = kpis.get(name)
                out[j, k] = np.nan if v is None else float(v)
        return out
