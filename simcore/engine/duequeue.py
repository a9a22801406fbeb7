"""A due-queue: rows ``(hour due, key)`` taken in time order once the clock has passed them,
without a clock event each.

Made for work that nothing waits on and that may be applied late, in time order, whenever the
state it changes is next looked at (the untroubled parcels of :mod:`simcore.model.parcels`).
It is a calendar queue: rows wait, unsorted, in the bucket of their whole hour; a bucket is
made a heap only when the queue reaches its hour. One heap of every row would cost ~2 us a push
and pop at tens of thousands of rows (cache misses), a fifth of a clock event. A waiting bucket
is two typed arrays (hours due, keys): 16 bytes a row where a tuple of a float and an int takes
~100, and a long run has hundreds of thousands of rows waiting.

Rows due at the very same hour are taken by key, where SimPy would take events by scheduling
order (tests/engine/test_mechanics.py).
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterator


class DueQueue:
    """Rows ``(hour due, key)`` taken in time order (then key order) by :meth:`pop_due`.

    Attributes:
        due_at: No row is due before this hour (hours): the first row's hour in the bucket
            being taken, else the next bucket's. A caller that reads state at an hour before it
            has nothing to settle, and knows so without a call (the common case).
    """

    __slots__ = ("_buckets", "_hour", "_current", "due_at")

    def __init__(self) -> None:
        self._buckets: dict[int, tuple[array, array]] = {}
        self._hour = 0  # the bucket being taken: hours [_hour, _hour + 1)
        self._current: list[tuple[float, int]] = []  # its heap
        self.due_at = 1.0

    def push(self, t: float, key: int) -> None:
        """Add a row due at hour ``t`` (never before the hour being taken)."""
        hour = int(t)
        if hour <= self._hour:  # the bucket being taken
            heapq.heappush(self._current, (t, key))
            if t < self.due_at:
                self.due_at = t
        else:
            bucket = self._buckets.get(hour)
            if bucket is None:
                self._buckets[hour] = (array("d", (t,)), array("q", (key,)))
            else:
                bucket[0].append(t)
                bucket[1].append(key)

    def any_due(self, now: float, before: bool = False) -> bool:
        """Whether :meth:`pop_due` may have rows for ``now`` (False: it has none), read off
        :attr:`due_at`, which no row precedes. Cheap: the common case of a caller that checks at
        every turn."""
        due_at = self.due_at
        return due_at < now or (due_at == now and not before)

    def pop_due(self, now: float, before: bool = False) -> Iterator[tuple[float, int]]:
        """Take, in time order, the rows due at or before hour ``now`` (strictly before it with
        ``before``). Rows pushed while iterating are taken too if they fall due by ``now``."""
        last = int(now)
        pop = heapq.heappop
        while True:
            due = self._current
            while due and (due[0][0] < now or (due[0][0] == now and not before)):
                yield pop(due)
            if due or self._hour >= last:
                self.due_at = due[0][0] if due else self._hour + 1.0
                return  # the rest of this bucket is due after now
            # This hour is done: on to the next (an hour without rows has no bucket).
            self._hour += 1
            bucket = self._buckets.pop(self._hour, None)
            if bucket:
                rows = list(zip(*bucket, strict=True))
                heapq.heapify(rows)
                self._current = rows
