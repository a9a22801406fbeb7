"""Where runs execute: this process, a local process pool, or a Dask cluster; and a progress bar.

Every executor is a ``concurrent.futures.Executor``, so the experiments submit work the same way
to each, and results do not depend on which (each run's numbers come from its seed and
replication alone). Worker processes that simcore starts opt in to its process tuning
(:func:`simcore.engine.tuning.hold_mmap_threshold`): they run nothing but runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager

from simcore.engine.tuning import hold_mmap_threshold
from simcore.errors import ArgumentError

#: The kinds of executor :func:`make_executor` makes.
KINDS = ("process", "dask")


class InlineExecutor(Executor):
    """Runs tasks in the calling process, at submission (one worker): no pickling, same results."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        f: Future = Future()
        try:
            f.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # the experiments' tasks catch their own errors
            f.set_exception(exc)
        return f


@contextmanager
def make_executor(kind: str, jobs: int, scheduler: str | None = None) -> Iterator[Executor]:
    """An executor of ``kind`` with ``jobs`` workers, closed on exit.

    Args:
        kind: ``process`` (this process when ``jobs`` is 1, else a process pool) or ``dask``
            (a local cluster of ``jobs`` worker processes, or the cluster at ``scheduler``).
        jobs: Workers (>= 1).
        scheduler: A Dask scheduler's address (``tcp://host:8786``); only with ``dask``.

    Raises:
        ArgumentError: an unknown ``kind``, ``jobs`` < 1, a scheduler without Dask, or Dask
            asked for but not installed (``pip install 'simcore[dask]'``).
    """
    problems = []
    if kind not in KINDS:
        problems.append(f"executor: must be one of {', '.join(KINDS)} (got {kind!r})")
    if jobs < 1:
        problems.append(f"jobs: must be >= 1 (got {jobs})")
    if scheduler and kind != "dask":
        problems.append(f"scheduler: only with the dask executor (got {scheduler!r} with {kind!r})")
    if problems:
        raise ArgumentError(problems)
    if kind == "process":
        if jobs == 1:
            yield InlineExecutor()
        else:
            with ProcessPoolExecutor(max_workers=jobs, initializer=hold_mmap_threshold) as pool:
                yield pool
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ArgumentError(
            "executor dask: Dask is not installed (install it with: pip install 'simcore[dask]')"
        ) from None
    if scheduler:
        # Someone else's workers: their processes are theirs to tune.
        with Client(scheduler) as client:
            yield client.get_executor()
    else:
        with (
            LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True) as cluster,
            Client(cluster) as client,
        ):
            client.run(hold_mmap_threshold)
            yield client.get_executor()


@contextmanager
def progress_bar(desc: str = "sweep") -> Iterator[Callable[[int, int], None]]:
    """A progress bar with ETA for an experiment's ``progress(finished, total)`` callback.

    ``tqdm.auto``: a widget in Jupyter when ipywidgets is installed, text otherwise (on a
    terminal's stderr, or in a notebook cell without ipywidgets); nothing when stderr is
    redirected to a file outside Jupyter. The total may grow between calls (rounds of
    :func:`simcore.experiments.sweep.run_until`). Closed on exit::

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
