"""The store: one Parquet file of KPIs per finished run, keyed by the arm, and a lock.

An *arm* is a scenario run with a seed: its key is the scenario's hash
(:func:`simcore.experiments.sweepfile.scenario_hash`) and the seed, so a run file is named by
what was run, not by where it sits in a design. Sweeps, and the experiments that add arms as
they go (optimisation, calibration), share this layout: an arm that comes back is not run
again. A run file holds the run's KPIs as tidy rows (``replication, seed, kpi, value``), with
the scenario hash, seed, package version and a SHA-256 of the rows in its metadata; it is
written atomically (temporary name, then rename) and checked when read back, so a resumed
experiment redoes anything missing, unreadable or changed, and nothing damaged is ever read as a
result. Failed runs leave their traceback under ``failures/``. One writer at a time:
:func:`store_lock`.

Stores written before this layout (layout 1: files named by design cell and strategy, the
labels inside) are read as they are by ``analysis.load_sweep``, and :func:`adopt_legacy` moves
their finished runs into this layout when a sweep runs into them again.
"""

from __future__ import annotations

import fcntl  # POSIX: the store's lock (sweeps run on Linux and macOS)
import hashlib
import json
import os
import re
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from simcore.errors import StoreError
from simcore.paths import write_atomic
from simcore.version import __version__

#: The layout of run files this version writes (``design.json``'s ``layout``).
LAYOUT = 2
#: The columns of a run file, in order.
RUN_COLUMNS = ("replication", "seed", "kpi", "value")
#: A layout-1 run file's name: design cell, strategy, replication.
LEGACY_NAME = re.compile(r"c(\d{4,})-(.+)-r(\d{5,})\.parquet")


def arm_key(scenario_hash: str, seed: int) -> str:
    """The key of an arm: what was run (the scenario's hash) and with which root seed."""
    return f"{scenario_hash}-s{seed}"


def run_file(store: Path, arm: str, replication: int) -> Path:
    """The run file of replication ``replication`` of arm ``arm`` (:func:`arm_key`)."""
    return store / "runs" / f"{arm}-r{replication:05d}.parquet"


def run_digest(table) -> str:
    """SHA-256 of a run file's rows (every column, in file order, at full precision).

    Stored in the file's metadata when written and checked on every read, so a file whose
    bytes changed on disk but still parse (a flipped bit in a value, a hand edit) is caught,
    not read as a result.
    """
    text = json.dumps({name: table.column(name).to_pylist() for name in table.column_names}, allow_nan=True)
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


def belongs(meta: Mapping[bytes, bytes], expected_hash: str, seed: int) -> bool:
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


def write_run(
    file: Path, *, replication: int, seed: int, scenario_hash: str, kpis: Mapping[str, Any]
) -> None:
    """Write one run's flattened KPIs (``None`` as NaN) to ``file``, atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(kpis)
    table = pa.table(
        {
            "replication": pa.array([replication] * n, pa.int64()),
            "seed": pa.array([seed] * n, pa.int64()),
            "kpi": pa.array(list(kpis), pa.string()),
            "value": pa.array([np.nan if v is None else float(v) for v in kpis.values()], pa.float64()),
        }
    )
    table = table.replace_schema_metadata(
        {
            "scenario_hash": scenario_hash,
            "seed": str(seed),
            "simcore_version": __version__,
            "digest": run_digest(table),
        }
    )
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf)
    write_atomic(file, buf.getvalue().to_pybytes())


def read_layout(store: Path) -> dict[str, Any] | None:
    """The store's ``design.json``, or None when there is none or it cannot be read (a torn write
    of an old version: the run files' own metadata still guards them)."""
    try:
        return json.loads((store / "design.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def adopt_legacy(store: Path, hashes: Mapping[tuple[int, str], str], seed: int) -> int:
    """Move the finished runs of a layout-1 store into this layout.

    A layout-1 file (``c0003-weekly-r00007.parquet``) that reads back whole and belongs to the
    arm now at its design cell and strategy (``hashes``, by (cell id, strategy)) with ``seed`` is
    rewritten under its arm's name, then removed; the others are left as they are (unread).

    Returns:
        The runs adopted.
    """
    adopted = 0
    for file in sorted((store / "runs").glob("c*.parquet")):
        match = LEGACY_NAME.fullmatch(file.name)
        if match is None:
            continue
        cell, strategy, replication = int(match[1]), match[2], int(match[3])
        expected = hashes.get((cell, strategy))
        try:
            table = read_run(file)
        except ValueError:
            continue
        if expected is None or not belongs(table.schema.metadata, expected, seed):
            continue
        kpis = dict(zip(table.column("kpi").to_pylist(), table.column("value").to_pylist(), strict=True))
        target = run_file(store, arm_key(expected, seed), replication)
        write_run(target, replication=replication, seed=seed, scenario_hash=expected, kpis=kpis)
        file.unlink()
        adopted += 1
    return adopted


#: Stores locked by this process (the OS lock does not stop a second sweep in the same process).
_HELD: set[Path] = set()


@contextmanager
def store_lock(store: Path) -> Iterator[None]:
    """Hold the store's lock (``store/.lock``) for a whole experiment, so two never interleave.

    A POSIX record lock: released by the OS when the holder dies (a SIGKILLed sweep leaves no
    stale lock to clear by hand) and, unlike ``flock``, not inherited by the worker processes a
    pool forks while it is held (they would keep the store locked after the sweep). The file
    names the holder for the error message.

    Raises:
        StoreError: another sweep holds the lock.
    """
    store.mkdir(parents=True, exist_ok=True)
    key = store.resolve()
    if key in _HELD:
        # Checked before opening the file: closing any descriptor of a file drops the process's
        # POSIX lock on it, so even a refused second open would free the first sweep's lock.
        raise StoreError(
            f"{store}: in use by another sweep in this process; wait for it to finish or use another folder"
        )
    path = store / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # the umask decides, as for every file
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise StoreError(
                f"{store}: in use by another sweep ({holder}); wait for it to finish or use another folder"
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
