"""Running a sweep into its store: every arm and replication, on any executor, resumably.

Replication ``r`` of every cell and strategy runs with the sweep's seed and replication number
``r`` (:class:`simcore.engine.streams.Streams`), so all arms of a replication share their random numbers
(common random numbers) and two identical arms differ by exactly 0. Runs go to any
``concurrent.futures.Executor`` (a process pool, a Dask client's executor, or this process) a few
replications per task; results are the same bit for bit whatever the executor. The sweep file
and its design are :mod:`simcore.experiments.sweepfile`; the store's files and lock are
:mod:`simcore.experiments.store`.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from simcore.errors import ScenarioError
from simcore.experiments.store import is_finished, run_file, store_lock, write_manifest, write_run
from simcore.experiments.sweepfile import Sweep, read_sweep
from simcore.results.kpis import flatten_kpis
from simcore.scenario.schema import Scenario

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


def _run_chunk(scn: Scenario, scn_hash: str, seed: int, replications: list[int]) -> list[dict]:
    """Worker: run one arm for some replications; a failure is returned, not raised."""
    from simcore.engine.tuning import hold_mmap_threshold
    from simcore.experiments.runner import run

    hold_mmap_threshold()  # a worker process runs nothing but runs (simcore.engine.tuning)

    out = []
    for r in replications:
        try:
            kpis = run(scn, seed=seed, replication=r).kpis
            out.append({"replication": r, "hash": scn_hash, "kpis": flatten_kpis(kpis)})
        except Exception as exc:  # reported with its cell and seed; the sweep goes on
            out.append(
                {"replication": r, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
            )
    return out


class _Inline(Executor):
    """Runs tasks in the calling process (``--jobs 1``): no pickling, same results."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # pragma: no cover - _run_chunk catches its own errors
            f.set_exception(exc)
        return f


@dataclass(frozen=True)
class SweepReport:
    """What :func:`run_sweep` did: runs done now, found done already, and failed ones, for
    ``replications`` replications per arm."""

    done: int
    skipped: int
    failed: list[dict]
    replications: int


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
        ScenarioError: another sweep is writing to ``store``, or it holds another design.
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
        ScenarioError: another sweep is writing to ``store``, or it holds another design.
    """
    store = Path(store)
    executor = executor or _Inline()
    n = sweep.spec.replications
    rounds = []
    with store_lock(store):
        (store / "runs").mkdir(exist_ok=True)
        while True:
            this = sweep.with_replications(n)
            write_manifest(this, store)
            rounds.append(_run_unlocked(this, store, executor, progress))
            nxt = None if rounds[-1].failed else more(n)
            if nxt is None:
                return rounds
            if nxt <= n:
                raise ValueError(f"more({n}) must return more replications than {n} or None (got {nxt})")
            n = nxt


def _run_unlocked(
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
        for result in f.result():
            r = result["replication"]
            trace_file = store / "failures" / run_file(store, cell_id, name, r).with_suffix(".txt").name
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
                write_run(run_file(store, cell_id, name, r), cell_id, name, r, seed, result)
                trace_file.unlink(missing_ok=True)  # an earlier failure of this run, now mended
                done += 1
            if progress is not None:
                progress(skipped + done + len(failed), total)

    for cell_id in range(len(sweep.cells)):
        for name in sweep.strategies:
            scn = sweep.scenario(cell_id, name)
            expected = sweep.hashes[cell_id, name]
            todo = []
            for r in range(sweep.spec.replications):
                if is_finished(run_file(store, cell_id, name, r), expected, seed):
                    skipped += 1
                else:
                    todo.append(r)
            if progress is not None:
                progress(skipped + done + len(failed), total)
            for chunk in _chunks(todo, CHUNK):
                f = executor.submit(_run_chunk, scn, expected, seed, chunk)
                futures[f] = (cell_id, name)
                if f.done():  # run in this process: store it now, so a kill loses little
                    finish(f)
    for f in as_completed(list(futures)):
        finish(f)
    return SweepReport(done=done, skipped=skipped, failed=failed, replications=sweep.spec.replications)


@contextmanager
def progress_bar(desc: str = "sweep") -> Iterator[Callable[[int, int], None]]:
    """A progress bar with ETA for :func:`run_sweep` / :func:`run_until`'s ``progress``.

    ``tqdm.auto``: a widget in Jupyter when ipywidgets is installed, text otherwise (on a
    terminal's stderr, or in a notebook cell without ipywidgets); nothing when stderr is
    redirected to a file outside Jupyter. The total follows the rounds of :func:`run_until`.
    Closed on exit::

        with progress_bar("fraud") as progress:
            run_sweep(sweep, "runs/fraud", executor, progress)
    """
    import warnings

    with warnings.catch_warnings():
        # Without ipywidgets tqdm warns and falls back to text, which serves as well.
        warnings.simplefilter("ignore")
        from tqdm.auto import tqdm

    # A kernel's stderr is no TTY, and tqdm's "disable=None" would then show nothing.
    in_jupyter = "ipykernel" in sys.modules
    bar = tqdm(total=0, unit="run", desc=desc, disable=False if in_jupyter else None)

    def update(finished: int, total: int) -> None:
        if total != bar.total:
            bar.reset(total=total)
            bar.update(finished)
        else:
            bar.update(finished - bar.n)

    try:
        yield update
    finally:
        bar.close()


@contextmanager
def make_executor(kind: str, jobs: int, scheduler: str | None = None) -> Iterator[Executor]:
    """The executor for ``--executor`` / ``--jobs`` / ``--scheduler``, closed on exit.

    Raises:
        ScenarioError: Dask asked for but not installed (``pip install 'simcore[dask]'``).
    """
    if kind == "process":
        if jobs <= 1:
            yield _Inline()
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                yield pool
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ScenarioError(
            "--executor dask: Dask is not installed (install it with: pip install 'simcore[dask]')"
        ) from None
    if scheduler:
        with Client(scheduler) as client:
            yield client.get_executor()
    else:
        with (
            LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True) as cluster,
            Client(cluster) as client,
        ):
            yield client.get_executor()
