"""Streaming a run's event log out to files: the reading and writing shared by the exporters.

Events are read in Parquet record batches (:func:`event_batches`) with their categories kept as
small integer codes (:class:`Names`), each order id checked against the orders; output goes
through :func:`atomic_text` (a temporary file beside the target, moved in only when complete; a
name ending ``.gz`` is gzip-compressed). Times are the simulation clock (hour 0 is midnight of
``scenario.start``) written as UTC in ISO 8601 with milliseconds, the precision the run records.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from analysis.io import RunInputError
from simcore.paths import cannot_write

#: Events read and formatted at a time (rows), and orders per chunk of objects or traces. On the
#: 150-day baseline (388k events) these peak 70-100 MiB above the imports, against 75-180 MiB with
#: 65,536 and 8,192, at the same speed (measured 2026-11-26, resource.getrusage).
BATCH_ROWS = 16_384
CHUNK_ORDERS = 1_024
#: Time of object attribute values that hold from the object's start (the OCEL 2.0 convention).
EPOCH = "1970-01-01T00:00:00Z"
EVENT_COLUMNS = ("time", "order_id", "activity", "actor", "buyer_id", "seller_id")


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote.

    Attributes:
        format: ``ocel``, ``xes`` or ``csv``.
        path: The file written.
        events: Events written (every row of ``events.parquet``).
        cases: Orders written as cases (XES traces, CSV case ids, OCEL order objects).
        objects: OCEL objects written by type (empty for XES and CSV).
        bytes: Size of the file written.
    """

    format: str
    path: Path
    events: int
    cases: int
    objects: dict[str, int] = field(default_factory=dict)
    bytes: int = 0

    def __str__(self) -> str:
        what = f"{self.events:,} events of {self.cases:,} orders"
        if self.objects:
            what += " (objects: " + ", ".join(f"{n:,} {t}" for t, n in self.objects.items()) + ")"
        return f"wrote {what} to {self.path} ({self.format}, {self.bytes / 1e6:,.1f} MB)"


@dataclass(frozen=True)
class Names:
    """A category column as small integer codes into ``names`` (an object array of str)."""

    codes: np.ndarray
    names: np.ndarray

    def strings(self) -> list[str]:
        return self.names[self.codes].tolist()

    def recode(self, vocab: dict[str, int]) -> np.ndarray:
        """The codes in ``vocab``'s numbering (names not in it yet are added)."""
        remap = np.array([vocab.setdefault(name, len(vocab)) for name in self.names.tolist()], np.int16)
        return remap[self.codes] if len(remap) else self.codes.astype(np.int16)


def event_batches(path: Path, n_orders: int, columns: tuple[str, ...] = EVENT_COLUMNS) -> Iterator[dict]:
    """The events of ``path`` in batches of :data:`BATCH_ROWS` rows, as ``{column: array}`` with
    ``activity`` and ``actor`` as :class:`Names`, each order id checked against the orders."""
    try:
        for batch in parquet(path).iter_batches(batch_size=BATCH_ROWS, columns=list(columns)):
            cols = {name: numpy(batch.column(name), path, name) for name in columns}
            oid = cast(np.ndarray, cols["order_id"])
            if len(oid) and (oid.min() < 0 or oid.max() >= n_orders):
                bad = oid[(oid < 0) | (oid >= n_orders)][0]
                raise RunInputError(
                    f"{path}: event of order {bad}, but orders.parquet has orders 0 to {n_orders - 1}; "
                    "the run folder is damaged or mixes two runs: run the scenario again"
                )
            yield cols
    except (pa.ArrowInvalid, KeyError) as exc:
        raise RunInputError(f"{path}: cannot read the event log ({exc}); run the scenario again") from None


def parquet(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise RunInputError(f"{path}: not a readable Parquet file ({exc}); run the scenario again") from None


def numpy(col: pa.Array, path: Path, name: str) -> np.ndarray | Names:
    """A batch column as numpy (times as datetime64[ms]), or as :class:`Names` if categorical."""
    if col.null_count:
        raise RunInputError(f"{path}: column {name} has {col.null_count} missing values; the run is damaged")
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        col = col.dictionary_encode()
    if pa.types.is_dictionary(col.type):
        names = np.asarray(col.dictionary.to_pylist(), dtype=object)
        return Names(col.indices.to_numpy(zero_copy_only=False), names)
    if pa.types.is_timestamp(col.type):
        return col.cast(pa.timestamp("ms")).to_numpy(zero_copy_only=False)
    return col.to_numpy(zero_copy_only=False)


def iso_list(ms: np.ndarray) -> list[str]:
    """datetime64[ms] values as ISO 8601 UTC strings with milliseconds."""
    return np.datetime_as_string(ms, unit="ms", timezone="UTC").tolist()


def order_count(path: Path) -> int:
    return order_frame(path, []).shape[0]


def order_frame(path: Path, columns: list[str]) -> pd.DataFrame:
    """``columns`` of the orders (and derived ``_open``, ``_final``, ``_closed_at``), checked to be
    numbered 0..n-1 in order, as ``simcore run`` writes them."""
    real = [c for c in columns if not c.startswith("_")]
    extra = {"status", "placed_at", "cancelled_at", "completed_at"} if set(columns) - set(real) else set()
    read = ["order_id", *sorted((set(real) | extra) - {"order_id"})]
    try:
        orders = pd.read_parquet(path, columns=read)
    except (pa.ArrowInvalid, KeyError) as exc:
        raise RunInputError(f"{path}: cannot read the orders ({exc}); run the scenario again") from None
    if not np.array_equal(orders["order_id"].to_numpy(), np.arange(len(orders))):
        raise RunInputError(f"{path}: order ids are not 0, 1, 2, ... in order; the run folder is damaged")
    if extra:
        status = orders["status"].astype(object)
        orders["_open"] = "open"
        orders["_final"] = status.where(status != "open")
        orders["_closed_at"] = orders["cancelled_at"].fillna(orders["completed_at"])
    return orders


def read_scenario(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunInputError(f"{path}: not readable YAML ({exc}); run the scenario again") from None
    if not isinstance(data, dict) or "start" not in data or "horizon_days" not in data:
        raise RunInputError(f"{path}: not a resolved scenario (no start or horizon_days); run it again")
    return data


def check_out(out: str | Path, run_paths: dict[str, Path]) -> Path:
    """``out`` as a Path, checked before any reading: a writable file path outside the run."""
    out = Path(out)
    if out.is_dir():
        raise RunInputError(f"{out}: is a folder; give the path of a file to write")
    if any(out.resolve() == p.resolve() for p in run_paths.values()):
        raise RunInputError(f"{out}: is a file of the run itself; write the export elsewhere")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunInputError(f"{out}: cannot create its folder ({exc.strerror})") from None
    why = cannot_write(out.parent)
    if why is not None:
        raise RunInputError(f"{out}: cannot write in {out.parent} ({why})")
    return out


@contextmanager
def atomic_text(out: Path) -> Iterator[IO[str]]:
    """A text stream to a temporary file beside ``out``, moved onto ``out`` only on success."""
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    # Level 6 (zlib's default), not gzip's 9: half the time or less, files about 10% larger.
    opener = functools.partial(gzip.open, compresslevel=6) if out.suffix == ".gz" else open
    try:
        with opener(tmp, "xt", encoding="utf-8", newline="\n") as fh:
            yield cast(IO[str], fh)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def summary(fmt: str, out: str | Path, events: int, cases: int, objects=None) -> ExportSummary:
    out = Path(out)
    return ExportSummary(fmt, out, events, cases, objects or {}, out.stat().st_size)


class Separator:
    """Writes JSON array items with commas between them, across calls."""

    def __init__(self, fh: IO[str]):
        self.fh, self.first = fh, True

    def write_all(self, items: list[str]) -> None:
        if items:
            self.fh.write(("" if self.first else ",\n") + ",\n".join(items))
            self.first = False


def xml(text: str) -> str:
    return escape(str(text), {'"': "&quot;"})


def iso(times: pd.Series) -> list[str | None]:
    """datetime64 values as ISO 8601 UTC strings with milliseconds (None where missing)."""
    ms = times.to_numpy().astype("datetime64[ms]")
    iso = np.datetime_as_string(ms, unit="ms", timezone="UTC").astype(object)
    iso[np.isnat(ms)] = None
    return iso.tolist()


def strings(values: pd.Series) -> list[str | None]:
    """Categories or strings as str, None where missing."""
    return values.astype(object).where(values.notna(), None).tolist()


def literals(values: pd.Series, kind: str) -> list[str | None]:
    """Values as JSON/XML literals of an OCEL or XES type (None where missing)."""
    if kind in ("string",):
        return [None if v is None else json.dumps(v) for v in strings(values)]
    if kind == "boolean":
        return ["true" if v else "false" for v in values.tolist()]
    if kind in ("integer", "int"):
        return [str(int(v)) for v in values.tolist()]
    return [None if v != v else repr(float(v)) for v in values.tolist()]  # float: NaN is missing
