"""Samplers: draws served one at a time from blocks drawn by one named random stream.

The model never draws single numbers from numpy (a call costs a microsecond); it asks for a
sampler, which draws a block of values in one numpy call and hands them out one by one. The
sequence depends only on the stream behind it, so it is reproducible.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Sequence
from itertools import chain

import numpy as np

#: Values drawn at a time.
BLOCK = 1024

#: A draw: each call returns the next value of one stream (hours for durations).
Sampler = Callable[[], float]
#: A row of draws: each call returns the next ``width`` values of one stream.
RowSampler = Callable[[], Sequence[float]]


def block_sampler(draw_block: Callable[[int], np.ndarray]) -> Sampler:
    """Serve draws one at a time from blocks drawn by ``draw_block(n)``.

    One numpy call per block instead of one per event. The returned callable is the
    ``__next__`` of an ``itertools.chain`` over the blocks' lists: within a block a draw runs
    no Python code at all (41 ns a draw, against 55 ns for a generator handing out each list and
    209 ns for a sampler object with a Python ``__call__``; timeit on the project machine).
    """
    # iter(f, None) calls f for each next block, without end (a list is never None).
    return chain.from_iterable(iter(lambda: draw_block(BLOCK).tolist(), None)).__next__


def row_sampler(draw_block: Callable[[int], np.ndarray], width: int) -> RowSampler:
    """Serve rows of ``width`` consecutive draws of one stream, as typed arrays.

    The values are the same, in the same order, as ``width`` calls of
    ``block_sampler(draw_block)``: a block of rows is one longer block cut up. Rows are arrays
    (8 bytes a value) rather than lists of floats (32): entities may carry theirs for a long
    time, and a long run has hundreds of thousands in flight.
    """

    def blocks():
        n = BLOCK * width
        while True:
            block = draw_block(n)
            values = array(block.dtype.char, block.tobytes())
            for i in range(0, n, width):
                yield values[i : i + width]

    return blocks().__next__


def table_rows(draw_table: Callable[[int], np.ndarray]) -> Callable[[], array[float]]:
    """Serve the rows of tables drawn by ``draw_table(n)``, an ``(n, width)`` array whose
    columns may come from different streams and distributions (one table per :data:`BLOCK`
    rows), as typed arrays of single-precision floats.

    A row is an arrival's draws, carried by its order for as long as it is open (days: a
    million-order run has ~100,000 in flight). Single precision halves that memory (15 MiB at a
    million orders, benchmarks/bench_run.py) and keeps 24 significant bits: a uniform to within
    6e-8, a duration to within 6e-8 of itself (a 60-day wait to 0.3 seconds). The rounding is
    the same in every run, so results stay reproducible bit for bit.
    """

    def rows():
        while True:
            table = draw_table(BLOCK)
            width = table.shape[1]
            values = array("f", np.ascontiguousarray(table, dtype=np.float32).tobytes())
            for i in range(0, BLOCK * width, width):
                yield values[i : i + width]

    return rows().__next__


def uniform_sampler(rng: np.random.Generator) -> Sampler:
    """A sampler of U[0, 1) variates, used for Bernoulli decisions (``u() < p``)."""
    return block_sampler(rng.random)
