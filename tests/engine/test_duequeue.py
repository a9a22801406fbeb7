"""The due-queue against a sorted list (tier 3): rows come out in time order, then key order,
exactly those due by the hour asked for (strictly before it with ``before``), rows pushed while
taking are taken too when they fall due, and neither ``any_due`` nor ``due_at`` says no when a
row is due."""

from __future__ import annotations

import bisect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simcore.engine.duequeue import DueQueue

pytestmark = pytest.mark.property

hours = st.floats(0.0, 200.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.tuples(hours, st.integers(0, 50)), max_size=60),
    reads=st.lists(st.tuples(hours, st.booleans()), max_size=12),
    follow=st.floats(0.0, 30.0),
)
def test_rows_come_out_in_time_then_key_order_as_a_sorted_list_gives_them(rows, reads, follow):
    """Each taken row with an even key pushes a follower ``follow`` hours later (key + 1)."""
    queue, reference = DueQueue(), []
    for t, key in rows:
        queue.push(t, 2 * key)
        bisect.insort(reference, (t, 2 * key))
    now_done = 0.0
    for h, before in sorted(reads):
        if h < now_done:
            continue
        due = [r for r in reference if r[0] < h or (r[0] == h and not before)]
        if due:
            assert queue.any_due(h, before)
        if reference:
            assert queue.due_at <= reference[0][0]
        got = []
        for t, key in queue.pop_due(h, before):
            got.append((t, key))
            if key % 2 == 0:
                queue.push(t + follow, key + 1)
        # The reference: take the due rows in order, adding followers as they are taken.
        want = []
        while reference and (reference[0][0] < h or (reference[0][0] == h and not before)):
            t, key = reference.pop(0)
            want.append((t, key))
            if key % 2 == 0:
                bisect.insort(reference, (t + follow, key + 1))
        assert got == want
        now_done = h


def test_nothing_due_takes_nothing_and_once_walked_is_cheap_to_tell():
    queue = DueQueue()
    queue.push(5.5, 1)
    assert list(queue.pop_due(5.0)) == []  # walks the empty hours up to 5
    assert not queue.any_due(5.0)  # ... after which "nothing due" needs no walk
    assert list(queue.pop_due(5.5, before=True)) == []  # due at 5.5, not before it
    assert queue.any_due(5.5)
    assert queue.due_at <= 5.5
    assert list(queue.pop_due(5.5)) == [(5.5, 1)]
    assert list(queue.pop_due(1000.0)) == []
