"""Typed-array columns: a table recorded row by row in ``array.array`` columns (8 bytes or
less a value, against a Python object's 24-36), read as numpy arrays without a copy."""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from typing import Any

import numpy as np

#: numpy dtype of each typecode used ('d' float64, 'q' int64, 'i' int32, 'b' int8).
DTYPES: dict[str, type[np.generic]] = {"d": np.float64, "q": np.int64, "i": np.int32, "b": np.int8}

#: A column: an ``array.array``, or for typecode 'b' a ``bytearray`` (values 0 to 127, read as
#: int8). array.array converts every value it stores through PyArg_Parse, ~200 machine
#: instructions a write; bytearray takes an int directly. One-byte codes and flags are written
#: 1.7 million times in a 200,000-order run (2.2% of its instructions, callgrind). Typed Any:
#: the two types' item assignments take different types (int for a bytearray, a float for a 'd'
#: array), which the callers know by column and mypy cannot.
Column = Any


def new_column(typecode: str) -> Column:
    """An empty column of ``typecode`` (one of :data:`DTYPES`)."""
    return bytearray() if typecode == "b" else array(typecode)


def typecode_of(column: Column) -> str:
    """The typecode ``column`` was made with (a :class:`SparseColumn` holds floats: 'd')."""
    if isinstance(column, SparseColumn):
        return "d"
    return "b" if isinstance(column, bytearray) else column.typecode


def as_numpy(column: Column) -> np.ndarray:
    """A column as a numpy array sharing its memory (an empty column as an empty array: numpy
    cannot view a zero-length buffer)."""
    dtype = DTYPES[typecode_of(column)]
    return np.frombuffer(column, dtype=dtype) if len(column) else np.zeros(0, dtype=dtype)


class SparseColumn:
    """A float column few rows ever set (NaN elsewhere), kept as the (row, value) pairs written,
    12 bytes a write, where a dense column costs 8 bytes every row: a dispute's five timestamps,
    set on ~1% of orders, cost 40 bytes an order dense (40 MB at a million orders).

    Written like a column (``col[row] = value``; a later write to a row wins) but not read while
    recording: :meth:`dense` gives the column once, for collection.
    """

    __slots__ = ("rows", "values")

    def __init__(self) -> None:
        self.rows = array("i")
        self.values = array("d")

    def __setitem__(self, row: int, value: float) -> None:
        self.rows.append(row)
        self.values.append(value)

    def __getitem__(self, row: int) -> float:
        raise TypeError("a sparse column is written while recording, read once collected (dense())")

    def dense(self, n: int) -> np.ndarray:
        """The first ``n`` rows as a float64 array: each row's last value written, else NaN."""
        out = np.full(n, np.nan)
        rows, values = as_numpy(self.rows)[::-1], as_numpy(self.values)[::-1]  # the last write first
        rows, first = np.unique(rows, return_index=True)  # each row's first here: its last written
        keep = rows < n
        out[rows[keep]] = values[first[keep]]
        return out


class BlockColumns:
    """Named typed-array columns that grow by blocks of blank rows (NaN for floats, 0 else).

    A new row is a row of blanks whose known values the caller sets in place, instead of an
    append to every column. Rows ``0..rows-1`` are in use; the rest are blanks not yet used.
    Columns named in ``sparse`` are :class:`SparseColumn` s instead (floats few rows set).

    Args:
        typecodes: ``{column name: array typecode}``, in column order.
        block: Rows added at a time.
        sparse: The names of the float columns kept sparse.
    """

    __slots__ = ("data", "rows", "_blank", "_first")

    def __init__(self, typecodes: Mapping[str, str], block: int = 8192, sparse: frozenset[str] = frozenset()):
        self.data: dict[str, Column] = {
            name: SparseColumn() if name in sparse else new_column(code) for name, code in typecodes.items()
        }
        self.rows = 0
        self._blank: list[tuple[Column, Column]] = [
            (self.data[name], _blanks(code, block)) for name, code in typecodes.items() if name not in sparse
        ]
        self._first = self._blank[0][0]

    def new_row(self) -> int:
        """Take the next blank row; returns its index."""
        row = self.rows
        if row == len(self._first):
            for col, blanks in self._blank:
                col.extend(blanks)
        self.rows = row + 1
        return row

    def used(self, name: str) -> np.ndarray:
        """The rows in use of column ``name``: a numpy view (no copy), or a sparse column made
        dense."""
        col = self.data[name]
        if isinstance(col, SparseColumn):
            return col.dense(self.rows)
        return as_numpy(col)[: self.rows]


def _blanks(typecode: str, n: int) -> Column:
    """``n`` blank values of ``typecode``: NaN for floats, 0 else."""
    if typecode == "b":
        return bytearray(n)
    return array(typecode, [math.nan if typecode == "d" else 0]) * n
