"""Opt-in process tuning for long runs: glibc's mmap threshold held fixed, and rarer cyclic
garbage collections while a run's clock turns. Neither changes any result.

**The mmap threshold (opt-in, for the process).** glibc serves a block of 128 KiB or more with
a mapping of its own, and returns it to the system when freed. But when such a block is freed
it raises that threshold to the block's size (up to 32 MiB on 64-bit), so that after a run has
built its world (numpy temporaries of tens of MiB, freed) the recorder's columns, which grow all
run long, live in the heap instead. There each reallocation may move a column and leave behind
a hole the size of its old self, which the process keeps. Held at 128 KiB, large blocks stay
mapped and a column grows by ``mremap``, without a copy or a hole. Measured with
benchmarks/bench_run.py on the project machine (a million arrivals over 30 days, 877,922
orders): at the end of the run 970 MiB of RSS with the dynamic threshold, 830 MiB held fixed;
after the frames are built, 931 and 763. Run time did not change measurably; building the
frames of a 200,000-order run takes 0.36 s instead of 0.26 (their large temporaries are fresh
mappings each time, paid for in page faults). Setting it cannot be undone (glibc has no way
back to the dynamic threshold), so nothing in a library call sets it: the ``simcore`` command
and the sweep's worker processes call :func:`hold_mmap_threshold`, and a notebook user may call
it (``simcore.hold_mmap_threshold()``) before a large run.

**Garbage collection (scoped to a run).** :func:`relaxed_gc` raises the collector's thresholds
while the clock runs and restores the caller's after.
"""

from __future__ import annotations

import ctypes
import gc
import platform
from collections.abc import Iterator
from contextlib import contextmanager

#: mallopt's parameter number for the mmap threshold (glibc malloc.h: M_MMAP_THRESHOLD).
_M_MMAP_THRESHOLD = -3
#: glibc's own default threshold (bytes), which setting it explicitly keeps from moving.
MMAP_THRESHOLD = 128 * 1024

_applied: bool | None = None


def hold_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at :data:`MMAP_THRESHOLD` for this process (once; it cannot
    be undone).

    Returns:
        True when the threshold is held (glibc), False where there is nothing to set (another C
        library, or glibc refused).
    """
    global _applied
    if _applied is None:
        _applied = False
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL("libc.so.6")
            except OSError:
                return False
            libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
            libc.mallopt.restype = ctypes.c_int
            _applied = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    return _applied


@contextmanager
def relaxed_gc() -> Iterator[None]:
    """Rare cyclic garbage collections inside the block, the caller's settings restored after.

    A run keeps tens of thousands of suspended generators alive; the default thresholds make
    Python rescan them over and over and cost ~35% of the run time at 140k orders, while the
    model creates almost no reference cycles (benchmarks/bench_run.py).
    """
    old = gc.get_threshold()
    gc.set_threshold(100_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*old)
