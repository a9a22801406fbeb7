"""``simcore.engine.proc.Unwatched``: a SimPy process started at once and not scheduled when it
returns, held to what ``env.process`` does."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from simcore.engine.proc import Unwatched
from tests.conftest import seed


def test_it_runs_to_its_first_yield_before_the_caller_goes_on():
    env = simpy.Environment()
    log: list[str] = []

    def child():
        log.append("child starts")
        yield env.timeout(1.0)
        log.append(f"child at {env.now:g}")

    def parent():
        yield env.timeout(0.5)
        proc = Unwatched(env, child())
        log.append("parent goes on")
        assert env.active_process is parent_proc  # the caller is the active process again
        assert proc.is_alive
        yield env.timeout(2.0)

    parent_proc = env.process(parent())
    env.run()
    assert log == ["child starts", "parent goes on", "child at 1.5"]


def test_a_process_that_waits_on_it_gets_its_value():
    env = simpy.Environment()

    def child():
        yield env.timeout(1.0)
        return 5

    def parent():
        value = yield Unwatched(env, child())
        return value, env.now

    proc = env.process(parent())
    env.run()
    assert proc.value == (5, 1.0)


def test_it_costs_the_clock_only_its_own_events():
    # env.process schedules an Initialize event and, when the generator returns, the process;
    # Unwatched schedules neither: one timeout, one event.
    env = simpy.Environment()
    scheduled: list[str] = []
    schedule = env.schedule

    def counting(event, priority=simpy.core.NORMAL, delay=0):
        scheduled.append(type(event).__name__)
        schedule(event, priority, delay)

    env.schedule = counting  # type: ignore[method-assign]

    def child():
        yield env.timeout(1.0)

    proc = Unwatched(env, child())
    env.run()
    assert scheduled == ["Timeout"]
    assert not proc.is_alive and proc.processed and proc.ok
    env.process(child())
    env.run()
    assert scheduled == ["Timeout", "Initialize", "Timeout", "Process"]


def test_an_error_in_it_fails_the_run():
    env = simpy.Environment()

    def child():
        yield env.timeout(1.0)
        raise ValueError("boom")

    Unwatched(env, child())
    with pytest.raises(ValueError, match="boom"):
        env.run()


def test_a_failed_event_is_thrown_into_it():
    env = simpy.Environment()
    caught: list[str] = []

    def child():
        failing = env.event()
        failing.fail(KeyError("gone"))
        try:
            yield failing
        except KeyError as e:
            caught.append(str(e))
        yield env.timeout(1.0)

    Unwatched(env, child())
    env.run()
    assert caught == ["'gone'"]


def test_a_yield_of_something_else_is_an_error():
    env = simpy.Environment()

    def child():
        yield 3

    with pytest.raises(RuntimeError, match="Invalid yield value"):
        Unwatched(env, child())


def test_it_gives_the_trace_env_process_gives():
    # Arrivals at continuous random hours, each starting a process of random waits, each with
    # its own stream (as the model's orders and desks have): with no two events at one hour,
    # starting at once changes no event's hour or order.
    def trace(start) -> list[tuple[float, int, int]]:
        env = simpy.Environment()
        gaps = np.random.default_rng(seed(3))
        rows: list[tuple[float, int, int]] = []

        def job(k: int):
            waits = np.random.default_rng([seed(4), k])
            for step in range(3):
                yield env.timeout(float(waits.exponential(2.0)))
                rows.append((env.now, k, step))

        def arrivals():
            for k in range(300):
                yield env.timeout(float(gaps.exponential(0.5)))
                start(env, job(k))

        env.process(arrivals())
        env.run()
        return rows

    reference = trace(lambda env, gen: env.process(gen))
    assert trace(Unwatched) == reference and len(reference) == 900
