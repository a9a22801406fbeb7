"""Typed-array columns: a table recorded row by row in ``array.array`` columns (8 bytes or
less a value, against a Python object's 24-36), read as numpy arrays without a copy."""

from __future__ import annotations

import math
from array import array
from collections.abc import Mapping
from typing import Any

import numpy as np

#: numpy dtype of each array typecode used ('d' float64, 'q' int64, 'i' int32, 'b' int8).
DTYPES: dict[str, type[np.generic]] = {"d": np.float64, "q": np.int64, "i": np.int32, "b": np.int8}


def as_numpy(column: array[Any]) -> np.ndarray:
    """A typed-array column as a numpy array sharing its memory (an empty column as an empty
    array: numpy cannot view a zero-length buffer)."""
    dtype = DTYPES[column.typecode]
    return np.frombuffer(column, dtype=dtype) if len(column) else np.zeros(0, dtype=dtype)


class BlockColumns:
    """Named typed-array columns that grow by blocks of blank rows (NaN for floats, 0 else).

    A new row is a row of blanks whose known values the caller sets in place, instead of an
    append to every column. Rows ``0..rows-1`` are in use; the rest are blanks not yet used.

    Args:
        typecodes: ``{column name: array typecode}``, in column order.
        block: Rows added at a time.
    """

    __slots__ = ("data", "rows", "_blank", "_first")

    def __init__(self, typecodes: Mapping[str, str], block: int = 8192):
        self.data: dict[str, array[Any]] = {name: array(code) for name, code in typecodes.items()}
        self.rows = 0
        self._blank: dict[str, array[Any]] = {
            code: array(code, [math.nan if code == "d" else 0]) * block for code in set(typecodes.values())
        }
        self._first = next(iter(self.data.values()))

    def new_row(self) -> int:
        """Take the next blank row; returns its index."""
        row = self.rows
        if row == len(self._first):
            for col in self.data.values():
                col.extend(self._blank[col.typecode])
        self.rows = row + 1
        return row

    def used(self, name: str) -> np.ndarray:
        """The rows in use of column ``name``, as a numpy view (no copy)."""
        return as_numpy(self.data[name])[: self.rows]
