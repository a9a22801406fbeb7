"""Sweep execution: what the executor costs per run, and what a second worker gains.

The same runs (one design cell, two strategies, the baseline shortened to ~1 s a run) are timed
bare, as ``simcore.experiments.runner.run`` calls in a loop in this process, and through ``run_sweep`` into a
fresh store with each executor: inline, a process pool of 1 and of 2 workers, a Dask
LocalCluster of 1 and of 2 workers. The same is done with 1-day runs (~0.06 s each), where the
executor's own cost per run is large enough to read in milliseconds.

    python benchmarks/bench_sweep.py                         # 16 runs of 40 days, 32 of 1 day
    python benchmarks/bench_sweep.py --runs 24 --horizon-days 60
    python benchmarks/bench_sweep.py --rounds 1 --configs inline pool2   # a quick look

Only the ``run_sweep`` call is timed. Starting the executor (pool or cluster up), warming it
(every worker imports simcore and makes one 1-day run, holding on 0.3 s so the next goes to
another worker) and shutting it down are timed apart.

The speed of this machine drifts by tens of per cent over minutes even when it is idle (it is a
virtual machine), more than the overhead measured. So every sweep is timed next to a bare loop
of the same runs (alternately before and after it), the pair's ratio is what counts, and the
whole is done ``--rounds`` times; tables give the median over rounds and the range. Overhead is
the worker time lost against the bare loop, ``workers * wall / bare - 1``. A 2-worker
configuration's efficiency is the 1-worker ratio over twice its own, ``(wall_1 / bare) /
(2 * wall_2 / bare')``, and its chunk bound the best efficiency that handing out
``simcore.experiments.sweep.CHUNK`` runs per task allows, given the runs' bare times.

The executor is also wrapped so that every task is timed inside its worker. ``workers * wall``
less the time inside tasks is the executor's own cost (dispatch, pickling, Parquet writes not
hidden behind a run, workers idle at the end), measured within one sweep and so untouched by
the drift; ``workers busy`` is the share of worker time spent inside tasks, and "run time in
task vs bare" shows whether runs themselves went slower inside the executor.

Each measurement waits until other processes use at most ``--max-other`` cores and records the
load average before and after and the cores other processes used meanwhile; one during which
they used more is discarded and made again (``--retries`` times at most). Needs psutil and Dask
(``pip install -e '.[dev]'``).

Prints one JSON line per measurement and per summary, then Markdown tables. Numbers depend on
the machine; compare runs made on the same one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pickle
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import pyarrow.parquet as pq
import yaml

from analysis.sweeps import load_sweep
from simcore.experiments.runner import run
from simcore.experiments.sweep import CHUNK, Sweep, make_executor, read_sweep, run_sweep
from simcore.results.kpis import flatten_kpis

ROOT = Path(__file__).resolve().parent.parent
SEED = 2026
STRATEGIES = {"status_quo": {}, "monthly_count": {"sellers.strategy.sync_interval_days": 30}}

#: name -> (label, workers, executor factory, the 1-worker configuration it is compared with)
CONFIGS: dict[str, tuple[str, int, Callable[[], Any], str | None]] = {
    "inline": ("inline (in this process)", 1, lambda: make_executor("process", 1), None),
    "pool1": ("process pool, 1 worker", 1, lambda: ProcessPoolExecutor(max_workers=1), None),
    "pool2": ("process pool, 2 workers", 2, lambda: make_executor("process", 2), "pool1"),
    "dask1": ("Dask LocalCluster, 1 worker", 1, lambda: make_executor("dask", 1), None),
    "dask2": ("Dask LocalCluster, 2 workers", 2, lambda: make_executor("dask", 2), "dask1"),
}


def _write_sweep(folder: Path, name: str, runs: int, horizon_days: int) -> Sweep:
    """A sweep of ``runs`` runs: two strategies (one if ``runs`` is odd), no design."""
    strategies = dict(list(STRATEGIES.items())[: 2 if runs % 2 == 0 else 1])
    spec = {
        "base": str(ROOT / "scenarios" / "baseline.yaml"),
        "replications": runs // len(strategies),
        "seed": SEED,
        # Warm-up and cooldown keep the baseline's proportions roughly (40 days -> 5 and 10).
        "set": {
            "horizon_days": horizon_days,
            "warmup_days": horizon_days // 8,
            "cooldown_days": horizon_days // 4,
        },
        "strategies": strategies,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return read_sweep(path)


# --------------------------------------------------------------------------- load on the machine


def _cpu_now() -> tuple[float, float, float]:
    """(wall clock s, CPU s busy on the machine, CPU s of this process and its descendants)."""
    t = psutil.cpu_times()
    busy = sum(getattr(t, k, 0.0) for k in ("user", "nice", "system", "irq", "softirq", "steal"))
    me = psutil.Process()
    ours = 0.0
    for proc in [me, *me.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):  # a child may exit between listing and reading
            c = proc.cpu_times()
            ours += c.user + c.system
    return time.perf_counter(), busy, ours


def _other_cores(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """Cores used between two readings by processes outside this benchmark (and stolen by the host)."""
    return max(0.0, ((b[1] - a[1]) - (b[2] - a[2])) / (b[0] - a[0]))


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _wait_quiet(limit: float, patience: float) -> None:
    """Wait, at most ``patience`` s, until other processes use no more than ``limit`` cores."""
    start = time.perf_counter()
    while True:
        a = _cpu_now()
        time.sleep(2.0)
        other = _other_cores(a, _cpu_now())
        if other <= limit:
            return
        if time.perf_counter() - start > patience:
            print(
                f"# still {other:.2f} other cores busy after {patience:g} s; measuring anyway",
                file=sys.stderr,
            )
            return
        print(f"# {other:.2f} other cores busy (load {_load()}); waiting", file=sys.stderr, flush=True)
        time.sleep(10.0)


def _timed(what: str, fn: Callable[[], Any], args: argparse.Namespace) -> tuple[Any, dict]:
    """``fn()`` timed on a quiet machine: its value, and wall, CPU and load figures.

    A call during which other processes used more than ``--max-other`` cores is reported,
    discarded and made again, ``--retries`` times at most; the last call counts, its
    ``other_cores`` saying how busy the machine was.
    """
    for attempt in range(args.retries + 1):
        _wait_quiet(args.max_other, args.patience)
        load_before = _load()
        a = _cpu_now()
        value = fn()
        b = _cpu_now()
        info = {
            "wall_s": b[0] - a[0],
            "cpu_s": b[2] - a[2],
            "other_cores": round(_other_cores(a, b), 2),
            "load_before": load_before,
            "load_after": _load(),
        }
        if info["other_cores"] <= args.max_other or attempt == args.retries:
            return value, info
        print(json.dumps({"what": what, "discarded": {**info, "wall_s": round(info["wall_s"], 2)}}))
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- measurements


def _bare(sweep: Sweep) -> tuple[dict, dict]:
    """Every run of ``sweep`` as a plain ``run`` call here: (wall s, KPIs) by (cell, strategy, rep)."""
    times, kpis = {}, {}
    for cell_id, strategy, r in sweep.tasks():
        scn = sweep.scenario(cell_id, strategy)
        t0 = time.perf_counter()
        result = run(scn, seed=sweep.spec.seed, replication=r)
        times[cell_id, strategy, r] = time.perf_counter() - t0
        kpis[cell_id, strategy, r] = result.kpis
    return times, kpis


def _ready(scn, seed: int, replication: int) -> int:
    """Worker warm-up: import simcore and make one short run, so the timed sweep finds it warm."""
    from simcore.experiments.runner import run

    run(scn, seed=seed, replication=replication)
    time.sleep(0.3)  # stay busy, so the next warm-up task goes to another worker
    return os.getpid()


def _warm(executor: Executor, workers: int, scn) -> None:
    pids: set[int] = set()
    for attempt in range(5):
        futures = [executor.submit(_ready, scn, SEED, 1000 + attempt * workers + i) for i in range(workers)]
        pids |= {f.result() for f in futures}
        if len(pids) >= workers:
            return
    print(f"# warm-up reached {len(pids)} of {workers} workers", file=sys.stderr)


def _clocked(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Run a task where the executor puts it, timing it there."""
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


class _Clock(Executor):
    """Hands tasks to ``inner`` and adds up the seconds they spend inside the workers, so the
    executor's own cost is ``workers * wall - in_tasks``, measured within one sweep and so
    untouched by the machine's speed drifting between measurements."""

    def __init__(self, inner: Executor) -> None:
        self.inner = inner
        self.in_tasks = 0.0
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        proxy: Future = Future()

        def unwrap(f: Future) -> None:
            try:
                out, seconds = f.result()
            except BaseException as exc:  # handed on to run_sweep as the task's own error
                proxy.set_exception(exc)
                return
            with self._lock:
                self.in_tasks += seconds
            proxy.set_result(out)

        self.inner.submit(_clocked, fn, *args, **kwargs).add_done_callback(unwrap)
        return proxy


def _through_executor(
    key: str, sweeps: dict[str, Sweep], work: Path, round_no: int, args: argparse.Namespace
) -> tuple[dict[str, tuple[Path, dict]], dict]:
    """Each sweep through one executor, into a fresh store: per sweep the store and the timing,
    and the executor's start, warm-up and shutdown times."""
    _, workers, factory, _ = CONFIGS[key]
    out = {}
    with contextlib.ExitStack() as stack:
        t0 = time.perf_counter()
        executor = stack.enter_context(factory())
        t1 = time.perf_counter()
        if key != "inline":
            _warm(executor, workers, sweeps["1-day"].scenario(0, "status_quo"))
        t2 = time.perf_counter()
        for name, sweep in sweeps.items():
            store = Path(tempfile.mkdtemp(prefix=f"{key}-{name}-r{round_no}-", dir=work))

            def go(sweep=sweep, store=store):
                for old in (store / "runs").glob("*.parquet"):  # a re-measure starts from empty
                    old.unlink()
                clock = _Clock(executor)
                return run_sweep(sweep, store, clock), clock.in_tasks

            (report, in_tasks), info = _timed(f"{key} {name}", go, args)
            info["in_tasks_s"] = in_tasks
            runs = len(sweep.tasks())
            if report.failed or report.done != runs:
                raise RuntimeError(f"{key}, {name}: {report.done} of {runs} runs done; {report.failed[:1]}")
            out[name] = (store, info)
        t3 = time.perf_counter()
    t4 = time.perf_counter()
    return out, {"start_s": round(t1 - t0, 2), "warm_s": round(t2 - t1, 2), "shutdown_s": round(t4 - t3, 2)}


def _measure_config(
    key: str, sweeps: dict[str, Sweep], work: Path, round_no: int, args: argparse.Namespace
) -> tuple[list[dict], dict[str, tuple[Path, dict, dict]]]:
    """Each sweep through one executor, next to a bare loop of its runs.

    The bare loops run before the executor starts in odd rounds and after it stops in even
    ones: a steady drift in the machine's speed then cancels in the median, and no pool or
    in-process Dask scheduler is alive to slow the bare loop.

    Returns:
        A row per sweep, and per sweep the store written and the bare loop's run times and KPIs.
    """
    label, workers, _, _ = CONFIGS[key]

    def bare_loops() -> dict:
        return {
            name: _timed(f"bare {name}", lambda sweep=sweep: _bare(sweep), args)
            for name, sweep in sweeps.items()
        }

    if round_no % 2:
        bare = bare_loops()
        swept, lifecycle = _through_executor(key, sweeps, work, round_no, args)
    else:
        swept, lifecycle = _through_executor(key, sweeps, work, round_no, args)
        bare = bare_loops()
    rows, out = [], {}
    for name in sweeps:
        (times, kpis), b = bare[name]
        store, info = swept[name]
        first, last = (b, info) if round_no % 2 else (info, b)
        bare_s, runs = sum(times.values()), len(times)
        rows.append(
            {
                "what": label,
                "config": key,
                "sweep": name,
                "round": round_no,
                "workers": workers,
                "runs": runs,
                "bare_s": round(bare_s, 3),
                "wall_s": round(info["wall_s"], 3),
                "ratio": round(workers * info["wall_s"] / bare_s, 4),
                "cpu_ratio": round(info["cpu_s"] / b["cpu_s"], 4),
                "lost_ms_per_run": round(1000 * (workers * info["wall_s"] - bare_s) / runs, 1),
                "in_tasks_s": round(info["in_tasks_s"], 3),
                "own_ms_per_run": round(1000 * (workers * info["wall_s"] - info["in_tasks_s"]) / runs, 1),
                "busy": round(info["in_tasks_s"] / (workers * info["wall_s"]), 4),
                "other_cores": max(b["other_cores"], info["other_cores"]),
                "load_before": first["load_before"],
                "load_after": last["load_after"],
                **lifecycle,
            }
        )
        out[name] = (store, times, kpis)
    return rows, out


def _chunk_bound(sweep: Sweep, times: dict, workers: int) -> float:
    """The best efficiency chunking allows: chunks handed out in submission order to the first
    free worker, each run taking its bare time and the executor nothing."""
    free = [0.0] * workers
    reps = list(range(sweep.spec.replications))
    for cell_id in range(len(sweep.cells)):
        for strategy in sweep.strategies:
            for i in range(0, len(reps), CHUNK):
                k = free.index(min(free))
                free[k] += sum(times[cell_id, strategy, r] for r in reps[i : i + CHUNK])
    return sum(times.values()) / (workers * max(free))


def _per_task(sweep: Sweep, kpis: dict, finished_store: Path) -> dict:
    """What the executor does per task besides running: pickle the arm's scenario out and the
    chunk's KPIs back; and, rerunning a finished sweep, read back every run's file."""
    scn = sweep.scenario(0, next(iter(sweep.strategies)))
    chunk = [flatten_kpis(k) for k in list(kpis.values())[:CHUNK]]
    parts: dict[str, Any] = {"what": "per task", "runs_per_task": CHUNK}
    for name, obj in (("scenario", scn), ("kpis", chunk)):
        t0 = time.perf_counter()
        for _ in range(100):
            pickle.loads(pickle.dumps(obj))
        parts[f"{name}_pickle_bytes"] = len(pickle.dumps(obj))
        parts[f"{name}_pickle_ms"] = round((time.perf_counter() - t0) * 10, 2)
    t0 = time.perf_counter()
    report = run_sweep(sweep, finished_store)
    parts["resume_check_ms_per_run"] = round(1000 * (time.perf_counter() - t0) / report.skipped, 1)
    return parts


# --------------------------------------------------------------------------- same results


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for col in a.columns:
        x, y = a[col].to_numpy(), b[col].to_numpy()
        if x.dtype.kind == "f" or y.dtype.kind == "f":
            if not np.array_equal(x.astype(float), y.astype(float), equal_nan=True):
                return False
        elif list(x) != list(y):
            return False
    return True


def _differences(stores: dict[str, Path], sweep: Sweep, kpis: dict) -> list[str]:
    """What differs between the stores' Parquet files (content and metadata, file by file) and
    between their tidy frame and the bare loop's KPIs; empty when all agree."""
    problems = []
    files = {
        key: {f.name: pq.read_table(f) for f in sorted((store / "runs").glob("*.parquet"))}
        for key, store in stores.items()
    }
    first, reference = next(iter(files.items()))
    for key, tables in files.items():
        if set(tables) != set(reference):
            problems.append(f"{key}: files differ from {first}'s")
            continue
        for name, table in tables.items():
            other = reference[name]
            if table.schema.metadata != other.schema.metadata:
                problems.append(f"{key}: {name}: metadata differs from {first}'s")
            if not _frames_equal(table.to_pandas(), other.to_pandas()):
                problems.append(f"{key}: {name}: rows differ from {first}'s")
    seed = sweep.spec.seed
    rows = [
        (c, s, r, seed, kpi, np.nan if v is None else float(v))
        for (c, s, r), nested in kpis.items()
        for kpi, v in flatten_kpis(nested).items()
    ]
    columns = ["cell_id", "strategy", "replication", "seed", "kpi", "value"]
    bare = pd.DataFrame(rows, columns=columns).sort_values(columns[:5], ignore_index=True)
    if not _frames_equal(load_sweep(stores[first]), bare):
        problems.append(f"{first}: tidy frame differs from the bare loop's KPIs")
    return problems


# --------------------------------------------------------------------------- report


def _summary(rows: list[dict], key: str, name: str, sweep: Sweep, times: dict) -> dict:
    """One configuration and sweep over the rounds: medians, and the range of the overhead."""
    mine = [r for r in rows if r["config"] == key and r["sweep"] == name]

    def med(values) -> float:
        return statistics.median(list(values))

    overheads = [100 * (r["ratio"] - 1) for r in mine]
    workers = mine[0]["workers"]
    out = {
        "what": mine[0]["what"],
        "config": key,
        "sweep": name,
        "rounds": len(mine),
        "workers": workers,
        "runs": mine[0]["runs"],
        "bare_s": round(med(r["bare_s"] for r in mine), 2),
        "wall_s": round(med(r["wall_s"] for r in mine), 2),
        "runs_per_s": round(mine[0]["runs"] / med(r["wall_s"] for r in mine), 2),
        "overhead_pct": round(statistics.median(overheads), 1),
        "overhead_pct_range": [round(min(overheads), 1), round(max(overheads), 1)],
        "lost_ms_per_run": round(med(r["lost_ms_per_run"] for r in mine), 1),
        "cpu_overhead_pct": round(100 * (med(r["cpu_ratio"] for r in mine) - 1), 1),
        "own_ms_per_run": round(med(r["own_ms_per_run"] for r in mine), 1),
        "own_pct": round(med(100 * (workers * r["wall_s"] / r["in_tasks_s"] - 1) for r in mine), 1),
        "busy": round(med(r["busy"] for r in mine), 3),
        "task_vs_bare": round(med(r["in_tasks_s"] / r["bare_s"] for r in mine), 3),
        "start_s": round(med(r["start_s"] for r in mine), 2),
        "warm_s": round(med(r["warm_s"] for r in mine), 2),
        "shutdown_s": round(med(r["shutdown_s"] for r in mine), 2),
        "other_cores_max": max(r["other_cores"] for r in mine),
        "load_1min_range": [
            min(min(r["load_before"][0], r["load_after"][0]) for r in mine),
            max(max(r["load_before"][0], r["load_after"][0]) for r in mine),
        ],
    }
    if workers > 1:
        single = {r["round"]: r for r in rows if r["config"] == CONFIGS[key][3] and r["sweep"] == name}
        paired = [(single[r["round"]], r) for r in mine if r["round"] in single]
        eff = [one["ratio"] / two["ratio"] for one, two in paired]
        out["efficiency"] = round(med(eff), 3) if eff else None
        out["efficiency_range"] = [round(min(eff), 3), round(max(eff), 3)] if eff else None
        out["efficiency_vs_bare"] = round(med(1 / r["ratio"] for r in mine), 3)
        # Runs slower when two run at once (shared caches, memory bandwidth, host threads).
        out["task_vs_1_worker"] = (
            round(med(two["in_tasks_s"] / one["in_tasks_s"] for one, two in paired), 3) if paired else None
        )
        out["chunk_bound"] = round(_chunk_bound(sweep, times, workers), 3)
    return out


def _table(summaries: list[dict], name: str, bare_row: dict) -> None:
    b = bare_row
    print(f"\n{name} runs ({b['runs']} runs; a bare run took {b['run_s_min']}-{b['run_s_max']} s):\n")
    print(
        "| configuration | wall s | runs/s | overhead vs bare (range) | efficiency vs 1 worker (range)"
        " | vs bare | executor's own cost per run | workers busy | chunk bound | run time in task vs bare"
        " | start + warm s | shutdown s | other cores (max) | load 1 min |"
    )
    print("|---|" + "---:|" * 12 + "---|")
    for r in summaries:
        if r["sweep"] != name:
            continue
        lo, hi = r["overhead_pct_range"]
        eff = ""
        if r.get("efficiency") is not None:
            eff = f"{r['efficiency']:.0%} ({r['efficiency_range'][0]:.0%} to {r['efficiency_range'][1]:.0%})"
        cells = [
            r["what"],
            r["wall_s"],
            r["runs_per_s"],
            f"{r['overhead_pct']:+.1f}% ({lo:+.1f} to {hi:+.1f})",
            eff,
            f"{r['efficiency_vs_bare']:.0%}" if "efficiency_vs_bare" in r else "",
            f"{r['own_ms_per_run']} ms ({r['own_pct']:+.1f}%)",
            f"{r['busy']:.0%}",
            f"{r['chunk_bound']:.0%}" if "chunk_bound" in r else "",
            f"{r['task_vs_bare']:.2f}",
            f"{r['start_s']} + {r['warm_s']}",
            r["shutdown_s"],
            r["other_cores_max"],
            "{}-{}".format(*r["load_1min_range"]),
        ]
        print("| " + " | ".join(str(c) for c in cells) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=16, help="runs in the main sweep (default 16)")
    parser.add_argument("--horizon-days", type=int, default=40, help="horizon of the main sweep's runs")
    parser.add_argument("--short-runs", type=int, default=32, help="runs in the 1-day sweep (default 32)")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    parser.add_argument("--rounds", type=int, default=3, help="times each pair is measured (default 3)")
    parser.add_argument("--max-other", type=float, default=0.25, help="cores other processes may use")
    parser.add_argument("--retries", type=int, default=2, help="re-measurements when they used more")
    parser.add_argument("--patience", type=float, default=120, help="s to wait for a quiet machine")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_sweep-") as tmp:
        work = Path(tmp)
        main_name = f"{args.horizon_days}-day"
        sweeps = {
            main_name: _write_sweep(work, "main", args.runs, args.horizon_days),
            "1-day": _write_sweep(work, "short", args.short_runs, 1),
        }
        run(sweeps["1-day"].scenario(0, "status_quo"), seed=SEED)  # imports and first-call costs, untimed

        rows: list[dict] = []
        stores: dict[str, dict[str, Path]] = {name: {} for name in sweeps}
        bare_times: dict[str, list[dict]] = {name: [] for name in sweeps}
        bare_kpis: dict[str, dict] = {}
        for round_no in range(1, args.rounds + 1):
            for key in args.configs:
                config_rows, measured = _measure_config(key, sweeps, work, round_no, args)
                for row in config_rows:
                    print(json.dumps(row), flush=True)
                rows += config_rows
                for name, (store, times, kpis) in measured.items():
                    stores[name][f"{key} round {round_no}"] = store
                    bare_times[name].append(times)
                    bare_kpis[name] = kpis

        summaries = []
        for name, sweep in sweeps.items():
            # Chunk bounds from the fastest bare loop of each run, the closest to its own cost.
            fastest = {task: min(t[task] for t in bare_times[name]) for task in bare_times[name][0]}
            for key in args.configs:
                summaries.append(_summary(rows, key, name, sweep, fastest))
                print(json.dumps(summaries[-1]), flush=True)
        parts = _per_task(sweeps[main_name], bare_kpis[main_name], next(iter(stores[main_name].values())))
        print(json.dumps(parts), flush=True)
        for name, sweep in sweeps.items():
            problems = _differences(stores[name], sweep, bare_kpis[name])
            verdict = {"what": "same results", "sweep": name, "stores": len(stores[name])}
            print(json.dumps({**verdict, "identical": not problems, "problems": problems}), flush=True)

        for name in sweeps:
            runs = [t for times in bare_times[name] for t in times.values()]
            bare_row = {
                "runs": len(bare_times[name][0]),
                "run_s_min": round(min(runs), 2),
                "run_s_max": round(max(runs), 2),
            }
            _table(summaries, name, bare_row)
        print(f"\nper task: {json.dumps(parts)}")


if __name__ == "__main__":
    main()
