"""Optimisation: the cheapest (or best) mix of levers that meets KPI constraints, with a stated
guarantee, on a noisy simulator.

Two phases, both on common random numbers (replication ``r`` of every candidate runs with the
file's seed and replication number ``r``, so candidates are compared on the same arrivals):

1. **Search** proposes candidates (:mod:`simcore.experiments.optfile`: a grid, a Latin
   hypercube, or Optuna's TPE through ask/tell) and runs each ``search.replications`` times
   (replications ``0 .. s - 1``). Its means only screen: a candidate is *promising* unless some
   constraint's search mean misses the bound by more than its tolerance plus two standard errors.
   Search means are biased towards whatever looked good (the winner's curse), so nothing is
   decided on them.
2. **Clean-up** runs the promising candidates on fresh replications (numbered from ``s``), and
   decides with the fully sequential procedures of :mod:`simcore.experiments.selection`:
   feasibility by Andradóttir & Kim's check, constraint by constraint, and, for a KPI objective,
   the best feasible candidate by Kim & Nelson's procedure on paired differences. Of the error
   ``alpha = 1 - confidence``, the feasibility decisions share ``alpha`` (cost objective) or
   ``alpha / 2`` (KPI objective), split evenly over candidates and constraints (Bonferroni), and
   the selection gets the other half. For the **cost** objective (a known number, no noise),
   candidates are checked cheapest first and the first declared feasible wins if every cheaper
   one was declared infeasible.

The answer: ``optimal`` with the chosen candidate; ``no_feasible`` when every candidate was
declared infeasible; ``not_separable`` when the replications allowed ran out before a decision
that matters (a cheaper candidate's feasibility, or two feasible candidates' order), with the
candidates it could not tell apart in ``tied``. Every run is a run file in the store (the sweep
store's layout, keyed by arm and replication), so a stopped optimisation resumes where it was,
and the answer is the same whatever the workers or executor.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from simcore.experiments.arms import Runs
from simcore.experiments.executors import InlineExecutor
from simcore.experiments.files import claim_store
from simcore.experiments.optfile import COST, Candidate, Optimization
from simcore.experiments.selection import (
    FEASIBLE,
    UNDECIDED,
    Constraint,
    check_feasibility,
    select_best,
)
from simcore.experiments.store import arm_key, store_lock
from simcore.paths import write_atomic
from simcore.version import __version__

OPTIMAL, NO_FEASIBLE, NOT_SEPARABLE = "optimal", "no_feasible", "not_separable"
#: A search mean this many standard errors past a bound (plus the tolerance) rules a candidate
#: out of the clean-up.
SCREEN_SE = 2.0


#: Replications added to the candidates still open between checks, unless the file says.
DEFAULT_BATCH = 4


@dataclass
class Outcome:
    """An optimisation's answer and the record behind it (what ``result.json`` holds)."""

    status: str
    best: dict[str, Any] | None
    tied: list[dict[str, Any]]
    runs: int
    candidates: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    #: Replications 0 .. this - 1 are the search's; the clean-up's follow.
    search_replications: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "best": self.best,
            "tied": self.tied,
            "runs": self.runs,
            "candidates": self.candidates,
            "rounds": self.rounds,
            "search_replications": self.search_replications,
            "simcore_version": __version__,
        }


def optimize(
    opt: Optimization,
    store: str | Path,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """Run ``opt`` into ``store`` and write ``store/result.json``.

    Raises:
        StoreError: another experiment holds the store, or it holds another optimisation.
        RunFailed: a simulation run failed (its traceback is in ``store/failures``).
    """
    store = Path(store)
    with store_lock(store):
        (store / "runs").mkdir(exist_ok=True)
        resolved = {**opt.spec.model_dump(mode="json", exclude_none=True), "base": str(opt.base)}
        claim_store(store, "optimization.yaml", resolved, opt.path, "optimisation")
        runs = Runs(store, opt.spec.seed, executor or InlineExecutor(), progress)
        outcome = _optimize(opt, runs)
        write_atomic(store / "result.json", json.dumps(outcome.as_json(), indent=2).encode("utf-8"))
        return outcome


def _optimize(opt: Optimization, runs: Runs) -> Outcome:
    sel = opt.spec.selection
    s_reps = opt.spec.search.replications or sel.replications.first
    names = _names(opt)
    candidates = _search(opt, runs, s_reps, names)
    records = {c.hash: _record(c, opt.spec.seed) for c in candidates}
    promising = []
    for c in candidates:
        y = runs.values(c, list(range(s_reps)), names)
        records[c.hash]["search_mean"] = _means(names, y)
        if _promising(opt, y, names):
            records[c.hash]["status"] = "not checked"  # until the clean-up decides, if it needs to
            promising.append(c)
    cleanup = _Cleanup(opt, runs, promising, records, names, fresh=s_reps)
    if not promising:
        return cleanup.outcome(NO_FEASIBLE)
    return cleanup.cheapest() if opt.objective_kpi is None else cleanup.best_by_kpi()


class _Cleanup:
    """The clean-up of the promising candidates on fresh replications (numbered from
    ``fresh``), recording each decision in ``records`` and each round in ``rounds``."""

    def __init__(
        self,
        opt: Optimization,
        runs: Runs,
        promising: list[Candidate],
        records: dict[str, dict[str, Any]],
        names: list[str],
        fresh: int,
    ):
        sel = opt.spec.selection
        self.opt, self.runs, self.promising, self.records = opt, runs, promising, records
        self.names, self.fresh = names, fresh
        self.n0, self.n_max = sel.replications.first, sel.replications.max
        # Not the workers' count: the checks' stages, and so the answer, must not depend on them.
        self.batch = sel.batch or DEFAULT_BATCH
        self.cons = _constraints(opt, names)
        self.alpha = 1.0 - sel.confidence
        self.rounds: list[dict[str, Any]] = []

    def data(self, ids: Sequence[int], n: int) -> dict[int, np.ndarray]:
        """The first ``n`` clean-up replications of the promising candidates ``ids``."""
        reps = list(range(self.fresh, self.fresh + n))
        self.runs.ensure([self.promising[i] for i in ids], reps)
        return {i: self.runs.values(self.promising[i], reps, self.names) for i in ids}

    def outcome(self, status: str, best: Candidate | None = None, tied: Sequence[int] = ()) -> Outcome:
        result = None if best is None else _best(self.runs, best, self.cons, self.fresh, self.names, self.opt)
        return Outcome(
            status,
            result,
            [_brief(self.promising[i]) for i in tied],
            self.runs.done + self.runs.reused,
            list(self.records.values()),
            self.rounds,
            self.fresh,
        )

    def _feasibility(self, ids: Sequence[int], beta: float):
        dec = check_feasibility(ids, self.data, self.cons, beta, self.n0, self.n_max, self.batch)
        for i, status in dec.status.items():
            r = self.records[self.promising[i].hash]
            r["status"], r["replications"] = status, dec.replications[i]
        return dec

    def cheapest(self) -> Outcome:
        """The cost objective: feasibility cheapest first; the first declared feasible wins when
        every cheaper candidate was declared infeasible (or costs within the cost's tolerance:
        then it is tied with them)."""
        promising = self.promising
        order = sorted(range(len(promising)), key=lambda i: (promising[i].cost, i))
        beta = self.alpha / (len(promising) * max(1, len(self.cons)))
        undecided: list[int] = []
        tol = self.opt.tolerance(COST)
        for i in order:
            dec = self._feasibility([i], beta)
            c = promising[i]
            self.rounds.append(
                {
                    "phase": "feasibility",
                    "levers": c.levers,
                    "cost": c.cost,
                    "status": dec.status[i],
                    "replications": dec.replications[i],
                }
            )
            if dec.status[i] == UNDECIDED:
                undecided.append(i)
            elif dec.status[i] == FEASIBLE:
                if any(c.cost - promising[j].cost > tol for j in undecided):
                    return self.outcome(NOT_SEPARABLE, tied=[*undecided, i])
                return self.outcome(OPTIMAL, c, tied=undecided)
        return self.outcome(NOT_SEPARABLE if undecided else NO_FEASIBLE, tied=undecided)

    def best_by_kpi(self) -> Outcome:
        """A KPI objective: feasibility of every promising candidate (error alpha / 2, split),
        then Kim & Nelson's selection among the feasible (alpha / 2)."""
        opt, promising = self.opt, self.promising
        ids = range(len(promising))
        beta = self.alpha / 2.0 / (len(promising) * max(1, len(self.cons)))
        dec = self._feasibility(ids, beta)
        self.rounds.append({"phase": "feasibility", "checked": len(promising), "beta": beta})
        feasible = [i for i in ids if dec.status[i] == FEASIBLE]
        undecided = [i for i in ids if dec.status[i] == UNDECIDED]
        if not feasible:
            return self.outcome(NOT_SEPARABLE if undecided else NO_FEASIBLE, tied=undecided)
        kpi = opt.objective_kpi
        assert kpi is not None
        delta = opt.tolerance(kpi) or 1e-12
        pick = select_best(
            feasible,
            self.data,
            self.names.index(kpi),
            opt.minimise,
            self.alpha / 2.0,
            delta,
            self.n0,
            self.n_max,
            self.batch,
        )
        for n, gone in pick.eliminated_at:
            self.rounds.append(
                {"phase": "selection", "replications": n, "eliminated": [promising[i].levers for i in gone]}
            )
        if len(pick.survivors) == 1:
            return self.outcome(OPTIMAL, promising[pick.survivors[0]])
        return self.outcome(NOT_SEPARABLE, tied=pick.survivors)


def _names(opt: Optimization) -> list[str]:
    """The KPIs read from each run: the constraints', then the objective's."""
    names = list(opt.spec.constraints)
    if opt.objective_kpi is not None and opt.objective_kpi not in names:
        names.append(opt.objective_kpi)
    return names


def _constraints(opt: Optimization, names: list[str]) -> list[Constraint]:
    out = []
    for name, bound in opt.spec.constraints.items():
        upper = bound.max is not None
        value = bound.max if upper else bound.min
        assert value is not None
        out.append(Constraint(names.index(name), value, upper, opt.tolerance(name), name))
    return out


def _promising(opt: Optimization, y: np.ndarray, names: list[str]) -> bool:
    """Whether the search's replications ``y`` leave the candidate in: no constraint's mean is
    past its bound by more than the tolerance plus SCREEN_SE standard errors (with one
    replication, no standard error: the tolerance alone)."""
    n = len(y)
    for name, bound in opt.spec.constraints.items():
        col = y[:, names.index(name)]
        if np.isnan(col).any():
            continue  # undefined in a run: the clean-up decides
        mean = float(col.mean())
        se = float(col.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
        slack = opt.tolerance(name) + SCREEN_SE * se
        if bound.max is not None and mean > bound.max + slack:
            return False
        if bound.min is not None and mean < bound.min - slack:
            return False
    return True


def _search(opt: Optimization, runs: Runs, s_reps: int, names: list[str]) -> list[Candidate]:
    """The search's candidates, each run ``s_reps`` times."""
    reps = list(range(s_reps))
    if opt.spec.search.method != "tpe":
        runs.ensure(opt.candidates, reps)
        return list(opt.candidates)
    return _tpe(opt, runs, reps, names)


def _tpe(opt: Optimization, runs: Runs, reps: list[int], names: list[str]) -> list[Candidate]:
    """Optuna's TPE through ask/tell: each trial's value is the objective (the cost, or the
    KPI's mean) plus a penalty for each constraint's mean past its bound, scaled by the bound."""
    import optuna  # present: read_optimization refuses tpe without it

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=opt.spec.seed % 2**32)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    seen: dict[str, Candidate] = {}
    for _ in range(opt.spec.search.budget):
        trial = study.ask()
        levers = {}
        for key, lv in opt.spec.levers.items():
            if lv.values is not None:
                idx = trial.suggest_categorical(key, list(range(len(lv.values))))
                levers[key] = lv.values[idx]
            elif lv.integer:
                levers[key] = trial.suggest_int(key, int(lv.low), int(lv.high))  # type: ignore[arg-type]
            else:
                levers[key] = trial.suggest_float(key, lv.low, lv.high)  # type: ignore[arg-type]
        c = opt.candidate(levers)
        seen.setdefault(c.hash, c)
        y = runs.values(c, reps, names).mean(axis=0)
        study.tell(trial, _penalised(opt, c, y, names))
    return list(seen.values())


def _penalised(opt: Optimization, c: Candidate, y: np.ndarray, names: list[str]) -> float:
    kpi = opt.objective_kpi
    value = c.cost if kpi is None else float(y[names.index(kpi)]) * (1.0 if opt.minimise else -1.0)
    scale = max(abs(value), 1.0)
    for name, bound in opt.spec.constraints.items():
        v = float(y[names.index(name)])
        if math.isnan(v):
            continue
        b = bound.max if bound.max is not None else bound.min
        assert b is not None
        miss = (v - b) if bound.max is not None else (b - v)
        if miss > 0:
            value += 10.0 * scale * (1.0 + miss / max(abs(b), 1e-12))
    return value


def _record(c: Candidate, seed: int) -> dict[str, Any]:
    """A candidate's line in ``result.json``: its levers, cost, arm (its run files' key) and, as
    the optimisation goes, its search means and its clean-up's decision."""
    return {"levers": c.levers, "cost": c.cost, "arm": arm_key(c.hash, seed), "status": "screened out"}


def _brief(c: Candidate) -> dict[str, Any]:
    return {"levers": c.levers, "cost": c.cost}


def _means(names: list[str], y: np.ndarray) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for k, name in enumerate(names):
        col = y[:, k]
        out[name] = None if np.isnan(col).any() else float(col.mean())
    return out


def _best(
    runs: Runs, c: Candidate, cons: list[Constraint], fresh: int, names: list[str], opt: Optimization
) -> dict[str, Any]:
    """The chosen candidate's record: its KPIs over its clean-up replications (mean and a
    two-sided t interval at ``confidence``), and per constraint the probability that the mean
    meets the bound (a t distribution around the sample mean)."""
    confidence = opt.spec.selection.confidence
    n = sum(1 for h, r in runs.cache if h == c.hash and r >= fresh)  # its clean-up replications
    reps = list(range(fresh, fresh + n))
    y = runs.values(c, reps, names)
    kpis = {}
    for k, name in enumerate(names):
        col = y[:, k]
        mean = float(np.mean(col))
        se = float(np.std(col, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
        half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1) * se) if n > 1 else math.nan
        kpis[name] = {"mean": mean, "ci_low": mean - half, "ci_high": mean + half}
    p_feasible = {}
    for con in cons:
        col = y[:, con.output]
        mean, sd = float(np.mean(col)), float(np.std(col, ddof=1))
        if n < 2 or sd == 0.0:
            met = mean <= con.bound if con.upper else mean >= con.bound
            p_feasible[con.name] = 1.0 if met else 0.0
            continue
        z = (con.bound - mean) / (sd / math.sqrt(n))
        p = float(stats.t.cdf(z, n - 1))
        p_feasible[con.name] = p if con.upper else 1.0 - p
    return {
        "levers": c.levers,
        "cost": c.cost,
        "kpis": kpis,
        "p_feasible": p_feasible,
        "replications": n,
    }
