"""The sweep store: one Parquet file per finished run, the design beside them, and a lock.

``--out DIR`` holds ``sweep.yaml`` (the sweep as resolved: design cells listed), ``design.json``
and one Parquet file per finished run under ``runs/``: the run's KPIs as tidy rows, with the
scenario hash, seed, package version and a SHA-256 of the rows in the file's metadata. Files are
written atomically (temporary name, then rename) and checked when read back, so a resumed sweep
redoes anything missing, unreadable or changed, and nothing damaged is ever read as a result.
Failed runs leave their traceback under ``failures/``. One sweep at a time: :func:`store_lock`.
"""

from __future__ import annotations

import fcntl  # POSIX: the store's lock (sweeps run on Linux and macOS)
import hashlib
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simcore.errors import ScenarioError
from simcore.experiments.sweepfile import Sweep
from simcore.paths import write_atomic
from simcore.version import __version__

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


def belongs(meta: dict[bytes, bytes], expected_hash: str, seed: int) -> bool:
    """True when a run file's metadata says it is a run of this arm's scenario, with this seed,
    by this version of simcore (another version may compute a KPI differently)."""
    return (
        meta.get(b"scenario_hash") == expected_hash.encode()
        and meta.get(b"seed") == b"%d" % seed
        and meta.get(b"simcore_version") == __version__.encode()
    )


def is_finished(file: Path, expected_hash: str, seed: int) -> bool:
    """True when ``file`` reads back whole, matches its checksum, and :func:`belongs`."""
    try:
        meta = read_run(file).schema.metadata
    except (ValueError, OSError):  # missing, truncated, corrupt: redo it
        return False
    return belongs(meta, expected_hash, seed)


def write_run(file: Path, cell_id: int, strategy: str, replication: int, seed: int, result: dict) -> None:
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
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    write_atomic(file, buf.getvalue().to_pybytes())


def _design_record(sweep: Sweep) -> dict[str, Any]:
    """What ``design.json`` holds: enough to label the results, to tell the runs of the sweep as
    last run from leftovers (another seed, base scenario, version, or more replications), and to
    analyse a sampled design."""
    record: dict[str, Any] = {
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
        write_atomic(file, text.encode("utf-8"))


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
    if key in _HELD:
        # Checked before opening the file: closing any descriptor of a file drops the process's
        # POSIX lock on it, so even a refused second open would free the first sweep's lock.
        raise ScenarioError(
            f"--out: {str(store)!r} is in use by another sweep in this process; "
            "wait for it to finish or use another folder"
        )
    path = store / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
