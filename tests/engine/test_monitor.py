"""``QueueMonitor.close``: the queue statistics end with the KPI window."""

from __future__ import annotations

import pytest

from simcore.engine.monitor import QueueMonitor


def test_a_closed_monitor_counts_nothing_after_its_close():
    # Two servers, counted from hour 10. Hours 10-20: one busy, one waiting; closed at 20; then
    # hours 20-40: both busy, three waiting, and more requests, none of which may count.
    mon = QueueMonitor(2, 10.0)
    mon.update(5.0, 1, 1)
    mon.waited(8.0, 9.0)  # before the warm-up's end: not counted
    mon.waited(12.0, 14.0)
    mon.waited(15.0, 19.0)
    mon.close(20.0)
    mon.update(25.0, 3, 2)
    mon.waited(18.0, 21.0)  # made before the close, granted after: not counted
    mon.waited(22.0, 30.0)
    s = mon.summary(40.0)
    assert s["requests"] == 2
    assert s["mean_wait_hours"] == pytest.approx(3.0)
    assert s["mean_queue_length"] == pytest.approx(1.0)
    assert s["utilization"] == pytest.approx(0.5)
    assert mon.closed_at == 20.0
    req, wait, queued = mon.counted()
    assert list(req) == [8.0, 12.0, 15.0] and queued == 1


def test_an_open_monitor_counts_to_the_end_it_is_asked_for():
    mon = QueueMonitor(1, 0.0)
    mon.update(0.0, 2, 1)
    mon.waited(1.0, 4.0)
    s = mon.summary(10.0)
    assert s["requests"] == 1 and s["mean_queue_length"] == pytest.approx(2.0)
    assert s["utilization"] == pytest.approx(1.0)


def test_the_one_call_grant_and_hand_on_record_what_their_two_calls_do():
    # took_free = shift(now, 0, 1) + waited(now, now); handed_on = waited + shift(now, -1, 0):
    # the stations' hot paths use the one calls, which must leave the same statistics.
    one, two = QueueMonitor(2, 1.0), QueueMonitor(2, 1.0)
    one.took_free(0.5)
    two.shift(0.5, 0, 1)
    two.waited(0.5, 0.5)
    for mon in (one, two):
        mon.shift(2.0, 0, 1)
        mon.shift(3.0, 1, 0)
    one.handed_on(3.0, 4.5)
    two.waited(3.0, 4.5)
    two.shift(4.5, -1, 0)
    one.took_free(6.0)
    two.shift(6.0, 0, 1)
    two.waited(6.0, 6.0)
    for mon in (one, two):
        mon.close(8.0)
    assert one.summary(8.0) == two.summary(8.0)
    assert list(one.req_t) == [0.5, 3.0, 6.0] and list(one.wait) == [0.0, 1.5, 0.0]
    assert (
        (one.area_q, one.area_busy) == (two.area_q, two.area_busy) == (1.5, 15.0)
    )  # 1x1.5 waiting; 1x1 + 2x4 + 3x2 busy
