"""The clock: a SimPy environment whose hottest parts, ``timeout``, the event queue and the ``run``
loop, cost less than SimPy's own.

A run makes ~4.5 timeouts and takes ~5 clock events an order (benchmarks/bench_run.py), so the
per-event overhead of SimPy's generic machinery is a good part of a run:

- **The queue is a calendar.** SimPy keeps every scheduled event in one heap. A run has ~5,000
  waiting at a time at benchmark scale, and only ~120 of them fall due within the hour: the rest
  are the days-long waits of refunds, disputes, deadlines, restocks and chargebacks. Here an
  event due in a later whole hour waits, unsorted, in that hour's bucket (a list), and joins the
  heap when the clock reaches its hour; the heap holds the current hour's events only. A pop
  costs ~7 comparisons instead of ~12, on a heap that stays in the cache.
- ``env.timeout(delay)`` is SimPy's ``Timeout`` class called through a bound class: a type call,
  ``__init__``, then ``env.schedule``. Here it is a closure that fills a bare ``Timeout`` and
  queues it: the same event, the same queue entry.
- ``env.run(until)`` calls ``env.step()`` once an event. Here the step is inlined in the loop.
- ``env.now`` is SimPy's property over ``_now``: under Python 3.11 a property read is a call of
  a Python function (~25 ns), and a run reads the clock ~13 times an order. Here ``now`` is a
  plain attribute the loop writes, and ``_now`` (SimPy's name, for its own code) the property.

Entries are SimPy's ``(hour, priority, id, event)`` and are taken in SimPy's order: every entry
of an hour is in the heap before any of that hour is taken. The code is SimPy 4.1's (MIT
licence) rearranged; events, their order and every exception are SimPy's
(tests/engine/test_environment.py holds them to it).
"""

from __future__ import annotations

import math
from heapq import heapify, heappop, heappush
from typing import Any

import simpy
from simpy.core import BoundClass, EmptySchedule, StopSimulation
from simpy.events import NORMAL, URGENT, EventPriority, Timeout


class Environment(simpy.Environment):
    """A ``simpy.Environment`` with a calendar queue and a cheaper :meth:`timeout` and :meth:`run`
    (same behaviour).

    Attributes:
        now: The current simulation time (hours): a plain attribute, read at no call's cost.
        _queue: The heap of the events due before hour ``_cut``.
        _cut: The next whole hour after the current one: later events wait in ``_far``.
        _far: The waiting events by whole hour due.
    """

    #: Shadows SimPy's read-only property (a class attribute that is no descriptor: the
    #: instance's own value is read first).
    now: float = 0.0  # type: ignore[assignment]

    def __init__(self, initial_time: float = 0.0):
        super().__init__(initial_time)  # sets _now, hence now
        self._cut = float(math.floor(initial_time) + 1)
        self._far: dict[float, list[tuple[float, EventPriority, int, simpy.Event]]] = {}
        self._hours: list[float] = []  # a heap of the hours in _far (whole, or infinity)
        # SimPy binds its bound classes (process, event, ...) to the instance for speed, but only
        # those of the instance's own class: a subclass binds its parent's here.
        for name, obj in simpy.Environment.__dict__.items():
            if type(obj) is BoundClass:
                setattr(self, name, getattr(self, name))
        self.timeout = _timeouts(self)  # type: ignore[method-assign]

    @property  # type: ignore[override]
    def _now(self) -> float:
        """SimPy's name of the clock's hour: :attr:`now`."""
        return self.now

    @_now.setter
    def _now(self, hour: float) -> None:
        self.now = hour

    def schedule(self, event: simpy.Event, priority: EventPriority = NORMAL, delay: float = 0) -> None:
        """Schedule ``event`` with ``priority`` after ``delay`` (SimPy's, on the calendar)."""
        t = self.now + delay
        entry = (t, priority, next(self._eid), event)
        if t < self._cut:
            heappush(self._queue, entry)
        else:
            _wait(self._far, self._hours, t, entry)

    def _turn(self) -> None:
        """The heap is empty: the next hour with events becomes the current one, its bucket the
        heap (every event in the heap is due before ``_cut``, every one waiting after).

        Raises:
            EmptySchedule: no event is waiting.
        """
        if not self._hours:
            raise EmptySchedule
        hour = heappop(self._hours)
        self._cut = hour + 1.0  # infinity for the bucket of events due at an infinite hour
        queue = self._queue
        queue.extend(self._far.pop(hour))
        heapify(queue)

    def peek(self) -> float:
        """The hour of the next event, or infinity if there is none."""
        if not self._queue:
            try:
                self._turn()
            except EmptySchedule:
                return math.inf
        return self._queue[0][0]

    def step(self) -> None:
        """Process the next event (SimPy's ``step`` on the calendar)."""
        queue = self._queue
        if not queue:
            self._turn()
        self.now, _, _, event = heappop(queue)
        callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
        try:
            for callback in callbacks:  # type: ignore[union-attr]
                callback(event)
        except StopSimulation:
            self._resume_later(event, callbacks, callback)  # type: ignore[arg-type]
            raise
        if not event._ok and not hasattr(event, "_defused"):
            _crash(event)

    def _resume_later(self, event: simpy.Event, callbacks: list, callback: Any) -> None:
        """As SimPy's step when ``callback`` stopped the clock: the event's other callbacks run
        when it resumes."""
        event.callbacks = callbacks[callbacks.index(callback) + 1 :]
        self.schedule(event, EventPriority(-1))

    def run(self, until: Any = None) -> Any:
        """SimPy's ``Environment.run`` with ``step`` inlined (an event ``until`` goes to SimPy's)."""
        if isinstance(until, simpy.Event):
            return super().run(until)
        if until is not None:
            at = until if isinstance(until, int) else float(until)
            if at <= self.now:
                raise ValueError(f"until ({at}) must be greater than the current simulation time")
            stop = simpy.Event(self)
            stop._ok = True
            stop._value = None
            self.schedule(stop, URGENT, at - self.now)
            stop.callbacks.append(StopSimulation.callback)  # type: ignore[union-attr]
        queue = self._queue
        try:
            while True:
                # step()'s body, inlined (a call an event saved); keep the two alike. step()
                # itself serves only run(until=event), SimPy's own loop.
                if not queue:
                    self._turn()
                self.now, _, _, event = heappop(queue)
                callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
                try:
                    for callback in callbacks:  # type: ignore[union-attr]
                        callback(event)
                except StopSimulation:
                    self._resume_later(event, callbacks, callback)  # type: ignore[arg-type]
                    raise
                if not event._ok and not hasattr(event, "_defused"):
                    _crash(event)
        except StopSimulation as stopped:
            return stopped.args[0]
        except EmptySchedule:
            if until is not None:
                raise RuntimeError(
                    f'No scheduled events left but "until" event was not triggered: {until}'
                ) from None
        return None


def _crash(event: simpy.Event) -> None:
    """A failed event nobody defused stops the run with (a copy of) its exception, as SimPy's
    step does."""
    exc = type(event._value)(*event._value.args)
    exc.__cause__ = event._value
    raise exc


def _wait(far: dict[float, list], hours: list[float], t: float, entry: tuple) -> None:
    """Put ``entry``, due at hour ``t`` (a later hour than the current one), in its bucket."""
    # floor, not int: int() truncates toward zero, which for a negative hour is the next hour up.
    hour = math.floor(t) if t < math.inf else math.inf
    bucket = far.get(hour)
    if bucket is None:
        far[hour] = [entry]
        heappush(hours, hour)
    else:
        bucket.append(entry)


def _timeouts(env: Environment) -> Any:
    """``env.timeout``: SimPy's ``Timeout.__init__`` and ``env.schedule``, inlined."""
    queue, far, hours, eid, new = env._queue, env._far, env._hours, env._eid, Timeout.__new__

    def timeout(delay: float = 0, value: Any = None) -> Timeout:
        if delay < 0:
            raise ValueError(f"Negative delay {delay}")
        e = new(Timeout)
        e.env = env
        e.callbacks = []
        e._value = value
        e._delay = delay
        e._ok = True
        t = env.now + delay
        if t < env._cut:
            heappush(queue, (t, NORMAL, next(eid), e))
        else:
            _wait(far, hours, t, (t, NORMAL, next(eid), e))
        return e

    return timeout
