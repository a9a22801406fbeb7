"""Strategy sweeps: a sweep file, its design, and running it into a resumable store.

A sweep file names a base scenario, overrides for every run (``set``), a design over scenario
keys (``grid``, ``zip`` or ``sample``), named strategies crossed with every design cell, and a
number of replications. Replication ``r`` of every cell and strategy runs with the sweep's seed
and replication number ``r`` (:class:`simcore.streams.Streams`), so all arms of a replication
share their random numbers (common random numbers) and two identical arms differ by exactly 0.

The store (``--out DIR``) holds ``sweep.yaml`` (the sweep as resolved: design cells listed),
``design.json`` and one Parquet file per finished run under ``runs/``: the run's KPIs as tidy
rows, with the scenario hash, seed and package version in the file's metadata. Files are
written atomically (temporary name, then rename); rerunning a sweep skips runs whose file reads
back with the same scenario hash and redoes anything missing or unreadable.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simcore.errors import ScenarioError
from simcore.kpis import flatten_kpis
from simcore.loader import load_scenario, validation_problems
from simcore.schema import Scenario
from simcore.version import __version__
from simcore.volume import check_volume
from simcore.yamlfile import read_yaml

#: Runs per task sent to a worker: enough to hide the executor's per-task cost (a run takes
#: seconds; a task costs milliseconds), few enough to keep the workers evenly busy.
CHUNK = 4


class _Frozen(BaseModel):
    # NaN and infinity pass every comparison-based bound, so they are refused outright.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Range(_Frozen):
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not self.high > self.low:
            raise ValueError(f"high must be > low (got low={self.low}, high={self.high})")
        return self


class Sample(_Frozen):
    """A sampled design over the ``params`` ranges.

    ``lhs`` and ``random`` give ``n`` points (Latin hypercube or independent uniforms).
    ``morris`` and ``sobol`` are designs for sensitivity analysis drawn by SALib (the
    ``sensitivity`` extra), read by :func:`analysis.sensitivity`: ``morris`` gives ``n``
    one-at-a-time trajectories of ``len(params) + 1`` points on a 4-level grid; ``sobol`` gives
    Saltelli's ``n * (len(params) + 2)`` points for first-order and total indices (``n`` a power
    of 2, as Sobol' sequences need).
    """

    method: Literal["lhs", "random", "morris", "sobol"] = "lhs"
    n: int = Field(ge=1, le=100_000)
    params: dict[str, Range] = Field(min_length=1)

    @field_validator("n")
    @classmethod
    def _sobol_power_of_two(cls, n: int, info: ValidationInfo) -> int:
        if info.data.get("method") == "sobol" and n & (n - 1):
            raise ValueError(f"must be a power of 2 for method sobol (got {n})")
        return n


NonEmptyList = Annotated[list[Any], Field(min_length=1)]


class SweepSpec(_Frozen):
    """The keys of a sweep file (see the module docs)."""

    base: str = Field(description="Base scenario file, relative to the sweep file.")
    replications: int = Field(ge=1, le=100_000)
    seed: int = Field(0, ge=0)
    set: dict[str, Any] = Field(default_factory=dict)
    grid: dict[str, NonEmptyList] | None = None
    zip: dict[str, NonEmptyList] | None = None
    sample: Sample | None = None
    strategies: dict[str, dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _one_design(self) -> SweepSpec:
        given = [k for k in ("grid", "zip", "sample") if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of grid, zip or sample (got {', '.join(given)})")
        if self.zip is not None and len({len(v) for v in self.zip.values()}) > 1:
            lengths = {k: len(v) for k, v in self.zip.items()}
            raise ValueError(f"zip lists must have equal lengths (got {lengths})")
        return self

    @field_validator("strategies")
    @classmethod
    def _names(cls, v: dict | None) -> dict | None:
        if v is not None:
            if not v:
                raise ValueError("name at least one strategy (or leave strategies out)")
            bad = [name for name in v if not name.replace("_", "").replace("-", "").isalnum()]
            if bad:
                raise ValueError(f"strategy names may hold letters, digits, '_' and '-' (got {bad})")
        return v


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the design cells and strategies, ready to run.

    Attributes:
        path: The sweep file.
        spec: Its keys.
        base: The base scenario file (resolved).
        cells: One ``{dotted key: value}`` per design cell (``[{}]`` without a design).
        strategies: ``{name: overrides}`` (``{"base": {}}`` without strategies).
        varied: The dotted keys the design varies, in file order.
        scenarios: Every arm's validated scenario by (cell_id, strategy), built once, when the
            sweep is read, and shipped to the workers as is (they read no files).
    """

    path: Path
    spec: SweepSpec
    base: Path
    cells: list[dict[str, Any]]
    strategies: dict[str, dict[str, Any]]
    varied: list[str]
    scenarios: dict[tuple[int, str], Scenario]

    def scenario(self, cell_id: int, strategy: str) -> Scenario:
        return self.scenarios[cell_id, strategy]

    def tasks(self) -> list[tuple[int, str, int]]:
        """Every run as (cell_id, strategy, replication)."""
        reps = range(self.spec.replications)
        return [(c, s, r) for c in range(len(self.cells)) for s in self.strategies for r in reps]

    def with_replications(self, replications: int) -> Sweep:
        """The same sweep with another number of replications (replication r keeps its seed)."""
        return replace(self, spec=self.spec.model_copy(update={"replications": replications}))


def _design(spec: SweepSpec) -> tuple[list[dict[str, Any]], list[str]]:
    if spec.grid is not None:
        keys = list(spec.grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*spec.grid.values())], keys
    if spec.zip is not None:
        keys = list(spec.zip)
        return [dict(zip(keys, combo, strict=True)) for combo in zip(*spec.zip.values(), strict=True)], keys
    if spec.sample is not None:
        s = spec.sample
        keys = list(s.params)
        if s.method in ("morris", "sobol"):
            points = salib_sample(s, spec.seed)
            return [{k: float(v) for k, v in zip(keys, row, strict=True)} for row in points], keys
        if s.method == "lhs":
            from scipy.stats import qmc

            unit = qmc.LatinHypercube(d=len(keys), seed=np.random.default_rng(spec.seed)).random(s.n)
        else:
            unit = np.random.default_rng(spec.seed).random((s.n, len(keys)))
        lows = np.array([s.params[k].low for k in keys])
        highs = np.array([s.params[k].high for k in keys])
        points = lows + unit * (highs - lows)
        return [{k: float(v) for k, v in zip(keys, row, strict=True)} for row in points], keys
    return [{}], []


def salib_problem(sample: Sample) -> dict[str, Any]:
    """SALib's description of a sampled design's parameters."""
    keys = list(sample.params)
    return {
        "num_vars": len(keys),
        "names": keys,
        "bounds": [[sample.params[k].low, sample.params[k].high] for k in keys],
    }


def salib_sample(sample: Sample, seed: int) -> np.ndarray:
    """The design points of a ``morris`` or ``sobol`` sample (one row per cell, in SALib's order,
    which its analysers expect).

    Raises:
        ScenarioError: SALib is not installed.
    """
    try:
        from SALib.sample import morris, sobol
    except ImportError:
        raise ScenarioError(
            f"sample: method {sample.method} needs SALib "
            "(install it with: pip install 'simcore[sensitivity]')"
        ) from None
    problem = salib_problem(sample)
    if sample.method == "morris":
        return morris.sample(problem, sample.n, num_levels=4, seed=seed)
    # Second-order indices would need n*(2d+2) runs; first-order and total are what a screening
    # of a simulator's parameters reads.
    return sobol.sample(problem, sample.n, calc_second_order=False, scramble=True, seed=seed)


def read_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file, including every arm's scenario.

    Raises:
        ScenarioError: every problem found: the sweep's own keys, and every design cell or
            strategy whose overrides break a scenario rule (named by the key's line in the file).
    """
    path = Path(path)
    data, origins = read_yaml(path)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(validation_problems(exc, data, origins, str(path))) from None
    base = (path.parent / spec.base).resolve()
    if not base.is_file():
        origin = origins.get(("base",))
        where = f"{path}:{origin[1]}" if origin else str(path)
        raise ScenarioError(f"{where}: base: file not found (got {spec.base!r})")
    try:
        cells, varied = _design(spec)
    except ScenarioError as exc:
        raise ScenarioError([f"{path}: {line}" for line in exc.problems]) from None
    strategies = spec.strategies if spec.strategies is not None else {"base": {}}
    scenarios: dict[tuple[int, str], Scenario] = {}
    problems: list[str] = []
    too_large: list[str] = []
    for cell_id, cell in enumerate(cells):
        for name, strategy in strategies.items():
            try:
                scn = load_scenario(base, {**spec.set, **cell, **strategy})
            except ScenarioError as exc:
                for line in exc.problems:
                    problem = _locate(line, path, origins, spec, cell, name, strategy)
                    if problem not in problems:
                        problems.append(problem)
                continue
            try:
                check_volume(scn)
            except ScenarioError as exc:
                too_large.append(f"{path}: design cell {cell}, strategy {name!r}: {exc.problems[0]}")
            scenarios[cell_id, name] = scn
    if too_large:  # one line per arm would drown the message when the base itself is too large
        more = f" (and {len(too_large) - 1} more arms)" if len(too_large) > 1 else ""
        problems.append(too_large[0] + more)
    if problems:
        raise ScenarioError(problems)
    return Sweep(path, spec, base, cells, strategies, varied, scenarios)


def _locate(
    line: str, path: Path, origins: dict, spec: SweepSpec, cell: dict, name: str, strategy: dict
) -> str:
    """A scenario problem found through an arm's overrides, pointed at the sweep file's line."""
    if not line.startswith("--set"):
        return f"{path}: base scenario: {line}"
    body = line.split(": ", 1)[1]
    dotted = body.split(": ", 1)[0]

    def owner(keys: dict) -> str | None:
        return next((k for k in keys if dotted == k or dotted.startswith(k + ".")), None)

    design = "grid" if spec.grid is not None else "zip" if spec.zip is not None else "sample"
    if (k := owner(strategy)) is not None:
        key, label = ("strategies", name, k), f"strategy {name!r}"
    elif (k := owner(cell)) is not None:
        key = ("sample", "params", k) if design == "sample" else (design, k)
        label = f"design cell {cell}"
    else:
        k = owner(spec.set) or dotted
        key, label = ("set", k), "set"
    origin = origins.get(key) or origins.get(key[:1])
    where = f"{path}:{origin[1]}" if origin else str(path)
    return f"{where}: {label}: {body}"


# --------------------------------------------------------------------------- running


def scenario_hash(scn: Scenario) -> str:
    """A short fingerprint of everything a run depends on (the seed is stored beside it)."""
    text = json.dumps(scn.model_dump(mode="json", exclude={"extends", "name", "description"}), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _run_chunk(scn: Scenario, scn_hash: str, seed: int, replications: list[int]) -> list[dict]:
    """Worker: run one arm for some replications; a failure is returned, not raised."""
    from simcore.runner import run

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


#: The columns of a run file, in order.
RUN_COLUMNS = ("cell_id", "strategy", "replication", "seed", "kpi", "value")


def run_file(store: Path, cell_id: int, strategy: str, replication: int) -> Path:
    return store / "runs" / f"c{cell_id:04d}-{strategy}-r{replication:05d}.parquet"


def run_digest(table) -> str:
    """SHA-256 of a run file's rows (every column, values at full precision).

    Stored in the file's metadata when written and checked on every read, so a file whose
    bytes changed on disk but still parse (a flipped bit in a value, a hand edit) is caught,
    not read as a result.
    """
    text = json.dumps({name: table.column(name).to_pylist() for name in RUN_COLUMNS}, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def read_run(file: Path):
    """A run file's table, checked against its digest.

    Raises:
        ValueError: the file is unreadable, or its rows no longer match the digest written
            with them.
    """
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(file)
        stored = (table.schema.metadata or {}).get(b"digest", b"").decode()
        ok = stored == run_digest(table)
    except Exception as exc:  # truncated, not Parquet, columns missing
        raise ValueError(f"{file}: unreadable run file ({type(exc).__name__}: {exc})") from None
    if not ok:
        raise ValueError(f"{file}: the rows do not match their checksum (the file changed on disk)")
    return table


def _finished(file: Path, expected_hash: str, seed: int) -> bool:
    """True when ``file`` reads back whole, matches its checksum, and belongs to the same
    scenario and seed."""
    try:
        meta = read_run(file).schema.metadata
    except (ValueError, OSError):  # missing, truncated, corrupt: redo it
        return False
    return meta.get(b"scenario_hash") == expected_hash.encode() and meta.get(b"seed") == b"%d" % seed


def _write_run(file: Path, cell_id: int, strategy: str, replication: int, seed: int, result: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    kpis = result["kpis"]
    n = len(kpis)
    table = pa.table(
        {
            "cell_id": pa.array([cell_id] * n, pa.int64()),
            "strategy": pa.array([strategy] * n, pa.string()),
            "replication": pa.array([replication] * n, pa.int64()),
            "seed": pa.array([seed] * n, pa.int64()),
            "kpi": pa.array(list(kpis), pa.string()),
            "value": pa.array([np.nan if v is None else float(v) for v in kpis.values()], pa.float64()),
        }
    )
    table = table.replace_schema_metadata(
        {
            "scenario_hash": result["hash"],
            "seed": str(seed),
            "simcore_version": __version__,
            "digest": run_digest(table),
        }
    )
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=file.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, file)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _design_record(sweep: Sweep) -> dict[str, Any]:
    """What ``design.json`` holds: enough to label the results and to analyse a sampled design."""
    record: dict[str, Any] = {
        "varied": sweep.varied,
        "cells": sweep.cells,
        "strategies": list(sweep.strategies),
        "seed": sweep.spec.seed,
    }
    if sweep.spec.sample is not None:
        record["sample"] = sweep.spec.sample.model_dump(mode="json")
    return record


def _write_manifest(sweep: Sweep, store: Path) -> None:
    """``sweep.yaml`` (the sweep as resolved) and ``design.json`` (cells and varied keys).

    Raises:
        ScenarioError: the store already holds another sweep's design (mixing two designs would
            give cell ids two meanings).
    """
    design = _design_record(sweep)
    old_file = store / "design.json"
    if old_file.is_file():
        try:
            old = json.loads(old_file.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            old = None  # a torn write from an old version: the runs' own metadata still guards them
        if old is not None and {k: old.get(k) for k in ("varied", "cells", "strategies")} != {
            k: design[k] for k in ("varied", "cells", "strategies")
        }:
            raise ScenarioError(
                f"--out: {str(store)!r} holds the results of a sweep with another design "
                "(cells, varied keys or strategies differ); use a new folder"
            )
    resolved = sweep.spec.model_dump(mode="json", exclude_none=True)
    resolved["base"] = str(sweep.base)
    resolved["cells"] = sweep.cells
    resolved["strategies"] = sweep.strategies
    header = f"# Resolved sweep written by simcore {__version__} from {sweep.path}\n"
    manifest = {
        (store / "sweep.yaml"): header + yaml.safe_dump(resolved, sort_keys=False),
        old_file: json.dumps(design, indent=2),
    }
    for file, text in manifest.items():
        tmp = file.with_name(f".tmp-{file.name}")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, file)


#: Stores locked by this process (the OS lock does not stop a second sweep in the same process).
_HELD: set[Path] = set()


@contextmanager
def store_lock(store: Path) -> Iterator[None]:
    """Hold the store's lock (``store/.lock``) for a whole sweep, so two sweeps never interleave.

    A POSIX record lock: released by the OS when the holder dies (a SIGKILLed sweep leaves no
    stale lock to clear by hand) and, unlike ``flock``, not inherited by the worker processes a
    pool forks while it is held (they would keep the store locked after the sweep). The file
    names the holder for the error message.

    Raises:
        ScenarioError: another sweep holds the lock.
    """
    store.mkdir(parents=True, exist_ok=True)
    key = store.resolve()
    path = store / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            if key in _HELD:
                raise OSError("held by this process")
            _lock(fd)
        except OSError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise ScenarioError(
                f"--out: {str(store)!r} is in use by another sweep ({holder}); "
                "wait for it to finish or use another folder"
            ) from None
        _HELD.add(key)
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
            yield
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)  # closing releases the lock


def _lock(fd: int) -> None:
    """Take an exclusive lock on ``fd`` without waiting (OSError if held)."""
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


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
    store = Path(store)
    with store_lock(store):
        (store / "runs").mkdir(exist_ok=True)
        _write_manifest(sweep, store)
        return _run_unlocked(sweep, store, executor or _Inline(), progress)


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
    seed, so the rounds, and where they stop, are the same whatever the executor.
    (``analysis.precision.PrecisionRule`` is the rule behind ``--precision``.)

    Returns:
        Each round's report; stops early at a round with failed runs.
    """
    n = sweep.spec.replications
    rounds = []
    while True:
        rounds.append(run_sweep(sweep.with_replications(n), store, executor, progress))
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
                _write_run(run_file(store, cell_id, name, r), cell_id, name, r, seed, result)
                trace_file.unlink(missing_ok=True)  # an earlier failure of this run, now mended
                done += 1
            if progress is not None:
                progress(skipped + done + len(failed), total)

    for cell_id in range(len(sweep.cells)):
        for name in sweep.strategies:
            scn = sweep.scenario(cell_id, name)
            expected = scenario_hash(scn)
            todo = []
            for r in range(sweep.spec.replications):
                if _finished(run_file(store, cell_id, name, r), expected, seed):
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
