"""The type of a SimPy process: a generator of events, handed to ``env.process``."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import simpy

T = TypeVar("T")

#: A SimPy generator process that yields events and returns ``T`` (``Proc[bool]``: a process
#: whose ``yield from`` gives a bool). ``Proc`` alone returns nothing of use.
Proc = Generator[simpy.Event, Any, T]


class _Go:
    """What SimPy's Initialize event hands a new process: a triggered event whose value,
    None, starts the generator."""

    __slots__ = ()
    _ok = True
    _value = None


_GO = _Go()


class Unwatched(simpy.Process):
    """A SimPy process that nobody waits on (no ``yield`` of it, no callbacks), started at once
    and, when its generator returns, not scheduled as an event.

    ``env.process`` costs two clock events beyond the process's own: an Initialize event at the
    current hour, which the clock takes next to start the generator, and the process itself,
    scheduled when the generator returns so that whoever waits on it resumes. A run starts a
    process for every order and nobody waits on those: the two events were a third of a run's
    events. Started at once, the process runs to its first ``yield`` within the caller's step,
    so its first events are scheduled before the caller's next ones rather than after; events
    at one hour run in scheduling order, so the two ways differ only when the caller's next
    event and the process's first fall at the same hour (never for orders, which arrive at
    continuous random hours: the outputs are bit for bit those of ``env.process``).

    :meth:`_resume` is SimPy 4.1's ``Process._resume`` (MIT licence) with one change: a
    generator that returns with no callbacks waiting marks the process processed instead of
    scheduling it. A generator that raises is scheduled as SimPy does, so the run fails with
    its error. tests/engine/test_proc.py holds it to SimPy's behaviour.
    """

    def __init__(self, env: simpy.Environment, generator: Proc[Any]):
        # Event.__init__ inlined, as SimPy's Process does; no Initialize event.
        self.env = env
        self.callbacks = []
        self._generator = generator
        caller = env._active_proc  # SimPy's active_process, without its property call
        self._resume(_GO)  # type: ignore[arg-type]
        env._active_proc = caller  # _resume leaves no process active: the caller still is

    def _resume(self, event: simpy.Event) -> None:
        env = self.env
        env._active_proc = self
        while True:
            try:
                if event._ok:
                    event = self._generator.send(event._value)
                else:
                    event._defused = True  # type: ignore[attr-defined]
                    exc = type(event._value)(*event._value.args)
                    exc.__cause__ = event._value
                    event = self._generator.throw(exc)
            except StopIteration as e:
                self._ok = True
                self._value = e.args[0] if e.args else None
                if self.callbacks:
                    env.schedule(self)
                else:
                    self.callbacks = None  # type: ignore[assignment]  # processed: nobody to resume
                break
            except BaseException as e:
                self._ok = False
                e.__traceback__ = e.__traceback__.tb_next if e.__traceback__ else None
                self._value = e
                env.schedule(self)
                break
            try:
                if event.callbacks is not None:  # not yet processed: wait for it
                    event.callbacks.append(self._resume)
                    break
            except AttributeError:
                raise RuntimeError(f'Invalid yield value "{event}"') from None
        self._target = event
        env._active_proc = None
