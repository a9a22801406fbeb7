"""``simcore.engine.environment.Environment``: SimPy's environment with ``timeout`` and the ``run``
loop inlined, held to what ``simpy.Environment`` does event for event."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from simcore.engine.environment import Environment
from tests.conftest import seed


def _waiting(env: simpy.Environment) -> list:
    """Every queue entry still waiting: the heap's, and under ours the calendar's buckets'."""
    return list(env._queue) + [e for bucket in getattr(env, "_far", {}).values() for e in bucket]


def _program(env: simpy.Environment, rng: np.random.Generator, log: list) -> None:
    """A random program: processes waiting random (often equal) delays, with values, events
    one process triggers for another, interrupts, and a process that waits on another."""
    shared = env.event()

    def worker(i: int):
        for _ in range(int(rng.integers(1, 6))):
            # Equal hours (ties go by priority, then scheduling order), whole hours (an event
            # on a bucket's edge), and waits of many hours (several buckets ahead).
            delay = float(rng.choice([0.0, 0.5, 1.0, 3.0, rng.exponential(1.0), rng.exponential(30.0)]))
            got = yield env.timeout(delay, value=(i, delay))
            log.append(("woke", i, env.now, got))
            if rng.random() < 0.1 and not shared.triggered:
                shared.succeed(i)
        return i

    def waiter():
        got = yield shared
        log.append(("shared", env.now, got))

    def parent():
        kids = [env.process(worker(i)) for i in range(4)]
        for k in kids:
            got = yield k
            log.append(("joined", env.now, got))

    def sleeper():
        try:
            yield env.timeout(100.0)
        except simpy.Interrupt as i:
            log.append(("interrupted", env.now, i.cause))

    env.process(parent())
    env.process(waiter())
    s = env.process(sleeper())

    def interrupter():
        yield env.timeout(float(rng.uniform(0, 3)))
        s.interrupt("stop")

    env.process(interrupter())


@pytest.mark.parametrize("start", [0.0, 0.5, -2.25, -5.0])
@pytest.mark.parametrize("until", [None, 2.0, 3, 7.25, 40.0])
def test_random_programs_run_event_for_event_as_under_simpy(until, start):
    """From hour 0, within an hour, and from negative hours (where int() would put an event in
    the wrong bucket); stopped at an hour and run on to the end."""
    for k in range(30):
        logs, queues, nows = [], [], []
        for make in (simpy.Environment, Environment):
            env, log = make(start), []
            _program(env, np.random.default_rng(seed(k)), log)
            if until is not None and until + start > env.now:
                env.run(until=until + start)
                log.append(("stopped", env.now))
            env.run()
            logs.append(log)
            queues.append(sorted(e[:3] for e in _waiting(env)))
            nows.append(env.now)
        assert logs[0] == logs[1]
        assert queues[0] == queues[1]  # the same events left waiting, with the same ids
        assert nows[0] == nows[1]


def test_a_timeout_is_simpys_timeout_on_the_same_queue_entry():
    ours, theirs = Environment(), simpy.Environment()
    for env in (ours, theirs):
        env.timeout(1.5, value="v")
        env.timeout(0)
    for a, b in zip(_waiting(ours), theirs._queue, strict=True):
        assert a[:3] == b[:3]
        assert type(a[3]) is type(b[3]) is simpy.Timeout
        assert (a[3].value, a[3]._delay, a[3].triggered) == (b[3].value, b[3]._delay, True)
        assert a[3].env is ours


def test_errors_are_simpys():
    env = Environment()
    with pytest.raises(ValueError, match="Negative delay -1"):
        env.timeout(-1)
    env.run(until=5)
    assert env.now == 5
    with pytest.raises(ValueError, match="must be greater than the current"):
        env.run(until=5)

    def fails():
        yield env.timeout(1)
        raise KeyError("boom")

    env.process(fails())
    with pytest.raises(KeyError, match="boom"):
        env.run(until=10)


def test_run_until_an_event_returns_its_value_and_empty_schedule_ends_a_run():
    env = Environment()

    def child():
        yield env.timeout(2)
        return "done"

    assert env.run(until=env.process(child())) == "done"
    assert env.now == 2
    env.timeout(3)
    assert env.run() is None  # runs until nothing is left
    assert env.now == 5


def test_bound_classes_are_bound_to_the_instance():
    env = Environment()
    assert "process" in vars(env) and "event" in vars(env) and "timeout" in vars(env)
    assert isinstance(env.event(), simpy.Event)


def test_the_calendar_takes_events_in_simpys_order_across_hours_and_at_infinity():
    """Events hours or days ahead, on whole hours, tied, and one at infinity, scheduled from
    several hours: taken in SimPy's order, and ``peek`` gives the next hour throughout."""
    logs = []
    for make in (simpy.Environment, Environment):
        env, log, rng = make(), [], np.random.default_rng(seed(11))

        def note(e: simpy.Event, env: simpy.Environment = env, log: list = log) -> None:
            log.append((env.now, e.value, env.peek()))

        def scheduler(env: simpy.Environment = env, rng: np.random.Generator = rng):
            for i in range(300):
                whole = float(rng.integers(0, 99))
                delay = float(rng.choice([0.0, 1.0, 24.0, whole, rng.exponential(50.0)]))
                env.timeout(delay, value=i).callbacks.append(note)
                if i % 50 == 0:
                    yield env.timeout(float(rng.exponential(10.0)))

        env.process(scheduler())
        env.timeout(float("inf"), value="never").callbacks.append(note)
        env.run()
        logs.append(log)
    assert logs[0] == logs[1]
    assert logs[1][-1] == (float("inf"), "never", float("inf"))
    assert len(logs[1]) == 301


def test_unwatched_processes_run_on_it_as_on_simpys():
    """The model starts its order and side processes as Unwatched (simcore.engine.proc) on this
    environment: the same trace as on SimPy's, with processes started from within others."""
    from simcore.engine.proc import Unwatched

    logs = []
    for make in (simpy.Environment, Environment):
        env, log, rng = make(), [], np.random.default_rng(seed(5))

        def side(i: int, env: simpy.Environment = env, log: list = log, rng: np.random.Generator = rng):
            yield env.timeout(float(rng.choice([0.0, 1.0, rng.exponential(20.0)])))
            log.append(("side", i, env.now))

        def main(env: simpy.Environment = env, log: list = log, rng: np.random.Generator = rng):
            for i in range(200):
                yield env.timeout(float(rng.exponential(0.7)))
                Unwatched(env, side(i))
                log.append(("main", i, env.now))

        env.process(main())
        env.run()
        logs.append(log)
    assert logs[0] == logs[1] and len(logs[1]) == 400
