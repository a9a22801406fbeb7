"""Running a sweep into its store: every arm and replication, on any executor, resumably.

Replication ``r`` of every cell and strategy runs with the sweep's seed and replication number
``r`` (:class:`simcore.engine.streams.Streams`), so all arms of a replication share their random
numbers (common random numbers) and two identical arms differ by exactly 0. Runs go to any
``concurrent.futures.Executor`` (:mod:`simcore.experiments.executors`) a few replications per
task; results are the same bit for bit whatever the executor. The sweep file and its design are
:mod:`simcore.experiments.sweepfile`; the store's files and lock are
:mod:`simcore.experiments.store`.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from simcore.errors import StoreError
from simcore.experiments.executors import InlineExecutor, make_executor, progress_bar
from simcore.experiments.store import (
    LAYOUT,
    adopt_legacy,
    arm_key,
    is_finished,
    read_layout,
    run_file,
    store_lock,
    write_run,
)
from simcore.experiments.sweepfile import Sweep, read_sweep
from simcore.paths import write_atomic
from simcore.results.kpis import flatten_kpis
from simcore.scenario.schema import Scenario
from simcore.version import __version__

__all__ = [
    "CHUNK",
    "Sweep",
    "SweepReport",
    "make_executor",
    "progress_bar",
    "read_sweep",
    "run_sweep",
    "run_until",
]

#: Runs per task sent to a worker: enough to hide the executor's per-task cost (a run takes
#: seconds; a task costs milliseconds), few enough to keep the workers evenly busy.
CHUNK = 4


def run_chunk(scn: Scenario, seed: int, replications: list[int]) -> list[dict[str, Any]]:
    """Worker task: run one arm for some replications, each run's KPIs flattened; a failure is
    returned (error and traceback), not raised, so the other runs go on."""
    from simcore.experiments.runner import run

    out: list[dict[str, Any]] = []
    for r in replications:
        try:
            kpis = run(scn, seed=seed, replication=r).kpis
            out.append({"replication": r, "kpis": flatten_kpis(kpis)})
        except Exception as exc:  # reported with its cell and seed; the sweep goes on
            out.append(
                {"replication": r, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            )
    return out


@dataclass(frozen=True)
class SweepReport:
    """What one round of a sweep did: runs done now, found done already, and failed ones, for
    ``replications`` replications per arm; ``adopted`` runs of an earlier store layout were
    moved into this one instead of being run again."""

    done: int
    skipped: int
    failed: list[dict]
    replications: int
    adopted: int = 0


def _chunks(items: list[int], size: int) -> Iterator[list[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def run_sweep(
    sweep: Sweep,
    store: str | Path,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepReport:
    """Run every arm and replication of ``sweep`` not already in ``store``.

    Args:
        sweep: From :func:`read_sweep`.
        store: The output folder (created if needed).
        executor: Any ``concurrent.futures.Executor`` (a process pool, a Dask client's
            ``get_executor()``); None runs in this process.
        progress: Called with (runs finished, runs in all) as runs finish.

    Returns:
        Counts of runs done and skipped, and the failed runs with cell, strategy, seed and error.

    Raises:
        StoreError: another sweep is writing to ``store``, or it holds another design.
    """
    return run_until(sweep, store, lambda n: None, executor, progress)[0]


def run_until(
    sweep: Sweep,
    store: str | Path,
    more: Callable[[int], int | None],
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[SweepReport]:
    """Run ``sweep`` in rounds: after each, ``more(n)`` reads the store and asks for more.

    The first round runs the sweep's own replications ``n``. ``more(n)`` returns the next
    round's replications per arm (> n), or None to stop; every arm gets the same number, so arms
    stay paired by replication (common random numbers). Replication ``r`` always has the same
    seed, so the rounds, and where they stop, are the same whatever the executor. The store is
    locked for all the rounds, the reading between them included.
    (``analysis.precision.PrecisionRule`` is the rule behind ``--precision``.)

    Returns:
        Each round's report; stops early at a round with failed runs.

    Raises:
        StoreError: another sweep is writing to ``store``, or it holds another design.
        ValueError: ``more`` asked for no more replications than it had.
    """
    store = Path(store)
    executor = executor or InlineExecutor()
    n = sweep.spec.replications
    rounds: list[SweepReport] = []
    with store_lock(store):
        (store / "runs").mkdir(exist_ok=True)
        adopted = _prepare(sweep, store)
        while True:
            this = sweep.with_replications(n)
            write_manifest(this, store)
            report = _run_round(this, store, executor, progress)
            rounds.append(report if rounds else _with_adopted(report, adopted))
            nxt = None if report.failed else more(n)
            if nxt is None:
                return rounds
            if nxt <= n:
                raise ValueError(f"more({n}) must return more replications than {n} or None (got {nxt})")
            n = nxt


def _with_adopted(report: SweepReport, adopted: int) -> SweepReport:
    return SweepReport(report.done, report.skipped, report.failed, report.replications, adopted)


def _prepare(sweep: Sweep, store: Path) -> int:
    """Check the store may take ``sweep``; move the finished runs of an earlier layout into this
    one. Returns the runs moved.

    Raises:
        StoreError: the store holds another sweep's design (mixing two designs would give cell
            ids two meanings).
    """
    old = read_layout(store)
    if old is None:
        return 0
    if [old.get(k) for k in ("varied", "cells", "strategies")] != [
        sweep.varied,
        sweep.cells,
        list(sweep.strategies),
    ]:
        raise StoreError(
            f"{store}: holds the results of a sweep with another design "
            "(cells, varied keys or strategies differ); use a new folder"
        )
    if old.get("layout", 1) < LAYOUT:
        return adopt_legacy(store, sweep.hashes, sweep.spec.seed)
    return 0


def design_record(sweep: Sweep) -> dict[str, Any]:
    """What ``design.json`` holds: the store's layout, enough to label the results, to find each
    arm's run files (its scenario hash, with the seed), to tell the runs of the sweep as last run
    from leftovers (another seed, base scenario, version, or more replications), and to analyse a
    sampled design."""
    record: dict[str, Any] = {
        "layout": LAYOUT,
        "varied": sweep.varied,
        "cells": sweep.cells,
        "strategies": list(sweep.strategies),
        "seed": sweep.spec.seed,
        "replications": sweep.spec.replications,
        "simcore_version": __version__,
        "scenario_hashes": {f"{cell_id}/{name}": h for (cell_id, name), h in sweep.hashes.items()},
    }
    if sweep.spec.sample is not None:
        record["sample"] = sweep.spec.sample.model_dump(mode="json")
    return record


def write_manifest(sweep: Sweep, store: Path) -> None:
    """``sweep.yaml`` (the sweep as resolved) and ``design.json`` (:func:`design_record`)."""
    resolved = sweep.spec.model_dump(mode="json", exclude_none=True)
    resolved["base"] = str(sweep.base)
    resolved["cells"] = sweep.cells
    resolved["strategies"] = sweep.strategies
    header = f"# Resolved sweep written by simcore {__version__} from {sweep.path}\n"
    write_atomic(store / "sweep.yaml", (header + yaml.safe_dump(resolved, sort_keys=False)).encode("utf-8"))
    write_atomic(store / "design.json", json.dumps(design_record(sweep), indent=2).encode("utf-8"))


def _run_round(
    sweep: Sweep, store: Path, executor: Executor, progress: Callable[[int, int], None] | None
) -> SweepReport:
    seed = sweep.spec.seed
    total = len(sweep.tasks())
    skipped = 0
    done, failed = 0, []
    futures: dict[Future, tuple[int, str]] = {}

    def finish(f: Future) -> None:
        nonlocal done
        cell_id, name = futures.pop(f)
        scn_hash = sweep.hashes[cell_id, name]
        for result in f.result():
            r = result["replication"]
            file = run_file(store, arm_key(scn_hash, seed), r)
            # Named for people: by design cell and strategy (the traceback says the rest).
            trace_file = store / "failures" / f"c{cell_id:04d}-{name}-r{r:05d}.txt"
            if "error" in result:
                failed.append(
                    {
                        "cell_id": cell_id,
                        "cell": sweep.cells[cell_id],
                        "strategy": name,
                        "seed": seed,
                        "replication": r,
                        "error": result["error"],
                        "trace_file": trace_file,
                    }
                )
                trace_file.parent.mkdir(exist_ok=True)
                trace_file.write_text(
                    f"cell {cell_id} {sweep.cells[cell_id]}, strategy {name!r}, seed {seed}, "
                    f"replication {r}\n\n{result['trace']}",
                    encoding="utf-8",
                )
            else:
                write_run(file, replication=r, seed=seed, scenario_hash=scn_hash, kpis=result["kpis"])
                trace_file.unlink(missing_ok=True)  # an earlier failure of this run, now mended
                done += 1
            if progress is not None:
                progress(skipped + done + len(failed), total)

    for cell_id in range(len(sweep.cells)):
        for name in sweep.strategies:
            scn = sweep.scenario(cell_id, name)
            expected = sweep.hashes[cell_id, name]
            arm = arm_key(expected, seed)
            todo = []
            for r in range(sweep.spec.replications):
                if is_finished(run_file(store, arm, r), expected, seed):
                    skipped += 1
                else:
                    todo.append(r)
            if progress is not None:
                progress(skipped + done + len(failed), total)
            for chunk in _chunks(todo, CHUNK):
                f = executor.submit(run_chunk, scn, seed, chunk)
                futures[f] = (cell_id, name)
                if f.done():  # run in this process: store it now, so a kill loses little
                    finish(f)
    for f in as_completed(list(futures)):
        finish(f)
    return SweepReport(done=done, skipped=skipped, failed=failed, replications=sweep.spec.replications)
